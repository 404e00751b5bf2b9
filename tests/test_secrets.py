"""No record or facade object prints a key or a token: a search of every reachable object's repr and str."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest

from emulator import Emulator
from tutorial_replay.zipfolder import zip_folder

TOKEN_MARKERS = ("ya29.", "Bearer ")


def _ours(obj: object) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith(("emulator", "wallaroo", "tutorial_replay"))


def _children(obj: object) -> list[object]:
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, list | tuple | set | frozenset):
        return list(obj)
    found: list[object] = []
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        found.extend(getattr(obj, f.name, None) for f in dataclasses.fields(obj))
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        found.extend(vars(obj).values())
    return found


def _reachable(*roots: object, limit: int = 200_000) -> list[object]:
    """Every object of ours reachable from ``roots`` through attributes and containers."""
    seen: set[int] = set()
    ours: list[object] = []
    stack = list(roots)
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type(None)):
            continue
        seen.add(id(obj))
        if _ours(obj):
            ours.append(obj)
        elif not isinstance(obj, dict | list | tuple | set | frozenset):
            continue  # third-party objects (DuckDB, numpy, locks...) are not ours to search
        stack.extend(_children(obj))
    return ours


@pytest.fixture
def busy_emulator(tmp_path):
    """An emulator holding keys and tokens everywhere they go: connections, clients, tasks."""
    with Emulator(sdk="2026.1") as emu:
        import wallaroo

        key = emu.service_account_info("secret-project", extra={"dataset": "d", "table": "t"})
        wl = wallaroo.Client()
        workspace = wl.create_workspace("secrets")
        wl.set_current_workspace(workspace)
        connection = wl.create_connection("bq-input", "BIGQUERY", key)
        workspace.add_connection("bq-input")
        folder = tmp_path / "orch"
        folder.mkdir()
        (folder / "main.py").write_text("import wallaroo\nprint(wallaroo.Client().get_connection('bq-input').name())\n")
        (folder / "requirements.txt").write_text("")
        orchestration = wl.upload_orchestration(bytes_buffer=zip_folder(folder), name="orch", file_name="orch.zip")
        while orchestration.status() != "ready":
            time.sleep(5)
        task = orchestration.run_once(name="once", json_args={})
        time.sleep(60)
        client = emu.bigquery_client()
        client.query("SELECT 1").result()
        adc = json.loads(Path(emu._adc.key_file).read_text())
        secrets = [
            key["private_key"],
            key["private_key_id"],
            adc["private_key"],
            adc["private_key_id"],
            wl.auth._bearer_token_str().removeprefix("Bearer "),
        ]
        yield emu, [wl, workspace, connection, orchestration, task, wl.list_connections(), wl.auth,
                    wl.auth._access_token(), task.last_runs()], secrets


def test_no_repr_or_str_shows_a_key_or_a_token(busy_emulator):
    emu, facades, secrets = busy_emulator
    objects = _reachable(emu, *facades)
    kinds = {type(o).__name__ for o in objects}
    assert {"ConnectionRecord", "Connection", "Client", "_PlatformAuth", "_Token", "TaskRecord"} <= kinds, kinds
    leaks = []
    for obj in objects:
        for render in (repr, str):
            try:
                text = render(obj)
            except Exception:  # noqa: BLE001 - a failing repr shows nothing
                continue
            for secret in secrets:
                fragment = secret.splitlines()[1] if "PRIVATE KEY" in secret else secret
                if "PRIVATE KEY" in text or fragment in text or any(m in text for m in TOKEN_MARKERS):
                    leaks.append(f"{render.__name__}({type(obj).__module__}.{type(obj).__qualname__})")
    assert not leaks, sorted(set(leaks))


def test_connection_record_repr_masks_the_key_but_keeps_the_rest(busy_emulator):
    emu, _, _ = busy_emulator
    record = emu.wallaroo.connection_by_name("bq-input")
    text = repr(record)
    assert "bq-input" in text and "BIGQUERY" in text and "'project_id': 'secret-project'" in text
    assert "'private_key': '*****'" in text and "'dataset': 'd'" in text
    assert record.details["private_key"].startswith("-----BEGIN PRIVATE KEY-----")  # the data is intact


def test_redacted_masks_nested_secrets_and_secret_looking_text():
    from emulator.redaction import MASK, redacted

    details = {"type": "service_account", "Private_Key": "x", "nested": [{"token": "t", "keep": 1}],
               "note": "-----BEGIN PRIVATE KEY-----\nabc", "auth": "Bearer abc", "plain": "ya"}
    assert redacted(details) == {"type": "service_account", "Private_Key": MASK, "nested": [{"token": MASK, "keep": 1}],
                                 "note": MASK, "auth": MASK, "plain": "ya"}
    assert details["Private_Key"] == "x"  # a copy: the data stays
