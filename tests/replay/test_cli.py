"""``python -m tutorial_replay``: usage errors, help, exit statuses and the nbformat-free notebook reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutorial_replay.__main__ import build_parser, main
from tutorial_replay.ipynb import NotebookFormatError, read_cells
from tutorial_replay.notebook import load_cells

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "fixtures" / "notebooks"
FAILING = str(NOTEBOOKS / "failing_notebook.ipynb")


@pytest.mark.parametrize(
    "argv,says",
    [
        (["--sdk", "1999.1"], "argument --sdk: unknown SDK profile '1999.1'; choose one of 2023.2, 2026.1"),
        (["run", FAILING, "--sdk", "9"], "argument --sdk: unknown SDK profile '9'"),
        (["run"], "the following arguments are required: PATH"),
        (["run", "no/such/notebook.ipynb"], "argument PATH: no such file: no/such/notebook.ipynb"),
        (["run", FAILING, "--seed", "no-such-seed.yaml"], "argument --seed: no such file: no-such-seed.yaml"),
        (["run", FAILING, "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["run", FAILING, "--start", "yesterday"], "'yesterday' is not an ISO 8601 instant"),
        (["run", FAILING, "--cell-budget", "0"], "argument --cell-budget: '0' must be more than 0 seconds"),
        (["run", FAILING, "--workdir", FAILING], "argument --workdir: not a directory"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, says, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("python -m tutorial_replay") and says in err, err


@pytest.mark.parametrize(
    "content,says",
    [
        ("not json", "not a notebook (invalid JSON at line 1"),
        ('{"cells": 3}', "not a notebook (no 'cells' list)"),
        ('{"nbformat": 2, "cells": []}', "unsupported notebook format 2"),
        ('["a list"]', "not a notebook (the JSON is a list"),
        ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": 7}]}', "cell 0 'source': expected a string"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_a_usage_error(tmp_path, capsys, content, says):
    bad = tmp_path / "bad.ipynb"
    bad.write_text(content)
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err


def test_a_failing_cell_exits_1_with_the_cell_and_its_traceback(tmp_path, capsys):
    assert main(["run", FAILING, "--workdir", str(tmp_path), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cell 3 failed:\nTraceback (most recent call last):\n")
    assert err.rstrip().endswith("ZeroDivisionError: division by zero")


def test_help_lists_every_option_of_the_replay_and_of_run(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    parser = build_parser()
    run = parser.also_help[0]
    options = [s for p in (parser, run) for a in p._actions for s in a.option_strings]
    assert {"--sdk", "--start", "--transcript", "--seed", "--workdir", "--cell-budget", "--quiet"} <= set(options)
    for option in options:
        assert option in text, option
    assert "usage: python -m tutorial_replay run" in text and "PATH" in text
    assert main(["run", "--help"]) == 0
    assert "--cell-budget SECONDS" in capsys.readouterr().out


def test_replay_options_given_before_run_apply_to_run(tmp_path, capsys):
    code = main(["--start", "2024-02-29T12:00:00Z", "run", str(NOTEBOOKS / "stuck_notebook.ipynb"),
                 "--workdir", str(tmp_path), "--quiet", "--cell-budget", "60"])
    assert code == 1
    assert "from 2024-02-29T12:00:00Z" in capsys.readouterr().err


def test_reader_agrees_with_nbformat_on_formats_4_and_3(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        ours = [(i, kind, source) for i, kind, source in read_cells(path)]
        theirs = [(i, c.cell_type, c.source) for i, c in enumerate(nbformat.read(path, as_version=4).cells)]
        assert ours == theirs, path.name
        old = tmp_path / f"v3-{path.name}"
        old.write_text(nbformat.writes(nbformat.convert(nbformat.read(path, as_version=4), 3)))
        ours_v3 = [(c.number, c.source) for c in load_cells(old)]
        theirs_v3 = [s for _, kind, s in theirs if kind == "code"]
        assert [s for _, s in ours_v3] == theirs_v3, path.name


def test_reader_joins_list_sources_and_keeps_cell_indices(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
        {"cell_type": "code", "metadata": {}, "source": ["x = 1\n", "x + 1"], "outputs": [], "execution_count": None},
        {"cell_type": "raw", "metadata": {}, "source": ""},
    ]}))
    assert read_cells(path) == [(0, "markdown", "# Title\ntext"), (1, "code", "x = 1\nx + 1"), (2, "raw", "")]
    assert [(c.number, c.index, c.source) for c in load_cells(path)] == [(1, 1, "x = 1\nx + 1")]
    with pytest.raises(NotebookFormatError):
        read_cells(REPO / "pyproject.toml")
