"""The pytest plugin's fixtures, used here the way another project's tests use them."""

from __future__ import annotations

import datetime as dt
import zipfile
from io import BytesIO

import pytest

from emulator.clock import DEFAULT_START
from emulator.emulator import active_emulator
from tutorial_replay.zipfolder import zip_folder


def test_emulator_is_fresh_active_and_defaulted(emulator, emulator_clock):
    assert active_emulator() is emulator
    assert emulator.sdk == "2023.2"
    assert emulator_clock is emulator.clock and emulator_clock.now() == DEFAULT_START
    assert emulator.bigquery.list_datasets("wallaroo-emulator") == []
    emulator.bigquery.create_dataset("wallaroo-emulator", "left_behind")


def test_next_test_sees_none_of_the_previous_state(emulator):
    assert emulator.bigquery.list_datasets("wallaroo-emulator") == []


@pytest.mark.wallaroo_sdk("2026.1")
@pytest.mark.emulator_start("2024-01-01T00:00:00Z")
def test_markers_choose_profile_and_start(emulator, emulator_clock):
    import time

    assert emulator.sdk == "2026.1"
    assert emulator_clock.now() == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    time.sleep(3600)
    assert dt.datetime.now(dt.UTC) == dt.datetime(2024, 1, 1, 1, tzinfo=dt.UTC)


@pytest.mark.emulator_seed(
    {
        "start": "2023-06-01T00:00:00Z",
        "seed": 5,
        "project": "seeded",
        "bigquery": [
            {
                "project": "seeded",
                "datasets": [
                    {
                        "dataset": "d",
                        "tables": [
                            {
                                "table": "t",
                                "schema": [{"name": "n", "type": "INTEGER"}],
                                "rows": [{"n": 1}, {"n": 2}],
                            },
                        ],
                    }
                ],
            }
        ],
        "service_accounts": [{"path": "key.json"}],
    }
)
def test_seed_marker_builds_and_fills_the_emulator(emulator, emulator_workdir, bigquery_client):
    assert emulator.clock.now() == dt.datetime(2023, 6, 1, tzinfo=dt.UTC) and emulator.seed == 5
    assert emulator.bigquery.row_count("seeded", "d", "t") == 2
    assert (emulator_workdir / "key.json").is_file()
    assert bigquery_client.project == "seeded"
    assert [t.table_id for t in bigquery_client.list_tables("d")] == ["t"]


@pytest.mark.bigquery_project("my-project")
def test_bigquery_client_is_real_and_served_by_the_emulator(emulator, bigquery_client):
    from google.cloud import bigquery

    assert isinstance(bigquery_client, bigquery.Client) and bigquery_client.project == "my-project"
    bigquery_client.create_dataset("made_by_client")
    assert [d.dataset for d in emulator.bigquery.list_datasets("my-project")] == ["made_by_client"]


def test_apply_seed_fixture(emulator, apply_seed, emulator_workdir):
    seed = apply_seed(
        {
            "bigquery": [{"project": "p", "datasets": [{"dataset": "d"}]}],
            "files": [{"path": "hello.txt", "text": "hi"}],
        }
    )
    assert seed.project is None
    assert [d.dataset for d in emulator.bigquery.list_datasets("p")] == ["d"]
    assert (emulator_workdir / "hello.txt").read_text() == "hi"


def test_zip_folder_is_deterministic(tmp_path):
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.py").write_text("a")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    first = zip_folder(tmp_path)
    assert first == zip_folder(tmp_path)
    archive = zipfile.ZipFile(BytesIO(first))
    assert archive.namelist() == ["b.txt", "sub/a.py"]
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_wallaroo_client_and_orchestration_upload(
    emulator, wallaroo_client, upload_orchestration_from_folder, tmp_path
):
    folder = tmp_path / "my_orchestration"
    folder.mkdir()
    (folder / "main.py").write_text("print('hello from the orchestration')\n")
    (folder / "requirements.txt").write_text("")
    workspace = wallaroo_client.create_workspace("plugin-test")
    wallaroo_client.set_current_workspace(workspace)
    orchestration = upload_orchestration_from_folder(folder, client=wallaroo_client)
    assert orchestration.name() == "my_orchestration"
    assert orchestration.file_name() == "my_orchestration.zip"


@pytest.mark.emulator_seed("../../fixtures/notebooks/bigquery_houseprice.seed.yaml")
@pytest.mark.wallaroo_sdk("2026.1")
def test_seed_file_marker_relative_to_the_test_file(emulator, emulator_workdir, bigquery_client):
    assert emulator.sdk == "2026.1"  # the marker wins over the seed's 2023.2
    assert emulator.seed == 7 and bigquery_client.project == "house-price-demo"
    assert emulator.bigquery.row_count("house-price-demo", "housepricesga", "house_price_inputs") == 1000
    for name in (
        "bigquery_service_account_input_key.json",
        "models/rf_model.onnx",
        "bigquery_remote_inference/bigquery_remote_inference.zip",
    ):
        assert (emulator_workdir / name).is_file(), name


class TestClassMarker:
    pytestmark = pytest.mark.emulator_start("2030-01-01T00:00:00Z")

    def test_class_level_marker(self, emulator_clock):
        assert emulator_clock.now().year == 2030
