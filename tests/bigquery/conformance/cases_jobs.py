"""Errors of jobs and of the catalog as BigQuery words them ("Troubleshoot errors", "DML statements",
"Dataset locations"): not-found messages naming the job's location, invalid dataset ids, tables of
other projects, MERGE/UPDATE matching a target row twice."""

from __future__ import annotations

from ._case import case

NAM = "Errors: names and catalog"
DML = "DML: INSERT / UPDATE / DELETE / MERGE / TRUNCATE"

TARGET = ["CREATE TABLE ds.target (k INT64, v STRING)", "INSERT INTO ds.target VALUES (1, 'a'), (2, 'b')"]
TWICE = ["CREATE TABLE ds.source (k INT64, v STRING)", "INSERT INTO ds.source VALUES (1, 'x'), (1, 'y'), (3, 'z')"]
ONCE = ["CREATE TABLE ds.source (k INT64, v STRING)", "INSERT INTO ds.source VALUES (1, 'x'), (3, 'z')"]

CASES = [
    case(NAM, "Troubleshoot errors: notFound names the location (table)", "SELECT * FROM ds.nope", error="notFound",
         message="Not found: Table my-proj:ds.nope was not found in location US"),
    case(NAM, "Troubleshoot errors: notFound names the location (dataset)", "SELECT * FROM nods.t",
         error="notFound", message="Not found: Dataset my-proj:nods was not found in location US"),
    case(NAM, "Troubleshoot errors: notFound names the location (DROP)", "DROP TABLE ds.missing", error="notFound",
         message="Not found: Table my-proj:ds.missing was not found in location US"),
    case(NAM, "Troubleshoot errors: notFound names the location (TRUNCATE)", "TRUNCATE TABLE ds.missing",
         error="notFound", message="Not found: Table my-proj:ds.missing was not found in location US"),
    case(NAM, "Troubleshoot errors: notFound names the location (ALTER)", "ALTER TABLE ds.missing ADD COLUMN y INT64",
         error="notFound", message="Not found: Table my-proj:ds.missing was not found in location US"),
    case(NAM, "Troubleshoot errors: notFound names the location (INSERT)", "INSERT INTO ds.missing (x) VALUES (1)",
         error="notFound", message="Not found: Table my-proj:ds.missing was not found in location US"),
    case(NAM, "Troubleshoot errors: notFound names the location (CREATE in a missing dataset)",
         "CREATE TABLE nods.t (x INT64)", error="notFound",
         message="Not found: Dataset my-proj:nods was not found in location US"),
    case(NAM, "Datasets: invalid dataset ID in a query", "SELECT * FROM `my-proj.bad-ds.t`", error="invalid",
         message='Invalid dataset ID "bad-ds". Dataset IDs must be alphanumeric (plus underscores) and must be at '
                 'most 1024 characters long.'),
    case(NAM, "Troubleshoot errors: accessDenied (table of another project)", "SELECT * FROM `other-proj.ds.t`",
         error="accessDenied", message="Access Denied: Table other-proj:ds.t: User does not have permission to "
                                       "query table other-proj:ds.t, or perhaps it does not exist."),
    case(NAM, "Troubleshoot errors: accessDenied (DML into another project)",
         "INSERT INTO `other-proj.ds.t` (x) VALUES (1)", error="accessDenied",
         message="Access Denied: Table other-proj:ds.t"),
    case(DML, "DML: MERGE matching a target row twice", "MERGE ds.target T USING ds.source S ON T.k = S.k "
         "WHEN MATCHED THEN UPDATE SET v = S.v", error="invalidQuery",
         message="UPDATE/MERGE must match at most one source row for each target row", setup=TARGET + TWICE),
    case(DML, "DML: MERGE matching a target row twice (DELETE)", "MERGE ds.target T USING ds.source S ON T.k = S.k "
         "WHEN MATCHED THEN DELETE", error="invalidQuery",
         message="UPDATE/MERGE must match at most one source row for each target row", setup=TARGET + TWICE),
    case(DML, "DML: MERGE matching each target row once", "MERGE ds.target T USING ds.source S ON T.k = S.k "
         "WHEN MATCHED THEN UPDATE SET v = S.v WHEN NOT MATCHED THEN INSERT (k, v) VALUES (S.k, S.v)",
         affected=2, setup=TARGET + ONCE),
    case(DML, "DML: MERGE with only NOT MATCHED may see duplicates", "MERGE ds.target T USING ds.source S "
         "ON T.k = S.k WHEN NOT MATCHED THEN INSERT (k, v) VALUES (S.k, S.v)", affected=1, setup=TARGET + TWICE),
    case(DML, "DML: UPDATE … FROM matching a target row twice", "UPDATE ds.target T SET v = S.v FROM ds.source S "
         "WHERE T.k = S.k", error="invalidQuery",
         message="UPDATE/MERGE must match at most one source row for each target row", setup=TARGET + TWICE),
    case(DML, "DML: the failed MERGE changed nothing", "SELECT k, v FROM ds.target ORDER BY k",
         [(1, "a"), (2, "b")], setup=TARGET + TWICE),
]
