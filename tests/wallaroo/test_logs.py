"""``pipeline.logs(...)`` returns what was inferred, filtered by the virtual clock's time window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from wallaroo_testkit import house_rows

from emulator.emulator import Emulator


def test_logs_hold_every_inferred_row(deployed: Any, emu: Emulator) -> None:
    assert deployed.logs().empty
    first = deployed.infer(pd.DataFrame({"tensor": house_rows(3, 1).tolist()}))
    emu.clock.advance(60)
    second = deployed.infer(pd.DataFrame({"tensor": house_rows(2, 2).tolist()}))
    logs = deployed.logs()
    assert list(logs.columns) == list(first.columns)
    assert len(logs) == 5
    expected = pd.concat([first, second], ignore_index=True)
    assert logs["time"].tolist() == expected["time"].tolist()
    assert logs["in.tensor"].tolist() == expected["in.tensor"].tolist()
    assert logs["out.variable"].tolist() == expected["out.variable"].tolist()
    assert str(logs["time"].dtype) == "datetime64[ns]"


def test_time_window_and_limit(deployed: Any, emu: Emulator) -> None:
    t0 = emu.clock.now()
    deployed.infer(pd.DataFrame({"tensor": house_rows(2, 1).tolist()}))
    emu.clock.advance(3600)
    t1 = emu.clock.now()
    deployed.infer(pd.DataFrame({"tensor": house_rows(4, 2).tolist()}))
    window = deployed.logs(start_datetime=t1 - dt.timedelta(minutes=1), end_datetime=t1 + dt.timedelta(minutes=1))
    assert len(window) == 4
    window = deployed.logs(start_datetime=t0, end_datetime=t0 + dt.timedelta(seconds=1))
    assert len(window) == 2
    naive = deployed.logs(start_datetime=t0.replace(tzinfo=None), end_datetime=t1.replace(tzinfo=None))
    assert len(naive) == 6
    assert len(deployed.logs(limit=3)) == 3
    assert deployed.logs(limit=3)["time"].nunique() == 1  # the newest rows
    assert deployed.logs(valid=False).empty
    empty = deployed.logs(start_datetime=t1 + dt.timedelta(days=1), end_datetime=t1 + dt.timedelta(days=2))
    assert empty.empty


def test_default_limit_is_one_page(deployed: Any, capsys: Any) -> None:
    deployed.infer(pd.DataFrame({"tensor": house_rows(150).tolist()}))
    assert len(deployed.logs()) == 100
    assert "There are more logs available" in capsys.readouterr().out
    assert len(deployed.logs(limit=1000)) == 150


def test_arrow_logs(deployed: Any, emu: Emulator) -> None:
    deployed.infer(pa.table({"tensor": pa.array(house_rows(2).tolist(), pa.list_(pa.float32()))}))
    deployed.infer(pd.DataFrame({"tensor": house_rows(1).tolist()}))
    table = deployed.logs(arrow=True)
    assert isinstance(table, pa.Table) and table.num_rows == 3
    anomaly = "check_failures" if emu.sdk == "2023.2" else "anomaly.count"
    assert table.column_names == ["time", "in.tensor", "out.variable", anomaly]
    frame = deployed.logs()
    np.testing.assert_allclose(np.array(frame["out.variable"].tolist()), np.array(table.column("out.variable").to_pylist()))
