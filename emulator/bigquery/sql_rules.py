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
* ``NUMERIC`` → ``DECIMAL(38,9)``; ``BIGNUMERIC`` → ``DECIMAL(38,9)`` in expressions, but a table's
  BIGNUMERIC column is VARCHAR (its exact text, :mod:`emulator.bigquery.bignumeric`): read inside an
  expression it becomes ``TRY_CAST(col AS DECIMAL(38,9))``; selected as it is, it keeps every digit.
* ``FARM_FINGERPRINT`` → ``bq_farm_fingerprint`` (FarmHash Fingerprint64 in Python, registered on the
  backend's connection by :func:`emulator.bigquery.sql_functions.register`). A BYTES argument is
  recognised from its expression (literal, FROM_BASE64, CAST … AS BYTES…); columns are taken as STRING.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

from emulator.bigquery import sql_typing as typing_
from emulator.bigquery.errors import InvalidQuery

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
        #: parameters referenced by the statement being translated: names (named) or 0-based positions
        self.used_parameters: list[str | int] = []
        #: named parameters whose names DuckDB cannot spell: name → the identifier the SQL uses
        self.renamed_parameters: dict[str, str] = {}
        self.subquery_counter = 0
        #: BIGNUMERIC columns of the tables the statement reads (lower case): where typing found no
        #: type for a column (UPDATE, DELETE), its name says it is stored as text
        self.bignumeric_names: set[str] = set()

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
    if kind == "RANGE":
        element = duckdb_type_for_parameter(ptype.get("rangeElementType") or {"type": "DATE"})
        return f'STRUCT("start" {element}, "end" {element})'
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


@functools.cache
def _duckdb_keywords() -> frozenset[str]:
    """DuckDB's reserved words (``$select`` is not a parameter for its parser)."""
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute("SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'")
        return frozenset(str(r[0]).upper() for r in rows.fetchall())


def _parameter(node: exp.Parameter, ctx: RuleContext) -> exp.Expression:
    ident = node.this
    if isinstance(ident, exp.Identifier | exp.Var):
        # @`name` (the DB-API writes every parameter so): DuckDB binds a bare $name; other names
        # (the DB-API's %(a "weird" `name`)s) get a stable identifier, reported in parameter_names
        name = ident.name
        plain = name.replace("_", "a").isascii() and name.replace("_", "a").isalnum() and not name[:1].isdigit() \
            and name.upper() not in _duckdb_keywords()  # DuckDB reads $select as a keyword, not a parameter
        if plain:
            node.set("this", exp.to_identifier(name, quoted=False))
        else:
            import hashlib

            alias = "p_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:16]
            ctx.renamed_parameters[name] = alias
            node.set("this", exp.to_identifier(alias, quoted=False))
        ctx.used_parameters.append(name)
        ptype = ctx.named_types.get(name.lower())
        if ptype is None:
            return node
        return _typed_parameter(node, ptype)
    ctx.used_parameters.append(node.name)
    return node


def _placeholder(node: exp.Placeholder, ctx: RuleContext) -> exp.Expression:
    # numbered in a separate pre-pass (source order); see number_placeholders()
    index = node.meta.get("position") if node.meta else None
    if index is not None:
        ctx.used_parameters.append(index)
    if index is None or index >= len(ctx.positional_types):
        return node
    return _typed_parameter(node, ctx.positional_types[index])


def _typed_parameter(node: exp.Expression, ptype: dict[str, Any]) -> exp.Expression:
    if str(ptype.get("type") or "").upper() in ("BIGNUMERIC", "BIGDECIMAL") and _bare_projection(node):
        return exp.cast(node, exp.DataType.build("VARCHAR"))  # bound as its decimal text: every digit kept
    return exp.cast(node, exp.DataType.build(duckdb_type_for_parameter(ptype), dialect="duckdb"))


def _datatype(node: exp.DataType, ctx: RuleContext) -> exp.Expression:
    dtype = node.this
    if dtype == exp.DataType.Type.DECIMAL and not node.expressions:
        return exp.DataType.build("DECIMAL(38, 9)")
    if dtype == exp.DataType.Type.BIGDECIMAL:
        # a table's BIGNUMERIC column is stored as its decimal text (emulator.bigquery.bignumeric)
        return exp.DataType.build("VARCHAR" if _declares_column(node) else "DECIMAL(38, 9)")
    if dtype == exp.DataType.Type.GEOGRAPHY:
        return exp.DataType.build("VARCHAR")
    if dtype == exp.DataType.Type.RANGE:
        return _range_struct_type(node)
    return node


#: RANGE element types (already translated by the time RANGE<T> is) → the element's DuckDB type.
_RANGE_ELEMENTS = {exp.DataType.Type.DATE: "DATE", exp.DataType.Type.DATETIME: "TIMESTAMP",
                   exp.DataType.Type.TIMESTAMP: "TIMESTAMP", exp.DataType.Type.TIMESTAMPTZ: "TIMESTAMPTZ"}


def _range_struct_type(node: exp.DataType) -> exp.DataType:
    """``RANGE<T>`` is held as ``STRUCT("start" T, "end" T)`` (a NULL bound is UNBOUNDED)."""
    element = node.expressions[0] if node.expressions else None
    duck_element = _RANGE_ELEMENTS.get(element.this) if isinstance(element, exp.DataType) else None
    if duck_element is None:
        raise InvalidQuery("RANGE element type must be DATE, DATETIME or TIMESTAMP")
    return exp.DataType.build(f'STRUCT("start" {duck_element}, "end" {duck_element})', dialect="duckdb")


def _is_range_type(dtype: exp.Expression | None) -> str | None:
    """The element type of a translated RANGE type (a STRUCT of exactly start/end), else None."""
    if not isinstance(dtype, exp.DataType) or dtype.this != exp.DataType.Type.STRUCT:
        return None
    names = [m.name.lower() for m in dtype.expressions if isinstance(m, exp.ColumnDef)]
    if names != ["start", "end"] or len(dtype.expressions) != 2:
        return None
    kinds = [m.args.get("kind") for m in dtype.expressions]
    if not all(isinstance(k, exp.DataType) for k in kinds) or kinds[0].sql("duckdb") != kinds[1].sql("duckdb"):
        return None
    return kinds[0].sql("duckdb")


_RANGE_LITERAL = re.compile(r"^\[\s*([^,]*?)\s*,\s*([^,]*?)\s*\)$")


def _range_literal(text: str, element: str) -> exp.Expression:
    """``RANGE<T> '[a, b)'``: each bound a T literal, ``UNBOUNDED``/``NULL`` open; a must be before b."""
    match = _RANGE_LITERAL.match(text.strip())
    if match is None:
        raise InvalidQuery(f"Invalid RANGE literal: '{text}'; expected '[start, end)'")
    bounds = [None if b.upper() in ("UNBOUNDED", "NULL") else b for b in match.groups()]
    values = [exp.cast(exp.Null() if b is None else exp.Literal.string(b), exp.DataType.build(element,
                                                                                         dialect="duckdb"))
              for b in bounds]
    check = "CASE WHEN {0} >= {1} THEN bq_raise('Invalid RANGE literal: start must be before end') END"
    return duck("struct_pack(\"start\" := coalesce(" + check + ", {0}), \"end\" := {1})", *values)


def _range_constructor(node: exp.Anonymous, ctx: RuleContext) -> exp.Expression:
    """``RANGE(start, end)``: bounds of one type (a NULL bound takes the other's type)."""
    if len(node.expressions) != 2:
        raise InvalidQuery("RANGE takes two arguments: RANGE(start, end)")
    low, high = node.expressions
    return duck("struct_pack(\"start\" := CASE WHEN false THEN {1} ELSE {0} END, "
                "\"end\" := CASE WHEN false THEN {0} ELSE {1} END)", low, high)


def _range_bound(name: str) -> Callable[[exp.Anonymous, RuleContext], exp.Expression]:
    def rule(node: exp.Anonymous, ctx: RuleContext) -> exp.Expression:
        if len(node.expressions) != 1:
            raise InvalidQuery(f"RANGE_{name.upper()} takes one RANGE argument")
        return duck(f"struct_extract({{0}}, '{name}')", node.expressions[0])
    return rule
def _declares_column(node: exp.Expression) -> bool:
    """True for a type inside a table's column declaration (CREATE TABLE, ALTER TABLE ADD COLUMN),
    false inside a CAST or a variable's declaration."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Cast | exp.TryCast):
            return False
        if isinstance(parent, exp.Schema | exp.Alter):
            return True
        parent = parent.parent
    return False


def _bare_projection(node: exp.Expression) -> bool:
    """True for an expression selected as it is by the statement's own result (not a subquery's,
    whose columns outer expressions read): a BIGNUMERIC column or parameter there keeps its digits."""
    parent = node.parent
    if isinstance(parent, exp.Alias):
        node, parent = parent, parent.parent
    if not (isinstance(parent, exp.Select) and node.arg_key == "expressions"):
        return False
    owner = parent.parent
    while isinstance(owner, exp.SetOperation):
        owner = owner.parent
    return owner is None or isinstance(owner, exp.Insert | exp.Create)


def _is_bignumeric(node: exp.Expression, ctx: RuleContext) -> bool:
    dtype = typing_.known(node)
    if dtype is None:
        return isinstance(node, exp.Column) and node.name.lower() in ctx.bignumeric_names
    return dtype.this == exp.DataType.Type.BIGDECIMAL


def _assigned_column(node: exp.Column) -> bool:
    """The column an UPDATE/MERGE ``SET col = …`` assigns (no expression may replace it)."""
    parent = node.parent
    return isinstance(parent, exp.EQ) and node.arg_key == "this" and isinstance(parent.parent, exp.Update)


def _column(node: exp.Column, ctx: RuleContext) -> exp.Expression:
    new = _variable_column(node, ctx)
    if new is not node or not _is_bignumeric(node, ctx) or _bare_projection(node) or _assigned_column(node):
        return new
    if node.find_ancestor(exp.Group, exp.Schema, exp.ColumnDef) is not None:
        return node
    # a stored BIGNUMERIC column (VARCHAR text) read by an expression: its value as NUMERIC does it
    # (NULL beyond NUMERIC's range: BigQuery's wider BIGNUMERIC arithmetic is a documented gap)
    return exp.TryCast(this=node, to=exp.DataType.build("DECIMAL(38, 9)"))


_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Mod, exp.Div, exp.IntDiv)


def _literal(node: exp.Literal, ctx: RuleContext) -> exp.Expression:
    if node.is_string:
        return node
    text = node.this
    parent = node.parent
    if isinstance(parent, exp.Cast | exp.DataType | exp.Limit | exp.Offset | exp.Bracket | exp.Interval):
        return node
    if isinstance(parent, exp.Neg) and isinstance(parent.parent, exp.Cast):
        return node
    if text == "9223372036854775808" and isinstance(parent, exp.Neg):
        # the INT64 minimum is an INT64 literal in GoogleSQL (DuckDB reads 9223372036854775808 as HUGEINT)
        parent.meta["int64_min"] = True
        return node
    if any(ch in text for ch in ".eE"):
        if _numeric_context(node):  # literal coercion: a FLOAT64 literal beside NUMERIC is NUMERIC
            return exp.cast(node, exp.DataType.build("DECIMAL(38, 9)"))
        return exp.cast(node, exp.DataType.build("DOUBLE"))
    if isinstance(parent, _ARITHMETIC):
        return exp.cast(node, exp.DataType.build("BIGINT"))
    return node


_NUMERICS = ("NUMERIC", "BIGNUMERIC")
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ)


def _numeric_context(node: exp.Expression) -> bool:
    """True when GoogleSQL coerces the literal ``node`` to NUMERIC (its context is NUMERIC/BIGNUMERIC)."""
    parent = node.parent
    while isinstance(parent, exp.Paren | exp.Neg):
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if isinstance(parent, _ARITHMETIC) or isinstance(parent, exp.Coalesce | exp.Greatest | exp.Least | exp.If
                                                               | exp.Case | exp.Nullif):
        return typing_.is_kind(parent, *_NUMERICS)
    if isinstance(parent, _COMPARISONS):
        other = parent.expression if node is parent.this else parent.this
        return typing_.is_kind(other, *_NUMERICS)
    if isinstance(parent, exp.In | exp.Between):
        return typing_.is_kind(parent.this, *_NUMERICS)
    return False


def raise_(message: exp.Expression | str) -> exp.Expression:
    """A call raising BigQuery's runtime error ``message`` (see :mod:`emulator.bigquery.sql_errors`)."""
    from emulator.bigquery.sql_functions import RAISE

    text = exp.Literal.string(message) if isinstance(message, str) else message
    return exp.Anonymous(this=RAISE, expressions=[text])


def _value_text(node: exp.Expression) -> exp.Expression:
    """SQL spelling ``node``'s runtime value as BigQuery prints it in error messages."""
    if typing_.is_kind(node, "FLOAT64") or (isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DOUBLE):
        return duck("regexp_replace(CAST({0} AS VARCHAR), '\\.0$', '')", node)
    if typing_.is_kind(node, *_NUMERICS):
        return duck("CASE WHEN {0} = 0 THEN '0' ELSE rtrim(rtrim(CAST({0} AS VARCHAR), '0'), '.') END", node)
    return exp.cast(node, exp.DataType.build("VARCHAR"))


def _as_numeric(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DECIMAL:
        return node
    return exp.cast(node, exp.DataType.build("DECIMAL(38, 9)"))


def _nonzero_literal(node: exp.Expression) -> bool:
    value = node.this if isinstance(node, exp.Cast) else node
    if isinstance(value, exp.Literal) and not value.is_string:
        try:
            return float(value.this) != 0
        except ValueError:
            return False
    return False


def _zero_guard(divisor: exp.Expression, message: exp.Expression) -> exp.Expression:
    """``divisor``, or BigQuery's division-by-zero error where it is 0."""
    return exp.Paren(this=exp.Case(ifs=[exp.If(this=exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)),
                                              true=raise_(message))], default=divisor))


def _division_message(a: exp.Expression, b: exp.Expression, template: str) -> exp.Expression:
    """``'division by zero: ' || <a> || ' / ' || <b>`` with the operands' runtime values."""
    head, middle, tail = template.split("{}")
    parts: list[exp.Expression] = [exp.Literal.string(head), _value_text(a.copy()), exp.Literal.string(middle),
                                   _value_text(b.copy())]
    if tail:
        parts.append(exp.Literal.string(tail))
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part)
    return out


def _mul(node: exp.Mul, ctx: RuleContext) -> exp.Expression:
    """NUMERIC ``*`` is exact with 9 fractional digits (DuckDB's DECIMAL product overflows early)."""
    from emulator.bigquery.sql_functions import NUMERIC_MULTIPLY

    if not typing_.is_kind(node, *_NUMERICS):
        return node
    return exp.Anonymous(this=NUMERIC_MULTIPLY, expressions=[_as_numeric(node.this), _as_numeric(node.expression)])


def _avg(node: exp.Avg, ctx: RuleContext) -> exp.Expression:
    """AVG of NUMERIC is NUMERIC (DuckDB averages decimals as DOUBLE): SUM / COUNT, exactly."""
    from emulator.bigquery.sql_functions import NUMERIC_DIVIDE

    if isinstance(node.parent, exp.Window) or not typing_.is_kind(node, *_NUMERICS):
        return node
    return exp.Anonymous(this=NUMERIC_DIVIDE, expressions=[
        _as_numeric(exp.Sum(this=node.this.copy())), _as_numeric(exp.Count(this=node.this.copy()))])


def _window(node: exp.Window, ctx: RuleContext) -> exp.Expression:
    """``AVG(numeric) OVER (…)`` → ``SUM(…) OVER (…) / COUNT(…) OVER (…)`` as NUMERIC."""
    from emulator.bigquery.sql_functions import NUMERIC_DIVIDE

    inner = node.this
    if isinstance(inner, exp.Sum) and typing_.is_kind(inner, "INT64"):
        return _checked_int64_sum(node)
    if not (isinstance(inner, exp.Avg) and typing_.is_kind(inner, *_NUMERICS)):
        return node
    total, count = node.copy(), node.copy()
    total.set("this", exp.Sum(this=inner.this.copy()))
    count.set("this", exp.Count(this=inner.this.copy()))
    return exp.Anonymous(this=NUMERIC_DIVIDE, expressions=[_as_numeric(total), _as_numeric(count)])


def _safe_divide(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """SAFE_DIVIDE of NUMERIC operands is NUMERIC, NULL where dividing fails."""
    from emulator.bigquery.sql_functions import NUMERIC_DIVIDE

    if not typing_.is_kind(node, *_NUMERICS):
        return node
    call = exp.Anonymous(this=NUMERIC_DIVIDE, expressions=[_as_numeric(node.this), _as_numeric(node.expression)])
    return exp.Anonymous(this="try", expressions=[call])


_INT64_MAX = 9223372036854775807


def _sum(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """SUM of INT64 is INT64 and fails past its range (DuckDB sums into a 128-bit integer)."""
    if isinstance(node.parent, exp.Window | exp.Pivot) or not typing_.is_kind(node, "INT64"):
        return node  # a PIVOT takes exactly one aggregate call
    return _checked_int64_sum(node)


def _checked_int64_sum(total: exp.Expression) -> exp.Expression:
    return duck(f"CASE WHEN {{0}} > {_INT64_MAX} OR {{0}} < -{_INT64_MAX} - 1 THEN "
                f"bq_raise('Error in SUM aggregation: integer overflow') ELSE CAST({{0}} AS BIGINT) END", total)


def _int_div(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """DIV / MOD by zero fail with the operands' values (DuckDB's message quotes the source text)."""
    if _nonzero_literal(node.expression):
        return node
    name = "DIV" if isinstance(node, exp.IntDiv) else "MOD"
    message = _division_message(node.this, node.expression, f"division by zero: {name}({{}}, {{}})")
    node.set("expression", _zero_guard(node.expression, message))
    return node


def _neg(node: exp.Neg, ctx: RuleContext) -> exp.Expression:
    if node.meta.get("int64_min"):
        return exp.cast(exp.Literal.number("-9223372036854775808"), exp.DataType.build("BIGINT"))
    return node


def _extract(node: exp.Extract, ctx: RuleContext) -> exp.Expression:
    part = node.this.name.upper() if isinstance(node.this, exp.Expression) else ""
    if part == "DAYOFWEEK":
        return exp.Paren(this=exp.Add(this=node, expression=exp.Literal.number(1)))
    if part == "WEEK":
        strf = exp.Anonymous(this="strftime", expressions=[node.expression, exp.Literal.string("%U")])
        return exp.cast(strf, exp.DataType.build("BIGINT"))
    if part in ("MICROSECOND", "MILLISECOND"):  # the sub-second part only (DuckDB counts the seconds too)
        return exp.Paren(this=exp.Mod(this=node, expression=exp.Literal.number(1_000_000 if part == "MICROSECOND"
                                                                                else 1000)))
    if part == "ISOWEEK":
        node.set("this", exp.var("WEEK"))
    if part in ("DATE", "TIME", "DATETIME"):
        target = {"DATE": "DATE", "TIME": "TIME", "DATETIME": "TIMESTAMP"}[part]
        return exp.cast(node.expression, exp.DataType.build(target))
    return node


_BUCKETS = {"DAY": "1 DAY", "MONTH": "1 MONTH", "QUARTER": "3 MONTH", "YEAR": "1 YEAR"}


def _interval(spec: str) -> exp.Expression:
    amount, unit = spec.split()
    return exp.Interval(this=exp.Literal.string(amount), unit=exp.var(unit))


_WEEKDAY_ORIGIN = {"SUNDAY": "2000-01-02", "MONDAY": "2000-01-03", "TUESDAY": "2000-01-04",
                   "WEDNESDAY": "2000-01-05", "THURSDAY": "2000-01-06", "FRIDAY": "2000-01-07",
                   "SATURDAY": "2000-01-08"}


def _date_trunc(node: exp.DateTrunc, ctx: RuleContext) -> exp.Expression:
    unit = node.args.get("unit")
    part = unit.name.upper() if isinstance(unit, exp.Expression) else ""
    if isinstance(unit, exp.WeekStart):
        part = f"WEEK({unit.name.upper()})"
    value = node.this
    if part in _BUCKETS:  # time_bucket keeps the input's type (DATE stays DATE)
        return exp.Anonymous(this="time_bucket", expressions=[_interval(_BUCKETS[part]), value])
    if part in ("WEEK", "ISOWEEK") or part.startswith("WEEK("):
        day = "MONDAY" if part == "ISOWEEK" else part[5:-1] if part.startswith("WEEK(") else "SUNDAY"
        origin = _WEEKDAY_ORIGIN.get(day, "2000-01-02")
        return exp.Anonymous(this="time_bucket", expressions=[
            _interval("7 DAY"), exp.cast(value, exp.DataType.build("DATE")),
            exp.cast(exp.Literal.string(origin), exp.DataType.build("DATE"))])
    if part == "ISOYEAR":
        return duck("make_date(CAST(isoyear({0}) AS BIGINT), 1, 4) - "
                    "CAST(isodow(make_date(CAST(isoyear({0}) AS BIGINT), 1, 4)) - 1 AS INTEGER)", value)
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


#: format elements DuckDB's strftime lacks or spells differently: such formats use a Python function
_PYTHON_FORMAT_ELEMENTS = ("%E", "%Q", "%s", "%Z", "%z", "%C", "%G", "%V", "%g", "%u", "%J", "%P", "%h", "%N")


def _python_format(node: exp.TimeToStr) -> exp.Expression | None:
    from emulator.bigquery.sql_functions import FORMAT_CIVIL, FORMAT_TIMESTAMP

    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string and any(e in fmt.this for e in _PYTHON_FORMAT_ELEMENTS)):
        return None
    value = node.this
    zone = node.args.get("zone")
    if isinstance(value, exp.TsOrDsToTimestamp) or isinstance(zone, exp.Expression):
        inner = value.this if isinstance(value, exp.TsOrDsToTimestamp) else value
        return exp.Anonymous(this=FORMAT_TIMESTAMP, expressions=[
            fmt, exp.cast(inner, exp.DataType.build("TIMESTAMPTZ")), zone if isinstance(zone, exp.Expression)
            else exp.null()])
    if isinstance(value, exp.TsOrDsToDatetime | exp.TsOrDsToDate):
        return exp.Anonymous(this=FORMAT_CIVIL, expressions=[fmt, exp.cast(value.this, exp.DataType.build("TIMESTAMP"))])
    if isinstance(value, exp.TsOrDsToTime):
        return exp.Anonymous(this=FORMAT_CIVIL, expressions=[fmt, duck("CAST('1970-01-01' AS DATE) + {0}", value.this)])
    return None


def _time_to_str(node: exp.TimeToStr, ctx: RuleContext) -> exp.Expression:
    python = _python_format(node)
    if python is not None:
        return python
    value = node.this
    zone = node.args.get("zone")
    if isinstance(value, exp.TsOrDsToTime):  # FORMAT_TIME: DuckDB formats timestamps only
        node.set("this", duck("CAST('1970-01-01' AS DATE) + {0}", value.this))
        return node
    if not isinstance(zone, exp.Expression):
        return _unpadded_year(node)
    if isinstance(value, exp.TsOrDsToTimestamp):
        value = value.this
    node.set("this", exp.Anonymous(this="timezone", expressions=[zone, exp.cast(value, exp.DataType.build(
        "TIMESTAMPTZ"))]))
    node.set("zone", None)
    return _unpadded_year(node)


_FORMAT_EXPANSIONS = {"%R": "%H:%M", "%T": "%H:%M:%S", "%D": "%m/%d/%y", "%F": "%Y-%m-%d", "%e": "%-d",
                      "%k": "%-H", "%l": "%-I"}


#: nodes whose argument ``key`` is a time zone
_ZONED: tuple[tuple[type, str], ...] = (
    (exp.AtTimeZone, "zone"), (exp.TimeToStr, "zone"), (exp.StrToTime, "zone"), (exp.TimestampTrunc, "zone"),
    (exp.Timestamp, "zone"), (exp.Date, "zone"), (exp.Time, "zone"), (exp.String, "zone"),
    (exp.CurrentDate, "this"), (exp.CurrentDatetime, "this"), (exp.CurrentTime, "this"),
    (exp.CurrentTimestamp, "this"),
)


def zone_expression(zone: exp.Expression) -> exp.Expression:
    """A GoogleSQL time zone as DuckDB spells it: fixed offsets (``+05:30``) become ``GMT+05:30``;
    an unknown zone is an error (at translation for a literal, when run otherwise)."""
    from emulator.bigquery.sql_errors import GoogleSQLError
    from emulator.bigquery.sql_functions import TIME_ZONE, time_zone

    if isinstance(zone, exp.Literal) and zone.is_string:
        try:
            return exp.Literal.string(time_zone(zone.this) or "UTC")
        except GoogleSQLError as exc:
            raise InvalidQuery(str(exc)) from None
    if isinstance(zone, exp.Null) or zone.meta.get("zone_checked"):
        return zone
    call = exp.Anonymous(this=TIME_ZONE, expressions=[zone])
    call.meta["zone_checked"] = True
    return call


def normalise_zones(tree: exp.Expression) -> None:
    """Every time-zone argument goes through :func:`zone_expression` before the other rules run."""
    for node in list(tree.dfs()):
        for kind, key in _ZONED:
            if isinstance(node, kind):
                zone = node.args.get(key)
                if isinstance(zone, exp.Expression) and not isinstance(zone, exp.DataType | exp.Var):
                    node.set(key, zone_expression(zone))
        if isinstance(node, exp.Datetime) and isinstance(node.expression, exp.Expression) and (
                isinstance(node.expression, exp.Literal) and node.expression.is_string
                or typing_.is_kind(node.expression, "STRING")):
            node.set("expression", zone_expression(node.expression))
            node.meta["zone_argument"] = True


def _timestamp(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """TIMESTAMP(value, zone): a civil date/time in ``zone`` → the instant (a string's own offset wins)."""
    zone = node.args.get("zone")
    if not isinstance(zone, exp.Expression):
        return node
    value = node.this
    if isinstance(value, exp.Literal) and value.is_string:
        import re

        if re.search(r"([+-]\d{1,2}(:?\d{2})?|Z|\s[A-Za-z_]+(/[A-Za-z_]+)*)\s*$", value.this.strip()):
            return exp.cast(value, exp.DataType.build("TIMESTAMPTZ"))
    if typing_.is_kind(value, "TIMESTAMP"):
        return value
    return exp.Anonymous(this="timezone", expressions=[zone, exp.cast(value, exp.DataType.build("TIMESTAMP"))])


def _datetime(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """DATETIME(timestamp, zone): the civil date and time of the instant in ``zone``."""
    if not node.meta.get("zone_argument"):
        return node
    return exp.Anonymous(this="timezone", expressions=[node.expression, exp.cast(node.this, exp.DataType.build(
        "TIMESTAMPTZ"))])


def _time(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """TIME(timestamp[, zone]) is the time of day of the instant (in UTC unless a zone is given)."""
    value = node.this
    zone = node.args.get("zone")
    if isinstance(node, exp.TsOrDsToTime):
        if not typing_.is_kind(value, "TIMESTAMP"):
            return node
        zone = exp.Literal.string("UTC")
    if not isinstance(zone, exp.Expression):
        return node
    local = exp.Anonymous(this="timezone", expressions=[zone, exp.cast(value, exp.DataType.build("TIMESTAMPTZ"))])
    return exp.cast(local, exp.DataType.build("TIME"))


def _unpadded_year(node: exp.Expression) -> exp.Expression:
    """``strftime(v, '…%Y…')`` with the year unpadded (BigQuery prints year 999 as ``999``)."""
    fmt = node.args.get("format") if not isinstance(node, exp.Anonymous) else None
    if not (isinstance(node, exp.TimeToStr) and isinstance(fmt, exp.Literal) and fmt.is_string
            and "%Y" in fmt.this and "%%" not in fmt.this):
        return node
    value = node.this
    pieces = fmt.this.split("%Y")
    parts: list[exp.Expression] = []
    for i, piece in enumerate(pieces):
        if piece:
            parts.append(exp.Anonymous(this="strftime", expressions=[value.copy(), exp.Literal.string(piece)]))
        if i < len(pieces) - 1:
            parts.append(exp.cast(exp.Anonymous(this="year", expressions=[value.copy()]), exp.DataType.build("VARCHAR")))
    out = parts[0]
    for part in parts[1:]:
        out = exp.DPipe(this=out, expression=part)
    return exp.Paren(this=out)


def normalise_formats(tree: exp.Expression) -> None:
    """Spell BigQuery format elements DuckDB lacks (%R, %T, %D, %F, %e, %k, %l) with ones it has."""
    kinds = (exp.TimeToStr, exp.StrToTime, exp.StrToDate, exp.ParseDatetime, exp.ParseTime)
    for node in tree.find_all(*kinds):
        fmt = node.args.get("format")
        if isinstance(fmt, exp.Literal) and fmt.is_string and "%" in fmt.this:
            text = fmt.this
            for old, new in _FORMAT_EXPANSIONS.items():
                text = text.replace(old, new)
            if text != fmt.this:
                node.set("format", exp.Literal.string(text))


def _str_to_time(node: exp.StrToTime, ctx: RuleContext) -> exp.Expression:
    """PARSE_TIMESTAMP: civil time in ``zone`` (UTC by default) → TIMESTAMP (DuckDB TIMESTAMPTZ)."""
    fmt = node.args.get("format")
    zone = node.args.get("zone")
    if isinstance(fmt, exp.Literal) and ("%E" in fmt.this or "%s" in fmt.this or "%Z" in fmt.this):
        from emulator.bigquery.sql_functions import PARSE_TIMESTAMP

        return exp.Anonymous(this=PARSE_TIMESTAMP, expressions=[
            fmt, node.this, zone if isinstance(zone, exp.Expression) else exp.null()])
    if isinstance(fmt, exp.Literal) and ("%z" in fmt.this or "%Z" in fmt.this):
        return node
    node.set("zone", None)
    return exp.Anonymous(this="timezone", expressions=[zone or exp.Literal.string("UTC"), node])


_DIFF_MICROS = {"MICROSECOND": 1, "MILLISECOND": 1000, "SECOND": 1_000_000, "MINUTE": 60_000_000,
                "HOUR": 3_600_000_000, "DAY": 86_400_000_000}


def _timestamp_diff(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """TIMESTAMP_DIFF counts whole units elapsed (DuckDB's date_diff counts boundaries crossed)."""
    unit = node.args.get("unit")
    part = unit.name.upper() if isinstance(unit, exp.Expression) else ""
    factor = _DIFF_MICROS.get(part)
    if factor is None:
        return node
    delta = duck("(epoch_us({0}) - epoch_us({1}))", node.this, node.expression)
    if factor == 1:
        return delta
    return duck(f"(({{0}} - {{0}} % {factor}) // {factor})", delta)


def _time_trunc(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    unit = node.args.get("unit")
    part = unit.name.lower() if isinstance(unit, exp.Expression) else "second"
    return duck(f"CAST(date_trunc('{part}', CAST('1970-01-01' AS DATE) + {{0}}) AS TIME)", node.this)


def _date_from_unix_date(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return duck("CAST(CAST('1970-01-01' AS DATE) + CAST({0} AS INTEGER) AS DATE)", node.this)


def _string(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """STRING(timestamp, zone): civil time in ``zone`` followed by the zone's UTC offset."""
    zone = node.args.get("zone")
    if not isinstance(zone, exp.Expression):
        return _json_scalar("VARCHAR")(node, ctx)
    return duck("CAST(timezone({1}, CAST({0} AS TIMESTAMPTZ)) AS VARCHAR) || "
                "(CASE WHEN epoch(timezone({1}, CAST({0} AS TIMESTAMPTZ))) - epoch(CAST({0} AS TIMESTAMPTZ)) < 0 "
                "THEN '-' ELSE '+' END) || "
                "lpad(CAST(abs(CAST(epoch(timezone({1}, CAST({0} AS TIMESTAMPTZ))) - epoch(CAST({0} AS TIMESTAMPTZ)) "
                "AS BIGINT)) // 3600 AS VARCHAR), 2, '0') || "
                "(CASE WHEN CAST(abs(epoch(timezone({1}, CAST({0} AS TIMESTAMPTZ))) - epoch(CAST({0} AS TIMESTAMPTZ)))"
                " AS BIGINT) % 3600 = 0 THEN '' ELSE ':' || lpad(CAST(CAST(abs(epoch(timezone({1}, "
                "CAST({0} AS TIMESTAMPTZ))) - epoch(CAST({0} AS TIMESTAMPTZ))) AS BIGINT) % 3600 // 60 AS VARCHAR), "
                "2, '0') END)", node.this, zone)


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
        elif isinstance(item, exp.Dot) and not _parameter_path(item):
            name = item.name
        else:
            name = f"_field_{i + 1}"
        named.append(exp.PropertyEQ(this=exp.to_identifier(name), expression=item))
    return exp.Struct(expressions=named)


def _parameter_path(node: exp.Dot) -> bool:
    """``@param.field``: a field of a query parameter is no column path, its STRUCT field stays anonymous."""
    base = node.this
    while isinstance(base, exp.Dot | exp.Cast | exp.Paren):
        base = base.this
    return isinstance(base, exp.Parameter | exp.Placeholder)


def _inside_insert_values(node: exp.Expression) -> bool:
    """True where a positional struct is assigned to a column (INSERT VALUES, UPDATE/MERGE SET)."""
    parent = node.parent
    if isinstance(parent, exp.EQ) and node.arg_key == "expression" and parent.arg_key == "expressions" \
            and isinstance(parent.parent, exp.Update):
        return True
    owner = parent.parent if isinstance(parent, exp.Alias) else parent
    if isinstance(owner, exp.Select) and isinstance(owner.parent, exp.Insert) and owner.arg_key == "expression":
        return True  # INSERT … SELECT STRUCT(…): assigned to the target column by position
    while parent is not None:
        if isinstance(parent, exp.Values):
            return isinstance(parent.parent, exp.Insert)
        if isinstance(parent, exp.Query | exp.Struct):
            return False
        parent = parent.parent
    return False


def _array_agg(node: exp.ArrayAgg, ctx: RuleContext) -> exp.Expression:
    """``ARRAY_AGG(… LIMIT n)`` → ``list_slice``; a NULL element is an error unless IGNORE NULLS."""
    parent = node.parent
    checked = not isinstance(parent, exp.IgnoreNulls | exp.Window | exp.RespectNulls)
    element: exp.Expression | None = node.this
    while isinstance(element, exp.Limit | exp.Order):
        element = element.this
    if isinstance(element, exp.Distinct):
        element = element.expressions[0] if element.expressions else None
    out: exp.Expression = node
    inner = node.this
    if isinstance(inner, exp.Limit):
        node.set("this", inner.this)
        out = exp.Anonymous(this="list_slice", expressions=[node, exp.Literal.number(1), inner.expression])
    if checked and element is not None:
        out = duck("CASE WHEN bool_or({0} IS NULL) THEN bq_raise('Array cannot have a null element; error in writing "
                   "field') ELSE {1} END", element, out)
    return out


def _farm_fingerprint(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """FARM_FINGERPRINT → the Python FarmHash Fingerprint64 of :mod:`emulator.bigquery.sql_functions`."""
    from emulator.bigquery.sql_functions import FARM_FINGERPRINT, FARM_FINGERPRINT_BYTES

    arg = node.expressions[0] if node.expressions else node.this
    name = FARM_FINGERPRINT_BYTES if _is_bytes(arg) else FARM_FINGERPRINT
    return exp.Anonymous(this=name, expressions=[arg])


def _sha2(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """SHA512 → a registered Python function (sqlglot would silently compute SHA-256)."""
    length = node.args.get("length")
    if not (isinstance(length, exp.Literal) and length.this == "512"):
        return node
    from emulator.bigquery.sql_functions import SHA512, SHA512_BYTES

    return exp.Anonymous(this=SHA512_BYTES if _is_bytes(node.this) else SHA512, expressions=[node.this])


def _parse_json(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """``JSON '{"a": 1}'.a``: sqlglot reads the field path into the literal; apply it to the JSON value."""
    path: list[exp.Expression] = []
    inner = node.this
    while isinstance(inner, exp.Dot):
        path.append(inner.expression)
        inner = inner.this
    if not path or not (isinstance(inner, exp.Literal) and inner.is_string):
        return node
    value: exp.Expression = exp.ParseJSON(this=inner)
    for part in reversed(path):
        value = exp.Dot(this=value, expression=part)
    return value


_ML_DISTANCES = {
    "EUCLIDEAN": "list_distance({0}, {1})",
    "COSINE": "list_cosine_distance({0}, {1})",
    "MANHATTAN": "list_sum(list_transform(range(1, len({0}) + 1), "
                 "lambda i: abs(list_extract({0}, i) - list_extract({1}, i))))",
}


def _dot(node: exp.Dot, ctx: RuleContext) -> exp.Expression:
    """``ML.DISTANCE(a, b [, 'EUCLIDEAN' | 'COSINE' | 'MANHATTAN'])`` on ARRAY<FLOAT64> vectors."""
    hll = _hll(node, ctx)
    if hll is not None:
        return hll
    call = node.expression
    if not (isinstance(node.this, exp.Identifier | exp.Column | exp.Var) and node.this.name.upper() == "ML"
            and isinstance(call, exp.Anonymous) and str(call.this).upper() == "DISTANCE"):
        return node
    args = call.expressions
    if len(args) < 2:
        return node
    kind = "EUCLIDEAN"
    if len(args) > 2:
        if not (isinstance(args[2], exp.Literal) and args[2].is_string):
            return node
        kind = args[2].this.upper()
    template = _ML_DISTANCES.get(kind)
    if template is None:
        return node
    return duck(template, args[0], args[1])


def _normalize(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    from emulator.bigquery.sql_functions import NORMALIZE

    form = node.args.get("form")
    name = form.name.upper() if isinstance(form, exp.Expression) else "NFC"
    if node.args.get("is_casefold"):
        from emulator.bigquery.sql_functions import CASEFOLD

        return exp.Anonymous(this=CASEFOLD, expressions=[node.this, exp.Literal.string(name)])
    return exp.Anonymous(this=NORMALIZE, expressions=[node.this, exp.Literal.string(name)])


def _udf(name_attr: str) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        from emulator.bigquery import sql_functions

        arg = node.expressions[0] if isinstance(node, exp.Anonymous) else node.this
        return exp.Anonymous(this=getattr(sql_functions, name_attr), expressions=[arg])
    return rule


def _like(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """BigQuery's LIKE treats backslash as the escape character; DuckDB needs ``ESCAPE '\\'`` for that."""
    if isinstance(node.parent, exp.Escape):
        return node
    pattern = node.expression
    if isinstance(pattern, exp.Any | exp.All | exp.Tuple):
        return node
    if isinstance(pattern, exp.Literal) and "\\" not in pattern.this:
        return node
    return exp.Escape(this=node, expression=exp.Literal.string("\\"))


def _substring(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """SUBSTR position 0 means 1, and a position before the start clamps to 1 (DuckDB counts them)."""
    start = node.args.get("start")
    length = node.args.get("length")
    if length is not None and not (isinstance(length, exp.Literal) and length.is_int):
        node.set("length", duck("CASE WHEN {0} < 0 THEN bq_raise('Third argument in SUBSTR() cannot be negative') "
                                "ELSE {0} END", length))
    if start is None or (isinstance(start, exp.Literal) and start.is_int and int(start.this) > 0):
        return node
    clamped = duck("CASE WHEN {1} = 0 OR {1} < -length({0}) THEN 1 ELSE {1} END", node.this, start)
    node.set("start", clamped)
    return node


_SAFE_TRIVIAL = (exp.Literal, exp.Column, exp.Parameter, exp.Placeholder, exp.Null, exp.Boolean, exp.Var,
                 exp.Identifier, exp.DataType, exp.Star)


def _trivial(node: exp.Expression) -> bool:
    """An argument that cannot fail (so SAFE need not evaluate it outside ``try``)."""
    while isinstance(node, exp.Neg | exp.Paren):
        node = node.this
    return isinstance(node, _SAFE_TRIVIAL)


def mark_safe_arguments(tree: exp.Expression) -> None:
    """``SAFE.f(args)``: keep a copy of the arguments that may fail beside the call (rules rewrite both).

    ``SAFE.`` turns errors raised by the function itself into NULL, not errors of its arguments:
    the call runs inside ``try()`` (which also catches the argument errors), so the arguments are
    evaluated once more outside it first, where their errors still fail the query.
    """
    for node in list(tree.find_all(exp.SafeFunc)) if hasattr(exp, "SafeFunc") else []:
        function = node.this
        if not isinstance(function, exp.Expression):
            continue
        risky = [arg.copy() for arg in function.iter_expressions() if not _trivial(arg)]
        if risky:
            node.set("safe_arguments", risky)


def _safe_func(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    call = exp.Anonymous(this="try", expressions=[node.this])
    arguments = node.args.get("safe_arguments")
    if not arguments:
        return call
    checked = exp.Anonymous(this="hash", expressions=list(arguments))
    return exp.Case(ifs=[exp.If(this=exp.Is(this=checked, expression=exp.null()), true=exp.null())], default=call)


def _div(node: exp.Div, ctx: RuleContext) -> exp.Expression:
    """``/``: NUMERIC operands divide exactly (NUMERIC result); by zero fails with the operands' values."""
    from emulator.bigquery.sql_functions import NUMERIC_DIVIDE

    if typing_.is_kind(node, *_NUMERICS):
        return exp.Anonymous(this=NUMERIC_DIVIDE, expressions=[_as_numeric(node.this), _as_numeric(node.expression)])
    divisor = node.expression
    if _nonzero_literal(divisor):
        return node
    node.set("expression", _zero_guard(divisor, _division_message(node.this, divisor, "division by zero: {} / {}")))
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
    if ctx.variables and node.table:
        return _variable_field(node, ctx)
    if not ctx.variables or node.table or node.name.lower() not in ctx.variables:
        return node
    value: exp.Expression = exp.Anonymous(this="getvariable", expressions=[exp.Literal.string(node.name.lower())])
    if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
        value = exp.alias_(value, node.name)
    return value


def _variable_field(node: exp.Column, ctx: RuleContext) -> exp.Expression:
    """``r.field`` where ``r`` is an untyped or STRUCT script variable (a ``FOR r IN (…)`` loop's row)
    and no table of the query is named ``r``: the field of the variable's value."""
    parts = [part.name for part in node.parts]
    head = parts[0].lower()
    if head not in ctx.variables:
        return node
    kind = ctx.variables[head]
    if kind is not None and not (isinstance(kind, exp.DataType) and kind.this == exp.DataType.Type.STRUCT):
        return node
    select = node.find_ancestor(exp.Select)
    if select is not None and head in _source_names(select):
        return node
    value: exp.Expression = exp.Anonymous(this="getvariable", expressions=[exp.Literal.string(head)])
    for part in parts[1:]:
        value = exp.Dot(this=value, expression=exp.to_identifier(part))
    if isinstance(node.parent, exp.Select) and node.arg_key == "expressions":
        value = exp.alias_(value, parts[-1])
    return value


def _source_names(select: exp.Select) -> set[str]:
    """Names and aliases of the tables, subqueries and UNNESTs a SELECT reads (its FROM and JOINs)."""
    names: set[str] = set()
    sources = [select.args.get("from_") or select.args.get("from")] + list(select.args.get("joins") or [])
    for source in sources:
        if source is None:
            continue
        for node in source.find_all(exp.Table, exp.Subquery, exp.Unnest, exp.TableAlias):
            name = node.alias_or_name if not isinstance(node, exp.TableAlias) else node.name
            if name:
                names.add(name.lower())
    for cte in select.find_all(exp.CTE):
        names.add(cte.alias_or_name.lower())
    return names


def _ieee_divide(node: exp.Anonymous, ctx: RuleContext) -> exp.Expression:
    a, b = node.expressions[0], node.expressions[1]
    return exp.Paren(this=exp.Div(this=exp.cast(a, exp.DataType.build("DOUBLE")),
                                  expression=exp.cast(b, exp.DataType.build("DOUBLE"))))


def duck(template: str, *args: exp.Expression) -> exp.Expression:
    """A DuckDB expression from ``template`` with ``{0}``, ``{1}``… replaced by the given nodes."""
    tree = sqlglot.parse_one(template.format(*[f"__arg{i}" for i in range(len(args))]), read="duckdb")
    for column in list(tree.find_all(exp.Column)):
        if column.name.startswith("__arg") and not column.table:
            column.replace(args[int(column.name[5:])].copy())
    return tree


def _is_string_input(node: exp.Expression) -> bool:
    """True when a JSON function's input is known to be STRING (a literal or a cast to STRING)."""
    if isinstance(node, exp.Literal) and node.is_string:
        return True
    return isinstance(node, exp.Cast) and node.to.this in (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR)


def _json_extract(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    if _is_string_input(node.this):
        return exp.cast(node, exp.DataType.build("VARCHAR"))
    return node


def _json_extract_array(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    if _is_string_input(node.this):
        return exp.cast(node, exp.DataType.build("VARCHAR[]"))
    return node


def _json_type(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return duck("CASE json_type({0}) WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' "
                "WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'object' WHEN 'NULL' THEN 'null' "
                "ELSE 'number' END", node.this)


def _json_scalar(duck_type: str) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        if duck_type == "VARCHAR":
            root = node.this
            while isinstance(root, exp.Dot):
                root = root.this
            if not isinstance(root, exp.ParseJSON | exp.JSONExtract | exp.JSONFormat):
                return node
            return duck("json_extract_string({0}, '$')", node.this)
        return exp.cast(node.this, exp.DataType.build(duck_type))
    return rule


_BYTES_PRODUCERS = (exp.ByteString, exp.MD5Digest, exp.SHA, exp.SHA2, exp.Unhex, exp.FromBase64)


def _is_bytes(arg: exp.Expression) -> bool:
    """True when ``arg`` is BYTES (by its annotated type, else by its shape; unknown: STRING is assumed)."""
    if typing_.known(arg) is not None:
        return typing_.is_kind(arg, "BYTES")
    return isinstance(arg, _BYTES_PRODUCERS) or (
        isinstance(arg, exp.Cast) and arg.to.this in (exp.DataType.Type.BINARY, exp.DataType.Type.VARBINARY,
                                                      exp.DataType.Type.BLOB))


def _byte_length(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return duck("octet_length({0})" if _is_bytes(node.this) else "strlen({0})", node.this)


def _str_position(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    occurrence = node.args.get("occurrence")
    if occurrence is None:
        return node
    position = node.args.get("position") or exp.Literal.number(1)
    if isinstance(position, exp.Neg):
        return node
    return duck("coalesce(list_extract(list_filter(range({2}, length({0}) + 1), "
                "lambda i: substr({0}, i, length({1})) = {1}), {3}), 0)",
                node.this, node.args["substr"], position, occurrence)


def _bit_count(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    arg = node.this
    if isinstance(arg, exp.Literal | exp.Neg) or isinstance(arg, exp.Cast) and isinstance(arg.this, exp.Literal):
        return duck("bit_count(CAST({0} AS BIGINT))", arg)
    return node


def _domain_checked(name: str, bad: str, message: str) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    """SQRT/LN/LOG/LOG10 of an argument outside the domain fail in BigQuery (DuckDB gives NaN/NULL/-inf)."""
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        arg = node.expression if name == "LOG" and node.expression is not None else node.this
        return duck(f"CASE WHEN {{0}} {bad} THEN bq_raise('{message}: ' || CAST({{0}} AS VARCHAR)) ELSE {{1}} END",
                    arg, node)
    return rule


def _bracket(node: exp.Bracket, ctx: RuleContext) -> exp.Expression:
    """``arr[OFFSET(i)]`` / ``arr[ORDINAL(i)]`` / ``arr[i]`` out of range is an error (SAFE_ variants: NULL)."""
    if node.args.get("safe") or len(node.expressions) != 1 or node.args.get("offset") not in (0, 1):
        return node
    index = node.expressions[0]
    if isinstance(index, exp.Literal) and index.is_string:
        return node
    base = node.this
    if isinstance(base, exp.ParseJSON | exp.JSONExtract) or (
            isinstance(base, exp.Cast) and base.to.this == exp.DataType.Type.JSON):
        return node
    first = node.args["offset"]
    return duck(f"CASE WHEN {{1}} < {first} OR {{1}} >= len({{0}}) + {first} THEN bq_raise('Array index ' || "
                f"CAST({{1}} AS VARCHAR) || ' is out of bounds (' || CASE WHEN {{1}} < {first} THEN 'underflow' "
                f"ELSE 'overflow' END || ')') ELSE {{2}} END", base, index, node)


def _approx_quantiles(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    count = node.expression
    if not (isinstance(count, exp.Literal) and count.is_int and int(count.this) > 0):
        return node
    n = int(count.this)
    points = ", ".join(repr(i / n) for i in range(n + 1))
    return duck(f"quantile_disc({{0}}, [{points}])", node.this)


def _approx_top_count(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return duck("list_transform(list_slice(list_reverse_sort(list_transform(map_entries(histogram({0})), "
                "lambda e: {{'count': CAST(e.value AS BIGINT), 'value': e.key}})), 1, {1}), "
                "lambda e: {{'value': e.value, 'count': e.count}})", node.this, node.expression)


def _parse_numeric(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    arg = node.expressions[0] if isinstance(node, exp.Anonymous) else node.this
    return duck("CAST(trim({0}) AS DECIMAL(38, 9))", arg)


def _update(node: exp.Update, ctx: RuleContext) -> exp.Expression:
    """``SET s.f = v`` on a STRUCT column → ``SET s = struct_update(s, f := v)``."""
    target = node.this
    if not isinstance(target, exp.Table):  # UPDATE inside MERGE … WHEN MATCHED: the MERGE's target
        merge = node.find_ancestor(exp.Merge)
        target = merge.this if merge is not None else None
    names = {target.name.lower()} if isinstance(target, exp.Table) else set()
    if isinstance(target, exp.Table) and target.alias:
        names.add(target.alias.lower())
    merged: dict[str, list[exp.Expression]] = {}
    kept: list[exp.Expression] = []
    for item in node.expressions:
        column = item.this if isinstance(item, exp.EQ) else None
        if isinstance(column, exp.Column) and column.table and column.table.lower() not in names \
                and not column.args.get("db"):
            merged.setdefault(column.table, []).append(
                exp.PropertyEQ(this=exp.to_identifier(column.name), expression=item.expression))
            continue
        kept.append(item)
    if not merged:
        return node
    for struct_name, fields in merged.items():
        kept.append(exp.EQ(this=exp.column(struct_name), expression=exp.Anonymous(
            this="struct_update", expressions=[exp.column(struct_name), *fields])))
    node.set("expressions", kept)
    return node


def _insert_row(node: exp.Insert, ctx: RuleContext) -> exp.Expression:
    """MERGE … WHEN NOT MATCHED THEN INSERT ROW → DuckDB's INSERT *."""
    if isinstance(node.this, exp.Var) and node.this.name.upper() == "ROW" and isinstance(node.parent, exp.When):
        node.set("this", exp.Star())
    return node


_CAST_FORMAT = [("YYYY", "%Y"), ("MONTH", "%B"), ("HH24", "%H"), ("HH12", "%I"), ("MON", "%b"), ("DAY", "%A"),
                ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("DY", "%a"), ("HH", "%I"), ("MI", "%M"), ("SS", "%S"),
                ("AM", "%p"), ("PM", "%p")]


_INT64_TEXT = r"[+-]?([0-9]+|0[xX][0-9a-fA-F]+)"


def _is_float64(value: exp.Expression) -> bool:
    """FLOAT64 by annotation, or (sqlglot leaves a CAST's operand untyped) by its spelling."""
    if typing_.known(value) is not None:
        return typing_.is_kind(value, "FLOAT64")
    if isinstance(value, exp.Cast):
        return value.to.this == exp.DataType.Type.DOUBLE
    if isinstance(value, exp.Literal):
        return not value.is_string and any(ch in value.this for ch in ".eE")
    if isinstance(value, exp.Paren | exp.Neg):
        return _is_float64(value.this)
    if isinstance(value, exp.Add | exp.Sub | exp.Mul | exp.Div):
        return _is_float64(value.this) or _is_float64(value.expression) or isinstance(value, exp.Div)
    return False


def _cast(node: exp.Cast, ctx: RuleContext) -> exp.Expression:
    if node.args.get("format") is not None:
        return _cast_format(node, ctx)
    value = node.this
    range_element = _is_range_type(node.to)
    if range_element is not None and isinstance(value, exp.Literal) and value.is_string:
        return _range_literal(value.this, range_element)
    if node.to.this in (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR) and _is_float64(value):
        # FLOAT64 → STRING is the shortest round-trip spelling without a trailing ".0" (2.0 → "2")
        return duck("regexp_replace(CAST({0} AS VARCHAR), '\\.0$', '')", value)
    if node.to.this in (exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR) and (
            typing_.is_kind(value, *_NUMERICS) or (typing_.known(value) is None and isinstance(value, exp.Cast)
                                                   and value.to.this == exp.DataType.Type.DECIMAL)):
        # NUMERIC → STRING has no trailing zeros (DuckDB writes all 9 fractional digits)
        return duck("CASE WHEN {0} = 0 THEN '0' ELSE rtrim(rtrim(CAST({0} AS VARCHAR), '0'), '.') END", value)
    if node.to.this == exp.DataType.Type.BIGINT and not (isinstance(value, exp.Literal) and not value.is_string) \
            and not isinstance(value, exp.Neg | exp.Cast):
        # a STRING must spell an integer: DuckDB would round '1.5' (BigQuery: "Bad int64 value: 1.5"),
        bad = "bq_raise('Bad int64 value: ' || CAST({0} AS VARCHAR))" if not isinstance(node, exp.TryCast) else "NULL"
        cast = "TRY_CAST({0} AS BIGINT)" if isinstance(node, exp.TryCast) else "CAST({0} AS BIGINT)"
        # and FLOAT64 rounds half away from zero (DuckDB's DOUBLE → BIGINT rounds half to even)
        rounded = cast.replace("{0}", "round(TRY_CAST({0} AS DOUBLE))")
        return duck(f"CASE WHEN typeof({{0}}) = 'VARCHAR' AND NOT regexp_full_match(trim(CAST({{0}} AS VARCHAR)), "
                    f"'{_INT64_TEXT}') THEN {bad} WHEN typeof({{0}}) IN ('DOUBLE', 'FLOAT') THEN {rounded} "
                    f"ELSE {cast} END", value)
    return node


def _cast_format(node: exp.Cast, ctx: RuleContext) -> exp.Expression:
    """``CAST(x AS STRING FORMAT 'YYYY-MM-DD')`` and ``CAST(s AS DATE FORMAT …)`` for date/time elements."""
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        return node
    text, out, i = fmt.this.upper(), "", 0
    while i < len(text):
        for element, spec in _CAST_FORMAT:
            if text.startswith(element, i):
                out += spec
                i += len(element)
                break
        else:
            out += fmt.this[i].replace("%", "%%")
            i += 1
    to = node.to.this
    T = exp.DataType.Type
    if to in (T.TEXT, T.VARCHAR):
        return duck("strftime({0}, {1})", node.this, exp.Literal.string(out))
    parsed = duck("strptime({0}, {1})", node.this, exp.Literal.string(out))
    return exp.cast(parsed, node.to.copy())


def _string_agg(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """``STRING_AGG(x, sep ORDER BY … LIMIT n)``: DuckDB has no LIMIT inside aggregates."""
    inner = node.this
    if not isinstance(inner, exp.Limit):
        return node
    separator = node.args.get("separator") or exp.Literal.string(",")
    collected = exp.ArrayAgg(this=inner.this)
    return duck("array_to_string(list_slice(list_filter({0}, lambda v: v IS NOT NULL), 1, {1}), {2})",
                collected, inner.expression, separator)


def _generate_timestamp_array(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("TIMESTAMPTZ[]"))


def _count_if(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """COUNTIF is 0 over no rows (DuckDB's count_if is NULL there)."""
    return duck("count(CASE WHEN {0} THEN 1 END)", node.this)


def _to_json(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    if not node.args.get("to_json"):
        return node
    return exp.Anonymous(this="to_json", expressions=[node.this])


def _unnest(node: exp.Unnest, ctx: RuleContext) -> exp.Expression:
    """``FROM UNNEST([STRUCT(…), (…)])``: struct fields become columns, as sqlglot does for all-struct arrays."""
    if node.args.get("explode_array") or not isinstance(node.parent, exp.From | exp.Join):
        return node
    items = node.expressions
    if len(items) == 1 and isinstance(items[0], exp.Array) and items[0].expressions \
            and all(isinstance(e, exp.Struct) for e in items[0].expressions):
        node.set("explode_array", True)
        return node
    alias = node.args.get("alias")
    unaliased = alias is None or (isinstance(alias, exp.TableAlias) and not alias.name and not alias.columns)
    if unaliased and not node.args.get("offset") and len(items) == 1 and not isinstance(items[0], exp.Array):
        # UNNEST(array_of_structs_column) without alias: BigQuery exposes the fields as columns. The
        # element type is unknown here; exploding is harmless for scalar arrays (their unaliased value
        # column cannot be referenced by name anyway).
        node.set("explode_array", True)
    return node


def _format(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return exp.Anonymous(this="printf", expressions=[node.this, *node.expressions])


def _unicode(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return duck("CASE WHEN {0} = '' THEN 0 ELSE unicode({0}) END", node.this)


def _sign(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """SIGN keeps the input's type (SIGN(±inf) = ±1, SIGN(NaN) = NaN)."""
    arg = node.this
    if typing_.is_kind(arg, "FLOAT64") or (typing_.known(arg) is None and isinstance(arg, exp.Cast)
                                          and arg.to.this == exp.DataType.Type.DOUBLE):
        return duck("CASE WHEN isnan({0}) THEN {0} ELSE CAST(sign({0}) AS DOUBLE) END", arg)
    if typing_.is_kind(arg, *_NUMERICS):
        return duck("CAST(sign({0}) AS DECIMAL(38, 9))", arg)
    if typing_.is_kind(arg, "INT64"):
        return duck("CAST(sign({0}) AS BIGINT)", arg)
    return duck("(sign({0}) + ({0} - {0}))", arg)


def _array_slice(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    start, end = node.args.get("start"), node.args.get("end")
    if start is None or end is None:
        return node
    return duck("list_slice({0}, CASE WHEN {1} >= 0 THEN {1} + 1 ELSE {1} END, "
                "CASE WHEN {2} >= 0 THEN {2} + 1 ELSE {2} END)", node.this, start, end)


def _code_points_to_string(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    arg = node.this if node.this is not None else node.expressions[0]
    return duck("array_to_string(list_transform({0}, lambda c: chr(CAST(c AS INTEGER))), '')", arg)


def _to_code_points(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    return duck("list_filter(list_transform(string_split({0}, ''), lambda c: CAST(unicode(c) AS BIGINT)), "
                "lambda c: c >= 0)", node.this)


def _safe_binary(op: str) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        return duck(f"try({{0}} {op} {{1}})", node.this, node.expression)
    return rule


def _safe_negate(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    if typing_.is_kind(node.this, "INT64"):  # DuckDB negates BIGINT into a 128-bit integer
        return duck("try(CAST(-{0} AS BIGINT))", node.this)
    return duck("try(-{0})", node.this)


def _range_bucket(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """RANGE_BUCKET(point, boundaries): NULL for a NULL point; a NULL boundary is an error."""
    return duck("CASE WHEN {0} IS NULL THEN NULL WHEN list_contains(list_transform({1}, lambda b: b IS NULL), true) "
                "THEN bq_raise('Elements in input array to RANGE_BUCKET cannot be null.') "
                "ELSE CAST(len(list_filter({1}, lambda b: b <= {0})) AS BIGINT) END", node.this, node.expression)


def _array(node: exp.Array, ctx: RuleContext) -> exp.Expression:
    """``[STRUCT(1 AS a, 'x' AS b), (2, 'y')]``: tuples take the first struct's field names."""
    items = node.expressions
    if not items or not isinstance(items[0], exp.Struct) or not any(isinstance(e, exp.Tuple) for e in items):
        return node
    names = [e.this.name if isinstance(e, exp.PropertyEQ) else None for e in items[0].expressions]
    if None in names:
        return node
    for item in list(items):
        if isinstance(item, exp.Tuple) and len(item.expressions) == len(names):
            struct = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(n), expression=v.copy())
                                             for n, v in zip(names, item.expressions)])
            item.replace(struct)
    return node


def _reciprocal(name: str, denominator: str, zero_fails: bool) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    """SEC, CSC, SECH, CSCH, COTH as 1 / f(x); CSC, CSCH and COTH of 0 fail as in BigQuery."""
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        value = exp.cast(node.this, exp.DataType.build("DOUBLE"))
        body = f"1 / {denominator}"
        if zero_fails:
            body = f"CASE WHEN {{0}} = 0 THEN bq_raise('Floating point error in function: {name}(0)') ELSE {body} END"
        return duck(body, value)
    return rule


def _function(name_attr: str, *casts: str | None) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    """A call of a registered Python function (:mod:`emulator.bigquery.sql_functions`) on the node's arguments."""
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        from emulator.bigquery import sql_functions

        args = [a for a in ([node.this] if not isinstance(node, exp.Anonymous) else []) + list(node.expressions)
                if isinstance(a, exp.Expression)]
        out = []
        for i, arg in enumerate(args):
            cast = casts[i] if i < len(casts) else None
            out.append(exp.cast(arg, exp.DataType.build(cast)) if cast else arg)
        return exp.Anonymous(this=getattr(sql_functions, name_attr), expressions=out)
    return rule


def _json_text(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("VARCHAR"))


def _json_value_text(node: exp.Expression) -> exp.Expression:
    """A SQL value as JSON text (TO_JSON semantics; JSON values stay as they are)."""
    return exp.cast(exp.Anonymous(this="to_json", expressions=[node]), exp.DataType.build("VARCHAR"))


def _kwargs(node: exp.Expression) -> tuple[list[exp.Expression], dict[str, exp.Expression]]:
    positional, named = [], {}
    for arg in node.expressions:
        if isinstance(arg, exp.Kwarg):
            named[arg.this.name.lower()] = arg.expression
        else:
            positional.append(arg)
    return positional, named


def _json_keys(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    from emulator.bigquery.sql_functions import JSON_KEYS

    depth: exp.Expression = exp.null()
    mode: exp.Expression = exp.null()
    for arg in (node.expression, node.args.get("mode")):
        if isinstance(arg, exp.Kwarg):
            if arg.this.name.lower() == "mode":
                mode = arg.expression
            else:
                depth = arg.expression
        elif isinstance(arg, exp.Expression):
            if arg is node.args.get("mode"):
                mode = arg
            else:
                depth = arg
    return exp.Anonymous(this=JSON_KEYS, expressions=[_json_text(node.this), exp.cast(depth, exp.DataType.build("BIGINT")),
                                                      exp.cast(mode, exp.DataType.build("VARCHAR"))])


def _json_set(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """JSON_SET(json, path, value[, path, value…][, create_if_missing => bool])."""
    from emulator.bigquery.sql_functions import JSON_SET

    positional, named = _kwargs(node)
    paths = exp.Array(expressions=[exp.cast(p, exp.DataType.build("VARCHAR")) for p in positional[0::2]])
    values = exp.Array(expressions=[_json_value_text(v) for v in positional[1::2]])
    create = named.get("create_if_missing", exp.true())
    call = exp.Anonymous(this=JSON_SET, expressions=[_json_text(node.this), paths, values, create])
    return exp.cast(call, exp.DataType.build("JSON"))


def _json_array_insert(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """JSON_ARRAY_INSERT(json, path, value[, …][, insert_each_element => bool])."""
    from emulator.bigquery.sql_functions import JSON_ARRAY_INSERT

    positional, named = _kwargs(node)
    paths = exp.Array(expressions=[exp.cast(p, exp.DataType.build("VARCHAR")) for p in positional[0::2]])
    values = positional[1::2]
    spread = exp.Array(expressions=[exp.true() if typing_.is_kind(v, "ARRAY") or isinstance(v, exp.Array)
                                    else exp.false() for v in values])
    each = named.get("insert_each_element", exp.true())
    call = exp.Anonymous(this=JSON_ARRAY_INSERT, expressions=[
        _json_text(node.this), paths, exp.Array(expressions=[_json_value_text(v) for v in values]), spread, each])
    return exp.cast(call, exp.DataType.build("JSON"))


def _case_mapped(name_attr: str, duck_function: str) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    """UPPER/LOWER of STRING with full Unicode case mapping (``ß`` → ``SS``); ASCII stays in DuckDB."""
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        from emulator.bigquery import sql_functions

        if typing_.known(node.this) is not None and not typing_.is_kind(node.this, "STRING"):
            return node  # BYTES: ASCII-only mapping, as DuckDB does
        return duck(f"CASE WHEN regexp_matches({{0}}, '[^\x01-\x7f]') THEN "
                    f"{getattr(sql_functions, name_attr)}({{0}}) ELSE {duck_function}({{0}}) END", node.this)
    return rule


def _geography(name: str) -> str:
    from emulator.bigquery.sql_geography import FUNCTIONS

    return FUNCTIONS[name][0]


def _collate(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """COLLATE(value, 'und:ci') compares case-insensitively; '' is the default; others are refused."""
    spec = node.expression
    if not (isinstance(spec, exp.Literal) and spec.is_string):
        raise InvalidQuery("The second argument of COLLATE() must be a string literal")
    if spec.this == "und:ci":
        return exp.Collate(this=node.this, expression=exp.var("NOCASE"))
    if spec.this == "":
        return node.this
    raise InvalidQuery(f"Collation name '{spec.this}' is not supported; GoogleSQL supports 'und:ci' and ''")


def _hll(node: exp.Dot, ctx: RuleContext) -> exp.Expression | None:
    """HLL_COUNT.INIT / MERGE / MERGE_PARTIAL / EXTRACT with exact sketches (sorted value hashes)."""
    from emulator.bigquery.sql_functions import HLL_EXTRACT, HLL_MERGE

    call = node.expression
    if not (isinstance(node.this, exp.Identifier | exp.Column | exp.Var) and node.this.name.upper() == "HLL_COUNT"
            and isinstance(call, exp.Anonymous) and call.expressions):
        return None
    name, arg = str(call.this).upper(), call.expressions[0]
    if name == "INIT":
        return duck("CASE WHEN count({0}) = 0 THEN NULL ELSE encode(CAST(to_json(list_sort(list_distinct("
                    "list(hash({0})) FILTER (WHERE {0} IS NOT NULL)))) AS VARCHAR)) END", arg)
    if name == "MERGE_PARTIAL":
        return duck(f"{HLL_MERGE}(list({{0}}))", arg)
    if name == "MERGE":
        return duck(f"{HLL_EXTRACT}({HLL_MERGE}(list({{0}})))", arg)
    if name == "EXTRACT":
        return duck(f"{HLL_EXTRACT}({{0}})", arg)
    return None


def _approx_top_sum(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
    """APPROX_TOP_SUM(value, weight, n): the n values with the largest weight sums (computed exactly)."""
    pairs = duck("list({{'v': {0}, 'w': {1}}})", node.this, node.expression)
    return duck("list_transform(list_slice(list_reverse_sort(list_transform(list_distinct(list_transform({0}, "
                "lambda p: p.v)), lambda v: {{'sum': list_sum(list_transform(list_filter({0}, "
                "lambda q: q.v = v), lambda q: q.w)), 'value': v}})), 1, {1}), "
                "lambda e: {{'value': e.value, 'sum': e.sum}})", pairs, node.args.get("count"))


def _array_edge(first: bool) -> Callable[[exp.Expression, RuleContext], exp.Expression]:
    """ARRAY_FIRST / ARRAY_LAST of an empty array fail (BigQuery: the array must not be empty)."""
    def rule(node: exp.Expression, ctx: RuleContext) -> exp.Expression:
        name = "ARRAY_FIRST" if first else "ARRAY_LAST"
        return duck(f"CASE WHEN len({{0}}) = 0 THEN bq_raise('{name} cannot get the {'first' if first else 'last'} "
                    f"element of an empty array') ELSE list_extract({{0}}, {1 if first else -1}) END", node.this)
    return rule


def _tuple(node: exp.Tuple, ctx: RuleContext) -> exp.Expression:
    """``SELECT (1, 'a')``: a tuple in a value position is an anonymous STRUCT in GoogleSQL, also nested in
    another tuple (``((1, 2), 3)``), as an array element (``[(1, 2), (3, 4)]``) or a struct field. Tuples of
    IN lists, VALUES rows and statements that write rows (assigned to columns by position) stay tuples; the
    elements of ``[STRUCT(1 AS a), (2)]`` take the first struct's names (``_array``)."""
    if not node.expressions or node.find_ancestor(exp.Values, exp.Insert, exp.Update, exp.Merge) is not None:
        return node
    top: exp.Expression = node
    while isinstance(top.parent, exp.Tuple):  # nested tuples are values wherever the outer one is
        top = top.parent
    parent = top.parent
    if isinstance(parent, exp.Alias | exp.PropertyEQ):
        parent = parent.parent
    if isinstance(parent, exp.Array):
        items = parent.expressions
        if items and isinstance(items[0], exp.Struct):
            return node
    elif not isinstance(parent, exp.Select | exp.Struct):
        return node
    return _struct(exp.Struct(expressions=list(node.expressions)), ctx)


def duck_type(dtype: exp.DataType) -> str:
    """DuckDB spelling of a GoogleSQL type as the backend stores it (NUMERIC is DECIMAL(38,9)…)."""
    copy = dtype.copy()
    for sub in list(copy.find_all(exp.DataType)):
        if sub.this in (exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL) and not sub.expressions:
            sub.replace(exp.DataType.build("DECIMAL(38, 9)"))
        elif sub.this == exp.DataType.Type.GEOGRAPHY:
            sub.replace(exp.DataType.build("VARCHAR"))
    return copy.sql("duckdb")


def _struct_fields(dtype: exp.DataType | None) -> list[str] | None:
    if dtype is None or dtype.this != exp.DataType.Type.STRUCT:
        return None
    names = [m.name for m in dtype.expressions if isinstance(m, exp.ColumnDef)]
    return names if len(names) == len(dtype.expressions) else None


def _renamed_struct(value: exp.Expression, source: list[str], target: exp.DataType) -> exp.Expression:
    fields = [exp.Dot(this=exp.Paren(this=value.copy()), expression=exp.to_identifier(n, quoted=True)) for n in source]
    return exp.cast(exp.Anonymous(this="row", expressions=fields), exp.DataType.build(duck_type(target),
                                                                                        dialect="duckdb"))


def _set_operation(node: exp.SetOperation, ctx: RuleContext) -> exp.Expression:
    """Later branches take the first branch's STRUCT field names (DuckDB unions structs by name)."""
    first = node.this
    while isinstance(first, exp.SetOperation | exp.Subquery):
        first = first.this
    branch = node.expression
    while isinstance(branch, exp.Subquery):
        branch = branch.this
    if not isinstance(first, exp.Select) or not isinstance(branch, exp.Select):
        return node
    for left, right in zip(first.expressions, list(branch.expressions)):
        want, have = typing_.known(left.unalias()) or typing_.known(left), typing_.known(right)
        value = right.unalias()
        new: exp.Expression | None = None
        names, theirs = _struct_fields(want), _struct_fields(have)
        if names is not None and theirs is not None and len(names) == len(theirs) and names != theirs:
            new = _renamed_struct(value, theirs, want)
        elif want is not None and have is not None and want.this == have.this == exp.DataType.Type.ARRAY \
                and want.expressions and have.expressions:
            names, theirs = _struct_fields(want.expressions[0]), _struct_fields(have.expressions[0])
            if names is not None and theirs is not None and len(names) == len(theirs) and names != theirs:
                element = _renamed_struct(exp.column("__element"), theirs, want.expressions[0])
                new = duck("list_transform({0}, lambda __element: {1})", value, element)
        if new is not None:
            value.replace(new)
    return node


#: BigQuery functions sqlglot leaves as anonymous calls, by upper-case name.
_ANONYMOUS: dict[str, Callable[[exp.Anonymous, RuleContext], exp.Expression]] = {
    "IEEE_DIVIDE": _ieee_divide,
    "FLOAT64": _json_scalar("DOUBLE"),
    "PARSE_NUMERIC": _parse_numeric,
    "SAFE_CONVERT_BYTES_TO_STRING": _udf("SAFE_CONVERT_BYTES_TO_STRING"),
    "PARSE_BIGNUMERIC": _parse_numeric,
    "ARRAY_INCLUDES": lambda n, c: duck("list_contains({0}, {1})", *n.expressions),
    "ARRAY_INCLUDES_ALL": lambda n, c: duck("list_has_all({0}, {1})", *n.expressions),
    "ARRAY_INCLUDES_ANY": lambda n, c: duck("list_has_any({0}, {1})", *n.expressions),
    "ARRAY_IS_DISTINCT": lambda n, c: duck("len(list_distinct({0})) = len({0})", *n.expressions),
    "RANGE": _range_constructor,
    "RANGE_START": _range_bound("start"),
    "RANGE_END": _range_bound("end"),
}


def _interval_span(node: exp.Interval, ctx: RuleContext) -> exp.Expression:
    """``INTERVAL 'Y-M D H:M:S.F' YEAR TO SECOND`` (and the other spans): DuckDB has no span syntax;
    the literal becomes the interval it spells."""
    from emulator.bigquery.intervals import parse_interval

    unit, text = node.args.get("unit"), node.this
    if not isinstance(unit, exp.IntervalSpan) or not (isinstance(text, exp.Literal) and text.is_string):
        return node
    span = (unit.this.name.upper(), unit.expression.name.upper())
    value = text.this.strip()
    sign = "-" if value.startswith("-") else ""
    body = value.lstrip("+-")
    canonical = {
        ("YEAR", "SECOND"): value,
        ("YEAR", "MONTH"): f"{value} 0 0:0:0",
        ("DAY", "SECOND"): f"0-0 {value}",
        ("HOUR", "SECOND"): f"0-0 0 {value}",
        ("MINUTE", "SECOND"): f"0-0 0 {sign}0:{body}",
        ("DAY", "HOUR"): f"0-0 {value.split()[0]} {value.split()[-1]}:0:0" if " " in value else None,
        ("DAY", "MINUTE"): f"0-0 {value.split()[0]} {value.split()[-1]}:0" if " " in value else None,
        ("HOUR", "MINUTE"): f"0-0 0 {value}:0",
    }.get(span)
    parsed = parse_interval(canonical) if canonical else None
    if parsed is None:
        raise InvalidQuery(f"Invalid interval literal: '{value}'")
    return exp.cast(exp.Literal.string(parsed.duckdb_text()), exp.DataType.build("INTERVAL"))


def _anonymous(node: exp.Anonymous, ctx: RuleContext) -> exp.Expression:
    name = str(node.this).upper()
    handler = _ANONYMOUS.get(name)
    if handler is not None:
        return handler(node, ctx)
    if name.startswith("ST_"):
        from emulator.bigquery.sql_geography import FUNCTIONS

        spec = FUNCTIONS.get(name)
        if spec is not None:
            registered, _, arg_types, _ = spec
            args = [exp.cast(a, exp.DataType.build(t)) if t == "DOUBLE" else a
                    for a, t in zip(node.expressions, arg_types)]
            return exp.Anonymous(this=registered, expressions=args)
    return node


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
    exp.IntDiv: _int_div,
    exp.SafeDivide: _safe_divide,
    exp.Mod: _int_div,
    exp.Mul: _mul,
    exp.Avg: _avg,
    exp.Sum: _sum,
    exp.Window: _window,
    exp.Column: _column,
    exp.Anonymous: _anonymous,
    exp.Interval: _interval_span,
    exp.Array: _array,
    exp.JSONExtract: _json_extract,
    exp.JSONExtractArray: _json_extract_array,
    exp.JSONType: _json_type,
    exp.ByteLength: _byte_length,
    exp.StrToTime: _str_to_time,
    exp.TimestampDiff: _timestamp_diff,
    exp.TimeTrunc: _time_trunc,
    exp.DateFromUnixDate: _date_from_unix_date,
    exp.StrPosition: _str_position,
    exp.BitwiseCount: _bit_count,
    exp.JSONFormat: _to_json,
    exp.CountIf: _count_if,
    exp.Dot: _dot,
    exp.Like: _like,
    exp.ILike: _like,
    exp.Substring: _substring,
    exp.Normalize: _normalize,
    exp.Soundex: _udf("SOUNDEX"),
    exp.SafeConvertBytesToString: _udf("SAFE_CONVERT_BYTES_TO_STRING"),
    exp.SHA2Digest: _sha2,
    exp.ParseJSON: _parse_json,
    exp.GroupConcat: _string_agg,
    exp.GenerateTimestampArray: _generate_timestamp_array,
    exp.Sqrt: _domain_checked("SQRT", "< 0", "Argument to SQRT cannot be negative"),
    exp.Ln: _domain_checked("LN", "<= 0", "Argument to LN must be positive"),
    exp.Log: _domain_checked("LOG", "<= 0", "Argument to LOG must be positive"),
    exp.Bracket: _bracket,
    exp.Update: _update,
    exp.Insert: _insert_row,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.ApproxQuantiles: _approx_quantiles,
    exp.ApproxTopK: _approx_top_count,
    exp.ParseNumeric: _parse_numeric,
    exp.ParseBignumeric: _parse_numeric,
    exp.Unnest: _unnest,
    exp.Format: _format,
    exp.Unicode: _unicode,
    exp.Sign: _sign,
    exp.ArraySlice: _array_slice,
    exp.CodePointsToString: _code_points_to_string,
    exp.ToCodePoints: _to_code_points,
    exp.SafeAdd: _safe_binary("+"),
    exp.SafeSubtract: _safe_binary("-"),
    exp.SafeMultiply: _safe_binary("*"),
    exp.SafeNegate: _safe_negate,
    exp.RangeBucket: _range_bucket,
    exp.ArrayFirst: _array_edge(True),
    exp.ArrayLast: _array_edge(False),
    exp.Sec: _reciprocal("SEC", "cos({0})", False),
    exp.Csc: _reciprocal("CSC", "sin({0})", True),
    exp.Sech: _reciprocal("SECH", "cosh({0})", False),
    exp.Csch: _reciprocal("CSCH", "sinh({0})", True),
    exp.Coth: _reciprocal("COTH", "tanh({0})", True),
    exp.JSONKeysAtDepth: _json_keys,
    exp.JSONSet: _json_set,
    exp.JSONArrayInsert: _json_array_insert,
    exp.LaxBool: _function("LAX_BOOL", "VARCHAR"),
    exp.LaxInt64: _function("LAX_INT64", "VARCHAR"),
    exp.LaxFloat64: _function("LAX_FLOAT64", "VARCHAR"),
    exp.LaxString: _function("LAX_STRING", "VARCHAR"),
    exp.ToBase32: _function("TO_BASE32", "BLOB"),
    exp.FromBase32: _function("FROM_BASE32", "VARCHAR"),
    exp.CodePointsToBytes: _function("CODE_POINTS_TO_BYTES", "BIGINT[]"),
    exp.ApproxTopSum: _approx_top_sum,
    exp.Collate: _collate,
    exp.Upper: _case_mapped("UPPER", "upper"),
    exp.Lower: _case_mapped("LOWER", "lower"),
    exp.Tuple: _tuple,
    exp.Union: _set_operation,
    exp.Intersect: _set_operation,
    exp.Except: _set_operation,
    exp.Timestamp: _timestamp,
    exp.Datetime: _datetime,
    exp.Time: _time,
    exp.TsOrDsToTime: _time,
    exp.Neg: _neg,
    exp.StDistance: lambda n, c: exp.Anonymous(this=_geography("ST_DISTANCE"), expressions=[n.this, n.expression]),
    exp.JSONBool: _json_scalar("BOOLEAN"),
    exp.Float64: _json_scalar("DOUBLE"),
    exp.Int64: _json_scalar("BIGINT"),
    exp.String: _string,
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
    normalise_formats(tree)
    normalise_zones(tree)
    mark_safe_arguments(tree)
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
        if new.type is None and node.type is not None:  # the replacement computes the same GoogleSQL value
            new.type = node.type
        if parent is None:
            root = new
        else:
            parent.set(arg_key, new, index)
    return root
