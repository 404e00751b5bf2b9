"""``Emulator(sdk="installed")``: the real ``wallaroo`` package, unchanged, over the emulated wire.

Nothing of the SDK is mapped or patched: ``import wallaroo`` is the installed package, and every
call it makes goes over HTTP (``httpx``, and ``requests`` in 2023.2) to the emulator's routes,
answered in-process. What the emulator sets up so that user code needs no change, and puts back
on exit:

* **the token cache in a folder the emulator owns**: ``XDG_CACHE_HOME`` points into a temporary
  folder for as long as the emulator is active (the user's real cache is never read or
  written), holding ``wallaroo_sdk/auth/keycloak.json`` for the emulated user — a logged-in
  ``sso`` client and a task's ``orch`` client read it (``orch`` has no other way in);
* **newest profile (2024.1 and later)**: ``WALLAROO_URL`` (the emulator's URL) and
  ``WALLAROO_SDK_AUTH_TYPE=token`` with ``WALLAROO_SDK_CREDENTIALS`` (a credentials file
  ``{"token", "user_email", "user_id"}`` in the same folder), each only when the user has not set
  it, so a bare ``wallaroo.Client()`` works; ``Client(api_endpoint="https://<any host>",
  auth_type="sso")`` works too (the API's paths are served on any non-Google host);
* **2023.2 profile**: nothing else — that SDK's ``Client()`` defaults to ``http://api-lb:8080``
  (served too, with its engines at ``http://engine-lb.<deployment>:29502``) and ``WALLAROO_URL``
  would override a user's ``api_endpoint`` there;
* inside a task run, ``/home/jovyan/arguments.json`` (read by ``Client.task_args()``) is served
  from the run's arguments (:mod:`emulator.wallaroo.container_paths`);
* **one SSL context per setting**: every ``httpx`` client builds a fresh SSL context, loading
  certifi's CA bundle (50-150 ms), and the real SDK makes clients freely (module-level
  ``httpx.get``/``post`` for config and Keycloak, a new OpenAPI client per ``mlops()`` call, one per
  ``Deployment`` and per gql transport): two thirds of a tutorial flow's wall time went there,
  though no TLS handshake ever happens in-process. While active, ``httpx``'s transports share
  the context of equal settings (``verify``, ``cert``, ``trust_env``, HTTP/2, and the
  ``SSL_CERT_FILE``/``SSL_CERT_DIR`` it reads); a context is never changed after creation, and
  sharing one between clients is what ``ssl`` supports.

The package is imported when the emulator starts, before the virtual clock patches time
(``pydantic``, which the SDK imports through ``openai``, subclasses ``datetime.date`` at import).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Validity of the emulated login (token cache and credentials file), in virtual seconds.
LOGIN_SECONDS = 10 * 365 * 24 * 3600


def installed_profile() -> tuple[str, str]:
    """``(version, profile)`` of the installed real SDK; a clear error when there is none."""
    from importlib import metadata

    from emulator.emulator import EmulatorError

    try:
        version = metadata.version("wallaroo")
    except metadata.PackageNotFoundError:
        raise EmulatorError(
            "Emulator(sdk='installed') needs the real Wallaroo SDK, but no 'wallaroo' package is installed "
            f"in this environment ({sys.prefix}). Install it (pip install 'wallaroo==2026.1.3'), or use the "
            "emulator's own light SDK with sdk='2026.1' or sdk='2023.2'."
        ) from None
    major = version.split(".", 1)[0]
    profile = "2023.2" if major.isdigit() and int(major) < 2024 else "2026.1"
    return version, profile


def preload() -> None:
    """Import the real SDK now (before the clock patches time); a clear error if it cannot be."""
    from emulator.emulator import EmulatorError

    module = sys.modules.get("wallaroo")
    if module is not None and getattr(module, "__name__", "") != "wallaroo":
        raise EmulatorError("sdk='installed': 'wallaroo' is mapped to the emulator's facade by another emulator")
    try:
        from emulator.wallaroo import lazy

        if module is not None and lazy._is_lazy(module):  # the pytest plugin's module: load what it resolves to
            lazy._real("wallaroo")
            lazy._real("wallaroo.client")
            return
        import wallaroo  # noqa: F401
        import wallaroo.client  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - a broken install must name itself
        raise EmulatorError(f"sdk='installed': importing the installed wallaroo package failed: "
                            f"{type(exc).__name__}: {exc}") from exc


def activate(emu: Any, folder: Path) -> Callable[[], None]:
    """Set up the environment the real SDK needs (see the module docstring); returns the undo."""
    from emulator.emulator import WALLAROO_EMULATOR_URL
    from emulator.wallaroo.keycloak import realm_for
    from emulator.wallaroo.wire import DEFAULT_USER_EMAIL, DEFAULT_USER_ID

    realm = realm_for(emu)
    identity = realm.identity(DEFAULT_USER_EMAIL, DEFAULT_USER_ID)
    cache_home = folder / "cache"
    token_cache = cache_home / "wallaroo_sdk" / "auth" / "keycloak.json"
    token_cache.parent.mkdir(parents=True, exist_ok=True)
    token_cache.write_text(json.dumps(realm.token_cache(identity, LOGIN_SECONDS, WALLAROO_EMULATOR_URL)))
    token_cache.chmod(0o600)

    wanted: dict[str, str] = {"XDG_CACHE_HOME": str(cache_home)}
    overwrite = {"XDG_CACHE_HOME"}  # the user's own cache folder must never be used
    if emu.sdk != "2023.2":
        wanted["WALLAROO_URL"] = WALLAROO_EMULATOR_URL
        auth_type = os.environ.get("WALLAROO_SDK_AUTH_TYPE")
        if auth_type is None:
            wanted["WALLAROO_SDK_AUTH_TYPE"] = "token"
        if (auth_type or "token") == "token" and "WALLAROO_SDK_CREDENTIALS" not in os.environ:
            access, _ = realm.mint(identity, "Bearer", LOGIN_SECONDS, WALLAROO_EMULATOR_URL)
            credentials = folder / "credentials.json"
            credentials.write_text(json.dumps({"token": access, "user_email": identity.email,
                                               "user_id": identity.user_id}))
            credentials.chmod(0o600)
            wanted["WALLAROO_SDK_CREDENTIALS"] = str(credentials)
    undo_ssl = share_ssl_contexts()
    saved: dict[str, str | None] = {}
    for key, value in wanted.items():
        if key in overwrite or key not in os.environ:
            saved[key] = os.environ.get(key)
            os.environ[key] = value

    def restore() -> None:
        undo_ssl()
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old

    return restore


def share_ssl_contexts() -> Callable[[], None]:
    """Let ``httpx``'s transports share one SSL context per setting while active (see the module
    docstring); returns the undo."""
    try:
        from httpx._transports import default
    except ImportError:  # pragma: no cover - another httpx layout: nothing to share
        return lambda: None
    original = default.create_ssl_context
    cache: dict[Any, Any] = {}

    def shared(*args: Any, **kwargs: Any) -> Any:
        verify = kwargs.get("verify", True)
        cert = kwargs.get("cert")
        if args or not isinstance(verify, bool | str) or not isinstance(cert, str | type(None)):
            return original(*args, **kwargs)
        key = (tuple(sorted((k, v) for k, v in kwargs.items() if isinstance(v, bool | str | type(None)))),
               os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"), os.environ.get("SSLKEYLOGFILE"))
        if len(key[0]) != len(kwargs):
            return original(*args, **kwargs)
        context = cache.get(key)
        if context is None:
            context = cache[key] = original(*args, **kwargs)
        return context

    default.create_ssl_context = shared

    def undo() -> None:
        if default.create_ssl_context is shared:
            default.create_ssl_context = original

    return undo
