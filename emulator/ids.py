"""Deterministic identifiers: every id an emulator hands out comes from its seeded generator.

The same seed and the same sequence of calls give the same ids, so transcripts, logs and
results are byte-identical between runs. Separate streams per kind of id keep one feature's
ids stable when another feature draws more of them.

Also here: :func:`stable_number` (a number derived from a name, the same in every process,
unlike the salted ``hash()``), and :func:`seed_client_uuid4`, which makes the uuid4 ids that
google-cloud-bigquery draws on the client side (job ids, insert ids) come from an emulator's
seeded ids while it is active.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import sys
import uuid
from collections.abc import Callable

#: Modules whose ``uuid.uuid4()`` calls draw from the active emulator's ids.
SEEDED_UUID_CALLERS = ("google.cloud.bigquery",)


class IdGenerator:
    """Seeded source of uuids, hex tokens and per-kind integer sequences."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}
        self._counters: dict[str, itertools.count] = {}

    def _stream(self, kind: str) -> random.Random:
        rng = self._streams.get(kind)
        if rng is None:
            digest = hashlib.sha256(f"{self.seed}:{kind}".encode()).digest()
            rng = self._streams[kind] = random.Random(int.from_bytes(digest[:8], "big"))
        return rng

    def uuid4(self, kind: str = "uuid") -> str:
        """A version-4 UUID string drawn from the ``kind`` stream."""
        return str(self.uuid(kind))

    def uuid(self, kind: str = "uuid") -> uuid.UUID:
        """A version-4 :class:`uuid.UUID` drawn from the ``kind`` stream."""
        return uuid.UUID(int=self._stream(kind).getrandbits(128), version=4)

    def hex(self, nbytes: int = 16, kind: str = "hex") -> str:
        return self._stream(kind).getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def next_int(self, kind: str, start: int = 1) -> int:
        """The next integer of a per-kind sequence (1, 2, 3, ... by default)."""
        counter = self._counters.get(kind)
        if counter is None:
            counter = self._counters[kind] = itertools.count(start)
        return next(counter)

    def random(self, kind: str = "random") -> random.Random:
        """A seeded ``random.Random`` for callers that need their own draws."""
        return self._stream(kind)


def stable_number(name: str, digits: int = 12) -> int:
    """A ``digits``-digit number derived from ``name``: the same in every process and run.

    For numbers the real services derive from a name (a project's ``numericId``); Python's
    ``hash()`` of a string is salted per process, so it must never reach an output.
    """
    low = 10 ** (digits - 1)
    value = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return low + value % (9 * low)


def seed_client_uuid4(ids: IdGenerator, callers: tuple[str, ...] = SEEDED_UUID_CALLERS) -> Callable[[], None]:
    """Make ``uuid.uuid4()`` called from ``callers`` modules draw from ``ids``; returns the undo.

    google-cloud-bigquery names jobs (``make_job_id``) and rows (``insertId``) with
    ``uuid.uuid4()`` on the client side; a job id shows up in the client's error messages
    ("Job ID: ..."), so transcripts would differ between runs. Only calls whose direct caller is
    one of ``callers`` are seeded (from the ``client-uuid4`` stream); every other caller keeps
    real random uuids. Code that imported the function itself (``from uuid import uuid4``)
    is not affected.
    """
    original = uuid.uuid4

    def uuid4() -> uuid.UUID:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith(callers):
            return ids.uuid("client-uuid4")
        return original()

    uuid4.__doc__ = original.__doc__
    uuid.uuid4 = uuid4  # type: ignore[assignment]

    def restore() -> None:
        if uuid.uuid4 is uuid4:
            uuid.uuid4 = original  # type: ignore[assignment]

    return restore
