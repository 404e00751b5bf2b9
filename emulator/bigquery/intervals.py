"""BigQuery INTERVAL values: parsing their text forms and writing the canonical one.

An INTERVAL has three independent parts, as in BigQuery and DuckDB: months (Y-M), days and a
time part (kept here in microseconds; BigQuery's own precision). BigQuery reads two text forms in
loads, insertAll rows and query parameters:

* the canonical form ``[sign]Y-M [sign]D [sign]H:M:S[.F]`` (``"7-11 9 4:15:37.123456"``), and
* ISO 8601 durations ``P[nY][nM][nD][T[nH][nM][n[.f]S]]`` with a sign per component
  (``"P-10000Y0M-3660000DT-87840000H0M0S"``).

Results carry the canonical form (what google-cloud-bigquery's ``_INTERVAL_PATTERN`` parses);
the fraction is written without trailing zeros, and left out when zero.
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: BigQuery's limits: ±10,000 years, ±3,660,000 days, ±87,840,000 hours.
MAX_MONTHS = 10_000 * 12
MAX_DAYS = 3_660_000
MAX_MICROS = 87_840_000 * 3_600_000_000

_CANONICAL = re.compile(
    r"^(?P<ysign>[+-]?)(?P<years>\d+)-(?P<months>\d+)\s+(?P<days>[+-]?\d+)\s+"
    r"(?P<tsign>[+-]?)(?P<hours>\d+):(?P<minutes>\d+):(?P<seconds>\d+)(?:\.(?P<fraction>\d{1,9}))?$"
)
_ISO = re.compile(
    r"^P(?:(?P<years>[+-]?\d+)Y)?(?:(?P<months>[+-]?\d+)M)?(?:(?P<weeks>[+-]?\d+)W)?(?:(?P<days>[+-]?\d+)D)?"
    r"(?:T(?:(?P<hours>[+-]?\d+)H)?(?:(?P<minutes>[+-]?\d+)M)?(?:(?P<seconds>[+-]?\d+(?:\.\d{1,9})?)S)?)?$",
    re.IGNORECASE,
)


class Interval(NamedTuple):
    months: int
    days: int
    micros: int

    def duckdb_text(self) -> str:
        """Text DuckDB casts to this INTERVAL: loads stage intervals so, as Arrow's
        ``month_day_nano_interval`` (int64 nanoseconds) cannot hold BigQuery's ±87,840,000 hours."""
        return f"{self.months} months {self.days} days {self.micros} microseconds"


def _fraction_micros(fraction: str | None) -> int:
    return int((fraction or "").ljust(6, "0")[:6] or 0)


def _seconds_micros(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, _, fraction = text.lstrip("+-").partition(".")
    return sign * (int(whole) * 1_000_000 + _fraction_micros(fraction))


def parse_interval(text: str) -> Interval | None:
    """The interval ``text`` spells (canonical or ISO 8601 form), None when it is neither or out of range."""
    text = text.strip()
    match = _CANONICAL.match(text)
    if match:
        months = int(match["years"]) * 12 + int(match["months"])
        if match["ysign"] == "-":
            months = -months
        micros = ((int(match["hours"]) * 60 + int(match["minutes"])) * 60 + int(match["seconds"])) * 1_000_000
        micros += _fraction_micros(match["fraction"])
        if match["tsign"] == "-":
            micros = -micros
        value = Interval(months, int(match["days"]), micros)
    else:
        match = _ISO.match(text)
        if not match or text.upper() in ("P", "PT") or text.upper().endswith("T"):
            return None
        months = int(match["years"] or 0) * 12 + int(match["months"] or 0)
        days = int(match["weeks"] or 0) * 7 + int(match["days"] or 0)
        micros = (int(match["hours"] or 0) * 3600 + int(match["minutes"] or 0) * 60) * 1_000_000
        if match["seconds"]:
            micros += _seconds_micros(match["seconds"])
        value = Interval(months, days, micros)
    if abs(value.months) > MAX_MONTHS or abs(value.days) > MAX_DAYS or abs(value.micros) > MAX_MICROS:
        return None
    return value


def format_interval(months: int, days: int, micros: int) -> str:
    """BigQuery's canonical text of an interval."""
    ysign = "-" if months < 0 else ""
    tsign = "-" if micros < 0 else ""
    months, micros = abs(months), abs(micros)
    seconds, fraction = divmod(micros, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{ysign}{months // 12}-{months % 12} {days} {tsign}{hours}:{minutes}:{seconds}"
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text


def interval_sql(expr: str) -> str:
    """DuckDB SQL (VARCHAR) writing the INTERVAL ``expr`` in the canonical form of :func:`format_interval`."""
    months = f"(datepart('year', {expr}) * 12 + datepart('month', {expr}))"
    micros = (f"(datepart('hour', {expr})::BIGINT * 3600000000 + datepart('minute', {expr})::BIGINT * 60000000 "
              f"+ datepart('microseconds', {expr})::BIGINT)")
    return (
        f"(CASE WHEN {months} < 0 THEN '-' ELSE '' END || (abs({months}) // 12)::VARCHAR || '-' || "
        f"(abs({months}) % 12)::VARCHAR || ' ' || datepart('day', {expr})::VARCHAR || ' ' || "
        f"CASE WHEN {micros} < 0 THEN '-' ELSE '' END || (abs({micros}) // 3600000000)::VARCHAR || ':' || "
        f"(abs({micros}) // 60000000 % 60)::VARCHAR || ':' || (abs({micros}) // 1000000 % 60)::VARCHAR || "
        f"CASE WHEN abs({micros}) % 1000000 = 0 THEN '' "
        f"ELSE '.' || rtrim(lpad((abs({micros}) % 1000000)::VARCHAR, 6, '0'), '0') END)"
    )
