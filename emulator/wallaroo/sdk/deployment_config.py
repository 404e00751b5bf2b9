"""``wallaroo.deployment_config``: ``DeploymentConfigBuilder`` → ``DeploymentConfig`` (a dict).

The emulator records the configuration with the deployment; resources do not change behaviour.
"""

from __future__ import annotations

import copy
from typing import Any

from emulator.wallaroo.profiles import by_profile, newest_only


class DeploymentConfig(dict):
    """The engine configuration a deployment is created with."""

    def guarantee_workspace_id(self, workspace_id: int | None) -> DeploymentConfig:
        if workspace_id is not None:
            self["workspace_id"] = workspace_id
        return self


class DeploymentConfigBuilder:
    """Fluent builder; every setter returns the builder."""

    def __init__(self, workspace_id: int | None = None) -> None:
        self._config: dict[str, Any] = {
            "engine": {"resources": {"limits": {}, "requests": {}}},
            "enginelb": {"resources": {"limits": {}, "requests": {}}},
            "engineAux": {"images": {}},
            "node_selector": {},
        }
        if workspace_id is not None:
            self._config["workspace_id"] = workspace_id

    def _engine(self, key: str, value: Any, section: str = "engine") -> DeploymentConfigBuilder:
        self._config[section]["resources"]["limits"][key] = value
        self._config[section]["resources"]["requests"][key] = value
        if key == "cpu":
            self._config[section]["cpu"] = value
        return self

    def _aux(self, model_version: Any, key: str, value: Any) -> DeploymentConfigBuilder:
        name = model_version.name() if hasattr(model_version, "name") else str(model_version)
        self._config["engineAux"]["images"].setdefault(name, {})[key] = value
        return self

    def _drop_aux(self, model_version: Any, key: str) -> DeploymentConfigBuilder:
        name = model_version.name() if hasattr(model_version, "name") else str(model_version)
        self._config["engineAux"]["images"].setdefault(name, {}).pop(key, None)
        return self

    def image(self, image: str) -> DeploymentConfigBuilder:
        self._config["engine"]["image"] = image
        return self

    def replica_count(self, count: int) -> DeploymentConfigBuilder:
        if int(count) < 1:
            raise RuntimeError("Replica count must be at least 1")
        self._config["engine"]["replicas"] = int(count)
        return self

    def replica_autoscale_min_max(self, maximum: int, minimum: int = 0) -> DeploymentConfigBuilder:
        if minimum > maximum:
            raise RuntimeError("Minimum must be less than or equal to maximum")
        self._config["engine"]["autoscale"] = {"type": "cpu", "replica_min": minimum, "replica_max": maximum}
        return self

    def autoscale_cpu_utilization(self, cpu_utilization_percentage: int) -> DeploymentConfigBuilder:
        self._config["engine"].setdefault("autoscale", {"type": "cpu"})["cpu_utilization"] = cpu_utilization_percentage
        return self

    @newest_only
    def scale_up_queue_depth(self, queue_depth: int) -> DeploymentConfigBuilder:
        self._config["engine"].setdefault("autoscale", {})["scale_up_queue_depth"] = queue_depth
        return self

    def disable_autoscale(self) -> DeploymentConfigBuilder:
        self._config["engine"].pop("autoscale", None)
        return self

    def cpus(self, core_count: float) -> DeploymentConfigBuilder:
        return self._engine("cpu", core_count)

    def gpus(self, gpu_count: int) -> DeploymentConfigBuilder:
        self._config["engine"]["gpu"] = gpu_count
        return self._engine("nvidia.com/gpu", gpu_count)

    def memory(self, memory_spec: str) -> DeploymentConfigBuilder:
        return self._engine("memory", memory_spec)

    def deployment_label(self, label: str) -> DeploymentConfigBuilder:
        self._config["engine"]["node_selector"] = label
        return self

    def lb_cpus(self, core_count: float) -> DeploymentConfigBuilder:
        return self._engine("cpu", core_count, "enginelb")

    def lb_memory(self, memory_spec: str) -> DeploymentConfigBuilder:
        return self._engine("memory", memory_spec, "enginelb")

    def python_load_timeout_secs(self, timeout_secs: int) -> DeploymentConfigBuilder:
        self._config["engineAux"]["python_load_timeout_secs"] = timeout_secs
        return self

    @newest_only
    def arch(self, arch: Any = None) -> DeploymentConfigBuilder:
        """Set the engine's architecture; ``None`` drops the setting (the platform's default)."""
        if arch is None:
            self._config["engine"].pop("arch", None)
        else:
            self._config["engine"]["arch"] = str(arch)
        return self

    @newest_only
    def accel(self, accel: Any = None) -> DeploymentConfigBuilder:
        """Set the engine's acceleration; ``None`` drops the setting (the platform's default)."""
        if accel is None:
            self._config["engine"].pop("accel", None)
        else:
            self._config["engine"]["accel"] = str(accel)
        return self

    # The sidekick setters name their first parameter ``model`` in 2023.2, ``model_version`` newest.
    def _sidekick_gpus(self, model_version: Any, gpu_count: int) -> DeploymentConfigBuilder:
        return self._aux(model_version, "gpu", gpu_count)

    def _sidekick_gpus_2023(self, model: Any, gpu_count: int) -> DeploymentConfigBuilder:
        return self._aux(model, "gpu", gpu_count)

    def _sidekick_cpus(self, model_version: Any, core_count: float) -> DeploymentConfigBuilder:
        return self._aux(model_version, "cpu", core_count)

    def _sidekick_cpus_2023(self, model: Any, core_count: float) -> DeploymentConfigBuilder:
        return self._aux(model, "cpu", core_count)

    def _sidekick_memory(self, model_version: Any, memory_spec: str) -> DeploymentConfigBuilder:
        return self._aux(model_version, "memory", memory_spec)

    def _sidekick_memory_2023(self, model: Any, memory_spec: str) -> DeploymentConfigBuilder:
        return self._aux(model, "memory", memory_spec)

    def _sidekick_env(self, model_version: Any, environment: dict[str, str]) -> DeploymentConfigBuilder:
        return self._aux(model_version, "env", dict(environment))

    def _sidekick_env_2023(self, model: Any, environment: dict[str, str]) -> DeploymentConfigBuilder:
        return self._aux(model, "env", dict(environment))

    sidekick_gpus = by_profile(newest=_sidekick_gpus, legacy=_sidekick_gpus_2023)
    sidekick_cpus = by_profile(newest=_sidekick_cpus, legacy=_sidekick_cpus_2023)
    sidekick_memory = by_profile(newest=_sidekick_memory, legacy=_sidekick_memory_2023)
    sidekick_env = by_profile(newest=_sidekick_env, legacy=_sidekick_env_2023)

    @newest_only
    def sidekick_arch(self, model_version: Any, arch: Any = None) -> DeploymentConfigBuilder:
        if arch is None:
            return self._drop_aux(model_version, "arch")
        return self._aux(model_version, "arch", str(arch))

    @newest_only
    def sidekick_accel(self, model_version: Any, accel: Any = None) -> DeploymentConfigBuilder:
        if accel is None:
            return self._drop_aux(model_version, "accel")
        return self._aux(model_version, "accel", str(accel))

    def build(self) -> DeploymentConfig:
        return DeploymentConfig(copy.deepcopy(self._config))
