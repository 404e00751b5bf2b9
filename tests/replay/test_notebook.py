"""The notebook/script runner: our sample notebooks, failures, stuck polling loops, transcripts."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from tutorial_replay.__main__ import main
from tutorial_replay.notebook import load_cells, run_notebook, strip_magics

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "fixtures" / "notebooks"
GOLDEN = REPO / "fixtures" / "transcripts"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("REPLAY_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"transcript differs from {path}"


def test_failing_notebook_names_the_cell_and_shows_its_traceback(tmp_path, capsys):
    transcript = tmp_path / "t.txt"
    code = main(
        [
            "run",
            str(NOTEBOOKS / "failing_notebook.ipynb"),
            "--workdir",
            str(tmp_path),
            "--transcript",
            str(transcript),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("cell 3 failed:\nTraceback (most recent call last):\n")
    assert 'File "<cell 3>", line 5, in <module>' in err
    assert 'File "<cell 3>", line 2, in average' in err
    assert err.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "notebook.py" not in err  # runner frames are dropped
    assert "1070000.0" in out and "[note] skipped line 1: %matplotlib inline" in out
    assert "never reached" not in out
    text = transcript.read_text()
    assert "## cell 2 [ok]" in text and "## cell 3 [error]" in text and "## cell 4 [not run]\n" in text
    _golden("failing_notebook.txt", text)


def test_stuck_polling_loop_is_stopped_after_the_virtual_budget(tmp_path, capsys):
    transcript = tmp_path / "t.txt"
    code = main(
        [
            "run",
            str(NOTEBOOKS / "stuck_notebook.ipynb"),
            "--workdir",
            str(tmp_path),
            "--transcript",
            str(transcript),
            "--quiet",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("cell 2 stopped: it consumed 6:00:00 of virtual time (budget 6:00:00)")
    assert "from 2023-05-10T21:00:00Z to 2023-05-11T03:00:00Z" in err
    _golden("stuck_notebook.txt", transcript.read_text())


def test_cell_budget_and_start_are_options(tmp_path, capsys):
    code = main(
        [
            "run",
            str(NOTEBOOKS / "stuck_notebook.ipynb"),
            "--workdir",
            str(tmp_path),
            "--quiet",
            "--cell-budget",
            "600",
            "--start",
            "2024-02-29T12:00:00Z",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "consumed 0:10:00 of virtual time (budget 0:10:00), from 2024-02-29T12:00:00Z" in err


SCRIPT = """\
import datetime, os, sys, time
print("now", datetime.datetime.now(datetime.UTC).isoformat())
print("cwd is workdir", os.getcwd() == sys.argv[1] if len(sys.argv) > 1 else os.path.basename(os.getcwd()))
# %%
!pip install something
%matplotlib inline
from IPython.display import display
display({"price": 350000.5})
time.sleep(90 * 60)
print("now", datetime.datetime.now(datetime.UTC).isoformat(), __name__)
41 + 1
# %%
shown = "hidden";
None
# %%
[1, 2, 3]
"""


def test_script_cells_magics_display_and_virtual_sleep(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    result = run_notebook(script, workdir=tmp_path / "work", start="2023-05-10T21:00:00Z")
    assert result.ok and [c.number for c in result.cells] == [1, 2, 3, 4]
    first, second, third, fourth = result.cells
    assert first.output.splitlines()[0] == "now 2023-05-10T21:00:00+00:00"
    assert second.notes == ["skipped line 1: !pip install something", "skipped line 2: %matplotlib inline"]
    assert second.output.splitlines()[2:] == [
        "{'price': 350000.5}",
        "now 2023-05-10T22:30:00+00:00 __main__",
        "42",
    ]
    assert second.virtual_seconds == 5400
    assert third.output == "" and fourth.output == "[1, 2, 3]\n"
    again = run_notebook(script, workdir=tmp_path / "work", start="2023-05-10T21:00:00Z")
    assert again.transcript() == result.transcript()


def test_working_directory_and_state_are_restored(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import os\nprint(os.getcwd())\n")
    before = os.getcwd(), list(sys.argv)
    result = run_notebook(script, workdir=tmp_path / "w")
    assert result.cells[0].output.strip() == str((tmp_path / "w").resolve())
    assert (os.getcwd(), sys.argv) == before


def test_ipython_stand_in_when_ipython_is_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    script = tmp_path / "s.py"
    script.write_text("from IPython.display import display, HTML\ndisplay('x', [1])\n")
    result = run_notebook(script, workdir=tmp_path)
    # as IPython's display does outside a kernel: the objects printed on one line
    assert result.ok and result.cells[0].output == "x [1]\n"
    assert sys.modules["IPython.display"] is None


def test_syntax_error_is_reported_without_runner_frames(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text("x = (1,\n")
    result = run_notebook(script, workdir=tmp_path)
    assert result.failed is result.cells[0]
    assert result.failed.error.startswith('cell 1 failed:\n  File "<cell 1>"')
    assert "SyntaxError" in result.failed.error


def test_strip_magics_keeps_plain_python():
    src = "s = ('%s'\n     % 3)\n"
    assert strip_magics(src) == (src, [])
    assert strip_magics("%%time\nx = 1\n") == ("pass\nx = 1\n", ["ran the body of %%time as plain code"])
    assert strip_magics("%%bash\nls -l\n") == ("", ["skipped cell magic: %%bash"])
    assert strip_magics("if True:\n    !ls\nfiles = !ls\n") == (
        "if True:\n    pass\npass\n",
        ["skipped line 2: !ls", "skipped line 3: files = !ls"],
    )


def test_notebook_cells_are_numbered_code_cells():
    cells = load_cells(NOTEBOOKS / "failing_notebook.ipynb")
    assert [(c.number, c.index) for c in cells] == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_cli_as_a_subprocess(tmp_path):
    import subprocess

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tutorial_replay",
            "run",
            str(NOTEBOOKS / "failing_notebook.ipynb"),
            "--workdir",
            str(tmp_path),
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith("cell 3 failed:") and "ZeroDivisionError" in run.stderr


def test_bad_seed_exits_2_with_the_path(tmp_path, capsys):
    seed = tmp_path / "s.yaml"
    seed.write_text(
        "sdk: '2023.2'\nbigquery: [{project: p, datasets: [{dataset: d, tables: [{table: t, "
        "schema: [{name: x, type: FLOAT65}]}]}]}]\n"
    )
    code = main(
        ["run", str(NOTEBOOKS / "failing_notebook.ipynb"), "--seed", str(seed), "--workdir", str(tmp_path)]
    )
    assert code == 2
    assert (
        "bigquery[0].datasets[0].tables[0].schema[0].type: 'FLOAT65' is not one of" in capsys.readouterr().err
    )


@pytest.mark.skipif(
    importlib.util.find_spec("emulator.bigquery.sql") is None, reason="BigQuery SQL not built yet"
)
def test_sample_houseprice_notebook_runs_end_to_end(tmp_path, capsys):
    transcript = tmp_path / "t.txt"
    code = main(
        [
            "run",
            str(NOTEBOOKS / "bigquery_houseprice_tutorial.ipynb"),
            "--seed",
            str(NOTEBOOKS / "bigquery_houseprice.seed.yaml"),
            "--workdir",
            str(tmp_path / "work"),
            "--transcript",
            str(transcript),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    text = transcript.read_text()
    assert "1000 houses" in text
    assert "rows refused: 0" in text and "prices stored: 1000" in text
    assert "prices added by the run: 1000" in text
    assert "prices added by the schedule: 2000" in text
    _golden("bigquery_houseprice_tutorial.txt", text)


def test_sdk_option_selects_the_profile(tmp_path):
    script = tmp_path / "v.py"
    script.write_text("import wallaroo\nwallaroo.__version__\n")
    old = run_notebook(script, workdir=tmp_path)
    new = run_notebook(script, workdir=tmp_path, sdk="2026.1")
    assert old.ok and new.ok
    assert old.cells[0].output.startswith("'2023.2") and new.cells[0].output.startswith("'2026.1")


CELL_MAGICS = """\
# %%
%%writefile main.py
import json
print(json.dumps({"ok": True}))
# %%
%%writefile -a main.py
print("appended")
# %%
%%capture
!pip install nothing
print("body ran")
# %%
import runpy

_ = runpy.run_path("main.py")
# %%
%%time
x = 1
raise ValueError(x)
"""


def test_cell_magics(tmp_path):
    script = tmp_path / "magics.py"
    script.write_text(CELL_MAGICS)
    result = run_notebook(script, workdir=tmp_path / "w")
    assert [c.status for c in result.cells] == ["ok", "ok", "ok", "ok", "error"]
    assert (tmp_path / "w" / "main.py").read_text() == (
        'import json\nprint(json.dumps({"ok": True}))\nprint("appended")\n'
    )
    outputs = [c.output for c in result.cells]
    assert outputs[0] == "[note] ran cell magic: %%writefile main.py\nWriting main.py\n"
    assert outputs[1].endswith("Appending to main.py\n")
    assert outputs[2].endswith("[note] skipped line 1: !pip install nothing\nbody ran\n")
    assert outputs[3] == '{"ok": true}\nappended\n'
    assert 'File "<cell 5>", line 3, in <module>' in result.cells[4].error


def test_job_ids_in_error_messages_replay_byte_identical(tmp_path, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    notebook = NOTEBOOKS / "bigquery_errors_notebook.ipynb"
    first = run_notebook(notebook, workdir=tmp_path / "a")
    second = run_notebook(notebook, workdir=tmp_path / "b")
    assert first.failed is not None and first.failed.number == 5
    text = first.transcript()
    assert text.count("Job ID: ") == 2 and "RuntimeError: the report query failed: 400" in text
    assert text == second.transcript()
    # the golden was written by another process (another hash salt, other uuid4 draws)
    _golden("bigquery_errors_notebook.txt", text)


DOWNLOADING_SCRIPT = """\
import pandas as pd

URL = "https://raw.githubusercontent.com/example/tutorials/main/data/houses.csv"
# %%
houses = pd.read_csv(URL)
print(houses["price"].sum())
"""


def test_a_notebook_downloading_a_url_is_refused_offline_and_served_from_static_urls(tmp_path):
    script = tmp_path / "download.py"
    script.write_text(DOWNLOADING_SCRIPT)
    refused = run_notebook(script, workdir=tmp_path / "w1")
    assert refused.failed is not None and refused.failed.number == 2
    assert "wallaroo-emulator is offline: GET https://raw.githubusercontent.com/example/tutorials/main/data/" \
           "houses.csv was refused" in refused.failed.error
    assert "static_urls" in refused.failed.error
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "houses.csv").write_text("price\n350000\n720000\n")
    seed = tmp_path / "seed.yaml"
    seed.write_text("static_urls:\n  https://raw.githubusercontent.com/example/tutorials/main/data: data\n")
    served = run_notebook(script, seed=seed, workdir=tmp_path / "w2")
    assert served.ok and served.cells[1].output == "1070000\n"
