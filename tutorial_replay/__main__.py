"""``python -m tutorial_replay``: replay the house-price tutorial, or ``run`` a notebook or script.

``python -m tutorial_replay`` (no subcommand) replays the tutorial (``tutorial_replay.replay``);
``python -m tutorial_replay run PATH [--seed FILE] [--workdir DIR] [--sdk P] [--start ISO]
[--transcript FILE] [--cell-budget SECONDS] [--quiet]`` runs a notebook's code cells (or a script)
under an emulator; see ``docs/replay.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tutorial_replay.notebook import DEFAULT_CELL_BUDGET


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tutorial_replay",
        description="Replay the house-price tutorial under the emulator, or run a notebook or script.",
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a notebook's code cells (or a .py script) under an emulator")
    run.add_argument("path", type=Path, help="a .ipynb notebook or a .py script")
    run.add_argument("--seed", type=Path, help="seed file (YAML) applied before the first cell")
    run.add_argument("--workdir", type=Path, help="working directory (default: the notebook's folder)")
    run.add_argument("--sdk", help="SDK: the facade profiles 2023.2 or 2026.1, or installed (the real "
                     "wallaroo package over the emulated wire); overrides the seed")
    run.add_argument("--start", help="ISO instant the virtual clock starts at (overrides the seed)")
    run.add_argument("--transcript", type=Path, help="write the cells' sources and outputs to this file")
    run.add_argument(
        "--cell-budget",
        type=float,
        default=DEFAULT_CELL_BUDGET,
        help=f"virtual seconds one cell may consume before it is stopped as stuck (default {DEFAULT_CELL_BUDGET:g})",
    )
    run.add_argument("--quiet", action="store_true", help="do not echo cell outputs while running")
    return parser


def run_command(args: argparse.Namespace) -> int:
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
    if argv and argv[0] == "run":
        return run_command(_parser().parse_args(argv))
    if argv and argv[0] in ("-h", "--help"):
        _parser().print_help()
        print("\nWithout a subcommand: replay the tutorial (options: --sdk 2023.2|2026.1|installed, --start ISO, "
              "--transcript FILE).")
        return 0
    from tutorial_replay import replay

    return int(replay.main(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
