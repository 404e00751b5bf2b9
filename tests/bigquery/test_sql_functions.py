"""The Python scalar functions the translator registers on DuckDB, called directly."""

from __future__ import annotations

import decimal
import re

import pytest

from emulator.bigquery import sql_functions as f
from emulator.bigquery import sql_geography as geo
from emulator.bigquery.errors import InvalidQuery
from emulator.bigquery.sql_errors import GoogleSQLError, runtime_error

D = decimal.Decimal


@pytest.mark.parametrize("zone, duck", [("+05:30", "GMT+05:30"), ("-3:45", "GMT-03:45"), ("+5", "GMT+05:00"),
                                        ("UTC", "UTC"), ("America/New_York", "America/New_York"),
                                        ("GMT+05:30", "GMT+05:30")])
def test_time_zones_in_duckdb_spelling(zone: str, duck: str) -> None:
    assert f.time_zone(zone) == duck


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+25:00", "", "New York"])
def test_unknown_time_zones_fail_as_bigquery_says(zone: str) -> None:
    with pytest.raises(GoogleSQLError, match=re.escape(f"Invalid time zone: {zone}")):
        f.time_zone(zone)


def test_numeric_division_rounds_half_away_from_zero() -> None:
    assert f.numeric_divide(D(2), D(3)) == D("0.666666667")
    assert f.numeric_divide(D(-2), D(3)) == D("-0.666666667")
    assert f.numeric_multiply(D("0.000000001"), D("0.5")) == D("0.000000001")
    with pytest.raises(GoogleSQLError, match="division by zero: 1.5 / 0"):
        f.numeric_divide(D("1.5"), D(0))
    with pytest.raises(GoogleSQLError, match="numeric overflow"):
        f.numeric_multiply(D("1e20"), D("1e10"))


def test_json_keys_modes_and_depth() -> None:
    text = '{"b": {"c": 1}, "a": [{"d": 2}], "x y": 1}'
    assert f.json_keys(text, None, None) == ['"x y"', "a", "b", "b.c"]
    assert f.json_keys(text, 1, None) == ['"x y"', "a", "b"]
    assert f.json_keys(text, None, "lax") == ['"x y"', "a", "a.d", "b", "b.c"]


def test_runtime_errors_unwrap_to_bigquery_messages() -> None:
    class Boom(Exception):
        pass

    udf = Boom("Invalid Input Error: Python exception occurred while executing the UDF: GoogleSQLError: "
               "division by zero: 1 / 0")
    assert runtime_error(udf).message == "division by zero: 1 / 0"
    overflow = Boom("Out of Range Error: Overflow in addition of INT64 (9223372036854775807 + 1)!")
    assert runtime_error(overflow).message == "int64 overflow: 9223372036854775807 + 1"
    bad_date = Boom('Conversion Error: date field value out of range: "2024-13-45"\n\nLINE 1: …')
    assert isinstance(runtime_error(bad_date), InvalidQuery)
    assert runtime_error(bad_date).message == "Invalid date: '2024-13-45'"
    assert runtime_error(Boom("Catalog Error: something else")) is None


def test_geography_wkt_is_spelled_as_bigquery_does() -> None:
    assert geo.st_geogfromtext("MULTIPOINT ((1 2), (3.5 4))") == "MULTIPOINT(1 2, 3.5 4)"
    assert geo.st_geogfromtext("POLYGON ((0 0, 1 0, 1 1, 0 0))") == "POLYGON((0 0, 1 0, 1 1, 0 0))"
    assert geo.st_geogpoint(190.0, 10.0) == "POINT(-170 10)"
    with pytest.raises(GoogleSQLError, match="Latitude"):
        geo.st_geogpoint(0.0, 91.0)
    assert geo.st_distance("POINT(0 0)", "POINT(0 0)") == 0.0
    assert round(geo.st_length("LINESTRING(0 0, 0 1)")) == 111195
