"""What the real client makes up on its side is deterministic under an emulator; its nags are quiet."""

from __future__ import annotations

import uuid
import warnings

import pytest

from emulator import Emulator
from emulator.bigquery.client_warnings import PANDAS_GBQ_NAGS
from emulator.ids import stable_number


def _job_ids(seed: int) -> list[str]:
    with Emulator(seed=seed) as emu:
        client = emu.bigquery_client()
        jobs = [client.query("SELECT 1 AS x") for _ in range(3)]
        for job in jobs:
            job.result()
        return [job.job_id for job in jobs]


def test_client_job_ids_follow_the_emulator_seed():
    assert _job_ids(0) == _job_ids(0)
    assert _job_ids(0) != _job_ids(1)
    assert all(uuid.UUID(job_id).version == 4 for job_id in _job_ids(5))


def test_other_callers_keep_random_uuids_and_uuid4_comes_back():
    original = uuid.uuid4
    with Emulator():
        assert uuid.uuid4 is not original
        first = uuid.uuid4()
    with Emulator():
        second = uuid.uuid4()
    assert first != second  # test code is not google.cloud.bigquery: real random uuids
    assert uuid.uuid4 is original


def test_project_numeric_id_is_stable_across_processes():
    # sha256-derived: a salted hash() would differ from this constant in almost every process
    assert stable_number("wallaroo-emulator") == 142151945110
    with Emulator() as emu:
        client = emu.bigquery_client()
        client.create_dataset("d")
        projects = list(client.list_projects())
    assert [(p.project_id, p.numeric_id) for p in projects] == [("wallaroo-emulator", "142151945110")]


def test_pandas_gbq_nags_are_silenced_only_while_active():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        with Emulator() as emu:
            client = emu.bigquery_client()
            frame = client.query("SELECT 1 AS x").to_dataframe()
            client.create_dataset("d")
            client.load_table_from_dataframe(frame, "d.t").result()
            warnings.warn("unrelated", PendingDeprecationWarning, stacklevel=1)
            with warnings.catch_warnings(record=True) as unfiltered:
                warnings.simplefilter("always")  # in front of the emulator's filters: the client does nag
                client.query("SELECT 1 AS x").to_dataframe()
        assert warnings.filters == before
    messages = [str(w.message) for w in caught]
    # other libraries may warn too (pandas 2.2 beside the real SDK does); the client's nags never reach us
    assert "unrelated" in messages
    assert not [m for m in messages if "pandas-gbq" in m or "pandas_gbq" in m or "google-cloud-bigquery" in m]
    assert any("Retrieving DataFrames via google-cloud-bigquery" in str(w.message) for w in unfiltered)


@pytest.mark.parametrize("category,message", PANDAS_GBQ_NAGS)
def test_each_nag_is_one_the_installed_client_emits(category, message):
    import inspect

    from google.cloud.bigquery import _pandas_helpers, client, table
    from google.cloud.bigquery_storage_v1 import reader

    source = "".join(inspect.getsource(m) for m in (client, table, _pandas_helpers, reader))
    assert message in source and category.__name__ in source
