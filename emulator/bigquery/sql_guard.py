"""Refuse DuckDB's own table functions and engine functions in GoogleSQL, as BigQuery refuses unknown ones.

The translator passes GoogleSQL function calls it does not know through to DuckDB by name, so
without this check ``SELECT content FROM read_text('/etc/hostname')`` would read a host file and
``SELECT getenv('HOME')`` would read the environment. GoogleSQL has no such functions: BigQuery
answers ``Function not found: NAME at [line:column]`` (``Table-valued function not found`` in a
FROM clause), HTTP 400 ``invalidQuery``. This is one of two fences: the DuckDB database itself is
also configured without file access and without extension loading (see
:mod:`emulator.bigquery.engine`).

Rules (on the parsed GoogleSQL, before translation):

* in a FROM clause, a function call is a table-valued function; GoogleSQL's are ``UNNEST`` and
  user table functions named with their dataset (``ds.tvf(...)``); any one-part name is refused;
* anywhere, calls to DuckDB functions that expose the engine or the host (file readers, settings,
  catalog views, environment, ``query``...) are refused.
"""

from __future__ import annotations

import re

from sqlglot import exp

from emulator.bigquery.errors import InvalidQuery

#: DuckDB function names (lower case) that read files, settings, the environment or the catalog.
_ENGINE_FUNCTIONS = frozenset({
    "getenv", "current_setting", "current_database", "current_catalog", "current_schema", "current_schemas",
    "current_query", "version", "txid_current", "glob", "sniff_csv", "query", "query_table", "which_secret",
    "checkpoint", "force_checkpoint", "json_execute_serialized_sql", "json_serialize_sql",
    "json_deserialize_sql", "json_serialize_plan", "getvariable", "in_search_path", "summary", "repeat_row",
    "seq_scan", "arrow_scan", "pandas_scan", "python_map_function", "test_all_types", "test_vector_types",
    "enable_logging", "disable_logging", "enable_profiling", "disable_profiling", "truncate_duckdb_logs",
    "add_grammar_extension", "remove_grammar_extension", "register_external_resource",
    "create_external_resource", "destroy_external_resource", "deregister_external_resource",
})
_ENGINE_PREFIXES = ("read_", "duckdb_", "pragma_", "parquet_", "pg_", "icu_", "sqlite_", "postgres_",
                    "mysql_", "iceberg_", "delta_", "has_", "register_external")


def is_engine_function(name: str) -> bool:
    """True for DuckDB functions GoogleSQL code must never reach."""
    lowered = name.lower()
    return lowered in _ENGINE_FUNCTIONS or lowered.startswith(_ENGINE_PREFIXES)


def refuse_engine_functions(tree: exp.Expression, source: str) -> None:
    """Raise BigQuery's "not found" error for the first DuckDB-only function call in ``tree``."""
    for node in tree.find_all(exp.Table):
        call = node.this
        if isinstance(call, exp.Func) and not node.args.get("db") and not isinstance(call, exp.Unnest):
            name = _function_name(call)
            raise InvalidQuery(f"Table-valued function not found: {name}{_position(call, source, name)}")
    for call in tree.find_all(exp.Func):
        name = _function_name(call)
        if name and is_engine_function(name):
            raise InvalidQuery(f"Function not found: {name}{_position(call, source, name)}")


def _function_name(call: exp.Func) -> str:
    if isinstance(call, exp.Anonymous):
        return str(call.this)
    written = call.meta.get("bigquery_name") if call.meta else None
    return str(written or call.sql_name()).lower() if not written else str(written)


def _position(call: exp.Expression, source: str, name: str) -> str:
    """`` at [line:column]`` of the call's name in ``source`` (empty when unknown)."""
    start = (call.meta or {}).get("start")
    if not isinstance(start, int):
        match = re.search(rf"`?{re.escape(name)}`?\s*\(", source, flags=re.IGNORECASE)
        if match is None:
            return ""
        start = match.start()
    line = source.count("\n", 0, start) + 1
    column = start - (source.rfind("\n", 0, start) + 1) + 1
    return f" at [{line}:{column}]"
