"""``wallaroo.Client(...)``: arguments, environment, auth and identity per profile; no prompts, no network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.emulator import WALLAROO_EMULATOR_URL, Emulator


def test_tutorial_2023_constructor_just_works(wallaroo: Any, emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    if emu.sdk != "2023.2":
        pytest.skip("auth_endpoint exists only in 2023.2")
    wl = wallaroo.Client(api_endpoint="https://p.api.example.com", auth_endpoint="https://p.keycloak.example.com",
                         auth_type="sso")
    assert wl.api_endpoint == "https://p.api.example.com"
    assert wl.auth_endpoint == "https://p.keycloak.example.com"
    header = wl.auth.auth_header()
    assert header["Authorization"].startswith("Bearer ")
    assert capsys.readouterr().out == ""


def test_2023_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WALLAROO_URL", raising=False)
    with Emulator(sdk="2023.2"):
        import wallaroo

        wl = wallaroo.Client()
        assert wl.api_endpoint == WALLAROO_EMULATOR_URL
        assert wl.timeout == 45
        assert wl.auth.user_email == "default@ex.co"
        assert not hasattr(wl.auth, "auth_header")  # _NoAuth, as in the SDK
        assert wl.get_current_workspace().name() == "default@ex.co_ws"
        monkeypatch.setenv("WALLAROO_URL", "https://env.example.com")
        monkeypatch.setenv("WALLAROO_REQUEST_TIMEOUT", "7")
        wl = wallaroo.Client(api_endpoint="https://arg.example.com")
        assert wl.api_endpoint == "https://env.example.com"  # the env var overrides the argument in 2023.2
        assert wl.timeout == 7
        with pytest.raises(TypeError, match="config"):
            wallaroo.Client(config={})


def test_newest_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator(sdk="2026.1"):
        import wallaroo

        wl = wallaroo.Client()
        assert wl.api_endpoint == WALLAROO_EMULATOR_URL
        assert wl.auth.auth_header()["Authorization"].startswith("Bearer ")
        wl = wallaroo.Client(api_endpoint="https://arg.example.com", auth_type="test_auth", request_timeout=3,
                             config={"default_arch": "x86"})
        assert wl.api_endpoint == "https://arg.example.com"
        assert wl.auth.user_email == "jane@ex.co"
        assert wl.timeout == 3
        with pytest.raises(TypeError, match="auth_endpoint"):
            wallaroo.Client(auth_endpoint="https://kc.example.com")
        monkeypatch.delenv("WALLAROO_URL")
        with pytest.raises(ValueError, match="WALLAROO_SDK_AUTH_TYPE, and WALLAROO_URL"):
            wallaroo.Client()


def test_auth_types(wallaroo: Any, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotImplementedError, match="Unsupported auth type: AuthType.NONE"):
        wallaroo.Client(auth_type="none")
    wl = wallaroo.Client(auth_type=wallaroo.auth.AuthType.NONE)
    assert wl.auth.user_email == "default@ex.co"
    wl = wallaroo.Client(auth_type="test_auth")
    assert (wl.auth.user_email, wl.auth.user_id) == ("jane@ex.co", "99cace15-e0d4-4bb6-bf14-35efee181b90")
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"token": "tok-123", "user_email": "ann@example.com", "user_id": "u-1"}))
    monkeypatch.setenv("WALLAROO_SDK_CREDENTIALS", str(creds))
    wl = wallaroo.Client(auth_type="token")
    assert wl.auth.auth_header() == {"Authorization": "Bearer tok-123"}
    assert wl.auth.user_email == "ann@example.com"
    monkeypatch.delenv("WALLAROO_SDK_CREDENTIALS")
    monkeypatch.setenv("WALLAROO_USER", "bob@example.com")
    wl = wallaroo.Client(auth_type="user_password")
    assert wl.auth.user_email == "bob@example.com"


def test_task_id_forces_orch_auth(wallaroo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WALLAROO_TASK_ID", "abc")
    wl = wallaroo.Client()
    assert wl.auth.auth_type.value == "orch"
    assert wl._in_task is True


def test_bearer_token_is_deterministic(profile: str) -> None:
    headers = []
    for _ in range(2):
        with Emulator(sdk=profile, seed=3):
            import wallaroo

            headers.append(wallaroo.Client(auth_type="sso").auth.auth_header())
    assert headers[0] == headers[1]


def test_newest_only_methods(wl: Any, emu: Emulator) -> None:
    for name in ("get_workspace", "get_pipeline", "get_model"):
        assert hasattr(wl, name) is (emu.sdk != "2023.2")


def test_orchestration_delegates_pass_arguments(wl: Any, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def recorder(name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> str:
            calls.append((name, args, kwargs))
            return name
        return record

    orch = types.SimpleNamespace(upload_orchestration=recorder("upload"), list_orchestrations=recorder("list_o"))
    task = types.SimpleNamespace(list_tasks=recorder("list_t"), get_task_by_id=recorder("get"),
                                 task_args=recorder("args"), in_task=recorder("in"))
    import emulator.wallaroo.sdk as sdk

    monkeypatch.setattr(sdk, "orchestration", orch, raising=False)
    monkeypatch.setattr(sdk, "task", task, raising=False)
    monkeypatch.setitem(__import__("sys").modules, "emulator.wallaroo.sdk.orchestration", orch)
    monkeypatch.setitem(__import__("sys").modules, "emulator.wallaroo.sdk.task", task)
    assert wl.upload_orchestration(path="x.zip", name="o") == "upload"
    assert calls[-1][2] == {"bytes_buffer": None, "path": "x.zip", "name": "o", "file_name": None}
    assert calls[-1][1] == (wl,)
    assert wl.list_orchestrations() == "list_o" and calls[-1][2] == {}
    assert wl.list_tasks() == "list_t" and calls[-1][2] == {"killed": False}
    assert wl.get_task_by_id("t1") == "get" and calls[-1][1] == (wl, "t1")
    assert wl.task_args() == "args" and wl.in_task() == "in"
    if emu.sdk == "2023.2":
        with pytest.raises(TypeError, match="workspace_id"):
            wl.list_orchestrations(workspace_id=1)
        with pytest.raises(TypeError, match="workspace_name"):
            wl.list_tasks(workspace_name="w")
    else:
        wl.list_orchestrations(workspace_id=1)
        assert calls[-1][2] == {"workspace_id": 1}
        wl.list_tasks(killed=True, workspace_name="w")
        assert calls[-1][2] == {"killed": True, "workspace_name": "w"}


def test_constructor_signature_per_profile(wallaroo: Any, emu: Emulator) -> None:
    import inspect

    params = list(inspect.signature(wallaroo.Client).parameters)
    if emu.sdk == "2023.2":
        assert params == ["api_endpoint", "auth_endpoint", "request_timeout", "auth_type", "gql_client",
                          "interactive", "time_format"]
        assert inspect.signature(wallaroo.Client).parameters["api_endpoint"].default == "http://api-lb:8080"
    else:
        assert params == ["api_endpoint", "request_timeout", "auth_type", "gql_client", "interactive",
                          "time_format", "config"]
