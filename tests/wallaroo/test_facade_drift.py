"""The facade (profile 2026.1) held against the installed real SDK: names, signatures, reprs.

Runs only where the real ``wallaroo`` is installed beside the project (the real-SDK venv). For
every module of the facade that the real SDK also has, and every public class and function the
two share, it compares

* the public methods: each one the tutorials call must exist in the facade
  (:data:`TUTORIAL_SURFACE`); a public facade method or class the real SDK lacks is invented API
  and must be listed in :data:`FACADE_EXTRAS` with its reason;
* ``inspect.signature``: parameter names, kinds and defaults (annotations aside) of every method
  both have; the SDK's decorators hide signatures behind ``(*args, **kwargs)``, so the wrapped
  function is read from the decorator's closure; a facade default :data:`profiles.UNSET` (a
  newest-only parameter the 2023.2 profile refuses) stands for the default it carries;
* reprs: a facade class defines ``__repr__``, ``__str__`` or ``_repr_html_`` exactly where the
  real class does (the default ``<... object at 0x...>`` is what users of the real SDK see).

Deliberate differences live in the allow-lists below, each with its reason.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import types
from collections.abc import Callable
from typing import Any

import pytest
from sdk_sources import installed_real_sdk

if installed_real_sdk() is None:
    pytest.skip("the real wallaroo SDK is not installed", allow_module_level=True)

from emulator.emulator import Emulator  # noqa: E402
from emulator.wallaroo import activation, profiles  # noqa: E402

FACADE = activation.sdk_modules()
REAL: dict[str, types.ModuleType] = {}
for _name in FACADE:
    try:
        REAL[_name] = importlib.import_module(_name)
    except ImportError:  # facade-only modules (wallaroo._html, the 2023.2 wallaroo.models)
        pass

#: What the tutorials (2025.2 notebooks and orchestration main.py files) call: must exist.
TUTORIAL_SURFACE = [
    "wallaroo.Client", "wallaroo.DeploymentConfigBuilder",
    "wallaroo.client.Client.get_workspace", "wallaroo.client.Client.create_workspace",
    "wallaroo.client.Client.list_workspaces", "wallaroo.client.Client.set_current_workspace",
    "wallaroo.client.Client.get_current_workspace", "wallaroo.client.Client.build_pipeline",
    "wallaroo.client.Client.get_pipeline", "wallaroo.client.Client.pipelines_by_name",
    "wallaroo.client.Client.list_pipelines", "wallaroo.client.Client.upload_model",
    "wallaroo.client.Client.list_models", "wallaroo.client.Client.get_model",
    "wallaroo.client.Client.create_connection", "wallaroo.client.Client.get_connection",
    "wallaroo.client.Client.list_connections", "wallaroo.client.Client.upload_orchestration",
    "wallaroo.client.Client.list_orchestrations", "wallaroo.client.Client.list_tasks",
    "wallaroo.client.Client.get_task_by_id", "wallaroo.client.Client.task_args", "wallaroo.client.Client.in_task",
    "wallaroo.client.Client.list_deployments",
    "wallaroo.workspace.Workspace.id", "wallaroo.workspace.Workspace.name",
    "wallaroo.workspace.Workspace.add_connection", "wallaroo.workspace.Workspace.list_connections",
    "wallaroo.workspace.Workspace.remove_connection", "wallaroo.workspace.Workspace.pipelines",
    "wallaroo.workspace.Workspace.models",
    "wallaroo.pipeline.Pipeline.add_model_step", "wallaroo.pipeline.Pipeline.clear",
    "wallaroo.pipeline.Pipeline.deploy", "wallaroo.pipeline.Pipeline.undeploy", "wallaroo.pipeline.Pipeline.status",
    "wallaroo.pipeline.Pipeline.infer", "wallaroo.pipeline.Pipeline.infer_from_file",
    "wallaroo.pipeline.Pipeline.logs", "wallaroo.pipeline.Pipeline.name", "wallaroo.pipeline.Pipeline.versions",
    "wallaroo.pipeline.Pipeline.definition", "wallaroo.pipeline.Pipeline.steps",
    "wallaroo.model_version.ModelVersion.configure", "wallaroo.model_version.ModelVersion.name",
    "wallaroo.model_version.ModelVersion.version", "wallaroo.model_version.ModelVersion.sha",
    "wallaroo.connection.Connection.details", "wallaroo.connection.Connection.name",
    "wallaroo.connection.Connection.delete_connection",
    "wallaroo.orchestration.Orchestration.status", "wallaroo.orchestration.Orchestration.run_once",
    "wallaroo.orchestration.Orchestration.run_scheduled", "wallaroo.orchestration.Orchestration.list_tasks",
    "wallaroo.task.Task.status", "wallaroo.task.Task.kill", "wallaroo.task.Task.last_runs",
    "wallaroo.task_run.TaskRun.logs",
    "wallaroo.framework.Framework", "wallaroo.object.EntityNotFoundError",
    "wallaroo.deployment_config.DeploymentConfigBuilder.build",
    "wallaroo.deployment_config.DeploymentConfigBuilder.replica_count",
    "wallaroo.deployment_config.DeploymentConfigBuilder.cpus",
    "wallaroo.deployment_config.DeploymentConfigBuilder.memory",
]

#: Public facade names the real SDK 2026.1.3 does not have, and why each is kept.
FACADE_EXTRAS = {
    # The 2023.2 profile's classes, served by the same modules (the real 2023.2.1 SDK has them).
    "wallaroo.models.Models": "2023.2.1 has wallaroo.models (a model and its versions)",
    "wallaroo.models.ModelsList": "2023.2.1 has wallaroo.models",
    "wallaroo.pipeline.RowZeroMissing": "the 2023.2 profile's error for a DataFrame without row label 0 "
                                        "(the real 2023.2.1 raises KeyError: 0; ours subclasses KeyError)",
    "wallaroo.object.ModelUploadError": "raised for a file that is not a valid model of its framework, "
                                        "where the real platform answers an upload error",
    "wallaroo.orchestration.OrchestrationStatus": "the real SDK's generated client enum, re-exported where "
                                                  "the facade's orchestration reads it",
    # Readers of values the real objects keep in private attributes only.
    "wallaroo.task_run.TaskRun.status": "README and tests read run.status; the real SDK keeps it in _status",
    "wallaroo.task_run.TaskRun.run_id": "alongside status (the real _pod_id)",
    "wallaroo.task_run.TaskRun.pod_id": "alongside status (the real _pod_id)",
    "wallaroo.task_run.TaskRun.task": "alongside status (the real _task)",
    "wallaroo.task_run.TaskRun.created_at": "alongside status (the real _created_at)",
    "wallaroo.task_run.TaskRun.updated_at": "alongside status (the real _updated_at)",
    "wallaroo.task.Task.killed": "the real Task keeps it in _killed",
    "wallaroo.task.Task.schedule": "the real Task keeps it in _schedule",
    "wallaroo.orchestration.Orchestration.owner_id": "the real Orchestration keeps it in _owner_id",
    "wallaroo.orchestration.Orchestration.task_id": "the real Orchestration keeps it in _task_id",
    "wallaroo.orchestration.Orchestration.packaging_log": "the emulator's packaging log (no real counterpart)",
    "wallaroo.model_version.ModelVersion.framework": "the real ModelVersion keeps it in _framework",
    "wallaroo.model_version.ModelVersion.input_schema": "the real ModelVersion keeps it in _input_schema",
    "wallaroo.model_version.ModelVersion.output_schema": "the real ModelVersion keeps it in _output_schema",
    "wallaroo.model_version.ModelVersion.created_at": "the real ModelVersion keeps it in _created_at",
    "wallaroo.model_version.ModelVersion.to_dict": "the dict its repr prints",
    "wallaroo.model_config.ModelConfig.batch_config": "the real ModelConfig keeps it in _batch_config",
    "wallaroo.model_config.ModelConfig.to_dict": "the dict the platform holds for it",
    "wallaroo.deployment_config.DeploymentConfig.guarantee_workspace_id": "the real SDK's private "
                                                                           "_guarantee_workspace_id, public here",
}

#: Methods whose signatures differ on purpose.
SIGNATURE_DIFFERENCES = {
    "wallaroo.auth.create": "token_seed: the emulator passes its seeded token (deterministic tokens); "
                            "user code never calls auth.create",
    "wallaroo.client.Client.create_connection": "the real SDK writes `name=str, ...` (types as defaults, a "
                                                "slip for annotations); the arguments are required here",
    "wallaroo.client.Client.get_connection": "the real SDK writes `name=str` (a type as default)",
}

#: Reprs that differ on purpose.
REPR_DIFFERENCES = {
    "wallaroo.exceptions.WallarooAPIError.__str__": "the facade formats the message when raising: str() "
                                                    "gives the same text",
    "wallaroo.exceptions.InferenceError.__str__": "as WallarooAPIError",
    "wallaroo.pipeline_version.PipelineVersion._repr_html_": "the version table is not rendered by the facade",
}

_PLAIN_BASES = (object, list, dict, Exception, BaseException, str, int, enum.Enum)


@pytest.fixture(autouse=True)
def newest_profile() -> Any:
    with Emulator(sdk="2026.1") as emu:  # signatures and newest-only methods follow the active profile
        yield emu


def _facade_and_real_classes() -> list[tuple[str, type, type]]:
    pairs = []
    for module_name, facade_module in FACADE.items():
        real_module = REAL.get(module_name)
        if real_module is None:
            continue
        for name, real_obj in vars(real_module).items():
            facade_obj = getattr(facade_module, name, None)
            if (not name.startswith("_") and inspect.isclass(real_obj) and inspect.isclass(facade_obj)
                    and real_obj.__module__ == real_module.__name__):
                pairs.append((f"{module_name}.{name}", facade_obj, real_obj))
    return pairs


def _unwrap(func: Any) -> Any:
    """The function behind the SDK's ``(*args, **kwargs)`` decorators (found in their closures)."""
    for _ in range(5):
        try:
            params = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            return func
        if not params or any(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params if p.name != "self"):
            return func
        inner = next((c.cell_contents for c in (getattr(func, "__closure__", None) or ())
                      if inspect.isfunction(c.cell_contents)), None)
        if inner is None:
            return func
        func = inner
    return func


def _member(cls: type, name: str) -> Any:
    attr = inspect.getattr_static(cls, name)
    if isinstance(attr, profiles.newest_only):
        return attr.func
    if isinstance(attr, profiles.by_profile):
        return attr.newest
    if isinstance(attr, staticmethod | classmethod):
        return attr.__func__
    return attr


def _normalised(func: Callable[..., Any]) -> list[tuple[str, str, str]] | None:
    try:
        signature = inspect.signature(_unwrap(func))
    except (TypeError, ValueError):
        return None
    out = []
    for p in signature.parameters.values():
        default = p.default
        if isinstance(default, type(profiles.UNSET)):
            default = default.default
        out.append((p.name, p.kind.name, "<required>" if default is inspect.Parameter.empty else repr(default)))
    return out


def _public_methods(cls: type) -> set[str]:
    names = set()
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is not None and owner not in _PLAIN_BASES:
            names.add(name)
    return names


def _resolve(path: str) -> Any:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        module = FACADE.get(".".join(parts[:cut]))
        if module is not None:
            obj: Any = module
            for attr in parts[cut:]:
                obj = inspect.getattr_static(obj, attr) if inspect.isclass(obj) else getattr(obj, attr)
            return obj
    raise LookupError(path)


def test_top_level_names_of_the_real_sdk_are_exported() -> None:
    real = REAL["wallaroo"]
    wanted = [n for n in dir(real) if not n.startswith("_") and not isinstance(getattr(real, n), types.ModuleType)]
    missing = [n for n in wanted if not hasattr(FACADE["wallaroo"], n)]
    assert not missing, f"wallaroo.<name> the real SDK exports and the facade does not: {missing}"


def test_the_tutorial_surface_exists() -> None:
    missing = []
    for path in TUTORIAL_SURFACE:
        try:
            _resolve(path)
        except (LookupError, AttributeError):
            missing.append(path)
    assert not missing, f"called by the tutorials, missing from the facade: {missing}"


def test_the_facade_invents_no_api() -> None:
    invented = []
    for module_name, facade_module in FACADE.items():
        if module_name == "wallaroo._html":
            continue
        real_module = REAL.get(module_name)
        for name, obj in vars(facade_module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module_name:
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            real_obj = getattr(real_module, name, None) if real_module is not None else None
            if real_obj is None:
                invented.append(f"{module_name}.{name}")
            elif inspect.isclass(obj) and inspect.isclass(real_obj) and not issubclass(obj, enum.Enum):
                invented += [f"{module_name}.{name}.{m}" for m in sorted(_public_methods(obj) - set(dir(real_obj)))]
    unexplained = [p for p in invented if p not in FACADE_EXTRAS]
    assert not unexplained, f"public facade names the real SDK lacks (remove, or explain in FACADE_EXTRAS): {unexplained}"
    stale = [p for p in FACADE_EXTRAS if p not in invented]
    assert not stale, f"FACADE_EXTRAS entries that no longer apply: {stale}"


def test_signatures_match() -> None:
    differences = {}
    functions = [(f"{m}.{n}", getattr(FACADE[m], n), obj) for m, module in REAL.items() if m in FACADE
                 for n, obj in vars(module).items()
                 if not n.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module.__name__
                 and inspect.isfunction(getattr(FACADE[m], n, None))]
    for path, facade_fn, real_fn in functions:
        if _normalised(facade_fn) != _normalised(real_fn):
            differences[path] = (_normalised(real_fn), _normalised(facade_fn))
    for path, facade_cls, real_cls in _facade_and_real_classes():
        if issubclass(real_cls, enum.Enum):
            real_members = {m.name: m.value for m in real_cls}
            facade_members = {m.name: m.value for m in facade_cls}
            if real_members != facade_members:
                differences[path] = (real_members, facade_members)
            continue
        if path == "wallaroo.client.Client":
            if _normalised(real_cls) != _normalised(facade_cls):
                differences[f"{path}.__init__"] = (_normalised(real_cls), _normalised(facade_cls))
        for name in sorted(_public_methods(real_cls) & _public_methods(facade_cls)):
            real_member, facade_member = _member(real_cls, name), _member(facade_cls, name)
            if isinstance(real_member, property) != isinstance(facade_member, property):
                differences[f"{path}.{name}"] = ("property" if isinstance(real_member, property) else "method",
                                                 "property" if isinstance(facade_member, property) else "method")
            elif callable(real_member) and callable(facade_member):
                real_sig, facade_sig = _normalised(real_member), _normalised(facade_member)
                if real_sig is not None and real_sig != facade_sig:
                    differences[f"{path}.{name}"] = (real_sig, facade_sig)
    unexplained = {p: d for p, d in differences.items() if p not in SIGNATURE_DIFFERENCES}
    assert not unexplained, "signatures that drifted (real, facade):\n" + "\n".join(
        f"{p}:\n  real   {r}\n  facade {f}" for p, (r, f) in unexplained.items())
    stale = [p for p in SIGNATURE_DIFFERENCES if p not in differences]
    assert not stale, f"SIGNATURE_DIFFERENCES entries that no longer apply: {stale}"


def test_reprs_are_those_of_the_real_sdk() -> None:
    differences = []
    for path, facade_cls, real_cls in _facade_and_real_classes():
        for dunder in ("__repr__", "__str__", "_repr_html_"):
            owners = []
            for cls in (facade_cls, real_cls):
                owner = next((k for k in cls.__mro__ if dunder in vars(k)), None)
                owners.append(owner is not None and owner not in _PLAIN_BASES
                              and owner.__name__ != "BaseModel")
            if owners[0] != owners[1]:
                differences.append(f"{path}.{dunder}")
    unexplained = [d for d in differences if d not in REPR_DIFFERENCES]
    assert not unexplained, f"reprs defined by only one of facade and real SDK: {unexplained}"
    stale = [p for p in REPR_DIFFERENCES if p not in differences]
    assert not stale, f"REPR_DIFFERENCES entries that no longer apply: {stale}"
