"""The GoogleSQL dialect the translator parses with: sqlglot's BigQuery dialect plus parser fixes.

* A parenthesized join whose first item is ``UNNEST`` (``FROM (UNNEST([1, 2]) AS n JOIN t ON TRUE)``,
  valid GoogleSQL) stops sqlglot's BigQuery parser at the JOIN ("Expecting )"). It is read as the
  equivalent ``FROM (SELECT * FROM UNNEST(...) AS n JOIN t ON TRUE)``: the same columns, unqualified.

A subclass (not a patch of sqlglot's classes), so other users of sqlglot in the process are unaffected.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.tokens import TokenType


class EmulatorGoogleSQL(BigQuery):
    class Parser(BigQuery.Parser):
        def _parse_wrapped_select(self, table: bool = False) -> Any:
            if table and self._match_pair(TokenType.UNNEST, TokenType.L_PAREN, advance=False):
                index = self._index
                unnest = self._parse_unnest()
                joins = list(self._parse_joins()) if unnest is not None else []
                if joins:
                    select = exp.select("*").from_(unnest, copy=False)
                    for join in joins:
                        select.append("joins", join)
                    return self._parse_query_modifiers(self._parse_set_operations(select))
                self._retreat(index)
            return super()._parse_wrapped_select(table)


#: What the translator passes to sqlglot as ``read=``.
GOOGLESQL = EmulatorGoogleSQL()
