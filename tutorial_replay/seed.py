"""Seed files: what an emulator starts with, in YAML (or a dict), checked against a JSON Schema.

A seed sets the clock start, the SDK profile and the id seed, creates BigQuery datasets and
tables (from REST-style schemas or DDL) and fills them from row files or inline rows, and writes
service-account key files and other files into the working directory. The format is
documented in ``docs/replay.md``; its JSON Schema ships as ``tutorial_replay/seed.schema.json``.

Mistakes are reported all at once, each with its path in the file (and its line when the seed
came from YAML)::

    seed.yaml:14: bigquery[0].datasets[0].tables[1].schema[0].type: 'FLOAT65' is not one of [...]
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import decimal
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from emulator.emulator import Emulator

SCHEMA_PATH = Path(__file__).resolve().parent / "seed.schema.json"
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

#: Row-file formats by file name ending (longest ending first).
ROW_FORMATS: tuple[tuple[str, str], ...] = (
    (".df.json", "json"),
    (".json", "json"),
    (".ndjson", "ndjson"),
    (".jsonl", "ndjson"),
    (".csv", "csv"),
    (".parquet", "parquet"),
    (".arrow", "arrow"),
    (".feather", "arrow"),
    (".avro", "avro"),
)

DEFAULT_PROJECT = "wallaroo-emulator"


class SeedError(ValueError):
    """A seed that does not validate or cannot be applied; ``problems`` lists every mistake."""

    def __init__(self, problems: Sequence[str], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        head = f"invalid seed {source}" if source else "invalid seed"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


# -- loading and validation -----------------------------------------------------------------


class _SeedLoader(yaml.SafeLoader):
    """Safe YAML without implicit timestamps: ``start: 2023-05-10T21:00:00Z`` stays a string."""


_SeedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_schema() -> dict[str, Any]:
    """The seed JSON Schema shipped with the package."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def format_path(path: Iterable[str | int]) -> str:
    """``['bigquery', 0, 'datasets']`` → ``bigquery[0].datasets``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """1-based line of the YAML node at ``path`` (or of its nearest existing ancestor)."""
    if node is None:
        return None
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def validate(data: Any, *, source: str = "", node: yaml.Node | None = None) -> list[str]:
    """Every problem of a seed (as a parsed mapping), each prefixed with its path; empty if valid."""
    from jsonschema import Draft202012Validator

    from emulator.clock import to_utc

    problems: list[tuple[list[str | int], str]] = []
    validator = Draft202012Validator(load_schema())
    for error in validator.iter_errors(data):
        path = list(error.absolute_path)
        message = error.message
        if (
            error.validator == "oneOf"
            and isinstance(error.instance, dict)
            and "path" in error.schema.get("required", [])
        ):
            message = "give exactly one of 'source', 'asset' or 'text'"
        problems.append((path, message))
    if isinstance(data, Mapping) and not problems:
        if "start" in data:
            try:
                to_utc(str(data["start"]))
            except (ValueError, TypeError) as exc:
                problems.append((["start"], f"{data['start']!r} is not an ISO 8601 instant ({exc})"))
        if "sdk" in data:
            from emulator.emulator import EmulatorError, normalise_profile

            try:
                normalise_profile(_sdk_text(data["sdk"]))
            except EmulatorError as exc:
                problems.append((["sdk"], str(exc)))
        for p, project in enumerate(data.get("bigquery", [])):
            for d, dataset in enumerate(project.get("datasets", [])):
                for t, table in enumerate(dataset.get("tables", [])):
                    where: list[str | int] = ["bigquery", p, "datasets", d, "tables", t]
                    if "schema" in table and "ddl" in table:
                        problems.append((where, "give 'schema' or 'ddl', not both"))
                    rows = table.get("rows")
                    if "schema" not in table and "ddl" not in table:
                        if not isinstance(rows, str) or _row_format(rows, table.get("format")) == "csv":
                            problems.append(
                                (
                                    where,
                                    "needs 'schema' or 'ddl' (only a self-describing row file can do without)",
                                )
                            )
    problems.sort(key=lambda item: [(0, x) if isinstance(x, int) else (1, x) for x in item[0]])
    out = []
    for path, message in problems:
        line = _line_of(node, path)
        prefix = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        out.append(f"{prefix}{format_path(path)}: {message}")
    return out


def _sdk_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


@dataclass
class Seed:
    """A validated seed. ``base_dir`` is where relative row files and sources are looked up."""

    data: dict[str, Any]
    base_dir: Path
    source: str = ""
    node: yaml.Node | None = field(default=None, repr=False, compare=False)

    def locate(self, path: Sequence[str | int]) -> str:
        """``file:line: path`` (or just the path for a dict seed) of a place in this seed."""
        line = _line_of(self.node, path)
        prefix = (
            f"{self.source}:{line}: " if self.source and line else (f"{self.source}: " if self.source else "")
        )
        return prefix + format_path(path)

    @property
    def start(self) -> str | None:
        return self.data.get("start")

    @property
    def sdk(self) -> str | None:
        return _sdk_text(self.data["sdk"]) if "sdk" in self.data else None

    @property
    def seed(self) -> int | None:
        return self.data.get("seed")

    @property
    def project(self) -> str | None:
        return self.data.get("project")

    def emulator_kwargs(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for :class:`~emulator.Emulator` (``None`` overrides are ignored)."""
        kwargs: dict[str, Any] = {}
        if self.start is not None:
            kwargs["start"] = self.start
        if self.sdk is not None:
            kwargs["sdk"] = self.sdk
        if self.seed is not None:
            kwargs["seed"] = self.seed
        if self.project is not None:
            kwargs["project"] = self.project
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        return kwargs

    def create_emulator(self, **overrides: Any) -> Emulator:
        """A new (inactive) :class:`~emulator.Emulator` configured by this seed (nothing applied yet)."""
        from emulator.emulator import Emulator

        return Emulator(**self.emulator_kwargs(**overrides))

    def apply(self, emu: Emulator, workdir: str | os.PathLike[str] | None = None) -> None:
        """Create the seed's BigQuery objects in ``emu`` and write its files into ``workdir``."""
        apply_seed(self, emu, workdir)


def load_seed(
    source: str | os.PathLike[str] | Mapping[str, Any] | Seed,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> Seed:
    """Read and validate a seed from a YAML/JSON file path or a mapping; raise :class:`SeedError`."""
    if isinstance(source, Seed):
        return source
    node = None
    if isinstance(source, Mapping):
        data: Any = json.loads(json.dumps(source, default=str))  # a plain, detached copy
        name = ""
        base = Path(base_dir) if base_dir is not None else Path.cwd()
    else:
        path = Path(source)
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SeedError([f"cannot read the seed file: {exc}"], name) from None
        try:
            node = yaml.compose(text, Loader=_SeedLoader)
            data = yaml.load(text, Loader=_SeedLoader)
        except yaml.YAMLError as exc:
            raise SeedError([f"not valid YAML: {exc}"], name) from None
        base = Path(base_dir) if base_dir is not None else path.resolve().parent
    if data is None:
        data = {}
    problems = validate(data, source=name, node=node)
    if problems:
        raise SeedError(problems, name)
    return Seed(data=data, base_dir=base, source=name, node=node)


# -- row files ------------------------------------------------------------------------------


def _row_format(path: str, given: str | None = None) -> str | None:
    if given:
        return given
    lower = path.lower()
    for ending, fmt in ROW_FORMATS:
        if lower.endswith(ending):
            return fmt
    return None


def read_rows(path: str | os.PathLike[str], fmt: str | None = None) -> list[dict[str, Any]]:
    """Records of a row file, by extension or ``fmt``: json, ndjson, csv, parquet, arrow, avro.

    Values are as the format holds them (CSV values are strings; see :func:`coerce_csv_rows`).
    """
    p = Path(path)
    kind = _row_format(p.name, fmt)
    if kind is None:
        raise ValueError(
            f"unknown row-file format of {p.name!r}; use one of {sorted({f for _, f in ROW_FORMATS})}"
        )
    if kind == "json":
        data = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "data" in data and "columns" in data:  # pandas orient="split"
            return [dict(zip(data["columns"], row)) for row in data["data"]]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError(f"{p.name}: expected a JSON list of records (pandas orient='records')")
        return data
    if kind == "ndjson":
        rows = []
        for number, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError(f"{p.name}:{number}: expected a JSON object per line")
                rows.append(record)
        return rows
    if kind == "csv":
        with p.open(newline="", encoding="utf-8") as handle:
            return [dict(row) for row in csv.DictReader(handle)]
    if kind == "avro":
        import fastavro

        with p.open("rb") as handle:
            return [dict(r) for r in fastavro.reader(handle)]
    return read_arrow_table(p, kind).to_pylist()


def read_arrow_table(path: str | os.PathLike[str], fmt: str | None = None) -> Any:
    """A Parquet or Arrow (IPC file or stream) file as a ``pyarrow.Table``."""
    import pyarrow as pa

    p = Path(path)
    kind = _row_format(p.name, fmt)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(p)
    if kind == "arrow":
        data = p.read_bytes()
        try:
            return pa.ipc.open_file(pa.BufferReader(data)).read_all()
        except pa.ArrowInvalid:
            return pa.ipc.open_stream(pa.BufferReader(data)).read_all()
    raise ValueError(f"{p.name} is not a Parquet or Arrow file")


def infer_schema(path: str | os.PathLike[str], fmt: str | None = None) -> list[dict[str, Any]]:
    """REST-style schema of a self-describing row file (Parquet, Arrow, Avro) or of JSON records."""
    import pyarrow as pa

    from emulator.bigquery.types import schema_from_arrow

    kind = _row_format(Path(path).name, fmt)
    if kind in ("parquet", "arrow"):
        return schema_from_arrow(read_arrow_table(path, kind).schema)
    return schema_from_arrow(pa.Table.from_pylist(read_rows(path, kind)).schema)


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def coerce_csv_rows(rows: list[dict[str, Any]], schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn CSV strings into the values their schema fields want (empty → NULL, JSON for lists/records)."""
    by_name = {f["name"].lower(): f for f in schema}
    out = []
    for row in rows:
        record: dict[str, Any] = {}
        for key, value in row.items():
            f = by_name.get(str(key).lower())
            if value is None or value == "":
                record[key] = None
                continue
            if f is None:
                record[key] = value
                continue
            ftype = str(f.get("type", "STRING")).upper()
            if f.get("mode", "NULLABLE").upper() == "REPEATED" or ftype in ("RECORD", "STRUCT"):
                record[key] = json.loads(value)
            elif ftype in ("INTEGER", "INT64"):
                record[key] = int(value)
            elif ftype in ("FLOAT", "FLOAT64"):
                record[key] = float(value)
            elif ftype in ("BOOLEAN", "BOOL"):
                low = value.strip().lower()
                record[key] = True if low in _TRUE else False if low in _FALSE else value
            else:
                record[key] = value
        out.append(record)
    return out


def jsonish(value: Any) -> Any:
    """A value as BigQuery's insertAll accepts it in JSON (datetimes → ISO text, bytes → base64...)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonish(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonish(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.timedelta):
        return str(value)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return jsonish(tolist())
    isoformat = getattr(value, "isoformat", None)  # pandas Timestamp
    if callable(isoformat):
        return jsonish(value.to_pydatetime()) if hasattr(value, "to_pydatetime") else isoformat()
    return str(value)


# -- applying -------------------------------------------------------------------------------


def apply_seed(
    seed: Seed | Mapping[str, Any] | str | os.PathLike[str],
    emu: Emulator,
    workdir: str | os.PathLike[str] | None = None,
    *,
    log: Callable[[str], None] | None = None,
) -> Seed:
    """Create the seed's datasets and tables in ``emu.bigquery`` and write its files into ``workdir``.

    ``workdir`` defaults to the current directory. Clock start, SDK and id seed are not applied
    here (they are the emulator's constructor arguments: see :meth:`Seed.create_emulator`).
    The project of application-default credentials (``emu.adc_project``) becomes the seed's
    ``project``, else its first BigQuery project.
    """
    s = load_seed(seed)
    say = log or (lambda _msg: None)
    target = Path(workdir) if workdir is not None else Path.cwd()
    default_project = s.project or getattr(emu, "project", None) or DEFAULT_PROJECT
    problems: list[str] = []
    backend = emu.bigquery
    for p, project_entry in enumerate(s.data.get("bigquery", [])):
        project = project_entry["project"]
        for d, dataset_entry in enumerate(project_entry.get("datasets", [])):
            dataset = dataset_entry["dataset"]
            backend.create_dataset(project, dataset, exists_ok=True)
            for t, table_entry in enumerate(dataset_entry.get("tables", [])):
                where = s.locate(["bigquery", p, "datasets", d, "tables", t])
                try:
                    count = _apply_table(backend, s, project, dataset, table_entry)
                except Exception as exc:  # noqa: BLE001 - every failure becomes a located problem
                    problems.append(f"{where}: {type(exc).__name__}: {exc}")
                    continue
                say(f"table {project}.{dataset}.{table_entry['table']}: {count} rows")
    if problems:
        raise SeedError(problems, s.source)
    adc_project = s.project or next((e["project"] for e in s.data.get("bigquery", [])), None)
    if adc_project is not None and hasattr(emu, "adc_project"):
        emu.adc_project = adc_project  # what google.auth.default() / bigquery.Client() find
    network = s.data.get("network", {})
    if network.get("allow"):
        try:
            emu.allow_hosts(*network["allow"])
        except ValueError as exc:
            raise SeedError([f"{s.locate(['network', 'allow'])}: {exc}"], s.source) from None
    for url, local in s.data.get("static_urls", {}).items():
        try:
            emu.serve_static(url, resolve_row_file(local, s.base_dir))
        except (OSError, ValueError) as exc:
            raise SeedError([f"{s.locate(['static_urls', url])}: {exc}"], s.source) from None
        say(f"static {url} -> {local}")
    for entry in s.data.get("service_accounts", []):
        info = emu.service_account_info(
            entry.get("project", default_project),
            extra=entry.get("extra"),
            client_email=entry.get("client_email"),
        )
        path = target / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        say(f"key file {entry['path']} ({info.get('client_email', '')})")
    for index, entry in enumerate(s.data.get("files", [])):
        path = target / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        if "text" in entry:
            path.write_text(entry["text"], encoding="utf-8")
        else:
            origin = (ASSETS_DIR / entry["asset"]) if "asset" in entry else (s.base_dir / entry["source"])
            if origin.is_dir():
                if path.suffix == ".zip":
                    from tutorial_replay.zipfolder import zip_folder

                    path.write_bytes(zip_folder(origin))
                else:
                    shutil.copytree(origin, path, dirs_exist_ok=True)
            elif origin.is_file():
                if origin.resolve() != path.resolve():
                    shutil.copyfile(origin, path)
            else:
                raise SeedError([f"{s.locate(['files', index])}: {origin} does not exist"], s.source)
        say(f"file {entry['path']}")
    return s


def resolve_row_file(spec: str, base_dir: Path) -> Path:
    """A row file named in a seed: ``asset:data/x.df.json`` (shipped assets) or relative to the seed."""
    if spec.startswith("asset:"):
        return ASSETS_DIR / spec[len("asset:") :]
    return base_dir / spec


def _apply_table(backend: Any, s: Seed, project: str, dataset: str, entry: Mapping[str, Any]) -> int:
    table = entry["table"]
    rows_spec = entry.get("rows")
    row_path = resolve_row_file(rows_spec, s.base_dir) if isinstance(rows_spec, str) else None
    fmt = entry.get("format")
    if "ddl" in entry:
        backend.query(entry["ddl"], project=project, dataset=dataset)
        schema = backend.table_schema(project, dataset, table)
    else:
        schema = entry.get("schema") or infer_schema(row_path, fmt)  # type: ignore[arg-type]
        backend.create_table(project, dataset, table, [dict(f) for f in schema], exists_ok=True)
    if rows_spec is None:
        return 0
    if row_path is not None:
        if not row_path.is_file():
            raise FileNotFoundError(f"row file {rows_spec!r} not found (looked in {s.base_dir})")
        rows = read_rows(row_path, fmt)
        if _row_format(row_path.name, fmt) == "csv":
            rows = coerce_csv_rows(rows, schema)
    else:
        rows = list(rows_spec)
    records = [jsonish(r) for r in rows]
    for start in range(0, len(records), 10_000):
        errors = backend.insert_rows(project, dataset, table, records[start : start + 10_000])
        if errors:
            shown = "; ".join(str(e) for e in errors[:3])
            raise ValueError(f"{len(errors)} rows refused: {shown}")
    return len(records)


def seed_emulator(
    seed: Seed | Mapping[str, Any] | str | os.PathLike[str],
    workdir: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> Emulator:
    """A new emulator configured by ``seed`` with the seed applied (not yet entered)."""
    s = load_seed(seed)
    emu = s.create_emulator(**overrides)
    apply_seed(s, emu, workdir)
    return emu
