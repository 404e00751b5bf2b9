"""Hasura's query semantics over in-memory rows: ``where``, ``order_by``, ``distinct_on``,
``limit``/``offset``, aggregates and jsonb paths.

Rows are plain dicts (column name → Python value: ``int`` for bigint, aware datetimes for
timestamptz, ``str`` for uuid/text/enums, dicts and lists for jsonb). A :class:`RowSource`
gives the rows of a table and follows relationships. Arguments arrive as graphql-core coerced
them (input objects as dicts, scalars through the schema's ``parse_value``).

Semantics follow Hasura on PostgreSQL:

* comparisons with a NULL column are false (SQL), ``_is_null`` tests it; a ``null`` operand
  (``{_eq: null}``, typically an unset nullable variable) makes the condition true, as Hasura's
  boolean-null collapse does;
* an object relationship matches when the related row exists and matches, an array relationship
  when any related row matches; ``<rel>_aggregate: {count: {predicate}}`` counts related rows;
* ``_like``/``_ilike`` are SQL LIKE patterns (``%``, ``_``), ``_similar`` SQL SIMILAR TO,
  ``_regex``/``_iregex`` POSIX-style searches; jsonb ``_contains`` is PostgreSQL's ``@>``,
  ``_cast: {String: ...}`` compares the value's jsonb text form (keys in jsonb order);
* ``asc`` sorts NULLs last and ``desc`` first (PostgreSQL's defaults); rows are otherwise kept in
  primary-key order, which is what an index scan returns. Several keys in *one* ``order_by``
  object apply in the schema's field order (graphql-core coerces input objects field by field;
  Hasura's documentation asks for a list of objects to order by several keys anyway);
* ``distinct_on`` keeps the first row of each group after ordering.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC
from functools import cmp_to_key
from typing import Any, Protocol

from emulator.wallaroo.hasura_schema import NUMERIC, Catalogue, Relationship, Table, is_instant


class QueryError(Exception):
    """A request Hasura refuses while executing it (reported with ``code``, e.g. validation-failed)."""

    def __init__(self, message: str, code: str = "validation-failed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class RowSource(Protocol):
    catalogue: Catalogue

    def rows(self, table: str) -> list[dict[str, Any]]: ...

    def related(self, table: Table, rel: Relationship, row: dict[str, Any]) -> list[dict[str, Any]]: ...


# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------


def normalise(scalar: str, value: Any) -> Any:
    """A column value or operand in the form comparisons use."""
    if value is None:
        return None
    if scalar in ("timestamptz", "timestamp"):
        if isinstance(value, str):
            from emulator.wallaroo.hasura_schema import _parse_timestamp

            value = _parse_timestamp(value)
        if is_instant(value) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value
    if scalar == "uuid":
        return str(value).lower()
    if scalar in ("bigint", "Int"):
        return int(value) if not isinstance(value, bool) else value
    if scalar in ("float8", "numeric", "Float"):
        return float(value) if not isinstance(value, bool) else value
    return value


def jsonb_text(value: Any) -> str:
    """PostgreSQL's text form of a jsonb value (object keys shortest first, then bytewise)."""
    def order(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: order(v[k]) for k in sorted(v, key=lambda k: (len(k.encode()), k.encode()))}
        if isinstance(v, list):
            return [order(x) for x in v]
        return v
    return json.dumps(order(value), ensure_ascii=False)


def jsonb_contains(container: Any, contained: Any) -> bool:
    """PostgreSQL's ``@>`` on jsonb values."""
    if isinstance(contained, dict):
        return isinstance(container, dict) and all(
            k in container and jsonb_contains(container[k], v) for k, v in contained.items())
    if isinstance(contained, list):
        return isinstance(container, list) and all(
            any(jsonb_contains(c, item) for c in container) for item in contained)
    if isinstance(container, list):  # a scalar is contained in an array holding it
        return any(not isinstance(c, dict | list) and _same_scalar(c, contained) for c in container)
    return _same_scalar(container, contained)


def _same_scalar(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


_PATH_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]")


def json_path(value: Any, path: str | None) -> Any:
    """The part of a jsonb value at a Hasura ``path`` (``$.a.b[0]``, ``a.b``, ``["k"]``); NULL when absent."""
    if path is None:
        return value
    text = path.strip()
    if text.startswith("$"):
        text = text[1:]
    pos = 0
    current = value
    while pos < len(text):
        match = _PATH_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"parse json path error: invalid path {path!r}", "parse-failed")
        pos = match.end()
        key, index, quoted, single = match.groups()
        if index is not None:
            current = current[int(index)] if isinstance(current, list) and int(index) < len(current) else None
        else:
            name = key if key is not None else (quoted if quoted is not None else single)
            current = current.get(name) if isinstance(current, dict) else None
        if current is None:
            return None
    return current


def _like_regex(pattern: str, similar: bool = False) -> str:
    out = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(re.escape(ch))
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif similar and ch in "|*+?()[]{}":
            out.append(ch)
        else:
            out.append(re.escape(ch))
    return "^(?:" + "".join(out) + ")$"


def _text_op(op: str, value: str, operand: str) -> bool:
    if op in ("_like", "_nlike"):
        hit = re.match(_like_regex(operand), value, re.S) is not None
    elif op in ("_ilike", "_nilike"):
        hit = re.match(_like_regex(operand), value, re.S | re.I) is not None
    elif op in ("_similar", "_nsimilar"):
        hit = re.match(_like_regex(operand, similar=True), value, re.S) is not None
    elif op in ("_regex", "_nregex"):
        hit = re.search(operand, value) is not None
    else:  # _iregex, _niregex
        hit = re.search(operand, value, re.I) is not None
    return not hit if op.startswith("_n") else hit


def _compare(a: Any, b: Any) -> int:
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        a, b = jsonb_text(a), jsonb_text(b)
    try:
        return (a > b) - (a < b)
    except TypeError:
        return (str(a) > str(b)) - (str(a) < str(b))


def compare_column(scalar: str, is_list: bool, value: Any, ops: dict[str, Any]) -> bool:
    """Whether a column value satisfies a ``<type>_comparison_exp``."""
    for op, raw in ops.items():
        if op == "_is_null":
            if raw is None:
                continue
            if (value is None) != bool(raw):
                return False
            continue
        if raw is None:  # boolean-null collapse
            continue
        if op == "_cast":
            text_ops = raw.get("String") or {}
            if value is None or not compare_column("String", False, jsonb_text(value), text_ops):
                return False
            continue
        if value is None:
            return False
        if is_list:
            if not _compare_array(scalar, value, op, raw):
                return False
            continue
        left = normalise(scalar, value)
        if op in ("_in", "_nin"):
            hit = any(_compare(left, normalise(scalar, x)) == 0 for x in raw if x is not None)
            if hit != (op == "_in"):
                return False
        elif op in ("_eq", "_neq", "_gt", "_gte", "_lt", "_lte"):
            c = _compare(left, normalise(scalar, raw))
            ok = {"_eq": c == 0, "_neq": c != 0, "_gt": c > 0, "_gte": c >= 0, "_lt": c < 0, "_lte": c <= 0}[op]
            if not ok:
                return False
        elif op == "_contains":
            if not jsonb_contains(value, raw):
                return False
        elif op == "_contained_in":
            if not jsonb_contains(raw, value):
                return False
        elif op == "_has_key":
            if not (isinstance(value, dict) and raw in value):
                return False
        elif op == "_has_keys_all":
            if not (isinstance(value, dict) and all(k in value for k in raw)):
                return False
        elif op == "_has_keys_any":
            if not (isinstance(value, dict) and any(k in value for k in raw)):
                return False
        else:
            if not _text_op(op, str(value), str(raw)):
                return False
    return True


def _compare_array(scalar: str, value: list[Any], op: str, raw: Any) -> bool:
    left = [normalise(scalar, v) for v in value]
    if op == "_contains":
        return all(normalise(scalar, x) in left for x in raw)
    if op == "_contained_in":
        right = [normalise(scalar, x) for x in raw]
        return all(x in right for x in left)
    if op in ("_in", "_nin"):
        hit = any(left == [normalise(scalar, v) for v in item] for item in raw)
        return hit == (op == "_in")
    right = [normalise(scalar, x) for x in raw]
    c = (left > right) - (left < right)
    return {"_eq": c == 0, "_neq": c != 0, "_gt": c > 0, "_gte": c >= 0, "_lt": c < 0, "_lte": c <= 0}[op]


# ------------------------------------------------------------------------------------------
# where
# ------------------------------------------------------------------------------------------


def matches(src: RowSource, table: Table, row: dict[str, Any], exp: dict[str, Any] | None) -> bool:
    """Whether ``row`` satisfies a ``<table>_bool_exp``."""
    if not exp:
        return True
    for key, sub in exp.items():
        if sub is None:
            continue
        if key == "_and":
            if not all(matches(src, table, row, e) for e in sub):
                return False
        elif key == "_or":
            if not any(matches(src, table, row, e) for e in sub):
                return False
        elif key == "_not":
            if matches(src, table, row, sub):
                return False
        elif key in table.columns:
            column = table.columns[key]
            if not compare_column(column.type, column.is_list, row.get(key), sub):
                return False
        elif key in table.relationships:
            rel = table.relationships[key]
            target = src.catalogue.tables[rel.target]
            if not any(matches(src, target, r, sub) for r in src.related(table, rel, row)):
                return False
        elif key.endswith("_aggregate") and key[: -len("_aggregate")] in table.relationships:
            rel = table.relationships[key[: -len("_aggregate")]]
            if not _aggregate_predicate(src, rel, table, row, sub):
                return False
        else:  # the schema admits nothing else
            raise QueryError(f"field '{key}' not found in type: '{table.name}_bool_exp'")
    return True


def _aggregate_predicate(src: RowSource, rel: Relationship, table: Table, row: dict[str, Any],
                         exp: dict[str, Any]) -> bool:
    target = src.catalogue.tables[rel.target]
    count_exp = exp.get("count")
    if not count_exp:
        return True
    related = [r for r in src.related(table, rel, row) if matches(src, target, r, count_exp.get("filter"))]
    n = count_rows(related, count_exp.get("arguments"), bool(count_exp.get("distinct")))
    return compare_column("Int", False, n, count_exp["predicate"])


# ------------------------------------------------------------------------------------------
# order_by, distinct_on, limit, offset
# ------------------------------------------------------------------------------------------

_DIRECTIONS = {
    "asc": (False, False), "asc_nulls_last": (False, False), "asc_nulls_first": (False, True),
    "desc": (True, True), "desc_nulls_first": (True, True), "desc_nulls_last": (True, False),
}


def _order_terms(src: RowSource, table: Table, spec: dict[str, Any]) -> list[tuple[Callable[[dict[str, Any]], Any], str]]:
    """``(value of a row, direction)`` per term of one ``<table>_order_by`` object."""
    terms: list[tuple[Callable[[dict[str, Any]], Any], str]] = []
    for key, direction in spec.items():
        if direction is None:
            continue
        if key in table.columns:
            scalar = table.columns[key].type
            terms.append(((lambda r, k=key, s=scalar: normalise(s, r.get(k))), direction))
        elif key in table.relationships:
            rel = table.relationships[key]
            target = src.catalogue.tables[rel.target]
            for inner, inner_dir in _order_terms(src, target, direction):
                def value(r: dict[str, Any], rel: Relationship = rel, inner: Any = inner) -> Any:
                    found = src.related(table, rel, r)
                    return inner(found[0]) if found else None
                terms.append((value, inner_dir))
        elif key.endswith("_aggregate"):
            rel = table.relationships[key[: -len("_aggregate")]]
            target = src.catalogue.tables[rel.target]
            for fn, inner_dir in direction.items():
                if fn == "count":
                    terms.append(((lambda r, rel=rel: len(src.related(table, rel, r))), inner_dir))
                    continue
                for column, col_dir in inner_dir.items():
                    def agg(r: dict[str, Any], rel: Relationship = rel, fn: str = fn, column: str = column,
                            target: Table = target) -> Any:
                        return aggregate_function(fn, target, column, src.related(table, rel, r))
                    terms.append((agg, col_dir))
    return terms


def order_rows(src: RowSource, table: Table, rows: list[dict[str, Any]],
               order_by: Sequence[dict[str, Any]] | dict[str, Any] | None) -> list[dict[str, Any]]:
    if not order_by:
        return rows
    specs = [order_by] if isinstance(order_by, dict) else list(order_by)
    terms = [t for spec in specs for t in _order_terms(src, table, spec)]

    def cmp(a: dict[str, Any], b: dict[str, Any]) -> int:
        for value, direction in terms:
            descending, nulls_first = _DIRECTIONS[direction]
            va, vb = value(a), value(b)
            if va is None or vb is None:
                if va is None and vb is None:
                    continue
                return (-1 if nulls_first else 1) * (1 if va is None else -1)
            c = _compare(va, vb)
            if c:
                return -c if descending else c
        return 0

    return sorted(rows, key=cmp_to_key(cmp))


def select(src: RowSource, table: Table, rows: Iterable[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply ``where``, ``order_by``, ``distinct_on``, ``offset`` and ``limit`` (in Hasura's order)."""
    where = args.get("where")
    selected = [r for r in rows if matches(src, table, r, where)]
    selected = order_rows(src, table, selected, args.get("order_by"))
    distinct = args.get("distinct_on")
    if distinct:
        columns = [distinct] if isinstance(distinct, str) else list(distinct)
        _check_distinct_order(columns, args.get("order_by"))
        seen: set[str] = set()
        kept = []
        for row in selected:
            key = jsonb_text([_plain(row.get(c)) for c in columns])
            if key not in seen:
                seen.add(key)
                kept.append(row)
        selected = kept
    offset = args.get("offset")
    if offset:
        if offset < 0:
            raise QueryError('"offset" must be a non-negative integer')
        selected = selected[offset:]
    limit = args.get("limit")
    if limit is not None:
        if limit < 0:
            raise QueryError('"limit" must be a non-negative integer')
        selected = selected[:limit]
    return selected


def _check_distinct_order(columns: list[str], order_by: Any) -> None:
    """PostgreSQL's rule, which Hasura reports: ``order_by`` must start with the distinct columns."""
    if not order_by:
        return
    specs = [order_by] if isinstance(order_by, dict) else list(order_by)
    leading = [k for spec in specs for k in spec][: len(columns)]
    if set(leading) != set(columns):
        raise QueryError('"distinct_on" columns must match initial "order_by" columns')


def _plain(value: Any) -> Any:
    return value.isoformat() if is_instant(value) else value


# ------------------------------------------------------------------------------------------
# aggregates
# ------------------------------------------------------------------------------------------


def count_rows(rows: list[dict[str, Any]], columns: Sequence[str] | str | None, distinct: bool) -> int:
    """SQL ``COUNT(*)`` / ``COUNT([DISTINCT] columns)`` (rows with a NULL in the columns do not count)."""
    if not columns:
        return len({jsonb_text({k: _plain(v) for k, v in r.items()}) for r in rows}) if distinct else len(rows)
    cols = [columns] if isinstance(columns, str) else list(columns)
    values = [tuple(_plain(r.get(c)) for c in cols) for r in rows]
    values = [v for v in values if all(x is not None for x in v)]
    return len({jsonb_text(list(v)) for v in values}) if distinct else len(values)


def aggregate_function(fn: str, table: Table, column: str, rows: list[dict[str, Any]]) -> Any:
    """``max``/``min``/``sum``/``avg`` of a column over rows (NULL over no values)."""
    scalar = table.columns[column].type
    values = [r.get(column) for r in rows if r.get(column) is not None]
    if not values:
        return None
    if fn in ("max", "min"):
        keyed = sorted(values, key=cmp_to_key(lambda a, b: _compare(normalise(scalar, a), normalise(scalar, b))))
        return keyed[-1] if fn == "max" else keyed[0]
    numbers = [normalise(scalar, v) for v in values]
    if fn == "sum":
        total = sum(numbers)
        return int(total) if scalar in ("bigint", "Int") else total
    if fn == "avg":
        return float(statistics.fmean(numbers))
    raise QueryError(f"aggregate function '{fn}' is not available")


class Aggregate:
    """What ``<table>_aggregate`` resolves to: the selected rows of one table."""

    def __init__(self, table: Table, rows: list[dict[str, Any]]) -> None:
        self.table = table
        self.rows = rows

    def fields(self, fn: str) -> dict[str, Any]:
        columns = self.table.comparable_columns() if fn in ("max", "min") else self.table.numeric_columns()
        return {c.name: aggregate_function(fn, self.table, c.name, self.rows) for c in columns
                if fn in ("max", "min") or c.type in NUMERIC}
