"""Run google-cloud-bigquery's own system tests against the emulator.

    python -m systests.bigquery.run [--update-doc] [--check] [-- PYTEST ARGS...]

1. Takes ``tests/system`` and ``tests/data`` from the sdist of the *installed* google-cloud-bigquery
   version (``pip download`` from the package index; cached under ``~/.cache/wallaroo-emulator``).
2. Lays ``overlay_conftest.py`` over them (one emulator for the session; credentials; the skip
   rules of ``skips.py`` — the only tests not run, each with its reason).
3. Runs them with pytest in a subprocess and reads the JUnit report: prints the pass rate of the
   tests that ran, and with ``--update-doc`` writes it, per file and with every failure's first
   line, to ``docs/bigquery-system-tests.md``.
4. ``--check`` exits non-zero when fewer tests pass than that document records (CI: no regression).

The suite needs a few packages the emulator itself does not (google-cloud-testutils,
google-cloud-storage, google-cloud-resource-manager, google-cloud-datacatalog, psutil): the
``systests`` extra of ``pyproject.toml``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DOC = REPO / "docs" / "bigquery-system-tests.md"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wallaroo-emulator" / "sdists"
PACKAGE = "google-cloud-bigquery"


@dataclass
class Outcome:
    counts: Counter[str] = field(default_factory=Counter)
    by_file: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[tuple[str, str]] = field(default_factory=list)  # (test id, first line)
    skips: Counter[str] = field(default_factory=Counter)  # reason -> count

    @property
    def ran(self) -> int:
        return self.counts["passed"] + self.counts["failed"] + self.counts["error"]

    @property
    def rate(self) -> float:
        return self.counts["passed"] / self.ran if self.ran else 0.0


def sdist_of(version: str) -> Path:
    """The sdist of ``google-cloud-bigquery==version``, downloaded once into the cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for candidate in CACHE.glob(f"google[-_]cloud[-_]bigquery-{version}.tar.gz"):
        return candidate
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
               "--dest", str(CACHE), f"{PACKAGE}=={version}"]
    subprocess.run(command, check=True)
    for candidate in CACHE.glob(f"google[-_]cloud[-_]bigquery-{version}.tar.gz"):
        return candidate
    raise SystemExit(f"pip download gave no sdist of {PACKAGE}=={version} in {CACHE}")


def prepare(work: Path, version: str) -> Path:
    """Extract ``tests/system`` and ``tests/data`` into ``work`` with the overlay; return ``work``."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    with tarfile.open(sdist_of(version)) as archive:
        for member in archive.getmembers():
            parts = Path(member.name).parts
            if len(parts) > 2 and parts[1] == "tests" and parts[2] in ("system", "data", "__init__.py"):
                member.name = str(Path(*parts[1:]))
                archive.extract(member, work, filter="data")
            elif len(parts) == 3 and parts[1:] == ("tests", "__init__.py"):
                member.name = "tests/__init__.py"
                archive.extract(member, work, filter="data")
    (work / "tests" / "__init__.py").touch()
    shutil.copyfile(HERE / "overlay_conftest.py", work / "conftest.py")
    shutil.copyfile(HERE / "skips.py", work / "systest_skips.py")
    (work / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    return work


def run(work: Path, pytest_args: list[str]) -> Outcome:
    report = work / "report.xml"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(work), str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, "-m", "pytest", "tests/system", "-q", "-rN", f"--junitxml={report}",
               "-o", "junit_family=xunit1", *pytest_args]
    subprocess.run(command, cwd=work, env=env)
    if not report.exists():
        raise SystemExit("pytest wrote no report: the suite could not start (see above)")
    return read_report(report)


def read_report(report: Path) -> Outcome:
    outcome = Outcome()
    for case in ET.parse(report).getroot().iter("testcase"):
        file = (case.get("file") or case.get("classname", "").replace(".", "/") + ".py").split("tests/system/")[-1]
        name = f"{file}::{case.get('name')}"
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                kind = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                message = (child.get("message") or child.text or "").strip().splitlines()
                first = message[0] if message else ""
                if kind == "skipped":
                    outcome.skips[re.sub(r"^Skipped: ", "", first)] += 1
                else:
                    outcome.failures.append((name, first[:200]))
                break
        outcome.counts[kind] += 1
        outcome.by_file[file][kind] += 1
    return outcome


def render(outcome: Outcome, version: str) -> str:
    lines = [
        "# google-cloud-bigquery's system tests against the emulator",
        "",
        "Generated by `python -m systests.bigquery.run --update-doc` (CI runs it with `--check`:",
        "fewer passes than recorded here fails the build). The tests come unchanged from the sdist of",
        f"google-cloud-bigquery {version}; `systests/bigquery/skips.py` lists the only ones skipped, each",
        "with its reason (services the emulator does not stand in for).",
        "",
        f"**passed: {outcome.counts['passed']} of {outcome.ran} run ({outcome.rate:.1%})**; "
        f"failed {outcome.counts['failed']}, errors {outcome.counts['error']}, skipped {outcome.counts['skipped']}.",
        "",
        "| file | passed | failed | errors | skipped |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for file in sorted(outcome.by_file):
        c = outcome.by_file[file]
        lines.append(f"| {file} | {c['passed']} | {c['failed']} | {c['error']} | {c['skipped']} |")
    lines += ["", "## Skipped", "", "| reason | tests |", "| --- | ---: |"]
    for reason, count in sorted(outcome.skips.items()):
        lines.append(f"| {reason.replace('|', '/')} | {count} |")
    lines += ["", "## Failing", ""]
    if not outcome.failures:
        lines.append("None.")
    for name, first in sorted(outcome.failures):
        lines.append(f"- `{name}`: {first.replace('|', '/')}")
    return "\n".join(lines) + "\n"


def recorded_passes() -> int | None:
    if not DOC.exists():
        return None
    found = re.search(r"\*\*passed: (\d+) of", DOC.read_text())
    return int(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=REPO / "build" / "bigquery-systests",
                        help="folder to extract and run the tests in (replaced)")
    parser.add_argument("--update-doc", action="store_true", help=f"write the outcome to {DOC.relative_to(REPO)}")
    parser.add_argument("--check", action="store_true", help="fail when fewer tests pass than the document records")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    version = metadata.version(PACKAGE)
    outcome = run(prepare(args.work, version), args.pytest_args)
    print(f"google-cloud-bigquery {version} system tests: {outcome.counts['passed']} passed of {outcome.ran} run "
          f"({outcome.rate:.1%}); {outcome.counts['skipped']} skipped by rule")
    if args.update_doc:
        DOC.write_text(render(outcome, version))
    if args.check:
        floor = recorded_passes()
        if floor is not None and outcome.counts["passed"] < floor:
            print(f"regression: {outcome.counts['passed']} passed, {floor} recorded in {DOC.relative_to(REPO)}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
