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
from emulator.bigquery.errors import (
    BigQueryError,
    Duplicate,
    Invalid,
    ResourceInUse,
    dataset_not_found,
    table_not_found,
)
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
    is_case_insensitive: bool | None = None
    max_time_travel_hours: str | None = None
    default_rounding_mode: str | None = None
    default_collation: str | None = None
    storage_billing_model: str | None = None
    default_partition_expiration_ms: str | None = None


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
    time_partitioning: dict[str, Any] | None = None
    range_partitioning: dict[str, Any] | None = None
    require_partition_filter: bool | None = None
    clustering: dict[str, Any] | None = None
    table_constraints: dict[str, Any] | None = None

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
        #: routine resources (see :mod:`emulator.bigquery.routines`) by (project, dataset, routine)
        self._routines: dict[TableKey, dict[str, Any]] = {}
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
        meta = self._tables.get((project, dataset, table))
        if meta is None and table:
            meta = self._case_insensitive_table(project, dataset, table)
        return meta

    def _case_insensitive_table(self, project: str, dataset: str, table: str) -> TableMeta | None:
        """In a dataset created with ``isCaseInsensitive``, table names match in any case."""
        meta = self._datasets.get((project, dataset))
        if meta is None or not meta.is_case_insensitive:
            return None
        lowered = table.lower()
        return next((m for (p, d, t), m in self._tables.items()
                     if p == project and d == dataset and t.lower() == lowered), None)

    def routine(self, project: str, dataset: str, routine: str) -> dict[str, Any] | None:
        return self._routines.get((project, dataset, routine))

    def list_routines(self, project: str, dataset: str) -> list[dict[str, Any]]:
        return [r for (p, d, _), r in sorted(self._routines.items()) if p == project and d == dataset]

    def put_routine(self, key: TableKey, resource: dict[str, Any]) -> None:
        """Keep a routine's resource; like a table change, it moves ``generation`` (a query calling the
        routine must not be answered from results cached before)."""
        with self.engine.lock:
            self._routines[key] = resource
            self.generation += 1
            self.persist()

    def remove_routine(self, key: TableKey) -> None:
        with self.engine.lock:
            self._routines.pop(key, None)
            self.generation += 1
            self.persist()

    def require_dataset(self, project: str, dataset: str) -> DatasetMeta:
        meta = self._datasets.get((project, dataset))
        if meta is None:
            raise dataset_not_found(project, dataset)
        return meta

    def require_table(self, project: str, dataset: str, table: str) -> TableMeta:
        meta = self.table(project, dataset, table)
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
        meta = self.table(project, dataset, table)
        return None if meta is None else meta.schema

    # ------------------------------------------------------------------------------------
    # datasets
    # ------------------------------------------------------------------------------------
    def create_dataset(self, project: str, dataset: str, *, exists_ok: bool = False,
                       labels: dict[str, str] | None = None, description: str | None = None,
                       friendly_name: str | None = None,
                       default_table_expiration_ms: str | None = None, location: str | None = None,
                       options: dict[str, Any] | None = None) -> DatasetMeta:
        """A dataset; ``options`` are further attributes (DatasetMeta names, see :data:`DATASET_OPTIONS`)."""
        check_dataset_id(dataset)
        options = check_dataset_options(options or {})
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
                               default_table_expiration_ms, location, **options)
            self._datasets[key] = meta
            self.persist()
            return meta

    def update_dataset(self, project: str, dataset: str, changes: dict[str, Any]) -> DatasetMeta:
        self.generation += 1
        with self.engine.lock:
            meta = self.require_dataset(project, dataset)
            changes = {**changes, **check_dataset_options(
                {k: v for k, v in changes.items() if k in DATASET_OPTIONS.values()})}
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
            for key in [k for k in self._routines if k[0] == project and k[1] == dataset]:
                del self._routines[key]
            del self._datasets[(project, dataset)]
            self.persist()

    # ------------------------------------------------------------------------------------
    # tables
    # ------------------------------------------------------------------------------------
    def create_table(self, project: str, dataset: str, table: str, schema: list[dict[str, Any]] | None = None,
                     *, exists_ok: bool = False, view_query: str | None = None,
                     labels: dict[str, str] | None = None, description: str | None = None,
                     friendly_name: str | None = None, expiration_ms: str | None = None,
                     options: dict[str, Any] | None = None) -> TableMeta:
        """A table or view; ``options`` are further metadata attributes (:data:`TABLE_OPTIONS`)."""
        check_table_id(table)
        self.generation += 1
        with self.engine.lock:
            self.require_dataset(project, dataset)
            key = (project, dataset, table)
            existing = self.table(*key)
            if existing is not None:
                if exists_ok:
                    return existing
                raise Duplicate(f"Already Exists: Table {project}:{dataset}.{table}")
            target = qualified(project, dataset, table)
            if view_query is not None:
                view_schema = self._create_view(project, dataset, table, view_query)
                now = self.clock.epoch_ms()
                meta = TableMeta(project, dataset, table, view_schema, now, now, "VIEW", view_query,
                                 dict(labels or {}), description, friendly_name, expiration_ms)
            else:
                from emulator.bigquery.sql import default_column_sql

                fields = bqtypes.normalise_schema(schema or [])
                columns = bqtypes.table_ddl_columns(fields, lambda e: default_column_sql(e, project))
                self.engine.exec(f"CREATE TABLE {target} ({columns})" if columns else
                                 f"CREATE TABLE {target} (\"__no_columns\" BOOLEAN)")
                now = self.clock.epoch_ms()
                meta = TableMeta(project, dataset, table, fields, now, now, "TABLE", None,
                                 dict(labels or {}), description, friendly_name, expiration_ms)
                if options:
                    try:
                        apply_table_options(meta, options)
                    except BigQueryError:
                        self.engine.exec(f"DROP TABLE {target}")
                        raise
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
            self.engine.exec(f"DROP {what} {qualified(*meta.key)}")
            self.remove_table(meta.key)
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
            options = {k: v for k, v in changes.items() if k in TABLE_OPTIONS.values()}
            if options:
                apply_table_options(meta, options)
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
            rows += [("routine", json.dumps(r)) for r in self._routines.values()]
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
            if kind == "routine":
                ref = data["routineReference"]
                self._routines[(ref["projectId"], ref["datasetId"], ref["routineId"])] = data
                continue
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


#: Dataset options kept after validation: REST field -> DatasetMeta attribute.
DATASET_OPTIONS = {"isCaseInsensitive": "is_case_insensitive", "maxTimeTravelHours": "max_time_travel_hours",
                   "defaultRoundingMode": "default_rounding_mode", "defaultCollation": "default_collation",
                   "storageBillingModel": "storage_billing_model",
                   "defaultPartitionExpirationMs": "default_partition_expiration_ms"}
_ROUNDING_MODES = ("ROUNDING_MODE_UNSPECIFIED", "ROUND_HALF_AWAY_FROM_ZERO", "ROUND_HALF_EVEN")
_BILLING_MODELS = ("STORAGE_BILLING_MODEL_UNSPECIFIED", "LOGICAL", "PHYSICAL")


def check_dataset_options(options: dict[str, Any]) -> dict[str, Any]:
    """Validated dataset options (DatasetMeta attribute names) as BigQuery returns them.

    maxTimeTravelHours: whole days from 48 to 168 hours (an int64 string); defaultRoundingMode and
    storageBillingModel: BigQuery's enum values. They are kept and reported only: the emulator keeps no
    table history, and NUMERIC rounding stays ROUND_HALF_AWAY_FROM_ZERO.
    """
    out: dict[str, Any] = {}
    for attr, value in options.items():
        if value is None:
            out[attr] = None
        elif attr == "is_case_insensitive":
            out[attr] = value if isinstance(value, bool) else str(value).lower() == "true"
        elif attr == "max_time_travel_hours":
            try:
                hours = int(value)
            except (TypeError, ValueError):
                hours = -1
            if not 48 <= hours <= 168 or hours % 24:
                raise Invalid(f"Invalid value for maxTimeTravelHours: {value}. The time travel window must be "
                              "between 48 and 168 hours (2 to 7 days), in multiples of 24 hours.")
            out[attr] = str(hours)
        elif attr == "default_rounding_mode":
            if value not in _ROUNDING_MODES:
                raise Invalid(f"Invalid value for defaultRoundingMode: {value} is not a valid value")
            out[attr] = value
        elif attr == "storage_billing_model":
            if value not in _BILLING_MODELS:
                raise Invalid(f"Invalid value for storageBillingModel: {value} is not a valid value")
            out[attr] = value
        elif attr == "default_partition_expiration_ms":
            out[attr] = str(int(value))
        else:
            out[attr] = value
    return out


#: Table metadata kept as given after validation: REST field -> TableMeta attribute.
TABLE_OPTIONS = {"timePartitioning": "time_partitioning", "rangePartitioning": "range_partitioning",
                 "requirePartitionFilter": "require_partition_filter", "clustering": "clustering",
                 "tableConstraints": "table_constraints"}
_PARTITION_TYPES = ("DAY", "HOUR", "MONTH", "YEAR")
_TIME_TYPES = ("DATE", "TIMESTAMP", "DATETIME")
_CLUSTER_TYPES = ("INTEGER", "STRING", "BYTES", "DATE", "DATETIME", "TIMESTAMP", "BOOLEAN", "NUMERIC",
                  "BIGNUMERIC", "GEOGRAPHY", "RANGE")


def apply_table_options(meta: TableMeta, options: dict[str, Any]) -> None:
    """Validate and set partitioning, clustering and constraints (keys: TableMeta attributes; None clears).

    They are metadata only: rows are stored the same way whatever the partitioning or clustering
    (BigQuery's partition pruning and block sorting change cost, not results).
    """
    by_name = {f["name"].lower(): f for f in meta.schema}

    def top_level(name: Any, what: str) -> dict[str, Any]:
        found = by_name.get(str(name).lower())
        if found is None:
            raise Invalid(f"The field specified for {what} cannot be found in the schema. Invalid field: {name}.")
        return found

    for attr, value in options.items():
        if value is None:
            setattr(meta, attr, None)
            continue
        if attr == "time_partitioning":
            value = dict(value)
            kind = str(value.get("type") or "DAY").upper()
            if kind not in _PARTITION_TYPES:
                raise Invalid(f"Invalid value for timePartitioning.type: {kind}")
            value["type"] = kind
            if value.get("field"):
                found = top_level(value["field"], "time partitioning")
                if found["type"] not in _TIME_TYPES or found["mode"] == "REPEATED":
                    raise Invalid("The field specified for time partitioning can only be of type TIMESTAMP, DATE "
                                  f"or DATETIME. The type found is: {found['type']}.")
            if value.get("expirationMs") is not None:
                value["expirationMs"] = str(int(value["expirationMs"]))
        elif attr == "range_partitioning":
            found = top_level((value or {}).get("field"), "range partitioning")
            if found["type"] != "INTEGER" or found["mode"] == "REPEATED":
                raise Invalid("The field specified for range partitioning can only be of type INTEGER. "
                              f"The type found is: {found['type']}.")
        elif attr == "clustering":
            fields = list((value or {}).get("fields") or [])
            if not fields:
                value = None
            elif len(fields) > 4:
                raise Invalid(f"Too many clustering fields: {len(fields)}, only 4 are allowed.")
            else:
                for name in fields:
                    found = top_level(name, "clustering")
                    if found["type"] not in _CLUSTER_TYPES or found["mode"] == "REPEATED":
                        raise Invalid(f"Field {name} is of type {found['type']} which is not supported for "
                                      "clustering.")
                value = {"fields": fields}
        elif attr == "table_constraints":
            primary = (value or {}).get("primaryKey")
            for name in (primary or {}).get("columns") or []:
                top_level(name, "the primary key")
            for foreign in (value or {}).get("foreignKeys") or []:
                for column in foreign.get("columnReferences") or []:
                    top_level(column.get("referencingColumn"), "a foreign key")
            if not primary and not (value or {}).get("foreignKeys"):
                value = None
        elif attr == "require_partition_filter":
            value = bool(value)
        setattr(meta, attr, value)


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
