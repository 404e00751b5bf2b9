"""NUMERIC / BIGNUMERIC arithmetic: result types, exact division, 9 fractional digits, literal coercion.

Sources (BigQuery GoogleSQL reference): "Aggregate functions: AVG" (returned data types: INT64 →
FLOAT64, NUMERIC → NUMERIC, BIGNUMERIC → BIGNUMERIC), "Operators: arithmetic operators" (result
types of ``/``: INT64 / NUMERIC → NUMERIC, NUMERIC / FLOAT64 → FLOAT64), "Conversion rules: literal
coercion" (a FLOAT64 literal coerces to NUMERIC), "Data types: decimal types" (NUMERIC has 38 digits of
precision and 9 of scale; values are rounded with ROUND_HALF_AWAY_FROM_ZERO, the default rounding
mode), "Mathematical functions: division by zero" and ZetaSQL's numeric error texts
("numeric overflow: …", "division by zero: a / b").
"""

from __future__ import annotations

import decimal

from ._case import case

D = decimal.Decimal
N = "Numeric arithmetic (NUMERIC / BIGNUMERIC)"
TABLE = ["CREATE TABLE ds.n (id INT64, v NUMERIC, f FLOAT64)",
         "INSERT INTO ds.n VALUES (1, 1, 1.0), (2, 2, 2.0), (3, 2, 4.0)"]

CASES = [
    case(N, "Aggregate functions: AVG of NUMERIC is NUMERIC",
         "SELECT AVG(x) FROM UNNEST([NUMERIC '1', NUMERIC '2', NUMERIC '2']) AS x",
         [(D("1.666666667"),)], types=["NUMERIC"]),
    case(N, "Aggregate functions: AVG of INT64 is FLOAT64", "SELECT AVG(x) FROM UNNEST([1, 2]) AS x",
         [(1.5,)], types=["FLOAT"]),
    case(N, "Aggregate functions: AVG of a NUMERIC column", "SELECT AVG(v), AVG(f), AVG(id) FROM ds.n",
         [(D("1.666666667"), 2.3333333333333335, 2.0)], types=["NUMERIC", "FLOAT", "FLOAT"], setup=TABLE),
    case(N, "Aggregate functions: AVG of NUMERIC as a window function",
         "SELECT id, AVG(v) OVER (ORDER BY id) FROM ds.n ORDER BY id",
         [(1, D("1")), (2, D("1.5")), (3, D("1.666666667"))], types=["INTEGER", "NUMERIC"], setup=TABLE),
    case(N, "Aggregate functions: AVG(DISTINCT) of NUMERIC", "SELECT AVG(DISTINCT v) FROM ds.n",
         [(D("1.5"),)], types=["NUMERIC"], setup=TABLE),
    case(N, "Aggregate functions: AVG of no rows is NULL",
         "SELECT AVG(v) FROM ds.n WHERE id > 10", [(None,)], types=["NUMERIC"], setup=TABLE),
    case(N, "Operators: NUMERIC / INT64 is NUMERIC", "SELECT NUMERIC '1' / 3, 2 / NUMERIC '3', NUMERIC '-2' / 3",
         [(D("0.333333333"), D("0.666666667"), D("-0.666666667"))], types=["NUMERIC", "NUMERIC", "NUMERIC"]),
    case(N, "Operators: NUMERIC / FLOAT64 is FLOAT64", "SELECT NUMERIC '1' / f FROM ds.n WHERE id = 3",
         [(0.25,)], types=["FLOAT"], setup=TABLE),
    case(N, "Operators: a NUMERIC column divided by an INT64", "SELECT v / 3 FROM ds.n WHERE id = 2",
         [(D("0.666666667"),)], types=["NUMERIC"], setup=TABLE),
    case(N, "Conversion rules: a FLOAT64 literal beside NUMERIC is NUMERIC",
         "SELECT NUMERIC '1.1' + 2.2, NUMERIC '10' * 0.5, v - 0.25 FROM ds.n WHERE id = 1",
         [(D("3.3"), D("5"), D("0.75"))], types=["NUMERIC", "NUMERIC", "NUMERIC"], setup=TABLE),
    case(N, "Conversion rules: a FLOAT64 literal compared with NUMERIC", "SELECT id FROM ds.n WHERE v > 1.5 ORDER BY id",
         [(2,), (3,)], setup=TABLE),
    case(N, "Conversion rules: a FLOAT64 expression beside NUMERIC is FLOAT64", "SELECT v * f FROM ds.n WHERE id = 3",
         [(8.0,)], types=["FLOAT"], setup=TABLE),
    case(N, "Data types: NUMERIC keeps 9 fractional digits, rounded half away from zero",
         "SELECT NUMERIC '0.000000001' * 0.5, NUMERIC '-0.000000001' * 0.5, NUMERIC '0.000000001' * 0.4",
         [(D("0.000000001"), D("-0.000000001"), D("0"))]),
    case(N, "Data types: NUMERIC products up to 29 integer digits",
         "SELECT NUMERIC '1000000000000000' * NUMERIC '10000000000'", [(D("10000000000000000000000000"),)],
         types=["NUMERIC"]),
    case(N, "Data types: NUMERIC overflow", "SELECT NUMERIC '99999999999999999999999999999' * 10",
         error="invalidQuery", message="numeric overflow: 99999999999999999999999999999 * 10"),
    case(N, "Mathematical functions: NUMERIC division by zero", "SELECT NUMERIC '1.5' / 0",
         error="invalidQuery", message="division by zero: 1.5 / 0"),
    case(N, "Aggregate functions: AVG of BIGNUMERIC",
         "SELECT AVG(x) FROM UNNEST([BIGNUMERIC '1', BIGNUMERIC '2']) AS x", [(D("1.5"),)]),
    case(N, "Operators: BIGNUMERIC / INT64", "SELECT BIGNUMERIC '1' / 4", [(D("0.25"),)]),
    case(N, "Conversion functions: NUMERIC to STRING has no trailing zeros",
         "SELECT CAST(NUMERIC '2' AS STRING), CAST(NUMERIC '1.50' AS STRING), CAST(NUMERIC '0' AS STRING), "
         "CAST(v / 3 AS STRING) FROM ds.n WHERE id = 2", [("2", "1.5", "0", "0.666666667")], setup=TABLE),
    case(N, "Mathematical functions: SAFE_DIVIDE of NUMERIC", "SELECT SAFE_DIVIDE(NUMERIC '1', 3), SAFE_DIVIDE(NUMERIC '1', 0)",
         [(D("0.333333333"), None)], types=["NUMERIC", "NUMERIC"]),
]
