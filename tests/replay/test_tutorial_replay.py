"""The main job: `python -m tutorial_replay` replays the tutorial, checks its data, is deterministic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tutorial_replay import replay as replay_module

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "transcripts"


@pytest.mark.parametrize("sdk", ["2023.2", "2026.1"])
def test_replay_matches_the_golden_transcript(sdk):
    text = replay_module.replay(sdk=sdk)
    golden = (GOLDEN / f"tutorial_replay_{sdk}.txt").read_text(encoding="utf-8")
    assert text == golden


def test_replay_checks_the_data_it_sees():
    text = replay_module.replay()
    checks = [line for line in text.splitlines() if line.startswith("[check]")]
    assert "[check] the output table holds 1000 rows after the sample inference" in checks
    assert "[check] the output table holds 2000 rows after the run-once task" in checks
    assert "[check] 1 scheduled runs fired in the window (21:05)" in checks
    assert "[check] the output table holds 3000 rows after the scheduled runs" in checks
    assert "[check] every price equals onnxruntime's on the same float32 input" in checks


def test_replay_fails_loudly_when_a_check_fails(monkeypatch, capsys):
    monkeypatch.setattr(replay_module, "_count", lambda client, details: 0)  # as if no row was written
    assert replay_module.main([]) == 1
    assert "replay check failed" in capsys.readouterr().err


def test_command_line_runs_and_is_byte_identical(tmp_path):
    out = tmp_path / "t.txt"
    first = subprocess.run([sys.executable, "-m", "tutorial_replay", "--transcript", str(out)],
                           capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-m", "tutorial_replay"], capture_output=True, text=True, timeout=120)
    assert first.stdout == second.stdout == out.read_text(encoding="utf-8")
    assert first.stdout == (GOLDEN / "tutorial_replay_2023.2.txt").read_text(encoding="utf-8")
