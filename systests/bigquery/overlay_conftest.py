"""Root conftest laid over google-cloud-bigquery's system tests: the emulator instead of Google.

Copied by ``systests/bigquery/run.py`` as ``conftest.py`` at the root of the extracted tests, so
pytest loads it before ``tests/system/conftest.py``. It adds nothing to the tests themselves:

* one :class:`emulator.Emulator` is active for the whole session (the suite's fixtures are
  session-scoped and share datasets), serving the project ``SYSTEST_PROJECT``;
* ``bigquery.Client()`` with no arguments (what the suite's fixtures call) gets credentials and the
  project through application-default credentials: the emulator's own when it provides them,
  else anonymous credentials and ``GOOGLE_CLOUD_PROJECT``;
* tests are skipped only by the explicit rules of ``skips.py``, each with its reason.
"""

from __future__ import annotations

import fnmatch
import os

import pytest
from systest_skips import RULES

PROJECT = os.environ.setdefault("SYSTEST_PROJECT", "systest-project")
os.environ["GOOGLE_CLOUD_PROJECT"] = PROJECT

_emulator = None
_restore_default = None


def pytest_configure(config: pytest.Config) -> None:
    global _emulator, _restore_default
    from emulator import Emulator

    _emulator = Emulator(project=PROJECT, seed=0).start()
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        google.auth.default()
    except DefaultCredentialsError:
        from google.auth.credentials import AnonymousCredentials

        original = google.auth.default

        def default(*args: object, **kwargs: object) -> tuple[object, str]:
            return AnonymousCredentials(), PROJECT

        google.auth.default = default

        def restore() -> None:
            google.auth.default = original

        _restore_default = restore


def pytest_unconfigure(config: pytest.Config) -> None:
    global _emulator, _restore_default
    if _restore_default is not None:
        _restore_default()
        _restore_default = None
    if _emulator is not None:
        _emulator.close()
        _emulator = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = item.nodeid.split("tests/system/", 1)[-1]
        for rule in RULES:
            if fnmatch.fnmatchcase(nodeid, rule.pattern):
                item.add_marker(pytest.mark.skip(reason=f"[{rule.area}] {rule.reason}"))
                break
