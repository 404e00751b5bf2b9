"""GoogleSQL requests: translate, check the tables they name, run their statements, report the outcome.

A request (one ``query`` of a job) runs in one DuckDB transaction: a failing statement rolls the
whole request back, and the catalog entries it touched are restored from a journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.catalog import Catalog
from emulator.bigquery.engine import Engine, is_duckdb_error, translate_duckdb_error
from emulator.bigquery.errors import BigQueryError, InvalidQuery, NotFound
from emulator.bigquery.statements import LOCATION, QueryOutcome, StatementRunner, bind_for, bind_parameters

if TYPE_CHECKING:
    from emulator.clock import Clock


class Queries:
    """Runs GoogleSQL requests against the catalog."""

    def __init__(self, engine: Engine, catalog: Catalog, clock: Clock) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self.runner = StatementRunner(engine, catalog, clock)

    def translate(self, sql: str, *, project: str, dataset: str | None, param_types: Any) -> list[Any]:
        from emulator.bigquery.sql import translate

        return translate(sql, project=project, dataset=dataset, now=self.clock.now(),
                         param_types=param_types or None, catalog=self.catalog.schema_lookup)

    def execute(self, sql: str, *, project: str, dataset: str | None = None,
                parameters: list[dict[str, Any]] | None = None, parameter_mode: str | None = None,
                dry_run: bool = False) -> QueryOutcome:
        """Translate and run a (possibly multi-statement) GoogleSQL request in one transaction."""
        from emulator.bigquery.sql import clock_variable_sql

        if not isinstance(sql, str) or not sql.strip():
            raise InvalidQuery("Syntax error: Unexpected end of script at [1:1]")
        bind, param_types = bind_parameters(parameters or [], parameter_mode)
        statements = self.translate(sql, project=project, dataset=dataset, param_types=param_types)
        if not statements:
            raise InvalidQuery("Syntax error: Unexpected end of script at [1:1]")
        with self.engine.lock:
            for ref in _all_referenced(statements):
                self._check_reference(ref)
            if dry_run:
                return self._dry_run(statements, project, dataset, bind)
            if dataset is not None:
                self.catalog.require_dataset(project, dataset)
            cur = self.engine.request_cursor(project, dataset)
            outcome: QueryOutcome | None = None
            # A read-only request needs no transaction (two round trips saved per query).
            writes = any(statement.kind != "SELECT" for statement in statements)
            declared = _declared_variables(statements)
            journal = self.catalog.journal()
            try:
                if writes:
                    # column DEFAULTs such as CURRENT_TIMESTAMP() read the virtual clock from here
                    cur.execute(clock_variable_sql(self.clock.now())).fetchall()
                    cur.execute("BEGIN TRANSACTION").fetchall()
                for statement in statements:
                    journal.remember(statement.target, getattr(statement, "renamed_to", None))
                    outcome = self.runner.run(cur, statement, bind_for(statement, bind))
                if writes:
                    cur.execute("COMMIT").fetchall()
            except BaseException as exc:
                if writes:
                    try:
                        cur.execute("ROLLBACK").fetchall()
                    except Exception:  # noqa: BLE001 - the transaction may already be aborted
                        pass
                self.engine.forget_cursor()
                journal.restore()
                declared = []
                if isinstance(exc, BigQueryError):
                    raise
                if is_duckdb_error(exc):
                    raise translate_duckdb_error(exc, project, dataset) from None
                raise
            finally:
                # script variables live for one request, as in BigQuery (the cursor is reused)
                for name in declared:
                    try:
                        cur.execute(f"RESET VARIABLE {name}").fetchall()
                    except Exception:  # noqa: BLE001 - never set: the script failed before it
                        pass
            self.catalog.persist()
            assert outcome is not None
            outcome.referenced = [(r.project, r.dataset, r.table) for r in _all_referenced(statements) if r.table]
            return outcome

    def _check_reference(self, ref: Any) -> None:
        if ref.table is None:
            return
        if ref.dataset.upper() == "INFORMATION_SCHEMA" or ref.table.upper().startswith("INFORMATION_SCHEMA"):
            return
        if self.catalog.dataset(ref.project, ref.dataset) is None:
            raise NotFound(f"Not found: Dataset {ref.project}:{ref.dataset} was not found in location {LOCATION}")
        if self.catalog.table(ref.project, ref.dataset, ref.table) is None:
            raise NotFound(f"Not found: Table {ref.project}:{ref.dataset}.{ref.table} was not found in location "
                           f"{LOCATION}")

    def _dry_run(self, statements: list[Any], project: str, dataset: str | None, bind: Any) -> QueryOutcome:
        last = statements[-1]
        schema = None
        if last.kind == "SELECT":
            if dataset is not None:
                self.catalog.require_dataset(project, dataset)
            cur = self.engine.request_cursor(project, dataset)
            bound = bind_for(last, bind)
            try:
                rel = cur.sql(last.sql, params=bound) if bound else cur.sql(last.sql)
                schema = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
            except Exception as exc:  # noqa: BLE001
                self.engine.forget_cursor()
                if is_duckdb_error(exc):
                    raise translate_duckdb_error(exc, project, dataset) from None
                raise
        return QueryOutcome(statement_type=last.kind, schema=schema)


def _declared_variables(statements: list[Any]) -> list[str]:
    """Session variables a script's DECLARE statements create (quoted as DuckDB needs them)."""
    import re

    names: list[str] = []
    for statement in statements:
        if statement.kind == "DECLARE":
            names += re.findall(r'SET VARIABLE ("(?:[^"]|"")+"|\w+)', statement.sql)
    return names


def _all_referenced(statements: list[Any]) -> list[Any]:
    seen = []
    for statement in statements:
        for ref in getattr(statement, "referenced", []) or []:
            if ref not in seen:
                seen.append(ref)
    # tables created earlier in the same script are not missing references
    created = {(s.target.project, s.target.dataset, s.target.table) for s in statements
               if s.target is not None and s.kind.startswith("CREATE")}
    return [r for r in seen if (r.project, r.dataset, r.table) not in created]
