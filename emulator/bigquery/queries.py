"""GoogleSQL requests: parse the script, translate it in one piece, run its statements one by one.

A request is parsed by :mod:`emulator.bigquery.script` (statements and control flow), translated
by :func:`emulator.bigquery.sql.translate` and run statement by statement, as BigQuery runs a
script: each statement commits on its own (a failing one keeps the effects of those before it)
unless a transaction is open; a failed statement's catalog changes are undone from a journal.
Tables a statement names are checked when it runs (a script may create them first).

Every statement a script runs is recorded (:class:`StatementRecord`) so the job layer can list
it as a child job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.bigquery import script as scripting
from emulator.bigquery.catalog import Catalog, Journal, canonical_location
from emulator.bigquery.engine import Engine, is_duckdb_error, translate_duckdb_error
from emulator.bigquery.errors import BigQueryError, InvalidQuery
from emulator.bigquery.sessions import Session, Sessions
from emulator.bigquery.sizes import table_bytes
from emulator.bigquery.statements import (
    QueryOutcome,
    RunContext,
    StatementRunner,
    bind_for,
    bind_parameters,
    result_schema,
)

if TYPE_CHECKING:
    from emulator.clock import Clock

_TRANSACTION_KINDS = ("BEGIN_TRANSACTION", "COMMIT_TRANSACTION", "ROLLBACK_TRANSACTION")


@dataclass
class StatementRecord:
    """One statement a script ran: what BigQuery lists as a child job of the script's job."""

    text: str
    start: tuple[int, int]  # line, column in the script
    end: tuple[int, int]
    statement_type: str
    outcome: QueryOutcome | None = None
    error: BigQueryError | None = None
    transaction_id: str | None = None


class Queries:
    """Runs GoogleSQL requests against the catalog."""

    def __init__(self, engine: Engine, catalog: Catalog, clock: Clock, sessions: Sessions) -> None:
        self.engine = engine
        self.catalog = catalog
        self.clock = clock
        self.sessions = sessions
        self.runner = StatementRunner(engine, catalog, clock)
        self._transactions = 0

    def translate(self, sql: str, *, project: str, dataset: str | None, param_types: Any) -> list[Any]:
        from emulator.bigquery.sql import translate

        return translate(sql, project=project, dataset=dataset, now=self.clock.now(),
                         param_types=param_types or None, catalog=self.catalog.schema_lookup)

    def execute(self, sql: str, *, project: str, dataset: str | None = None,
                parameters: list[dict[str, Any]] | None = None, parameter_mode: str | None = None,
                dry_run: bool = False, job_id: str | None = None, job_project: str | None = None,
                location: str | None = None, trace: list[StatementRecord] | None = None,
                session: Session | None = None) -> QueryOutcome:
        """Run a GoogleSQL request (a statement or a script); ``trace`` collects the statements run.

        ``job_project`` runs the job (datasets of other projects it cannot find are access-denied);
        ``location`` is the job's location when the request names one, else the location of the
        first dataset the request names (US when none), as BigQuery chooses it. In a ``session``
        the job sees the session's temporary tables, variables and open transaction.
        """
        if not isinstance(sql, str) or not sql.strip():
            raise InvalidQuery("Syntax error: Unexpected end of script at [1:1]")
        bind, param_types = bind_parameters(parameters or [], parameter_mode)
        program = scripting.parse(sql)
        with self.engine.lock:
            prelude = session.prelude() if session is not None else []
        text = program.flatten(prelude)
        try:
            statements = self.translate(text, project=project, dataset=dataset, param_types=param_types)
        except BigQueryError as exc:
            raise program.remap_error(exc) from None
        if len(statements) != program.prelude_count + len(program.elements):
            raise InvalidQuery("wallaroo-emulator could not split this script into statements")
        if not program.elements:
            raise InvalidQuery("Syntax error: Unexpected end of script at [1:1]")
        ctx = RunContext(job_project or project, self._location(location or (session.location if session else None),
                                                                statements, project, dataset))
        if dataset is not None:
            ctx.dataset(self.catalog, project, dataset)
        with self.engine.lock:
            if dry_run:
                outcome = self._dry_run(program, statements, project, dataset, bind, ctx)
            else:
                run = _Run(self, program, statements, project=project, dataset=dataset, bind=bind, job_id=job_id,
                           trace=trace, ctx=ctx, session=session)
                outcome = run.execute()
        outcome.location = ctx.location
        return outcome

    def _location(self, location: str | None, statements: list[Any], project: str, dataset: str | None) -> str:
        if location:
            return canonical_location(location)
        names = [(project, dataset)] if dataset else []
        for statement in statements:
            names += [(ref.project, ref.dataset) for ref in getattr(statement, "referenced", None) or []]
            target = getattr(statement, "target", None)
            if target is not None:
                names.append((target.project, target.dataset))
        for name in names:
            meta = self.catalog.dataset(*name)
            if meta is not None:
                return meta.location
        return "US"

    def new_transaction_id(self) -> str:
        self._transactions += 1
        return f"transaction_{self._transactions:08d}"

    # ------------------------------------------------------------------------------------
    def check_references(self, statement: Any, ctx: RunContext) -> None:
        """BigQuery's errors for tables a statement reads that this job cannot find."""
        for ref in getattr(statement, "referenced", None) or []:
            self._check_reference(ref, ctx)

    def _check_reference(self, ref: Any, ctx: RunContext) -> None:
        if ref.table is None:
            return
        if ref.dataset.upper() == "INFORMATION_SCHEMA" or ref.table.upper().startswith("INFORMATION_SCHEMA"):
            return
        ctx.table(self.catalog, ref.project, ref.dataset, ref.table)

    def _dry_run(self, program: scripting.Program, statements: list[Any], project: str, dataset: str | None,
                 bind: Any, ctx: RunContext) -> QueryOutcome:
        runnable = [statements[e.index] for e in program.elements if not e.declaration_only]
        created = {(s.target.project, s.target.dataset, s.target.table) for s in runnable
                   if s.target is not None and s.kind.startswith("CREATE")}
        read: list[tuple[str, str, str]] = []
        for statement in runnable:
            for ref in statement.referenced or []:
                if (ref.project, ref.dataset, ref.table) not in created:
                    self._check_reference(ref, ctx)
                    key = (ref.project, ref.dataset, ref.table)
                    if ref.table and key not in read:
                        read.append(key)
        last = runnable[-1]
        schema = None
        if last.kind == "SELECT" and not program.is_script:
            cur = self.engine.request_cursor(project, dataset)
            bound = bind_for(last, bind)
            try:
                rel = cur.sql(last.sql, params=bound) if bound else cur.sql(last.sql)
                schema = result_schema(last, rel)
            except Exception as exc:  # noqa: BLE001
                self.engine.forget_cursor()
                if is_duckdb_error(exc):
                    raise translate_duckdb_error(exc, project, dataset) from None
                raise
        return QueryOutcome(statement_type="SCRIPT" if program.is_script else last.kind, schema=schema,
                            bytes_processed=self._estimated_bytes(read))

    def _estimated_bytes(self, tables: list[tuple[str, str, str]]) -> int:
        """A dry run's ``totalBytesProcessed``: the logical size of the tables the query reads."""
        total = 0
        for key in tables:
            meta = self.catalog.table(*key)
            if meta is None or meta.kind == "VIEW" or not meta.schema:
                continue
            total += table_bytes(self.engine, meta)
        return total


class _Run:
    """The state of one request while it runs: cursor, open transaction, last outcome."""

    def __init__(self, queries: Queries, program: scripting.Program, statements: list[Any], *, project: str,
                 dataset: str | None, bind: Any, job_id: str | None, trace: list[StatementRecord] | None,
                 ctx: RunContext, session: Session | None = None) -> None:
        self.q = queries
        self.ctx = ctx
        self.session = session
        self.program = program
        self.statements = statements
        self.project = project
        self.dataset = dataset
        self.bind = bind
        self.job_id = job_id
        self.trace = trace
        self.cur: Any = None
        self.transaction: Journal | None = None
        self.transaction_id: str | None = None
        self.aborted_transaction = False
        self.last: QueryOutcome | None = None
        self.referenced: list[tuple[str, str, str]] = []
        self.variables: set[str] = set()
        self.loop_tables: dict[int, str] = {}
        self.temporary = False

    # -- the request -----------------------------------------------------------------------
    def execute(self) -> QueryOutcome:
        from emulator.bigquery.sql import clock_variable_sql

        if self.session is not None:
            self.cur = self.q.sessions.cursor(self.session, self.project, self.dataset)
            self.transaction, self.transaction_id = self.session.transaction, self.session.transaction_id
        else:
            self.cur = self.q.engine.request_cursor(self.project, self.dataset)
        runnable = [self.statements[e.index] for e in self.program.elements if not e.declaration_only]
        if any(s.kind != "SELECT" for s in runnable) or self.program.is_script:
            # column DEFAULTs such as CURRENT_TIMESTAMP() read the virtual clock from here
            self.cur.execute(clock_variable_sql(self.q.clock.now())).fetchall()
        runner = scripting.ScriptRunner(self.program, run_statement=self.run_statement, evaluate=self.evaluate,
                                        loop_rows=self.loop_rows, bind_loop=self.bind_loop, set_error=self.set_error)
        try:
            self._init_system_variables()
            runner.run()
            if self.transaction is not None and self.session is None:
                self._rollback()  # the script ended inside a transaction: BigQuery rolls it back
        except BaseException:
            if self.transaction is not None:
                self._rollback()
            raise
        finally:
            if self.session is not None:  # temporary tables, variables, the open transaction stay
                self.session.transaction, self.session.transaction_id = self.transaction, self.transaction_id
                self._clean_up(keep_session_state=True)
                self.q.sessions.remember_state(self.session)
            else:
                self._clean_up()
            self.q.catalog.persist()
        outcome = self.last or QueryOutcome(runnable[-1].kind)
        if self.program.is_script:
            outcome = QueryOutcome("SCRIPT", schema=outcome.schema, rows=outcome.rows)
        outcome.referenced = list(self.referenced)
        return outcome

    def _clean_up(self, *, keep_session_state: bool = False) -> None:
        """Script variables, temporary tables and loop rows live for one request, as in BigQuery
        (outside sessions: a session keeps the tables and the user's variables)."""
        cur = self.cur
        names = self.variables if keep_session_state else self.variables | set(_declared_variables(self.statements))
        for name in sorted(names):
            try:
                cur.execute(f"RESET VARIABLE {name}").fetchall()
            except Exception:  # noqa: BLE001 - never set: the script failed before it
                pass
        for name in self.loop_tables.values():
            try:
                cur.unregister(name)
            except Exception:  # noqa: BLE001
                pass
        if self.temporary and not keep_session_state:
            self.q.engine.drop_temporary_objects(cur)

    # -- statements ------------------------------------------------------------------------
    def run_statement(self, node: scripting.Statement) -> None:
        statement = self.statements[node.element.index]
        source = self.program.source
        record = StatementRecord(source[node.start:node.end], scripting._line_col(source, node.start),
                                 scripting._line_col(source, node.end), statement.kind,
                                 transaction_id=self.transaction_id)
        try:
            if statement.kind == "BEGIN_TRANSACTION":
                self._begin()
                record.transaction_id = self.transaction_id
                outcome = QueryOutcome(statement.kind)
            elif statement.kind == "COMMIT_TRANSACTION":
                self._commit()
                outcome = QueryOutcome(statement.kind)
            elif statement.kind == "ROLLBACK_TRANSACTION":
                self._rollback(explicit=True)
                outcome = QueryOutcome(statement.kind)
            else:
                outcome = self._run_one(statement)
        except BaseException as exc:
            error = self._as_bigquery_error(exc)
            record.error = error
            self._record(record)
            if error is exc:
                raise
            raise error from None
        record.outcome = outcome
        self._record(record)
        self.last = outcome
        for ref in getattr(statement, "referenced", None) or []:
            key = (ref.project, ref.dataset, ref.table)
            if ref.table and key not in self.referenced:
                self.referenced.append(key)
        if outcome.dml_affected is not None and "@@row_count" in self.program.system_variables:
            self._set_variable("__bq_row_count", outcome.dml_affected, "BIGINT")

    def _record(self, record: StatementRecord) -> None:
        if self.trace is not None and self.program.is_script:
            self.trace.append(record)

    def _run_one(self, statement: Any) -> QueryOutcome:
        self.q.check_references(statement, self.ctx)
        journal = self.transaction if self.transaction is not None else self.q.catalog.journal()
        journal.remember(statement.target, getattr(statement, "renamed_to", None))
        # a statement that writes commits on its own (no transaction needed to read or set variables)
        autocommit = self.transaction is None and statement.kind not in ("SELECT", "DECLARE", "SET", "ASSERT")
        if statement.kind.startswith("CREATE") and statement.target is None:
            self.temporary = True
        try:
            if autocommit:
                self.cur.execute("BEGIN TRANSACTION").fetchall()
            outcome = self.q.runner.run(self.cur, statement, bind_for(statement, self.bind), self.ctx)
            if autocommit:
                self.cur.execute("COMMIT").fetchall()
        except BaseException:
            if autocommit:
                self._duck_rollback()
                journal.restore()
            elif self.transaction is not None:
                # DuckDB aborts the whole transaction on an error: roll it back now
                self._rollback()
                self.aborted_transaction = True
            raise
        return outcome

    def _duck_rollback(self) -> None:
        try:
            self.cur.execute("ROLLBACK").fetchall()
        except Exception:  # noqa: BLE001 - no transaction left to roll back
            pass

    # -- transactions ----------------------------------------------------------------------
    def _begin(self) -> None:
        if self.transaction is not None:
            raise InvalidQuery("Transaction cannot be started inside another transaction; nested transactions "
                               "are not supported")
        self.cur.execute("BEGIN TRANSACTION").fetchall()
        self.transaction = self.q.catalog.journal()
        self.transaction_id = self.q.new_transaction_id()
        self.aborted_transaction = False

    def _commit(self) -> None:
        if self.transaction is None:
            if self.aborted_transaction:  # rolled back by an error; the handler's COMMIT ends it
                self.aborted_transaction = False
                return
            raise InvalidQuery("COMMIT TRANSACTION without an active transaction")
        self.cur.execute("COMMIT").fetchall()
        self.transaction.forget()
        self.transaction = None
        self.transaction_id = None

    def _rollback(self, *, explicit: bool = False) -> None:
        if self.transaction is None:
            if explicit and not self.aborted_transaction:
                raise InvalidQuery("ROLLBACK TRANSACTION without an active transaction")
            self.aborted_transaction = False
            return
        self._duck_rollback()
        self.transaction.restore()
        self.transaction = None
        self.transaction_id = None

    # -- expressions and loops -------------------------------------------------------------
    def evaluate(self, element: scripting.Element) -> Any:
        statement = self.statements[element.index]
        outcome = self._query(statement)
        if outcome.rows is None or outcome.rows.num_rows == 0 or outcome.rows.num_columns == 0:
            return None
        return outcome.rows.column(0)[0].as_py()

    def loop_rows(self, element: scripting.Element) -> Any:
        return self._query(self.statements[element.index]).rows

    def _query(self, statement: Any) -> QueryOutcome:
        try:
            self.q.check_references(statement, self.ctx)
            return self.q.runner.run(self.cur, statement, bind_for(statement, self.bind), self.ctx)
        except BaseException as exc:
            error = self._as_bigquery_error(exc)
            if self.transaction is not None and error is not exc:
                self._rollback()
                self.aborted_transaction = True
            if error is exc:
                raise
            raise error from None

    def bind_loop(self, variable: str, rows: Any, index: int) -> None:
        name = self.loop_tables.get(id(rows))
        if name is None:
            name = self.loop_tables[id(rows)] = f"__bq_for_rows_{len(self.loop_tables)}"
            self.cur.register(name, rows)
        quoted = '"' + variable.replace('"', '""') + '"'
        self.cur.execute(f"SET VARIABLE {quoted} = (SELECT _row FROM (SELECT * FROM {name} LIMIT 1 OFFSET "
                         f"{int(index)}) AS _row)").fetchall()
        self.variables.add(quoted)

    def set_error(self, error: BigQueryError, node: scripting.Statement | None) -> None:
        used = self.program.system_variables
        text = self.program.source[node.start:node.end] if node is not None else ""
        line, column = scripting._line_col(self.program.source, node.start) if node is not None else (1, 1)
        if "@@error.message" in used:
            self._set_variable("__bq_error_message", error.message, "VARCHAR")
        if "@@error.statement_text" in used:
            self._set_variable("__bq_error_statement_text", text, "VARCHAR")
        if "@@error.formatted_stack_trace" in used:
            self._set_variable("__bq_error_formatted_stack_trace", f"At {line}:{column}\n", "VARCHAR")
        if "@@error.stack_trace" in used:
            self._set_variable("__bq_error_stack_trace",
                               [{"line": line, "column": column, "filename": None, "location": None}],
                               'STRUCT(line BIGINT, "column" BIGINT, filename VARCHAR, location VARCHAR)[]')

    # -- system variables ------------------------------------------------------------------
    def _init_system_variables(self) -> None:
        values: dict[str, tuple[Any, str]] = {
            "@@project_id": (self.project, "VARCHAR"),
            "@@dataset_id": (self.dataset, "VARCHAR"),
            "@@dataset_project_id": (self.project if self.dataset else None, "VARCHAR"),
            "@@script.job_id": (self.job_id, "VARCHAR"),
            "@@current_job_id": (self.job_id, "VARCHAR"),
            "@@session_id": (None, "VARCHAR"),
            "@@time_zone": ("UTC", "VARCHAR"),
            "@@row_count": (None, "BIGINT"),
            "@@script.num_child_jobs": (0, "BIGINT"),
            "@@script.bytes_processed": (0, "BIGINT"),
            "@@script.bytes_billed": (0, "BIGINT"),
            "@@script.slot_ms": (0, "BIGINT"),
            "@@query_label": (None, "VARCHAR"),
            "@@error.message": (None, "VARCHAR"),
            "@@error.statement_text": (None, "VARCHAR"),
            "@@error.formatted_stack_trace": (None, "VARCHAR"),
            "@@error.stack_trace": (None, 'STRUCT(line BIGINT, "column" BIGINT, filename VARCHAR, location VARCHAR)[]'),
        }
        for name in self.program.system_variables:
            value, duck_type = values[name]
            self._set_variable(scripting.SYSTEM_VARIABLES[name][0], value, duck_type)

    def _set_variable(self, name: str, value: Any, duck_type: str) -> None:
        quoted = f'"{name}"'
        if value is None:
            self.cur.execute(f"SET VARIABLE {quoted} = CAST(NULL AS {duck_type})").fetchall()
        else:
            self.cur.execute(f"SET VARIABLE {quoted} = CAST($1 AS {duck_type})", [value]).fetchall()
        self.variables.add(quoted)

    # -- errors ----------------------------------------------------------------------------
    def _as_bigquery_error(self, exc: BaseException) -> BaseException:
        if isinstance(exc, BigQueryError):
            return exc
        if is_duckdb_error(exc):
            return translate_duckdb_error(exc, self.project, self.dataset, self.ctx.location)
        return exc


def _declared_variables(statements: list[Any]) -> list[str]:
    """Session variables a script's DECLARE statements create (quoted as DuckDB needs them)."""
    names: list[str] = []
    for statement in statements:
        if statement.kind == "DECLARE":
            names += re.findall(r'SET VARIABLE ("(?:[^"]|"")+"|\w+)', statement.sql)
    return names
