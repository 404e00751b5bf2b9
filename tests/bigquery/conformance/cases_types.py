"""Data types: literals, result column types, value ranges, round-trips through tables, query parameters.

Sources: "Data types", "Lexical structure and syntax", "Conversion rules", "Running parameterized
queries" pages of the BigQuery documentation.
"""

from __future__ import annotations

import datetime as dt
import decimal

from ._case import case

UTC = dt.UTC
D = decimal.Decimal
L = "Literals and result types"
R = "Type round-trips through tables"
P = "Query parameters"
CV = "Conversion (CAST / SAFE_CAST)"
N = "NULL semantics"

_ALL_TYPES_TABLE = ("CREATE TABLE ds.all_types (i INT64, f FLOAT64, n NUMERIC, bn BIGNUMERIC, b BOOL, s STRING, "
                    "y BYTES, d DATE, dtm DATETIME, t TIME, ts TIMESTAMP, j JSON, a ARRAY<INT64>, "
                    "st STRUCT<x INT64, tags ARRAY<STRING>>)")

_ORDERS = ["CREATE TABLE ds.o (id INT64, kv ARRAY<STRUCT<k STRING, v INT64>>, arr ARRAY<INT64>)",
           "INSERT INTO ds.o VALUES (1, [STRUCT('a' AS k, 1 AS v), STRUCT('b' AS k, 2 AS v)], [7, 8]), (2, [], [])"]

CASES = [
    # ---------------------------------------------------------------- literal types
    case(L, "Data types: INT64 literal", "SELECT 1", [(1,)], types=["INTEGER"]),
    case(L, "Data types: FLOAT64 literal", "SELECT 1.5", [(1.5,)], types=["FLOAT"]),
    case(L, "Lexical structure: exponent literal", "SELECT 1e3, 2.5E-1", [(1000.0, 0.25)], types=["FLOAT", "FLOAT"]),
    case(L, "Lexical structure: hexadecimal INT64 literal", "SELECT 0x1F", [(31,)], types=["INTEGER"]),
    case(L, "Data types: STRING literal", "SELECT 'abc', \"d\"", [("abc", "d")], types=["STRING", "STRING"]),
    case(L, "Lexical structure: triple-quoted string", "SELECT '''a'b'''", [("a'b",)]),
    case(L, "Lexical structure: raw string", r"SELECT r'a\nb'", [("a\\nb",)]),
    case(L, "Lexical structure: escape sequences", r"SELECT 'a\tb', LENGTH('\n')", [("a\tb", 1)]),
    case(L, "Data types: BOOL literal", "SELECT TRUE, FALSE", [(True, False)], types=["BOOLEAN", "BOOLEAN"]),
    case(L, "Data types: BYTES literal", "SELECT b'abc'", [(b"abc",)], types=["BYTES"]),
    case(L, "Data types: DATE literal", "SELECT DATE '2024-01-02'", [(dt.date(2024, 1, 2),)], types=["DATE"]),
    case(L, "Data types: DATETIME literal", "SELECT DATETIME '2024-01-02 03:04:05.123456'",
         [(dt.datetime(2024, 1, 2, 3, 4, 5, 123456),)], types=["DATETIME"]),
    case(L, "Data types: DATETIME literal with T", "SELECT DATETIME '2024-01-02T03:04:05'",
         [(dt.datetime(2024, 1, 2, 3, 4, 5),)]),
    case(L, "Data types: TIME literal", "SELECT TIME '03:04:05'", [(dt.time(3, 4, 5),)], types=["TIME"]),
    case(L, "Data types: TIMESTAMP literal", "SELECT TIMESTAMP '2024-01-02 03:04:05 UTC'",
         [(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),)], types=["TIMESTAMP"]),
    case(L, "Data types: TIMESTAMP literal without zone is UTC", "SELECT TIMESTAMP '2024-01-02 03:04:05'",
         [(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),)]),
    case(L, "Data types: NUMERIC literal", "SELECT NUMERIC '1.25'", [(D("1.25"),)], types=["NUMERIC"]),
    case(L, "Data types: NUMERIC scale 9", "SELECT NUMERIC '1.123456789'", [(D("1.123456789"),)]),
    case(L, "Data types: BIGNUMERIC literal", "SELECT BIGNUMERIC '1.5'", [(D("1.5"),)], types=["BIGNUMERIC"],
         xfail="BIGNUMERIC is stored as DECIMAL(38,9) and reported as NUMERIC"),
    case(L, "Data types: JSON literal", "SELECT JSON '{\"a\": 1}'", [({"a": 1},)], types=["JSON"]),
    case(L, "Data types: ARRAY literal", "SELECT [1, 2, 3]", [([1, 2, 3],)], types=["INTEGER"]),
    case(L, "Data types: typed empty ARRAY", "SELECT ARRAY<STRING>[]", [([],)], types=["STRING"]),
    case(L, "Data types: ARRAY of FLOAT64", "SELECT [1.5, 2.5]", [([1.5, 2.5],)], types=["FLOAT"]),
    case(L, "Data types: STRUCT literal", "SELECT STRUCT(1 AS a, 'x' AS b)", [({"a": 1, "b": "x"},)],
         types=["RECORD"]),
    case(L, "Data types: typed STRUCT literal", "SELECT STRUCT<a INT64, b STRING>(1, 'x')", [({"a": 1, "b": "x"},)]),
    case(L, "Data types: tuple STRUCT fields are anonymous", "SELECT (1, 'x').a", None, error="invalidQuery"),
    case(L, "Data types: ARRAY of STRUCT", "SELECT [STRUCT(1 AS k, 'a' AS v), STRUCT(2 AS k, 'b' AS v)]",
         [([{"k": 1, "v": "a"}, {"k": 2, "v": "b"}],)]),
    case(L, "Data types: nested STRUCT field access", "SELECT STRUCT(STRUCT(1 AS b) AS a).a.b", [(1,)]),
    case(L, "Data types: INTERVAL literal", "SELECT INTERVAL 1 DAY IS NOT NULL", [(True,)]),
    case(L, "Data types: NULL literal is INT64", "SELECT NULL", [(None,)], types=["INTEGER"]),
    case(L, "Data types: typed NULL", "SELECT CAST(NULL AS STRING)", [(None,)], types=["STRING"]),
    case(L, "Data types: INT64 maximum", "SELECT 9223372036854775807", [(9223372036854775807,)], types=["INTEGER"]),
    case(L, "Data types: INT64 minimum", "SELECT -9223372036854775808", [(-9223372036854775808,)],
         types=["INTEGER"]),
    case(L, "Data types: NUMERIC maximum", "SELECT NUMERIC '99999999999999999999999999999.999999999'",
         [(D("99999999999999999999999999999.999999999"),)]),
    case(L, "Data types: FLOAT64 special values", "SELECT CAST('inf' AS FLOAT64), CAST('-inf' AS FLOAT64), "
         "CAST('NaN' AS FLOAT64)", [(float("inf"), float("-inf"), float("nan"))]),
    case(L, "Data types: DATE range", "SELECT DATE '0001-01-01', DATE '9999-12-31'",
         [(dt.date(1, 1, 1), dt.date(9999, 12, 31))]),
    case(L, "Data types: TIMESTAMP maximum", "SELECT TIMESTAMP '9999-12-31 23:59:59.999999 UTC'",
         [(dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),)]),
    case(L, "Data types: TIME maximum", "SELECT TIME '23:59:59.999999'", [(dt.time(23, 59, 59, 999999),)]),
    case(L, "Data types: Unicode strings", "SELECT '日本語', '😀', LENGTH('😀')", [("日本語", "😀", 1)]),
    case(L, "Data types: SUM of INT64 is INT64", "SELECT SUM(x) FROM UNNEST([1, 2]) AS x", [(3,)], types=["INTEGER"]),
    case(L, "Data types: AVG of INT64 is FLOAT64", "SELECT AVG(x) FROM UNNEST([1, 2]) AS x", [(1.5,)],
         types=["FLOAT"]),
    case(L, "Data types: NUMERIC arithmetic stays NUMERIC", "SELECT NUMERIC '1.1' + NUMERIC '2.2'", [(D("3.3"),)],
         types=["NUMERIC"]),
    case(L, "Data types: INT64 + FLOAT64 is FLOAT64", "SELECT 1 + 1.5", [(2.5,)], types=["FLOAT"]),
    case(L, "Query syntax: anonymous columns are named f0_, f1_",
         "SELECT 1, 'a' AS named, 2", [(1, "a", 2)], columns=["f0_", "named", "f1_"]),
    case(L, "Query syntax: anonymous columns of a subquery", "SELECT * FROM (SELECT 1, 2)", [(1, 2)],
         columns=["f0_", "f1_"]),
    case(L, "Query syntax: column names of expressions and fields",
         "SELECT s.a, x, x + 1, COUNT(*) OVER () FROM (SELECT STRUCT(1 AS a) AS s, 5 AS x)", [(1, 5, 6, 1)],
         columns=["a", "x", "f0_", "f1_"]),
    case(L, "Query syntax: SELECT AS STRUCT", "SELECT AS STRUCT 1 AS a, 2 AS b", [({"a": 1, "b": 2},)]),
    case(L, "Query syntax: SELECT * EXCEPT", "SELECT * EXCEPT (b) FROM (SELECT 1 AS a, 2 AS b, 3 AS c)", [(1, 3)]),
    case(L, "Query syntax: SELECT * REPLACE", "SELECT * REPLACE (b * 10 AS b) FROM (SELECT 1 AS a, 2 AS b)",
         [(1, 20)]),
    case(L, "Query syntax: WITH", "WITH t AS (SELECT 1 AS x UNION ALL SELECT 2) SELECT SUM(x) FROM t", [(3,)]),
    case(L, "Query syntax: recursive CTE", "WITH RECURSIVE t AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM t "
         "WHERE n < 4) SELECT ARRAY_AGG(n ORDER BY n) FROM t", [([1, 2, 3, 4],)]),
    case(L, "Query syntax: UNION DISTINCT", "SELECT x FROM UNNEST([1, 1, 2]) AS x UNION DISTINCT SELECT 2",
         [(1,), (2,)], ordered=False),
    case(L, "Query syntax: INTERSECT DISTINCT", "SELECT x FROM UNNEST([1, 2, 3]) AS x INTERSECT DISTINCT "
         "SELECT x FROM UNNEST([2, 3, 4]) AS x", [(2,), (3,)], ordered=False),
    case(L, "Query syntax: EXCEPT DISTINCT", "SELECT x FROM UNNEST([1, 2, 3]) AS x EXCEPT DISTINCT SELECT 2",
         [(1,), (3,)], ordered=False),
    case(L, "Query syntax: ORDER BY NULLS FIRST by default", "SELECT x FROM UNNEST([3, NULL, 1]) AS x ORDER BY x",
         [(None,), (1,), (3,)]),
    case(L, "Query syntax: ORDER BY DESC puts NULLs last", "SELECT x FROM UNNEST([3, NULL, 1]) AS x ORDER BY x DESC",
         [(3,), (1,), (None,)]),
    case(L, "Query syntax: LIMIT OFFSET", "SELECT x FROM UNNEST([1, 2, 3, 4]) AS x ORDER BY x LIMIT 2 OFFSET 1",
         [(2,), (3,)]),
    case(L, "Query syntax: correlated UNNEST", "SELECT id, x FROM (SELECT 1 AS id, [5, 6] AS arr) t, t.arr AS x "
         "ORDER BY x", [(1, 5), (1, 6)]),
    case(L, "Query syntax: LEFT JOIN UNNEST keeps empty arrays",
         "SELECT id, x FROM (SELECT 1 AS id, ARRAY<INT64>[] AS arr) t LEFT JOIN UNNEST(t.arr) AS x",
         [(1, None)]),
    case(L, "Query syntax: UNNEST of an ARRAY<STRUCT> column exposes its fields", "SELECT id, k, v FROM ds.o, "
         "UNNEST(kv) ORDER BY k", [(1, "a", 1), (1, "b", 2)], setup=_ORDERS),
    case(L, "Query syntax: UNNEST alias of a struct element", "SELECT id, item.k FROM ds.o, UNNEST(o.kv) AS item "
         "ORDER BY item.k", [(1, "a"), (1, "b")], setup=_ORDERS),
    case(L, "Work with arrays: aggregate over UNNEST in a correlated subquery",
         "SELECT id, (SELECT SUM(v) FROM UNNEST(kv)) AS total FROM ds.o ORDER BY id", [(1, 3), (2, None)],
         setup=_ORDERS),
    case(L, "Work with arrays: filter rows on an array element",
         "SELECT id FROM ds.o WHERE EXISTS (SELECT 1 FROM UNNEST(kv) WHERE k = 'a')", [(1,)], setup=_ORDERS),
    case(L, "Work with arrays: ARRAY subquery ordering struct elements",
         "SELECT id, ARRAY(SELECT k FROM UNNEST(kv) ORDER BY v DESC) FROM ds.o ORDER BY id",
         [(1, ["b", "a"]), (2, [])], setup=_ORDERS),
    case(L, "Work with arrays: LEFT JOIN UNNEST keeps rows with empty arrays",
         "SELECT id, x FROM ds.o LEFT JOIN UNNEST(arr) AS x ORDER BY id, x", [(1, 7), (1, 8), (2, None)],
         setup=_ORDERS),
    case(L, "Work with arrays: ARRAY_LENGTH of a column", "SELECT id, ARRAY_LENGTH(kv) FROM ds.o ORDER BY id",
         [(1, 2), (2, 0)], setup=_ORDERS),
    case(L, "Query syntax: scalar subquery", "SELECT (SELECT MAX(x) FROM UNNEST([1, 5, 3]) AS x)", [(5,)]),
    case(L, "Query syntax: GROUP BY ROLLUP", "SELECT k, SUM(v) FROM UNNEST([STRUCT('a' AS k, 1 AS v), ('b', 2)]) "
         "GROUP BY ROLLUP(k) ORDER BY k", [(None, 3), ("a", 1), ("b", 2)]),
    case(L, "Query syntax: PIVOT", "SELECT * FROM (SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'b', 2) "
         "PIVOT (SUM(v) FOR k IN ('a', 'b'))", [(1, 2)]),
    case(L, "Query syntax: UNPIVOT", "SELECT k, v FROM (SELECT 1 AS a, 2 AS b) UNPIVOT (v FOR k IN (a, b)) "
         "ORDER BY k", [("a", 1), ("b", 2)]),
    case(L, "Query syntax: TABLESAMPLE", "SELECT COUNT(*) <= 3 FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3)",
         [(True,)]),
    # ---------------------------------------------------------------- conversions
    case(CV, "Conversion functions: CAST STRING to INT64", "SELECT CAST('123' AS INT64)", [(123,)],
         types=["INTEGER"]),
    case(CV, "Conversion functions: CAST hex STRING to INT64", "SELECT CAST('0x123' AS INT64)", [(291,)]),
    case(CV, "Conversion functions: CAST FLOAT64 to INT64 rounds half away from zero",
         "SELECT CAST(1.5 AS INT64), CAST(-1.5 AS INT64), CAST(2.5 AS INT64), CAST(1.4 AS INT64)", [(2, -2, 3, 1)]),
    case(CV, "Conversion functions: CAST BOOL", "SELECT CAST(TRUE AS INT64), CAST(0 AS BOOL), CAST('true' AS BOOL), "
         "CAST('FALSE' AS BOOL)", [(1, False, True, False)]),
    case(CV, "Conversion functions: CAST to STRING", "SELECT CAST(123 AS STRING), CAST(1.5 AS STRING), "
         "CAST(TRUE AS STRING)", [("123", "1.5", "true")]),
    case(CV, "Conversion functions: CAST DATE to STRING", "SELECT CAST(DATE '2024-01-02' AS STRING)",
         [("2024-01-02",)]),
    case(CV, "Conversion functions: CAST STRING to DATE / TIMESTAMP",
         "SELECT CAST('2024-01-02' AS DATE), CAST('2024-01-02 03:04:05+00' AS TIMESTAMP)",
         [(dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))]),
    case(CV, "Conversion functions: CAST STRING to NUMERIC", "SELECT CAST('1.5' AS NUMERIC)", [(D("1.5"),)],
         types=["NUMERIC"]),
    case(CV, "Conversion functions: CAST NUMERIC rounds to 9 digits", "SELECT CAST('1.1234567891' AS NUMERIC)",
         [(D("1.123456789"),)]),
    case(CV, "Conversion functions: CAST INT64 to FLOAT64", "SELECT CAST(3 AS FLOAT64)", [(3.0,)], types=["FLOAT"]),
    case(CV, "Conversion functions: CAST STRING to BYTES", "SELECT CAST('abc' AS BYTES)", [(b"abc",)],
         types=["BYTES"]),
    case(CV, "Conversion functions: CAST BYTES to STRING", "SELECT CAST(b'abc' AS STRING)", [("abc",)]),
    case(CV, "Conversion functions: CAST TIMESTAMP to DATE", "SELECT CAST(TIMESTAMP '2024-01-02 23:00:00+00' AS DATE)",
         [(dt.date(2024, 1, 2),)]),
    case(CV, "Conversion functions: CAST DATETIME to TIMESTAMP",
         "SELECT CAST(DATETIME '2024-01-02 03:04:05' AS TIMESTAMP)", [(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),)]),
    case(CV, "Conversion functions: CAST ARRAY element type", "SELECT CAST([1, 2] AS ARRAY<FLOAT64>)", [([1.0, 2.0],)],
         types=["FLOAT"]),
    case(CV, "Conversion functions: SAFE_CAST", "SELECT SAFE_CAST('apple' AS INT64), SAFE_CAST('7' AS INT64)",
         [(None, 7)]),
    case(CV, "Conversion functions: SAFE_CAST to DATE", "SELECT SAFE_CAST('2024-13-45' AS DATE)", [(None,)]),
    case(CV, "Conversion functions: PARSE_NUMERIC", "SELECT PARSE_NUMERIC('123.45')", [(D("123.45"),)]),
    case(CV, "Conversion functions: CAST with FORMAT", "SELECT CAST(DATE '2024-01-02' AS STRING FORMAT 'YYYY/MM/DD')",
         [("2024/01/02",)]),
    # ---------------------------------------------------------------- NULL semantics
    case(N, "Data types: NULL arrays are returned as empty arrays", "SELECT CAST(NULL AS ARRAY<INT64>)", [([],)]),
    case(N, "Data types: NULL in arithmetic", "SELECT 1 + NULL, CONCAT('a', NULL), NULL || 'a'", [(None, None, None)]),
    case(N, "Data types: NULL STRUCT", "SELECT CAST(NULL AS STRUCT<a INT64>)", [(None,)]),
    case(N, "Aggregate functions: aggregates ignore NULL", "SELECT MAX(x), MIN(x), AVG(x) "
         "FROM UNNEST([1, NULL, 3]) AS x", [(3, 1, 2.0)]),
    case(N, "Query syntax: GROUP BY groups NULLs together", "SELECT x, COUNT(*) FROM UNNEST([NULL, NULL, 1]) AS x "
         "GROUP BY x ORDER BY x", [(None, 2), (1, 1)]),
    case(N, "Query syntax: DISTINCT treats NULLs as equal", "SELECT COUNT(*) FROM (SELECT DISTINCT x "
         "FROM UNNEST([NULL, NULL, 1]) AS x)", [(2,)]),
    # ---------------------------------------------------------------- round-trips
    case(R, "Data types: every type through a table",
         "SELECT i, f, n, b, s, y, d, dtm, t, ts, j, a, st FROM ds.all_types",
         [(1, 1.5, D("2.25"), True, "héllo", b"\x00\xff", dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5, 6),
           dt.time(7, 8, 9, 10), dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), {"k": [1, None]},
           [1, 2], {"x": 5, "tags": ["a", "b"]})],
         setup=[_ALL_TYPES_TABLE,
                "INSERT INTO ds.all_types VALUES (1, 1.5, NUMERIC '2.25', BIGNUMERIC '3.5', TRUE, 'héllo', "
                "b'\\x00\\xff', DATE '2024-01-02', DATETIME '2024-01-02 03:04:05.000006', TIME '07:08:09.000010', "
                "TIMESTAMP '2024-01-02 03:04:05.123456 UTC', JSON '{\"k\": [1, null]}', [1, 2], "
                "STRUCT(5, ['a', 'b']))"],
         types=["INTEGER", "FLOAT", "NUMERIC", "BOOLEAN", "STRING", "BYTES", "DATE", "DATETIME", "TIME", "TIMESTAMP",
                "JSON", "INTEGER", "RECORD"]),
    case(R, "Data types: table schema from DDL", "SELECT 1", schema_of="ds.all_types", setup=[_ALL_TYPES_TABLE],
         schema=[("i", "INTEGER", "NULLABLE"), ("f", "FLOAT", "NULLABLE"), ("n", "NUMERIC", "NULLABLE"),
                 ("bn", "BIGNUMERIC", "NULLABLE"), ("b", "BOOLEAN", "NULLABLE"), ("s", "STRING", "NULLABLE"),
                 ("y", "BYTES", "NULLABLE"), ("d", "DATE", "NULLABLE"), ("dtm", "DATETIME", "NULLABLE"),
                 ("t", "TIME", "NULLABLE"), ("ts", "TIMESTAMP", "NULLABLE"), ("j", "JSON", "NULLABLE"),
                 ("a", "INTEGER", "REPEATED"), ("st", "RECORD", "NULLABLE")]),
    case(R, "Data types: NULLs through a table", "SELECT i, s, a, st FROM ds.all_types",
         [(None, None, [], None)], setup=[_ALL_TYPES_TABLE, "INSERT INTO ds.all_types (i) VALUES (NULL)"]),
    case(R, "Data types: NUMERIC through a table keeps 9 digits",
         "SELECT n FROM ds.all_types", [(D("12345678901234567890.123456789"),)],
         setup=[_ALL_TYPES_TABLE, "INSERT INTO ds.all_types (n) VALUES (NUMERIC '12345678901234567890.123456789')"]),
    case(R, "Data types: REQUIRED column from NOT NULL", "SELECT 1", schema_of="ds.req",
         setup=["CREATE TABLE ds.req (id INT64 NOT NULL, tags ARRAY<STRING>)"],
         schema=[("id", "INTEGER", "REQUIRED"), ("tags", "STRING", "REPEATED")]),
    case(R, "Data types: ARRAY of STRUCT column", "SELECT kv FROM ds.rs",
         [([{"k": "a", "v": 1}, {"k": "b", "v": 2}],)],
         setup=["CREATE TABLE ds.rs (kv ARRAY<STRUCT<k STRING, v INT64>>)",
                "INSERT INTO ds.rs VALUES ([STRUCT('a' AS k, 1 AS v), STRUCT('b' AS k, 2 AS v)])"]),
    case(R, "Data types: CTAS derives the schema", "SELECT 1", schema_of="ds.ctas",
         setup=["CREATE TABLE ds.ctas AS SELECT 1 AS i, 'x' AS s, 1.5 AS f, [1] AS a, DATE '2024-01-01' AS d"],
         schema=[("i", "INTEGER", "NULLABLE"), ("s", "STRING", "NULLABLE"), ("f", "FLOAT", "NULLABLE"),
                 ("a", "INTEGER", "REPEATED"), ("d", "DATE", "NULLABLE")]),
    # ---------------------------------------------------------------- parameters
    case(P, "Running parameterized queries: named INT64", "SELECT @x + 1", [(42,)], params=[("x", "INT64", 41)],
         types=["INTEGER"]),
    case(P, "Running parameterized queries: named STRING", "SELECT CONCAT(@s, '!')", [("hi!",)],
         params=[("s", "STRING", "hi")]),
    case(P, "Running parameterized queries: named FLOAT64", "SELECT @f * 2", [(3.0,)], params=[("f", "FLOAT64", 1.5)]),
    case(P, "Running parameterized queries: BOOL", "SELECT NOT @b", [(False,)], params=[("b", "BOOL", True)]),
    case(P, "Running parameterized queries: NUMERIC", "SELECT @n", [(D("1.25"),)],
         params=[("n", "NUMERIC", D("1.25"))], types=["NUMERIC"]),
    case(P, "Running parameterized queries: DATE", "SELECT DATE_ADD(@d, INTERVAL 1 DAY)",
         [(dt.date(2024, 1, 3),)], params=[("d", "DATE", dt.date(2024, 1, 2))]),
    case(P, "Running parameterized queries: TIMESTAMP", "SELECT TIMESTAMP_ADD(@ts, INTERVAL 1 HOUR)",
         [(dt.datetime(2024, 1, 2, 4, tzinfo=UTC),)], params=[("ts", "TIMESTAMP", dt.datetime(2024, 1, 2, 3,
                                                                                             tzinfo=UTC))]),
    case(P, "Running parameterized queries: DATETIME", "SELECT @dtm", [(dt.datetime(2024, 1, 2, 3, 4, 5),)],
         params=[("dtm", "DATETIME", dt.datetime(2024, 1, 2, 3, 4, 5))], types=["DATETIME"]),
    case(P, "Running parameterized queries: ARRAY", "SELECT ARRAY_LENGTH(@arr), @arr[OFFSET(1)]", [(3, "b")],
         params=[("arr", "ARRAY<STRING>", ["a", "b", "c"])]),
    case(P, "Running parameterized queries: IN UNNEST(@array)",
         "SELECT x FROM UNNEST([1, 2, 3, 4]) AS x WHERE x IN UNNEST(@wanted) ORDER BY x", [(2,), (4,)],
         params=[("wanted", "ARRAY<INT64>", [2, 4])]),
    case(P, "Running parameterized queries: STRUCT", "SELECT @st.a, @st.b", [(1, "x")],
         params=[("st", "STRUCT", [("a", "INT64", 1), ("b", "STRING", "x")])]),
    case(P, "Running parameterized queries: positional", "SELECT ? + ?", [(5,)],
         params=[(None, "INT64", 2), (None, "INT64", 3)]),
    case(P, "Running parameterized queries: NULL value", "SELECT @x IS NULL", [(True,)],
         params=[("x", "INT64", None)]),
    case(P, "Running parameterized queries: in a WHERE over a table", "SELECT COUNT(*) FROM ds.p WHERE id >= @min",
         [(2,)], params=[("min", "INT64", 2)],
         setup=["CREATE TABLE ds.p (id INT64)", "INSERT INTO ds.p VALUES (1), (2), (3)"]),
    case(P, "Running parameterized queries: in DML", "UPDATE ds.p SET id = @v WHERE id = 1", None,
         params=[("v", "INT64", 10)], affected=1,
         setup=["CREATE TABLE ds.p (id INT64)", "INSERT INTO ds.p VALUES (1), (2), (3)"]),
]
