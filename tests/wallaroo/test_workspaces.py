"""Workspaces: create, list, get (newest), current workspace, repr and HTML."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.emulator import Emulator


def test_create_list_and_set_current(wl: Any, wallaroo: Any) -> None:
    ws = wl.create_workspace("alpha-1")
    assert isinstance(ws, wallaroo.workspace.Workspace)
    assert isinstance(ws.id(), int)
    assert ws.name() == "alpha-1"
    assert [w.name() for w in wl.list_workspaces()] == ["alpha-1"]
    assert isinstance(wl.list_workspaces(), list)
    assert wl.set_current_workspace(ws) is ws
    assert wl.get_current_workspace().id() == ws.id()
    with pytest.raises(TypeError):
        wl.set_current_workspace("alpha-1")


def test_invalid_and_duplicate_names(wl: Any, wallaroo: Any) -> None:
    with pytest.raises(wallaroo.object.InvalidNameError, match="Name 'bad name' is invalid"):
        wl.create_workspace("bad name")
    wl.create_workspace("dup")
    with pytest.raises(Exception, match="dup"):
        wl.create_workspace("dup")


def test_ids_are_deterministic(profile: str) -> None:
    seen = []
    for _ in range(2):
        with Emulator(sdk=profile, seed=5):
            import wallaroo

            wl = wallaroo.Client(auth_type="test_auth")
            seen.append([wl.create_workspace(f"w{i}").id() for i in range(3)])
    assert seen[0] == seen[1] == [1, 2, 3]


def test_get_workspace_newest_only(wl: Any, emu: Emulator) -> None:
    if emu.sdk == "2023.2":
        with pytest.raises(AttributeError):
            wl.get_workspace("x")
        return
    with pytest.raises(Exception, match="Workspace with name nope does not exist. If you would like to create one"):
        wl.get_workspace("nope")
    created = wl.get_workspace(name="nope", create_if_not_exist=True)
    assert created.name() == "nope"
    assert wl.get_workspace("nope").id() == created.id()


def test_repr_and_html(wl: Any, house_model: Any, workspace: Any) -> None:
    wl.build_pipeline("pipe")
    text = repr(workspace)
    data = eval(text)  # str(dict) of to_json()
    assert list(data) == ["name", "id", "archived", "created_by", "created_at", "models", "pipelines"]
    assert data["name"] == "testworkspace" and data["models"] == ["housemodel"] and data["pipelines"] == ["pipe"]
    html = wl.list_workspaces()._repr_html_()
    assert html.startswith("<table><tr><th>Name</th><th>Created At</th><th>Users</th><th>Models</th>"
                           "<th>Pipelines</th></tr>")
    assert "<td>testworkspace</td>" in html and "<td>1</td><td>1</td>" in html
    assert workspace.pipelines()[0].name() == "pipe"
    assert [m.name() for m in workspace.models()] == ["housemodel"]
