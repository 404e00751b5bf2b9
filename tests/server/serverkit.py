"""Helpers of the server-mode tests: a ``python -m emulator serve`` process, client scripts in
fresh interpreters, the environment a client exports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: Variables of this process that must not leak into a client (an emulator's in-process setup).
_DROPPED = ("GOOGLE_APPLICATION_CREDENTIALS", "BIGQUERY_EMULATOR_HOST", "WALLAROO_URL", "WALLAROO_SDK_AUTH_TYPE",
            "WALLAROO_SDK_CREDENTIALS", "WALLAROO_TASK_ID", "XDG_CACHE_HOME", "HTTP_PROXY", "http_proxy",
            "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def client_env(server_env: dict[str, str], **extra: str) -> dict[str, str]:
    """This process's environment without emulator settings, plus the server's exports."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED and not k.startswith("WALLAROO_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="emulator-client-cache-")  # the SDK's token cache
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(server_env)
    env.update(extra)
    return env


def run_client(script: str, env: dict[str, str], python: str | None = None, timeout: float = 180,
               args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter (this one by default) with ``env``; fail with its output."""
    done = subprocess.run([python or sys.executable, "-c", script, *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=tempfile.gettempdir())
    assert done.returncode == 0, f"client failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def read_env_file(path: Path) -> dict[str, str]:
    import shlex

    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


@dataclass
class ServerProcess:
    """A ``python -m emulator serve`` child process."""

    process: subprocess.Popen[str]
    env: dict[str, str]
    workdir: Path
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.env["EMULATOR_URL"]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> tuple[int, str]:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
            raise AssertionError(f"the server did not stop within {timeout} s after signal {sig}") from None
        return self.process.returncode, out


def start_server(*args: str, workdir: Path | None = None, timeout: float = 60) -> ServerProcess:
    """Start ``python -m emulator serve`` with ``args``; return once its env file is written."""
    folder = Path(workdir or tempfile.mkdtemp(prefix="emulator-serve-"))
    env_file = folder / "server.env"
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--env-file", str(env_file), "--workdir", str(folder), *args],
        env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.monotonic() + timeout
    while not env_file.exists():
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"the server exited with {process.returncode}:\n{out}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the server did not start in time")
        time.sleep(0.02)
    return ServerProcess(process, read_env_file(env_file), folder)


def wallaroo_token(base: str, user: str = "jane@ex.co") -> str:
    import requests

    answer = requests.post(f"{base}/auth/realms/master/protocol/openid-connect/token",
                           data={"grant_type": "password", "client_id": "sdk-client", "username": user,
                                 "password": "x"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def post_json(base: str, path: str, payload: Any, token: str | None = None) -> Any:
    import requests

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{base}{path}", json=payload, headers=headers, timeout=60)
