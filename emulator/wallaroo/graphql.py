"""The platform's GraphQL endpoint, ``POST /v1/graphql``: Hasura's API over the emulated platform.

The real SDKs reach the platform's Hasura through gql with ``fetch_schema_from_transport=True``:
the first request of every client is the standard introspection query, and gql then validates
every document locally against the schema it got back. So the endpoint serves

* the schema of :mod:`emulator.wallaroo.hasura_schema` (every table, field, argument and input
  type the SDKs 2023.2.1, 2025.2.5 and 2026.1.3 use), answering introspection from a per-process
  cache (built once per distinct introspection document);
* queries, executed by graphql-core with resolvers over a :class:`~emulator.wallaroo.hasura_rows.Snapshot`
  of the platform (one per request) and Hasura's filtering/ordering/aggregate semantics
  (:mod:`emulator.wallaroo.hasura_query`);
* the mutations the SDKs send, through the backend (:mod:`emulator.wallaroo.hasura_mutations`).

Wire format, as Hasura's: the body is ``{"query", "variables"[, "operationName"]}`` (gql sends no
``operationName``: a document with one operation needs none) or a JSON list of such bodies (a
batch, answered with a list). Every answer is HTTP 200 with ``{"data": ...}`` or, when anything
failed, ``{"errors": [{"message", "extensions": {"path", "code"}}]}`` and no data (Hasura never
returns partial results). Codes: ``invalid-json`` (body not JSON), ``parse-failed`` (body or query
text malformed), ``validation-failed`` (the document does not fit the schema, or an argument is
refused), ``constraint-violation`` (a unique or foreign key, a NOT NULL column),
``not-supported`` (a mutation the emulator does not carry out), ``unexpected`` (anything else).
gql turns any ``errors`` into ``TransportQueryError`` carrying the first message.

The Authorization header is not checked (as elsewhere in the emulator).
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from emulator.transport import Request, Response

#: Path of the endpoint (regex for the router).
GRAPHQL_PATH = r"/v1/graphql"
_lock = threading.RLock()


def register_graphql(router: Any, emu: Any) -> None:
    """Serve ``POST /v1/graphql`` on the emulator's ``wallaroo`` service (cheap: nothing is built here)."""
    router.add_route("wallaroo", "POST", GRAPHQL_PATH, lambda request: handle(emu, request))


def handle(emu: Any, request: Request) -> Response:
    try:
        body = json.loads(request.body or b"null")
    except (UnicodeDecodeError, ValueError):
        return Response.json(_errors(_error("Error in $: Failed reading: not a valid json value", "invalid-json")))
    if isinstance(body, list):
        return Response.json([execute_body(emu, item) for item in body])
    encoded = _cached_introspection(body)
    if encoded is not None:
        return Response(200, encoded, {"Content-Type": "application/json; charset=UTF-8"})
    return Response.json(execute_body(emu, body))


def _cached_introspection(body: Any) -> bytes | None:
    """The encoded answer to an introspection-only request (encoded once: it is large), else None."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    variables = body.get("variables")
    operation = body.get("operationName")
    if (variables is not None and not isinstance(variables, dict)) or not isinstance(operation, str | None):
        return None
    prepared = _prepare(body["query"])
    if isinstance(prepared, dict) or not prepared[1]:
        return None
    return _introspection_bytes(body["query"], json.dumps(variables, sort_keys=True), operation)


@functools.lru_cache(maxsize=16)
def _introspection_bytes(query: str, variables: str, operation_name: str | None) -> bytes:
    payload = _introspection(query, variables, operation_name)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def execute_body(emu: Any, body: Any) -> dict[str, Any]:
    """Hasura's answer to one request body (already decoded from JSON)."""
    if not isinstance(body, dict):
        return _errors(_error(f"Error in $: expected Object, but encountered {_json_kind(body)}", "parse-failed"))
    query = body.get("query")
    if not isinstance(query, str):
        kind = "missing" if query is None else _json_kind(query)
        message = ("Error in $: key \"query\" not found" if kind == "missing"
                   else f"Error in $.query: expected String, but encountered {kind}")
        return _errors(_error(message, "parse-failed", "$.query" if kind != "missing" else "$"))
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return _errors(_error(f"Error in $.variables: expected Object, but encountered {_json_kind(variables)}",
                              "parse-failed", "$.variables"))
    operation = body.get("operationName")
    return execute(emu, query, variables, operation if isinstance(operation, str) else None)


def execute(emu: Any, query: str, variables: dict[str, Any] | None = None,
            operation_name: str | None = None) -> dict[str, Any]:
    """Run one GraphQL document against the emulator; the JSON-ready answer Hasura would give."""
    from graphql import ExecutionResult
    from graphql import execute as gql_execute

    prepared = _prepare(query)
    if isinstance(prepared, dict):
        return prepared
    document, introspection_only = prepared
    if introspection_only:
        return _introspection(query, json.dumps(variables, sort_keys=True), operation_name)
    from emulator.wallaroo.hasura_rows import Snapshot

    context = {"emu": emu, "snapshot": Snapshot(emu)}
    with _lock:
        result = gql_execute(_executable_schema(), document, variable_values=variables or {},
                             operation_name=operation_name, context_value=context)
    assert isinstance(result, ExecutionResult)
    if result.errors:
        return _errors(*(_from_graphql_error(e) for e in result.errors))
    return {"data": result.data}


@functools.lru_cache(maxsize=512)
def _prepare(query: str) -> Any:
    """Parse and validate a document (cached by its text: the SDKs send the same texts again and again)."""
    from graphql import GraphQLError, parse, validate
    from graphql.language import ast

    try:
        document = parse(query)
    except GraphQLError as exc:
        return _errors(_error(f"not a valid graphql query: {exc.message}", "parse-failed", "$.query"))
    errors = validate(_executable_schema(), document)
    if errors:
        return _errors(*(_error(e.message, "validation-failed") for e in errors))
    operations = [d for d in document.definitions if isinstance(d, ast.OperationDefinitionNode)]
    introspection_only = all(
        isinstance(sel, ast.FieldNode) and sel.name.value.startswith("__")
        for op in operations for sel in op.selection_set.selections)
    return document, introspection_only


@functools.lru_cache(maxsize=16)
def _introspection(query: str, variables: str, operation_name: str | None) -> dict[str, Any]:
    """Introspection answers, computed once per process per distinct introspection request."""
    from graphql import graphql_sync

    result = graphql_sync(_executable_schema(), query, variable_values=json.loads(variables) or {},
                          operation_name=operation_name)
    if result.errors:
        return _errors(*(_from_graphql_error(e) for e in result.errors))
    return {"data": result.data}


# ------------------------------------------------------------------------------------------
# Errors in Hasura's shape
# ------------------------------------------------------------------------------------------


def _error(message: str, code: str, path: str = "$") -> dict[str, Any]:
    return {"extensions": {"path": path, "code": code}, "message": message}


def _errors(*errors: dict[str, Any]) -> dict[str, Any]:
    return {"errors": list(errors)}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    return {str: "String", list: "Array", dict: "Object", type(None): "Null"}.get(type(value), "Value")


def _from_graphql_error(error: Any) -> dict[str, Any]:
    from emulator.wallaroo.hasura_query import QueryError

    path = "$"
    if error.path:
        path = "$" + "".join(f".selectionSet.{p}" for p in error.path if isinstance(p, str))
    original = error.original_error
    if isinstance(original, QueryError):
        return _error(original.message, original.code, path)
    if not error.path:  # variable values refused before execution
        return _error(error.message, "validation-failed", "$.variables" if error.original_error else path)
    return _error(error.message, "unexpected", path)


# ------------------------------------------------------------------------------------------
# Resolvers
# ------------------------------------------------------------------------------------------


@functools.cache
def _executable_schema() -> Any:
    """The schema with this module's resolvers attached (once per process)."""
    from emulator.wallaroo.hasura_schema import catalogue, schema

    built = schema()
    cat = catalogue()
    query_root = built.query_type.fields
    mutation_root = built.mutation_type.fields
    for name, table in cat.tables.items():
        query_root[name].resolve = _select_root(name)
        query_root[f"{name}_by_pk"].resolve = _by_pk(name)
        if table.aggregate:
            query_root[f"{name}_aggregate"].resolve = _aggregate_root(name)
            _attach_aggregate_type(built, name)
        object_type = built.type_map[name]
        for column in table.columns.values():
            if column.type == "jsonb":
                object_type.fields[column.name].resolve = _jsonb_column(column.name)
        for rel in table.relationships.values():
            object_type.fields[rel.name].resolve = _relationship(name, rel.name)
            if rel.is_array and cat.tables[rel.target].aggregate:
                object_type.fields[f"{rel.name}_aggregate"].resolve = _relationship_aggregate(name, rel.name)
    for function in cat.functions.values():
        if not function.mutation:
            query_root[function.name].resolve = _search(function.name, function.returns)
    for field_name, field in mutation_root.items():
        field.resolve = _mutation(field_name)
    return built


def _snapshot(info: Any) -> Any:
    return info.context["snapshot"]


def _table(name: str) -> Any:
    from emulator.wallaroo.hasura_schema import catalogue

    return catalogue().tables[name]


def _select_root(name: str) -> Any:
    from emulator.wallaroo.hasura_query import select

    def resolve(_root: Any, info: Any, **args: Any) -> list[dict[str, Any]]:
        snap = _snapshot(info)
        return select(snap, _table(name), snap.rows(name), args)
    return resolve


def _by_pk(name: str) -> Any:
    def resolve(_root: Any, info: Any, **pk: Any) -> dict[str, Any] | None:
        return _snapshot(info).by_pk(name, pk)
    return resolve


def _aggregate_root(name: str) -> Any:
    from emulator.wallaroo.hasura_query import Aggregate, select

    def resolve(_root: Any, info: Any, **args: Any) -> Any:
        snap = _snapshot(info)
        table = _table(name)
        return Aggregate(table, select(snap, table, snap.rows(name), args))
    return resolve


def _attach_aggregate_type(built: Any, name: str) -> None:
    from emulator.wallaroo.hasura_query import count_rows

    aggregate = built.type_map[f"{name}_aggregate"]
    aggregate.fields["aggregate"].resolve = lambda agg, _info: agg
    aggregate.fields["nodes"].resolve = lambda agg, _info: agg.rows
    fields = built.type_map[f"{name}_aggregate_fields"].fields
    fields["count"].resolve = lambda agg, _info, columns=None, distinct=None: count_rows(
        agg.rows, columns, bool(distinct))
    for fn in ("max", "min", "avg", "sum"):
        if fn in fields:
            fields[fn].resolve = lambda agg, _info, fn=fn: agg.fields(fn)


def _jsonb_column(column: str) -> Any:
    from emulator.wallaroo.hasura_query import json_path

    def resolve(row: dict[str, Any], _info: Any, path: str | None = None) -> Any:
        return json_path(row.get(column), path)
    return resolve


def _relationship(table_name: str, rel_name: str) -> Any:
    from emulator.wallaroo.hasura_query import select

    def resolve(row: dict[str, Any], info: Any, **args: Any) -> Any:
        snap = _snapshot(info)
        table = _table(table_name)
        rel = table.relationships[rel_name]
        related = snap.related(table, rel, row)
        if not rel.is_array:
            return related[0] if related else None
        return select(snap, _table(rel.target), related, args)
    return resolve


def _relationship_aggregate(table_name: str, rel_name: str) -> Any:
    from emulator.wallaroo.hasura_query import Aggregate, select

    def resolve(row: dict[str, Any], info: Any, **args: Any) -> Any:
        snap = _snapshot(info)
        table = _table(table_name)
        rel = table.relationships[rel_name]
        target = _table(rel.target)
        return Aggregate(target, select(snap, target, snap.related(table, rel, row), args))
    return resolve


_SEARCHED_COLUMNS = {
    "pipeline_version": ("version",),
    "model": ("model_id", "model_version", "sha", "file_name"),
}


def _search(function: str, returns: str) -> Any:
    """``search_pipelines`` / ``search_models``: rows whose names, versions, shas, file names or tags
    contain the search text (case-insensitive; an empty text matches everything)."""
    from emulator.wallaroo.hasura_query import select

    def resolve(_root: Any, info: Any, args: dict[str, Any], **select_args: Any) -> list[dict[str, Any]]:
        snap = _snapshot(info)
        table = _table(returns)
        text = (args.get("search") or "").lower()
        rows = [r for r in snap.rows(returns) if not text or text in " ".join(_search_text(snap, returns, r))]
        return select(snap, table, rows, select_args)
    return resolve


def _search_text(snap: Any, table: str, row: dict[str, Any]) -> list[str]:
    words = [str(row.get(c) or "").lower() for c in _SEARCHED_COLUMNS[table]]
    tags = {t["id"]: t["tag"] for t in snap.rows("tag")}
    if table == "pipeline_version":
        pipeline = snap.by_pk("pipeline", {"id": row["pipeline_pk_id"]})
        if pipeline is not None:
            words.append(pipeline["pipeline_id"].lower())
            words += [tags.get(link["tag_pk_id"], "").lower()
                      for link in snap.index("pipeline_tag", "pipeline_pk_id").get(pipeline["id"], [])]
        for step in (row.get("definition") or {}).get("steps", []):
            for model in (step.get("ModelInference") or {}).get("models", []):
                words.append(str(model.get("name", "")).lower())
    else:
        words += [tags.get(link["tag_id"], "").lower() for link in snap.index("model_tag", "model_id").get(row["id"], [])]
    return words


def _mutation(field_name: str) -> Any:
    from emulator.wallaroo.hasura_mutations import Mutations

    def resolve(_root: Any, info: Any, **args: Any) -> Any:
        return Mutations(info.context["emu"], info.context).run(field_name, args)
    return resolve
