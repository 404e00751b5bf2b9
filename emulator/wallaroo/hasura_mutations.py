"""Hasura mutations the SDKs send, carried out through the platform backend's methods.

Emulated (each changes state only through :class:`~emulator.wallaroo.backend.WallarooBackend`
methods, or the GraphQL-only records of :mod:`emulator.wallaroo.graphql_state`):

* ``insert_workspace`` / ``insert_workspace_one`` (2023.2's default-workspace creation; nested
  ``user_default_workspaces`` records the default): ``create_workspace``; with
  ``on_conflict: {constraint: workspace_name_key, update_columns: []}`` an existing name inserts
  nothing (``insert_workspace_one`` answers ``null``), without it the unique constraint fails;
* ``insert_pipeline`` / ``insert_pipeline_one`` (nested ``pipeline_versions`` with a
  ``definition``): ``create_pipeline`` (an existing name in the workspace needs
  ``on_conflict: pipeline_pipeline_id_workspace_id_key``) and ``create_pipeline_version`` for a
  definition with ``ModelInference`` steps;
* ``update_deployment_by_pk`` / ``update_deployment`` / ``insert_deployment`` with ``deployed``:
  ``deploy`` / ``undeploy``;
* ``insert_model_config`` / ``insert_model_config_one``: ``configure_model``;
* ``insert_connections_one`` / ``delete_connections``, ``insert_workspace_connections_one`` /
  ``delete_workspace_connections``: the backend's connection methods;
* ``insert_tag``, ``insert_pipeline_tag`` / ``delete_pipeline_tag``, ``insert_model_tag`` /
  ``delete_model_tag``; ``update_pipeline`` / ``update_model`` setting only ``visibility``.

Every other mutation root (assays, comments, publishes, registries, the platform's internal
task/orchestration bookkeeping...) answers Hasura's error shape with code ``not-supported``
naming the field, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.wallaroo.errors import AlreadyExists, InvalidRequest, NotFound, WallarooBackendError
from emulator.wallaroo.graphql_state import state_for
from emulator.wallaroo.hasura_query import QueryError, matches
from emulator.wallaroo.hasura_rows import Snapshot

Row = dict[str, Any]


class Mutations:
    """Runs one mutation root field against the emulator and answers from a fresh snapshot."""

    def __init__(self, emu: Any, context: dict[str, Any]) -> None:
        self.emu = emu
        self.backend = emu.wallaroo
        self.context = context

    # -- plumbing --------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self.context["snapshot"]

    def refreshed(self) -> Snapshot:
        snap = Snapshot(self.emu)
        self.context["snapshot"] = snap
        return snap

    def run(self, field: str, args: dict[str, Any]) -> Any:
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_{field}", None)
        if handler is None:
            raise QueryError(f"the emulator does not emulate the mutation '{field}' (it changes nothing here)",
                             "not-supported")
        try:
            return handler(args)
        except AlreadyExists as exc:
            raise QueryError(f"Uniqueness violation. duplicate key value violates unique constraint: {exc}",
                             "constraint-violation") from None
        except NotFound as exc:
            raise QueryError(f"Foreign key violation. {exc}", "constraint-violation") from None
        except (InvalidRequest, WallarooBackendError) as exc:
            raise QueryError(str(exc), "validation-failed") from None

    def _rows(self, table: str, ids: list[Any], column: str = "id") -> list[Row]:
        snap = self.refreshed()
        index = snap.index(table, column)
        return [r for key in ids for r in index.get(key.lower() if isinstance(key, str) else key, [])]

    def _matching(self, table: str, where: dict[str, Any]) -> list[Row]:
        snap = self.snapshot
        spec = snap.catalogue.tables[table]
        return [r for r in snap.rows(table) if matches(snap, spec, r, where)]

    @staticmethod
    def _response(rows: list[Row]) -> dict[str, Any]:
        return {"affected_rows": len(rows), "returning": rows}

    @staticmethod
    def _objects(args: dict[str, Any]) -> list[dict[str, Any]]:
        return list(args["objects"]) if "objects" in args else [args["object"]]

    @staticmethod
    def _one(response: dict[str, Any]) -> Row | None:
        rows = response["returning"]
        return rows[0] if rows else None

    def _user(self, user_id: str | None, email: str | None) -> Any:
        """The platform user with this id (created on first sight, as Keycloak users are)."""
        for user in self.backend.users.values():
            if user_id is not None and user.id == user_id:
                return user
        if user_id is None and email is None:
            return None
        return self.backend.user(email or user_id, user_id)

    # -- workspaces ------------------------------------------------------------------------
    def _insert_workspace(self, args: dict[str, Any]) -> dict[str, Any]:
        created = []
        conflict = args.get("on_conflict")
        state = state_for(self.backend)
        for obj in self._objects(args):
            name = obj.get("name")
            if not name:
                raise QueryError('null value in column "name" violates not-null constraint', "constraint-violation")
            members = (obj.get("users") or {}).get("data") or []
            user_id = obj.get("owner_id") or (members[0].get("user_id") if members else None)
            created_by = obj.get("created_by")
            email = created_by if created_by and "@" in created_by else None
            if user_id is None and created_by and "@" not in created_by:
                user_id = created_by
            if self.backend.workspace_by_name(name) is not None:
                if conflict is None:
                    raise AlreadyExists("workspace", "workspace_name_key")
                continue  # ON CONFLICT: nothing inserted (update columns are not emulated)
            record = self.backend.create_workspace(name, self._user(user_id, email))
            for default in (obj.get("user_default_workspaces") or {}).get("data") or []:
                if default.get("user_id"):
                    state.default_workspaces[default["user_id"]] = record.id
            created.append(record.id)
        return self._response(self._rows("workspace", created))

    def _insert_workspace_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._insert_workspace(args))

    # -- pipelines -------------------------------------------------------------------------
    def _steps(self, definition: Any) -> list[list[int]]:
        steps = (definition.get("steps") or []) if isinstance(definition, dict) else []
        out = []
        for step in steps:
            inference = step.get("ModelInference") if isinstance(step, dict) else None
            if inference is None:
                raise QueryError(f"the emulator runs only ModelInference pipeline steps, got {step!r}", "not-supported")
            out.append([self.backend.model_version_by_uuid(m["version"]).id for m in inference.get("models", [])])
        return out

    def _insert_pipeline(self, args: dict[str, Any]) -> dict[str, Any]:
        conflict = args.get("on_conflict")
        created = []
        for obj in self._objects(args):
            name, workspace_id = obj.get("pipeline_id"), obj.get("workspace_id")
            if not name or workspace_id is None:
                missing = "pipeline_id" if not name else "workspace_id"
                raise QueryError(f'null value in column "{missing}" violates not-null constraint',
                                 "constraint-violation")
            if self.backend.pipeline_in_workspace(workspace_id, name) is not None and conflict is None:
                raise AlreadyExists("pipeline", "pipeline_pipeline_id_workspace_id_key")
            versions = (obj.get("pipeline_versions") or {}).get("data") or []
            steps = [self._steps(v.get("definition")) for v in versions]
            owner = self._user(obj.get("owner_id"), None)
            record = self.backend.create_pipeline(workspace_id, name, owner)
            for version_steps in steps:
                if version_steps:
                    self.backend.create_pipeline_version(record.id, version_steps)
            created.append(record.id)
        return self._response(self._rows("pipeline", created))

    def _insert_pipeline_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._insert_pipeline(args))

    # -- deployments -----------------------------------------------------------------------
    def _set_deployed(self, deployment_id: int, values: dict[str, Any]) -> None:
        unsupported = set(values) - {"deployed", "engine_config", "deploy_id", "limit_status", "updated_at"}
        if unsupported or values.get("limit_status") is not None:
            raise QueryError(f"the emulator cannot set {sorted(unsupported) or ['limit_status']} on a deployment",
                             "not-supported")
        record = self.backend.deployments.get(int(deployment_id))
        if record is None:
            return
        if values.get("deployed") is True:
            self.backend.deploy(record.pipeline_id, record.version.id, values.get("engine_config"))
        elif values.get("deployed") is False:
            self.backend.undeploy(record.pipeline_id)

    def _update_deployment_by_pk(self, args: dict[str, Any]) -> Row | None:
        deployment_id = args["pk_columns"]["id"]
        self._set_deployed(deployment_id, args.get("_set") or {})
        return self.refreshed().by_pk("deployment", {"id": deployment_id})

    def _update_deployment(self, args: dict[str, Any]) -> dict[str, Any]:
        ids = [r["id"] for r in self._matching("deployment", args["where"])]
        for deployment_id in ids:
            self._set_deployed(deployment_id, args.get("_set") or {})
        return self._response(self._rows("deployment", ids))

    def _insert_deployment(self, args: dict[str, Any]) -> dict[str, Any]:
        ids = []
        for obj in self._objects(args):
            pipeline_id = obj.get("pipeline_id")
            if pipeline_id is None:
                raise QueryError('null value in column "pipeline_id" violates not-null constraint',
                                 "constraint-violation")
            if obj.get("deployed") is False:
                record = self.backend.undeploy(pipeline_id)
            else:
                record = self.backend.deploy(pipeline_id, engine_config=obj.get("engine_config"))
            if record is not None:
                ids.append(record.id)
        return self._response(self._rows("deployment", ids))

    def _insert_deployment_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._insert_deployment(args))

    # -- models ----------------------------------------------------------------------------
    _CONFIG_OPTIONS = ("tensor_fields", "filter_threshold", "input_schema", "output_schema", "batch_config",
                       "dynamic_batching_config", "continuous_batching_config", "openai", "sidekick_uri")

    def _insert_model_config(self, args: dict[str, Any]) -> dict[str, Any]:
        ids = []
        for obj in self._objects(args):
            if obj.get("model_id") is None:
                raise QueryError('null value in column "model_id" violates not-null constraint',
                                 "constraint-violation")
            options = {k: obj[k] for k in self._CONFIG_OPTIONS if obj.get(k) is not None}
            ids.append(self.backend.configure_model(obj["model_id"], runtime=obj.get("runtime"), **options).id)
        return self._response(self._rows("model_config", ids))

    def _insert_model_config_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._insert_model_config(args))

    # -- visibility ------------------------------------------------------------------------
    def _set_visibility(self, table: str, args: dict[str, Any]) -> dict[str, Any]:
        values = args.get("_set") or {}
        if set(values) - {"visibility"} or args.get("_inc"):
            raise QueryError(f"the emulator only sets 'visibility' on {table}", "not-supported")
        ids = [r["id"] for r in self._matching(table, args["where"])]
        if "visibility" in values:
            for row_id in ids:
                state_for(self.backend).visibility[(table, row_id)] = values["visibility"]
        return self._response(self._rows(table, ids))

    def _update_pipeline(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._set_visibility("pipeline", args)

    def _update_model(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._set_visibility("model", args)

    # -- tags ------------------------------------------------------------------------------
    def _insert_tag(self, args: dict[str, Any]) -> dict[str, Any]:
        state = state_for(self.backend)
        ids = [state.create_tag(obj["tag"]).id for obj in self._objects(args)]
        return self._response(self._rows("tag", ids))

    def _insert_tag_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._insert_tag(args))

    def _link_tags(self, kind: str, args: dict[str, Any]) -> dict[str, Any]:
        state = state_for(self.backend)
        target_key, tag_key = ("pipeline_pk_id", "tag_pk_id") if kind == "pipeline" else ("model_id", "tag_id")
        ids = []
        for obj in self._objects(args):
            tag_id, target_id = obj.get(tag_key), obj.get(target_key)
            if tag_id not in state.tags:
                raise NotFound("tag", tag_id)
            if kind == "pipeline":
                self.backend.pipeline(target_id)
            else:
                self.backend.model_version(target_id)
            ids.append(state.link(kind, tag_id, target_id).id)
        return self._response(self._rows(f"{kind}_tag", ids))

    def _unlink_tags(self, kind: str, args: dict[str, Any]) -> dict[str, Any]:
        state = state_for(self.backend)
        rows = self._matching(f"{kind}_tag", args["where"])
        target_key, tag_key = ("pipeline_pk_id", "tag_pk_id") if kind == "pipeline" else ("model_id", "tag_id")
        for row in rows:
            state.unlink(kind, row[tag_key], row[target_key])
        self.refreshed()
        return self._response(rows)

    def _insert_pipeline_tag(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._link_tags("pipeline", args)

    def _insert_pipeline_tag_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._link_tags("pipeline", args))

    def _delete_pipeline_tag(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._unlink_tags("pipeline", args)

    def _insert_model_tag(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._link_tags("model", args)

    def _insert_model_tag_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._link_tags("model", args))

    def _delete_model_tag(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._unlink_tags("model", args)

    # -- connections -----------------------------------------------------------------------
    def _insert_connections(self, args: dict[str, Any]) -> dict[str, Any]:
        ids = []
        for obj in self._objects(args):
            if not obj.get("name") or not obj.get("type"):
                raise QueryError('null value in column "name" violates not-null constraint', "constraint-violation")
            ids.append(self.backend.create_connection(obj["name"], obj["type"], obj.get("details") or {}).id)
        return self._response(self._rows("connections", ids))

    def _insert_connections_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._insert_connections(args))

    def _delete_connections(self, args: dict[str, Any]) -> dict[str, Any]:
        rows = self._matching("connections", args["where"])
        for row in rows:
            self.backend.delete_connection(row["name"])
        self.refreshed()
        return self._response(rows)

    def _insert_workspace_connections(self, args: dict[str, Any]) -> dict[str, Any]:
        ids = []
        for obj in self._objects(args):
            connection = self.backend.connection(obj.get("connection_id"))
            ids.append(self.backend.add_connection_to_workspace(obj.get("workspace_id"), connection.name))
        return self._response(self._rows("workspace_connections", ids))

    def _insert_workspace_connections_one(self, args: dict[str, Any]) -> Row | None:
        return self._one(self._insert_workspace_connections(args))

    def _delete_workspace_connections(self, args: dict[str, Any]) -> dict[str, Any]:
        rows = self._matching("workspace_connections", args["where"])
        for row in rows:
            connection = self.backend.connection(row["connection_id"])
            self.backend.remove_connection_from_workspace(row["workspace_id"], connection.name)
        self.refreshed()
        return self._response(rows)
