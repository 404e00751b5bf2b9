"""Application-default credentials under an emulator: ``google.auth.default()`` and ``bigquery.Client()``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import google.auth
import pytest
from google.cloud import bigquery
from google.oauth2 import service_account

from emulator import Emulator
from emulator.bigquery.auth import CREDENTIALS_ENV
from tutorial_replay.seed import apply_seed


@pytest.fixture(autouse=True)
def no_user_adc(monkeypatch):
    monkeypatch.delenv(CREDENTIALS_ENV, raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GCLOUD_PROJECT", raising=False)


def test_default_credentials_and_a_client_without_arguments():
    with Emulator(project="adc-project") as emu:
        credentials, project = google.auth.default()
        assert isinstance(credentials, service_account.Credentials)
        assert project == "adc-project" == emu.adc_project
        client = bigquery.Client()
        assert client.project == "adc-project"
        client.create_dataset("made_by_default_client")
        rows = list(client.query("SELECT 41 + 1 AS answer").result())
        assert rows[0].answer == 42
        assert [d.dataset for d in emu.bigquery.list_datasets("adc-project")] == ["made_by_default_client"]
        key_file = Path(os.environ[CREDENTIALS_ENV])
        assert json.loads(key_file.read_text())["project_id"] == "adc-project"
    assert CREDENTIALS_ENV not in os.environ  # outside, nothing changed
    assert not key_file.exists()


def test_outside_an_emulator_default_credentials_are_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))  # no gcloud credentials of this machine
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # no metadata server: refused at once
    with Emulator():
        assert google.auth.default()[1] == "wallaroo-emulator"
    with pytest.raises(google.auth.exceptions.DefaultCredentialsError):
        google.auth.default()


def test_google_cloud_project_wins(monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    with Emulator():
        assert google.auth.default()[1] == "from-env"
        assert bigquery.Client().project == "from-env"


def test_the_seed_chooses_the_project(tmp_path):
    seed = {"bigquery": [{"project": "house-data", "datasets": [{"dataset": "d", "tables": [
        {"table": "t", "schema": [{"name": "n", "type": "INTEGER"}], "rows": [{"n": 1}]}]}]}]}
    with Emulator() as emu:
        assert google.auth.default()[1] == "wallaroo-emulator"
        apply_seed(seed, emu, tmp_path)  # applied while active: the key file follows at once
        assert google.auth.default()[1] == "house-data"
        assert [t.table_id for t in bigquery.Client().list_tables("d")] == ["t"]
    with Emulator(project="ignored") as emu:
        apply_seed({**seed, "project": "named"}, emu, tmp_path)  # the seed's `project` comes first
        assert google.auth.default()[1] == "named"


def test_a_users_own_credentials_file_is_left_alone(tmp_path, monkeypatch):
    with Emulator() as emu:
        info = emu.service_account_info("user-project")
    user_key = tmp_path / "user-key.json"
    user_key.write_text(json.dumps(info))
    monkeypatch.setenv(CREDENTIALS_ENV, str(user_key))
    with Emulator():
        assert os.environ[CREDENTIALS_ENV] == str(user_key)
        credentials, project = google.auth.default()
        assert project == "user-project"
        assert bigquery.Client().query("SELECT 1 AS x").result().total_rows == 1  # token exchange answered
    assert os.environ[CREDENTIALS_ENV] == str(user_key)


def test_an_empty_value_counts_as_unset_and_comes_back(monkeypatch):
    monkeypatch.setenv(CREDENTIALS_ENV, "")
    with Emulator():
        assert Path(os.environ[CREDENTIALS_ENV]).name.startswith("application_default_credentials")
        assert google.auth.default()[1] == "wallaroo-emulator"
    assert os.environ[CREDENTIALS_ENV] == ""


def test_a_value_the_users_code_sets_inside_is_kept(tmp_path):
    with Emulator() as emu:
        key = tmp_path / "key.json"
        key.write_text(json.dumps(emu.service_account_info("set-in-a-cell")))
        os.environ[CREDENTIALS_ENV] = str(key)  # as tutorials do in a notebook cell
        assert google.auth.default()[1] == "set-in-a-cell"
    try:
        assert os.environ[CREDENTIALS_ENV] == str(key)
    finally:
        del os.environ[CREDENTIALS_ENV]


def test_child_processes_inherit_the_credentials():
    with Emulator(project="child-project"):
        shown = subprocess.run(
            [sys.executable, "-c", "import google.auth; print(google.auth.default()[1])"],
            capture_output=True, text=True, timeout=120, check=True,
        )
    assert shown.stdout.strip() == "child-project"


def test_the_key_is_deterministic_and_one_per_process():
    with Emulator(project="a") as emu:
        first = Path(os.environ[CREDENTIALS_ENV]).read_text()
        emu.adc_project = "b"
        second = json.loads(Path(os.environ[CREDENTIALS_ENV]).read_text())
    with Emulator(project="a"):
        assert Path(os.environ[CREDENTIALS_ENV]).read_text() == first
    assert second["project_id"] == "b" and second["private_key"] == json.loads(first)["private_key"]
    assert second["client_email"] == "application-default@b.iam.gserviceaccount.com"


def test_an_orchestration_uses_default_credentials(tmp_path):
    """Real orchestrations call bigquery.Client() with no arguments and read GOOGLE_CLOUD_PROJECT-style ADC."""
    import time

    from tutorial_replay.zipfolder import zip_folder

    folder = tmp_path / "adc_orchestration"
    folder.mkdir()
    (folder / "main.py").write_text(
        "from google.cloud import bigquery\n"
        "client = bigquery.Client()\n"
        "client.query('CREATE TABLE sales.copy AS SELECT 7 AS n').result()\n"
        "print('wrote to', client.project, flush=True)\n"
    )
    (folder / "requirements.txt").write_text("")
    with Emulator(project="orchestrated") as emu:
        import wallaroo

        emu.bigquery.create_dataset("orchestrated", "sales")
        wl = wallaroo.Client()
        orchestration = wl.upload_orchestration(bytes_buffer=zip_folder(folder), name="adc", file_name="adc.zip")
        while orchestration.status() != "ready":
            time.sleep(5)
        task = orchestration.run_once(name="once", json_args={})
        time.sleep(60)
        run = task.last_runs()[0]
        assert run.status == "success", emu.wallaroo.tasks.logs(run.run_id)
        assert emu.bigquery.row_count("orchestrated", "sales", "copy") == 1
        assert any("wrote to orchestrated" in line for line in emu.wallaroo.tasks.logs(run.run_id))
