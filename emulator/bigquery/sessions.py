"""BigQuery sessions: queries that share temporary tables, variables and an open transaction.

A query job with ``createSession`` starts a session (its id is in the job's ``statistics.sessionInfo``);
later jobs join it with the connection property ``session_id``. A session is a DuckDB cursor of
its own: TEMP tables, script variables and an open ``BEGIN TRANSACTION`` live there between
jobs. So that the translator knows them in the next job, the session describes them as
declarations placed before the job's statements (never run).

Known limits: sessions live until the emulator closes (no ``BQ.ABORT_SESSION``, no 24-hour
expiry); a file database that meets a new project reopens and drops the sessions' temporary state.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.errors import BigQueryError
from emulator.bigquery.types import quote_ident

if TYPE_CHECKING:
    from emulator.bigquery.catalog import Journal
    from emulator.bigquery.engine import Engine
    from emulator.ids import IdGenerator


class SessionNotFound(BigQueryError):
    status, reason, grpc_status = 400, "invalid", "INVALID_ARGUMENT"


@dataclass
class Session:
    session_id: str
    project: str
    location: str
    cursor: Any = None
    generation: int = -1  # the engine generation the cursor belongs to
    scope: tuple[str, str | None] | None = None
    transaction: Journal | None = None
    transaction_id: str | None = None
    temp_tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)

    def prelude(self) -> list[str]:
        """GoogleSQL declarations of the session's variables and temporary tables (for the translator)."""
        out = [f"DECLARE {_name(name)} {sql_type}" for name, sql_type in sorted(self.variables.items())]
        for name, fields in sorted(self.temp_tables.items()):
            columns = ", ".join(f"{_name(f['name'])} {sql_type_of(f)}" for f in fields)
            out.append(f"CREATE TEMP TABLE {_name(name)} ({columns})")
        return out


class Sessions:
    """The sessions of one backend."""

    def __init__(self, engine: Engine, ids: IdGenerator) -> None:
        self.engine = engine
        self.ids = ids
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, project: str, location: str) -> Session:
        session = Session(self.ids.hex(16, kind="bigquery-session"), project, location)
        with self._lock:
            self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"Session {session_id} was not found")
        return session

    def cursor(self, session: Session, project: str, dataset: str | None) -> Any:
        """The session's cursor, resolving names against ``project`` (and ``dataset``); hold the engine lock."""
        self.engine.ensure_project(project)
        if session.cursor is None or session.generation != self.engine.generation:
            session.cursor = self.engine.con.cursor()
            session.generation = self.engine.generation
            session.scope = None
            session.temp_tables.clear()
            session.variables.clear()
            session.transaction = None
            session.transaction_id = None
        if session.scope != (project, dataset):
            target = quote_ident(project) if dataset is None else f"{quote_ident(project)}.{quote_ident(dataset)}"
            session.cursor.execute(f"USE {target}").fetchall()
            session.scope = (project, dataset)
        return session.cursor

    def remember_state(self, session: Session) -> None:
        """Read back the temporary tables and variables the session's last job left."""
        cur = session.cursor
        session.temp_tables = {}
        for (name,) in cur.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'temp' "
                                   "ORDER BY table_name").fetchall():
            rel = cur.sql(f"SELECT * FROM temp.main.{quote_ident(name)} LIMIT 0")
            session.temp_tables[name] = [bqtypes.field_from_duckdb(n, t) for n, t in zip(rel.columns, rel.types)]
        session.variables = {}
        for (name,) in cur.execute("SELECT name FROM duckdb_variables() ORDER BY name").fetchall():
            if name.startswith("__"):
                continue  # the emulator's own (clock, system variables, loop rows)
            rel = cur.sql(f"SELECT getvariable({_string(name)}) AS v")
            session.variables[name] = sql_type_of(bqtypes.field_from_duckdb("v", rel.types[0]))

    def close(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                if session.cursor is not None:
                    try:
                        session.cursor.close()
                    except Exception:  # noqa: BLE001 - the database may be closed already
                        pass
                    session.cursor = None
            self._sessions.clear()


_LEGACY = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def sql_type_of(field_: dict[str, Any]) -> str:
    """The GoogleSQL type of a REST schema field (``ARRAY<STRUCT<a INT64>>``...)."""
    base = _LEGACY.get(field_["type"], field_["type"])
    if base == "STRUCT":
        base = "STRUCT<" + ", ".join(f"{_name(f['name'])} {sql_type_of(f)}" for f in field_.get("fields") or []) + ">"
    return f"ARRAY<{base}>" if field_.get("mode") == "REPEATED" else base


def _name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", name) else "`" + name.replace("`", "\\`") + "`"


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
