"""The README's example project (a test of its own orchestration) runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> dict[str, str]:
    """README code blocks whose first line names their file (``# path``)."""
    blocks = {}
    for body in re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        first = body.splitlines()[0]
        if first.startswith("# ") and first.endswith(".py"):
            blocks[first[2:].strip()] = body
    return blocks


def test_readme_orchestration_example_passes(pytester):
    blocks = _blocks()
    assert {"test_orchestration.py", "orchestration/main.py"} <= set(blocks)
    for name, body in blocks.items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "test_orchestration.py")
    result.assert_outcomes(passed=1)
