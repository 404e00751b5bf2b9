"""DML and DDL semantics from "Data manipulation language (DML) statements", "Data definition language
(DDL) statements", "Procedural language" and "User-defined functions" documentation pages."""

from __future__ import annotations

import datetime as dt

from ._case import case

DML = "DML: INSERT / UPDATE / DELETE / MERGE / TRUNCATE"
DDL = "DDL: tables, views, schemas"
UDF = "User-defined functions"
SCR = "Multi-statement queries and scripting"
INF = "INFORMATION_SCHEMA"

INVENTORY = [
    "CREATE TABLE ds.Inventory (product STRING, quantity INT64, supply_constrained BOOL)",
    "INSERT ds.Inventory (product, quantity) VALUES ('dishwasher', 30), ('dryer', 30), ('washer', 20), "
    "('microwave', 20), ('oven', 5), ('top load washer', 10), ('front load washer', 20)",
]
NEW_ARRIVALS = [
    "CREATE TABLE ds.NewArrivals (product STRING, quantity INT64, warehouse STRING)",
    "INSERT ds.NewArrivals (product, quantity, warehouse) VALUES ('dryer', 200, 'warehouse #2'), "
    "('oven', 300, 'warehouse #3'), ('refrigerator', 100, 'warehouse #1'), ('washer', 100, 'warehouse #1')",
]
PEOPLE = ["CREATE TABLE ds.people (id INT64, name STRING, tags ARRAY<STRING>, "
          "address STRUCT<city STRING, zip STRING>)",
          "INSERT INTO ds.people VALUES (1, 'ann', ['a'], STRUCT('Paris', '75001')), "
          "(2, 'bob', [], STRUCT('Oslo', '0150')), (3, NULL, ['x', 'y'], NULL)"]

CASES = [
    # ---------------------------------------------------------------- INSERT
    case(DML, "DML: INSERT with explicit columns", "INSERT ds.Inventory (product, quantity) VALUES ('top load washer',"
         " 10), ('front load washer', 20)", affected=2, setup=INVENTORY[:1]),
    case(DML, "DML: INSERT rows are visible", "SELECT product, quantity FROM ds.Inventory ORDER BY product",
         [("dishwasher", 30), ("dryer", 30), ("front load washer", 20), ("microwave", 20), ("oven", 5),
          ("top load washer", 10), ("washer", 20)], setup=INVENTORY),
    case(DML, "DML: INSERT omitted columns are NULL", "SELECT COUNTIF(supply_constrained IS NULL) FROM ds.Inventory",
         [(7,)], setup=INVENTORY),
    case(DML, "DML: INSERT without column list", "INSERT INTO ds.NewArrivals VALUES ('kettle', 4, 'warehouse #9')",
         affected=1, setup=NEW_ARRIVALS[:1]),
    case(DML, "DML: INSERT SELECT", "INSERT ds.Inventory (product, quantity) SELECT product, quantity "
         "FROM ds.NewArrivals WHERE warehouse = 'warehouse #1'", affected=2, setup=INVENTORY + NEW_ARRIVALS),
    case(DML, "DML: INSERT with ARRAY and STRUCT values", "SELECT name, tags, address FROM ds.people WHERE id = 4",
         [("dan", ["p", "q"], {"city": "Rome", "zip": "00100"})],
         setup=PEOPLE + ["INSERT INTO ds.people VALUES (4, 'dan', ['p', 'q'], STRUCT('Rome' AS city, '00100' AS zip))"]),
    case(DML, "DML: INSERT positional STRUCT into a STRUCT column", "SELECT address.city FROM ds.people WHERE id = 5",
         [("Lima",)], setup=PEOPLE + ["INSERT INTO ds.people (id, address) VALUES (5, STRUCT('Lima', '15001'))"]),
    case(DML, "DML: INSERT SELECT of a positional STRUCT", "SELECT address FROM ds.people WHERE id = 6",
         [({"city": "Quito", "zip": "170150"},)],
         setup=PEOPLE + ["INSERT INTO ds.people (id, address) SELECT 6, STRUCT('Quito', '170150')"]),
    case(DML, "DML: INSERT with a CTE", "INSERT ds.Inventory (product, quantity) WITH w AS (SELECT 'fan' AS p) "
         "SELECT p, 1 FROM w", affected=1, setup=INVENTORY),
    case(DML, "DML: INSERT DEFAULT-less value types coerce", "SELECT quantity FROM ds.Inventory WHERE product = 'x'",
         [(3,)], setup=INVENTORY + ["INSERT ds.Inventory (product, quantity) VALUES ('x', 3)"]),
    case(DML, "DML: INSERT into a missing table", "INSERT ds.nope (a) VALUES (1)", error="notFound",
         message="ds.nope"),
    # ---------------------------------------------------------------- UPDATE
    case(DML, "DML: UPDATE with WHERE", "UPDATE ds.Inventory SET quantity = quantity - 10, supply_constrained = FALSE "
         "WHERE product LIKE '%washer%'", affected=4, setup=INVENTORY),
    case(DML, "DML: UPDATE result", "SELECT product, quantity FROM ds.Inventory WHERE product LIKE '%washer%' "
         "ORDER BY product", [("dishwasher", 20), ("front load washer", 10), ("top load washer", 0), ("washer", 10)],
         setup=INVENTORY + ["UPDATE ds.Inventory SET quantity = quantity - 10 WHERE product LIKE '%washer%'"]),
    case(DML, "DML: UPDATE WHERE TRUE updates every row", "UPDATE ds.Inventory SET quantity = 0 WHERE TRUE",
         affected=7, setup=INVENTORY),
    case(DML, "DML: UPDATE requires WHERE", "UPDATE ds.Inventory SET quantity = 0", error="invalidQuery",
         message="UPDATE must have a WHERE clause", setup=INVENTORY),
    case(DML, "DML: UPDATE with a joined FROM", "UPDATE ds.Inventory i SET quantity = i.quantity + n.quantity "
         "FROM ds.NewArrivals n WHERE i.product = n.product", affected=3, setup=INVENTORY + NEW_ARRIVALS),
    case(DML, "DML: UPDATE with a joined FROM result", "SELECT product, quantity FROM ds.Inventory WHERE product IN "
         "('dryer', 'oven', 'washer') ORDER BY product", [("dryer", 230), ("oven", 305), ("washer", 120)],
         setup=INVENTORY + NEW_ARRIVALS + ["UPDATE ds.Inventory i SET quantity = i.quantity + n.quantity "
                                           "FROM ds.NewArrivals n WHERE i.product = n.product"]),
    case(DML, "DML: UPDATE a whole STRUCT", "SELECT address FROM ds.people WHERE id = 2", [({"city": "Bergen",
                                                                                            "zip": "5003"},)],
         setup=PEOPLE + ["UPDATE ds.people SET address = STRUCT('Bergen', '5003') WHERE id = 2"]),
    case(DML, "DML: UPDATE a STRUCT field", "UPDATE ds.people SET address.city = 'Lyon' WHERE id = 1", affected=1,
         setup=PEOPLE),
    case(DML, "DML: UPDATE an ARRAY with ARRAY_CONCAT", "SELECT tags FROM ds.people WHERE id = 1", [(["a", "b"],)],
         setup=PEOPLE + ["UPDATE ds.people SET tags = ARRAY_CONCAT(tags, ['b']) WHERE id = 1"]),
    case(DML, "DML: UPDATE with a subquery in WHERE", "UPDATE ds.Inventory SET supply_constrained = TRUE "
         "WHERE product IN (SELECT product FROM ds.NewArrivals WHERE warehouse = 'warehouse #1')", affected=1,
         setup=INVENTORY + NEW_ARRIVALS),
    case(DML, "DML: UPDATE matching no rows", "UPDATE ds.Inventory SET quantity = 1 WHERE FALSE", affected=0,
         setup=INVENTORY),
    # ---------------------------------------------------------------- DELETE
    case(DML, "DML: DELETE with WHERE", "DELETE ds.Inventory WHERE quantity = 0", affected=0, setup=INVENTORY),
    case(DML, "DML: DELETE FROM with WHERE", "DELETE FROM ds.Inventory WHERE quantity >= 20", affected=5,
         setup=INVENTORY),
    case(DML, "DML: DELETE result", "SELECT product FROM ds.Inventory ORDER BY product", [("oven",),
                                                                                          ("top load washer",)],
         setup=INVENTORY + ["DELETE ds.Inventory WHERE quantity >= 20"]),
    case(DML, "DML: DELETE WHERE TRUE deletes every row", "DELETE FROM ds.Inventory WHERE true", affected=7,
         setup=INVENTORY),
    case(DML, "DML: DELETE requires WHERE", "DELETE FROM ds.Inventory", error="invalidQuery",
         message="DELETE must have a WHERE clause", setup=INVENTORY),
    case(DML, "DML: DELETE with a subquery", "DELETE FROM ds.Inventory i WHERE i.product NOT IN "
         "(SELECT product FROM ds.NewArrivals)", affected=4, setup=INVENTORY + NEW_ARRIVALS),
    case(DML, "DML: DELETE with EXISTS", "DELETE FROM ds.Inventory i WHERE EXISTS (SELECT 1 FROM ds.NewArrivals n "
         "WHERE n.product = i.product)", affected=3, setup=INVENTORY + NEW_ARRIVALS),
    # ---------------------------------------------------------------- MERGE
    case(DML, "DML: MERGE update and insert", "MERGE ds.Inventory T USING ds.NewArrivals S ON T.product = S.product "
         "WHEN MATCHED THEN UPDATE SET quantity = T.quantity + S.quantity "
         "WHEN NOT MATCHED THEN INSERT (product, quantity) VALUES (product, quantity)", affected=4,
         setup=INVENTORY + NEW_ARRIVALS),
    case(DML, "DML: MERGE result", "SELECT product, quantity FROM ds.Inventory ORDER BY product",
         [("dishwasher", 30), ("dryer", 230), ("front load washer", 20), ("microwave", 20), ("oven", 305),
          ("refrigerator", 100), ("top load washer", 10), ("washer", 120)],
         setup=INVENTORY + NEW_ARRIVALS + [
             "MERGE ds.Inventory T USING ds.NewArrivals S ON T.product = S.product "
             "WHEN MATCHED THEN UPDATE SET quantity = T.quantity + S.quantity "
             "WHEN NOT MATCHED THEN INSERT (product, quantity) VALUES (product, quantity)"]),
    case(DML, "DML: MERGE with a condition and DELETE", "MERGE ds.Inventory T USING ds.NewArrivals S "
         "ON T.product = S.product WHEN MATCHED AND S.quantity > 150 THEN DELETE "
         "WHEN MATCHED THEN UPDATE SET quantity = 0", affected=3, setup=INVENTORY + NEW_ARRIVALS),
    case(DML, "DML: MERGE NOT MATCHED BY SOURCE", "MERGE ds.Inventory T USING ds.NewArrivals S "
         "ON T.product = S.product WHEN NOT MATCHED BY SOURCE THEN DELETE", affected=4,
         setup=INVENTORY + NEW_ARRIVALS),
    case(DML, "DML: MERGE INSERT ROW", "MERGE ds.NewArrivals T USING (SELECT 'fan' AS product, 1 AS quantity, "
         "'w' AS warehouse) S ON FALSE WHEN NOT MATCHED THEN INSERT ROW", affected=1, setup=NEW_ARRIVALS),
    case(DML, "DML: MERGE with a subquery source", "MERGE ds.Inventory T USING (SELECT 'oven' AS product, 1 AS q) S "
         "ON T.product = S.product WHEN MATCHED THEN UPDATE SET quantity = S.q", affected=1, setup=INVENTORY),
    # ---------------------------------------------------------------- TRUNCATE
    case(DML, "DML: TRUNCATE TABLE", "SELECT COUNT(*) FROM ds.Inventory", [(0,)],
         setup=INVENTORY + ["TRUNCATE TABLE ds.Inventory"]),
    # ---------------------------------------------------------------- DDL
    case(DDL, "DDL: CREATE TABLE", "CREATE TABLE ds.newtable (x INT64 OPTIONS(description = 'An optional INTEGER "
         "field'), y STRUCT<a ARRAY<STRING>, b BOOL>) OPTIONS(description = 'a table')", schema_of="ds.newtable",
         schema=[("x", "INTEGER", "NULLABLE"), ("y", "RECORD", "NULLABLE")]),
    case(DDL, "DDL: column DEFAULT values", "SELECT id, qty, label FROM ds.d", [(1, 5, "new")],
         setup=["CREATE TABLE ds.d (id INT64, qty INT64 DEFAULT 5, label STRING DEFAULT 'new')",
                "INSERT INTO ds.d (id) VALUES (1)"]),
    case(DDL, "DDL: column DEFAULT CURRENT_TIMESTAMP()", "SELECT id, created FROM ds.d",
         [(1, dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC))],
         setup=["CREATE TABLE ds.d (id INT64, created TIMESTAMP DEFAULT CURRENT_TIMESTAMP())",
                "INSERT INTO ds.d (id) VALUES (1)"]),
    case(DDL, "DDL: CREATE TABLE IF NOT EXISTS keeps the table", "SELECT COUNT(*) FROM ds.Inventory", [(7,)],
         setup=INVENTORY + ["CREATE TABLE IF NOT EXISTS ds.Inventory (other STRING)"]),
    case(DDL, "DDL: CREATE TABLE on an existing table fails", "CREATE TABLE ds.Inventory (x INT64)",
         error="duplicate", message="Already Exists", setup=INVENTORY[:1]),
    case(DDL, "DDL: CREATE OR REPLACE TABLE", "SELECT * FROM ds.Inventory", [],
         setup=INVENTORY + ["CREATE OR REPLACE TABLE ds.Inventory (a STRING)"]),
    case(DDL, "DDL: CREATE TABLE AS SELECT", "SELECT product FROM ds.top ORDER BY product",
         [("dishwasher",), ("dryer",)], setup=INVENTORY + ["CREATE TABLE ds.top AS SELECT product FROM ds.Inventory "
                                                           "WHERE quantity >= 30"]),
    case(DDL, "DDL: CREATE TABLE with PARTITION BY and CLUSTER BY", "SELECT COUNT(*) FROM ds.part", [(0,)],
         setup=["CREATE TABLE ds.part (ts TIMESTAMP, id INT64) PARTITION BY DATE(ts) CLUSTER BY id "
                "OPTIONS(partition_expiration_days = 3)"]),
    case(DDL, "DDL: CREATE TABLE LIKE", "SELECT 1", schema_of="ds.copy_like", setup=INVENTORY[:1] + [
        "CREATE TABLE ds.copy_like LIKE ds.Inventory"],
         schema=[("product", "STRING", "NULLABLE"), ("quantity", "INTEGER", "NULLABLE"),
                 ("supply_constrained", "BOOLEAN", "NULLABLE")]),
    case(DDL, "DDL: CREATE TABLE COPY", "SELECT COUNT(*) FROM ds.copied", [(7,)],
         setup=INVENTORY + ["CREATE TABLE ds.copied COPY ds.Inventory"]),
    case(DDL, "DDL: CREATE VIEW", "SELECT product FROM ds.low ORDER BY product", [("oven",), ("top load washer",)],
         setup=INVENTORY + ["CREATE VIEW ds.low AS SELECT product FROM ds.Inventory WHERE quantity < 20"]),
    case(DDL, "DDL: a view sees later changes", "SELECT COUNT(*) FROM ds.low", [(3,)],
         setup=INVENTORY + ["CREATE VIEW ds.low AS SELECT product FROM ds.Inventory WHERE quantity < 20",
                            "INSERT ds.Inventory (product, quantity) VALUES ('fan', 1)"]),
    case(DDL, "DDL: CREATE OR REPLACE VIEW", "SELECT * FROM ds.v", [(2,)],
         setup=["CREATE VIEW ds.v AS SELECT 1 AS x", "CREATE OR REPLACE VIEW ds.v AS SELECT 2 AS x"]),
    case(DDL, "DDL: DROP VIEW", "SELECT * FROM ds.v", error="notFound",
         setup=["CREATE VIEW ds.v AS SELECT 1 AS x", "DROP VIEW ds.v"]),
    case(DDL, "DDL: DROP TABLE", "SELECT * FROM ds.Inventory", error="notFound",
         setup=INVENTORY[:1] + ["DROP TABLE ds.Inventory"]),
    case(DDL, "DDL: DROP TABLE IF EXISTS on a missing table", "DROP TABLE IF EXISTS ds.never_there"),
    case(DDL, "DDL: DROP TABLE on a missing table fails", "DROP TABLE ds.never_there", error="notFound"),
    case(DDL, "DDL: ALTER TABLE ADD COLUMN", "SELECT 1", schema_of="ds.Inventory",
         setup=INVENTORY[:1] + ["ALTER TABLE ds.Inventory ADD COLUMN price NUMERIC, ADD COLUMN IF NOT EXISTS "
                                "quantity INT64"],
         schema=[("product", "STRING", "NULLABLE"), ("quantity", "INTEGER", "NULLABLE"),
                 ("supply_constrained", "BOOLEAN", "NULLABLE"), ("price", "NUMERIC", "NULLABLE")]),
    case(DDL, "DDL: ALTER TABLE DROP COLUMN", "SELECT 1", schema_of="ds.Inventory",
         setup=INVENTORY[:1] + ["ALTER TABLE ds.Inventory DROP COLUMN supply_constrained"],
         schema=[("product", "STRING", "NULLABLE"), ("quantity", "INTEGER", "NULLABLE")]),
    case(DDL, "DDL: ALTER TABLE SET OPTIONS", "ALTER TABLE ds.Inventory SET OPTIONS (description = 'x')",
         setup=INVENTORY[:1]),
    case(DDL, "DDL: ALTER TABLE RENAME COLUMN", "SELECT qty FROM ds.Inventory WHERE product = 'oven'", [(5,)],
         setup=INVENTORY + ["ALTER TABLE ds.Inventory RENAME COLUMN quantity TO qty"]),
    case(DDL, "DDL: ALTER TABLE RENAME TO", "SELECT COUNT(*) FROM ds.Stock", [(7,)],
         setup=INVENTORY + ["ALTER TABLE ds.Inventory RENAME TO Stock"]),
    case(DDL, "DDL: CREATE SCHEMA", "SELECT COUNT(*) FROM ds2.t", [(0,)],
         setup=["CREATE SCHEMA ds2", "CREATE TABLE ds2.t (x INT64)"]),
    case(DDL, "DDL: CREATE SCHEMA with a project", "SELECT schema_name FROM `region-us`.INFORMATION_SCHEMA.SCHEMATA "
         "WHERE schema_name = 'ds3'", [("ds3",)], setup=["CREATE SCHEMA `my-proj.ds3` OPTIONS(location = 'US')"]),
    case(DDL, "DDL: CREATE SCHEMA IF NOT EXISTS on an existing dataset", "CREATE SCHEMA IF NOT EXISTS ds"),
    case(DDL, "DDL: CREATE SCHEMA on an existing dataset fails", "CREATE SCHEMA ds", error="duplicate"),
    case(DDL, "DDL: DROP SCHEMA CASCADE", "SELECT * FROM ds4.t", error="notFound",
         setup=["CREATE SCHEMA ds4", "CREATE TABLE ds4.t (x INT64)", "DROP SCHEMA ds4 CASCADE"]),
    case(DDL, "DDL: DROP SCHEMA of a non-empty dataset fails", "DROP SCHEMA ds5", error="invalid",
         setup=["CREATE SCHEMA ds5", "CREATE TABLE ds5.t (x INT64)"]),
    case(DDL, "DDL: DROP SCHEMA IF EXISTS on a missing dataset", "DROP SCHEMA IF EXISTS never_there"),
    case(DDL, "DDL: default dataset resolves bare table names", "SELECT COUNT(*) FROM Inventory", [(7,)],
         setup=INVENTORY, dataset="ds"),
    case(DDL, "DDL: fully qualified names", "SELECT COUNT(*) FROM `my-proj.ds.Inventory`", [(7,)], setup=INVENTORY),
    case(DDL, "DDL: project quoted separately", "SELECT COUNT(*) FROM `my-proj`.ds.Inventory", [(7,)],
         setup=INVENTORY),
    # ---------------------------------------------------------------- UDFs
    case(UDF, "User-defined functions: temporary SQL UDF", "CREATE TEMP FUNCTION AddFourAndDivide(x INT64, y INT64) "
         "RETURNS FLOAT64 AS ((x + 4) / y); SELECT val, AddFourAndDivide(val, 2) FROM UNNEST([2, 3, 5, 8]) AS val "
         "ORDER BY val", [(2, 3.0), (3, 3.5), (5, 4.5), (8, 6.0)]),
    case(UDF, "User-defined functions: persistent SQL UDF", "SELECT ds.add_one(41)", [(42,)],
         setup=["CREATE FUNCTION ds.add_one(x INT64) AS (x + 1)"]),
    case(UDF, "User-defined functions: CREATE OR REPLACE FUNCTION", "SELECT ds.f(1)", [(3,)],
         setup=["CREATE FUNCTION ds.f(x INT64) AS (x + 1)", "CREATE OR REPLACE FUNCTION ds.f(x INT64) AS (x + 2)"]),
    case(UDF, "User-defined functions: JavaScript UDF", "CREATE TEMP FUNCTION f(x FLOAT64) RETURNS FLOAT64 "
         "LANGUAGE js AS 'return x*2;'; SELECT f(2.0)", [(4.0,)], xfail="JavaScript UDFs are not supported"),
    case(UDF, "User-defined functions: table function", "SELECT * FROM ds.tvf(2)", [(2,)],
         setup=["CREATE TABLE FUNCTION ds.tvf(n INT64) AS (SELECT n AS x)"]),
    # ---------------------------------------------------------------- scripting
    case(SCR, "Multi-statement queries: statements run in order", "CREATE TABLE ds.s (x INT64); "
         "INSERT INTO ds.s VALUES (1), (2); SELECT SUM(x) FROM ds.s", [(3,)]),
    case(SCR, "Procedural language: DECLARE and SET", "DECLARE x INT64 DEFAULT 1; SET x = x + 1; SELECT x", [(2,)]),
    case(SCR, "Procedural language: DECLARE without DEFAULT is NULL", "DECLARE d DATE; SELECT d IS NULL", [(True,)]),
    case(SCR, "Procedural language: variable in a query", "DECLARE lim INT64 DEFAULT 2; "
         "SELECT COUNT(*) FROM UNNEST([1, 2, 3]) AS v WHERE v <= lim", [(2,)]),
    case(SCR, "Procedural language: IF", "DECLARE x INT64 DEFAULT 1; IF x = 1 THEN SELECT 'one'; END IF",
         [("one",)]),
    case(SCR, "Multi-statement queries: temporary table", "CREATE TEMP TABLE t1 AS SELECT 1 AS x UNION ALL SELECT 2; "
         "SELECT SUM(x) FROM t1", [(3,)]),
    case(SCR, "Multi-statement queries: query parameters in a script", "DECLARE x INT64 DEFAULT @a; "
         "SELECT x + @b", [(11,)], params=[("a", "INT64", 1), ("b", "INT64", 10)]),
    case(SCR, "Transactions: BEGIN / COMMIT", "BEGIN TRANSACTION; INSERT INTO ds.tx VALUES (1); COMMIT TRANSACTION; "
         "SELECT COUNT(*) FROM ds.tx", [(1,)], setup=["CREATE TABLE ds.tx (x INT64)"]),
    case(SCR, "Procedural language: SET with a subquery", "DECLARE n INT64; SET n = (SELECT COUNT(*) FROM ds.Inventory);"
         " SELECT n", [(7,)], setup=INVENTORY),
    case(SCR, "Debugging statements: ASSERT that holds", "ASSERT (SELECT COUNT(*) FROM ds.Inventory) > 0 "
         "AS 'Inventory must not be empty'; SELECT 1", [(1,)], setup=INVENTORY),
    case(SCR, "Debugging statements: ASSERT that fails", "ASSERT (SELECT COUNT(*) FROM ds.Inventory) > 100 "
         "AS 'Inventory is too small'", error="invalidQuery", message="Inventory is too small", setup=INVENTORY),
    # ---------------------------------------------------------------- INFORMATION_SCHEMA
    case(INF, "INFORMATION_SCHEMA.TABLES", "SELECT table_name, table_type FROM ds.INFORMATION_SCHEMA.TABLES "
         "ORDER BY table_name", [("Inventory", "BASE TABLE"), ("v", "VIEW")],
         setup=INVENTORY[:1] + ["CREATE VIEW ds.v AS SELECT 1 AS x"]),
    case(INF, "INFORMATION_SCHEMA.COLUMNS", "SELECT column_name, ordinal_position, is_nullable, data_type "
         "FROM `my-proj`.ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'people' ORDER BY ordinal_position",
         [("id", 1, "YES", "INT64"), ("name", 2, "YES", "STRING"), ("tags", 3, "NO", "ARRAY<STRING>"),
          ("address", 4, "YES", "STRUCT<city STRING, zip STRING>")], setup=PEOPLE),
    case(INF, "INFORMATION_SCHEMA.COLUMNS data types", "SELECT column_name, data_type "
         "FROM ds.INFORMATION_SCHEMA.COLUMNS WHERE table_name = 'people' ORDER BY ordinal_position",
         [("id", "INT64"), ("name", "STRING"), ("tags", "ARRAY<STRING>"),
          ("address", "STRUCT<city STRING, zip STRING>")], setup=PEOPLE),
    case(INF, "INFORMATION_SCHEMA.SCHEMATA", "SELECT schema_name FROM `region-us`.INFORMATION_SCHEMA.SCHEMATA "
         "ORDER BY schema_name", [("ds",), ("other",)], setup=["CREATE SCHEMA other"]),
    case(INF, "INFORMATION_SCHEMA.SCHEMATA catalog", "SELECT catalog_name FROM `my-proj`.INFORMATION_SCHEMA.SCHEMATA",
         [("my-proj",)]),
    case(INF, "INFORMATION_SCHEMA.VIEWS", "SELECT table_name FROM ds.INFORMATION_SCHEMA.VIEWS", [("v",)],
         setup=["CREATE VIEW ds.v AS SELECT 1 AS x"]),
    case(INF, "INFORMATION_SCHEMA.PARTITIONS", "SELECT COUNT(*) FROM ds.INFORMATION_SCHEMA.PARTITIONS", [(0,)],
         xfail="INFORMATION_SCHEMA.PARTITIONS is not supported"),
    case(INF, "INFORMATION_SCHEMA.JOBS", "SELECT COUNT(*) >= 0 FROM `region-us`.INFORMATION_SCHEMA.JOBS",
         [(True,)], xfail="INFORMATION_SCHEMA.JOBS is not supported"),
]

