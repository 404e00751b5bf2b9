"""Analysis-time errors: function calls and comparisons whose argument types no signature accepts.

BigQuery resolves every call against the function's signatures before running anything; a call
no signature accepts fails the whole query (``SAFE.`` does not help: it only catches errors the
function raises while running). With the annotated GoogleSQL types of
:mod:`emulator.bigquery.sql_typing` the translator does the same for the functions listed in
:data:`SIGNATURES` and for comparison operators, and reports the error as BigQuery prints it
(the name as written, the argument types, one block per candidate signature, then the position)::

    No matching signature for function SQRT
      Argument types: STRING
      Signature: SQRT(FLOAT64)
        Argument 1: Unable to coerce type STRING to expected type FLOAT64 at [1:8]

Comparisons keep BigQuery's one-line form, as real errors quote it: "No matching signature for
operator = for argument types: STRUCT<y INT64>, INT64. Supported signature: ANY = ANY at [8:7]".

Sources: the shape of the message is BigQuery's current one, as quoted in public reports of real
errors (e.g. "No matching signature for function IFNULL / Argument types: INT64, TIMESTAMP /
Signature: IFNULL(T1, T1) / Unable to find common supertype for templated argument <T1> / Input
types for <T1>: {INT64, TIMESTAMP}", "No matching signature for aggregate function AVG …
Argument 1: Unable to coerce type STRUCT<…> to expected type INT64", "Signature accepts at most 1
argument, found 2 arguments"); the signatures and coercions are those of the function reference
and the "Conversion rules" page (INT64 coerces to NUMERIC, BIGNUMERIC and FLOAT64; NUMERIC to
BIGNUMERIC and FLOAT64; a STRING literal or parameter to DATE, DATETIME, TIME and TIMESTAMP; DATE to
DATETIME; NULL to anything).

An argument whose type is unknown (a column sqlglot could not resolve, a function it cannot type)
never causes an error: only calls whose argument types are all known are checked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from emulator.bigquery import sql_typing as typing_
from emulator.bigquery.errors import InvalidQuery

__all__ = ["check", "SIGNATURES", "position", "arity_error"]

_NUM = ("FLOAT64", "NUMERIC", "BIGNUMERIC")
_INT_NUM = ("INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64")


def _each(name: str, params: str, types: tuple[str, ...]) -> list[str]:
    return [f"{name}({params.replace('T', t)})" for t in types]


#: GoogleSQL function name → its signatures as BigQuery prints them (``[x]`` optional, ``...`` repeats)
SIGNATURES: dict[str, list[str]] = {
    **{name: [f"{name}(FLOAT64)", f"{name}(NUMERIC)", f"{name}(BIGNUMERIC)"]
       for name in ("SQRT", "LN", "LOG10", "EXP")},
    **{name: [f"{name}(FLOAT64)"] for name in (
        "COS", "SIN", "TAN", "ACOS", "ASIN", "ATAN", "COSH", "SINH", "TANH", "ACOSH", "ASINH", "ATANH",
        "COT", "COTH", "SEC", "SECH", "CSC", "CSCH", "IS_INF", "IS_NAN", "CBRT")},
    "ATAN2": ["ATAN2(FLOAT64, FLOAT64)"],
    **{name: [f"{name}(INT64)", f"{name}(NUMERIC)", f"{name}(BIGNUMERIC)", f"{name}(FLOAT64)"]
       for name in ("ABS", "SIGN")},
    **{name: [f"{name}(FLOAT64)", f"{name}(NUMERIC)", f"{name}(BIGNUMERIC)"] for name in ("CEIL", "CEILING", "FLOOR")},
    "LOG": ["LOG(FLOAT64, [FLOAT64])", "LOG(NUMERIC, [NUMERIC])", "LOG(BIGNUMERIC, [BIGNUMERIC])"],
    **{name: [f"{name}(FLOAT64, FLOAT64)", f"{name}(NUMERIC, NUMERIC)", f"{name}(BIGNUMERIC, BIGNUMERIC)"]
       for name in ("POW", "POWER")},
    **{name: [f"{name}(FLOAT64, [INT64])", f"{name}(NUMERIC, [INT64])", f"{name}(BIGNUMERIC, [INT64])"]
       for name in ("ROUND", "TRUNC")},
    "MOD": ["MOD(INT64, INT64)", "MOD(NUMERIC, NUMERIC)", "MOD(BIGNUMERIC, BIGNUMERIC)"],
    "DIV": ["DIV(INT64, INT64)", "DIV(NUMERIC, NUMERIC)", "DIV(BIGNUMERIC, BIGNUMERIC)"],
    **{name: [f"{name}(STRING)", f"{name}(BYTES)"] for name in ("LENGTH", "UPPER", "LOWER", "REVERSE", "ASCII",
                                                                "BYTE_LENGTH")},
    **{name: [f"{name}(STRING)"] for name in ("CHAR_LENGTH", "CHARACTER_LENGTH", "UNICODE", "FROM_HEX",
                                              "FROM_BASE64", "FROM_BASE32", "SOUNDEX", "TO_CODE_POINTS")},
    **{name: [f"{name}(BYTES)"] for name in ("TO_HEX", "TO_BASE64", "TO_BASE32")},
    **{name: [f"{name}(STRING)", f"{name}(BYTES)"] for name in ("MD5", "SHA1", "SHA256", "SHA512", "FARM_FINGERPRINT")},
    "CHR": ["CHR(INT64)"],
    **{name: [f"{name}(STRING, STRING)", f"{name}(BYTES, BYTES)"] for name in ("STARTS_WITH", "ENDS_WITH", "STRPOS")},
    "REPLACE": ["REPLACE(STRING, STRING, STRING)", "REPLACE(BYTES, BYTES, BYTES)"],
    "REPEAT": ["REPEAT(STRING, INT64)", "REPEAT(BYTES, INT64)"],
    **{name: [f"{name}(STRING, INT64, [INT64])", f"{name}(BYTES, INT64, [INT64])"] for name in ("SUBSTR", "SUBSTRING")},
    **{name: [f"{name}(STRING, INT64)", f"{name}(BYTES, INT64)"] for name in ("LEFT", "RIGHT")},
    **{name: [f"{name}(STRING, INT64, [STRING])", f"{name}(BYTES, INT64, [BYTES])"] for name in ("LPAD", "RPAD")},
    **{name: [f"{name}(STRING, [STRING])", f"{name}(BYTES, BYTES)"] for name in ("TRIM", "LTRIM", "RTRIM")},
    "INITCAP": ["INITCAP(STRING, [STRING])"],
    "REGEXP_CONTAINS": ["REGEXP_CONTAINS(STRING, STRING)", "REGEXP_CONTAINS(BYTES, BYTES)"],
    "CONCAT": ["CONCAT(STRING, [STRING, ...])", "CONCAT(BYTES, [BYTES, ...])"],
    "UNIX_DATE": ["UNIX_DATE(DATE)"],
    "DATE_FROM_UNIX_DATE": ["DATE_FROM_UNIX_DATE(INT64)"],
    **{name: [f"{name}(INT64)"] for name in ("TIMESTAMP_SECONDS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS")},
    **{name: [f"{name}(TIMESTAMP)"] for name in ("UNIX_SECONDS", "UNIX_MILLIS", "UNIX_MICROS")},
}

#: aggregate functions (BigQuery says "aggregate function" in their messages)
AGGREGATES = {"AVG", "SUM"}
SIGNATURES["AVG"] = _each("AVG", "T", _INT_NUM)
SIGNATURES["SUM"] = _each("SUM", "T", _INT_NUM)

#: (from type, to type) pairs GoogleSQL coerces implicitly (any expression)
_COERCES = {
    ("INT64", "NUMERIC"), ("INT64", "BIGNUMERIC"), ("INT64", "FLOAT64"), ("NUMERIC", "BIGNUMERIC"),
    ("NUMERIC", "FLOAT64"), ("BIGNUMERIC", "FLOAT64"), ("DATE", "DATETIME"),
}
_TEMPORAL = ("DATE", "DATETIME", "TIME", "TIMESTAMP")


@dataclass(frozen=True)
class _Param:
    kind: str
    optional: bool = False
    repeated: bool = False


def _parse(signature: str) -> list[_Param]:
    inner = signature[signature.index("(") + 1: signature.rindex(")")]
    params: list[_Param] = []
    for raw in [p.strip() for p in inner.split(",") if p.strip()]:
        if raw in ("...]", "..."):
            params[-1] = _Param(params[-1].kind, True, True)
            continue
        optional = raw.startswith("[")
        params.append(_Param(raw.strip("[]").strip(), optional))
    return params


_PARSED: dict[str, list[list[_Param]]] = {}


def _signatures(name: str) -> list[tuple[str, list[_Param]]]:
    texts = SIGNATURES.get(name, [])
    if name not in _PARSED:
        _PARSED[name] = [_parse(t) for t in texts]
    return list(zip(texts, _PARSED[name]))


# ------------------------------------------------------------------------------------------
# positions
# ------------------------------------------------------------------------------------------
def _start(node: exp.Expression) -> int | None:
    best: int | None = None
    for sub in node.dfs():
        start = sub.meta.get("start") if sub.meta else None
        if isinstance(start, int) and (best is None or start < best):
            best = start
    return best


def position(sql: str, node: exp.Expression) -> str:
    """`` at [line:column]`` of ``node`` in ``sql`` (empty when sqlglot kept no position)."""
    start = node.meta.get("start") if node.meta else None
    if not isinstance(start, int):
        start = _start(node)
    if start is None:
        return ""
    line = sql.count("\n", 0, start) + 1
    column = start - (sql.rfind("\n", 0, start) + 1) + 1
    return f" at [{line}:{column}]"


# ------------------------------------------------------------------------------------------
# matching
# ------------------------------------------------------------------------------------------
def _is_literal_like(node: exp.Expression) -> bool:
    """Literals and query parameters get literal coercion (a STRING one coerces to DATE, …)."""
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, exp.Literal | exp.Parameter | exp.Placeholder)


def _is_null(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, exp.Null)


def _coerces(arg: exp.Expression, arg_kind: str, target: str) -> bool:
    if arg_kind == target or _is_null(arg):
        return True
    if (arg_kind, target) in _COERCES:
        return True
    return arg_kind == "STRING" and target in _TEMPORAL and _is_literal_like(arg)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _mismatch(args: list[exp.Expression], kinds: list[str], params: list[_Param]) -> str | None:
    """Why ``params`` does not accept the arguments, in BigQuery's words (None: it accepts them)."""
    required = sum(1 for p in params if not p.optional)
    repeated = any(p.repeated for p in params)
    if len(args) < required:
        return f"Signature requires at least {_plural(required, 'argument')}, found {_plural(len(args), 'argument')}"
    if not repeated and len(args) > len(params):
        return f"Signature accepts at most {_plural(len(params), 'argument')}, found {_plural(len(args), 'argument')}"
    for index, (arg, kind) in enumerate(zip(args, kinds)):
        param = params[min(index, len(params) - 1)]
        if not _coerces(arg, kind, param.kind):
            return f"Argument {index + 1}: Unable to coerce type {kind} to expected type {param.kind}"
    return None


def _arguments(node: exp.Expression) -> list[exp.Expression]:
    """The call's arguments in source order."""
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    args = [a for a in node.iter_expressions() if not isinstance(a, exp.Var | exp.DataType)]
    starts = [(_start(a), i, a) for i, a in enumerate(args)]
    if any(s[0] is not None for s in starts):
        # literals sqlglot made up (LOG10(x) is LOG(10, x) to it) have no position: they were not written
        starts = [s for s in starts if s[0] is not None or not isinstance(s[2], exp.Literal)]
        if all(s[0] is not None for s in starts):
            starts.sort(key=lambda k: (k[0], k[1]))
    return [s[2] for s in starts]


def _call_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.this)
    name = node.meta.get("bigquery_name") if node.meta else None
    return name if isinstance(name, str) else None


def check_call(node: exp.Expression, sql: str) -> None:
    """Raise BigQuery's "No matching signature" error when no signature of the call accepts its arguments."""
    written = _call_name(node)
    if written is None:
        return
    name = written.upper()
    candidates = _signatures(name)
    if not candidates:
        return
    if name == "TO_HEX" and not isinstance(node, exp.LowerHex | exp.Hex):
        return  # sqlglot folds TO_HEX(MD5(x)) into one hex-digest node: its argument is MD5's
    args = _arguments(node)
    kinds: list[str] = []
    for arg in args:
        dtype = typing_.known(arg)
        if dtype is None and not _is_null(arg):
            return  # an unknown argument type: BigQuery may well accept it
        kinds.append("INT64" if dtype is None else typing_.bq_name(dtype))
    reasons = []
    for text, params in candidates:
        reason = _mismatch(args, kinds, params)
        if reason is None:
            return
        reasons.append((text, reason))
    what = "aggregate function" if name in AGGREGATES else "function"
    lines = [f"No matching signature for {what} {name}", f"  Argument types: {', '.join(kinds) if kinds else '<none>'}"]
    for text, reason in reasons:
        lines += [f"  Signature: {text}", f"    {reason}"]
    raise InvalidQuery("\n".join(lines) + position(sql, node))


def arity_error(name: str, count: int, sql: str, offset: int | None) -> InvalidQuery | None:
    """The error for a call sqlglot refused for its argument count (it raises while parsing)."""
    candidates = _signatures(name.upper())
    if not candidates:
        return None
    lines = [f"No matching signature for function {name.upper()}"]
    for text, params in candidates:
        required = sum(1 for p in params if not p.optional)
        if count < required:
            reason = f"Signature requires at least {_plural(required, 'argument')}, found {_plural(count, 'argument')}"
        else:
            reason = f"Signature accepts at most {_plural(len(params), 'argument')}, found {_plural(count, 'argument')}"
        lines += [f"  Signature: {text}", f"    {reason}"]
    where = ""
    if offset is not None:
        line = sql.count("\n", 0, offset) + 1
        column = offset - (sql.rfind("\n", 0, offset) + 1) + 1
        where = f" at [{line}:{column}]"
    return InvalidQuery("\n".join(lines) + where)


# ------------------------------------------------------------------------------------------
# comparisons
# ------------------------------------------------------------------------------------------
_OPERATORS = {exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
_NUMERIC_FAMILY = frozenset({"INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64"})
_SCALARS = frozenset({"INT64", "NUMERIC", "BIGNUMERIC", "FLOAT64", "STRING", "BYTES", "BOOL", "DATE", "DATETIME",
                      "TIME", "TIMESTAMP", "INTERVAL"})


def _comparable(left: exp.Expression, lkind: str, right: exp.Expression, rkind: str) -> bool:
    if lkind == rkind or _is_null(left) or _is_null(right):
        return True
    if lkind in _NUMERIC_FAMILY and rkind in _NUMERIC_FAMILY:
        return True
    if {lkind, rkind} == {"DATE", "DATETIME"}:
        return True
    if lkind == "STRING" and rkind in _TEMPORAL and _is_literal_like(left):
        return True
    return rkind == "STRING" and lkind in _TEMPORAL and _is_literal_like(right)


def check_comparison(node: exp.Expression, sql: str) -> None:
    """``STRING = INT64`` and other comparisons without a common supertype fail, as in BigQuery."""
    left, right = node.this, node.expression
    lkind, rkind = typing_.kind_name(typing_.known(left)), typing_.kind_name(typing_.known(right))
    if lkind not in _SCALARS or rkind not in _SCALARS:
        return
    if _comparable(left, lkind, right, rkind):
        return
    operator = _OPERATORS[type(node)]
    message = (f"No matching signature for operator {operator} for argument types: {lkind}, {rkind}. "
               f"Supported signature: ANY {operator} ANY")
    raise InvalidQuery(message + position(sql, left))


def check(tree: exp.Expression, sql: str) -> None:
    """Check every call and comparison of an annotated statement (see the module docstring)."""
    for node in tree.dfs():
        if type(node) in _OPERATORS:
            check_comparison(node, sql)
        elif isinstance(node, exp.Func):
            check_call(node, sql)
