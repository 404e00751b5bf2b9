"""The GraphQL endpoint ``/v1/graphql``: introspection, queries and mutations against a populated platform.

The documents here are written for these tests (not taken from an SDK); they cover every root
field shape and argument shape the real SDKs send. Requests go through ``requests`` to the
emulator's URL, as a client would.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from graphql import build_client_schema, get_introspection_query

from emulator.emulator import WALLAROO_EMULATOR_URL, Emulator
from emulator.wallaroo import graphql as graphql_wire
from emulator.wallaroo.hasura_schema import catalogue
from emulator.wallaroo.tasks import stores_for

URL = f"{WALLAROO_EMULATOR_URL}/v1/graphql"
USER_ID = "0d2f6a6e-1111-4222-8333-944455556666"


def post(query: str, variables: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, **extra}
    if variables is not None:
        body["variables"] = variables
    response = requests.post(URL, json=body, headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 200
    return response.json()


def data(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = post(query, variables)
    assert "errors" not in answer, answer
    return answer["data"]


def error(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = post(query, variables)
    assert "data" not in answer, answer
    assert len(answer["errors"]) >= 1
    return answer["errors"][0]


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2023, 5, 10, 0, 0, 0)), text)
    return buffer.getvalue()


class Platform:
    """A platform with a workspace, a configured model, a deployed pipeline, a connection,
    an orchestration and a task that has run once."""

    def __init__(self, emu: Emulator, model_path: Path) -> None:
        backend = emu.wallaroo
        self.emu = emu
        self.backend = backend
        self.user = backend.user("jane@example.com", USER_ID)
        self.ws = backend.create_workspace("graphql-ws", self.user)
        self.other_ws = backend.create_workspace("other-ws", self.user)
        self.model = backend.upload_model(self.ws.id, "housemodel", model_path.read_bytes(), "rf_model.onnx",
                                          "onnx", self.user)
        self.config = backend.configure_model(self.model.id, tensor_fields=["tensor"])
        self.pipeline = backend.create_pipeline(self.ws.id, "housepipe", self.user)
        self.empty = backend.create_pipeline(self.other_ws.id, "emptypipe", self.user)
        self.version = backend.create_pipeline_version(self.pipeline.id, [[self.model.id]])
        self.deployment = backend.deploy(self.pipeline.id)
        self.connection = backend.create_connection("bq-in", "BIGQUERY", {"project": "p", "dataset": "d"})
        self.link = backend.add_connection_to_workspace(self.ws.id, "bq-in")
        orchestrations, tasks = stores_for(emu)
        self.orch = orchestrations.upload(_zip({"main.py": "print('hello from the task')\n"}),
                                          workspace_id=self.ws.id, name="orch", file_name="orch.zip",
                                          owner_id=USER_ID)
        emu.clock.advance(orchestrations.timings.pending_seconds + orchestrations.timings.packaging_seconds)
        self.task = tasks.run_once(self.orch.id, name="once", json_args={"rows": 3})
        emu.clock.advance(tasks.timings.launch_seconds + 1)


@pytest.fixture(params=["2026.1", "2023.2"])
def platform(request: pytest.FixtureRequest, house_model_path: Path) -> Iterator[Platform]:
    with Emulator(sdk=request.param) as emu:
        yield Platform(emu, house_model_path)
        emu.close()


# ------------------------------------------------------------------------------------------
# Introspection
# ------------------------------------------------------------------------------------------


def test_introspection_builds_a_client_schema_with_hasura_conventions(platform: Platform) -> None:
    answer = post(get_introspection_query(descriptions=True))
    schema = build_client_schema(answer["data"])
    query_root = schema.query_type.fields
    assert schema.query_type.name == "query_root" and schema.mutation_type.name == "mutation_root"
    assert set(query_root["workspace_by_pk"].args) == {"id"}
    assert str(query_root["workspace_by_pk"].args["id"].type) == "bigint!"
    assert set(query_root["pipeline"].args) == {"distinct_on", "limit", "offset", "order_by", "where"}
    assert str(query_root["orchestration_by_pk"].args["id"].type) == "uuid!"
    assert str(schema.type_map["model"].fields["conversion"].args["path"].type) == "String"
    for scalar in ("bigint", "uuid", "jsonb", "timestamptz", "bpchar", "float8", "numeric"):
        assert scalar in schema.type_map
    assert {"_eq", "_in", "_ilike", "_is_null"} <= set(schema.type_map["String_comparison_exp"].fields)
    assert [v for v in schema.type_map["order_by"].values] == [
        "asc", "asc_nulls_first", "asc_nulls_last", "desc", "desc_nulls_first", "desc_nulls_last"]
    on_conflict = schema.type_map["workspace_on_conflict"].fields
    assert "workspace_name_key" in schema.type_map["workspace_constraint"].values
    assert str(on_conflict["update_columns"].type) == "[workspace_update_column!]!"
    assert "insert_workspace_one" in schema.mutation_type.fields


def test_introspection_is_answered_from_a_cache(platform: Platform) -> None:
    query = get_introspection_query()
    first = post(query)
    built = graphql_wire._introspection.cache_info().misses
    hits = graphql_wire._introspection_bytes.cache_info().hits
    assert post(query) == first
    assert graphql_wire._introspection_bytes.cache_info().hits == hits + 1  # the encoded answer, reused
    assert graphql_wire._introspection.cache_info().misses == built  # nothing built again


# ------------------------------------------------------------------------------------------
# Every root field answers
# ------------------------------------------------------------------------------------------


def _pk_args(table: Any) -> str:
    samples = {"bigint": "1", "Int": "1", "uuid": '"00000000-0000-4000-8000-000000000000"',
               "String": '"x"', "timestamptz": '"2023-01-01T00:00:00Z"', "timestamp": '"2023-01-01T00:00:00"'}
    return ", ".join(f"{c}: {samples[table.columns[c].type]}" for c in table.pk)


@pytest.mark.parametrize("table_name", sorted(catalogue().tables))
def test_every_table_root_answers(platform: Platform, table_name: str) -> None:
    table = catalogue().tables[table_name]
    column = table.pk[0]
    agg = f"{table_name}_aggregate {{ aggregate {{ count }} }}" if table.aggregate else ""
    answer = data(f"query {{ {table_name}(limit: 5, offset: 0) {{ {column} }} "
                  f"{table_name}_by_pk({_pk_args(table)}) {{ {column} }} {agg} }}")
    assert isinstance(answer[table_name], list)
    if table.aggregate:
        assert answer[f"{table_name}_aggregate"]["aggregate"]["count"] >= len(answer[table_name])


# ------------------------------------------------------------------------------------------
# Values the platform holds
# ------------------------------------------------------------------------------------------


def test_workspace_by_pk_holds_the_backend_values(platform: Platform) -> None:
    found = data("""query Ws($id: bigint!) { workspace_by_pk(id: $id) {
        id name archived created_at created_by owner_id
        models { id name models { id sha } }
        pipelines(order_by: {id: asc}) { id pipeline_id }
        users { user_id user_type }
    } }""", {"id": platform.ws.id})["workspace_by_pk"]
    assert found == {
        "id": platform.ws.id, "name": "graphql-ws", "archived": False,
        "created_at": platform.ws.created_at.isoformat(), "created_by": USER_ID, "owner_id": USER_ID,
        "models": [{"id": platform.model.model_id, "name": "housemodel",
                    "models": [{"id": platform.model.id, "sha": platform.model.sha}]}],
        "pipelines": [{"id": platform.pipeline.id, "pipeline_id": "housepipe"}],
        "users": [{"user_id": USER_ID, "user_type": "OWNER"}],
    }
    assert data("query { workspace_by_pk(id: 999) { id } }") == {"workspace_by_pk": None}


def test_model_by_pk_with_conversion_paths_configs_and_workspace(platform: Platform) -> None:
    mv = platform.model
    found = data(f"""query {{ model_by_pk(id: {mv.id}) {{
        id model_id model_version models_pk_id sha status file_name file_size visibility updated_at
        arch: conversion(path: "arch") accel: conversion(path: "$.accel") conversion
        model {{ id name workspace {{ id name }} }}
        model_configs {{ id runtime tensor_fields }}
        model_tags {{ tag {{ tag }} }}
    }} }}""")["model_by_pk"]
    assert found["model_id"] == "housemodel" and found["model_version"] == mv.version
    assert found["sha"] == mv.sha and found["status"] == "ready" and found["file_name"] == "rf_model.onnx"
    assert found["file_size"] == len(mv.data) and found["visibility"] == "private"
    assert found["arch"] == "x86" and found["accel"] == "none"
    assert found["conversion"]["framework"] == "onnx"
    assert found["model"] == {"id": mv.model_id, "name": "housemodel",
                              "workspace": {"id": platform.ws.id, "name": "graphql-ws"}}
    assert found["model_configs"] == [{"id": platform.config.id, "runtime": "onnx", "tensor_fields": ["tensor"]}]
    assert found["model_tags"] == []


def test_pipeline_versions_definitions_and_deployment(platform: Platform) -> None:
    found = data("""query P($pipeline_id: bigint!) { pipeline_by_pk(id: $pipeline_id) {
        id pipeline_id workspace_id
        pipeline_versions(order_by: {id: desc}) { id version definition steps: definition(path: "steps") }
        latest: pipeline_versions(order_by: {id: desc}, limit: 1) { id }
        deployment { id deploy_id deployed engine_config
            deployment_pipeline_versions { pipeline_version { version } }
            deployment_model_configs { model_config { id model { sha } } } }
    } }""", {"pipeline_id": platform.pipeline.id})["pipeline_by_pk"]
    versions = found["pipeline_versions"]
    assert [v["id"] for v in versions] == sorted((v.id for v in platform.pipeline.versions), reverse=True)
    mv = platform.model
    assert versions[0]["definition"] == {"id": "housepipe", "steps": [
        {"ModelInference": {"models": [{"name": "housemodel", "version": mv.version, "sha": mv.sha}]}}]}
    assert versions[0]["steps"] == versions[0]["definition"]["steps"]
    assert versions[-1]["definition"] == {} and versions[-1]["steps"] is None
    assert found["latest"] == [{"id": platform.version.id}]
    dep = found["deployment"]
    assert dep["id"] == platform.deployment.id and dep["deploy_id"] == "housepipe" and dep["deployed"] is True
    assert dep["deployment_pipeline_versions"] == [{"pipeline_version": {"version": platform.version.version}}]
    assert dep["deployment_model_configs"] == [{"model_config": {"id": platform.config.id, "model": {"sha": mv.sha}}}]
    other = data("query P($id: bigint!) { pipeline_by_pk(id: $id) { deployment { id } } }", {"id": platform.empty.id})
    assert other == {"pipeline_by_pk": {"deployment": None}}


def test_deployment_by_pk_and_the_deployment_models_aggregate(platform: Platform) -> None:
    dep = platform.deployment
    found = data("""query D($deployment_id: bigint!) { deployment_by_pk(id: $deployment_id) {
        id deploy_id deployed pipeline { pipeline_id }
        deployment_pipeline_versions(order_by: {pipeline_version: {id: desc}}) { pipeline_version { id } }
    } }""", {"deployment_id": dep.id})["deployment_by_pk"]
    assert found == {"id": dep.id, "deploy_id": "housepipe", "deployed": True,
                     "pipeline": {"pipeline_id": "housepipe"},
                     "deployment_pipeline_versions": [{"pipeline_version": {"id": platform.version.id}}]}
    models = data("""query PipelineModels($id: bigint!) { pipeline_by_pk(id: $id) { deployment {
        deployment_model_configs_aggregate(distinct_on: deployment_id) { nodes { model_config { model { model { name } } } } }
    } } }""", {"id": platform.pipeline.id})
    nodes = models["pipeline_by_pk"]["deployment"]["deployment_model_configs_aggregate"]["nodes"]
    assert nodes == [{"model_config": {"model": {"model": {"name": "housemodel"}}}}]
    counts = data("""query { deployment_aggregate(where: {deployed: {_eq: true}}) { aggregate { count } }
                             deployment(where: {limit_status: {_is_null: true}}) { id limit_status } }""")
    assert counts == {"deployment_aggregate": {"aggregate": {"count": 1}},
                      "deployment": [{"id": dep.id, "limit_status": None}]}
    platform.backend.undeploy(platform.pipeline.id)
    platform.emu.clock.advance(10)
    assert data("query D($id: bigint!) { deployment_by_pk(id: $id) { deployed } }", {"id": dep.id}) == {
        "deployment_by_pk": {"deployed": False}}


def test_orchestration_task_and_runs(platform: Platform) -> None:
    orch = platform.orch
    found = data("""query GetOrchestration($id: uuid!) { orchestration_by_pk(id: $id) {
        id sha name file_name status workspace_id owner_id task_id created_at updated_at workspace { name }
    } }""", {"id": orch.id.upper()})["orchestration_by_pk"]
    assert found == {"id": orch.id, "sha": orch.sha, "name": "orch", "file_name": "orch.zip", "status": "ready",
                     "workspace_id": platform.ws.id, "owner_id": USER_ID, "task_id": orch.task_id,
                     "created_at": orch.created_at.isoformat(), "updated_at": orch.updated_at.isoformat(),
                     "workspace": {"name": "graphql-ws"}}
    task = platform.task
    run = task.runs[0]
    tasks = data("""query T($sha: String!, $killed: Boolean!, $limit: Int!, $task: uuid!) {
        task(where: {event: {_contains: {extra_env_vars: {ORCH_SHA: $sha}}}, killed: {_in: [false, $killed]}},
             order_by: {updated_at: desc}) {
            id name status killed task_type input_data flavor workspace_id
            task_runs(order_by: {updated_at: desc}, limit: $limit) { pod_id status }
        }
        task_run(where: {task: {_eq: $task}, status: {_in: ["success", "failure"]}}) { task pod_id status }
    }""", {"sha": orch.sha, "killed": False, "limit": 5, "task": task.id})
    assert tasks["task"] == [{"id": task.id, "name": "once", "status": task.status, "killed": False,
                              "task_type": "job", "input_data": {"rows": 3}, "flavor": "exec_orch_oneshot",
                              "workspace_id": platform.ws.id,
                              "task_runs": [{"pod_id": run.run_id, "status": "success"}]}]
    assert tasks["task_run"] == [{"task": task.id, "pod_id": run.run_id, "status": "success"}]
    by_pk = data("query R($task: uuid!, $pod: uuid!) { task_run_by_pk(task: $task, pod_id: $pod) { status } }",
                 {"task": task.id, "pod": run.run_id})
    assert by_pk == {"task_run_by_pk": {"status": "success"}}


def test_connections_and_workspace_links(platform: Platform) -> None:
    conn = platform.connection
    found = data("""query C($ws: bigint!) { connections(where: {name: {_eq: "bq-in"}}) {
        id name type details created_at workspace_connections { workspace { name } } }
        workspace_connections(where: {workspace_id: {_eq: $ws}}) { id connection { name } } }""", {"ws": platform.ws.id})
    assert found["connections"] == [{"id": conn.id, "name": "bq-in", "type": "BIGQUERY",
                                     "details": {"project": "p", "dataset": "d"},
                                     "created_at": conn.created_at.isoformat(),
                                     "workspace_connections": [{"workspace": {"name": "graphql-ws"}}]}]
    assert found["workspace_connections"] == [{"id": platform.link, "connection": {"name": "bq-in"}}]


# ------------------------------------------------------------------------------------------
# Argument shapes
# ------------------------------------------------------------------------------------------


def test_where_operators(platform: Platform) -> None:
    def names(where: str, variables: dict[str, Any] | None = None, decl: str = "") -> list[str]:
        rows = data(f"query Q{decl} {{ pipeline(where: {where}, order_by: {{pipeline_id: asc}}) {{ pipeline_id }} }}",
                    variables)["pipeline"]
        return [r["pipeline_id"] for r in rows]

    both = ["emptypipe", "housepipe"]
    assert names("{}") == both
    assert names('{pipeline_id: {_eq: "housepipe"}}') == ["housepipe"]
    assert names('{pipeline_id: {_neq: "housepipe"}}') == ["emptypipe"]
    assert names('{pipeline_id: {_in: ["housepipe", "nope"]}}') == ["housepipe"]
    assert names('{pipeline_id: {_nin: ["housepipe"]}}') == ["emptypipe"]
    assert names('{pipeline_id: {_like: "house%"}}') == ["housepipe"]
    assert names('{pipeline_id: {_ilike: "%PIPE"}}') == both
    assert names('{pipeline_id: {_nilike: "HOUSE%"}}') == ["emptypipe"]
    assert names('{pipeline_id: {_iregex: "^E"}}') == ["emptypipe"]
    assert names('{pipeline_id: {_similar: "(house|nothing)pipe"}}') == ["housepipe"]
    assert names(f"{{id: {{_gt: {platform.pipeline.id}}}}}") == ["emptypipe"]
    assert names(f"{{id: {{_lte: {platform.pipeline.id}}}}}") == ["housepipe"]
    assert names('{_or: [{pipeline_id: {_eq: "housepipe"}}, {pipeline_id: {_eq: "emptypipe"}}]}') == both
    assert names('{_and: {pipeline_id: {_eq: "housepipe"}, workspace_id: {_eq: $ws}}}', {"ws": platform.ws.id},
                 "($ws: bigint!)") == ["housepipe"]
    assert names('{_not: {pipeline_id: {_eq: "housepipe"}}}') == ["emptypipe"]
    assert names('{workspace: {name: {_eq: "other-ws"}}}') == ["emptypipe"]
    assert names('{deployment: {deployed: {_eq: true}}}') == ["housepipe"]
    assert names("{pipeline_versions: {version: {_in: $v}}}", {"v": [platform.version.version]},
                 "($v: [uuid!]!)") == ["housepipe"]
    assert names("{pipeline_versions: {definition: {_cast: {String: {_ilike: $sha}}}}}",
                 {"sha": f"%{platform.model.sha}%"}, "($sha: String!)") == ["housepipe"]
    assert names('{pipeline_versions: {definition: {_contains: {id: "housepipe"}}}}') == ["housepipe"]
    assert names('{pipeline_versions: {definition: {_has_key: "steps"}}}') == ["housepipe"]
    assert names('{created_at: {_gte: "2000-01-01T00:00:00Z"}}') == both
    assert names('{created_at: {_lt: "2000-01-01T00:00:00+00:00"}}') == []
    assert names('{id: {_is_null: false}}') == both
    # an unset nullable variable collapses its condition (Hasura's boolean-null collapse)
    assert names("{workspace_id: {_eq: $ws}}", {"ws": None}, "($ws: bigint)") == both
    assert names("{workspace_id: {_eq: $ws}}", {"ws": platform.ws.id}, "($ws: bigint)") == ["housepipe"]
    files = data("query { model(where: {files_aggregate: {count: {predicate: {_eq: 0}}}}) { id } }")
    assert files == {"model": [{"id": platform.model.id}]}


def test_order_limit_offset_and_distinct_on(platform: Platform) -> None:
    def ids(args: str) -> list[int]:
        return [r["id"] for r in data(f"query {{ pipeline_version({args}) {{ id }} }}")["pipeline_version"]]

    all_ids = sorted(v["id"] for v in data("query { pipeline_version { id } }")["pipeline_version"])
    assert ids("order_by: {id: asc}") == all_ids
    assert ids("order_by: [{id: desc}]") == all_ids[::-1]
    assert ids("order_by: {id: desc}, limit: 2") == all_ids[::-1][:2]
    assert ids("order_by: {id: asc}, offset: 1, limit: 1") == all_ids[1:2]
    assert ids("order_by: [{pipeline: {pipeline_id: asc}}, {id: desc}]")[0] == platform.empty.versions[-1].id
    per_pipeline = ids("distinct_on: pipeline_pk_id, order_by: [{pipeline_pk_id: asc}, {id: desc}]")
    assert per_pipeline == [platform.version.id, platform.empty.versions[-1].id]
    bad = error("query { pipeline_version(distinct_on: pipeline_pk_id, order_by: {id: desc}) { id } }")
    assert bad["extensions"]["code"] == "validation-failed" and "distinct_on" in bad["message"]
    negative = error("query { pipeline_version(limit: -1) { id } }")
    assert negative["extensions"]["code"] == "validation-failed"


def test_aggregates(platform: Platform) -> None:
    found = data("""query A($id: bigint!) { model_by_pk(id: $id) {
        model_configs_aggregate(where: {deployment_model_configs: {deployment: {deployed: {_eq: true}}}}) {
            aggregate { count(columns: id) max { id } min { runtime } sum { id } avg { model_id } } }
        files_aggregate { aggregate { sum { size } count } }
    } workspace_aggregate(distinct_on: owner_id) { nodes { owner_id } aggregate { count(distinct: true, columns: owner_id) } } }""",
                 {"id": platform.model.id})
    configs = found["model_by_pk"]["model_configs_aggregate"]["aggregate"]
    assert configs == {"count": 1, "max": {"id": platform.config.id}, "min": {"runtime": "onnx"},
                       "sum": {"id": platform.config.id}, "avg": {"model_id": float(platform.model.id)}}
    assert found["model_by_pk"]["files_aggregate"] == {"aggregate": {"sum": {"size": None}, "count": 0}}
    assert found["workspace_aggregate"] == {"nodes": [{"owner_id": USER_ID}], "aggregate": {"count": 1}}


def test_search_functions(platform: Platform) -> None:
    found = data("""query S($search_term: String!) {
        search_pipelines(args: {search: $search_term}, distinct_on: id, order_by: {id: desc}) {
            id version pipeline { pipeline_id workspace { name } } }
        search_models(args: {search: $search_term}, order_by: {created_at: desc}) { id }
    }""", {"search_term": "HOUSE"})
    assert {r["pipeline"]["pipeline_id"] for r in found["search_pipelines"]} == {"housepipe"}
    assert found["search_models"] == [{"id": platform.model.id}]
    everything = data('query { search_pipelines(args: {search: ""}) { id } }')["search_pipelines"]
    assert len(everything) == len(platform.pipeline.versions) + len(platform.empty.versions)


# ------------------------------------------------------------------------------------------
# Mutations change the platform through the backend
# ------------------------------------------------------------------------------------------

CREATE_DEFAULT = """mutation CreateDefault($user_id: String!, $workspace_name: String!, $user_type: String) {
  insert_workspace_one(object: {name: $workspace_name, owner_id: $user_id,
      users: {data: {user_id: $user_id, user_type: $user_type}}, archived: false,
      user_default_workspaces: {data: {user_id: $user_id}}},
    on_conflict: {constraint: workspace_name_key, update_columns: []}) { id name }
}"""
DEFAULT_OF = """query Default($user_id: String) {
  user_default_workspace(where: {user_id: {_eq: $user_id}}) { workspace { id name users { user_id } } }
}"""


def test_default_workspace_created_through_graphql(platform: Platform) -> None:
    newcomer = "7e57ab1e-0000-4000-8000-000000000001"
    assert data(DEFAULT_OF, {"user_id": newcomer}) == {"user_default_workspace": []}
    created = data(CREATE_DEFAULT, {"user_id": newcomer, "workspace_name": "new@example.com - Default Workspace",
                                    "user_type": "OWNER"})["insert_workspace_one"]
    record = platform.backend.workspace(created["id"])
    assert record.name == "new@example.com - Default Workspace" and record.created_by == newcomer
    assert data(DEFAULT_OF, {"user_id": newcomer})["user_default_workspace"] == [
        {"workspace": {"id": record.id, "name": record.name, "users": [{"user_id": newcomer}]}}]
    again = data(CREATE_DEFAULT, {"user_id": newcomer, "workspace_name": record.name, "user_type": "OWNER"})
    assert again == {"insert_workspace_one": None}  # ON CONFLICT DO NOTHING inserts nothing
    duplicate = error('mutation { insert_workspace_one(object: {name: "graphql-ws"}) { id } }')
    assert duplicate["extensions"] == {"path": "$.selectionSet.insert_workspace_one", "code": "constraint-violation"}


def test_backend_default_workspace_is_the_users_default(platform: Platform) -> None:
    default = platform.backend.default_workspace(platform.user)
    found = data(DEFAULT_OF, {"user_id": USER_ID})["user_default_workspace"]
    assert [r["workspace"]["id"] for r in found] == [default.id]


def test_insert_pipeline_with_a_definition_makes_a_version_with_those_steps(platform: Platform) -> None:
    mv = platform.model
    definition = {"id": "newpipe", "steps": [{"ModelInference": {"models": [
        {"name": mv.name, "version": mv.version, "sha": mv.sha}]}}]}
    created = data("""mutation C($pipeline_id: String!, $definition: jsonb!, $workspace_id: bigint!) {
        insert_pipeline(objects: {pipeline_versions: {data: {definition: $definition}}, pipeline_id: $pipeline_id,
                                  workspace_id: $workspace_id},
                        on_conflict: {constraint: pipeline_pipeline_id_workspace_id_key, update_columns: [updated_at]}) {
            affected_rows returning { id pipeline_versions(order_by: {id: desc}, limit: 1) { id definition } } } }""",
                   {"pipeline_id": "newpipe", "definition": definition, "workspace_id": platform.ws.id})
    response = created["insert_pipeline"]
    assert response["affected_rows"] == 1
    record = platform.backend.pipeline(response["returning"][0]["id"])
    assert record.name == "newpipe" and record.workspace_id == platform.ws.id
    assert record.versions[-1].steps == [[mv.id]]
    assert response["returning"][0]["pipeline_versions"] == [{"id": record.versions[-1].id, "definition": definition}]
    unknown = error('mutation U($ws: bigint!) { insert_pipeline(objects: {pipeline_id: "x", workspace_id: $ws, '
                    'pipeline_versions: {data: {definition: {steps: [{ModelInference: {models: '
                    '[{name: "m", version: "no-such-version", sha: "0"}]}}]}}}}) { affected_rows } }',
                    {"ws": platform.ws.id})
    assert unknown["extensions"]["code"] == "constraint-violation"
    assert platform.backend.pipeline_in_workspace(platform.ws.id, "x") is None


def test_deploy_and_undeploy_by_pk(platform: Platform) -> None:
    dep_id = platform.deployment.id
    mutation = "mutation D($id: bigint!, $deployed: Boolean) { update_deployment_by_pk(pk_columns: {id: $id}, " \
               "_set: {deployed: $deployed}) { id deployed } }"
    assert data(mutation, {"id": dep_id, "deployed": False}) == {
        "update_deployment_by_pk": {"id": dep_id, "deployed": False}}
    assert platform.backend.pipeline(platform.pipeline.id).deployment.deployed is False
    platform.emu.clock.advance(10)
    data(mutation, {"id": dep_id, "deployed": True})
    assert platform.backend.pipeline(platform.pipeline.id).deployment.deployed is True
    assert data(mutation, {"id": 999, "deployed": True}) == {"update_deployment_by_pk": None}


def test_configure_model_through_insert_model_config(platform: Platform) -> None:
    created = data("""mutation M($model_id: bigint!, $tensor_fields: jsonb, $runtime: String) {
        insert_model_config(objects: {model_id: $model_id, runtime: $runtime, tensor_fields: $tensor_fields}) {
            returning { id model_id runtime tensor_fields model { id } } } }""",
                   {"model_id": platform.model.id, "tensor_fields": ["input"], "runtime": "onnx"})
    returned = created["insert_model_config"]["returning"][0]
    config = platform.backend.model_version(platform.model.id).config
    assert returned == {"id": config.id, "model_id": platform.model.id, "runtime": "onnx",
                        "tensor_fields": ["input"], "model": {"id": platform.model.id}}
    assert config.tensor_fields == ["input"]


def test_tags_on_pipelines_and_models(platform: Platform) -> None:
    tag = data('mutation { insert_tag(objects: {tag: "blue"}) { returning { id tag } } }')["insert_tag"]["returning"][0]
    ids = {"pipeline": platform.pipeline.id, "model": platform.model.id, "tag": tag["id"]}
    data("mutation T($pipeline: bigint!, $tag: bigint!) { insert_pipeline_tag(objects: "
         "{pipeline_pk_id: $pipeline, tag_pk_id: $tag}) { returning { tag_pk_id } } }", ids)
    data("mutation T($model: bigint!, $tag: bigint!) { insert_model_tag(objects: {model_id: $model, tag_id: $tag}) "
         "{ returning { tag_id } } }", ids)
    found = data("query T($tag: bigint!) { tag_by_pk(id: $tag) { tag pipeline_tags { pipeline { pipeline_id } } "
                 "model_tags { model { model_id } } } }", ids)
    assert found == {"tag_by_pk": {"tag": "blue", "pipeline_tags": [{"pipeline": {"pipeline_id": "housepipe"}}],
                                   "model_tags": [{"model": {"model_id": "housemodel"}}]}}
    removed = data("mutation T($pipeline: bigint!, $tag: bigint!) { delete_pipeline_tag(where: {_and: "
                   "[{pipeline_pk_id: {_eq: $pipeline}}, {tag_pk_id: {_eq: $tag}}]}) { returning { pipeline_pk_id } } }",
                   ids)
    assert removed == {"delete_pipeline_tag": {"returning": [{"pipeline_pk_id": platform.pipeline.id}]}}
    assert data("query { pipeline_tag { id } }") == {"pipeline_tag": []}
    missing = error("mutation T($tag: bigint!) { insert_pipeline_tag(objects: {pipeline_pk_id: 999, tag_pk_id: $tag}) "
                    "{ affected_rows } }", ids)
    assert missing["extensions"]["code"] == "constraint-violation"


def test_visibility_updates(platform: Platform) -> None:
    ids = {"id": platform.pipeline.id}
    data('mutation V($id: bigint!) { update_pipeline(where: {id: {_eq: $id}}, _set: {visibility: "public"}) '
         '{ returning { visibility } } }', ids)
    assert data("query V($id: bigint!) { pipeline_by_pk(id: $id) { visibility } }", ids) == {
        "pipeline_by_pk": {"visibility": "public"}}
    refused = error('mutation { update_pipeline(where: {id: {_eq: 1}}, _set: {pipeline_id: "renamed"}) '
                    '{ affected_rows } }')
    assert refused["extensions"]["code"] == "not-supported"


def test_connection_mutations(platform: Platform) -> None:
    created = data('mutation { insert_connections_one(object: {name: "bq-out", type: "BIGQUERY", details: {a: 1}}) '
                   '{ id name } }')["insert_connections_one"]
    assert platform.backend.connection_by_name("bq-out").id == created["id"]
    ids = {"ws": platform.other_ws.id, "connection": created["id"]}
    data("mutation L($ws: bigint!, $connection: uuid!) { insert_workspace_connections_one(object: "
         "{workspace_id: $ws, connection_id: $connection}) { id } }", ids)
    assert platform.backend.connection_by_name("bq-out").workspace_ids == [platform.other_ws.id]
    data("mutation L($connection: uuid!) { delete_workspace_connections(where: {connection_id: {_eq: $connection}}) "
         "{ affected_rows } }", {"connection": created["id"]})
    assert platform.backend.connection_by_name("bq-out").workspace_ids == []
    assert data('mutation { delete_connections(where: {name: {_eq: "bq-out"}}) { affected_rows } }') == {
        "delete_connections": {"affected_rows": 1}}
    assert [c.name for c in platform.backend.list_connections()] == ["bq-in"]


def test_mutations_not_emulated_change_nothing(platform: Platform) -> None:
    refused = error('mutation { insert_assay(objects: {name: "a", pipeline_name: "housepipe"}) { affected_rows } }')
    assert refused["extensions"] == {"path": "$.selectionSet.insert_assay", "code": "not-supported"}
    assert "insert_assay" in refused["message"]
    assert data("query { assay { id } }") == {"assay": []}


# ------------------------------------------------------------------------------------------
# Errors in Hasura's shape
# ------------------------------------------------------------------------------------------


def test_request_errors(platform: Platform) -> None:
    not_json = requests.post(URL, data=b"{nope", headers={"Content-Type": "application/json"}).json()
    assert not_json["errors"][0]["extensions"]["code"] == "invalid-json"
    no_query = requests.post(URL, json={"variables": {}}).json()
    assert no_query["errors"][0]["extensions"]["code"] == "parse-failed"
    syntax = error("query { workspace(")
    assert syntax["extensions"]["code"] == "parse-failed"
    unknown = error("query { workspace { nope } }")
    assert unknown["extensions"]["code"] == "validation-failed" and "nope" in unknown["message"]
    bad_uuid = error("query O($id: uuid!) { orchestration_by_pk(id: $id) { id } }", {"id": "not-a-uuid"})
    assert bad_uuid["extensions"]["code"] == "validation-failed" and "uuid" in bad_uuid["message"]
    two = error("query A { workspace { id } } query B { pipeline { id } }")
    assert two["extensions"]["code"] == "validation-failed"
    named = post("query A { workspace { id } } query B { pipeline { id } }", operationName="B")
    assert set(named["data"]) == {"pipeline"}
    batch = requests.post(URL, json=[{"query": "query { workspace { id } }"}, {"query": "{ pipeline { id } }"}]).json()
    assert [set(item["data"]) for item in batch] == [{"workspace"}, {"pipeline"}]


def test_jsonb_containment_and_paths_follow_postgresql() -> None:
    from emulator.wallaroo.hasura_query import QueryError, json_path, jsonb_contains, jsonb_text

    event = {"extra_env_vars": {"ORCH_SHA": "abc", "TASK_DEBUG": "false"}, "tags": ["a", "b"], "n": 1, "ok": True}
    assert jsonb_contains(event, {"extra_env_vars": {"ORCH_SHA": "abc"}})
    assert not jsonb_contains(event, {"extra_env_vars": {"ORCH_SHA": "abd"}})
    assert jsonb_contains(event, {"tags": ["b"]}) and not jsonb_contains(event, {"tags": ["c"]})
    assert jsonb_contains(["a", "b"], "a")  # a scalar is contained in an array holding it
    assert not jsonb_contains({"ok": 1}, {"ok": True}) and not jsonb_contains({"n": True}, {"n": 1})
    assert jsonb_contains({"n": 1}, {"n": 1.0})
    assert jsonb_text({"steps": [], "id": "p", "a": {"bb": 1, "c": 2}}) == '{"a": {"c": 2, "bb": 1}, "id": "p", "steps": []}'
    definition = {"steps": [{"ModelInference": {"models": [{"name": "m"}]}}]}
    assert json_path(definition, "steps[0].ModelInference.models[0].name") == "m"
    assert json_path(definition, '$.steps[0]["ModelInference"]') == {"models": [{"name": "m"}]}
    assert json_path(definition, "$.nope.deeper") is None and json_path(definition, "steps[5]") is None
    with pytest.raises(QueryError):
        json_path(definition, "steps..[")
