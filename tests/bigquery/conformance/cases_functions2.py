"""More function reference examples: trigonometry, JSON mutators and lax converters, base32, HLL_COUNT,
APPROX_TOP_SUM, collation, Unicode case mapping, GEOGRAPHY, time zones and naming rules.

Expected values are those documented on the BigQuery GoogleSQL reference pages named in ``source``
(Mathematical functions: SEC/CSC/SECH/CSCH/COTH; JSON functions: JSON_KEYS, LAX_BOOL, LAX_INT64,
LAX_FLOAT64, LAX_STRING, JSON_SET, JSON_ARRAY_INSERT; String functions: TO_BASE32, FROM_BASE32,
CODE_POINTS_TO_BYTES, UPPER, NORMALIZE_AND_CASEFOLD, COLLATE; HyperLogLog++ functions; Approximate
aggregate functions: APPROX_TOP_SUM; Array functions: ARRAY_FIRST/ARRAY_LAST ("the input array
must not be empty"); Mathematical functions: RANGE_BUCKET, SIGN; Lexical structure: integer literals;
Date/Timestamp/Time functions and "Time zones" ("(+|-)H[H][:M[M]]" offsets); Geography functions;
Query syntax: set operations (column names and types of the first query), STRUCT tuple syntax).
Numbers computed from the documented definitions (SEC(x) = 1/COS(x), …) are compared approximately.
"""

from __future__ import annotations

import datetime as dt

from ._case import case

M = "Mathematical functions"
J = "JSON functions"
S = "String functions"
A = "Aggregate functions"
AR = "Array functions"
T = "Timestamp functions"
Z = "Time zones"
G = "Geography functions"
Q = "Query syntax: joins, grouping, set operations, subqueries"
L = "Literals and result types"
E = "Errors: syntax"
UTC = dt.UTC

CASES = [
    # ---------------------------------------------------------------- trigonometry
    case(M, "Mathematical functions: SEC", "SELECT SEC(0), SEC(100)", [(1.0, 1.1596638229046938)], approx=True),
    case(M, "Mathematical functions: CSC", "SELECT CSC(100)", [(-1.9748575314241,)], approx=True, types=["FLOAT"]),
    case(M, "Mathematical functions: CSC of 0 is an error", "SELECT CSC(0)", error="invalidQuery"),
    case(M, "Mathematical functions: SECH", "SELECT SECH(0.5), SECH(CAST('inf' AS FLOAT64))",
         [(0.886818883970074, 0.0)], approx=True),
    case(M, "Mathematical functions: CSCH", "SELECT CSCH(0.5)", [(1.9190347513349437,)], approx=True),
    case(M, "Mathematical functions: COTH", "SELECT COTH(1), COTH(CAST('inf' AS FLOAT64))",
         [(1.3130352854993315, 1.0)], approx=True),
    case(M, "SAFE. prefix: CSC / COTH of 0 are NULL", "SELECT SAFE.CSC(0), SAFE.COTH(0)", [(None, None)]),
    case(M, "Mathematical functions: RANGE_BUCKET with a NULL point", "SELECT RANGE_BUCKET(NULL, [1, 2]), "
         "RANGE_BUCKET(3, [1, 2, 5])", [(None, 2)]),
    case(M, "Mathematical functions: SIGN of infinities",
         "SELECT SIGN(CAST('inf' AS FLOAT64)), SIGN(CAST('-inf' AS FLOAT64)), SIGN(-5), SIGN(2.5)",
         [(1.0, -1.0, -1, 1.0)], types=["FLOAT", "FLOAT", "INTEGER", "FLOAT"]),
    case(L, "Lexical structure: the INT64 minimum is an INT64 literal",
         "SELECT -9223372036854775808, SAFE_NEGATE(-9223372036854775808)", [(-9223372036854775808, None)],
         types=["INTEGER", "INTEGER"]),
    # ---------------------------------------------------------------- JSON
    case(J, "JSON functions: JSON_KEYS", "SELECT JSON_KEYS(JSON '{\"a\": {\"b\": 1}}')", [(["a", "a.b"],)]),
    case(J, "JSON functions: JSON_KEYS with max_depth", "SELECT JSON_KEYS(JSON '{\"a\": {\"b\": 1}}', 1)", [(["a"],)]),
    case(J, "JSON functions: JSON_KEYS (strict mode skips arrays)",
         "SELECT JSON_KEYS(JSON '{\"a\": [{\"b\": 1}], \"c\": 1}'), "
         "JSON_KEYS(JSON '{\"a\": [{\"b\": 1}], \"c\": 1}', mode => 'lax')", [(["a", "c"], ["a", "a.b", "c"])]),
    case(J, "JSON functions: LAX_BOOL",
         "SELECT LAX_BOOL(JSON 'true'), LAX_BOOL(JSON '\"true\"'), LAX_BOOL(JSON '10'), LAX_BOOL(JSON '0'), "
         "LAX_BOOL(JSON '\"foo\"')", [(True, True, True, False, None)]),
    case(J, "JSON functions: LAX_INT64",
         "SELECT LAX_INT64(JSON '10'), LAX_INT64(JSON '3.5'), LAX_INT64(JSON '\"1.1e2\"'), LAX_INT64(JSON 'true'), "
         "LAX_INT64(JSON '1e100'), LAX_INT64(JSON '\"foo\"')", [(10, 4, 110, 1, None, None)]),
    case(J, "JSON functions: LAX_FLOAT64", "SELECT LAX_FLOAT64(JSON '9.8'), LAX_FLOAT64(JSON '\"1.5\"'), "
         "LAX_FLOAT64(JSON '\"foo\"')", [(9.8, 1.5, None)]),
    case(J, "JSON functions: LAX_STRING", "SELECT LAX_STRING(JSON '\"abc\"'), LAX_STRING(JSON 'true'), "
         "LAX_STRING(JSON 'null')", [("abc", "true", None)]),
    case(J, "JSON functions: JSON_SET", "SELECT TO_JSON_STRING(JSON_SET(JSON '{\"a\": 1}', '$.b', 2))",
         [('{"a":1,"b":2}',)]),
    case(J, "JSON functions: JSON_SET creates missing members", "SELECT TO_JSON_STRING(JSON_SET(JSON '{}', '$.a.b', 1))",
         [('{"a":{"b":1}}',)]),
    case(J, "JSON functions: JSON_SET without create_if_missing",
         "SELECT TO_JSON_STRING(JSON_SET(JSON '{\"a\": 1}', '$.c', 3, create_if_missing => false))", [('{"a":1}',)]),
    case(J, "JSON functions: JSON_SET pads arrays with nulls", "SELECT TO_JSON_STRING(JSON_SET(JSON '[1]', '$[3]', 4))",
         [("[1,null,null,4]",)]),
    case(J, "JSON functions: JSON_ARRAY_INSERT",
         "SELECT TO_JSON_STRING(JSON_ARRAY_INSERT(JSON '[\"a\", \"b\"]', '$[1]', 'x'))", [('["a","x","b"]',)]),
    case(J, "JSON functions: JSON_ARRAY_INSERT of an array inserts each element",
         "SELECT TO_JSON_STRING(JSON_ARRAY_INSERT(JSON '[\"a\"]', '$[0]', [1, 2])), "
         "TO_JSON_STRING(JSON_ARRAY_INSERT(JSON '[\"a\"]', '$[0]', [1, 2], insert_each_element => false))",
         [('[1,2,"a"]', '[[1,2],"a"]')]),
    # ---------------------------------------------------------------- strings and bytes
    case(S, "String functions: TO_BASE32", "SELECT TO_BASE32(b'abcde\\xFF')", [("MFRGGZDF74======",)]),
    case(S, "String functions: FROM_BASE32", "SELECT FROM_BASE32('MFRGGZDF74======')", [(b"abcde\xff",)],
         types=["BYTES"]),
    case(S, "String functions: CODE_POINTS_TO_BYTES", "SELECT CODE_POINTS_TO_BYTES([65, 98, 67, 100])", [(b"AbCd",)],
         types=["BYTES"]),
    case(S, "String functions: UPPER with full case mapping", "SELECT UPPER('straße'), LOWER('ÀB')",
         [("STRASSE", "àb")]),
    case(S, "String functions: NORMALIZE_AND_CASEFOLD", "SELECT NORMALIZE_AND_CASEFOLD('Straße'), "
         "NORMALIZE_AND_CASEFOLD('The red barn') = NORMALIZE_AND_CASEFOLD('The Red Barn')", [("strasse", True)]),
    case(S, "String functions: COLLATE und:ci compares case-insensitively",
         "SELECT COLLATE('a', 'und:ci') = 'A', 'a' = 'A'", [(True, False)]),
    case(S, "String functions: COLLATE refuses 'binary'", "SELECT COLLATE('a', 'binary')", error="invalidQuery",
         message="binary"),
    # ---------------------------------------------------------------- aggregates, arrays
    case(A, "HyperLogLog++ functions: HLL_COUNT.INIT / EXTRACT",
         "SELECT HLL_COUNT.EXTRACT(HLL_COUNT.INIT(x)) FROM UNNEST([1, 2, 2, 3, NULL]) AS x", [(3,)],
         types=["INTEGER"]),
    case(A, "HyperLogLog++ functions: HLL_COUNT.MERGE / MERGE_PARTIAL",
         "WITH s AS (SELECT g, HLL_COUNT.INIT(x) AS sk FROM UNNEST([STRUCT(1 AS g, 'a' AS x), (1, 'b'), (2, 'b'), "
         "(2, 'c')]) GROUP BY g) SELECT HLL_COUNT.MERGE(sk), HLL_COUNT.EXTRACT(HLL_COUNT.MERGE_PARTIAL(sk)) FROM s",
         [(3, 3)], types=["INTEGER", "INTEGER"]),
    case(A, "Approximate aggregate functions: APPROX_TOP_SUM",
         "SELECT APPROX_TOP_SUM(x, weight, 2) FROM UNNEST([STRUCT('apple' AS x, 3 AS weight), ('pear', 2), "
         "('apple', 0), ('banana', 5), ('pear', 4)])",
         [([{"value": "pear", "sum": 6}, {"value": "banana", "sum": 5}],)]),
    case(AR, "Array functions: ARRAY_FIRST / ARRAY_LAST", "SELECT ARRAY_FIRST(['a', 'b']), ARRAY_LAST(['a', 'b'])",
         [("a", "b")]),
    case(AR, "Array functions: ARRAY_FIRST of an empty array is an error", "SELECT ARRAY_FIRST(ARRAY<INT64>[])",
         error="invalidQuery"),
    case(AR, "Array functions: ARRAY_LAST of an empty array is an error", "SELECT ARRAY_LAST(ARRAY<STRING>[])",
         error="invalidQuery"),
    # ---------------------------------------------------------------- time
    case(T, "Time functions: TIME(timestamp)", "SELECT TIME(TIMESTAMP '2024-01-01 01:02:03+00')",
         [(dt.time(1, 2, 3),)], types=["TIME"]),
    case(T, "Date functions: FORMAT_DATE %Y does not pad years", "SELECT FORMAT_DATE('%Y', DATE '0999-01-02')",
         [("999",)]),
    case(Z, "Time zones: a fixed offset in TIMESTAMP()", "SELECT TIMESTAMP('2024-01-01 00:00:00', '+05:30')",
         [(dt.datetime(2023, 12, 31, 18, 30, tzinfo=UTC),)]),
    case(Z, "Time zones: fixed offsets in DATE/DATETIME/TIME",
         "SELECT DATE(TIMESTAMP '2024-01-01 23:00:00+00', '+05:30'), "
         "DATETIME(TIMESTAMP '2024-01-01 23:00:00+00', '-03:45'), TIME(TIMESTAMP '2024-01-01 23:00:00+00', '+05:30')",
         [(dt.date(2024, 1, 2), dt.datetime(2024, 1, 1, 19, 15), dt.time(4, 30))]),
    case(Z, "Time zones: a fixed offset in FORMAT_TIMESTAMP",
         "SELECT FORMAT_TIMESTAMP('%H:%M', TIMESTAMP '2024-01-01 00:00:00+00', '+05:30'), "
         "FORMAT_TIMESTAMP('%H:%M %Ez', TIMESTAMP '2024-01-01 00:00:00+00', '-03:45')", [("05:30", "20:15 -03:45")]),
    case(Z, "Time zones: a fixed offset in TIMESTAMP_TRUNC and AT TIME ZONE",
         "SELECT TIMESTAMP_TRUNC(TIMESTAMP '2024-01-01 02:00:00+00', DAY, '+05:30'), "
         "EXTRACT(HOUR FROM TIMESTAMP '2024-01-01 00:00:00+00' AT TIME ZONE '-03:45')",
         [(dt.datetime(2023, 12, 31, 18, 30, tzinfo=UTC), 20)]),
    case(Z, "Time zones: a fixed offset in PARSE_TIMESTAMP",
         "SELECT PARSE_TIMESTAMP('%Y-%m-%d %H:%M', '2024-01-01 05:30', '+05:30')",
         [(dt.datetime(2024, 1, 1, 0, 0, tzinfo=UTC),)]),
    case(Z, "Time zones: an unknown zone", "SELECT TIMESTAMP('2024-01-01 00:00:00', 'Mars/Olympus')",
         error="invalidQuery", message="Invalid time zone: Mars/Olympus"),
    case(Z, "Time zones: an unknown zone in a column", "SELECT FORMAT_TIMESTAMP('%H', CURRENT_TIMESTAMP(), z) "
         "FROM UNNEST(['Nowhere/Land']) AS z", error="invalidQuery", message="Invalid time zone: Nowhere/Land"),
    case(Z, "Timestamp functions: PARSE_TIMESTAMP %Z with a tz database name",
         "SELECT PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%S %Z', '2024-01-01 00:00:00 America/New_York')",
         [(dt.datetime(2024, 1, 1, 5, 0, tzinfo=UTC),)]),
    case(Z, "Timestamp functions: PARSE_TIMESTAMP %Z with an unknown name",
         "SELECT PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%S %Z', '2024-01-01 00:00:00 Mars/Olympus')", error="invalidQuery",
         message="Failed to parse input string"),
    # ---------------------------------------------------------------- geography
    case(G, "Geography functions: ST_GEOGPOINT / ST_ASTEXT",
         "SELECT ST_ASTEXT(ST_GEOGPOINT(-122.4194, 37.7749))", [("POINT(-122.4194 37.7749)",)]),
    case(G, "Geography functions: ST_GEOGFROMTEXT", "SELECT ST_ASTEXT(ST_GEOGFROMTEXT('LINESTRING (1 2, 3 4)'))",
         [("LINESTRING(1 2, 3 4)",)]),
    case(G, "Geography functions: ST_X / ST_Y", "SELECT ST_X(ST_GEOGPOINT(1.5, 2)), ST_Y(ST_GEOGPOINT(1.5, 2))",
         [(1.5, 2.0)], types=["FLOAT", "FLOAT"]),
    case(G, "Geography functions: ST_DISTANCE (meters on the sphere)",
         "SELECT ST_DISTANCE(ST_GEOGPOINT(0, 0), ST_GEOGPOINT(0, 1))", [(111195.0802335329,)], approx=True),
    case(G, "Geography functions: ST_DWITHIN / ST_CONTAINS",
         "SELECT ST_DWITHIN(ST_GEOGPOINT(0, 0), ST_GEOGPOINT(0, 1), 200000), "
         "ST_CONTAINS(ST_GEOGFROMTEXT('POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))'), ST_GEOGPOINT(1, 1))", [(True, True)]),
    case(G, "Geography functions: latitude out of range", "SELECT ST_GEOGPOINT(1, 100)", error="invalidQuery",
         message="Latitude must be between -90 and 90 degrees"),
    # ---------------------------------------------------------------- syntax and naming
    case(L, "Data types: tuple syntax is an anonymous STRUCT", "SELECT (1, 'a') AS s",
         [({"_field_1": 1, "_field_2": "a"},)], types=["RECORD"]),
    case(Q, "Query syntax: set operations take the first query's STRUCT field names",
         "SELECT STRUCT(1 AS a) AS s UNION ALL SELECT STRUCT(2 AS b)", [({"a": 1},), ({"a": 2},)], ordered=False),
    case(Q, "Query syntax: set operations rename STRUCT fields inside arrays",
         "SELECT [STRUCT(1 AS a, 'x' AS c)] AS s UNION ALL SELECT [STRUCT(2 AS b, 'y' AS d)]",
         [([{"a": 1, "c": "x"}],), ([{"a": 2, "c": "y"}],)], ordered=False),
    case(Q, "Query syntax: a parenthesised column keeps its name",
         "SELECT (x), ((x)) AS y, (x + 1) FROM UNNEST([1]) AS x", [(1, 1, 2)], columns=["x", "y", "f0_"]),
    case(E, "Lexical structure: an unclosed parenthesis", "SELECT (1", error="invalidQuery",
         message='Syntax error: Expected ")" but got end of script at [1:10]'),
    case(E, "Lexical structure: deeply nested parentheses", "SELECT " + "(" * 60 + "1" + ")" * 60, [(1,)]),
    case(E, "Lexical structure: deeply nested calls", "SELECT " + "ABS(" * 60 + "-1" + ")" * 60, [(1,)]),
]
