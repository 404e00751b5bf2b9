"""The platform's state as Hasura's tables: one :class:`Snapshot` of rows per GraphQL request.

Rows are built from the public records of the platform backend (``emu.wallaroo``), the
orchestration and task stores (:func:`emulator.wallaroo.tasks.stores_for`) and the GraphQL-only
records (:mod:`emulator.wallaroo.graphql_state`), once per table and request, in primary-key
order. How each table is filled:

* ``workspace`` ← workspaces (``owner_id`` = ``created_by`` = the creator's user id);
  ``workspace_users`` ← their members (``user_type`` ``OWNER`` for the creator, else
  ``COLLABORATOR``); ``user_default_workspace`` ← each user's ``<email>_ws`` workspace where it
  exists, and the defaults recorded through GraphQL;
* ``models`` ← models (``updated_at`` = newest version's), ``model`` ← model versions
  (``conversion`` = ``{arch, accel, framework, python_version, requirements}``),
  ``model_config`` ← each version's configuration;
* ``pipeline`` ← pipelines, ``pipeline_version`` ← their versions (``definition`` =
  ``{"id": <pipeline>, "steps": [{"ModelInference": {"models": [{name, version, sha}]}}]}``,
  ``{}`` for a version without steps, as the SDK creates it);
* ``deployment`` ← each pipeline's newest deployment (the platform keeps one row per pipeline,
  ``deployed`` false once undeployed); ``deployment_pipeline_version`` and
  ``deployment_model_configs`` link it to its pipeline version and to the configurations of
  that version's models (ids of these link rows are synthetic: the deployment's id, and a
  running number);
* ``connections`` ← connections, ``workspace_connections`` ← their workspace links;
* ``orchestration`` ← orchestrations; ``task`` ← tasks (``event`` holds the task's definition:
  image, ``extra_env_vars`` with ``ORCH_ID``/``ORCH_SHA``/..., schedule; ``task_type`` ``cron``
  for scheduled tasks, ``job`` otherwise), ``task_run`` ← runs (``pod_id`` = run id);
* ``tag``, ``pipeline_tag``, ``model_tag`` ← GraphQL-only records;
* every other table (assays, explainability, publishes, edges, registries, comments, files,
  model conversions, logs) is empty: the emulator does not model those features.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from emulator.wallaroo.graphql_state import state_for
from emulator.wallaroo.hasura_schema import Catalogue, Relationship, Table, catalogue

Row = dict[str, Any]


class Snapshot:
    """Rows of every table as of one request (built lazily, then reused within the request)."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.backend = emu.wallaroo
        self.catalogue: Catalogue = catalogue()
        self._rows: dict[str, list[Row]] = {}
        self._indexes: dict[tuple[str, str], dict[Any, list[Row]]] = {}

    # -- RowSource -------------------------------------------------------------------------
    def rows(self, table: str) -> list[Row]:
        found = self._rows.get(table)
        if found is None:
            builder = _BUILDERS.get(table)
            found = builder(self) if builder is not None else []
            pk = self.catalogue.tables[table].pk
            found.sort(key=lambda r: tuple(_sort_key(r.get(c)) for c in pk))
            self._rows[table] = found
        return found

    def index(self, table: str, column: str) -> dict[Any, list[Row]]:
        key = (table, column)
        found = self._indexes.get(key)
        if found is None:
            found = {}
            for row in self.rows(table):
                found.setdefault(_join_key(row.get(column)), []).append(row)
            self._indexes[key] = found
        return found

    def related(self, table: Table, rel: Relationship, row: Row) -> list[Row]:
        value = row.get(rel.column)
        if value is None:
            return []
        return self.index(rel.target, rel.remote).get(_join_key(value), [])

    def by_pk(self, table: str, values: dict[str, Any]) -> Row | None:
        pk = self.catalogue.tables[table].pk
        wanted = tuple(_join_key(values[c]) for c in pk)
        for row in self.rows(table):
            if tuple(_join_key(row.get(c)) for c in pk) == wanted:
                return row
        return None

    # -- helpers for the builders ----------------------------------------------------------
    def stores(self) -> tuple[Any, Any]:
        from emulator.wallaroo.tasks import stores_for

        return stores_for(self.emu)

    @property
    def platform_version(self) -> str:
        from emulator.wallaroo.orchestrations import PLATFORM_VERSIONS

        return PLATFORM_VERSIONS.get(self.emu.sdk, PLATFORM_VERSIONS["2026.1"])


def _join_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, 0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (0, str(value))


# ------------------------------------------------------------------------------------------
# Builders, one per table that holds data
# ------------------------------------------------------------------------------------------


def _user_ids(snap: Snapshot) -> dict[str, str]:
    """email → user id (the email itself for users without an id, e.g. unauthenticated clients)."""
    return {email: (user.id or email) for email, user in snap.backend.users.items()}


def _workspaces(snap: Snapshot) -> list[Row]:
    return [{
        "id": w.id, "name": w.name, "archived": w.archived, "created_at": w.created_at,
        "created_by": w.created_by, "owner_id": w.created_by, "group_id": None,
    } for w in snap.backend.workspaces.values()]


def _workspace_users(snap: Snapshot) -> list[Row]:
    ids = _user_ids(snap)
    rows = []
    for w in sorted(snap.backend.workspaces.values(), key=lambda w: w.id):
        for email in w.users:
            user_id = ids.get(email, email)
            rows.append({"id": len(rows) + 1, "user_id": user_id, "workspace_id": w.id,
                         "user_type": "OWNER" if user_id == w.created_by or w.created_by is None else "COLLABORATOR"})
    return rows


def _user_default_workspaces(snap: Snapshot) -> list[Row]:
    defaults: dict[str, int] = {}
    for email, user_id in _user_ids(snap).items():
        found = snap.backend.workspace_by_name(f"{email}_ws")
        if found is not None:
            defaults[user_id] = found.id
    defaults.update(state_for(snap.backend).default_workspaces)
    return [{"user_id": user, "workspace_id": ws} for user, ws in defaults.items()
            if ws in snap.backend.workspaces]


def _models(snap: Snapshot) -> list[Row]:
    rows = []
    for m in snap.backend.models.values():
        updated = max((v.updated_at for v in m.versions), default=m.created_at)
        rows.append({"id": m.id, "name": m.name, "workspace_id": m.workspace_id, "owner_id": m.owner_id or "",
                     "created_at": m.created_at, "updated_at": updated})
    return rows


def _schema_text(schema: Any) -> str | None:
    """A model's input/output schema as the platform stores it (base64 of the Arrow schema)."""
    if schema is None or isinstance(schema, str):
        return schema
    serialize = getattr(schema, "serialize", None)
    if serialize is None:
        return str(schema)
    return base64.b64encode(bytes(serialize())).decode("ascii")


def _model_versions(snap: Snapshot) -> list[Row]:
    version = snap.platform_version
    visibility = state_for(snap.backend).visibility
    return [{
        "id": v.id, "model_id": v.name, "model_version": v.version, "models_pk_id": v.model_id, "sha": v.sha,
        "status": v.status, "error_summary": None, "file_name": v.file_name, "file_size": len(v.data),
        "image_path": v.image_path, "visibility": visibility.get(("model", v.id), "private"), "owner_id": v.owner_id, "task_id": None,
        "conversion": {"arch": v.arch, "accel": v.accel, "framework": v.framework, "python_version": "3.8",
                       "requirements": []},
        "input_schema": _schema_text(v.input_schema), "output_schema": _schema_text(v.output_schema),
        "created_at": v.created_at, "created_by": v.owner_id, "created_on_version": version,
        "updated_at": v.updated_at,
    } for v in snap.backend.model_versions_by_id.values()]


def _model_configs(snap: Snapshot) -> list[Row]:
    rows = []
    for v in snap.backend.model_versions_by_id.values():
        c = v.config
        if c is None:
            continue
        extra = c.extra or {}
        rows.append({
            "id": c.id, "model_id": v.id, "runtime": c.runtime, "tensor_fields": c.tensor_fields,
            "filter_threshold": c.filter_threshold, "input_schema": _schema_text(c.input_schema),
            "output_schema": _schema_text(c.output_schema), "batch_config": c.batch_config,
            "dynamic_batching_config": extra.get("dynamic_batching_config"),
            "continuous_batching_config": extra.get("continuous_batching_config"),
            "openai": extra.get("openai") if "openai" in extra else extra.get("openai_config"),
            "sidekick_uri": extra.get("sidekick_uri"),
        })
    return rows


def _pipelines(snap: Snapshot) -> list[Row]:
    visibility = state_for(snap.backend).visibility
    return [{
        "id": p.id, "pipeline_id": p.name, "workspace_id": p.workspace_id, "owner_id": p.owner_id,
        "visibility": visibility.get(("pipeline", p.id), "private"), "created_at": p.created_at, "updated_at": p.updated_at,
    } for p in snap.backend.pipelines.values()]


def pipeline_definition(backend: Any, pipeline_name: str, steps: list[list[int]]) -> dict[str, Any]:
    """The ``definition`` the platform stores for a pipeline version with these steps."""
    if not steps:
        return {}
    rendered = []
    for step in steps:
        models = []
        for version_id in step:
            mv = backend.model_version(version_id)
            models.append({"name": mv.name, "version": mv.version, "sha": mv.sha})
        rendered.append({"ModelInference": {"models": models}})
    return {"id": pipeline_name, "steps": rendered}


def _pipeline_versions(snap: Snapshot) -> list[Row]:
    version = snap.platform_version
    rows = []
    for p in snap.backend.pipelines.values():
        for v in p.versions:
            rows.append({
                "id": v.id, "version": v.version, "pipeline_pk_id": p.id,
                "definition": pipeline_definition(snap.backend, p.name, v.steps), "owner_id": p.owner_id,
                "created_at": v.created_at,
                "created_by": p.owner_id, "created_on_version": version, "updated_at": v.created_at,
            })
    return rows


def current_deployments(backend: Any) -> dict[int, Any]:
    """pipeline id → its newest deployment record (the platform keeps one deployment per pipeline)."""
    newest: dict[int, Any] = {}
    for d in backend.deployments.values():
        if d.pipeline_id not in newest or d.id > newest[d.pipeline_id].id:
            newest[d.pipeline_id] = d
    return newest


def _deployments(snap: Snapshot) -> list[Row]:
    rows = []
    for d in current_deployments(snap.backend).values():
        owner = snap.backend.pipelines[d.pipeline_id].owner_id if d.pipeline_id in snap.backend.pipelines else None
        rows.append({
            "id": d.id, "deploy_id": d.deploy_id, "deployed": d.deployed, "engine_config": d.engine_config,
            "node_selector": None, "limit_status": None, "pipeline_id": d.pipeline_id,
            "created_at": d.created_at, "updated_at": d.created_at, "updated_by": owner,
        })
    return rows


def _deployment_pipeline_versions(snap: Snapshot) -> list[Row]:
    return [{"id": d.id, "deployment_id": d.id, "pipeline_version_pk_id": d.version.id,
             "created_at": d.created_at, "updated_at": d.created_at}
            for d in current_deployments(snap.backend).values()]


def _deployment_model_configs(snap: Snapshot) -> list[Row]:
    rows: list[Row] = []
    for d in sorted(current_deployments(snap.backend).values(), key=lambda d: d.id):
        for step in d.version.steps:
            for version_id in step:
                config = snap.backend.model_versions_by_id[version_id].config
                if config is not None:
                    rows.append({"id": len(rows) + 1, "deployment_id": d.id, "model_config_id": config.id,
                                 "pipeline_version_pk_id": d.version.id})
    return rows


def _connections(snap: Snapshot) -> list[Row]:
    return [{"id": c.id, "name": c.name, "type": c.type, "details": c.details, "created_at": c.created_at}
            for c in snap.backend.connections.values()]


def _workspace_connections(snap: Snapshot) -> list[Row]:
    return [{"id": link, "workspace_id": ws, "connection_id": c.id}
            for c in snap.backend.connections.values() for ws, link in c.links.items()]


def _orchestrations(snap: Snapshot) -> list[Row]:
    orchestrations, _ = snap.stores()
    return [{
        "id": o.id, "name": o.name, "file_name": o.file_name, "sha": o.sha, "status": o.status,
        "workspace_id": o.workspace_id, "owner_id": o.owner_id, "task_id": o.task_id, "image_path": o.image_path,
        "file_size": o.file_size, "created_at": o.created_at, "created_by": o.owner_id,
        "created_on_version": o.created_on_version, "updated_at": o.updated_at,
    } for o in orchestrations.list()]


_EVENT_KEYS = ("image", "image_tag", "bind_secrets", "extra_env_vars", "auth_init", "flavor", "reap_threshold_secs",
               "exec_type", "schedule", "run_type", "arch", "ns_prefix")


def _tasks(snap: Snapshot) -> list[Row]:
    _, tasks = snap.stores()
    rows = []
    for t in tasks.list(killed=True):
        shape = t.to_dict(snap.emu.sdk)
        rows.append({
            "id": t.id, "name": t.name if isinstance(t.name, str) or t.name is None else str(t.name),
            "flavor": shape["flavor"], "subject": t.owner_id, "status": t.status,
            "task_type": "cron" if t.schedule is not None else "job", "attempt": 0, "private": False,
            "killed": t.killed, "input_data": t.json_args, "event": {k: shape[k] for k in _EVENT_KEYS if k in shape},
            "workspace_id": t.workspace_id, "next_attempt": None, "created_at": t.created_at,
            "updated_at": t.updated_at,
        })
    return rows


def _task_runs(snap: Snapshot) -> list[Row]:
    _, tasks = snap.stores()
    return [{"task": r.task_id, "pod_id": r.run_id, "status": r.status, "created_at": r.created_at,
             "updated_at": r.updated_at}
            for t in tasks.list(killed=True) for r in t.runs]


def _tags(snap: Snapshot) -> list[Row]:
    return [{"id": t.id, "tag": t.tag} for t in state_for(snap.backend).tags.values()]


def _pipeline_tags(snap: Snapshot) -> list[Row]:
    return [{"id": link.id, "pipeline_pk_id": link.target_id, "tag_pk_id": link.tag_id}
            for link in state_for(snap.backend).pipeline_tags.values()]


def _model_tags(snap: Snapshot) -> list[Row]:
    return [{"id": link.id, "model_id": link.target_id, "tag_id": link.tag_id}
            for link in state_for(snap.backend).model_tags.values()]


_BUILDERS: dict[str, Callable[[Snapshot], list[Row]]] = {
    "workspace": _workspaces,
    "workspace_users": _workspace_users,
    "user_default_workspace": _user_default_workspaces,
    "models": _models,
    "model": _model_versions,
    "model_config": _model_configs,
    "pipeline": _pipelines,
    "pipeline_version": _pipeline_versions,
    "deployment": _deployments,
    "deployment_pipeline_version": _deployment_pipeline_versions,
    "deployment_model_configs": _deployment_model_configs,
    "connections": _connections,
    "workspace_connections": _workspace_connections,
    "orchestration": _orchestrations,
    "task": _tasks,
    "task_run": _task_runs,
    "tag": _tags,
    "pipeline_tag": _pipeline_tags,
    "model_tag": _model_tags,
}
