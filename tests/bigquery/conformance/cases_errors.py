"""Error cases: the error reason BigQuery reports (``errors[].reason``) and, where stable, its message.

Sources: "Troubleshoot errors" (error messages table: invalidQuery, notFound, duplicate, invalid),
the function reference pages (documented runtime errors) and "DML statements".
"""

from __future__ import annotations

from ._case import case

SYN = "Errors: syntax"
NAM = "Errors: names and catalog"
RUN = "Errors: runtime"

CASES = [
    case(SYN, "Troubleshoot errors: invalidQuery (syntax)", "SELEC 1", error="invalidQuery",
         message='Syntax error: Unexpected identifier "SELEC" at [1:1]'),
    case(SYN, "Troubleshoot errors: invalidQuery (syntax)", "SELECT 1 FROM", error="invalidQuery",
         message="Syntax error: Unexpected end of script"),
    case(SYN, "Troubleshoot errors: invalidQuery (syntax)", "SELECT * FROM ds.t WHERE", error="invalidQuery",
         message="Syntax error"),
    case(SYN, "Troubleshoot errors: invalidQuery (syntax)", "SELECT 'unclosed", error="invalidQuery",
         message="Syntax error"),
    case(SYN, "Troubleshoot errors: invalidQuery (syntax)", "SELECT 1;\nFOO 2", error="invalidQuery",
         message='Unexpected identifier "FOO" at [2:1]'),
    case(SYN, "DML: UPDATE must have a WHERE clause", "UPDATE ds.t SET x = 1", error="invalidQuery",
         message="UPDATE must have a WHERE clause", setup=["CREATE TABLE ds.t (x INT64)"]),
    case(SYN, "DML: DELETE must have a WHERE clause", "DELETE ds.t", error="invalidQuery",
         message="DELETE must have a WHERE clause", setup=["CREATE TABLE ds.t (x INT64)"]),
    case(NAM, "Troubleshoot errors: notFound (table)", "SELECT * FROM ds.nope", error="notFound",
         message="Not found: Table my-proj:ds.nope"),
    case(NAM, "Troubleshoot errors: notFound (dataset)", "SELECT * FROM nods.t", error="notFound",
         message="Not found: Dataset my-proj:nods"),
    case(NAM, "Troubleshoot errors: accessDenied (other project)", "SELECT * FROM `other-proj.ds.t`",
         error="accessDenied"),
    case(NAM, "Lexical structure: table names are case-sensitive", "SELECT * FROM ds.T", error="notFound",
         setup=["CREATE TABLE ds.t (x INT64)"]),
    case(NAM, "Troubleshoot errors: unqualified table without default dataset", "SELECT * FROM t",
         error="invalidQuery", message="must be qualified with a dataset"),
    case(NAM, "Troubleshoot errors: invalidQuery (unrecognized name)", "SELECT nope FROM ds.t", error="invalidQuery",
         message="Unrecognized name: nope", setup=["CREATE TABLE ds.t (x INT64)"]),
    case(NAM, "Troubleshoot errors: invalidQuery (unknown function)", "SELECT NO_SUCH_FUNCTION(1)",
         error="invalidQuery"),
    case(NAM, "Troubleshoot errors: duplicate (table)", "CREATE TABLE ds.t (x INT64)", error="duplicate",
         message="Already Exists: Table my-proj:ds.t", setup=["CREATE TABLE ds.t (x INT64)"]),
    case(NAM, "Troubleshoot errors: duplicate (dataset)", "CREATE SCHEMA ds", error="duplicate",
         message="Already Exists: Dataset my-proj:ds"),
    case(NAM, "DML: INSERT into a missing table", "INSERT INTO ds.missing (x) VALUES (1)", error="notFound"),
    case(NAM, "DML: DML over a view is not allowed", "INSERT INTO ds.v (x) VALUES (1)", error="invalidQuery",
         setup=["CREATE VIEW ds.v AS SELECT 1 AS x"]),
    case(NAM, "DDL: DROP a missing table", "DROP TABLE ds.missing", error="notFound"),
    case(RUN, "Mathematical functions: division by zero", "SELECT 1 / 0", error="invalidQuery",
         message="division by zero: 1 / 0"),
    case(RUN, "Mathematical functions: DIV by zero", "SELECT DIV(1, 0)", error="invalidQuery"),
    case(RUN, "Mathematical functions: MOD by zero", "SELECT MOD(1, 0)", error="invalidQuery"),
    case(RUN, "Operators: INT64 overflow", "SELECT 9223372036854775807 + 1", error="invalidQuery",
         message="overflow"),
    case(RUN, "Conversion functions: bad CAST", "SELECT CAST('abc' AS INT64)", error="invalidQuery"),
    case(RUN, "Conversion functions: bad DATE string", "SELECT CAST('2024-13-45' AS DATE)", error="invalidQuery"),
    case(RUN, "Array functions: OFFSET out of range", "SELECT [1, 2, 3][OFFSET(5)]", error="invalidQuery"),
    case(RUN, "Debugging functions: ERROR", "SELECT ERROR('custom failure')", error="invalidQuery",
         message="custom failure"),
    case(RUN, "Mathematical functions: SQRT of a negative number", "SELECT SQRT(-1)", error="invalidQuery"),
    case(RUN, "Mathematical functions: LN of zero", "SELECT LN(0)", error="invalidQuery"),
    case(RUN, "Query syntax: scalar subquery with more than one row", "SELECT (SELECT x FROM UNNEST([1, 2]) AS x)",
         error="invalidQuery"),
    case(RUN, "Date functions: PARSE_DATE with a mismatching string", "SELECT PARSE_DATE('%Y-%m-%d', 'nope')",
         error="invalidQuery"),
    case(RUN, "DML: wrong value type", "INSERT INTO ds.r (id) VALUES ('abc')", error="invalidQuery",
         setup=["CREATE TABLE ds.r (id INT64)"]),
    case(RUN, "Procedural language: SET of an undeclared variable", "SET nope = 1", error="invalidQuery"),
]
