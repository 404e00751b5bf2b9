"""``emulator.clock.driving``: a thread other than the driving one moves the clock for a block."""

from __future__ import annotations

import threading
import time

from emulator import Emulator
from emulator.clock import driving, real_monotonic


def test_a_helper_thread_drives_the_clock_inside_the_block() -> None:
    with Emulator() as emu:
        start = emu.clock.now()
        seen: dict[str, float] = {}

        def helper() -> None:
            began = real_monotonic()
            with driving(emu.clock):
                time.sleep(600)  # virtual: at once
            seen["inside"] = (emu.clock.now() - start).total_seconds()
            seen["real"] = real_monotonic() - began
            time.sleep(0.05)  # outside the block: a helper's sleep waits (real time) and moves nothing
            seen["after"] = (emu.clock.now() - start).total_seconds()

        worker = threading.Thread(target=helper)
        worker.start()
        while worker.is_alive():  # not join(): a join would let the helper move the clock on our behalf
            threading.Event().wait(0.01)
        assert seen["inside"] == 600 and seen["real"] < 5 and seen["after"] == 600


def test_outside_an_emulator_nothing_changes() -> None:
    with driving():
        began = real_monotonic()
        time.sleep(0.01)
        assert real_monotonic() - began >= 0.009
