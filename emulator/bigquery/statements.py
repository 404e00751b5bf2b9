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
from emulator.bigquery.catalog import Catalog, DatasetMeta, TableMeta, check_dataset_id
from emulator.bigquery.engine import Engine, qualified
from emulator.bigquery.errors import (
    AccessDenied,
    BigQueryError,
    Duplicate,
    Invalid,
    InvalidQuery,
    dataset_not_found,
    table_access_denied,
    table_not_found,
)
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
    #: where the job ran (the location of its datasets unless the request named one)
    location: str = LOCATION
    #: bytes a dry run estimates the query reads (``totalBytesProcessed``; 0 otherwise)
    bytes_processed: int = 0


@dataclass(frozen=True)
class RunContext:
    """Who runs a statement: the job's project (datasets of other projects it cannot see are
    access-denied, as for a user without permissions there) and the job's location (a dataset in
    another location is not found, as in BigQuery)."""

    project: str
    location: str = LOCATION

    def dataset(self, catalog: Catalog, project: str, dataset: str, *, creating: bool = False) -> DatasetMeta:
        """The dataset a statement names, or BigQuery's error when this job cannot see it."""
        check_dataset_id(dataset)
        meta = catalog.dataset(project, dataset)
        if meta is None and project != self.project:
            if creating:
                raise AccessDenied(f"Access Denied: Dataset {project}:{dataset}: Permission bigquery.tables.create "
                                   f"denied on dataset {project}:{dataset} (or it may not exist).")
            raise _NoDataset(project, dataset)
        if meta is None or meta.location != self.location:
            raise dataset_not_found(project, dataset, self.location)
        return meta

    def table(self, catalog: Catalog, project: str, dataset: str, table: str) -> TableMeta:
        """The table a statement names, or BigQuery's error when it does not exist for this job."""
        try:
            self.dataset(catalog, project, dataset)
        except _NoDataset:
            raise table_access_denied(project, dataset, table) from None
        meta = catalog.table(project, dataset, table)
        if meta is None:
            raise table_not_found(project, dataset, table, self.location)
        return meta

    def missing_table(self, catalog: Catalog, project: str, dataset: str, table: str) -> BigQueryError:
        try:
            self.table(catalog, project, dataset, table)
        except BigQueryError as exc:
            return exc
        return table_not_found(project, dataset, table, self.location)


class _NoDataset(AccessDenied):
    def __init__(self, project: str, dataset: str) -> None:
        super().__init__(f"Access Denied: Dataset {project}:{dataset}: User does not have permission to access "
                         f"dataset {project}:{dataset}, or perhaps it does not exist.")


class StatementRunner:
    """Runs one translated statement and keeps the catalog in step with what it did to DuckDB."""

    def __init__(self, engine: Engine, catalog: Catalog, clock: Clock) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self._handlers: dict[str, Callable[[Any, Any, Any, RunContext], QueryOutcome]] = {
            "SELECT": self._select,
            "CREATE_SCHEMA": self._create_schema, "DROP_SCHEMA": self._drop_schema,
            "CREATE_TABLE": self._create, "CREATE_TABLE_AS_SELECT": self._create, "CREATE_VIEW": self._create,
            "DROP_TABLE": self._drop, "DROP_VIEW": self._drop,
            "ALTER_TABLE": self._alter, "TRUNCATE_TABLE": self._truncate,
            **{kind: self._dml for kind in DML_KINDS},
        }

    def run(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        """Run ``statement`` (DuckDB SQL of a translated Statement) with its parameter values ``bind``."""
        handler = self._handlers.get(statement.kind, self._other)
        return handler(cur, statement, bind, ctx)

    # ------------------------------------------------------------------------------------
    # queries and DML
    # ------------------------------------------------------------------------------------
    def _select(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        rel = cur.sql(statement.sql, params=bind) if bind else cur.sql(statement.sql)
        if rel is None:
            return QueryOutcome(statement.kind)
        schema = result_schema(statement, rel)
        return QueryOutcome(statement.kind, schema=schema, rows=rel.to_arrow_table())

    def _dml(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        target = statement.target
        if target is not None:
            meta = ctx.table(self.catalog, target.project, target.dataset, target.table)
            if meta.kind == "VIEW":
                raise InvalidQuery(f"Cannot execute DML over a view: {target.project}:{target.dataset}.{target.table}")
        if statement.kind in ("MERGE", "UPDATE"):
            with self.engine.scratch_cursor() as check_cursor:  # an error there must not abort this transaction
                _check_one_source_row(check_cursor, statement.sql, bind)
        rows = _execute(cur, statement.sql, bind).fetchall()
        row = rows[0] if rows else None
        affected = int(row[0]) if row and row[0] is not None else 0
        if target is not None:
            self.catalog.touch((target.project, target.dataset, target.table))
        return QueryOutcome(statement.kind, dml_affected=affected)

    def _other(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        """Statements with no catalog effect (DECLARE, SET, ASSERT, functions, transactions...)."""
        _drain(_execute(cur, statement.sql, bind))
        target = statement.target
        if target is None:
            return QueryOutcome(statement.kind)
        return QueryOutcome(statement.kind, ddl_target=(target.project, target.dataset, target.table))

    # ------------------------------------------------------------------------------------
    # DDL
    # ------------------------------------------------------------------------------------
    def _create(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        kind, target = statement.kind, statement.target
        if target is None:  # a temporary table
            return self._other(cur, statement, bind, ctx)
        key = (target.project, target.dataset, target.table)
        ctx.dataset(self.catalog, target.project, target.dataset, creating=True)
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

    def _existing(self, statement: Any, ctx: RunContext) -> TableMeta | None:
        """The target of DROP/ALTER/TRUNCATE, or None when IF EXISTS lets a missing one pass."""
        target = statement.target
        meta = self.catalog.table(target.project, target.dataset, target.table)
        if meta is None and not statement.if_exists:
            raise ctx.missing_table(self.catalog, target.project, target.dataset, target.table)
        return meta

    def _drop(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        if statement.target is None:  # a temporary table
            return self._other(cur, statement, bind, ctx)
        key = (statement.target.project, statement.target.dataset, statement.target.table)
        if self._existing(statement, ctx) is None:
            return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="SKIP")
        _drain(_execute(cur, statement.sql, bind))
        self.catalog.remove_table(key)
        return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="DROP")

    def _truncate(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        """TRUNCATE TABLE reports the rows it removed (numDmlAffectedRows), as BigQuery does."""
        key = (statement.target.project, statement.target.dataset, statement.target.table)
        if self._existing(statement, ctx) is None:
            return QueryOutcome(statement.kind, ddl_target=key, ddl_operation="SKIP")
        removed = int(cur.execute(f"SELECT count(*) FROM {qualified(*key)}").fetchall()[0][0])
        _drain(_execute(cur, statement.sql, bind))
        self.catalog.touch(key)
        return QueryOutcome(statement.kind, dml_affected=removed, ddl_target=key)

    def _alter(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        key = (statement.target.project, statement.target.dataset, statement.target.table)
        meta = self._existing(statement, ctx)
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

    def _create_schema(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        """CREATE SCHEMA through the dataset API (takes effect at once, as outside a transaction)."""
        target = statement.target
        ddl_target = (target.project, target.dataset, None)
        if self.catalog.dataset(target.project, target.dataset) is not None and statement.if_not_exists:
            return QueryOutcome(statement.kind, ddl_target=ddl_target, ddl_operation="SKIP")
        self.catalog.create_dataset(target.project, target.dataset, location=ctx.location)
        return QueryOutcome(statement.kind, ddl_target=ddl_target, ddl_operation="CREATE")

    def _drop_schema(self, cur: Any, statement: Any, bind: Any, ctx: RunContext) -> QueryOutcome:
        target = statement.target
        ddl_target = (target.project, target.dataset, None)
        if self.catalog.dataset(target.project, target.dataset) is None and statement.if_exists:
            return QueryOutcome(statement.kind, ddl_target=ddl_target, ddl_operation="SKIP")
        cascade = "CASCADE" in (statement.sql or "").upper() or bool(getattr(statement, "cascade", False))
        if not cascade and self.catalog.dataset(target.project, target.dataset) is not None \
                and self.catalog.list_tables(target.project, target.dataset):
            # the statement's error is 'invalid' (the REST datasets.delete answers resourceInUse)
            raise Invalid(f"Dataset {target.project}:{target.dataset} is still in use")
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


_MATCH_ONCE = "UPDATE/MERGE must match at most one source row for each target row"


def _check_one_source_row(cur: Any, sql: str, bind: Any) -> None:
    """BigQuery refuses a MERGE (with WHEN MATCHED) or UPDATE … FROM where one target row matches two
    source rows; DuckDB would apply both. Count the matches per target row first, on a cursor of its
    own (it sees committed rows: inside an open transaction, rows written earlier in it are not seen)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except Exception:  # noqa: BLE001 - a statement sqlglot cannot read back is left to DuckDB
        return
    if isinstance(tree, exp.Merge):
        whens = tree.args.get("whens")
        clauses = whens.expressions if isinstance(whens, exp.Whens) else (tree.args.get("expressions") or [])
        if not any(isinstance(w, exp.When) and w.args.get("matched") for w in clauses):
            return
        target, source, condition = tree.this, tree.args.get("using"), tree.args.get("on")
        if source is None or condition is None:
            return
        check = f"FROM {target.sql('duckdb')} JOIN {source.sql('duckdb')} ON {condition.sql('duckdb')}"
    elif isinstance(tree, exp.Update) and (tree.args.get("from_") or tree.args.get("from")):
        target, where = tree.this, tree.args.get("where")
        sources = (tree.args.get("from_") or tree.args["from"]).sql("duckdb")[len("FROM "):]
        check = f"FROM {target.sql('duckdb')}, {sources}" + (f" {where.sql('duckdb')}" if where else "")
    else:
        return
    name = target.alias_or_name
    if not name:
        return
    check = f"SELECT 1 {check} GROUP BY {exp.to_identifier(name, quoted=True).sql('duckdb')}.rowid " \
            f"HAVING count(*) > 1 LIMIT 1"
    try:
        found = _execute(cur, check, bind).fetchall()
    except Exception:  # noqa: BLE001 - the statement itself reports what is wrong with it
        return
    if found:
        raise InvalidQuery(_MATCH_ONCE)


def _merge_declared(derived: list[dict[str, Any]], declared: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if not declared:
        return derived
    by_name = {f["name"].lower(): f for f in bqtypes.normalise_schema(declared)}
    return [by_name.get(f["name"].lower(), f) for f in derived]


def result_schema(statement: Any, rel: Any) -> list[dict[str, Any]]:
    """The schema of a query's result: DuckDB's column types, with the GoogleSQL types they cannot
    carry (a GEOGRAPHY column is VARCHAR in DuckDB) taken from the statement's output hints."""
    schema = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
    hints = getattr(statement, "output_hints", None) or {}
    for column in schema:
        hinted = hints.get(column["name"].lower())
        if column["mode"] == "REPEATED":
            continue
        if hinted == "GEOGRAPHY" and column["type"] == "STRING":
            column["type"] = "GEOGRAPHY"
        elif hinted == "BIGNUMERIC" and column["type"] in ("STRING", "NUMERIC"):
            column["type"] = "BIGNUMERIC"
        elif hinted == "TIMESTAMP(12)" and column["type"] == "STRING":
            column["type"] = "TIMESTAMP"
            column["timestampPrecision"] = "12"
    return schema


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
        sql_names = getattr(statement, "parameter_names", None) or {}
        return {sql_names.get(name, name): bind[name] for name in used if name in bind} or None
    return [bind[i] for i in used if isinstance(i, int) and i < len(bind)] or None
