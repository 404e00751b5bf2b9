"""The DuckDB database behind one BigQuery backend: connection, project catalogs, cursors.

A BigQuery project is a DuckDB catalog ATTACHed under the project's own name (in memory, or a
file ``<stem>.<project>.duckdb`` next to ``database``), a dataset is a schema, a table is a table.
The database is opened lazily on the first BigQuery call, so an emulator that never touches
BigQuery costs nothing here.

The database is locked down as soon as it is open: no file access from SQL (DuckDB's
``enable_external_access=false``: ``read_text``, ``read_csv``, ``glob``, COPY, ATTACH of files),
no extension installed or loaded at run time (autoinstall/autoload off), and every setting final
(``lock_configuration``). Loads never need DuckDB to read files: the data arrives as Arrow
tables registered on a cursor. A file database attaches its project files before the lock-down;
DuckDB still lets SQL see those database files themselves, nothing else. The translator is the
first fence (:mod:`emulator.bigquery.sql_guard` refuses DuckDB's functions by name).

Every operation on the database runs under :attr:`Engine.lock` (one re-entrant lock per
backend). Requests run on one reused *request cursor* whose defaults (``USE "project"`` or
``USE "project"."dataset"``) are only re-set when they change; creating a cursor, setting its
time zone and ``USE`` cost more than a small query.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulator.bigquery.errors import BigQueryError, Invalid, InvalidQuery, NotFound
from emulator.bigquery.types import quote_ident

#: DuckDB's name of the result table an encoder or a load registers (one at a time, under the lock).
_SCRATCH = "__bq_scratch"


class Engine:
    """One DuckDB database (in memory or files next to ``database``) and its cursors."""

    def __init__(self, database: Path | None = None) -> None:
        self.database = database
        self.lock = threading.RLock()
        self._con: Any = None
        self._projects: set[str] = set()
        self._request_cursor: Any = None
        self._cursor_scope: tuple[str, str | None] | None = None
        self._encode_cursor: Any = None
        self._locked = False
        #: bumped each time the database is (re)opened: cursors of an older generation are gone
        self.generation = 0
        #: called (under the lock) each time the database is opened, e.g. to read persisted metadata
        self.on_open: list[Callable[[], None]] = []

    # ------------------------------------------------------------------------------------
    # connection
    # ------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._con is not None

    @property
    def con(self) -> Any:
        """The DuckDB connection (opened on first use)."""
        if self._con is None:
            with self.lock:
                if self._con is None:
                    self._open()
        return self._con

    def _open(self, *, reopening: bool = False) -> None:
        """Connect, attach the known projects, then lock the database down (see :func:`_lock_down`).

        Project files can only be attached before the lock-down; a file database that meets a new
        project later is reopened with it (:meth:`ensure_project`).
        """
        import duckdb

        # one thread: DuckDB's parallel hash aggregates and joins return rows in a different order from
        # run to run; BigQuery users (and our determinism promise) expect a repeated query to repeat its order
        config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False, "threads": 1}
        if self.database is not None:
            self.database.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.database), config=config)
        else:
            con = duckdb.connect(":memory:", config=config)
        con.execute("SET GLOBAL TimeZone='UTC'").fetchall()  # every cursor inherits it
        from emulator.bigquery.sql_functions import register as register_functions

        register_functions(con)  # GoogleSQL functions DuckDB lacks (FARM_FINGERPRINT), seen by every cursor
        self._con = con
        self.generation += 1
        attached, self._projects = self._projects, set()
        for project in sorted(attached):
            self._attach(project)
        if not reopening:
            for hook in self.on_open:
                hook()  # may attach the projects of a persisted catalog
        _lock_down(con)
        self._locked = True

    def close(self) -> None:
        with self.lock:
            self._close_connection()
            self._projects.clear()

    def _close_connection(self) -> None:
        self.forget_cursor()
        if self._encode_cursor is not None:
            self._encode_cursor.close()
            self._encode_cursor = None
        if self._con is not None:
            self._con.close()
            self._con = None
        self._locked = False

    def exec(self, sql: str, params: Any = None) -> list[Any]:
        """Run one statement on the main connection and drain its result (DuckDB 2 requires it)."""
        with self.lock:
            result = self.con.execute(sql, params) if params is not None else self.con.execute(sql)
            try:
                return result.fetchall()
            except Exception:  # noqa: BLE001 - statements without a result set
                return []

    def executemany(self, sql: str, rows: list[Any]) -> None:
        with self.lock:
            self.con.executemany(sql, rows)

    # ------------------------------------------------------------------------------------
    # projects (catalogs)
    # ------------------------------------------------------------------------------------
    def has_project(self, project: str) -> bool:
        return project in self._projects

    def projects(self) -> set[str]:
        return set(self._projects)

    def _project_file(self, project: str) -> str:
        assert self.database is not None
        return str(self.database.with_name(f"{self.database.stem}.{project}.duckdb"))

    def ensure_project(self, project: str) -> None:
        """Attach the catalog of ``project`` (every project id exists, as in a fresh GCP project).

        In memory this is an ATTACH; a file database, whose files can only be attached before its
        lock-down, is reopened with the new project's file (cursors and TEMP objects are dropped).
        """
        if project in self._projects:
            return
        check_project_id(project)
        with self.lock:
            if project in self._projects:
                return
            _ = self.con
            if project in self._projects:
                return
            if self.database is not None and self._locked:
                self._close_connection()
                self._projects.add(project)
                self._open(reopening=True)
            else:
                self._attach(project)

    def _attach(self, project: str) -> None:
        target = self._project_file(project) if self.database is not None else ":memory:"
        self._con.execute(f"ATTACH {sql_string(target)} AS {quote_ident(project)}").fetchall()
        self._projects.add(project)

    # ------------------------------------------------------------------------------------
    # cursors
    # ------------------------------------------------------------------------------------
    def request_cursor(self, project: str, dataset: str | None = None) -> Any:
        """The request cursor, resolving names against ``project`` (and ``dataset``); hold :attr:`lock`."""
        self.ensure_project(project)
        cur = self._request_cursor
        if cur is None:
            cur = self._request_cursor = self.con.cursor()
            self._cursor_scope = None
        scope = (project, dataset)
        if self._cursor_scope != scope:
            target = quote_ident(project) if dataset is None else f"{quote_ident(project)}.{quote_ident(dataset)}"
            cur.execute(f"USE {target}").fetchall()
            self._cursor_scope = scope
        return cur

    def forget_cursor(self) -> None:
        """Drop the request cursor (after a failure that may have left it in a bad state)."""
        cur, self._request_cursor = self._request_cursor, None
        self._cursor_scope = None
        if cur is not None:
            try:
                cur.close()
            except Exception:  # noqa: BLE001 - closing a broken cursor
                pass

    def drop_temporary_objects(self, cur: Any) -> None:
        """Drop the TEMP tables, views and macros of a cursor's connection (a script's temporary objects)."""
        found = cur.execute(
            "SELECT 'TABLE', table_name FROM duckdb_tables() WHERE database_name = 'temp' "
            "UNION ALL SELECT 'VIEW', view_name FROM duckdb_views() WHERE database_name = 'temp' AND NOT internal "
            "UNION ALL SELECT DISTINCT 'MACRO', function_name FROM duckdb_functions() "
            "WHERE database_name = 'temp' AND function_type IN ('macro', 'table_macro')").fetchall()
        for kind, name in found:
            cur.execute(f"DROP {kind} IF EXISTS temp.main.{quote_ident(name)}").fetchall()

    @contextmanager
    def scratch_cursor(self, arrow: Any = None) -> Iterator[Any]:
        """A fresh cursor (closed afterwards) with ``arrow`` registered as ``__bq_scratch``; hold :attr:`lock`."""
        cur = self.con.cursor()
        if arrow is not None:
            cur.register(_SCRATCH, arrow)
        try:
            yield cur
        finally:
            if arrow is not None:
                cur.unregister(_SCRATCH)
            cur.close()

    def encode_with_sql(self, arrow: Any, sql_for: Any) -> list[str]:
        """Run ``sql_for(table_name)`` over ``arrow`` on the encoding cursor; the first column of each row."""
        with self.lock:
            cur = self._encode_cursor
            if cur is None:
                cur = self._encode_cursor = self.con.cursor()
            cur.register(_SCRATCH, arrow)
            try:
                return [r[0] for r in cur.execute(sql_for(_SCRATCH)).fetchall()]
            finally:
                cur.unregister(_SCRATCH)


SCRATCH_TABLE = _SCRATCH


def _lock_down(con: Any) -> None:
    """No file access, no extension installed or loaded at run time, and no way to change that.

    ``enable_external_access=false`` stops every file reader (``read_text``, ``read_csv``,
    ``glob``, COPY, ATTACH of files, extension loading) for SQL run afterwards; files attached
    before keep working. ``lock_configuration`` makes every setting final. Works from DuckDB 1.1.
    """
    con.execute("SET enable_external_access = false").fetchall()
    con.execute("SET lock_configuration = true").fetchall()


def sql_string(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def qualified(project: str, dataset: str, table: str | None) -> str:
    """``"project"."dataset"."table"`` quoted for DuckDB."""
    return f"{quote_ident(project)}.{quote_ident(dataset)}.{quote_ident(table or '')}"


def check_project_id(project: str) -> None:
    import re

    if not re.fullmatch(r"(?:[a-z][a-z0-9.:-]{0,62}[a-z0-9]|[a-z])", project or "", flags=re.IGNORECASE):
        raise Invalid(f"Invalid project ID '{project}'. Project IDs must contain 6-63 lowercase letters, digits, "
                      "or dashes. Some project IDs also include domain name separated by a colon. IDs must start "
                      "with a letter and may not end with a dash.")


def is_duckdb_error(exc: BaseException) -> bool:
    import duckdb

    return isinstance(exc, duckdb.Error)


def load_error_message(exc: BaseException) -> str:
    text = str(exc).split("\n")[0]
    return f"Error while reading data, error message: {text}"


def translate_duckdb_error(exc: BaseException, project: str, dataset: str | None, location: str = "US"
                           ) -> BigQueryError:
    """Map a DuckDB error to BigQuery's reason and message pattern."""
    import re

    import duckdb

    from emulator.bigquery.sql_errors import runtime_error

    mapped = runtime_error(exc)  # errors the translated SQL raises itself, in BigQuery's words
    if mapped is not None:
        return mapped

    text = str(exc)
    first = text.split("\n")[0]
    if isinstance(exc, duckdb.CatalogException):
        match = re.search(r"Table with name (\S+) does not exist", first)
        if match:
            name = match.group(1)
            return NotFound(f"Not found: Table {project}:{dataset + '.' if dataset else ''}{name} was not found in "
                            f"location {location}")
        match = re.search(r'Referenced column "?([^"\s]+)"? not found', first)
        if match:
            return InvalidQuery(f"Unrecognized name: {match.group(1)}")
        return InvalidQuery(first.replace("Catalog Error: ", ""))
    if isinstance(exc, duckdb.BinderException):
        match = re.search(r'Referenced column "?([^"\s]+)"? not found', first)
        if match:
            return InvalidQuery(f"Unrecognized name: {match.group(1)}")
        match = re.search(r"No function matches the given name and argument types '([^(]+)\(([^)]*)\)'", first)
        if match:
            return InvalidQuery(f"No matching signature for function {match.group(1).upper()} for argument types: "
                                f"{match.group(2)}")
        return InvalidQuery(first.replace("Binder Error: ", ""))
    if isinstance(exc, duckdb.ConstraintException):
        match = re.search(r"NOT NULL constraint failed: (\S+)", first)
        if match:
            return Invalid(f"Required field {match.group(1).split('.')[-1]} cannot be null")
        return Invalid(first.replace("Constraint Error: ", ""))
    if isinstance(exc, duckdb.ConversionException | duckdb.InvalidInputException):
        return InvalidQuery(first.replace("Conversion Error: ", "").replace("Invalid Input Error: ", ""))
    if isinstance(exc, duckdb.OutOfRangeException):
        return InvalidQuery(first.replace("Out of Range Error: ", ""))
    if isinstance(exc, duckdb.ParserException):
        return InvalidQuery("Syntax error: " + first.replace("Parser Error: ", ""))
    if "Division by zero" in first or "division by zero" in first:
        return InvalidQuery(f"division by zero: {first}")
    return InvalidQuery(first)
