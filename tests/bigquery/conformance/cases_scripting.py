"""Scripting cases from the "Procedural language", "Multi-statement queries", "Multi-statement
transactions" and "System variables" documentation pages (control flow, exception handlers, RAISE,
RETURN, transactions, system variables)."""

from __future__ import annotations

from ._case import case

CTL = "Procedural language: control flow"
EXC = "Procedural language: exceptions, RAISE, RETURN"
TXN = "Multi-statement transactions"
SYS = "System variables"
SCR = "Multi-statement queries and scripting"

TABLE = ["CREATE TABLE ds.t (x INT64)"]

CASES = [
    # ---------------------------------------------------------------- IF / CASE
    case(CTL, "Procedural language: IF … ELSEIF … ELSE", "DECLARE x INT64 DEFAULT 2; IF x = 1 THEN SELECT 'one'; "
         "ELSEIF x = 2 THEN SELECT 'two'; ELSE SELECT 'many'; END IF", [("two",)]),
    case(CTL, "Procedural language: IF … ELSE", "DECLARE x INT64 DEFAULT 5; IF x = 1 THEN SELECT 'one'; "
         "ELSEIF x = 2 THEN SELECT 'two'; ELSE SELECT 'many'; END IF", [("many",)]),
    case(CTL, "Procedural language: IF with a NULL condition takes no branch",
         "DECLARE x INT64; DECLARE y STRING DEFAULT 'none'; IF x > 0 THEN SET y = 'positive'; END IF; SELECT y",
         [("none",)]),
    case(CTL, "Procedural language: IF condition with a CASE expression",
         "DECLARE x INT64 DEFAULT 3; IF CASE WHEN x > 2 THEN TRUE ELSE FALSE END THEN SELECT 'big'; END IF",
         [("big",)]),
    case(CTL, "Procedural language: IF with a subquery condition",
         "IF EXISTS(SELECT 1 FROM ds.t WHERE x = 7) THEN SELECT 'found'; ELSE SELECT 'missing'; END IF",
         [("found",)], setup=TABLE + ["INSERT INTO ds.t VALUES (7)"]),
    case(CTL, "Procedural language: nested IF", "DECLARE a INT64 DEFAULT 1; DECLARE b INT64 DEFAULT 2; "
         "IF a = 1 THEN IF b = 3 THEN SELECT 'x'; ELSE SELECT 'y'; END IF; END IF", [("y",)]),
    case(CTL, "Procedural language: CASE statement", "DECLARE x INT64 DEFAULT 2; CASE x WHEN 1 THEN SELECT 'a'; "
         "WHEN 2 THEN SELECT 'b'; ELSE SELECT 'c'; END CASE", [("b",)]),
    case(CTL, "Procedural language: searched CASE statement", "DECLARE x INT64 DEFAULT 9; CASE WHEN x < 5 THEN "
         "SELECT 'small'; WHEN x < 10 THEN SELECT 'medium'; ELSE SELECT 'large'; END CASE", [("medium",)]),
    # ---------------------------------------------------------------- loops
    case(CTL, "Procedural language: LOOP and LEAVE", "DECLARE i INT64 DEFAULT 0; LOOP SET i = i + 1; "
         "IF i >= 3 THEN LEAVE; END IF; END LOOP; SELECT i", [(3,)]),
    case(CTL, "Procedural language: BREAK is LEAVE", "DECLARE i INT64 DEFAULT 0; LOOP SET i = i + 1; "
         "IF i = 4 THEN BREAK; END IF; END LOOP; SELECT i", [(4,)]),
    case(CTL, "Procedural language: WHILE", "DECLARE i INT64 DEFAULT 0; DECLARE s INT64 DEFAULT 0; "
         "WHILE i < 5 DO SET i = i + 1; SET s = s + i; END WHILE; SELECT s", [(15,)]),
    case(CTL, "Procedural language: CONTINUE", "DECLARE i INT64 DEFAULT 0; DECLARE s INT64 DEFAULT 0; "
         "WHILE i < 6 DO SET i = i + 1; IF MOD(i, 2) = 0 THEN CONTINUE; END IF; SET s = s + i; END WHILE; "
         "SELECT s", [(9,)]),
    case(CTL, "Procedural language: ITERATE is CONTINUE", "DECLARE i INT64 DEFAULT 0; DECLARE s INT64 DEFAULT 0; "
         "LOOP SET i = i + 1; IF i > 4 THEN LEAVE; END IF; IF i = 2 THEN ITERATE; END IF; SET s = s + i; "
         "END LOOP; SELECT s", [(8,)]),
    case(CTL, "Procedural language: REPEAT … UNTIL", "DECLARE i INT64 DEFAULT 0; REPEAT SET i = i + 1; "
         "UNTIL i >= 4 END REPEAT; SELECT i", [(4,)]),
    case(CTL, "Procedural language: REPEAT runs its body once before testing", "DECLARE i INT64 DEFAULT 10; "
         "REPEAT SET i = i + 1; UNTIL TRUE END REPEAT; SELECT i", [(11,)]),
    case(CTL, "Procedural language: FOR … IN", "DECLARE s STRING DEFAULT ''; FOR r IN (SELECT w FROM "
         "UNNEST(['a', 'b', 'c']) AS w WITH OFFSET o ORDER BY o) DO SET s = CONCAT(s, r.w); END FOR; SELECT s",
         [("abc",)]),
    case(CTL, "Procedural language: FOR … IN over a table, writing rows", "SELECT x FROM ds.t ORDER BY x",
         [(1,), (2,), (10,), (20,)],
         setup=TABLE + ["INSERT INTO ds.t VALUES (1), (2)",
                        "FOR r IN (SELECT x FROM ds.t ORDER BY x) DO INSERT INTO ds.t VALUES (r.x * 10); END FOR"]),
    case(CTL, "Procedural language: FOR … IN over no rows", "DECLARE n INT64 DEFAULT 0; "
         "FOR r IN (SELECT 1 AS a FROM UNNEST([1]) AS v WHERE FALSE) DO SET n = n + 1; END FOR; SELECT n", [(0,)]),
    case(CTL, "Procedural language: a STRUCT variable's field", "DECLARE r STRUCT<a INT64> DEFAULT STRUCT(5 AS a); "
         "SELECT r.a", [(5,)]),
    case(CTL, "Procedural language: a table alias named like a variable is the table",
         "FOR r IN (SELECT 1 AS a) DO SELECT r.a FROM (SELECT 7 AS a) AS r; END FOR", [(7,)]),
    case(CTL, "Procedural language: labeled LEAVE of an outer loop", "DECLARE i INT64 DEFAULT 0; "
         "outer_loop: LOOP SET i = i + 1; LOOP LEAVE outer_loop; END LOOP; END LOOP outer_loop; SELECT i", [(1,)]),
    case(CTL, "Procedural language: labeled CONTINUE of an outer loop", "DECLARE i INT64 DEFAULT 0; "
         "DECLARE inner_runs INT64 DEFAULT 0; outer_loop: WHILE i < 3 DO SET i = i + 1; LOOP "
         "SET inner_runs = inner_runs + 1; CONTINUE outer_loop; END LOOP; END WHILE outer_loop; SELECT inner_runs",
         [(3,)]),
    case(CTL, "Procedural language: LEAVE a labeled block", "DECLARE x INT64 DEFAULT 1; b: BEGIN SET x = 2; "
         "LEAVE b; SET x = 3; END b; SELECT x", [(2,)]),
    case(CTL, "Procedural language: BEGIN … END block", "BEGIN SELECT 1 AS one; END", [(1,)]),
    case(CTL, "Procedural language: LEAVE outside a loop", "LEAVE", error="invalidQuery"),
    case(CTL, "Procedural language: IF without END IF", "IF TRUE THEN SELECT 1;", error="invalidQuery",
         message="Syntax error: Unexpected end of script at [1:23]"),
    case(CTL, "Procedural language: a syntax error inside a block points into the script",
         "DECLARE x INT64;\nIF x = 1 THEN\n  SELEC 1;\nEND IF", error="invalidQuery",
         message='Syntax error: Unexpected identifier "SELEC" at [3:3]'),
    case(CTL, "Procedural language: WHILE without DO", "WHILE TRUE SELECT 1; END WHILE", error="invalidQuery",
         message="Syntax error"),
    # ---------------------------------------------------------------- exceptions, RAISE, RETURN
    case(EXC, "Procedural language: BEGIN … EXCEPTION with @@error.message", "BEGIN SELECT ERROR('boom'); "
         "EXCEPTION WHEN ERROR THEN SELECT @@error.message; END", [("boom",)]),
    case(EXC, "Procedural language: the handler runs after the failing statement only", "DECLARE steps STRING "
         "DEFAULT ''; BEGIN SET steps = 'a'; SELECT ERROR('x'); SET steps = CONCAT(steps, 'b'); EXCEPTION WHEN "
         "ERROR THEN SET steps = CONCAT(steps, 'h'); END; SELECT steps", [("ah",)]),
    case(EXC, "Procedural language: @@error.statement_text", "BEGIN SELECT ERROR('boom'); EXCEPTION WHEN ERROR "
         "THEN SELECT @@error.statement_text; END", [("SELECT ERROR('boom')",)]),
    case(EXC, "Procedural language: RAISE USING MESSAGE", "RAISE USING MESSAGE = 'stop here'", error="invalidQuery",
         message="stop here"),
    case(EXC, "Procedural language: RAISE caught by a handler", "BEGIN RAISE USING MESSAGE = CONCAT('code ', "
         "CAST(42 AS STRING)); EXCEPTION WHEN ERROR THEN SELECT @@error.message; END", [("code 42",)]),
    case(EXC, "Procedural language: RAISE in a handler re-raises", "BEGIN SELECT ERROR('inner'); EXCEPTION WHEN "
         "ERROR THEN RAISE; END", error="invalidQuery", message="inner"),
    case(EXC, "Procedural language: an error in the handler fails the script", "BEGIN SELECT ERROR('first'); "
         "EXCEPTION WHEN ERROR THEN SELECT ERROR('second'); END", error="invalidQuery", message="second"),
    case(EXC, "Procedural language: RETURN ends the script", "SELECT 1 AS a; RETURN; SELECT 2 AS a", [(1,)]),
    case(EXC, "Procedural language: RETURN inside a loop", "DECLARE i INT64 DEFAULT 0; LOOP SET i = i + 1; "
         "IF i = 2 THEN SELECT i; RETURN; END IF; END LOOP", [(2,)]),
    # ---------------------------------------------------------------- transactions
    case(TXN, "Transactions: ROLLBACK TRANSACTION", "BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1); "
         "ROLLBACK TRANSACTION; SELECT COUNT(*) FROM ds.t", [(0,)], setup=TABLE),
    case(TXN, "Transactions: changes are visible inside the transaction", "BEGIN TRANSACTION; INSERT INTO ds.t "
         "VALUES (1), (2); SELECT COUNT(*) FROM ds.t", [(2,)], setup=TABLE),
    case(TXN, "Transactions: a query ending inside a transaction rolls it back", "SELECT COUNT(*) FROM ds.t",
         [(0,)], setup=TABLE + ["BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1)"]),
    case(TXN, "Transactions: exception handler rolls back", "SELECT COUNT(*) FROM ds.t", [(0,)],
         setup=TABLE + ["BEGIN BEGIN TRANSACTION; INSERT INTO ds.t VALUES (1); SELECT ERROR('fail'); "
                        "COMMIT TRANSACTION; EXCEPTION WHEN ERROR THEN ROLLBACK TRANSACTION; END"]),
    case(TXN, "Transactions: BEGIN without TRANSACTION", "BEGIN; INSERT INTO ds.t VALUES (5); COMMIT; "
         "SELECT x FROM ds.t", [(5,)], setup=TABLE),
    case(TXN, "Transactions: transactions cannot be nested", "BEGIN TRANSACTION; BEGIN TRANSACTION; "
         "COMMIT TRANSACTION", error="invalidQuery", message="nested"),
    # ---------------------------------------------------------------- system variables
    case(SYS, "System variables: @@row_count", "UPDATE ds.t SET x = x + 1 WHERE x > 1; SELECT @@row_count",
         [(2,)], setup=TABLE + ["INSERT INTO ds.t VALUES (1), (2), (3)"]),
    case(SYS, "System variables: @@project_id", "SELECT @@project_id", [("my-proj",)]),
    case(SYS, "System variables: @@dataset_id", "SELECT @@dataset_id", [("ds",)], dataset="ds"),
    case(SYS, "System variables: @@time_zone", "SELECT @@time_zone", [("UTC",)]),
    # ---------------------------------------------------------------- statement separation
    case(SCR, "Multi-statement queries: a comment after the last semicolon", "SELECT 1 AS a; -- note", [(1,)]),
    case(SCR, "Multi-statement queries: a block comment after the last semicolon", "SELECT 1 AS a;\n/* done */",
         [(1,)]),
    case(SCR, "Multi-statement queries: comments between statements", "SELECT 1 AS a; -- first\n"
         "# second\nSELECT 2 AS b; -- last", [(2,)]),
    case(SCR, "Multi-statement queries: a semicolon inside a string", "SELECT 'a;b' AS s; SELECT 'c;d' AS s",
         [("c;d",)]),
    case(SCR, "Multi-statement queries: the script returns the last statement's rows",
         "SELECT 1 AS a; SELECT 'x' AS b, 2 AS c", [("x", 2)], columns=["b", "c"]),
]
