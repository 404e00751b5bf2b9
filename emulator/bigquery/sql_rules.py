"""Expression rewrites that make sqlglot's BigQuery → DuckDB output behave like BigQuery.

Each rule fixes one observed divergence (``/work/shared/reference/sqlglot-bigquery-to-duckdb.json``)
and is applied to a freshly parsed statement, children before parents, before DuckDB SQL is
generated. Decisions worth knowing:

* ``CURRENT_TIMESTAMP()`` and friends become literals of the emulator's virtual clock. The
  translation is cached, so the instant is written as :data:`NOW_PLACEHOLDER` and substituted
  by :func:`emulator.bigquery.sql.translate` on every call.
* ``STRUCT(1, 'a')`` (anonymous fields): BigQuery reports anonymous fields; DuckDB needs names, so
  they are named ``_field_1``, ``_field_2``… (fields taken from a column keep its name). Inside
  ``INSERT … VALUES`` an all-positional struct becomes DuckDB ``ROW(…)`` so it is assigned to the
  target column's fields by position, as BigQuery does.
* ``NUMERIC`` → ``DECIMAL(38,9)``; ``BIGNUMERIC`` → ``DECIMAL(38,9)`` too (DuckDB decimals stop
  at 38 digits; values needing BIGNUMERIC's extra range or scale are refused or rounded).
* ``FARM_FINGERPRINT`` → a deterministic 64-bit hash of DuckDB (``hash``): stable and well spread,
  but **not** FarmHash, so values differ from BigQuery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

#: Quoted in generated SQL as ``'__wallaroo_emulator_now__'``; replaced by the virtual clock's instant.
NOW_PLACEHOLDER = "__wallaroo_emulator_now__"

_DUCK_SCALARS = {
    "INT64": "BIGINT", "INTEGER": "BIGINT", "INT": "BIGINT", "FLOAT64": "DOUBLE", "FLOAT": "DOUBLE",
    "NUMERIC": "DECIMAL(38,9)", "DECIMAL": "DECIMAL(38,9)", "BIGNUMERIC": "DECIMAL(38,9)",
    "BIGDECIMAL": "DECIMAL(38,9)", "BOOL": "BOOLEAN", "BOOLEAN": "BOOLEAN", "STRING": "VARCHAR",
    "BYTES": "BLOB", "DATE": "DATE", "TIME": "TIME", "DATETIME": "TIMESTAMP", "TIMESTAMP": "TIMESTAMPTZ",
    "JSON": "JSON", "GEOGRAPHY": "VARCHAR", "INTERVAL": "INTERVAL",
}


class RuleContext:
    """State shared by the rules of one script (positional parameter numbering, variables)."""

    def __init__(self, param_types: dict[str, dict] | list[dict] | None) -> None:
        self.named_types: dict[str, dict] = {}
        self.positional_types: list[dict] = []
        if isinstance(param_types, dict):
            self.named_types = {str(k).lower(): v for k, v in param_types.items()}
        elif isinstance(param_types, list | tuple):
            self.positional_types = list(param_types)
        self.positional_index = 0
        self.variables: dict[str, exp.DataType | None] = {}
        self.subquery_counter = 0

    def fresh_alias(self, stem: str) -> str:
        self.subquery_counter += 1
        return f"_{stem}{self.subquery_counter}"


def duckdb_type_for_parameter(ptype: dict[str, Any]) -> str:
    """DuckDB type for a REST ``parameterType`` (``{"type": "ARRAY", "arrayType": {...}}`` …)."""
    kind = str(ptype.get("type", "STRING")).upper()
    if kind == "ARRAY":
        return duckdb_type_for_parameter(ptype.get("arrayType") or {"type": "STRING"}) + "[]"
    if kind in ("STRUCT", "RECORD"):
        fields = []
        for i, sub in enumerate(ptype.get("structTypes") or []):
            name = sub.get("name") or f"_field_{i + 1}"
            fields.append(f'"{name}" {duckdb_type_for_parameter(sub.get("type") or {})}')
        return f"STRUCT({', '.join(fields)})"
    return _DUCK_SCALARS.get(kind, "VARCHAR")


def _now_timestamp() -> exp.Expression:
    return exp.cast(exp.Literal.string(NOW_PLACEHOLDER), exp.DataType.build("TIMESTAMPTZ"))


def _local_now(zone: exp.Expression | None) -> exp.Expression:
    """``timezone(zone, now)``: the virtual instant as a civil time in ``zone`` (UTC by default)."""
    return exp.Anonymous(this="timezone", expressions=[zone or exp.Literal.string("UTC"), _now_timestamp()])


def _zone_arg(node: exp.Expression) -> exp.Expression | None:
    zone = node.args.get("this") or node.args.get("zone")
    return zone if isinstance(zone, exp.Expression) else None


# ------------------------------------------------------------------------------------------
# individual rules: each takes a node and returns its replacement (or the node itself)
# ------------------------------------------------------------------------------------------
def _current_timestamp(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return _now_timestamp()


def _current_datetime(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return _local_now(_zone_arg(node))


def _current_date(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return exp.cast(_local_now(_zone_arg(node)), exp.DataType.build("DATE"))


def _current_time(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return exp.cast(_local_now(_zone_arg(node)), exp.DataType.build("TIME"))


def _parameter(node: exp.Parameter, ctx: RuleContext) -> exp.Expression:
    ptype = ctx.named_types.get(node.name.lower())
    if ptype is None:
        return node
    return exp.cast(node, exp.DataType.build(duckdb_type_for_parameter(ptype), dialect="duckdb"))


def _placeholder(node: exp.Placeholder, ctx: RuleContext) -> exp.Expression:
    # numbered in a separate pre-pass (source order); see number_placeholders()
    index = node.meta.get("position") if node.meta else None
    if index is None or index >= len(ctx.positional_types):
        return node
    ptype = ctx.positional_types[index]
    return exp.cast(node, exp.DataType.build(duckdb_type_for_parameter(ptype), dialect="duckdb"))


def _datatype(node: exp.DataType, ctx: RuleContext) -> exp.Expression:
    dtype = node.this
    if dtype == exp.DataType.Type.DECIMAL and not node.expressions:
        return exp.DataType.build("DECIMAL(38, 9)")
    if dtype == exp.DataType.Type.BIGDECIMAL:
        return exp.DataType.build("DECIMAL(38, 9)")
    if dtype == exp.DataType.Type.GEOGRAPHY:
        return exp.DataType.build("VARCHAR")
    return node


_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Neg, exp.Mod, exp.Div, exp.IntDiv)


def _literal(node: exp.Literal, ctx: RuleContext) -> exp.Expression:
    if node.is_string:
        return node
    text = node.this
    parent = node.parent
    if isinstance(parent, exp.Cast | exp.DataType | exp.Limit | exp.Offset | exp.Bracket | exp.Interval):
        return node
    if isinstance(parent, exp.Neg) and isinstance(parent.parent, exp.Cast):
        return node
    if any(ch in text for ch in ".eE"):
        return exp.cast(node, exp.DataType.build("DOUBLE"))
    if isinstance(parent, _ARITHMETIC):
        return exp.cast(node, exp.DataType.build("BIGINT"))
    return node


def _extract(node: exp.Extract, ctx: RuleContext) -> exp.Expression:
    part = node.this.name.upper() if isinstance(node.this, exp.Expression) else ""
    if part == "DAYOFWEEK":
        return exp.Paren(this=exp.Add(this=node, expression=exp.Literal.number(1)))
    if part == "WEEK":
        strf = exp.Anonymous(this="strftime", expressions=[node.expression, exp.Literal.string("%U")])
        return exp.cast(strf, exp.DataType.build("BIGINT"))
    if part == "ISOWEEK":
        node.set("this", exp.var("WEEK"))
    return node


_BUCKETS = {"DAY": "1 DAY", "MONTH": "1 MONTH", "QUARTER": "3 MONTH", "YEAR": "1 YEAR"}


def _interval(spec: str) -> exp.Expression:
    amount, unit = spec.split()
    return exp.Interval(this=exp.Literal.string(amount), unit=exp.var(unit))


def _date_trunc(node: exp.DateTrunc, ctx: RuleContext) -> exp.Expression:
    unit = node.args.get("unit")
    part = unit.name.upper() if isinstance(unit, exp.Expression) else ""
    value = node.this
    if part in _BUCKETS:  # time_bucket keeps the input's type (DATE stays DATE)
        return exp.Anonymous(this="time_bucket", expressions=[_interval(_BUCKETS[part]), value])
    if part in ("WEEK", "WEEK(SUNDAY)", "ISOWEEK", "WEEK(MONDAY)"):
        origin = "2000-01-03" if part in ("ISOWEEK", "WEEK(MONDAY)") else "2000-01-02"
        return exp.Anonymous(this="time_bucket", expressions=[
            _interval("7 DAY"), exp.cast(value, exp.DataType.build("DATE")),
            exp.cast(exp.Literal.string(origin), exp.DataType.build("DATE"))])
    if part == "ISOYEAR":
        iso = exp.Anonymous(this="isoyear", expressions=[value])
        return exp.Anonymous(this="make_date", expressions=[
            exp.cast(iso, exp.DataType.build("BIGINT")), exp.Literal.number(1), exp.Literal.number(4)])
    return node


def _date_add(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("DATE"))


_SCALE_TO_MICROS = {None: 1_000_000, 0: 1_000_000, 3: 1000, 6: 1}


def _unix_to_time(node: exp.UnixToTime, ctx: RuleContext) -> exp.Expression:
    scale = node.args.get("scale")
    scale_value = int(scale.this) if isinstance(scale, exp.Literal) else None
    if scale_value not in _SCALE_TO_MICROS:
        return node
    micros: exp.Expression = exp.cast(node.this, exp.DataType.build("BIGINT"))
    factor = _SCALE_TO_MICROS[scale_value]
    if factor != 1:
        micros = exp.Mul(this=micros, expression=exp.Literal.number(factor))
    naive = exp.Anonymous(this="make_timestamp", expressions=[micros])
    return exp.AtTimeZone(this=naive, zone=exp.Literal.string("UTC"))


def _time_to_str(node: exp.TimeToStr, ctx: RuleContext) -> exp.Expression:
    zone = node.args.get("zone")
    if not isinstance(zone, exp.Expression):
        return node
    value = node.this
    if isinstance(value, exp.TsOrDsToTimestamp):
        value = value.this
    value = exp.cast(value, exp.DataType.build("TIMESTAMPTZ"))
    return exp.Anonymous(this="strftime", expressions=[
        exp.Anonymous(this="timezone", expressions=[zone, value]), node.args["format"]])


def _struct(node: exp.Struct, ctx: RuleContext) -> exp.Expression:
    if isinstance(node.parent, exp.Cast):
        return node
    items = node.expressions
    if all(isinstance(e, exp.PropertyEQ | exp.Alias) for e in items):
        return node
    if _inside_insert_values(node) and not any(isinstance(e, exp.PropertyEQ | exp.Alias) for e in items):
        return exp.Anonymous(this="row", expressions=list(items))
    named: list[exp.Expression] = []
    for i, item in enumerate(items):
        if isinstance(item, exp.PropertyEQ | exp.Alias):
            named.append(item)
            continue
        if isinstance(item, exp.Column) and not isinstance(item.this, exp.Star):
            name = item.name
        elif isinstance(item, exp.Dot):
            name = item.name
        else:
            name = f"_field_{i + 1}"
        named.append(exp.PropertyEQ(this=exp.to_identifier(name), expression=item))
    return exp.Struct(expressions=named)


def _inside_insert_values(node: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Values):
            return isinstance(parent.parent, exp.Insert)
        if isinstance(parent, exp.Query | exp.Struct):
            return False
        parent = parent.parent
    return False


def _array_agg(node: exp.ArrayAgg, ctx: RuleContext) -> exp.Expression:
    inner = node.this
    if not isinstance(inner, exp.Limit):
        return node
    limit = inner.expression
    node.set("this", inner.this)
    return exp.Anonymous(this="list_slice", expressions=[node, exp.Literal.number(1), limit])


def _farm_fingerprint(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    arg = node.expressions[0] if node.expressions else node.this
    hashed = exp.cast(exp.Anonymous(this="hash", expressions=[arg]), exp.DataType.build("HUGEINT"))
    shifted = exp.Sub(this=hashed, expression=exp.Literal.number(9223372036854775808))
    return exp.cast(shifted, exp.DataType.build("BIGINT"))


def _safe_func(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return exp.Anonymous(this="try", expressions=[node.this])


def _div(node: exp.Div, ctx: RuleContext) -> exp.Expression:
    divisor = node.expression
    if isinstance(divisor, exp.Literal) and not divisor.is_string:
        try:
            if float(divisor.this) != 0:
                return node
        except ValueError:
            return node
    if isinstance(divisor, exp.Cast) and isinstance(divisor.this, exp.Literal):
        try:
            if float(divisor.this.this) != 0:
                return node
        except ValueError:
            return node
    message = exp.Literal.string(f"division by zero: {node.this.sql('bigquery')} / {divisor.sql('bigquery')}")
    guard = exp.Case(ifs=[exp.If(this=exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)),
                                 true=exp.Anonymous(this="error", expressions=[message]))],
                     default=divisor)
    node.set("expression", exp.Paren(this=guard))
    return node


def shift_offsets(tree: exp.Expression) -> None:
    """``UNNEST(a) AS x WITH OFFSET AS o``: DuckDB's ordinality is 1-based, BigQuery's offset 0-based.

    The UNNEST keeps DuckDB's ``WITH ORDINALITY`` (natural element order) and every reference to
    the offset column inside the enclosing SELECT reads ``(o - 1)``.
    """
    for unnest in list(tree.find_all(exp.Unnest)):
        offset = unnest.args.get("offset")
        if not offset:
            continue
        if not isinstance(offset, exp.Expression):
            offset = exp.to_identifier("offset")
            unnest.set("offset", offset)
        name = offset.name.lower()
        scope = unnest.find_ancestor(exp.Select)
        if scope is None:
            continue
        for column in list(scope.find_all(exp.Column)):
            if column.name.lower() != name or column.meta.get("offset_shifted"):
                continue
            column.meta["offset_shifted"] = True
            shifted: exp.Expression = exp.Paren(this=exp.Sub(this=column.copy(), expression=exp.Literal.number(1)))
            if isinstance(column.parent, exp.Select) and column.arg_key == "expressions":
                shifted = exp.alias_(shifted, column.name)
            column.replace(shifted)


def _variable_column(node: exp.Column, ctx: RuleContext) -> exp.Expression:
    if not ctx.variables or node.table or node.name.lower() not in ctx.variables:
        return node
    value: exp.Expression = exp.Anonymous(this="getvariable", expressions=[exp.Literal.string(node.name.lower())])
    if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
        value = exp.alias_(value, node.name)
    return value


def _ieee_divide(node: exp.Anonymous, ctx: RuleContext) -> exp.Expression:
    a, b = node.expressions[0], node.expressions[1]
    return exp.Paren(this=exp.Div(this=exp.cast(a, exp.DataType.build("DOUBLE")),
                                  expression=exp.cast(b, exp.DataType.build("DOUBLE"))))


#: BigQuery functions sqlglot leaves as anonymous calls, by upper-case name.
_ANONYMOUS: dict[str, Callable[[exp.Anonymous, RuleContext], exp.Expression]] = {
    "IEEE_DIVIDE": _ieee_divide,
}


def _anonymous(node: exp.Anonymous, ctx: RuleContext) -> exp.Expression:
    handler = _ANONYMOUS.get(str(node.this).upper())
    return handler(node, ctx) if handler else node


_RULES: dict[type, Callable[[Any, RuleContext], exp.Expression]] = {
    exp.CurrentTimestamp: _current_timestamp,
    exp.CurrentDatetime: _current_datetime,
    exp.CurrentDate: _current_date,
    exp.CurrentTime: _current_time,
    exp.Parameter: _parameter,
    exp.Placeholder: _placeholder,
    exp.DataType: _datatype,
    exp.Literal: _literal,
    exp.Extract: _extract,
    exp.DateTrunc: _date_trunc,
    exp.DateAdd: _date_add,
    exp.DateSub: _date_add,
    exp.UnixToTime: _unix_to_time,
    exp.TimeToStr: _time_to_str,
    exp.Struct: _struct,
    exp.ArrayAgg: _array_agg,
    exp.Div: _div,
    exp.Column: _variable_column,
    exp.Anonymous: _anonymous,
}
if hasattr(exp, "FarmFingerprint"):
    _RULES[exp.FarmFingerprint] = _farm_fingerprint
if hasattr(exp, "SafeFunc"):
    _RULES[exp.SafeFunc] = _safe_func


def number_placeholders(tree: exp.Expression, ctx: RuleContext) -> None:
    """Give every ``?`` its 0-based position in the script (source order)."""
    for node in tree.dfs():
        if isinstance(node, exp.Placeholder):
            node.meta["position"] = ctx.positional_index
            ctx.positional_index += 1


def apply(tree: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """Rewrite ``tree`` in place (children first) and return its (possibly new) root."""
    shift_offsets(tree)
    nodes = list(tree.dfs())
    root = tree
    for node in reversed(nodes):
        rule = _RULES.get(type(node))
        if rule is None:
            continue
        parent, arg_key, index = node.parent, node.arg_key, node.index
        new = rule(node, ctx)
        if new is node:
            continue
        if parent is None:
            root = new
        else:
            parent.set(arg_key, new, index)
    return root
