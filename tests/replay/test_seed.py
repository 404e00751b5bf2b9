"""Seed files: validation errors name their path (and line), every row-file format reads, seeds apply."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import zipfile

import fastavro
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tutorial_replay import seed as seedmod
from tutorial_replay.seed import SeedError, load_seed, read_rows, validate

GOOD = """\
start: "2023-05-10T21:00:00Z"
sdk: "2023.2"
seed: 7
bigquery:
  - project: my-project
    datasets:
      - dataset: my_dataset
        tables:
          - table: inputs
            schema: [{name: tensor, type: FLOAT64, mode: REPEATED}]
            rows: data/inputs.df.json
          - table: outputs
            schema:
              - {name: x, type: FLOAT64}
service_accounts:
  - path: input_key.json
    project: my-project
    extra: {dataset: my_dataset, table: inputs}
"""


def _problems(tmp_path, text):
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    with pytest.raises(SeedError) as info:
        load_seed(path)
    return info.value.problems


def test_good_seed_loads(tmp_path):
    path = tmp_path / "seed.yaml"
    path.write_text(GOOD)
    seed = load_seed(path)
    assert seed.emulator_kwargs() == {"start": "2023-05-10T21:00:00Z", "sdk": "2023.2", "seed": 7}
    assert seed.base_dir == tmp_path


def test_wrong_type_is_reported_with_path_and_line(tmp_path):
    problems = _problems(tmp_path, GOOD.replace("{name: x, type: FLOAT64}", "{name: x, type: FLOAT65}"))
    assert len(problems) == 1
    assert problems[0].startswith(
        f"{tmp_path / 'seed.yaml'}:14: bigquery[0].datasets[0].tables[1].schema[0].type: "
    )
    assert "'FLOAT65' is not one of" in problems[0]


def test_unknown_key_and_wrong_types_are_all_reported(tmp_path):
    text = GOOD.replace("seed: 7", "seed: seven").replace(
        "          - table: outputs", "          - tabel: outputs"
    )
    problems = _problems(tmp_path, text)
    joined = "\n".join(problems)
    assert "seed: 'seven' is not of type 'integer'" in joined
    assert "bigquery[0].datasets[0].tables[1]: 'table' is a required property" in joined
    assert "'tabel' was unexpected" in joined


def test_bad_start_and_sdk(tmp_path):
    problems = _problems(tmp_path, GOOD.replace('"2023-05-10T21:00:00Z"', '"yesterday"'))
    assert problems[0].split(": ", 1)[1].startswith("start: 'yesterday' is not an ISO 8601 instant")
    problems = _problems(tmp_path, GOOD.replace('sdk: "2023.2"', 'sdk: "2019.1"'))
    assert "sdk: unknown SDK profile '2019.1'" in problems[0]


def test_unquoted_values_keep_their_meaning(tmp_path):
    text = GOOD.replace('"2023-05-10T21:00:00Z"', "2023-05-10T21:00:00Z").replace('"2023.2"', "2023.2")
    (tmp_path / "seed.yaml").write_text(text)
    seed = load_seed(tmp_path / "seed.yaml")
    assert seed.start == "2023-05-10T21:00:00Z" and seed.sdk == "2023.2"


def test_table_needs_schema_or_ddl_unless_self_describing():
    base = {"bigquery": [{"project": "p", "datasets": [{"dataset": "d", "tables": [{"table": "t"}]}]}]}
    assert validate(base) == [
        "bigquery[0].datasets[0].tables[0]: needs 'schema' or 'ddl' "
        "(only a self-describing row file can do without)"
    ]
    base["bigquery"][0]["datasets"][0]["tables"][0]["rows"] = "x.parquet"
    assert validate(base) == []


def test_file_entries_need_exactly_one_origin():
    problems = validate({"files": [{"path": "a", "text": "x", "asset": "y"}]})
    assert problems == ["files[0]: give exactly one of 'source', 'asset' or 'text'"]


def test_dict_seed_and_not_a_mapping():
    with pytest.raises(SeedError) as info:
        load_seed({"service_accounts": [{"project": "p"}]})
    assert info.value.problems == ["service_accounts[0]: 'path' is a required property"]
    assert validate([1]) == ["(top level): [1] is not of type 'object'"]


def test_schema_file_is_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(seedmod.load_schema())


# -- row files -------------------------------------------------------------------------------

RECORDS = [
    {"id": 1, "name": "a", "price": 350000.5, "tensor": [1.0, 2.0], "ok": True},
    {"id": 2, "name": "b", "price": None, "tensor": [3.5], "ok": False},
]
SCHEMA = [
    {"name": "id", "type": "INTEGER"},
    {"name": "name", "type": "STRING"},
    {"name": "price", "type": "FLOAT"},
    {"name": "tensor", "type": "FLOAT64", "mode": "REPEATED"},
    {"name": "ok", "type": "BOOLEAN"},
]


def _write_all_formats(folder):
    folder.mkdir(exist_ok=True)
    files = {}
    files["rows.json"] = json.dumps(RECORDS)
    files["rows.df.json"] = pd.DataFrame(RECORDS).to_json(orient="records")
    files["rows.ndjson"] = "\n".join(json.dumps(r) for r in RECORDS) + "\n"
    files["rows.jsonl"] = files["rows.ndjson"]
    files["rows.csv"] = 'id,name,price,tensor,ok\n1,a,350000.5,"[1.0, 2.0]",true\n2,b,,[3.5],false\n'
    for name, text in files.items():
        (folder / name).write_text(text)
    table = pa.Table.from_pylist(RECORDS)
    pq.write_table(table, folder / "rows.parquet")
    with pa.ipc.new_file(folder / "rows.arrow", table.schema) as writer:
        writer.write_table(table)
    with pa.ipc.new_stream(folder / "rows-stream.arrow", table.schema) as writer:
        writer.write_table(table)
    avro_schema = {
        "type": "record",
        "name": "row",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "price", "type": ["null", "double"]},
            {"name": "tensor", "type": {"type": "array", "items": "double"}},
            {"name": "ok", "type": "boolean"},
        ],
    }
    with (folder / "rows.avro").open("wb") as handle:
        fastavro.writer(handle, avro_schema, RECORDS)
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    "name",
    [
        "rows.json",
        "rows.df.json",
        "rows.ndjson",
        "rows.jsonl",
        "rows.csv",
        "rows.parquet",
        "rows.arrow",
        "rows-stream.arrow",
        "rows.avro",
    ],
)
def test_every_row_format_reads_the_same_records(tmp_path, name):
    _write_all_formats(tmp_path)
    rows = read_rows(tmp_path / name)
    if name.endswith(".csv"):
        rows = seedmod.coerce_csv_rows(rows, SCHEMA)
    assert rows == RECORDS


def test_unknown_row_format(tmp_path):
    (tmp_path / "rows.txt").write_text("x")
    with pytest.raises(ValueError, match="unknown row-file format"):
        read_rows(tmp_path / "rows.txt")
    assert read_rows(tmp_path / "rows.txt", "csv") == []


def test_jsonish_values():
    when = dt.datetime(2023, 5, 10, 21, 0, tzinfo=dt.UTC)
    assert seedmod.jsonish({"t": when, "d": when.date(), "b": b"hi", "n": [when.replace(tzinfo=None)]}) == {
        "t": "2023-05-10T21:00:00Z",
        "d": "2023-05-10",
        "b": "aGk=",
        "n": ["2023-05-10T21:00:00"],
    }


# -- applying --------------------------------------------------------------------------------


def test_apply_every_format_into_bigquery(tmp_path):

    names = _write_all_formats(tmp_path / "data")
    tables = []
    for index, name in enumerate(names):
        entry = {"table": f"t{index}", "rows": f"data/{name}"}
        if not name.endswith((".parquet", ".arrow", ".avro")) or index % 2:
            entry["schema"] = SCHEMA
        tables.append(entry)
    data = {
        "start": "2024-01-02T03:04:05Z",
        "seed": 3,
        "bigquery": [{"project": "proj", "datasets": [{"dataset": "ds", "tables": tables}]}],
        "service_accounts": [{"path": "keys/k.json", "project": "proj", "extra": {"dataset": "ds"}}],
        "files": [
            {"path": "notes.txt", "text": "hello"},
            {"path": "m/model.onnx", "asset": "models/rf_model.onnx"},
        ],
    }
    seed = load_seed(data, base_dir=tmp_path)
    emu = seed.create_emulator()
    try:
        assert emu.clock.now() == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
        seed.apply(emu, tmp_path / "work")
        for index, name in enumerate(names):
            arrow, _schema, _total = emu.bigquery.read_rows("proj", "ds", f"t{index}")
            got = sorted(
                arrow.select(["id", "name", "price", "tensor", "ok"]).to_pylist(), key=lambda r: r["id"]
            )
            assert got == RECORDS, name
    finally:
        emu.close()
    key = json.loads((tmp_path / "work/keys/k.json").read_text())
    assert key["project_id"] == "proj" and key["dataset"] == "ds" and key["type"] == "service_account"
    assert (tmp_path / "work/notes.txt").read_text() == "hello"
    assert (tmp_path / "work/m/model.onnx").read_bytes() == (
        seedmod.ASSETS_DIR / "models/rf_model.onnx"
    ).read_bytes()


def test_apply_ddl_and_inline_rows(tmp_path):
    from emulator.emulator import Emulator

    data = {
        "bigquery": [
            {
                "project": "my-project",
                "datasets": [
                    {
                        "dataset": "my_dataset",
                        "tables": [
                            {
                                "table": "outputs",
                                "ddl": "CREATE TABLE `my-project.my_dataset.outputs` (time DATETIME, "
                                "in_tensor ARRAY<FLOAT64>, out_variable ARRAY<FLOAT64>, check_failures INT64)",
                                "rows": [
                                    {
                                        "time": "2023-05-10T21:26:08.181",
                                        "in_tensor": [1.0],
                                        "out_variable": [2.5],
                                        "check_failures": 0,
                                    }
                                ],
                            },
                            {
                                "table": "inputs",
                                "schema": [{"name": "tensor", "type": "FLOAT64", "mode": "REPEATED"}],
                                "rows": "asset:data/xtest-1k.df.json",
                            },
                        ],
                    }
                ],
            }
        ],
    }
    emu = Emulator()
    try:
        seedmod.apply_seed(data, emu, tmp_path)
        assert emu.bigquery.row_count("my-project", "my_dataset", "inputs") == 1000
        schema = emu.bigquery.table_schema("my-project", "my_dataset", "outputs")
        assert [f["name"] for f in schema] == ["time", "in_tensor", "out_variable", "check_failures"]
        assert emu.bigquery.row_count("my-project", "my_dataset", "outputs") == 1
    finally:
        emu.close()


def test_refused_rows_are_reported_with_the_table_path(tmp_path):
    from emulator.emulator import Emulator

    data = {
        "bigquery": [
            {
                "project": "p",
                "datasets": [
                    {
                        "dataset": "d",
                        "tables": [
                            {
                                "table": "t",
                                "schema": [{"name": "n", "type": "INTEGER"}],
                                "rows": [{"n": "not a number"}],
                            },
                        ],
                    }
                ],
            }
        ]
    }
    emu = Emulator()
    try:
        with pytest.raises(SeedError) as info:
            seedmod.apply_seed(data, emu, tmp_path)
    finally:
        emu.close()
    assert info.value.problems[0].startswith("bigquery[0].datasets[0].tables[0]: ValueError: 1 rows refused")


def test_folder_asset_written_as_deterministic_zip(tmp_path):
    from emulator.emulator import Emulator

    src = tmp_path / "orch"
    (src / "__pycache__").mkdir(parents=True)
    (src / "main.py").write_text("print('hi')\n")
    (src / "requirements.txt").write_text("")
    (src / "__pycache__" / "x.pyc").write_bytes(b"\0")
    data = {"files": [{"path": "pkg/orch.zip", "source": "orch"}, {"path": "copy", "source": "orch"}]}
    emu = Emulator()
    try:
        seedmod.apply_seed(load_seed(data, base_dir=tmp_path), emu, tmp_path / "w1")
        seedmod.apply_seed(load_seed(data, base_dir=tmp_path), emu, tmp_path / "w2")
    finally:
        emu.close()
    first = (tmp_path / "w1/pkg/orch.zip").read_bytes()
    assert first == (tmp_path / "w2/pkg/orch.zip").read_bytes()
    assert zipfile.ZipFile(tmp_path / "w1/pkg/orch.zip").namelist() == ["main.py", "requirements.txt"]
    assert (tmp_path / "w1/copy/main.py").is_file()


def test_apply_problems_name_file_and_line(tmp_path):
    from emulator.emulator import Emulator

    (tmp_path / "seed.yaml").write_text(
        "bigquery:\n"
        "  - project: p\n"
        "    datasets:\n"
        "      - dataset: d\n"
        "        tables:\n"
        "          - table: t\n"
        "            schema: [{name: n, type: INTEGER}]\n"
        "            rows: missing.csv\n"
        "files:\n"
        "  - path: x\n"
        "    source: nowhere.txt\n"
    )
    seed = load_seed(tmp_path / "seed.yaml")
    emu = Emulator()
    try:
        with pytest.raises(SeedError) as info:
            seed.apply(emu, tmp_path / "w")
        assert info.value.problems[0].startswith(
            f"{tmp_path / 'seed.yaml'}:6: bigquery[0].datasets[0].tables[0]: "
        )
        assert "row file 'missing.csv' not found" in info.value.problems[0]
        (tmp_path / "missing.csv").write_text("n\n1\n2\n")
        with pytest.raises(SeedError) as info:
            seed.apply(emu, tmp_path / "w")
        assert info.value.problems == [
            f"{tmp_path / 'seed.yaml'}:10: files[0]: {tmp_path / 'nowhere.txt'} does not exist"
        ]
        assert emu.bigquery.row_count("p", "d", "t") == 2
    finally:
        emu.close()


def test_format_key_overrides_the_extension(tmp_path):
    (tmp_path / "rows.txt").write_text('{"a": 1}\n{"a": 2}\n')
    assert read_rows(tmp_path / "rows.txt", "ndjson") == [{"a": 1}, {"a": 2}]
    table = pa.table({"a": [1, 2]})
    with pa.ipc.new_file(tmp_path / "rows.feather", table.schema) as writer:
        writer.write_table(table)
    assert read_rows(tmp_path / "rows.feather") == [{"a": 1}, {"a": 2}]
    assert seedmod.infer_schema(tmp_path / "rows.feather") == [
        {"name": "a", "type": "INTEGER", "mode": "NULLABLE"}
    ]


TYPED = [
    {
        "ts": dt.datetime(2023, 5, 10, 21, 0, 1, 123456, tzinfo=dt.UTC),
        "naive": dt.datetime(2023, 5, 10, 21, 0),
        "day": dt.date(2023, 5, 10),
        "num": decimal.Decimal("1.250000000"),
        "raw": b"\x00\xff",
        "rec": {"x": 1, "y": "a"},
        "ints": [1, 2],
    }
]


def _typed_files(folder):
    table = pa.Table.from_pylist(TYPED)
    pq.write_table(table, folder / "typed.parquet")
    with pa.ipc.new_file(folder / "typed.arrow", table.schema) as writer:
        writer.write_table(table)
    avro_schema = {
        "type": "record",
        "name": "typed",
        "fields": [
            {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "naive", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "num", "type": {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 9}},
            {"name": "raw", "type": "bytes"},
            {
                "name": "rec",
                "type": {
                    "type": "record",
                    "name": "rec",
                    "fields": [{"name": "x", "type": "long"}, {"name": "y", "type": "string"}],
                },
            },
            {"name": "ints", "type": {"type": "array", "items": "long"}},
        ],
    }
    with (folder / "typed.avro").open("wb") as handle:
        fastavro.writer(handle, avro_schema, TYPED)


@pytest.mark.parametrize("name", ["typed.parquet", "typed.arrow", "typed.avro"])
def test_typed_values_survive_the_trip_into_bigquery(tmp_path, name):
    from emulator.emulator import Emulator

    _typed_files(tmp_path)
    seed = load_seed(
        {
            "bigquery": [
                {"project": "p", "datasets": [{"dataset": "d", "tables": [{"table": "t", "rows": name}]}]}
            ]
        },
        base_dir=tmp_path,
    )
    emu = Emulator()
    try:
        seed.apply(emu, tmp_path)
        types = {f["name"]: (f["type"], f["mode"]) for f in emu.bigquery.table_schema("p", "d", "t")}
        assert types == {
            "ts": ("TIMESTAMP", "NULLABLE"),
            "naive": ("DATETIME", "NULLABLE"),
            "day": ("DATE", "NULLABLE"),
            "num": ("NUMERIC", "NULLABLE"),
            "raw": ("BYTES", "NULLABLE"),
            "rec": ("RECORD", "NULLABLE"),
            "ints": ("INTEGER", "REPEATED"),
        }
        (row,) = emu.bigquery.read_rows("p", "d", "t")[0].to_pylist()
    finally:
        emu.close()
    assert row == TYPED[0]
