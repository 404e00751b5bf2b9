"""``python -m emulator serve``: the emulator on 127.0.0.1 for other processes (docs/server.md)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="wallaroo-emulator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="serve BigQuery and the Wallaroo platform on 127.0.0.1",
        description="Serve the emulated BigQuery (REST + token) and Wallaroo platform (MLOps REST, GraphQL, "
                    "inference, Keycloak, plateau) on a loopback port, with the control API under /_emulator/. "
                    "Prints the URLs and the environment to export; stops on SIGINT/SIGTERM.")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: a free one, printed)")
    serve.add_argument("--seed", metavar="FILE", help="seed file (YAML/JSON) applied at start and on reset; "
                                                      "its start/sdk/seed/project are the defaults below")
    serve.add_argument("--workdir", metavar="DIR", help="where the seed writes its files (default: current directory)")
    serve.add_argument("--sdk", help="SDK profile: 2023.2 (default), 2026.1 or installed")
    serve.add_argument("--start", help="virtual start instant (ISO 8601; default 2023-05-10T21:00:00Z)")
    serve.add_argument("--id-seed", type=int, dest="id_seed", help="seed of the id generator (default 0)")
    serve.add_argument("--project", help="default Google Cloud project")
    serve.add_argument("--database", metavar="PATH", help="DuckDB file for BigQuery tables (default: memory)")
    serve.add_argument("--clock", choices=("settle", "manual"), default="settle",
                       help="settle (default): requests move the clock through platform transitions "
                            "(deploys, packaging, task launches); manual: only the control API moves it")
    serve.add_argument("--env-file", metavar="PATH", help="also write the environment exports to this file")
    serve.add_argument("--verbose", action="store_true", help="print one line per request")
    return parser


def serve_main(args: argparse.Namespace) -> int:
    from emulator.emulator import Emulator, EmulatorError
    from emulator.server import EmulatorServer, ServerError, banner, check_host, env_file_text

    try:
        check_host(args.host)
    except ServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    overrides = {"start": args.start, "sdk": args.sdk, "seed": args.id_seed, "project": args.project,
                 "database": args.database}
    seed = None
    try:
        if args.seed:
            from tutorial_replay.seed import load_seed

            seed = load_seed(args.seed)
            emu = seed.create_emulator(**overrides)
        else:
            emu = Emulator(**{k: v for k, v in overrides.items() if v is not None})
    except Exception as exc:  # noqa: BLE001 - a bad seed or argument is a message, not a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    log = (lambda line: print(line, flush=True)) if args.verbose else None
    server = EmulatorServer(emu, args.host, args.port, seed=seed, workdir=args.workdir, clock=args.clock, log=log)
    try:
        server.start()
    except (ServerError, EmulatorError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        emu.close()
        return 2
    except Exception as exc:  # noqa: BLE001
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        emu.close()
        return 2
    try:
        for line in banner(server):
            print(line, flush=True)
        if args.env_file:
            target = Path(args.env_file)
            partial = target.with_name(target.name + ".partial")
            partial.write_text(env_file_text(server.env()), encoding="utf-8")
            partial.replace(target)  # whole or absent: a script may wait for it to appear
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        emu.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("wallaroo-emulator: stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve_main(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
