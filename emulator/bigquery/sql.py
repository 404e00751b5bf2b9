"""GoogleSQL → DuckDB translation: sqlglot (read="bigquery", write="duckdb") plus our own rules.

``translate(sql, project=, dataset=, now=, param_types=)`` returns one :class:`Statement` per
statement of the request, each with its BigQuery ``statementType``, the DuckDB SQL to run, the
table it writes and the tables it reads. The divergence fixes live in
:mod:`emulator.bigquery.sql_rules`, INFORMATION_SCHEMA in :mod:`emulator.bigquery.sql_information_schema`.

Catalog mapping: BigQuery project → DuckDB catalog named like the project, dataset → schema,
table → table. Every table reference is written fully qualified and quoted
(``"my-proj"."ds"."t"``), so the SQL does not depend on the cursor's ``USE``; names of CTEs and
of temporary tables created earlier in the same script are left alone.

Scripting: several statements separated by ``;`` become several Statements. ``DECLARE`` /
``SET`` of scalar variables map onto DuckDB session variables (``SET VARIABLE`` /
``getvariable``). Control flow (``IF``, loops, ``BEGIN…END`` blocks…) never reaches this module:
:mod:`emulator.bigquery.script` parses it and hands over the statements and conditions as one
statement list. ``BEGIN TRANSACTION`` / ``COMMIT`` / ``ROLLBACK`` become Statements of their own kind
with no SQL (the backend runs them); ``EXECUTE IMMEDIATE`` and procedures are not supported.

Types: ``translate(..., catalog=lookup)`` gives the translator the catalog's schemas
(``lookup(project, dataset, table)`` → REST schema fields or None). Every statement is annotated
with GoogleSQL types by :mod:`emulator.bigquery.sql_typing` (sqlglot's ``annotate_types`` over a
``MappingSchema`` of the tables it reads, with the declared types of query parameters), and the
rules dispatch on those types (NUMERIC arithmetic, BYTES vs STRING, signature errors…).

Translations are cached (LRU keyed by sql, project, dataset and parameter types). A cached
translation remembers the schemas it was typed with and is used again only while the lookup
still answers the same for each of them (a changed or dropped table re-translates). The virtual
clock's instant is not part of the key: ``CURRENT_*`` compile to a placeholder that is replaced
by ``now`` on every call. Returned Statements are fresh objects; treat them as read-only.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from emulator.bigquery import sql_guard
from emulator.bigquery import sql_information_schema as information_schema
from emulator.bigquery import sql_rules as rules
from emulator.bigquery import sql_signatures as signatures
from emulator.bigquery import sql_typing as typing_
from emulator.bigquery.errors import BigQueryError, InvalidQuery
from emulator.bigquery.sql_dialect import GOOGLESQL

__all__ = ["Statement", "TableRef", "translate", "NOOP_SQL"]

#: SQL the backend can run for statements that have no effect here (BEGIN TRANSACTION, SET OPTIONS).
NOOP_SQL = "SELECT NULL WHERE FALSE"

_CACHE_SIZE = 2048
#: longer requests (typically INSERT … VALUES with many rows) are translated every time, not cached
_CACHE_MAX_SQL = 64 * 1024


@dataclass(frozen=True)
class TableRef:
    project: str
    dataset: str
    table: str | None = None


@dataclass
class Statement:
    kind: str
    sql: str
    target: TableRef | None = None
    columns: list[dict] | None = None
    if_not_exists: bool = False
    or_replace: bool = False
    if_exists: bool = False
    referenced: list[TableRef] = field(default_factory=list)
    #: DROP SCHEMA … CASCADE
    cascade: bool = False
    #: query parameters this statement references, in binding order: names (as written, for NAMED
    #: mode) or 0-based positions in the request's list (POSITIONAL mode). DuckDB wants exactly the
    #: parameters a statement uses, so bind ``{n: values[n] for n in parameters}`` /
    #: ``[values[i] for i in parameters]``.
    parameters: list[str | int] = field(default_factory=list)
    #: ALTER TABLE … RENAME TO: the table's new name (same project and dataset)
    renamed_to: TableRef | None = None
    #: named parameters the SQL refers to by another name (names DuckDB cannot spell, such as the
    #: DB-API's ``%(a "weird" `name`)s``): bind ``{parameter_names.get(n, n): value}``
    parameter_names: dict[str, str] = field(default_factory=dict)
    #: a query's result columns whose GoogleSQL type DuckDB's result type does not tell:
    #: ``{column name (lower case): REST type}`` (:func:`emulator.bigquery.sql_typing.output_hints`)
    output_hints: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# public entry point + cache
# ------------------------------------------------------------------------------------------
#: key → (statements, the catalog answers they were typed with)
_cache: OrderedDict[tuple, tuple[tuple[Statement, ...], tuple[tuple[tuple[str, str, str], Any], ...]]] = OrderedDict()
_cache_lock = threading.Lock()
_QUOTED_NOW = f"'{rules.NOW_PLACEHOLDER}'"


def translate(sql: str, *, project: str, dataset: str | None = None, now: datetime,
              param_types: dict[str, dict] | list[dict] | None = None,
              catalog: Callable[[str, str, str], list[dict] | None] | None = None) -> list[Statement]:
    """Translate a GoogleSQL request into DuckDB statements (see the module docstring).

    ``catalog(project, dataset, table)`` returns a table's REST schema fields (None when unknown);
    without it column types are unknown and the rules fall back to what literals tell.
    """
    key = (sql, project, dataset, _freeze(param_types), catalog is not None)
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
    cached = None
    if entry is not None and _still_valid(entry[1], catalog):
        cached = entry[0]
    if cached is None:
        types = typing_.Catalog(catalog)
        try:
            cached = tuple(_translate_uncached(sql, project, dataset, param_types, types))
        except InvalidQuery:
            raise
        except BigQueryError as exc:  # e.g. a schema problem found while reading CREATE TABLE's columns
            raise InvalidQuery(exc.message) from None
        except RecursionError:
            raise InvalidQuery("The query is too complex: expressions are nested too deeply") from None
        except Exception as exc:  # noqa: BLE001 - a translator bug must not become a 5xx (clients retry those)
            raise InvalidQuery(f"wallaroo-emulator cannot translate this query ({type(exc).__name__}: {exc})") from exc
        if len(sql) <= _CACHE_MAX_SQL:
            with _cache_lock:
                _cache[key] = (cached, tuple(types.dependencies.items()))
                if len(_cache) > _CACHE_SIZE:
                    _cache.popitem(last=False)
    now_literal: str | None = None
    out = []
    for statement in cached:
        if rules.NOW_PLACEHOLDER in statement.sql:
            if now_literal is None:
                now_literal = _timestamp_literal(now)
            out.append(replace(statement, sql=statement.sql.replace(_QUOTED_NOW, now_literal),
                               referenced=list(statement.referenced), parameters=list(statement.parameters),
                               parameter_names=dict(statement.parameter_names)))
        else:
            out.append(replace(statement, referenced=list(statement.referenced),
                               parameters=list(statement.parameters), parameter_names=dict(statement.parameter_names)))
    return out


def _still_valid(dependencies: tuple[tuple[tuple[str, str, str], Any], ...],
                 catalog: Callable[[str, str, str], list[dict] | None] | None) -> bool:
    """True while the catalog answers as it did when the cached translation was typed."""
    if not dependencies or catalog is None:
        return True
    for (project, dataset, table), schema in dependencies:
        try:
            current = catalog(project, dataset, table)
        except Exception:  # noqa: BLE001 - a failing lookup reads as "unknown table"
            current = None
        if current != schema:
            return False
    return True


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _freeze(param_types: Any) -> str | None:
    if not param_types:
        return None
    return json.dumps(param_types, sort_keys=True, default=str)


def _timestamp_literal(now: datetime) -> str:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return "'" + now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "+00'"


# ------------------------------------------------------------------------------------------
# translation proper
# ------------------------------------------------------------------------------------------
class _Script:
    def __init__(self, project: str, dataset: str | None, param_types: Any,
                 catalog: typing_.Catalog | None = None) -> None:
        self.project = project
        self.dataset = dataset
        self.rules = rules.RuleContext(param_types)
        self.temp_tables: set[str] = set()
        self.catalog = catalog or typing_.Catalog(None)
        #: the text the statements being translated were parsed from (positions in errors)
        self.source = ""


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved_level = logging.NOTSET


@contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs unsupported syntax as warnings; our errors say it instead (thread-safe nesting)."""
    global _quiet_depth, _quiet_saved_level
    logger = logging.getLogger("sqlglot")
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved_level = logger.level
            logger.setLevel(logging.ERROR)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logger.setLevel(_quiet_saved_level)


#: Python recursion limit while translating: sqlglot parses, copies and generates recursively (about
#: 20 frames per level of parentheses), and BigQuery accepts expressions nested hundreds deep.
_TRANSLATION_RECURSION_LIMIT = 12_000
_recursion_lock = threading.Lock()
_recursion_depth = 0
_recursion_saved = 0


@contextmanager
def _deep_recursion() -> Iterator[None]:
    """Raise the recursion limit while any thread translates (restored when the last one finishes)."""
    global _recursion_depth, _recursion_saved
    with _recursion_lock:
        if _recursion_depth == 0:
            _recursion_saved = sys.getrecursionlimit()
            if _recursion_saved < _TRANSLATION_RECURSION_LIMIT:
                sys.setrecursionlimit(_TRANSLATION_RECURSION_LIMIT)
        _recursion_depth += 1
    try:
        yield
    finally:
        with _recursion_lock:
            _recursion_depth -= 1
            if _recursion_depth == 0 and sys.getrecursionlimit() == _TRANSLATION_RECURSION_LIMIT:
                sys.setrecursionlimit(_recursion_saved)


def _translate_uncached(sql: str, project: str, dataset: str | None, param_types: Any,
                        catalog: typing_.Catalog) -> list[Statement]:
    with _quiet_sqlglot(), _deep_recursion():
        return _translate_script(sql, project, dataset, param_types, catalog)


def _translate_script(sql: str, project: str, dataset: str | None, param_types: Any,
                      catalog: typing_.Catalog) -> list[Statement]:
    _check_statement_starts(sql)
    if "ASSERT" in sql.upper():
        chunks = _split_script(sql)
        if any(c.lstrip()[:6].upper() == "ASSERT" for c in chunks):
            script = _Script(project, dataset, param_types, catalog)
            out: list[Statement] = []
            for chunk in chunks:
                if chunk.lstrip()[:6].upper() == "ASSERT":
                    script.rules.used_parameters = []
                    assertion = _assert_statement(chunk, script)
                    assertion.parameters = list(dict.fromkeys(script.rules.used_parameters))
                    out.append(assertion)
                    continue
                script.source = chunk
                try:
                    trees = sqlglot.parse(chunk, read=GOOGLESQL)
                except ParseError as exc:
                    raise InvalidQuery(_parse_error_message(chunk, exc)) from None
                except (TokenError, AttributeError, IndexError, KeyError, TypeError, ValueError):
                    raise InvalidQuery("Syntax error: the query could not be parsed") from None
                out.extend(_statement(t, script, chunk) for t in trees if t is not None)
            return out
    try:
        trees = sqlglot.parse(sql, read=GOOGLESQL)
    except ParseError as exc:
        raise InvalidQuery(_parse_error_message(sql, exc)) from None
    except TokenError:
        raise InvalidQuery(_token_error_message(sql)) from None
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:  # sqlglot gave up mid-parse
        raise InvalidQuery(f"Syntax error: the query could not be parsed ({type(exc).__name__})") from None
    script = _Script(project, dataset, param_types, catalog)
    script.source = sql
    out = []
    for tree in trees:
        if tree is None:
            continue
        out.append(_statement(tree, script, sql))
    return out


def _split_quoted_routine_names(tree: exp.Expression) -> None:
    """```project.dataset.routine`(…)`` (the full name in one pair of backticks, as clients write routine
    references) is the same call as ``project.dataset.routine(…)``: a dotted call, or in a FROM clause a
    table function qualified by its dataset."""
    for node in list(tree.find_all(exp.Anonymous)):
        name = node.this.name if isinstance(node.this, exp.Identifier) else str(node.this)
        parts = name.split(".")
        if len(parts) not in (2, 3) or not all(parts):
            continue
        call = exp.Anonymous(this=exp.to_identifier(parts[-1], quoted=True), expressions=list(node.expressions))
        parent = node.parent
        if isinstance(parent, exp.Table) and parent.this is node:
            parent.set("this", call)
            parent.set("db", exp.to_identifier(parts[-2], quoted=True))
            if len(parts) == 3:
                parent.set("catalog", exp.to_identifier(parts[0], quoted=True))
            continue
        qualifier: exp.Expression = exp.to_identifier(parts[0], quoted=True)
        if len(parts) == 3:
            qualifier = exp.Dot(this=qualifier, expression=exp.to_identifier(parts[1], quoted=True))
        node.replace(exp.Dot(this=qualifier, expression=call))


def _statement(tree: exp.Expression, script: _Script, source: str) -> Statement:
    _split_quoted_routine_names(tree)
    sql_guard.refuse_engine_functions(tree, source)
    script.rules.used_parameters = []
    script.rules.renamed_parameters = {}
    statement = _statement_kind(tree, script, source)
    statement.parameter_names = dict(script.rules.renamed_parameters)
    used = script.rules.used_parameters
    if any(isinstance(u, int) for u in used):
        statement.parameters = sorted({u for u in used if isinstance(u, int)})
    else:
        statement.parameters = list(dict.fromkeys(used))
    return statement


def _statement_kind(tree: exp.Expression, script: _Script, source: str) -> Statement:
    if isinstance(tree, exp.Query):
        return _dml_or_query(tree, "SELECT", None, script)
    if isinstance(tree, exp.Insert):
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return _dml_or_query(tree, "INSERT", target, script)
    if isinstance(tree, exp.Update):
        if not tree.args.get("where"):
            raise InvalidQuery("UPDATE must have a WHERE clause")
        return _dml_or_query(tree, "UPDATE", tree.this, script)
    if isinstance(tree, exp.Delete):
        if not tree.this and tree.args.get("tables"):
            tree.set("this", tree.args["tables"][0])
            tree.set("tables", None)
        if not tree.args.get("where"):
            raise InvalidQuery("DELETE must have a WHERE clause")
        return _dml_or_query(tree, "DELETE", tree.this, script)
    if isinstance(tree, exp.Merge):
        return _dml_or_query(tree, "MERGE", tree.this, script)
    if isinstance(tree, exp.Create):
        return _create(tree, script)
    if isinstance(tree, exp.Drop):
        return _drop(tree, script)
    if isinstance(tree, exp.Alter):
        return _alter(tree, script)
    if isinstance(tree, exp.TruncateTable):
        tables = tree.expressions
        ref = _qualify(tables[0], script)
        return Statement("TRUNCATE_TABLE", f"TRUNCATE TABLE {_quoted(ref)}", target=ref)
    if isinstance(tree, exp.Declare):
        return _declare(tree, script)
    if isinstance(tree, exp.Set):
        return _set(tree, script)
    if isinstance(tree, exp.Transaction):
        return Statement("BEGIN_TRANSACTION", NOOP_SQL)
    if isinstance(tree, exp.Commit):
        return Statement("COMMIT_TRANSACTION", NOOP_SQL)
    if isinstance(tree, exp.Rollback):
        return Statement("ROLLBACK_TRANSACTION", NOOP_SQL)
    word = tree.sql("bigquery").split(None, 1)[0].upper() if tree.sql("bigquery").strip() else "statement"
    raise InvalidQuery(f"{word} statements are not supported by wallaroo-emulator")


# ------------------------------------------------------------------------------------------
# names
# ------------------------------------------------------------------------------------------
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quoted(ref: TableRef) -> str:
    return f"{_quote(ref.project)}.{_quote(ref.dataset)}.{_quote(ref.table or '')}"


def _table_parts(table: exp.Table) -> list[str]:
    parts: list[str] = []
    for key in ("catalog", "db", "this"):
        part = table.args.get(key)
        if isinstance(part, exp.Identifier):
            parts.extend(part.name.split(".") if part.quoted else [part.name])
        elif isinstance(part, exp.Expression):
            parts.append(part.name)
    return parts


def _qualify(table: exp.Table, script: _Script) -> TableRef:
    """Resolve ``table`` against the defaults and rewrite it as ``"p"."d"."t"`` in place."""
    parts = _table_parts(table)
    if len(parts) == 1:
        if script.dataset is None:
            raise InvalidQuery(f'Table "{parts[0]}" must be qualified with a dataset (e.g. dataset.table).')
        parts = [script.project, script.dataset, parts[0]]
    elif len(parts) == 2:
        parts = [script.project, *parts]
    elif len(parts) > 3:
        raise InvalidQuery(f"Invalid table name: {'.'.join(parts)}")
    ref = TableRef(parts[0], parts[1], parts[2])
    table.set("catalog", exp.to_identifier(ref.project, quoted=True))
    table.set("db", exp.to_identifier(ref.dataset, quoted=True))
    table.set("this", exp.to_identifier(ref.table, quoted=True))
    return ref


def _is_plain_table(table: exp.Table) -> bool:
    return isinstance(table.this, exp.Identifier)


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _resolve_tables(tree: exp.Expression, script: _Script, skip: tuple[exp.Expression, ...] = ()
                    ) -> tuple[list[TableRef], list[tuple[exp.Table, exp.Expression]]]:
    """Qualify every table read by ``tree``; returns (references, INFORMATION_SCHEMA replacements)."""
    ctes = _cte_names(tree)
    referenced: list[TableRef] = []
    replacements: list[tuple[exp.Table, exp.Expression]] = []
    for table in list(tree.find_all(exp.Table)):
        if any(table is s for s in skip) or not _is_plain_table(table):
            continue
        if isinstance(table.parent, exp.UserDefinedFunction):
            continue
        info = information_schema.match(table, script.project, script.dataset)
        if info is not None:
            replacements.append((table, info))
            continue
        if not table.args.get("db") and not table.args.get("catalog"):
            name = table.name.lower()
            if name in ctes or name in script.temp_tables:
                continue
        ref = _qualify(table, script)
        if ref not in referenced:
            referenced.append(ref)
    return referenced, replacements


def _apply_replacements(replacements: list[tuple[exp.Table, exp.Expression]]) -> None:
    for table, new in replacements:
        table.replace(new)


# ------------------------------------------------------------------------------------------
# anonymous result columns: BigQuery names them f0_, f1_, …
# ------------------------------------------------------------------------------------------
def _name_anonymous_columns(query: exp.Expression) -> None:
    """Unnamed result columns are f0_, f1_…; a repeated name gets a suffix (x, x_1), as in BigQuery."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if isinstance(select, exp.Subquery):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    counter = 0
    new: list[exp.Expression] = []
    seen: set[str] = set()
    changed = False
    for item in select.expressions:
        if isinstance(item, exp.Paren) and isinstance(item.unnest(), exp.Column | exp.Dot):
            item = exp.alias_(item, item.unnest().alias_or_name)  # (x) keeps the column's name
            changed = True
        inner = item.this if isinstance(item, exp.Alias) else item
        if isinstance(inner, exp.Null):  # an untyped NULL column is INT64 in BigQuery
            inner.replace(exp.cast(exp.null(), exp.DataType.build("BIGINT")))
            item = select.expressions[len(new)] if not isinstance(item, exp.Alias) else item
            changed = True
        if isinstance(item, exp.Star) or (isinstance(item, exp.Column) and isinstance(item.this, exp.Star)):
            new.append(item)
            continue
        if isinstance(item, exp.Alias | exp.Column | exp.Dot):
            name = item.alias_or_name
            if name.lower() in seen:
                suffix = 1
                while f"{name}_{suffix}".lower() in seen:
                    suffix += 1
                target = item.this if isinstance(item, exp.Alias) else item
                item = exp.alias_(target, f"{name}_{suffix}")
                name = f"{name}_{suffix}"
                changed = True
            seen.add(name.lower())
            new.append(item)
            continue
        item = exp.alias_(item, f"f{counter}_")
        counter += 1
        changed = True
        new.append(item)
    if changed:
        select.set("expressions", new)


def _name_derived_tables(tree: exp.Expression) -> None:
    """Anonymous columns of CTEs and FROM-clause subqueries are f0_, f1_… too (visible through *)."""
    for node in list(tree.find_all(exp.CTE, exp.Subquery)):
        if isinstance(node, exp.CTE) or isinstance(node.parent, exp.From | exp.Join):
            _name_anonymous_columns(node.this)


# ------------------------------------------------------------------------------------------
# statement kinds
# ------------------------------------------------------------------------------------------
def _generate(tree: exp.Expression) -> str:
    return tree.sql(dialect="duckdb")


#: ``INSERT … VALUES`` with more rows than this is not type-annotated: typing a bulk load costs far more
#: than translating it, and its rows are literals whose types the rules read from their spelling
_TYPED_VALUES_ROWS = 50


def _bulk_values(tree: exp.Expression) -> bool:
    values = tree.expression if isinstance(tree, exp.Insert) else None
    return isinstance(values, exp.Values) and len(values.expressions) > _TYPED_VALUES_ROWS


def _finish(tree: exp.Expression, script: _Script, replacements: list[tuple[exp.Table, exp.Expression]],
            referenced: list[TableRef] | tuple[TableRef, ...] = (), hints: dict[str, str] | None = None) -> str:
    rules.number_placeholders(tree, script.rules)
    if not _bulk_values(tree):
        typing_.annotate(tree, script.catalog.mapping(referenced), script.rules.named_types,
                         script.rules.positional_types)
        signatures.check(tree, script.source)
        tables = [script.catalog.schema(r.project, r.dataset, r.table) for r in referenced if r.table]
        script.rules.bignumeric_names = {str(f.get("name")).lower() for fields in tables for f in fields or []
                                         if str(f.get("type")).upper() in ("BIGNUMERIC", "BIGDECIMAL")}
        if hints is not None:
            hints.update(typing_.output_hints(tree, tables))
    root = rules.apply(tree, script.rules)
    _apply_replacements(replacements)
    return _generate(root)


def _dml_or_query(tree: exp.Expression, kind: str, target_node: Any, script: _Script) -> Statement:
    target = None
    skip: tuple[exp.Expression, ...] = ()
    if isinstance(target_node, exp.Table):
        name = target_node.name.lower()
        if not (target_node.args.get("db") is None and name in script.temp_tables):
            target = _qualify(target_node, script)
        skip = (target_node,)
    if kind == "SELECT":
        _name_anonymous_columns(tree)
    _name_derived_tables(tree)
    referenced, replacements = _resolve_tables(tree, script, skip)
    hints: dict[str, str] = {}
    sql = _finish(tree, script, replacements, [*referenced, *([target] if target else [])],
                  hints if kind == "SELECT" else None)
    if kind == "SELECT" and _star_over_join(tree):
        # DuckDB repeats a name shared by joined tables; a subquery renames repeats x_1, x_2 as BigQuery
        # does (insertion order is preserved, so an ORDER BY inside still orders the result)
        sql = f"SELECT * FROM ({sql}) AS _wallaroo_result"
    return Statement(kind, sql, target=target, referenced=referenced, output_hints=hints)


def _star_over_join(tree: exp.Expression) -> bool:
    if not isinstance(tree, exp.Select):
        return False
    has_star = any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
                   for e in tree.expressions)
    return has_star and bool(tree.args.get("joins"))


def _create(tree: exp.Create, script: _Script) -> Statement:
    kind = str(tree.args.get("kind") or "").upper()
    replace_ = bool(tree.args.get("replace"))
    exists = bool(tree.args.get("exists"))
    properties = tree.args.get("properties")
    temporary = bool(properties and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions))
    if kind == "SCHEMA":
        target = _schema_ref(tree.this, script)
        return Statement("CREATE_SCHEMA", "", target=target, if_not_exists=exists, or_replace=replace_)
    if kind == "FUNCTION":
        return _create_function(tree, script, temporary)
    if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW"):
        schema = tree.this if isinstance(tree.this, exp.Schema) else None
        table = schema.this if schema is not None else tree.this
        if not isinstance(table, exp.Table):
            raise InvalidQuery("Syntax error: expected a table name")
        query = tree.args.get("expression")
        if temporary:
            script.temp_tables.add(table.name.lower())
            target = None
            qualified = _quote(table.name)
        else:
            target = _qualify(table, script)
            qualified = _quoted(target)
        # temporary objects live in the DuckDB session, which may outlive the script: replace, don't collide
        head = "CREATE " + ("OR REPLACE " if replace_ or temporary else "") + ("TEMP " if temporary else "")
        replacing = replace_ or temporary
        columns = None
        if schema is not None:
            columns = [_column_field(c) for c in schema.expressions if isinstance(c, exp.ColumnDef)]
        if kind != "TABLE":
            if query is None:
                raise InvalidQuery("CREATE VIEW requires AS SELECT")
            _name_anonymous_columns(query)
            referenced, replacements = _resolve_tables(query, script)
            sql = f"{head}VIEW {'IF NOT EXISTS ' if exists and not replacing else ''}{qualified} AS " \
                  f"{_finish(query, script, replacements, referenced)}"
            return Statement("CREATE_VIEW", sql, target=target, if_not_exists=exists, or_replace=replace_,
                             referenced=referenced)
        if_not = "IF NOT EXISTS " if exists and not replacing else ""
        clone = tree.args.get("clone")
        like = next((p for p in properties.expressions if isinstance(p, exp.LikeProperty)), None) \
            if properties else None
        if clone is not None or like is not None:
            source_table = clone.this if clone is not None else like.this
            source = _qualify(source_table, script)
            limit = " LIMIT 0" if like is not None else ""
            sql = f"{head}TABLE {if_not}{qualified} AS SELECT * FROM {_quoted(source)}{limit}"
            return Statement("CREATE_TABLE_AS_SELECT" if clone is not None else "CREATE_TABLE", sql,
                             target=target, if_not_exists=exists, or_replace=replace_, referenced=[source])
        if query is not None:
            _name_anonymous_columns(query)
            referenced, replacements = _resolve_tables(query, script)
            body = _finish(query, script, replacements, referenced)
            if columns:

                decl = _ddl_columns(columns, script)
                names = ", ".join(_quote(c["name"]) for c in columns)
                sql = (f"{head}TABLE {if_not}{qualified} ({decl}); INSERT INTO {qualified} ({names}) "
                       f"SELECT * FROM ({body})")
            else:
                sql = f"{head}TABLE {if_not}{qualified} AS {body}"
            return Statement("CREATE_TABLE_AS_SELECT", sql, target=target, columns=columns or None,
                             if_not_exists=exists, or_replace=replace_, referenced=referenced)
        if not columns:
            raise InvalidQuery("Syntax error: CREATE TABLE needs a column list or AS SELECT")
        if target is not None:  # later statements of the script read it with these types
            script.catalog.local[(target.project, target.dataset, target.table or "")] = columns

        decl = _ddl_columns(columns, script)
        return Statement("CREATE_TABLE", f"{head}TABLE {if_not}{qualified} ({decl})", target=target,
                         columns=columns, if_not_exists=exists, or_replace=replace_)
    raise InvalidQuery(f"CREATE {kind} statements are not supported by wallaroo-emulator")


def _create_function(tree: exp.Create, script: _Script, temporary: bool) -> Statement:
    udf = tree.this
    properties = tree.args.get("properties")
    if properties is not None:
        for prop in properties.expressions:
            if isinstance(prop, exp.LanguageProperty) and prop.name.upper() not in ("SQL", ""):
                raise InvalidQuery("Only SQL user-defined functions are supported by wallaroo-emulator")
    body = tree.args.get("expression")
    if body is None or not isinstance(udf, exp.UserDefinedFunction):
        raise InvalidQuery("Only SQL user-defined functions (CREATE FUNCTION f(x T) AS (expr)) are supported")
    name_table = udf.this
    params = ", ".join(p.name for p in udf.expressions)
    target = None
    if isinstance(name_table, exp.Table) and (name_table.args.get("db") or not temporary):
        target = _qualify(name_table, script)
        name_sql = _quoted(target)
    else:
        name_sql = _quote(name_table.name if isinstance(name_table, exp.Expression) else str(name_table))
    # CREATE TABLE FUNCTION f(...) AS (SELECT ...): sqlglot reads it as CREATE FUNCTION with a query body
    table_function = isinstance(body, exp.Subquery) and isinstance(body.this, exp.Query) and \
        re.search(r"\bTABLE\s+FUNCTION\b", script.source, flags=re.IGNORECASE) is not None
    if table_function:
        body = body.this
        _name_anonymous_columns(body)
    referenced, replacements = _resolve_tables(body, script)
    body_sql = _finish(body, script, replacements, referenced)
    head = "CREATE " + ("OR REPLACE " if tree.args.get("replace") or temporary else "") + (
        "TEMP " if temporary else "")
    exists = " IF NOT EXISTS" if tree.args.get("exists") and not (tree.args.get("replace") or temporary) else ""
    sql = f"{head}MACRO{exists} {name_sql}({params}) AS {'TABLE ' if table_function else ''}{body_sql}"
    return Statement("CREATE_FUNCTION", sql, target=target, or_replace=bool(tree.args.get("replace")),
                     if_not_exists=bool(tree.args.get("exists")), referenced=referenced)


def _schema_ref(node: Any, script: _Script) -> TableRef:
    parts: list[str] = []
    if isinstance(node, exp.Table):
        parts = [p for p in _table_parts(node) if p]
    elif isinstance(node, exp.Expression):
        parts = node.name.split(".")
    if len(parts) == 1:
        return TableRef(script.project, parts[0])
    if len(parts) == 2:
        return TableRef(parts[0], parts[1])
    raise InvalidQuery(f"Invalid dataset name: {'.'.join(parts)}")


def _drop(tree: exp.Drop, script: _Script) -> Statement:
    kind = str(tree.args.get("kind") or "").upper()
    exists = bool(tree.args.get("exists"))
    tables = tree.args.get("tables") or []
    if not tables:
        raise InvalidQuery("Syntax error: DROP needs a name")
    node = tables[0]
    if kind == "SCHEMA":
        return Statement("DROP_SCHEMA", "", target=_schema_ref(node, script), if_exists=exists,
                         cascade=bool(tree.args.get("cascade")))
    if kind in ("TABLE", "VIEW", "MATERIALIZED VIEW"):
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name.lower() in script.temp_tables:
            return Statement("DROP_TABLE", f"DROP TABLE {'IF EXISTS ' if exists else ''}{_quote(node.name)}")
        ref = _qualify(node, script)
        duck_kind = "TABLE" if kind == "TABLE" else "VIEW"
        sql = f"DROP {duck_kind} {'IF EXISTS ' if exists else ''}{_quoted(ref)}"
        return Statement("DROP_TABLE" if kind == "TABLE" else "DROP_VIEW", sql, target=ref, if_exists=exists)
    if kind == "FUNCTION":
        if isinstance(node, exp.Table) and node.args.get("db"):
            ref = _qualify(node, script)
            return Statement("DROP_FUNCTION", f"DROP MACRO {'IF EXISTS ' if exists else ''}{_quoted(ref)}",
                             target=ref, if_exists=exists)
        return Statement("DROP_FUNCTION", f"DROP MACRO {'IF EXISTS ' if exists else ''}{_quote(node.name)}",
                         if_exists=exists)
    raise InvalidQuery(f"DROP {kind} statements are not supported by wallaroo-emulator")


def _alter(tree: exp.Alter, script: _Script) -> Statement:
    kind = str(tree.args.get("kind") or "TABLE").upper()
    exists = bool(tree.args.get("exists"))
    if kind == "SCHEMA":
        return Statement("ALTER_SCHEMA", NOOP_SQL, target=_schema_ref(tree.this, script), if_exists=exists)
    ref = _qualify(tree.this, script)
    qualified = _quoted(ref)
    parts: list[str] = []
    columns: list[dict] = []
    renamed_to: TableRef | None = None
    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            new_parts = _table_parts(action.this)
            renamed_to = TableRef(ref.project, ref.dataset, new_parts[-1])
            parts.append(f"ALTER TABLE {qualified} RENAME TO {_quote(new_parts[-1])}")
            continue
        if isinstance(action, exp.ColumnDef):
            column = _column_field(action)
            columns.append(column)

            duck = _ddl_columns([column], script)
            if_not = "IF NOT EXISTS " if action.args.get("exists") else ""
            parts.append(f"ALTER TABLE {qualified} ADD COLUMN {if_not}{duck}")
        elif isinstance(action, exp.AlterSet):
            continue  # SET OPTIONS(...): metadata only
        else:
            single = exp.Alter(this=exp.to_table(qualified, dialect="duckdb"), kind="TABLE", actions=[action])
            single = rules.apply(single, script.rules)
            parts.append(_generate(single))
    sql = "; ".join(parts) if parts else NOOP_SQL
    return Statement("ALTER_VIEW" if kind == "VIEW" else "ALTER_TABLE", sql, target=ref, columns=columns or None,
                     if_exists=exists, renamed_to=renamed_to)


# ------------------------------------------------------------------------------------------
# ASSERT
# ------------------------------------------------------------------------------------------
def _assert_statement(text: str, script: _Script) -> Statement:
    """``ASSERT expression [AS 'description']``: fails the request with the description when not TRUE."""
    body = text.strip().rstrip(";").strip()[len("ASSERT"):].strip()
    message: str | None = None
    tokens = _tokens(body)
    if len(tokens) >= 2 and tokens[-2].token_type == TokenType.ALIAS and tokens[-1].token_type == TokenType.STRING:
        message = tokens[-1].text
        body = body[: tokens[-2].start].strip()
    if not body:
        raise InvalidQuery("Syntax error: Unexpected end of statement after ASSERT")
    try:
        condition = sqlglot.parse_one(f"SELECT {body}", read=GOOGLESQL).expressions[0]
    except (ParseError, TokenError) as exc:
        raise InvalidQuery(f"Syntax error: {str(exc).splitlines()[0]}") from None
    description = message or f"Assertion failed: {body}"
    check = exp.select(exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Paren(this=exp.Coalesce(
        this=condition, expressions=[exp.false()]))), true=exp.Anonymous(
        this="error", expressions=[exp.Literal.string(description)]))]))
    referenced, replacements = _resolve_tables(check, script)
    return Statement("ASSERT", _finish(check, script, replacements, referenced), referenced=referenced)


def _split_script(sql: str) -> list[str]:
    """Statements of a script, split at top-level semicolons (for scripts sqlglot cannot parse whole)."""
    parts, start = [], 0
    for token in _tokens(sql):
        if token.token_type == TokenType.SEMICOLON:
            parts.append(sql[start:token.start])
            start = token.end + 1
    parts.append(sql[start:])
    return [p for p in parts if p.strip()]


# ------------------------------------------------------------------------------------------
# scripting variables
# ------------------------------------------------------------------------------------------
def _declare(tree: exp.Declare, script: _Script) -> Statement:
    statements = []
    for item in tree.expressions:
        names = item.this if isinstance(item.this, list) else [item.this]
        kind = item.args.get("kind")
        default = item.args.get("default")
        for name_node in names:
            name = name_node.name.lower()
            value: exp.Expression = default.copy() if isinstance(default, exp.Expression) else exp.null()
            if isinstance(kind, exp.DataType):
                value = exp.cast(value, kind.copy())
            statements.append(_set_variable(name, value, script))
            script.rules.variables[name] = kind
    return Statement("DECLARE", "; ".join(statements))


def _set(tree: exp.Set, script: _Script) -> Statement:
    statements = []
    for item in tree.expressions:
        assignment = item.this if isinstance(item, exp.SetItem) else item
        if not isinstance(assignment, exp.EQ):
            raise InvalidQuery("Only SET variable = expression is supported by wallaroo-emulator")
        name = assignment.this.name.lower()
        if name not in script.rules.variables:
            raise InvalidQuery(f"Unrecognized name: {assignment.this.name}")
        kind = script.rules.variables[name]
        value = assignment.expression
        if isinstance(kind, exp.DataType):
            value = exp.cast(value, kind.copy())
        statements.append(_set_variable(name, value, script))
    return Statement("SET", "; ".join(statements))


def _set_variable(name: str, value: exp.Expression, script: _Script) -> str:
    wrapper = exp.select(value)
    referenced, replacements = _resolve_tables(wrapper, script)
    value_sql = _finish(wrapper, script, replacements, referenced)
    return f"SET VARIABLE {_quote(name)} = ({value_sql})"


# ------------------------------------------------------------------------------------------
# CREATE TABLE column definitions → REST schema fields
# ------------------------------------------------------------------------------------------
_T = exp.DataType.Type
_BQ_TYPE_NAMES = {
    _T.BIGINT: "INTEGER", _T.INT: "INTEGER", _T.SMALLINT: "INTEGER", _T.TINYINT: "INTEGER",
    _T.DOUBLE: "FLOAT", _T.FLOAT: "FLOAT", _T.DECIMAL: "NUMERIC", _T.BIGDECIMAL: "BIGNUMERIC",
    _T.BOOLEAN: "BOOLEAN", _T.TEXT: "STRING", _T.VARCHAR: "STRING", _T.CHAR: "STRING",
    _T.BINARY: "BYTES", _T.VARBINARY: "BYTES", _T.BLOB: "BYTES", _T.DATE: "DATE", _T.TIME: "TIME",
    _T.TIMESTAMP: "DATETIME", _T.DATETIME: "DATETIME", _T.TIMESTAMPTZ: "TIMESTAMP", _T.JSON: "JSON",
    _T.GEOGRAPHY: "GEOGRAPHY", _T.INTERVAL: "INTERVAL",
}


#: DuckDB session variable holding the virtual clock's instant for column DEFAULTs using CURRENT_*.
CLOCK_VARIABLE = "__wallaroo_emulator_now"


def clock_variable_sql(now: datetime) -> str:
    """SQL the backend runs on each request cursor so ``DEFAULT CURRENT_TIMESTAMP()`` columns read the clock."""
    return f"SET VARIABLE {CLOCK_VARIABLE} = CAST({_timestamp_literal(now)} AS TIMESTAMPTZ)"


def _ddl_columns(columns: list[dict], script: _Script) -> str:
    """DuckDB column definitions for REST fields (types as the backend stores them, plus DEFAULTs)."""
    from emulator.bigquery import types as bqtypes

    parts = []
    for field_, normalised in zip(columns, bqtypes.normalise_schema(columns)):
        col = f"{_quote(normalised['name'])} {bqtypes.field_duckdb_type(normalised)}"
        if normalised.get("mode") == "REQUIRED":
            col += " NOT NULL"
        default = field_.get("defaultValueExpression")
        if default:
            col += f" DEFAULT ({_default_sql(default, script)})"
        parts.append(col)
    return ", ".join(parts)


def default_column_sql(default: str, project: str) -> str:
    """DuckDB SQL of a column's GoogleSQL ``defaultValueExpression`` (CURRENT_* read the virtual clock)."""
    try:
        return _default_sql(default, _Script(project, None, None))
    except sqlglot.errors.ParseError:
        raise InvalidQuery(f"Invalid default value expression: {default}") from None


def _default_sql(default: str, script: _Script) -> str:
    tree = sqlglot.parse_one(f"SELECT {default}", read=GOOGLESQL)
    sql = _finish(tree, script, [])
    clock = f"CAST(getvariable('{CLOCK_VARIABLE}') AS TIMESTAMPTZ)"
    return sql[len("SELECT "):].replace(f"CAST({_QUOTED_NOW} AS TIMESTAMPTZ)", clock)


def _column_field(column: exp.ColumnDef) -> dict:
    kind = column.args.get("kind")
    if not isinstance(kind, exp.DataType):
        raise InvalidQuery(f"Column {column.name} needs a type")
    out = _type_field(column.name, kind)
    for constraint in column.args.get("constraints") or []:
        ckind = constraint.args.get("kind")
        if isinstance(ckind, exp.NotNullColumnConstraint) and not ckind.args.get("allow_null"):
            if out["mode"] == "REPEATED":
                continue
            out["mode"] = "REQUIRED"
        elif isinstance(ckind, exp.DefaultColumnConstraint) and isinstance(ckind.this, exp.Expression):
            out["defaultValueExpression"] = ckind.this.sql("bigquery")
        elif isinstance(ckind, exp.Properties):
            for prop in ckind.expressions:
                if prop.name.lower() == "description" and isinstance(prop.args.get("value"), exp.Literal):
                    out["description"] = prop.args["value"].this
    return out


def _type_field(name: str, dtype: exp.DataType) -> dict:
    if dtype.this == _T.ARRAY:
        inner = dtype.expressions[0] if dtype.expressions else exp.DataType.build("TEXT")
        field_ = _type_field(name, inner)
        field_["mode"] = "REPEATED"
        return field_
    if dtype.this == _T.STRUCT:
        fields = []
        for i, sub in enumerate(dtype.expressions):
            if isinstance(sub, exp.ColumnDef):
                fields.append(_column_field(sub))
            elif isinstance(sub, exp.DataType):
                fields.append(_type_field(f"_field_{i + 1}", sub))
        return {"name": name, "type": "RECORD", "mode": "NULLABLE", "fields": fields}
    bq = _BQ_TYPE_NAMES.get(dtype.this)
    if bq is None:
        raise InvalidQuery(f"Type not found: {dtype.sql('bigquery')}")
    out = {"name": name, "type": bq, "mode": "NULLABLE"}
    params = [p.this for p in dtype.expressions if isinstance(p, exp.DataTypeParam)]
    if params:  # parameterized types: STRING(L), BYTES(L), NUMERIC(P[, S]), BIGNUMERIC(P[, S])
        if not all(isinstance(p, exp.Literal) and not p.is_string for p in params) or \
                len(params) > (2 if bq in ("NUMERIC", "BIGNUMERIC") else 1) or \
                bq not in ("STRING", "BYTES", "NUMERIC", "BIGNUMERIC"):
            raise InvalidQuery(f"Parameterized type {dtype.sql('bigquery')} is not supported")
        if bq in ("STRING", "BYTES"):
            out["maxLength"] = str(params[0].this)
        else:
            out["precision"] = str(params[0].this)
            if len(params) == 2:
                out["scale"] = str(params[1].this)
    return out


# ------------------------------------------------------------------------------------------
# syntax errors in BigQuery's words
# ------------------------------------------------------------------------------------------
_STATEMENT_STARTS = {
    TokenType.SELECT, TokenType.WITH, TokenType.INSERT, TokenType.UPDATE, TokenType.DELETE,
    TokenType.MERGE, TokenType.CREATE, TokenType.DROP, TokenType.ALTER, TokenType.L_PAREN,
    TokenType.TRUNCATE, TokenType.SET, TokenType.BEGIN, TokenType.COMMIT, TokenType.ROLLBACK,
    TokenType.DECLARE, TokenType.COMMAND, TokenType.SEMICOLON, TokenType.EXECUTE, TokenType.FROM,
    TokenType.VALUES, TokenType.DESCRIBE,
}


def _line_col(sql: str, offset: int) -> tuple[int, int]:
    line = sql.count("\n", 0, offset) + 1
    col = offset - (sql.rfind("\n", 0, offset) + 1) + 1
    return line, col


def _describe_token(token: Any) -> str:
    text = token.text
    if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER):
        return f'Unexpected identifier "{text}"'
    if token.token_type == TokenType.STRING:
        return f'Unexpected string literal "{text}"'
    if token.token_type == TokenType.NUMBER:
        kind = "floating point" if any(c in text for c in ".eE") else "integer"
        return f'Unexpected {kind} literal "{text}"'
    if text and text[0].isalpha():
        return f"Unexpected keyword {text.upper()}"
    return f'Unexpected "{text}"'


def _tokens(sql: str) -> list[Any]:
    try:
        return sqlglot.Dialect.get_or_raise("bigquery").tokenize(sql)
    except TokenError:
        return []


def _check_statement_starts(sql: str) -> None:
    """BigQuery rejects a statement that starts with a non-keyword at its first token."""
    tokens = None
    stripped = sql.lstrip()
    if not stripped:
        return
    first = stripped.split(None, 1)[0].upper().rstrip(";(")
    if first in {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER",
                 "TRUNCATE", "DECLARE", "SET", "BEGIN", "COMMIT", "ROLLBACK", "ASSERT"} and ";" not in sql:
        return
    tokens = _tokens(sql)
    expect_start = True
    for token in tokens:
        if expect_start and token.token_type not in _STATEMENT_STARTS and token.text.upper() != "ASSERT":
            if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING, TokenType.NUMBER):
                line, col = _line_col(sql, token.start)
                raise InvalidQuery(f"Syntax error: {_describe_token(token)} at [{line}:{col}]")
        expect_start = token.token_type == TokenType.SEMICOLON


def _token_error_message(sql: str) -> str:
    quote = max(sql.rfind("'"), sql.rfind('"'), sql.rfind("`"))
    if quote < 0:
        return "Syntax error: Illegal input character"
    line, col = _line_col(sql, quote)
    kind = "identifier" if sql[quote] == "`" else "string literal"
    return f"Syntax error: Unclosed {kind} at [{line}:{col}]"


_ARITY = re.compile(r"The number of provided arguments \((\d+)\) is (?:greater|less) than the")


def _arity_message(sql: str, first: dict) -> str | None:
    """sqlglot refuses a known function's argument count while parsing: BigQuery's signature error."""
    match = _ARITY.match(first.get("description") or "")
    if match is None:
        return None
    lines = sql.split("\n")
    line, col = first.get("line") or 1, first.get("col") or 1
    offset = sum(len(ln) + 1 for ln in lines[: line - 1]) + col - 1  # the call's closing parenthesis
    tokens = [t for t in _tokens(sql) if t.start <= offset]
    depth = 0
    for index in range(len(tokens) - 1, 0, -1):
        token = tokens[index]
        if token.token_type == TokenType.R_PAREN:
            depth += 1
        elif token.token_type == TokenType.L_PAREN:
            depth -= 1
            if depth == 0:
                name = tokens[index - 1]
                error = signatures.arity_error(name.text, int(match.group(1)), sql, name.start)
                return error.message if error is not None else None
    return None


def _unclosed_parenthesis(sql: str) -> bool:
    depth = 0
    for token in _tokens(sql):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
    return depth > 0


def _parse_error_message(sql: str, exc: ParseError) -> str:
    errors = getattr(exc, "errors", None) or []
    if not errors:
        return f"Syntax error: {exc}"
    first = errors[0]
    arity = _arity_message(sql, first)
    if arity is not None:
        return arity
    line, col = first.get("line") or 1, first.get("col") or 1
    highlight = first.get("highlight") or ""
    description = first.get("description") or ""
    lines = sql.split("\n")
    # scripts reach the parser with each statement ended by ";": what follows is still the end
    at_end = not (first.get("end_context") or "").strip().strip(";").strip()
    if "SENTINEL" in description or not highlight or (at_end and "Invalid expression" not in description):
        lines = sql.rstrip().rstrip(";").rstrip().split("\n")
        last = len(lines)
        if _unclosed_parenthesis(sql):
            return f'Syntax error: Expected ")" but got end of script at [{last}:{len(lines[-1]) + 1}]'
        return f"Syntax error: Unexpected end of script at [{last}:{len(lines[-1]) + 1}]"
    start_col = max(1, col - len(highlight) + 1)
    # find the token at that position
    offset = sum(len(ln) + 1 for ln in lines[: line - 1]) + start_col - 1
    for token in _tokens(sql):
        if token.start == offset:
            return f"Syntax error: {_describe_token(token)} at [{line}:{start_col}]"
    if offset >= len(sql.rstrip()):
        return f"Syntax error: Unexpected end of script at [{line}:{start_col}]"
    return f"Syntax error: Unexpected \"{highlight}\" at [{line}:{start_col}]"
