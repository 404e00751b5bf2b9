"""Query syntax examples ("Query syntax", "Operators", "Conversion rules", "Window function calls" pages)."""

from __future__ import annotations

from ._case import case

Q = "Query syntax: joins, grouping, set operations, subqueries"
WF = "Window (numbering / navigation) functions"
O = "Operators"  # noqa: E741

_ROSTER = ["CREATE TABLE ds.Roster (LastName STRING, SchoolID INT64)",
           "INSERT INTO ds.Roster VALUES ('Adams', 50), ('Buchanan', 52), ('Coolidge', 52), ('Davis', 51), "
           "('Eisenhower', 77)",
           "CREATE TABLE ds.TeamMascot (SchoolID INT64, Mascot STRING)",
           "INSERT INTO ds.TeamMascot VALUES (50, 'Jaguars'), (51, 'Knights'), (52, 'Lakers'), (53, 'Mustangs')"]

CASES = [
    case(Q, "Query syntax: INNER JOIN", "SELECT Roster.LastName, TeamMascot.Mascot FROM ds.Roster JOIN ds.TeamMascot "
         "ON Roster.SchoolID = TeamMascot.SchoolID ORDER BY LastName",
         [("Adams", "Jaguars"), ("Buchanan", "Lakers"), ("Coolidge", "Lakers"), ("Davis", "Knights")], setup=_ROSTER),
    case(Q, "Query syntax: LEFT JOIN", "SELECT Roster.LastName, TeamMascot.Mascot FROM ds.Roster LEFT JOIN "
         "ds.TeamMascot ON Roster.SchoolID = TeamMascot.SchoolID ORDER BY LastName",
         [("Adams", "Jaguars"), ("Buchanan", "Lakers"), ("Coolidge", "Lakers"), ("Davis", "Knights"),
          ("Eisenhower", None)], setup=_ROSTER),
    case(Q, "Query syntax: RIGHT JOIN", "SELECT Roster.LastName, TeamMascot.Mascot FROM ds.Roster RIGHT JOIN "
         "ds.TeamMascot ON Roster.SchoolID = TeamMascot.SchoolID ORDER BY Mascot, LastName",
         [("Adams", "Jaguars"), ("Davis", "Knights"), ("Buchanan", "Lakers"), ("Coolidge", "Lakers"),
          (None, "Mustangs")], setup=_ROSTER),
    case(Q, "Query syntax: FULL OUTER JOIN", "SELECT Roster.LastName, TeamMascot.Mascot FROM ds.Roster FULL JOIN "
         "ds.TeamMascot ON Roster.SchoolID = TeamMascot.SchoolID", [("Adams", "Jaguars"), ("Buchanan", "Lakers"),
                                                                     ("Coolidge", "Lakers"), ("Davis", "Knights"),
                                                                     ("Eisenhower", None), (None, "Mustangs")],
         setup=_ROSTER, ordered=False),
    case(Q, "Query syntax: CROSS JOIN", "SELECT COUNT(*) FROM ds.Roster CROSS JOIN ds.TeamMascot", [(20,)],
         setup=_ROSTER),
    case(Q, "Query syntax: comma cross join", "SELECT COUNT(*) FROM ds.Roster, ds.TeamMascot", [(20,)],
         setup=_ROSTER),
    case(Q, "Query syntax: JOIN USING", "SELECT SchoolID, LastName, Mascot FROM ds.Roster INNER JOIN ds.TeamMascot "
         "USING (SchoolID) ORDER BY LastName", [(50, "Adams", "Jaguars"), (52, "Buchanan", "Lakers"),
                                               (52, "Coolidge", "Lakers"), (51, "Davis", "Knights")], setup=_ROSTER),
    case(Q, "Query syntax: SELECT * over a join renames repeated column names",
         "SELECT * FROM ds.Roster JOIN ds.TeamMascot ON Roster.SchoolID = TeamMascot.SchoolID ORDER BY LastName "
         "LIMIT 2", [("Adams", 50, 50, "Jaguars"), ("Buchanan", 52, 52, "Lakers")],
         columns=["LastName", "SchoolID", "SchoolID_1", "Mascot"], setup=_ROSTER),
    case(Q, "Query syntax: table aliases", "SELECT r.LastName FROM ds.Roster AS r WHERE r.SchoolID = 77",
         [("Eisenhower",)], setup=_ROSTER),
    case(Q, "Query syntax: self join", "SELECT a.LastName, b.LastName FROM ds.Roster a JOIN ds.Roster b "
         "ON a.SchoolID = b.SchoolID AND a.LastName < b.LastName", [("Buchanan", "Coolidge")], setup=_ROSTER),
    case(Q, "Query syntax: IN subquery", "SELECT LastName FROM ds.Roster WHERE SchoolID IN (SELECT SchoolID "
         "FROM ds.TeamMascot WHERE Mascot LIKE 'L%') ORDER BY LastName", [("Buchanan",), ("Coolidge",)],
         setup=_ROSTER),
    case(Q, "Query syntax: NOT IN subquery", "SELECT LastName FROM ds.Roster WHERE SchoolID NOT IN "
         "(SELECT SchoolID FROM ds.TeamMascot)", [("Eisenhower",)], setup=_ROSTER),
    case(Q, "Query syntax: correlated EXISTS", "SELECT Mascot FROM ds.TeamMascot t WHERE NOT EXISTS "
         "(SELECT 1 FROM ds.Roster r WHERE r.SchoolID = t.SchoolID)", [("Mustangs",)], setup=_ROSTER),
    case(Q, "Query syntax: correlated scalar subquery", "SELECT Mascot, (SELECT COUNT(*) FROM ds.Roster r "
         "WHERE r.SchoolID = t.SchoolID) AS n FROM ds.TeamMascot t ORDER BY Mascot",
         [("Jaguars", 1), ("Knights", 1), ("Lakers", 2), ("Mustangs", 0)], setup=_ROSTER),
    case(Q, "Query syntax: GROUP BY with COUNT", "SELECT SchoolID, COUNT(*) AS n FROM ds.Roster GROUP BY SchoolID "
         "ORDER BY SchoolID", [(50, 1), (51, 1), (52, 2), (77, 1)], setup=_ROSTER),
    case(Q, "Query syntax: GROUP BY expression alias", "SELECT SchoolID > 51 AS big, COUNT(*) FROM ds.Roster "
         "GROUP BY big ORDER BY big", [(False, 2), (True, 3)], setup=_ROSTER),
    case(Q, "Query syntax: GROUP BY CUBE", "SELECT x, y, COUNT(*) FROM UNNEST([STRUCT(1 AS x, 'a' AS y), (1, 'b')]) "
         "GROUP BY CUBE(x, y) ORDER BY x, y", [(None, None, 2), (None, "a", 1), (None, "b", 1), (1, None, 2),
                                               (1, "a", 1), (1, "b", 1)]),
    case(Q, "Query syntax: GROUP BY GROUPING SETS", "SELECT x, y, COUNT(*) FROM UNNEST([STRUCT(1 AS x, 'a' AS y), "
         "(2, 'a')]) GROUP BY GROUPING SETS ((x), (y)) ORDER BY x, y", [(None, "a", 2), (1, None, 1), (2, None, 1)]),
    case(Q, "Query syntax: GROUPING function", "SELECT x, GROUPING(x), COUNT(*) FROM UNNEST([1, 2]) AS x "
         "GROUP BY ROLLUP(x) ORDER BY x", [(None, 1, 2), (1, 0, 1), (2, 0, 1)]),
    case(Q, "Query syntax: GROUP BY ALL", "SELECT SchoolID, COUNT(*) FROM ds.Roster GROUP BY ALL ORDER BY SchoolID",
         [(50, 1), (51, 1), (52, 2), (77, 1)], setup=_ROSTER),
    case(Q, "Query syntax: SELECT DISTINCT", "SELECT DISTINCT SchoolID FROM ds.Roster ORDER BY SchoolID",
         [(50,), (51,), (52,), (77,)], setup=_ROSTER),
    case(Q, "Query syntax: UNION ALL", "SELECT 1 AS x UNION ALL SELECT 1", [(1,), (1,)]),
    case(Q, "Query syntax: set operation column names come from the first query",
         "SELECT 1 AS a UNION ALL SELECT 2 AS b ORDER BY a", [(1,), (2,)], columns=["a"]),
    case(Q, "Query syntax: ORDER BY ordinal", "SELECT LastName, SchoolID FROM ds.Roster ORDER BY 2 DESC, 1 LIMIT 2",
         [("Eisenhower", 77), ("Buchanan", 52)], setup=_ROSTER),
    case(Q, "Query syntax: ORDER BY NULLS LAST", "SELECT x FROM UNNEST([2, NULL, 1]) AS x ORDER BY x NULLS LAST",
         [(1,), (2,), (None,)]),
    case(Q, "Query syntax: WITH referencing an earlier CTE", "WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y "
         "FROM a) SELECT y FROM b", [(2,)]),
    case(Q, "Query syntax: SELECT list with aliases reused in ORDER BY", "SELECT SchoolID * 2 AS doubled FROM "
         "ds.Roster ORDER BY doubled DESC LIMIT 1", [(154,)], setup=_ROSTER),
    case(Q, "Query syntax: HAVING with an aggregate", "SELECT SchoolID FROM ds.Roster GROUP BY SchoolID "
         "HAVING COUNT(*) > 1", [(52,)], setup=_ROSTER),
    case(Q, "Query syntax: value table in FROM", "SELECT * FROM (SELECT 1 AS a, 'x' AS b) t WHERE t.a = 1",
         [(1, "x")]),
    case(Q, "Query syntax: implicit alias of a struct field", "SELECT s.x FROM (SELECT STRUCT(7 AS x) AS s)", [(7,)],
         columns=["x"]),
    case(Q, "Query syntax: LIMIT 0", "SELECT * FROM ds.Roster LIMIT 0", [], setup=_ROSTER),
    case(O, "Operators: NOT IN with NULL is NULL", "SELECT 1 NOT IN (2, NULL), 1 IN (1, NULL)", [(None, True)]),
    case(O, "Operators: IS TRUE / IS FALSE", "SELECT NULL IS TRUE, NULL IS NOT FALSE, FALSE IS FALSE",
         [(False, True, True)]),
    case(O, "Operators: string concatenation with ||", "SELECT 'a' || 'b' || 'c'", [("abc",)]),
    case(O, "Operators: unary minus and precedence", "SELECT -2 * 3 + 10, 2 + 3 * 4 - 1", [(4, 13)]),
    case(O, "Operators: integer comparison with FLOAT64", "SELECT 1 = 1.0, 2 > 1.5", [(True, True)]),
    case(O, "Operators: array element access by subscript", "SELECT ARRAY<STRING>['a', 'b'][OFFSET(1)]", [("b",)]),
    case(O, "Operators: struct field access", "SELECT STRUCT(1 AS a, STRUCT('z' AS c) AS b).b.c", [("z",)]),
    case(O, "Conversion rules: FLOAT64 to STRING", "SELECT CAST(0.1 + 0.2 AS STRING), CAST(2.0 AS STRING)",
         [("0.30000000000000004", "2")]),
    case(O, "Conversion rules: coercion of INT64 to FLOAT64 in COALESCE", "SELECT COALESCE(1, 2.5)", [(1.0,)],
         types=["FLOAT"]),
    case(O, "Conversion rules: literal coercion in IN", "SELECT 1 IN (1.0, 2.0)", [(True,)]),
    case(WF, "Window function calls: RANGE frame", "SELECT x, SUM(x) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND "
         "CURRENT ROW) FROM UNNEST([1, 2, 4, 5]) AS x ORDER BY x", [(1, 1), (2, 3), (4, 4), (5, 9)]),
    case(WF, "Window function calls: moving average", "SELECT x, AVG(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING "
         "AND 1 FOLLOWING) FROM UNNEST([1, 2, 3, 4]) AS x ORDER BY x", [(1, 1.5), (2, 2.0), (3, 3.0), (4, 3.5)]),
    case(WF, "Window function calls: COUNT(*) OVER partition", "SELECT SchoolID, COUNT(*) OVER (PARTITION BY "
         "SchoolID) FROM ds.Roster ORDER BY SchoolID, 2", [(50, 1), (51, 1), (52, 2), (52, 2), (77, 1)],
         setup=_ROSTER),
    case(WF, "Window function calls: ROW_NUMBER per partition", "SELECT LastName, ROW_NUMBER() OVER (PARTITION BY "
         "SchoolID ORDER BY LastName) FROM ds.Roster WHERE SchoolID = 52 ORDER BY LastName",
         [("Buchanan", 1), ("Coolidge", 2)], setup=_ROSTER),
    case(WF, "Window function calls: named window", "SELECT x, MIN(x) OVER w, MAX(x) OVER w FROM UNNEST([3, 1]) AS x "
         "WINDOW w AS (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) ORDER BY x",
         [(1, 1, 3), (3, 1, 3)]),
]
