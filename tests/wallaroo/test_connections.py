"""Connections: unique names, details, workspace links, per-profile errors, HTML with hidden details."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.emulator import Emulator

DETAILS = {"type": "service_account", "project_id": "proj", "private_key": "secret", "dataset": "d", "table": "t"}


def test_create_get_list(wl: Any, workspace: Any, wallaroo: Any, emu: Emulator) -> None:
    conn = wl.create_connection("bq-in", "BIGQUERY", DETAILS)
    assert isinstance(conn, wallaroo.connection.Connection)
    assert conn.name() == "bq-in" and conn.connection_type() == "BIGQUERY"
    assert conn.details() == DETAILS
    assert conn.created_at() == emu.clock.now().isoformat()
    got = wl.get_connection(name="bq-in")
    assert got.id() == conn.id()
    assert [c.name() for c in wl.list_connections()] == ["bq-in"]
    assert isinstance(wl.list_connections(), wallaroo.connection.ConnectionList)


def test_unique_names(wl: Any) -> None:
    wl.create_connection("c", "HTTP", {})
    with pytest.raises(Exception, match=r"^This connection already exists.  Please choose a different connection name.$"):
        wl.create_connection("c", "HTTP", {})


def test_missing_connection_error_per_profile(wl: Any, wallaroo: Any, emu: Emulator) -> None:
    from wallaroo.object import RequiredAttributeMissing

    if emu.sdk == "2023.2":
        with pytest.raises(RequiredAttributeMissing, match="Connection: Missing required attribute 'id' in response"):
            wl.get_connection("nope")
    else:
        with pytest.raises(Exception, match="Failed to get connection") as info:
            wl.get_connection("nope")
        assert not isinstance(info.value, RequiredAttributeMissing)


def test_tutorial_helper_pattern(wl: Any, emu: Emulator) -> None:
    from wallaroo.object import RequiredAttributeMissing

    def get_connection(name: str) -> Any:
        try:
            return wl.get_connection(name)
        except RequiredAttributeMissing:
            return wl.create_connection(name, "BIGQUERY", DETAILS)

    if emu.sdk == "2023.2":
        first = get_connection("x")
        assert get_connection("x").id() == first.id()


def test_workspace_links(wl: Any, workspace: Any) -> None:
    wl.create_connection("a", "T", {"k": 1})
    wl.create_connection("b", "T", {"k": 2})
    assert list(workspace.list_connections()) == []
    assert workspace.add_connection("a") is None
    workspace.add_connection("b")
    workspace.add_connection("b")  # idempotent
    assert [c.name() for c in workspace.list_connections()] == ["a", "b"]
    assert wl.get_connection("a").workspace_names() == ["testworkspace"]
    assert workspace.remove_connection("a") is None
    assert [c.name() for c in workspace.list_connections()] == ["b"]
    with pytest.raises(Exception):  # noqa: B017 - the SDK raises a plain Exception or RequiredAttributeMissing
        workspace.add_connection("missing")


def test_delete(wl: Any) -> None:
    conn = wl.create_connection("gone", "T", {})
    assert conn.delete_connection() is None
    assert list(wl.list_connections()) == []
    wl.create_connection("gone", "T", {})  # the name is free again


def test_html_hides_details(wl: Any, workspace: Any) -> None:
    assert wl.list_connections()._repr_html_() == "(no connections)"
    conn = wl.create_connection("bigqueryhouseinputs", "BIGQUERY", DETAILS)
    workspace.add_connection("bigqueryhouseinputs")
    html = conn._repr_html_()
    assert "secret" not in html
    assert "<td>Details</td><td>*****</td>" in html
    assert "<td>Name</td><td>bigqueryhouseinputs</td>" in html
    assert "<td>Connection Type</td><td>BIGQUERY</td>" in html
    assert f"<td>Created At</td><td>{conn.created_at()}</td>" in html
    assert "<td>Linked Workspaces</td><td>['testworkspace']</td>" in html
    listing = workspace.list_connections()._repr_html_()
    assert listing == (
        "<table><tr><th>name</th><th>connection type</th><th>details</th><th>created at</th>"
        "<th>linked workspaces</th></tr><tr><td>bigqueryhouseinputs</td><td>BIGQUERY</td><td>*****</td>"
        f"<td>{conn.created_at()}</td><td>['testworkspace']</td></tr></table>")
    assert repr(conn).startswith("<wallaroo.connection.Connection object at")
