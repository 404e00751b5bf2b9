"""Routines (routines.insert/get/list/update/delete): SQL user-defined functions and table functions.

A routine's resource is kept in the catalog as the client sent it (plus etag and times), as
BigQuery returns it. A SQL routine becomes callable by running the GoogleSQL DDL it stands for
(``CREATE OR REPLACE [TABLE] FUNCTION `p.d.r`(args) [RETURNS T] AS (body)``) through the query
engine, so a bad body is refused when the routine is created, with the query's error. Routines in
other languages (JAVASCRIPT, PYTHON...) and procedures are kept but not run: calling one fails
with a 400 that says so (a documented gap).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.bigquery.errors import Duplicate, Invalid, NotFound
from emulator.bigquery.types import quote_ident

if TYPE_CHECKING:
    from emulator.bigquery.catalog import Catalog
    from emulator.clock import Clock

RoutineKey = tuple[str, str, str]

ROUTINE_TYPES = ("SCALAR_FUNCTION", "TABLE_VALUED_FUNCTION", "PROCEDURE", "AGGREGATE_FUNCTION")
#: Scalar types a SQL function's result is cast to (BigQuery coerces the body to RETURNS).
_CASTABLE = ("INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC", "BOOL", "STRING", "BYTES", "DATE", "DATETIME",
             "TIME", "TIMESTAMP")


def routine_not_found(project: str, dataset: str, routine: str) -> NotFound:
    return NotFound(f"Not found: Routine {project}:{dataset}.{routine}")


class Routines:
    """The routines of one backend, over the catalog (which keeps and persists their resources)."""

    def __init__(self, catalog: Catalog, clock: Clock, execute: Callable[[str, str], Any]) -> None:
        self.catalog = catalog
        self.clock = clock
        #: runs GoogleSQL DDL in a project: (sql, project)
        self.execute = execute

    def create(self, project: str, dataset: str, resource: dict[str, Any]) -> dict[str, Any]:
        routine_id = str(((resource.get("routineReference") or {}).get("routineId")) or "")
        if not routine_id:
            raise Invalid("Required parameter is missing: routineReference.routineId")
        with self.catalog.engine.lock:
            self.catalog.require_dataset(project, dataset)
            key = (project, dataset, routine_id)
            if self.catalog.routine(*key) is not None:
                raise Duplicate(f"Already Exists: Routine {project}:{dataset}.{routine_id}")
            body = self._normalised(key, resource)
            self._install(key, body)
            now = self.clock.epoch_ms()
            body.update({"creationTime": str(now), "lastModifiedTime": str(now), "etag": f"emu{now:x}"})
            self.catalog.put_routine(key, body)
            return copy.deepcopy(body)

    def get(self, project: str, dataset: str, routine_id: str) -> dict[str, Any]:
        found = self.catalog.routine(project, dataset, routine_id)
        if found is None:
            self.catalog.require_dataset(project, dataset)
            raise routine_not_found(project, dataset, routine_id)
        return copy.deepcopy(found)

    def list(self, project: str, dataset: str) -> list[dict[str, Any]]:
        self.catalog.require_dataset(project, dataset)
        return [copy.deepcopy(r) for r in self.catalog.list_routines(project, dataset)]

    def update(self, project: str, dataset: str, routine_id: str, resource: dict[str, Any]) -> dict[str, Any]:
        """routines.update: the fields sent replace the routine's (google-cloud-bigquery sends only the
        fields it was asked to update; a field sent as null is cleared)."""
        with self.catalog.engine.lock:
            old = self.get(project, dataset, routine_id)
            key = (project, dataset, routine_id)
            body = self._normalised(key, {**old, **resource, "routineReference": old["routineReference"]})
            self._install(key, body)
            now = self.clock.epoch_ms()
            body.update({"creationTime": old["creationTime"], "lastModifiedTime": str(now), "etag": f"emu{now:x}"})
            self.catalog.put_routine(key, body)
            return copy.deepcopy(body)

    def delete(self, project: str, dataset: str, routine_id: str) -> None:
        with self.catalog.engine.lock:
            self.get(project, dataset, routine_id)
            self.catalog.engine.exec(f"DROP MACRO IF EXISTS {_duck_name((project, dataset, routine_id))}")
            self.catalog.engine.exec(f"DROP MACRO TABLE IF EXISTS {_duck_name((project, dataset, routine_id))}")
            self.catalog.remove_routine((project, dataset, routine_id))

    # ------------------------------------------------------------------------------------
    def _normalised(self, key: RoutineKey, resource: dict[str, Any]) -> dict[str, Any]:
        body = {k: copy.deepcopy(v) for k, v in resource.items()
                if k not in ("etag", "creationTime", "lastModifiedTime") and v is not None}
        body["routineReference"] = {"projectId": key[0], "datasetId": key[1], "routineId": key[2]}
        kind = body.get("routineType")
        if kind not in ROUTINE_TYPES:
            raise Invalid(f"Invalid value for routineType: {kind} is not a valid value" if kind else
                          "Required parameter is missing: routineType")
        body.setdefault("language", "SQL")
        if not isinstance(body.get("definitionBody"), str) or not body["definitionBody"].strip():
            raise Invalid("Required parameter is missing: definitionBody")
        for argument in body.get("arguments") or []:
            if not argument.get("name"):
                raise Invalid("Routine arguments need a name")
        return body

    def _install(self, key: RoutineKey, body: dict[str, Any]) -> None:
        """Make the routine callable: its DDL for SQL functions, a macro that refuses the call otherwise."""
        kind, language = body["routineType"], str(body.get("language") or "SQL").upper()
        if language == "SQL" and kind in ("SCALAR_FUNCTION", "TABLE_VALUED_FUNCTION"):
            self.execute(routine_ddl(key, body), key[0])
            return
        what = f"{language} {kind.lower().replace('_', ' ')}s"
        message = f"{what} are not supported by wallaroo-emulator: {key[0]}.{key[1]}.{key[2]} cannot be called"
        names = ", ".join(quote_ident(a["name"]) for a in body.get("arguments") or [])
        self.catalog.engine.exec(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(key[0])}.{quote_ident(key[1])}")
        self.catalog.engine.exec(f"CREATE OR REPLACE MACRO {_duck_name(key)}({names}) AS "
                                 f"error({_sql_string(message)})")


def routine_ddl(key: RoutineKey, body: dict[str, Any]) -> str:
    """The GoogleSQL ``CREATE OR REPLACE [TABLE] FUNCTION`` statement a SQL routine resource stands for."""
    args = ", ".join(f"{_ident(a['name'])} {_argument_type(a)}" for a in body.get("arguments") or [])
    name = "`" + ".".join(key) + "`"
    definition = body["definitionBody"].strip().rstrip(";")
    if body["routineType"] == "TABLE_VALUED_FUNCTION":
        return f"CREATE OR REPLACE TABLE FUNCTION {name}({args}) AS (\n{definition}\n)"
    returns = body.get("returnType")
    result = f"({definition}\n)"
    if returns and returns.get("typeKind") in _CASTABLE:
        result = f"(CAST({result} AS {returns['typeKind']}))"
    return f"CREATE OR REPLACE FUNCTION {name}({args}) AS {result}"


def _argument_type(argument: dict[str, Any]) -> str:
    if argument.get("argumentKind") == "ANY_TYPE" or not argument.get("dataType"):
        return "ANY TYPE"
    return sql_type(argument["dataType"])


def sql_type(data_type: dict[str, Any]) -> str:
    """GoogleSQL spelling of a REST ``StandardSqlDataType``."""
    kind = str(data_type.get("typeKind") or "")
    if kind == "ARRAY":
        return f"ARRAY<{sql_type(data_type.get('arrayElementType') or {})}>"
    if kind == "STRUCT":
        fields = (data_type.get("structType") or {}).get("fields") or []
        return "STRUCT<" + ", ".join(f"{_ident(f['name'])} {sql_type(f.get('type') or {})}" if f.get("name")
                                     else sql_type(f.get("type") or {}) for f in fields) + ">"
    if kind == "RANGE":
        return f"RANGE<{sql_type(data_type.get('rangeElementType') or {})}>"
    if not kind or not kind.replace("_", "").isalnum():
        raise Invalid(f"Invalid value for typeKind: {kind or 'missing'}")
    return kind


def _ident(name: str) -> str:
    return "`" + str(name).replace("`", "\\`") + "`"


def _duck_name(key: RoutineKey) -> str:
    return ".".join(quote_ident(part) for part in key)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
