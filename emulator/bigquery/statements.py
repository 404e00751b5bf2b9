"""Running translated GoogleSQL statements on DuckDB, keeping the catalog in step.

:func:`emulator.bigquery.sql.translate` turns a request into :class:`~emulator.bigquery.sql.Statement`
objects (DuckDB SQL + BigQuery ``statementType`` + target table). :class:`StatementRunner` runs one
of them on the request cursor through a handler chosen by its kind, and returns what BigQuery
reports for it (:class:`QueryOutcome`: rows and schema, DML counts, DDL target and operation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.catalog import Catalog, TableMeta
from emulator.bigquery.engine import Engine, qualified
from emulator.bigquery.errors import Duplicate, Invalid, InvalidQuery, NotFound, table_not_found
from emulator.bigquery.wire import parameter_value

if TYPE_CHECKING:
    from emulator.clock import Clock

LOCATION = "US"

DML_KINDS = ("INSERT", "UPDATE", "DELETE", "MERGE")


@dataclass
class QueryOutcome:
    """What one query (the last statement of a script) produced."""

    statement_type: str
    schema: list[dict[str, Any]] | None = None
    rows: Any = None  # pyarrow.Table for row-returning statements
    dml_affected: int | None = None
    ddl_target: tuple[str, str, str | None] | None = None
    ddl_operation: str | None = None
    referenced: list[tuple[str, str, str]] = field(default_factory=list)


class StatementRunner:
    """Runs one translated statement and keeps the catalog in step with what it did to DuckDB."""

    def __init__(self, engine: Engine, catalog: Catalog, clock: Clock) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self._handlers: dict[str, Callable[[Any, Any, Any], QueryOutcome]] = {
            "SELECT": self._select,
            "CREATE_SCHEMA": self._create_schema, "DROP_SCHEMA": self._drop_schema,
            "CREATE_TABLE": self._create, "CREATE_TABLE_AS_SELECT": self._create, "CREATE_VIEW": self._create,
            "DROP_TABLE": self._drop, "DROP_VIEW": self._drop,
            "ALTER_TABLE": self._alter, "TRUNCATE_TABLE": self._truncate,
            **{kind: self._dml for kind in DML_KINDS},
        }

    def run(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        """Run ``statement`` (DuckDB SQL of a translated Statement) with its parameter values ``bind``."""
        handler = self._handlers.get(statement.kind, self._other)
        return handler(cur, statement, bind)

    # ------------------------------------------------------------------------------------
    # queries and DML
    # ------------------------------------------------------------------------------------
    def _select(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        rel = cur.sql(statement.sql, params=bind) if bind else cur.sql(statement.sql)
        if rel is None:
            return QueryOutcome(statement.kind)
        schema = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
        return QueryOutcome(statement.kind, schema=schema, rows=rel.to_arrow_table())

    def _dml(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        target = statement.target
        if target is not None:
            meta = self.catalog.table(target.project, target.dataset, target.table)
            if meta is None:
                self.catalog.require_dataset(target.project, target.dataset)
                raise NotFound(f"Not found: Table {target.project}:{target.dataset}.{target.table} was not found "
                               f"in location {LOCATION}")
            if meta.kind == "VIEW":
                raise InvalidQuery(f"Cannot execute DML over a view: {target.project}:{target.dataset}.{target.table}")
        rows = _execute(cur, statement.sql, bind).fetchall()
        row = rows[0] if rows else None
        affected = int(row[0]) if row and row[0] is not None else 0
        if target is not None:
            self.catalog.touch((target.project, target.dataset, target.table))
        return QueryOutcome(statement.kind, dml_affected=affected)

    def _other(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        """Statements with no catalog effect (DECLARE, SET, ASSERT, functions, transactions...)."""
        _drain(_execute(cur, statement.sql, bind))
        target = statement.target
        if target is None:
            return QueryOutcome(statement.kind)
        return QueryOutcome(statement.kind, ddl_target=(target.project, target.dataset, target.table))

    # ------------------------------------------------------------------------------------
    # DDL
    # ------------------------------------------------------------------------------------
    def _create(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        kind, target = statement.kind, statement.target
        if target is None:  # a temporary table
            return self._other(cur, statement, bind)
        key = (target.project, target.dataset, target.table)
        self.catalog.require_dataset(target.project, target.dataset)
        existing = self.catalog.table(*key)
        if existing is not None and statement.if_not_exists:
            return QueryOutcome(kind, ddl_target=key, ddl_operation="SKIP")
        if existing is not None and not statement.or_replace:
            raise Duplicate(f"Already Exists: Table {target.project}:{target.dataset}.{target.table}")
        if existing is not None:
            cur.execute(f"DROP {'VIEW' if existing.kind == 'VIEW' else 'TABLE'} IF EXISTS {qualified(*key)}")
            self.catalog.remove_table(key)
        self.engine.ensure_project(target.project)
        _drain(_execute(cur, statement.sql, bind))
        now = self.clock.epoch_ms()
        rel = cur.sql(f"SELECT * FROM {qualified(*key)}")
        derived = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
        schema = _merge_declared(derived, statement.columns)
        view_sql = statement.sql if kind == "CREATE_VIEW" else None
        self.catalog.put_table(TableMeta(*key, schema=schema, created_ms=now, modified_ms=now,
                                         kind="VIEW" if kind == "CREATE_VIEW" else "TABLE", view_query=view_sql))
        # BigQuery answers a DDL query with the new object's schema and no rows; REPLACE only when it existed
        return QueryOutcome(kind, schema=schema, ddl_target=key,
                            ddl_operation="REPLACE" if existing is not None else "CREATE")

    def _existing(self, statement: Any) -> TableMeta | None:
        """The target of DROP/ALTER/TRUNCATE, or None when IF EXISTS lets a missing one pass."""
        target = statement.target
        meta = self.catalog.table(target.project, target.dataset, target.table)
        if meta is None and not statement.if_exists:
            self.catalog.require_dataset(target.project, target.dataset)
            raise table_not_found(target.project, target.dataset, target.table)
        return meta

    def _drop(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        if statement.target is None:  # a temporary table
            return self._other(cur, statement, bind)
        key = (statement.target.project, statement.target.dataset, statement.target.table)
        if self._existing(statement) is None:
            return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="SKIP")
        _drain(_execute(cur, statement.sql, bind))
        self.catalog.remove_table(key)
        return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="DROP")

    def _truncate(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        """TRUNCATE TABLE reports the rows it removed (numDmlAffectedRows), as BigQuery does."""
        key = (statement.target.project, statement.target.dataset, statement.target.table)
        if self._existing(statement) is None:
            return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="SKIP")
        removed = int(cur.execute(f"SELECT count(*) FROM {qualified(*key)}").fetchall()[0][0])
        _drain(_execute(cur, statement.sql, bind))
        self.catalog.touch(key)
        return QueryOutcome(statement.kind, dml_affected=removed, ddl_target=key)

    def _alter(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        key = (statement.target.project, statement.target.dataset, statement.target.table)
        meta = self._existing(statement)
        if meta is None:
            return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="SKIP")
        _drain(_execute(cur, statement.sql, bind))
        renamed = getattr(statement, "renamed_to", None)
        if renamed is not None:
            new_key = (renamed.project, renamed.dataset, renamed.table)
            self.catalog.rename_table(key, new_key)
            return QueryOutcome(statement.kind, ddl_target=new_key, ddl_operation="ALTER")
        rel = cur.sql(f"SELECT * FROM {qualified(*key)}")
        derived = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
        old = {f["name"].lower(): f for f in meta.schema}
        declared = {f["name"].lower(): f for f in bqtypes.normalise_schema(statement.columns or [])}
        meta.schema = [old.get(f["name"].lower()) or declared.get(f["name"].lower()) or f for f in derived]
        meta.modified_ms = self.clock.epoch_ms()
        return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="ALTER")

    def _create_schema(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        """CREATE SCHEMA through the dataset API (takes effect at once, as outside a transaction)."""
        target = statement.target
        ddl_target = (target.project, target.dataset, None)
        if self.catalog.dataset(target.project, target.dataset) is not None and statement.if_not_exists:
            return QueryOutcome(statement.kind, ddl_target=ddl_target, ddl_operation="SKIP")
        self.catalog.create_dataset(target.project, target.dataset)
        return QueryOutcome(statement.kind, ddl_target=ddl_target, ddl_operation="CREATE")

    def _drop_schema(self, cur: Any, statement: Any, bind: Any) -> QueryOutcome:
        target = statement.target
        ddl_target = (target.project, target.dataset, None)
        if self.catalog.dataset(target.project, target.dataset) is None and statement.if_exists:
            return QueryOutcome(statement.kind, ddl_target=ddl_target, ddl_operation="SKIP")
        cascade = "CASCADE" in (statement.sql or "").upper() or bool(getattr(statement, "cascade", False))
        self.catalog.delete_dataset(target.project, target.dataset, delete_contents=cascade)
        return QueryOutcome(statement.kind, ddl_target=ddl_target, ddl_operation="DROP")


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def _execute(cur: Any, sql: str, bind: Any) -> Any:
    return cur.execute(sql, bind) if bind else cur.execute(sql)


def _drain(result: Any) -> None:
    if result is not None:
        try:
            result.fetchall()
        except Exception:  # noqa: BLE001 - DDL has no result to drain
            pass


def _merge_declared(derived: list[dict[str, Any]], declared: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if not declared:
        return derived
    by_name = {f["name"].lower(): f for f in bqtypes.normalise_schema(declared)}
    return [by_name.get(f["name"].lower(), f) for f in derived]


def bind_parameters(parameters: list[dict[str, Any]], mode: str | None) -> tuple[Any, Any]:
    """(values to bind, declared types) of a request's query parameters, named or positional."""
    if not parameters:
        return None, None
    named = (mode or "").upper() == "NAMED" or any(p.get("name") for p in parameters)
    if named:
        values: dict[str, Any] = {}
        types: dict[str, Any] = {}
        for p in parameters:
            name = p.get("name")
            if not name:
                raise Invalid("Query parameters must all be named or all positional")
            types[name] = p.get("parameterType") or {"type": "STRING"}
            values[name] = parameter_value(types[name], p.get("parameterValue"), name)
        return values, types
    out_values = []
    out_types = []
    for index, p in enumerate(parameters):
        ptype = p.get("parameterType") or {"type": "STRING"}
        out_types.append(ptype)
        out_values.append(parameter_value(ptype, p.get("parameterValue"), f"positional parameter {index + 1}"))
    return out_values, out_types


def bind_for(statement: Any, bind: Any) -> Any:
    """The parameter values one statement uses (DuckDB refuses bindings a statement does not use)."""
    if not bind:
        return None
    used = getattr(statement, "parameters", None)
    if used is None:
        return bind
    if isinstance(bind, dict):
        return {name: bind[name] for name in used if name in bind} or None
    return [bind[i] for i in used if isinstance(i, int) and i < len(bind)] or None
