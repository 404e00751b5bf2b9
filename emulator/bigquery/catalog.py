"""The BigQuery catalog: datasets and tables with their BigQuery metadata, kept beside DuckDB.

BigQuery schemas (modes, JSON vs STRING, REQUIRED, descriptions) and metadata (labels, times,
views' SQL) live here; DuckDB holds the data. With a file database the metadata is persisted
in the main database file (schema ``_wallaroo_emulator_meta``) after every change and read back
when the database opens.

A :class:`Journal` remembers the table entries a statement may change, so a failed statement
can put the catalog back in step with DuckDB's rollback.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.bigquery import types as bqtypes
from emulator.bigquery.engine import Engine, qualified
from emulator.bigquery.errors import Duplicate, Invalid, ResourceInUse, dataset_not_found, table_not_found
from emulator.bigquery.types import quote_ident

if TYPE_CHECKING:
    from emulator.clock import Clock

META_SCHEMA = "_wallaroo_emulator_meta"

TableKey = tuple[str, str, str]


@dataclass
class DatasetMeta:
    project: str
    dataset: str
    created_ms: int
    modified_ms: int
    labels: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    friendly_name: str | None = None
    default_table_expiration_ms: str | None = None
    location: str = "US"


@dataclass
class TableMeta:
    project: str
    dataset: str
    table: str
    schema: list[dict[str, Any]]
    created_ms: int
    modified_ms: int
    kind: str = "TABLE"  # TABLE or VIEW
    view_query: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    friendly_name: str | None = None
    expiration_ms: str | None = None

    @property
    def key(self) -> TableKey:
        return (self.project, self.dataset, self.table)


class Catalog:
    """Datasets and tables of every project of one backend (state guarded by the engine's lock)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._datasets: dict[tuple[str, str], DatasetMeta] = {}
        self._tables: dict[TableKey, TableMeta] = {}
        #: called with a table's key when its entry goes away (dropped, renamed, its dataset deleted)
        self.on_table_removed: list[Callable[[TableKey], None]] = []
        #: bumped by every change of a table's data or metadata (the query cache's validity)
        self.generation = 0
        engine.on_open.append(self._load_persisted)

    # ------------------------------------------------------------------------------------
    # lookups
    # ------------------------------------------------------------------------------------
    def projects(self) -> list[str]:
        """Every project the backend knows (with datasets or attached), sorted."""
        return sorted({p for p, _ in self._datasets} | self.engine.projects())

    def dataset(self, project: str, dataset: str) -> DatasetMeta | None:
        return self._datasets.get((project, dataset))

    def table(self, project: str, dataset: str, table: str) -> TableMeta | None:
        return self._tables.get((project, dataset, table))

    def require_dataset(self, project: str, dataset: str) -> DatasetMeta:
        meta = self._datasets.get((project, dataset))
        if meta is None:
            raise dataset_not_found(project, dataset)
        return meta

    def require_table(self, project: str, dataset: str, table: str) -> TableMeta:
        meta = self._tables.get((project, dataset, table))
        if meta is None:
            self.require_dataset(project, dataset)
            raise table_not_found(project, dataset, table)
        return meta

    def list_datasets(self, project: str) -> list[DatasetMeta]:
        return sorted((m for (p, _), m in self._datasets.items() if p == project), key=lambda m: m.dataset)

    def list_tables(self, project: str, dataset: str) -> list[TableMeta]:
        self.require_dataset(project, dataset)
        return sorted((m for (p, d, _), m in self._tables.items() if p == project and d == dataset),
                      key=lambda m: m.table)

    def schema_lookup(self, project: str, dataset: str, table: str) -> list[dict[str, Any]] | None:
        """The BigQuery REST-style schema fields of a table or view, None when unknown (for the translator)."""
        meta = self._tables.get((project, dataset, table))
        return None if meta is None else meta.schema

    # ------------------------------------------------------------------------------------
    # datasets
    # ------------------------------------------------------------------------------------
    def create_dataset(self, project: str, dataset: str, *, exists_ok: bool = False,
                       labels: dict[str, str] | None = None, description: str | None = None,
                       friendly_name: str | None = None,
                       default_table_expiration_ms: str | None = None, location: str | None = None) -> DatasetMeta:
        check_dataset_id(dataset)
        location = canonical_location(location)
        with self.engine.lock:
            key = (project, dataset)
            if key in self._datasets:
                if exists_ok:
                    return self._datasets[key]
                raise Duplicate(f"Already Exists: Dataset {project}:{dataset}")
            self.engine.ensure_project(project)
            self.engine.exec(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(project)}.{quote_ident(dataset)}")
            now = self.clock.epoch_ms()
            meta = DatasetMeta(project, dataset, now, now, dict(labels or {}), description, friendly_name,
                               default_table_expiration_ms, location)
            self._datasets[key] = meta
            self.persist()
            return meta

    def update_dataset(self, project: str, dataset: str, changes: dict[str, Any]) -> DatasetMeta:
        self.generation += 1
        with self.engine.lock:
            meta = self.require_dataset(project, dataset)
            for key, value in changes.items():
                setattr(meta, key, value)
            meta.modified_ms = self.clock.epoch_ms()
            self.persist()
            return meta

    def delete_dataset(self, project: str, dataset: str, *, delete_contents: bool = False,
                       not_found_ok: bool = False) -> None:
        self.generation += 1
        with self.engine.lock:
            if (project, dataset) not in self._datasets:
                if not_found_ok:
                    return
                raise dataset_not_found(project, dataset)
            tables = [k for k in self._tables if k[0] == project and k[1] == dataset]
            if tables and not delete_contents:
                raise ResourceInUse(f"Dataset {project}:{dataset} is still in use")
            self.engine.exec(f"DROP SCHEMA {quote_ident(project)}.{quote_ident(dataset)} CASCADE")
            for key in tables:
                self.remove_table(key)
            del self._datasets[(project, dataset)]
            self.persist()

    # ------------------------------------------------------------------------------------
    # tables
    # ------------------------------------------------------------------------------------
    def create_table(self, project: str, dataset: str, table: str, schema: list[dict[str, Any]] | None = None,
                     *, exists_ok: bool = False, view_query: str | None = None,
                     labels: dict[str, str] | None = None, description: str | None = None,
                     friendly_name: str | None = None, expiration_ms: str | None = None) -> TableMeta:
        check_table_id(table)
        self.generation += 1
        with self.engine.lock:
            self.require_dataset(project, dataset)
            key = (project, dataset, table)
            if key in self._tables:
                if exists_ok:
                    return self._tables[key]
                raise Duplicate(f"Already Exists: Table {project}:{dataset}.{table}")
            target = qualified(project, dataset, table)
            if view_query is not None:
                view_schema = self._create_view(project, dataset, table, view_query)
                now = self.clock.epoch_ms()
                meta = TableMeta(project, dataset, table, view_schema, now, now, "VIEW", view_query,
                                 dict(labels or {}), description, friendly_name, expiration_ms)
            else:
                fields = bqtypes.normalise_schema(schema or [])
                columns = bqtypes.table_ddl_columns(fields)
                self.engine.exec(f"CREATE TABLE {target} ({columns})" if columns else
                                 f"CREATE TABLE {target} (\"__no_columns\" BOOLEAN)")
                now = self.clock.epoch_ms()
                meta = TableMeta(project, dataset, table, fields, now, now, "TABLE", None,
                                 dict(labels or {}), description, friendly_name, expiration_ms)
            self._tables[key] = meta
            self.persist()
            return meta

    def _create_view(self, project: str, dataset: str, table: str, query: str) -> list[dict[str, Any]]:
        from emulator.bigquery.sql import translate

        statements = translate(query, project=project, dataset=None, now=self.clock.now())
        if len(statements) != 1 or statements[0].kind != "SELECT":
            raise Invalid("A view's query must be a single SELECT statement")
        cur = self.engine.request_cursor(project)
        cur.execute(f"CREATE VIEW {qualified(project, dataset, table)} AS {statements[0].sql}").fetchall()
        rel = cur.sql(f"SELECT * FROM {qualified(project, dataset, table)}")
        return [bqtypes.field_from_duckdb(name, dtype) for name, dtype in zip(rel.columns, rel.types)]

    def delete_table(self, project: str, dataset: str, table: str) -> None:
        with self.engine.lock:
            meta = self.require_table(project, dataset, table)
            what = "VIEW" if meta.kind == "VIEW" else "TABLE"
            self.engine.exec(f"DROP {what} {qualified(project, dataset, table)}")
            self.remove_table((project, dataset, table))
            self.persist()

    def update_table(self, project: str, dataset: str, table: str, changes: dict[str, Any]) -> TableMeta:
        """tables.patch/update: description, labels, friendly name, expiration, and schema evolution.

        A new schema may add NULLABLE/REPEATED columns and relax REQUIRED to NULLABLE; anything else
        is refused with BigQuery's "Provided Schema does not match" error.
        """
        self.generation += 1
        with self.engine.lock:
            meta = self.require_table(project, dataset, table)
            if "schema" in changes and changes["schema"] is not None and meta.kind == "TABLE":
                self._evolve_schema(meta, bqtypes.normalise_schema(changes["schema"]))
            for key in ("labels", "description", "friendly_name", "expiration_ms"):
                if key in changes:
                    setattr(meta, key, changes[key])
            meta.modified_ms = self.clock.epoch_ms()
            self.persist()
            return meta

    def _evolve_schema(self, meta: TableMeta, new: list[dict[str, Any]]) -> None:
        old_by_name = {f["name"].lower(): f for f in meta.schema}
        target = qualified(meta.project, meta.dataset, meta.table)
        new_names = {f["name"].lower() for f in new}
        mismatch = f"Provided Schema does not match Table {meta.project}:{meta.dataset}.{meta.table}."
        for old in meta.schema:
            if old["name"].lower() not in new_names:
                raise Invalid(f"{mismatch} Field {old['name']} is missing in new schema")
        statements = []
        for f in new:
            old = old_by_name.get(f["name"].lower())
            if old is None:
                if f["mode"] == "REQUIRED":
                    raise Invalid(f"{mismatch} Cannot add required field {f['name']}")
                statements.append(f"ALTER TABLE {target} ADD COLUMN {quote_ident(f['name'])} "
                                  f"{bqtypes.field_duckdb_type(f)}")
                continue
            if old["type"] != f["type"] or (old.get("fields") and old.get("fields") != f.get("fields")):
                raise Invalid(f"{mismatch} Field {f['name']} has changed type from {old['type']} to {f['type']}")
            if old["mode"] != f["mode"]:
                if old["mode"] == "REQUIRED" and f["mode"] == "NULLABLE":
                    statements.append(f"ALTER TABLE {target} ALTER COLUMN {quote_ident(f['name'])} DROP NOT NULL")
                else:
                    raise Invalid(f"{mismatch} Field {f['name']} has changed mode from {old['mode']} to {f['mode']}")
        for statement in statements:
            self.engine.exec(statement)
        meta.schema = new

    # ------------------------------------------------------------------------------------
    # entries changed by SQL statements (the statement runner keeps DuckDB in step itself)
    # ------------------------------------------------------------------------------------
    def put_table(self, meta: TableMeta) -> None:
        self.generation += 1
        self._tables[meta.key] = meta

    def remove_table(self, key: TableKey) -> TableMeta | None:
        self.generation += 1
        meta = self._tables.pop(key, None)
        for listener in self.on_table_removed:
            listener(key)
        return meta

    def rename_table(self, key: TableKey, new_key: TableKey) -> TableMeta:
        if new_key in self._tables:
            raise Duplicate(f"Already Exists: Table {new_key[0]}:{new_key[1]}.{new_key[2]}")
        meta = self.remove_table(key)
        assert meta is not None
        meta.project, meta.dataset, meta.table = new_key
        meta.modified_ms = self.clock.epoch_ms()
        self._tables[new_key] = meta
        return meta

    def touch(self, key: TableKey) -> None:
        """Mark a table modified now (after a write to its data)."""
        self.generation += 1
        meta = self._tables.get(key)
        if meta is not None:
            meta.modified_ms = self.clock.epoch_ms()

    def journal(self) -> Journal:
        return Journal(self)

    # ------------------------------------------------------------------------------------
    # persistence (file databases only)
    # ------------------------------------------------------------------------------------
    def persist(self) -> None:
        if self.engine.database is None:
            return
        with self.engine.lock:
            self.engine.exec(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
            self.engine.exec(f"CREATE TABLE IF NOT EXISTS {META_SCHEMA}.catalog (kind VARCHAR, body VARCHAR)")
            self.engine.exec(f"DELETE FROM {META_SCHEMA}.catalog")
            rows = [("dataset", json.dumps(vars(m))) for m in self._datasets.values()]
            rows += [("table", json.dumps(vars(m))) for m in self._tables.values()]
            if rows:
                self.engine.executemany(f"INSERT INTO {META_SCHEMA}.catalog VALUES (?, ?)", rows)

    def _load_persisted(self) -> None:
        if self.engine.database is None:
            return
        exists = self.engine.exec(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'catalog'",
            [META_SCHEMA])[0][0]
        if not exists:
            return
        for kind, body in self.engine.exec(f"SELECT kind, body FROM {META_SCHEMA}.catalog"):
            data = json.loads(body)
            self.engine.ensure_project(data["project"])
            if kind == "dataset":
                self._datasets[(data["project"], data["dataset"])] = DatasetMeta(**data)
            else:
                self._tables[(data["project"], data["dataset"], data["table"])] = TableMeta(**data)


class Journal:
    """The catalog entries some statements may change, as they were before them."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._saved: dict[TableKey, TableMeta | None] = {}

    def remember(self, *refs: Any) -> None:
        """Keep the entries of these table references (objects with project/dataset/table)."""
        for ref in refs:
            if ref is None or getattr(ref, "table", None) is None:
                continue
            key = (ref.project, ref.dataset, ref.table)
            if key not in self._saved:
                meta = self.catalog.table(*key)
                self._saved[key] = None if meta is None else dataclasses.replace(
                    meta, schema=list(meta.schema), labels=dict(meta.labels))

    def restore(self) -> None:
        """DuckDB rolled the failed statements back; put the catalog entries they touched back too."""
        for key, meta in self._saved.items():
            if meta is None:
                if self.catalog.table(*key) is not None:
                    self.catalog.remove_table(key)
            else:
                self.catalog.put_table(meta)
        self._saved.clear()

    def forget(self) -> None:
        """The statements committed: nothing to put back."""
        self._saved.clear()


#: BigQuery's locations: the multi-regions US and EU, and regions such as us-central1 or asia-northeast1.
_REGION = re.compile(r"[a-z]+-[a-z]+[0-9]+")


def canonical_location(location: str | None) -> str:
    """A dataset location as BigQuery spells it (``US``, ``EU``, ``europe-west2``); US when not given."""
    if location is None or location == "":
        return "US"
    if location.upper() in ("US", "EU"):
        return location.upper()
    if _REGION.fullmatch(location.lower()):
        return location.lower()
    raise Invalid(f"Invalid dataset location: {location}")


def check_dataset_id(dataset: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_]{1,1024}", dataset or ""):
        raise Invalid(f"Invalid dataset ID \"{dataset}\". Dataset IDs must be alphanumeric (plus underscores) "
                      "and must be at most 1024 characters long.")


def check_table_id(table: str) -> None:
    if not table or len(table) > 1024 or not re.fullmatch(r"[\w\- $]+", table, flags=re.UNICODE):
        raise Invalid(f"Invalid table ID \"{table}\". Table IDs must be alphanumeric (plus underscores) and must "
                      "be at most 1024 characters long. Also, Table decorators cannot be used.")
