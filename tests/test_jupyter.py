"""``%load_ext emulator``: the IPython extension, driven through IPython's own API (skipped without IPython)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from emulator import active_emulator, jupyter

pytest.importorskip("IPython")  # not a dependency of ours; the test extra brings it

pytestmark = [
    pytest.mark.filterwarnings("ignore:%load_ext google.cloud.bigquery is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:A progress bar was requested:UserWarning"),
]

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "fixtures" / "notebooks"
SEED = NOTEBOOKS / "bigquery_houseprice.seed.yaml"


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    saved = sys.displayhook, sys.excepthook
    mp = pytest.MonkeyPatch()
    mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    yield ip
    InteractiveShell.clear_instance()
    sys.displayhook, sys.excepthook = saved
    mp.undo()


@pytest.fixture
def ip(shell, monkeypatch, tmp_path):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    yield shell
    if "emulator" in shell.extension_manager.loaded:  # whatever the test did, the session's emulator goes
        shell.extension_manager.unload_extension("emulator")
    jupyter.unload(shell)
    assert active_emulator() is None


def run(shell, code: str) -> None:
    result = shell.run_cell(code)
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        raise AssertionError(f"cell failed: {code!r}") from error


def test_load_ext_starts_an_emulator_and_the_magic_drives_it(ip, capsys):
    run(ip, "%load_ext emulator")
    emu = active_emulator()
    assert emu is not None and jupyter.session_for(ip).emu is emu
    assert "wallaroo-emulator started: SDK 2023.2, virtual time 2023-05-10T21:00:00Z" in capsys.readouterr().out
    run(ip, "import wallaroo\nwl = wallaroo.Client()\nversion = wallaroo.__version__")
    assert ip.user_ns["version"] == "2023.2.1"
    run(ip, "%emulator advance 1h30m")
    assert capsys.readouterr().out == "virtual time 2023-05-10T22:30:00Z\n"
    run(ip, "import datetime\nnow = datetime.datetime.now(datetime.UTC)")
    assert ip.user_ns["now"].isoformat() == "2023-05-10T22:30:00+00:00"
    run(ip, "%emulator status")
    status = capsys.readouterr().out
    assert "wallaroo-emulator active: SDK profile 2023.2" in status
    assert "virtual time 2023-05-10T22:30:00Z (started at 2023-05-10T21:00:00Z)" in status
    run(ip, "%emulator stop")
    assert active_emulator() is None and "stopped" in capsys.readouterr().out
    run(ip, "%emulator start --sdk 2026.1 --start 2024-01-01T00:00:00Z")
    assert active_emulator().sdk == "2026.1"
    run(ip, "%unload_ext emulator")
    assert active_emulator() is None and "emulator" not in ip.magics_manager.magics["line"]


def test_mistakes_are_usage_errors_and_leave_the_emulator_running(ip, capsys):
    from IPython.core.error import UsageError

    run(ip, "%load_ext emulator")
    emu = active_emulator()
    for line, says in [
        ("%emulator advance -5m", "the virtual clock only moves forward"),
        ("%emulator advance soon", "is not a duration"),
        ("%emulator frobnicate", "unknown subcommand 'frobnicate'"),
        ("%emulator seed no-such.yaml", "no-such.yaml"),
        ("%emulator start", "already active"),
    ]:
        result = ip.run_cell(line)
        assert isinstance(result.error_in_exec, UsageError), line
        assert says in str(result.error_in_exec), (line, str(result.error_in_exec))
        assert active_emulator() is emu
    capsys.readouterr()
    run(ip, "%emulator help")
    assert "%emulator advance DURATION" in capsys.readouterr().out


def test_seed_reset_and_bigquery_cell_magic(ip, tmp_path, capsys):
    run(ip, "%load_ext emulator")
    run(ip, f"%emulator seed {SEED} --workdir {tmp_path / 'work'}")
    out = capsys.readouterr().out
    assert "table house-price-demo.housepricesga.house_price_inputs: 1000 rows" in out
    assert "project house-price-demo, id seed 7" in out
    assert (tmp_path / "work" / "models" / "rf_model.onnx").is_file()
    run(ip, "%load_ext google.cloud.bigquery")
    run(ip, "%%bigquery counts\nSELECT COUNT(*) AS n FROM housepricesga.house_price_inputs")
    assert ip.user_ns["counts"]["n"].tolist() == [1000]
    run(ip, "from google.cloud import bigquery\nbigquery.Client().query("
            "'DELETE FROM housepricesga.house_price_inputs WHERE TRUE').result()")
    run(ip, "%emulator reset")  # a fresh emulator, the seed applied again
    run(ip, "%%bigquery counts\nSELECT COUNT(*) AS n FROM housepricesga.house_price_inputs")
    assert ip.user_ns["counts"]["n"].tolist() == [1000]
    run(ip, "%emulator stop")
    run(ip, "%emulator start --project elsewhere")
    run(ip, "%%bigquery where\nSELECT 1 AS x")
    assert ip.user_ns["where"]["x"].tolist() == [1]
    from google.cloud.bigquery.magics import magics

    assert magics.context.project == "elsewhere"  # the cached project was dropped with the old emulator


def test_a_tutorial_replays_cell_by_cell(ip, tmp_path, capsys, monkeypatch):
    run(ip, "%load_ext emulator")
    work = tmp_path / "work"
    run(ip, f"%emulator seed {SEED} --workdir {work}")
    monkeypatch.chdir(work)
    notebook = json.loads((NOTEBOOKS / "bigquery_houseprice_tutorial.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            run(ip, "".join(cell["source"]))
    out = capsys.readouterr().out
    assert "prices added by the run: 1000" in out and "prices added by the schedule: 2000" in out
    run(ip, "%emulator tasks")
    tasks = capsys.readouterr().out
    assert "task 'bigquery_every_5_minutes'" in tasks and tasks.count(": success (") == 3


def test_kernel_threads_keep_real_sleeps(ip):
    run(ip, "%load_ext emulator")
    clock = active_emulator().clock
    before = clock.now()
    kernel_code = {"__name__": "ipykernel.parentpoller"}
    exec("import time\ndef poll():\n    time.sleep(0.001)\n", kernel_code)
    kernel_code["poll"]()  # a kernel thread's sleep: real, the virtual clock stays
    assert clock.now() == before
    time.sleep(60)  # user code: virtual
    assert (clock.now() - before).total_seconds() == 60


def test_magic_input_transformer_only_touches_bigquery_cells_while_storage_is_hidden(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery_storage", None)
    assert jupyter.bigquery_magic_on_rest(["%%bigquery df\n", "SELECT 1\n"]) == [
        "%%bigquery df --use_rest_api\n", "SELECT 1\n"]
    assert jupyter.bigquery_magic_on_rest(["%%bigquery df --use_bqstorage_api\n"]) == [
        "%%bigquery df --use_bqstorage_api\n"]
    assert jupyter.bigquery_magic_on_rest(["x = 1\n"]) == ["x = 1\n"]
    monkeypatch.delitem(sys.modules, "google.cloud.bigquery_storage")
    assert jupyter.bigquery_magic_on_rest(["%%bigquery df\n"]) == ["%%bigquery df\n"]


@pytest.mark.parametrize(
    "text,seconds",
    [("90s", 90), ("10m", 600), ("1h30m", 5400), ("2d", 172800), ("1.5h", 5400), ("500ms", 0.5),
     ("01:30:00", 5400), ("2:05", 7500), ("45", 45), ("1h 30m", 5400), ("1w", 604800)],
)
def test_durations(text, seconds):
    assert jupyter.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "10x", "-1", "m", "1h-5m", "nan"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        jupyter.parse_duration(text)
