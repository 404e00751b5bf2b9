"""The channel between an isolated task run and its parent emulator, and the objects reached over it.

One ``AF_UNIX`` stream socket per run. Messages are length-prefixed pickles; the child sends a
request and blocks until the parent answers. Every answer carries the parent's virtual instant
(integer microseconds since the epoch), so the child's clock is exact after every exchange.

**Remote objects.** The platform's backend lives in the parent (one backend: no copy, no
synchronisation). The child reaches it through :class:`RemoteObject` proxies: pickling in the
parent replaces every object of an ``emulator.*`` class (records, stores, the backend itself;
not exceptions, not enums), every lambda, local function and bound method by a *handle*
(``reducer_override``), and the child's unpickler turns handles into proxies. A function of the
child handed to the parent (``backend.retrying_unavailable(lambda: ...)``) travels the other way:
calling it in the parent asks the child to call it, while the parent keeps answering the child.
A proxy forwards attribute reads and writes, calls, item access, ``len``, iteration, ``in``, ``==``, ``repr`` and ``bool``; the same
remote object always gives the same proxy (``is`` holds). Methods of a remote class are known
to the child from the handle (the class's method names travel with it), so ``backend.pipeline(7)``
is one exchange. Everything else (str, numbers, datetimes, containers, DataFrames, Arrow tables,
exceptions) travels by value; containers are copies (the facade reads them, it does not mutate
backend state through them). Exceptions raised in the parent are raised again in the child.
"""

from __future__ import annotations

import enum
import io
import pickle
import socket
import struct
import types
from collections.abc import Callable
from typing import Any

_LENGTH = struct.Struct("!Q")


class ChannelClosed(Exception):
    """The other end of a run's channel is gone."""


def send(sock: socket.socket, obj: Any, pickler: Callable[[Any], bytes] | None = None) -> None:
    data = pickler(obj) if pickler is not None else pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_LENGTH.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise ChannelClosed("the other end of the run channel closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_bytes(sock: socket.socket) -> bytes:
    (length,) = _LENGTH.unpack(_recv_exact(sock, _LENGTH.size))
    return _recv_exact(sock, length)


# ------------------------------------------------------------------------------------------
# Parent side: handles for objects that stay in the parent
# ------------------------------------------------------------------------------------------

_method_names: dict[type, frozenset[str]] = {}


def method_names(cls: type) -> frozenset[str]:
    """Names of the plain methods of ``cls`` (what a proxy may call without reading the attribute)."""
    names = _method_names.get(cls)
    if names is None:
        found: set[str] = set()
        for klass in cls.__mro__:
            if klass is object:
                continue
            for name, value in vars(klass).items():
                if not name.startswith("__") and isinstance(value, types.FunctionType):
                    found.add(name)
        names = _method_names[cls] = frozenset(found)
    return names


def pickles_by_reference(func: Any) -> bool:
    """Whether pickle can name ``func`` (a module-level function: ``numpy``'s reconstructors...)."""
    if not isinstance(func, types.FunctionType | types.BuiltinFunctionType):
        return False
    import sys

    target: Any = sys.modules.get(getattr(func, "__module__", None) or "")
    for part in (getattr(func, "__qualname__", "") or "").split("."):
        target = getattr(target, part, None)
        if target is None:
            return False
    return target is func


def is_local_callable(obj: Any) -> bool:
    """A lambda, local function or bound method: it cannot travel, it is called where it lives."""
    if isinstance(obj, types.MethodType):
        return True
    return isinstance(obj, types.FunctionType) and not pickles_by_reference(obj)


def is_remote_kind(obj: Any) -> bool:
    """Whether ``obj`` stays in the parent and is reached by handle (see the module docstring)."""
    if isinstance(obj, types.FunctionType | types.MethodType):
        return is_local_callable(obj)
    cls = type(obj)
    module = cls.__module__ or ""
    if not module.startswith("emulator."):
        return False
    return not isinstance(obj, BaseException | enum.Enum | type)


class ChildCallable:
    """A function of the child handed to the parent (``backend.retrying_unavailable(lambda: ...)``):
    calling it asks the child to call it, serving the child's own requests meanwhile."""

    def __init__(self, call_child: Callable[[int, tuple[Any, ...], dict[str, Any]], Any], key: int) -> None:
        self._call_child = call_child
        self.key = key

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call_child(self.key, args, kwargs)


class Handles:
    """The parent's table of objects a child holds handles to (kept alive for the run)."""

    def __init__(self, roots: list[Any], call_child: Callable[..., Any] | None = None) -> None:
        self.objects: list[Any] = list(roots)  # handle i < len(roots): the i-th root, known to the child
        self._ids: dict[int, int] = {id(root): i for i, root in enumerate(roots)}
        self.call_child = call_child

    def handle(self, obj: Any) -> int:
        key = id(obj)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.objects)
            self.objects.append(obj)
        return found

    def dumps(self, obj: Any) -> bytes:
        buffer = io.BytesIO()
        pickler = _ParentPickler(buffer, self)
        pickler.dump(obj)
        return buffer.getvalue()

    def loads(self, data: bytes) -> Any:
        return _ParentUnpickler(io.BytesIO(data), self).load()


def _ref(pid: Any) -> Any:
    """What a handle is pickled as (``_ref(pid)``): each side's unpickler resolves it in its own table.

    A ``reducer_override`` rather than ``persistent_id``: pickle never calls it for plain ints,
    floats, strings, lists and dicts, so a DataFrame of a thousand rows does not cost a Python call
    per cell."""
    raise pickle.UnpicklingError("a remote-object handle outside a task run's channel")


_REF_PATH = (__name__, "_ref")


class _ParentPickler(pickle.Pickler):
    def __init__(self, file: Any, handles: Handles) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.handles = handles

    def reducer_override(self, obj: Any) -> Any:  # noqa: D102
        if type(obj) is ChildCallable:
            return _ref, (("cb", obj.key),)
        if is_remote_kind(obj):
            cls = type(obj)
            methods = frozenset() if isinstance(obj, types.FunctionType | types.MethodType) else method_names(cls)
            return _ref, ((self.handles.handle(obj), methods),)
        return NotImplemented


class _RefUnpickler(pickle.Unpickler):
    """Reads the references the other side's pickler wrote as ``_ref(pid)`` through :meth:`persistent_load`."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102
        if (module, name) == _REF_PATH:
            return self.persistent_load
        return super().find_class(module, name)


class _ParentUnpickler(_RefUnpickler):
    def __init__(self, file: Any, handles: Handles) -> None:
        super().__init__(file)
        self.handles = handles

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102
        if isinstance(pid, tuple):
            if self.handles.call_child is None:
                raise pickle.UnpicklingError("a task run sent a function, but this channel takes none")
            return ChildCallable(self.handles.call_child, pid[1])
        return self.handles.objects[pid]


def safe_exception(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a ``RuntimeError`` naming it."""
    try:
        pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")


def serve_request(handles: Handles, op: str, args: tuple[Any, ...]) -> Any:
    """Carry out one remote-object operation in the parent."""
    target = handles.objects[args[0]]
    if op == "getattr":
        return getattr(target, args[1])
    if op == "callmethod":
        return getattr(target, args[1])(*args[2], **args[3])
    if op == "call":
        return target(*args[1], **args[2])
    if op == "setattr":
        setattr(target, args[1], args[2])
        return None
    if op == "getitem":
        return target[args[1]]
    if op == "setitem":
        target[args[1]] = args[2]
        return None
    if op == "len":
        return len(target)
    if op == "iter":
        return list(target)
    if op == "contains":
        return args[1] in target
    if op == "eq":
        return target == args[1]
    if op == "repr":
        return repr(target)
    if op == "str":
        return str(target)
    if op == "bool":
        return bool(target)
    raise ValueError(f"unknown remote operation {op!r}")


# ------------------------------------------------------------------------------------------
# Child side: proxies
# ------------------------------------------------------------------------------------------


class RemoteObject:
    """A proxy of an object living in the parent emulator (see the module docstring)."""

    __slots__ = ("_rpc", "_handle", "_methods", "__weakref__")

    def __init__(self, rpc: Any, handle: int, methods: frozenset[str]) -> None:
        object.__setattr__(self, "_rpc", rpc)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_methods", methods)

    def __reduce__(self) -> Any:
        raise TypeError("a remote object travels by handle only")

    def _ask(self, op: str, *args: Any) -> Any:
        return self._rpc.remote(op, (self._handle, *args))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        if name in self._methods:
            return _RemoteMethod(self, name)
        return self._ask("getattr", name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask("setattr", name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._ask("call", args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._ask("getitem", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ask("setitem", key, value)

    def __len__(self) -> int:
        return self._ask("len")

    def __iter__(self) -> Any:
        return iter(self._ask("iter"))

    def __contains__(self, item: Any) -> bool:
        return self._ask("contains", item)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RemoteObject):
            if other._handle == self._handle:
                return True
        return self._ask("eq", other)

    def __hash__(self) -> int:
        return hash(("remote", self._handle))

    def __bool__(self) -> bool:
        return self._ask("bool")

    def __repr__(self) -> str:
        return self._ask("repr")

    def __str__(self) -> str:
        return self._ask("str")


class _RemoteMethod:
    __slots__ = ("_owner", "_name")

    def __init__(self, owner: RemoteObject, name: str) -> None:
        self._owner = owner
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner = self._owner
        return owner._rpc.remote("callmethod", (owner._handle, self._name, args, kwargs))

    def __repr__(self) -> str:
        return f"<remote method {self._name}>"


class ChildCodec:
    """The child's pickling: proxies go out as handles, handles come in as (cached) proxies."""

    def __init__(self, rpc: Any) -> None:
        self.rpc = rpc
        self.proxies: dict[int, RemoteObject] = {}
        self.callbacks: dict[int, Any] = {}

    def proxy(self, handle: int, methods: frozenset[str]) -> RemoteObject:
        found = self.proxies.get(handle)
        if found is None:
            found = self.proxies[handle] = RemoteObject(self.rpc, handle, methods)
        return found

    def dumps(self, obj: Any) -> bytes:
        buffer = io.BytesIO()
        _ChildPickler(buffer, self).dump(obj)
        return buffer.getvalue()

    def loads(self, data: bytes) -> Any:
        return _ChildUnpickler(io.BytesIO(data), self).load()


class _ChildPickler(pickle.Pickler):
    def __init__(self, file: Any, codec: ChildCodec) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.codec = codec

    def reducer_override(self, obj: Any) -> Any:  # noqa: D102
        if type(obj) is RemoteObject:
            return _ref, (object.__getattribute__(obj, "_handle"),)
        if isinstance(obj, types.FunctionType | types.MethodType) and is_local_callable(obj):
            key = id(obj)
            self.codec.callbacks[key] = obj
            return _ref, (("cb", key),)
        return NotImplemented


class _ChildUnpickler(_RefUnpickler):
    def __init__(self, file: Any, codec: ChildCodec) -> None:
        super().__init__(file)
        self.codec = codec

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102
        if pid[0] == "cb":
            return self.codec.callbacks[pid[1]]
        handle, methods = pid
        return self.codec.proxy(handle, methods)
