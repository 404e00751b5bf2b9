"""Analysis-time and runtime errors: signatures, comparisons, SAFE., division by zero, overflow.

Sources: BigQuery's function reference ("SAFE. prefix": "If you begin a function with the SAFE.
prefix, it will return NULL instead of an error. The SAFE. prefix only prevents errors from the
prefixed function itself: it doesn't prevent errors that occur while evaluating argument
expressions"; "Conversion rules" for coercion and supertypes; "Date functions: EXTRACT" — "Returns
INT64", MICROSECOND/MILLISECOND are the sub-second part), and the text of BigQuery's errors as
reported by users of the real service: "No matching signature for function IFNULL / Argument
types: INT64, TIMESTAMP / Signature: IFNULL(T1, T1) / Unable to find common supertype for templated
argument <T1> / Input types for <T1>: {INT64, TIMESTAMP}", "No matching signature for aggregate
function AVG … Argument 1: Unable to coerce type … to expected type INT64", "Signature accepts at
most 1 argument, found 2 arguments", "Error in SUM aggregation: integer overflow"; ZetaSQL's runtime
texts "int64 overflow: a + b", "division by zero: a / b", "Invalid date: '…'"; for comparisons the
one-line form real errors quote: "No matching signature for operator = for argument types: STRUCT<y INT64>,
INT64. Supported signature: ANY = ANY at [8:7]".
"""

from __future__ import annotations

from ._case import case

SIG = "Errors: analysis (signatures and types)"
RUN = "Errors: runtime"
SAFE = "SAFE. prefix"
PAR = "Query parameters"
TABLES = ["CREATE TABLE ds.t (id INT64, s STRING)", "CREATE TABLE ds.u (id STRING, v INT64)",
          "INSERT INTO ds.t VALUES (1, 'a'), (2, 'b')", "INSERT INTO ds.u VALUES ('1', 10)"]

CASES = [
    case(SIG, "Function calls: no matching signature (argument type)", "SELECT SQRT('a')", error="invalidQuery",
         message="No matching signature for function SQRT\n  Argument types: STRING\n  Signature: SQRT(FLOAT64)\n"
                 "    Argument 1: Unable to coerce type STRING to expected type FLOAT64"),
    case(SIG, "Function calls: the position of the call", "SELECT 1,\n  LENGTH(5)", error="invalidQuery",
         message="Argument 1: Unable to coerce type INT64 to expected type BYTES at [2:3]"),
    case(SIG, "Function calls: no matching signature (argument count)", "SELECT LN(1, 2)", error="invalidQuery",
         message="No matching signature for function LN"),
    case(SIG, "Function calls: too many arguments",
         "SELECT LN(1, 2)", error="invalidQuery", message="Signature accepts at most 1 argument, found 2 arguments"),
    case(SIG, "Function calls: too few arguments", "SELECT SUBSTR('abc')", error="invalidQuery",
         message="Signature requires at least 2 arguments, found 1 argument"),
    case(SIG, "Function calls: the name as written", "SELECT sqrt('a')", error="invalidQuery",
         message="No matching signature for function SQRT"),
    case(SIG, "SAFE. prefix: signature errors are analysis errors", "SELECT SAFE.SQRT('x')", error="invalidQuery",
         message="No matching signature for function SQRT"),
    case(SIG, "Aggregate functions: AVG of a STRING column", "SELECT AVG(s) FROM ds.t", error="invalidQuery",
         message="No matching signature for aggregate function AVG\n  Argument types: STRING", setup=TABLES),
    case(SIG, "String functions: CONCAT does not coerce INT64", "SELECT CONCAT('a', 1)", error="invalidQuery",
         message="Argument 2: Unable to coerce type INT64 to expected type STRING"),
    case(SIG, "Conversion rules: STRING = INT64 in a join has no supertype",
         "SELECT * FROM ds.t JOIN ds.u ON t.id = u.id", error="invalidQuery",
         message="No matching signature for operator = for argument types: INT64, STRING. "
                 "Supported signature: ANY = ANY at [1:33]", setup=TABLES),
    case(SIG, "Conversion rules: a STRING literal is not compared with INT64", "SELECT id FROM ds.t WHERE id = '1'",
         error="invalidQuery", message="for argument types: INT64, STRING. Supported signature: ANY = ANY at [1:27]",
         setup=TABLES),
    case(SIG, "Conversion rules: a STRING literal coerces to DATE", "SELECT DATE '2024-01-01' = '2024-01-01'", [(True,)]),
    case(SIG, "Conversion rules: INT64 and FLOAT64 compare", "SELECT 1 = 1.0, 2 > 1.5", [(True, True)]),
    case(SIG, "Date functions: EXTRACT returns INT64",
         "SELECT EXTRACT(YEAR FROM DATE '2024-03-04'), EXTRACT(DAYOFWEEK FROM DATE '2024-03-04'), "
         "EXTRACT(WEEK FROM DATE '2024-03-04'), EXTRACT(QUARTER FROM DATE '2024-03-04')",
         [(2024, 2, 9, 1)], types=["INTEGER", "INTEGER", "INTEGER", "INTEGER"]),
    case(SIG, "Timestamp functions: EXTRACT MICROSECOND / MILLISECOND are the sub-second part",
         "SELECT EXTRACT(MICROSECOND FROM TIMESTAMP '2024-03-04 05:06:07.123456+00'), "
         "EXTRACT(MILLISECOND FROM DATETIME '2024-03-04 05:06:07.123456'), EXTRACT(SECOND FROM TIME '05:06:07.5')",
         [(123456, 123, 7)], types=["INTEGER", "INTEGER", "INTEGER"]),
    case(SAFE, "SAFE. prefix: NULL for the function's own error",
         "SELECT SAFE.LN(0), SAFE.SQRT(-1), SAFE.LOG(-1, 10), SAFE.LOG10(0)", [(None, None, None, None)]),
    case(SAFE, "SAFE. prefix: valid arguments still compute", "SELECT SAFE.SQRT(4.0), SAFE.LN(1)", [(2.0, 0.0)]),
    case(SAFE, "SAFE. prefix: errors in the arguments still fail", "SELECT SAFE.LN(1 / 0)", error="invalidQuery",
         message="division by zero: 1 / 0"),
    case(SAFE, "SAFE. prefix: on a column", "SELECT x, SAFE.SQRT(x) FROM UNNEST([4.0, -1.0]) AS x ORDER BY x",
         [(-1.0, None), (4.0, 2.0)]),
    case(SAFE, "SAFE. prefix: SUBSTR with a negative length", "SELECT SAFE.SUBSTR('foo', 0, -2)", [(None,)]),
    case(RUN, "Mathematical functions: division by zero shows the values", "SELECT x / (x - 2) FROM UNNEST([2]) AS x",
         error="invalidQuery", message="division by zero: 2 / 0"),
    case(RUN, "Mathematical functions: division by zero in a window ORDER BY",
         "SELECT ROW_NUMBER() OVER (ORDER BY 10 / x) FROM UNNEST([1, 0]) AS x", error="invalidQuery",
         message="division by zero: 10 / 0"),
    case(RUN, "Window functions: a division in a window ORDER BY",
         "SELECT x, ROW_NUMBER() OVER (ORDER BY 10 / x) FROM UNNEST([1, 2, 5]) AS x ORDER BY x",
         [(1, 3), (2, 2), (5, 1)]),
    case(RUN, "Mathematical functions: DIV by zero", "SELECT DIV(x, 0) FROM UNNEST([7]) AS x", error="invalidQuery",
         message="division by zero"),
    case(RUN, "Operators: INT64 overflow", "SELECT x + 1 FROM UNNEST([9223372036854775807]) AS x",
         error="invalidQuery", message="int64 overflow: 9223372036854775807 + 1"),
    case(RUN, "Aggregate functions: SUM past INT64", "SELECT SUM(x) FROM UNNEST([9223372036854775807, 1]) AS x",
         error="invalidQuery", message="integer overflow"),
    case(RUN, "Conversion functions: invalid date string", "SELECT CAST('2024-13-45' AS DATE)", error="invalidQuery",
         message="Invalid date: '2024-13-45'"),
    case(PAR, "Running parameterized queries: a TIMESTAMP parameter must be a timestamp, not a number",
         "SELECT @ts", params=[("ts", "TIMESTAMP", 1700000000)], error="invalid", message="ts"),
    case(PAR, "Running parameterized queries: a parameter typed NUMERIC is NUMERIC in arithmetic",
         "SELECT @n / 3", params=[("n", "NUMERIC", "1")], rows=None, types=["NUMERIC"]),
    case(RUN, "Conversion functions: invalid timestamp string", "SELECT CAST('2024-01-01 25:00:00' AS TIMESTAMP)",
         error="invalidQuery", message="Invalid timestamp: '2024-01-01 25:00:00'"),
]
