"""The house-price tutorial end to end through the real ``wallaroo`` SDK (``sdk="installed"``).

The tutorial replay (``tutorial_replay.replay``) drives client, workspaces, pipeline, ONNX upload
and configure, deploy, a 1,000-row infer checked against onnxruntime, connections, orchestration
upload, run once, a ``*/5`` schedule, kill and undeploy — and the task's ``main.py`` itself uses the
real SDK and BigQuery. Every request is logged at the interception layer: the Wallaroo ones must
all arrive over httpx, at routes the emulator serves.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import pytest

try:
    metadata.version("wallaroo")
except metadata.PackageNotFoundError:
    pytest.skip("the real wallaroo SDK is not installed", allow_module_level=True)
if metadata.version("wallaroo").startswith("2023."):
    pytest.skip("the replay's newest-profile flow needs a 2024+ SDK", allow_module_level=True)
pytest.importorskip("emulator.wallaroo.graphql", reason="the GraphQL endpoint is not part of this build yet")

from emulator import transport  # noqa: E402


def test_tutorial_flow_through_the_real_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("WALLAROO_URL", "WALLAROO_SDK_AUTH_TYPE", "WALLAROO_SDK_CREDENTIALS", "WALLAROO_TASK_ID"):
        monkeypatch.delenv(var, raising=False)
    log: list[tuple[str, str, str, str, int]] = []  # (library, method, url, service, status)

    def logged(library: str, method_name: str, cls: type) -> None:
        original = getattr(cls, method_name)

        def wrapper(self: Any, request: Any) -> Any:
            answer = original(self, request)
            url = str(getattr(request, "url", ""))
            decision = self.router.decide(url)
            status = getattr(answer, "status_code", None) or (answer[0] if isinstance(answer, tuple) else 0)
            log.append((library, str(request.method), url, decision.service or decision.kind, int(status or 0)))
            return answer

        monkeypatch.setattr(cls, method_name, wrapper)

    logged("httpx", "_side_effect", transport.HttpxInterception)
    logged("requests", "_callback", transport.RequestsInterception)
    from tutorial_replay.replay import replay

    text = replay(sdk="installed")  # a failed check raises ReplayCheckFailed
    assert "[check] every price equals onnxruntime's on the same float32 input" in text
    assert "[check] kill answered pending_kill" in text and "[check] the pipeline is undeployed" in text
    assert "scheduled runs fired in the window" in text
    wallaroo_calls = [entry for entry in log if entry[3] in ("wallaroo", "wallaroo-engine")]
    assert wallaroo_calls and all(entry[0] == "httpx" for entry in wallaroo_calls), [
        e for e in wallaroo_calls if e[0] != "httpx"]
    paths = {entry[2].split("?")[0].split("/", 3)[-1] for entry in wallaroo_calls}
    for expected in ("v1/api/config", "v1/graphql", "v1/api/models/upload", "v1/api/pipelines/deploy",
                     "v1/api/connections/create", "v1/api/orchestration/upload", "v1/api/task/run_once",
                     "v1/api/task/run_scheduled", "v1/api/task/kill", "v1/api/pipelines/undeploy"):
        assert expected in paths, (expected, sorted(paths))
    assert any("/v1/api/pipelines/infer/" in entry[2] for entry in wallaroo_calls)
    assert all(entry[4] < 500 for entry in wallaroo_calls), [e for e in wallaroo_calls if e[4] >= 500]
    assert not [entry for entry in log if entry[3] == "refuse"]
