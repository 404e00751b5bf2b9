"""Runtime errors of translated SQL in BigQuery's words.

Translated SQL raises BigQuery's runtime errors itself: the rules emit ``bq_raise('<message>')``,
a Python scalar function (:mod:`emulator.bigquery.sql_functions`) that raises
:class:`GoogleSQLError`. Unlike DuckDB's ``error()`` it is not volatile, so it may appear in a
window's ``ORDER BY`` and inside ``try()`` (which is how ``SAFE.`` turns a function's own errors
into NULL). DuckDB reports a Python exception as ``Invalid Input Error: Python exception occurred
while executing the UDF: GoogleSQLError: <message>``; :func:`runtime_error` unwraps it, and maps
DuckDB's own runtime errors onto BigQuery's messages where they differ:

* INT64 overflow (DuckDB ``Overflow in addition of INT64 (a + b)!``) → ``int64 overflow: a + b``
  (ZetaSQL's arithmetic error text), a SUM past INT64 → ``Error in SUM aggregation: integer
  overflow`` (as BigQuery reports it, e.g. sodadata/soda-core#1860);
* DECIMAL overflow → ``numeric overflow``;
* a string that is not a date/time (``CAST('2024-13-45' AS DATE)``) → ``Invalid date: '2024-13-45'``
  (likewise ``Invalid timestamp``, ``Invalid datetime``, ``Invalid time``).

The backend calls :func:`runtime_error` first when it maps a DuckDB exception.
"""

from __future__ import annotations

import re

from emulator.bigquery.errors import BigQueryError, InvalidQuery

__all__ = ["GoogleSQLError", "runtime_error"]

_UDF_WRAPPER = re.compile(r"^(?:[A-Za-z ]+ Error: )?Python exception occurred while executing the UDF: "
                          r"(?:[A-Za-z_.]*Error|[A-Za-z_.]*Exception): ", re.S)
_INT_OVERFLOW = re.compile(r"Overflow in (addition|subtraction|multiplication) of INT64 \((-?\d+) [-+*] (-?\d+)\)")
_OPS = {"addition": "+", "subtraction": "-", "multiplication": "*"}
_CAST_TEXT = re.compile(r'^Conversion Error: (?:invalid )?(date|timestamp|time|datetime) field (?:value out of range|format)'
                        r': "(.*?)"', re.S)


class GoogleSQLError(ValueError):
    """A GoogleSQL runtime error raised from inside a query; the message is BigQuery's."""


def runtime_error(exc: BaseException) -> BigQueryError | None:
    """BigQuery's error for a DuckDB runtime exception of translated SQL, or None when it has no mapping."""
    text = str(exc)
    first = text.split("\n")[0]
    match = _UDF_WRAPPER.match(first)
    if match is not None:
        return InvalidQuery(first[match.end():])
    match = _INT_OVERFLOW.search(first)
    if match is not None:
        return InvalidQuery(f"int64 overflow: {match.group(2)} {_OPS[match.group(1)]} {match.group(3)}")
    if "Overflow in" in first and "DECIMAL" in first:
        return InvalidQuery("numeric overflow")
    if "out of range for the destination type INT64" in first and "sum(" in text.lower():
        return InvalidQuery("Error in SUM aggregation: integer overflow")
    match = _CAST_TEXT.match(first)
    if match is not None:
        kind, value = match.group(1), match.group(2)
        return InvalidQuery(f"Invalid {kind}: '{value}'")
    return None
