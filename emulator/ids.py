"""Deterministic identifiers: every id an emulator hands out comes from its seeded generator.

The same seed and the same sequence of calls give the same ids, so transcripts, logs and
results are byte-identical between runs. Separate streams per kind of id keep one feature's
ids stable when another feature draws more of them.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import uuid


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
        return str(uuid.UUID(int=self._stream(kind).getrandbits(128), version=4))

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
