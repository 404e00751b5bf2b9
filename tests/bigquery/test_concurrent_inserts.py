"""insertAll from many threads through the real client: no request fails, no row is lost or doubled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from emulator import Emulator

THREADS = 8
REQUESTS = 16
ROWS = 250


def _run_threads(work: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * THREADS
    start = threading.Barrier(THREADS)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def client() -> Any:
    with Emulator() as emu:
        bq = emu.bigquery_client(project="p")
        bq.create_dataset("d")
        bq.query("CREATE TABLE d.t (thread INT64, n INT64)").result()
        yield bq


def _insert(client: Any, thread: int, row_ids: Callable[[int, int], str | None]) -> list[Any]:
    errors = []
    for request in range(REQUESTS):
        rows = [{"thread": thread, "n": request * ROWS + i} for i in range(ROWS)]
        ids = [row_ids(thread, request * ROWS + i) for i in range(ROWS)]
        errors += client.insert_rows_json("p.d.t", rows, row_ids=ids)
    return errors


def _counts(client: Any) -> tuple[int, int]:
    (row,) = client.query("SELECT COUNT(*) AS n, COUNT(DISTINCT FORMAT('%d-%d', thread, n)) AS distinct_rows "
                          "FROM d.t").result()
    return row.n, row.distinct_rows


@pytest.mark.parametrize("ids", ["unique", "none"])
def test_every_row_of_every_thread_is_stored_once(client: Any, ids: str) -> None:
    def row_ids(thread: int, n: int) -> str | None:
        return f"{thread}-{n}" if ids == "unique" else None

    results = _run_threads(lambda thread: _insert(client, thread, row_ids))
    assert results == [[]] * THREADS
    assert _counts(client) == (THREADS * REQUESTS * ROWS, THREADS * REQUESTS * ROWS)


def test_an_insert_id_sent_by_every_thread_is_stored_exactly_once(client: Any) -> None:
    # every thread sends the same rows with the same insertIds: BigQuery keeps the first of each
    def work(thread: int) -> list[Any]:
        errors = []
        for request in range(REQUESTS):
            rows = [{"thread": 0, "n": request * ROWS + i} for i in range(ROWS)]
            errors += client.insert_rows_json("p.d.t", rows, row_ids=[f"id-{r['n']}" for r in rows])
        return errors

    results = _run_threads(work)
    assert results == [[]] * THREADS
    assert _counts(client) == (REQUESTS * ROWS, REQUESTS * ROWS)
