"""``python -m tutorial_replay``: replay the house-price tutorial, or ``run`` a notebook or script.

``python -m tutorial_replay [--sdk P] [--start ISO] [--transcript FILE]`` replays the tutorial
(``tutorial_replay.replay``); ``python -m tutorial_replay run PATH [--seed FILE] [--workdir DIR]
[--sdk P] [--start ISO] [--transcript FILE] [--cell-budget SECONDS] [--quiet]`` runs a
notebook's code cells (or a script) under an emulator; see ``docs/replay.md``.

Exit status: 0 when everything ran; 1 when a cell failed or was stopped (the cell and its
traceback on stderr) or a replay check failed; 2 for a usage error (unknown option or SDK
profile, missing notebook or seed file, a file that is not a notebook: one line on stderr) or
an invalid seed (every mistake listed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from tutorial_replay.notebook import DEFAULT_CELL_BUDGET

PROG = "python -m tutorial_replay"


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (and exit status 2), help that shows the subcommand's options too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.also_help: list[argparse.ArgumentParser] = []

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def format_help(self) -> str:
        parts = [super().format_help()]
        parts.extend("\n" + sub.format_help() for sub in self.also_help)
        return "".join(parts)


def _profile(text: str) -> str:
    from emulator.emulator import EmulatorError, normalise_profile

    try:
        return normalise_profile(text)
    except EmulatorError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _instant(text: str) -> str:
    from emulator.clock import to_utc

    try:
        to_utc(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant (e.g. 2023-05-10T21:00:00Z)"
        ) from None
    return text


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"not a file: {text}")
    return path


def _workdir(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"not a directory: {text}")
    return path


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def _shared_options(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument("--sdk", type=_profile, default=default, metavar="PROFILE",
                        help="SDK profile of `import wallaroo`: 2023.2 or 2026.1 (2025.2, newest and latest "
                             "mean 2026.1), or installed (the real wallaroo package over the emulated wire); "
                             "default: the seed's, else 2023.2")
    parser.add_argument("--start", type=_instant, default=default, metavar="ISO",
                        help="ISO 8601 instant the virtual clock starts at; default: the seed's, else "
                             "2023-05-10T21:00:00Z")
    parser.add_argument("--transcript", type=Path, default=default, metavar="FILE",
                        help="also write the transcript (every step or cell with its output) to FILE")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Without a subcommand: replay the house-price BigQuery tutorial end to end, offline, "
                    "and print its transcript. With `run`: run a notebook or script under the emulator.",
        epilog="Exit status: 0 ok; 1 a cell failed, was stopped, or a replay check failed; 2 usage error "
               "or invalid seed.",
    )
    _shared_options(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="{run}")
    run = sub.add_parser(
        "run",
        prog=f"{PROG} run",
        help="run a notebook's code cells (or a .py script) under an emulator",
        description="Run a notebook's code cells (or a .py script, `# %%` splits cells) in order under a "
                    "fresh emulator, in one namespace, as a kernel would.",
    )
    run.add_argument("path", type=_existing_file, metavar="PATH", help="a .ipynb notebook or a .py script")
    run.add_argument("--seed", type=_existing_file, metavar="FILE",
                     help="seed file (YAML or JSON) applied before the first cell")
    run.add_argument("--workdir", type=_workdir, metavar="DIR",
                     help="working directory of the code, where the seed writes its files (default: PATH's folder)")
    _shared_options(run, argparse.SUPPRESS)
    run.add_argument("--cell-budget", type=_budget, default=DEFAULT_CELL_BUDGET, metavar="SECONDS",
                     help=f"virtual seconds one cell may consume before it is stopped as stuck "
                          f"(default {DEFAULT_CELL_BUDGET:g}: 6 virtual hours)")
    run.add_argument("--quiet", action="store_true", help="do not echo cell outputs while running")
    parser.also_help.append(run)
    return parser


def run_command(args: argparse.Namespace) -> int:
    from tutorial_replay.ipynb import NotebookFormatError
    from tutorial_replay.notebook import run_notebook
    from tutorial_replay.seed import SeedError

    try:
        result = run_notebook(
            args.path,
            seed=args.seed,
            workdir=args.workdir,
            sdk=args.sdk,
            start=args.start,
            budget=args.cell_budget,
            echo=None if args.quiet else sys.stdout,
        )
    except SeedError as exc:
        print(exc, file=sys.stderr)
        return 2
    except NotebookFormatError as exc:
        print(f"{PROG} run: error: {exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"{PROG} run: error: {args.path}: not UTF-8 text ({exc.reason})", file=sys.stderr)
        return 2
    if args.transcript is not None:
        args.transcript.parent.mkdir(parents=True, exist_ok=True)
        args.transcript.write_text(result.transcript(), encoding="utf-8")
    failed = result.failed
    if failed is not None:
        print(failed.error.rstrip("\n"), file=sys.stderr)
        return 1
    print(f"ran {len(result.cells)} cells of {args.path.name}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed on one line
        return int(exc.code or 0)
    if args.command == "run":
        return run_command(args)
    from tutorial_replay import replay

    return replay.run_replay(sdk=args.sdk or "2023.2", start=args.start, transcript=args.transcript)


if __name__ == "__main__":
    sys.exit(main())
