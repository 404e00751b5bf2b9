"""BIGNUMERIC values: 76.76 digits of precision, 38 of them after the decimal point.

DuckDB's decimals stop at 38 digits, so a BIGNUMERIC *column* is stored as VARCHAR holding the
value's decimal text, which keeps every digit BigQuery keeps. Writes store that text (loads,
insertAll, DataFrames' ``decimal256``), reads give it back exactly (REST rows, Arrow
``decimal256(76, 38)``). Inside expressions the translator reads such a column as
``DECIMAL(38,9)`` (arithmetic, comparisons: BigQuery's BIGNUMERIC arithmetic beyond NUMERIC's
range and scale stays a documented gap); a column or query parameter selected as it is keeps
every digit. The canonical text is what BigQuery's REST API writes: plain digits, no exponent,
no trailing fractional zeros.
"""

from __future__ import annotations

import decimal

MAX = decimal.Decimal("578960446186580977117854925043439539266.34992332820282019728792003956564819967")
MIN = -decimal.Decimal("578960446186580977117854925043439539266.34992332820282019728792003956564819968")
_SCALE = decimal.Decimal(1).scaleb(-38)
_CONTEXT = decimal.Context(prec=120)

#: name of the DuckDB function (registered on every connection) writing a stored value's canonical text
TEXT_FUNCTION = "bq_bignumeric_text"


def parse(value: object) -> decimal.Decimal:
    """The BIGNUMERIC ``value`` (text, int, float or Decimal) rounded to 38 places; ``ValueError``
    when it is no number or out of range."""
    try:
        number = decimal.Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except decimal.InvalidOperation:
        raise ValueError(f"Invalid BIGNUMERIC value: {value}") from None
    if not number.is_finite():
        raise ValueError(f"Invalid BIGNUMERIC value: {value}")
    number = number.quantize(_SCALE, rounding=decimal.ROUND_HALF_EVEN, context=_CONTEXT)
    if number > MAX or number < MIN:
        raise ValueError(f"Invalid BIGNUMERIC value: {value}")
    return number


def text(value: object) -> str:
    """BigQuery's text of a BIGNUMERIC value (``"1.5"``, ``"-0.00000000000000000000000000000000000001"``)."""
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value).strip())
    out = format(number.quantize(_SCALE, rounding=decimal.ROUND_HALF_EVEN, context=_CONTEXT), "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def text_or_none(value: str | None) -> str | None:
    """:func:`text` for DuckDB (NULL stays NULL; a value that is no number comes back unchanged)."""
    if value is None:
        return None
    try:
        return text(value)
    except (decimal.InvalidOperation, ValueError):
        return value
