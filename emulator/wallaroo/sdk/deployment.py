"""``wallaroo.deployment``: ``Deployment`` and ``WaitForDeployError``.

Waiting for a deployment advances the virtual clock in one-second polls, as the real SDK
polls ``status/get_deployment`` about once a second, so it takes no wall time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.wallaroo.errors import NotFound

if TYPE_CHECKING:
    from emulator.wallaroo.sdk.client import Client

POLL_SECONDS = 1.0


class WaitForDeployError(RuntimeError):
    """The deployment did not reach ``Running`` within the client's timeout."""


class WaitForError(Exception):
    """Waiting for a status ran out of time."""


class Deployment:
    """A pipeline's deployment (``<pipeline>-<id>``)."""

    def __init__(self, client: Client, deployment_id: int) -> None:
        self.client = client
        self._id = int(deployment_id)

    @property
    def _record(self) -> Any:
        try:
            return self.client._backend.deployments[self._id]
        except KeyError:
            raise NotFound("deployment", self._id) from None

    def id(self) -> int:
        return self._id

    def name(self) -> str:
        return self._record.deploy_id

    def deployed(self) -> bool:
        return self._record.deployed

    def engine_config(self) -> dict[str, Any]:
        return dict(self._record.engine_config)

    def status(self) -> dict[str, Any]:
        record = self._record
        try:
            return self.client._backend.deployment_status(record.pipeline_id)
        except NotFound:
            return {"status": f"Pipeline {record.deploy_id} is not deployed"}

    def wait_for_running(self, timeout: float | None = None) -> Deployment:
        """Poll (advancing the virtual clock) until ``Running``; ``WaitForDeployError`` on timeout."""
        clock = self.client._emu.clock
        limit = float(timeout if timeout is not None else self.client.timeout)
        waited = 0.0
        if self.client._interactive:
            print(f"Waiting for deployment - this will take up to {int(limit)}s ", end="", flush=True)
        while True:
            record = self._record
            if record.deployed and record.status == "Running":
                if self.client._interactive:
                    print(" ok")
                return self
            if waited >= limit:
                raise WaitForDeployError(
                    f"Deployment failed to become ready within {int(limit)}s: status {record.status}")
            clock.advance(POLL_SECONDS)
            waited += POLL_SECONDS
            if self.client._interactive:
                print(".", end="", flush=True)

    def wait_for_undeployed(self) -> Deployment:
        clock = self.client._emu.clock
        backend = self.client._backend
        record = self._record
        if self.client._interactive:
            print("Waiting for undeployment - this will take up to 45s ", end="", flush=True)
        for _ in range(int(max(self.client.timeout, 1))):
            if backend.pipeline(record.pipeline_id).deployment is not record:
                break
            clock.advance(POLL_SECONDS)
            if self.client._interactive:
                print(".", end="", flush=True)
        if self.client._interactive:
            print(" ok")
        return self

