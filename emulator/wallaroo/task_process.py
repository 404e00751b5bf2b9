"""Inside an isolated task run: the child process that executes one orchestration's ``main.py``.

Forked from the warm fork server (:mod:`emulator.wallaroo.forkserver`), the child:

* reads its run description from the run channel (:mod:`emulator.wallaroo.remote`), takes the
  run's environment as its whole ``os.environ`` (the parent's environment at the run's start,
  plus ``WALLAROO_TASK_ID``, the task's ``extra_env_vars``, and ``WALLAROO_URL``/
  ``BIGQUERY_EMULATOR_HOST`` naming the parent's 127.0.0.1 server when it runs);
* copies the extracted archive into its own fresh working directory (a stable path per run,
  chosen by the parent), ``chdir``s into the entry point's folder and puts it first on
  ``sys.path``; modules the archive defines that the fork server had imported under the same
  names are forgotten first, so the archive's own modules win, as with ``python main.py``;
* becomes a **client-side emulator** (:class:`ChildEmulator`): its clock is a proxy of the
  parent's (reads are local and exact, ``time.sleep`` asks the parent, which advances the one
  timeline and answers with the new instant); HTTP of ``requests``/``httpx``/``urllib`` is
  decided by a copy of the parent's routing table and answered by the parent's routes over the
  channel; ``BigQueryReadClient`` is answered by the parent's Storage Read service over the
  channel; the facade's platform backend is a :class:`~emulator.wallaroo.remote.RemoteObject` of
  the parent's; the real SDK (``sdk="installed"``) goes over HTTP as it does in the parent.
  So there is one backend, in the parent, and every answer comes from the parent's thread that
  waits for this run (deterministic, no locking);
* runs the entry point as ``__main__`` (compiled from bytes, so a PEP 263 coding cookie is
  honoured) under ``/home/jovyan/main.py``; stdout and stderr are file descriptors 1 and 2 (pipes
  the parent frames into the run log), line-buffered, and flushed before every request to the
  parent so each line is stamped with the instant it was written at;
* reports the outcome and ends with ``os._exit`` (no interpreter shutdown: threads the code left
  running end with it, ``atexit`` handlers do not run).
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import pickle
import shutil
import socket
import sys
import threading
import traceback
import types
from pathlib import Path
from typing import Any

from emulator.wallaroo import remote

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


class Rpc:
    """The child's end of the run channel: one request at a time, the answer carries the instant."""

    def __init__(self, sock: socket.socket, now_us: int) -> None:
        self.sock = sock
        self.codec = remote.ChildCodec(self)
        self.lock = threading.RLock()
        self.now_us = now_us
        self.now = _EPOCH + _dt.timedelta(microseconds=now_us)
        self.streams: list[Any] = []

    def flush(self) -> None:
        for stream in (*self.streams, sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a stream user code broke or closed
                pass

    def _set_now(self, now_us: int) -> None:
        if now_us != self.now_us:
            self.now_us = now_us
            self.now = _EPOCH + _dt.timedelta(microseconds=now_us)

    def request(self, op: str, args: tuple[Any, ...]) -> Any:
        with self.lock:
            self.flush()
            remote.send(self.sock, (op, args), self.codec.dumps)
            while True:
                kind, *rest = self.codec.loads(remote.recv_bytes(self.sock))
                if kind == "callback":  # the parent calls one of our functions before it answers
                    key, cb_args, cb_kwargs, now_us = rest
                    self._set_now(now_us)
                    try:
                        answer: tuple[Any, ...] = (True, self.codec.callbacks[key](*cb_args, **cb_kwargs))
                    except BaseException as exc:  # noqa: BLE001 - travels to the parent, raised there
                        answer = (False, remote.safe_exception(exc))
                    self.flush()
                    remote.send(self.sock, ("cbdone", answer), self.codec.dumps)
                    continue
                ok, value, now_us = rest
                self._set_now(now_us)
                break
        if not ok:
            raise value
        return value

    def remote(self, op: str, args: tuple[Any, ...]) -> Any:
        return self.request("remote", (op, args))


class ClockProxy:
    """The parent's virtual clock as seen from the child (:class:`emulator.clock.ClockLike`).

    Made (and activated) in the fork server before there is a channel: it reads the epoch until
    the child gives it its run's channel."""

    def __init__(self, rpc: Rpc | None) -> None:
        self._rpc = rpc

    def now(self) -> _dt.datetime:
        return self._rpc.now if self._rpc is not None else _EPOCH

    def utcnow_naive(self) -> _dt.datetime:
        return self.now().replace(tzinfo=None)

    def timestamp(self) -> float:
        return self._rpc.now_us / 1_000_000 if self._rpc is not None else 0.0

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        if self._rpc is None:
            raise RuntimeError("no task run yet: the fork server's clock does not move")
        self._rpc.request("sleep", (float(seconds),))

    def advance(self, delta: float | _dt.timedelta) -> _dt.datetime:
        seconds = delta.total_seconds() if isinstance(delta, _dt.timedelta) else float(delta)
        self.sleep(seconds)
        return self.now()

    def __repr__(self) -> str:
        return f"<ClockProxy now={self.now().isoformat()}>"


class IdsProxy:
    """The parent's seeded ids; ``uuid("client-uuid4")`` is fetched in batches (one stream, same order)."""

    BATCH = 256

    def __init__(self, rpc: Rpc, remote_ids: Any, seed: int) -> None:
        self._rpc = rpc
        self._remote = remote_ids
        self.seed = seed
        self._cache: dict[str, list[Any]] = {}

    def uuid(self, kind: str = "uuid") -> Any:
        if kind == "client-uuid4":
            cached = self._cache.setdefault(kind, [])
            if not cached:
                cached.extend(reversed(self._rpc.request("uuids", (kind, self.BATCH))))
            return cached.pop()
        return self._remote.uuid(kind)

    def uuid4(self, kind: str = "uuid") -> str:
        return str(self.uuid(kind))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._remote, name)


class RemoteReadService:
    """The parent's BigQuery Storage Read service (raw protobuf messages travel serialized)."""

    def __init__(self, rpc: Rpc) -> None:
        self._rpc = rpc

    def _ask(self, name: str, request: Any) -> Any:
        from emulator.bigquery.storage.inprocess import storage_message_classes

        answer = self._rpc.request("storage", (name, request.SerializeToString()))
        response_class = storage_message_classes()[name][1]
        if name == "read_rows":
            return iter([response_class.FromString(item) for item in answer])
        return response_class.FromString(answer)

    def create_read_session(self, request: Any) -> Any:
        return self._ask("create_read_session", request)

    def read_rows(self, request: Any) -> Any:
        return self._ask("read_rows", request)

    def split_read_stream(self, request: Any) -> Any:
        return self._ask("split_read_stream", request)


def _router_class() -> type:
    from emulator.transport import Response, Router

    class ChildRouter(Router):
        """The parent's routing decisions, answered by the parent's routes over the channel."""

        rpc: Rpc | None = None

        def dispatch(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Response:
            assert self.rpc is not None
            status, payload, answer_headers = self.rpc.request("http", (method, url, dict(headers), bytes(body)))
            return Response(status, payload, answer_headers)

    return ChildRouter


def _fill_router(router: Any, spec: dict[str, Any], rpc: Rpc) -> Any:
    """Give ``router`` the parent's routing tables (a copy: decisions are made in the child)."""
    router.rpc = rpc
    router.policy._patterns = list(spec["allow_patterns"])
    router._hosts = dict(spec["hosts"])
    if hasattr(router, "_path_hosts"):  # the 127.0.0.1 server's own address, told apart by path
        router._path_hosts = dict(spec["path_hosts"])
    router._path_rules = list(spec["path_rules"])
    router._host_patterns = list(spec["host_patterns"])
    router._static = list(spec["static"])
    return router


#: What the fork server set up before forking (:func:`prepare`): patches that do not depend on a
#: run, installed once, so a child only fills in its run's details.
_template: dict[str, Any] = {}


def prepare() -> None:
    """Install, in the fork server, the run-independent part of the client-side emulator.

    The HTTP interceptions (around a router whose tables and channel each child fills in), the
    socket guard, the Storage Read stand-in (patched now or when the storage client is first
    imported), the seeded client uuid4s, the pandas-gbq warning filters and the process clock (a
    proxy without a channel yet): forked children inherit all of it installed, which saves most
    of a run's set-up time (in a forked child, every page it writes is copied).
    """
    from emulator import clock as clock_module
    from emulator.bigquery.client_warnings import silence_pandas_gbq_nags
    from emulator.bigquery.storage.inprocess import install as install_storage
    from emulator.ids import seed_client_uuid4
    from emulator.network import NetworkPolicy, push_socket_guard
    from emulator.transport import interceptions

    if _template:
        return
    router = _router_class()(NetworkPolicy())
    for interception in interceptions(router):
        interception.start()
    push_socket_guard(router.policy)
    storage = RemoteReadService(None)  # type: ignore[arg-type]
    install_storage(storage)
    ids = IdsProxy(None, None, 0)  # type: ignore[arg-type]
    seed_client_uuid4(ids)  # type: ignore[arg-type]
    silence_pandas_gbq_nags()
    _skip_rsa_key_validation()
    clock = ClockProxy(None)
    clock_module.install_process_clock(clock)
    _template.update(router=router, storage=storage, ids=ids, clock=clock)
    _modules_by_top_level()


def _skip_rsa_key_validation() -> None:
    """google-auth's RSA signer parses service-account keys without cryptography's consistency check.

    The check costs 50-100 ms per 2048-bit key and a task run's process starts without the
    parent's parsed keys (the parent hands google-auth the key objects of keys it minted,
    :func:`emulator.bigquery.auth._remember_for_google_auth`); the JWTs are only read by the
    emulator. A PEM this fails on goes to google-auth's own parser (and its error).
    """
    try:
        from cryptography.hazmat.primitives import serialization
        from google.auth.crypt import _cryptography_rsa
    except ImportError:  # pragma: no cover - no cryptography backend: nothing to spare
        return
    signer = _cryptography_rsa.RSASigner
    current = signer.__dict__.get("from_string")
    if not isinstance(current, classmethod):  # pragma: no cover - another google-auth layout
        return
    original = current.__func__

    def from_string(cls: Any, key: Any, key_id: Any = None) -> Any:
        data = key.encode("utf-8") if isinstance(key, str) else key
        if isinstance(data, bytes) and b"PRIVATE KEY-----" in data:
            try:
                loaded = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
            except Exception:  # noqa: BLE001 - google-auth reports it its way
                return original(cls, key, key_id=key_id)
            return cls(loaded, key_id=key_id)
        return original(cls, key, key_id=key_id)

    from_string.__doc__ = original.__doc__
    signer.from_string = classmethod(from_string)


class ChildEmulator:
    """What the emulator's client-side code needs of an emulator, in a task run's process."""

    def __init__(self, spec: dict[str, Any], rpc: Rpc) -> None:
        self.sdk = spec["sdk"]
        self.sdk_source = spec["sdk_source"]
        self.sdk_version = spec.get("sdk_version")
        self.seed = spec["seed"]
        self.project = spec["project"]
        self.rpc = rpc
        prepare()  # done by the fork server already: nothing left but this run's details
        self.clock = _template["clock"]
        self.clock._rpc = rpc
        self.wallaroo = rpc.codec.proxy(0, spec["backend_methods"]) if spec["backend_methods"] is not None else None
        remote_ids = rpc.codec.proxy(1, spec["ids_methods"])
        ids = _template["ids"]
        ids._rpc, ids._remote, ids.seed = rpc, remote_ids, self.seed
        self.ids = ids
        _template["storage"]._rpc = rpc
        self.router = _fill_router(_template["router"], spec, rpc)
        self.network = self.router.policy
        self.task_runs = "isolated"

    @property
    def active(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<ChildEmulator sdk={self.sdk} now={self.clock.now().isoformat()}>"


def _activate(emu: ChildEmulator, folder: Path, run: Any) -> None:
    """Enter the client-side emulator for the rest of the process's life (nothing is undone);
    :func:`prepare` installed the rest in the fork server."""
    from emulator import emulator as emulator_module
    from emulator.wallaroo import container_paths

    container_paths.install(folder, lambda: (run.run_id, run.json_args))
    emulator_module._active = emu  # type: ignore[assignment]
    if emu.wallaroo is not None or emu.sdk_source == "installed":
        if emu.sdk_source == "installed":
            from emulator.wallaroo.installed import share_ssl_contexts

            share_ssl_contexts()
        elif "emulator.wallaroo.sdk" in sys.modules:  # preloaded by the fork server: map it now
            from emulator.wallaroo.activation import _map_facade

            _map_facade(emu)
        else:  # the light fork server: map the facade when the code first imports wallaroo
            sys.meta_path.insert(0, _FacadeOnImport(emu))


class _FacadeOnImport:
    """Maps the facade onto ``wallaroo`` the first time the run imports it (the light fork server
    has not imported it: most runs from it never do)."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "wallaroo" and not fullname.startswith("wallaroo."):
            return None
        sys.meta_path.remove(self)
        from emulator.wallaroo.activation import _map_facade

        _map_facade(self.emu)
        import importlib.util

        module = sys.modules.get(fullname)
        return importlib.util.spec_from_loader(fullname, _Existing(module)) if module is not None else None


class _Existing:
    def __init__(self, module: Any) -> None:
        self.module = module

    def create_module(self, spec: Any) -> Any:
        return self.module

    def exec_module(self, module: Any) -> None:
        pass


def _forget_shadowed_modules(entry_dir: Path) -> None:
    """Forget imported modules the archive defines under the same top-level name (the archive wins)."""
    names = set()
    for child in entry_dir.iterdir():
        if child.suffix == ".py":
            names.add(child.stem)
        elif child.is_dir() and child.name.isidentifier():
            names.add(child.name)
    names -= {"emulator", "wallaroo", "__pycache__"} | set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    by_top = _modules_by_top_level()
    for top in names:
        for name in by_top.get(top, ()):
            sys.modules.pop(name, None)


#: ``sys.modules`` grouped by top-level name, with the size and newest key it was built from
#: (built in the fork server by :func:`prepare`, so a child does not walk a thousand modules).
_by_top_level: tuple[int, str, dict[str, list[str]]] | None = None


def _modules_by_top_level() -> dict[str, list[str]]:
    global _by_top_level
    size, newest = len(sys.modules), next(reversed(sys.modules))
    if _by_top_level is None or _by_top_level[:2] != (size, newest):  # modules came or went since
        groups: dict[str, list[str]] = {}
        for name in sys.modules:
            groups.setdefault(name.split(".", 1)[0], []).append(name)
        _by_top_level = (size, newest, groups)
    return _by_top_level[2]


def _run_main(spec: dict[str, Any], rpc: Rpc, err: Any) -> dict[str, Any]:
    """Execute the entry point; the outcome (status, error, exit code), never an exception."""
    filename = spec["code_filename"]
    entry = Path(spec["entry_path"])
    raw = entry.read_bytes()
    try:
        import linecache
        import tokenize

        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        lines = raw.decode(encoding, errors="replace").splitlines(True)
        linecache.cache[filename] = (len(raw), None, lines, filename)
    except (SyntaxError, LookupError):
        pass
    module = types.ModuleType("__main__")
    import builtins

    module.__dict__.update({"__file__": str(entry), "__builtins__": builtins})
    sys.modules["__main__"] = module
    try:
        code = compile(raw, filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)
        return {"status": "success", "exit_code": 0}
    except SystemExit as exc:
        value = exc.code
        if value is None or value == 0:
            return {"status": "success", "exit_code": 0}
        if isinstance(value, int):
            return {"status": "failure", "error": f"exit status {value}", "exit_code": value}
        print(value, file=err)
        return {"status": "failure", "error": str(value), "exit_code": 1}
    except BaseException as exc:  # noqa: BLE001 - user code may raise anything, KeyboardInterrupt too
        from emulator.wallaroo.runner import traceback_lines

        for line in traceback_lines(exc, filename):
            err.write(line + "\n")
        return {"status": "failure", "error": f"{type(exc).__name__}: {exc}", "exit_code": 1}


def main(chan_fd: int, out_fd: int, err_fd: int) -> None:  # pragma: no cover - runs in the forked child
    """The child's whole life (called in the fork; never returns)."""
    code = 70
    try:
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(out_fd)
        os.close(err_fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        out = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115
        err = open(2, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)  # noqa: SIM115
        sys.stdout, sys.stderr, sys.stdin = out, err, open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.__stdout__, sys.__stderr__ = out, err  # type: ignore[misc]
        sock = socket.socket(fileno=chan_fd)
        spec = pickle.loads(remote.recv_bytes(sock))
        rpc = Rpc(sock, spec["now_us"])
        rpc.streams = [out, err]
        code = _child(spec, rpc, out, err)
    except BaseException:  # noqa: BLE001 - the emulator's own failure: on stderr, then a failed run
        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


def _child(spec: dict[str, Any], rpc: Rpc, out: Any, err: Any) -> int:
    from emulator.wallaroo.runner import RunContext, _current_run

    os.environ.clear()
    os.environ.update(spec["env"])
    # the parent copied the archive into spec["workdir"]
    entry_dir = Path(spec["entry_path"]).parent
    run = RunContext(**spec["run"])
    emu = ChildEmulator(spec, rpc)
    _activate(emu, Path(spec["scratch"]), run)
    _current_run.set(run)
    _forget_shadowed_modules(entry_dir)
    sys.path[:] = [str(entry_dir)] + [p for p in sys.path if p not in ("", os.getcwd(), str(entry_dir))]
    sys.argv = [spec["code_filename"]]
    os.chdir(entry_dir)
    outcome = _run_main(spec, rpc, err)
    rpc.flush()
    try:
        remote.send(rpc.sock, ("done", (outcome,)), rpc.codec.dumps)
    except Exception:  # noqa: BLE001 - the parent stopped listening (it killed or gave up on us)
        pass
    os.chdir("/")
    shutil.rmtree(spec["run_dir"], ignore_errors=True)  # the parent does not wait for our exit
    code = outcome.get("exit_code") or 0
    return code if isinstance(code, int) and 0 <= code < 256 else 1
