"""The Hasura-shaped GraphQL schema of the emulated platform, derived from its table list.

``hasura_tables.graphql`` lists the platform's tables (columns, keys, relationships, the SDK
role's permissions) and tracked SQL functions. Hasura builds its whole GraphQL schema from such
metadata by fixed conventions; :func:`schema_sdl` applies the same conventions (Hasura v2) and
:func:`schema` builds the result with graphql-core, once per process:

* per table ``t``: the object type ``t`` (a jsonb column takes ``path: String`` and is nullable,
  as a path may lead nowhere and Hasura then answers ``null``; an array
  relationship takes ``distinct_on``/``limit``/``offset``/``order_by``/``where``), ``t_bool_exp``
  (``_and``/``_or``/``_not``, one comparison input per column, nested relationships),
  ``t_order_by``, ``t_select_column``; ``query_root`` gets ``t`` and ``t_by_pk``;
* with the ``aggregate`` permission: ``t_aggregate`` / ``t_aggregate_fields`` (``count(columns,
  distinct)``, ``max``/``min`` over comparable columns, ``avg``/``sum`` over numeric ones),
  ``t_aggregate_order_by``, ``t_aggregate_bool_exp`` (``count`` predicates), the root
  ``t_aggregate`` and a ``<rel>_aggregate`` twin of every array relationship to ``t``;
* with ``insert``: ``insert_t`` / ``insert_t_one``, ``t_insert_input`` (nested
  ``*_obj_rel_insert_input`` / ``*_arr_rel_insert_input`` for insertable targets),
  ``t_on_conflict`` / ``t_constraint`` / ``t_update_column``; with ``update``: ``update_t`` /
  ``update_t_by_pk`` / ``update_t_many``, ``t_set_input``, ``t_inc_input``,
  ``t_pk_columns_input``, ``t_updates``; with ``delete``: ``delete_t`` / ``delete_t_by_pk``;
  ``t_mutation_response`` with any of them;
* tracked functions as roots with an ``args`` input; comparison inputs per scalar
  (``String_comparison_exp`` with the LIKE/regex/SIMILAR operators, ``bigint_comparison_exp``,
  ``jsonb_comparison_exp`` with ``_cast``/``_contains``/``_has_key*``, ``<enum>_comparison_exp``,
  ``<scalar>_array_comparison_exp`` for array columns); the ``order_by`` enum.

Left out, as no SDK uses them: subscriptions, the statistical aggregates (``stddev``,
``variance``, ...), ``bool_and``/``bool_or`` aggregate predicates and the jsonb update operators
(``_append``, ``_delete_key``, ...). Scalars get behaviour here: ``timestamptz`` renders like
PostgreSQL's JSON output (ISO 8601 with offset), ``bigint``/``numeric`` as JSON numbers (Hasura's
default, ``stringify-numeric-types`` off), ``uuid`` is checked on input as PostgreSQL would.
"""

from __future__ import annotations

import functools
import math
import uuid as _uuid
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from graphql import GraphQLSchema, build_schema, parse
from graphql.language import ast as gast

TABLES_FILE = "hasura_tables.graphql"

#: Scalars summed and averaged by aggregates and incremented by ``_inc``.
NUMERIC = frozenset({"Int", "Float", "bigint", "float8", "numeric"})
#: Scalars with ``min``/``max`` aggregates (numeric ones, text, time, uuid).
COMPARABLE = NUMERIC | {"String", "bpchar", "timestamptz", "timestamp", "uuid", "interval"}
#: Scalars whose comparison input has the text operators (LIKE, regex, SIMILAR TO).
TEXT = frozenset({"String", "bpchar"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # named scalar or enum
    nullable: bool
    is_list: bool = False  # a PostgreSQL array column, e.g. text[] → [String!]

    def sdl_type(self) -> str:
        inner = f"[{self.type}!]" if self.is_list else self.type
        return inner if self.nullable else inner + "!"


@dataclass(frozen=True)
class Relationship:
    name: str
    target: str
    column: str  # column of this table
    remote: str  # column of the target table
    is_array: bool
    nullable: bool


@dataclass
class Table:
    name: str
    pk: tuple[str, ...]
    unique: tuple[str, ...]
    aggregate: bool = False
    insert: bool = False
    update: bool = False
    delete: bool = False
    columns: dict[str, Column] = field(default_factory=dict)
    relationships: dict[str, Relationship] = field(default_factory=dict)

    @property
    def constraints(self) -> tuple[str, ...]:
        return (f"{self.name}_pkey", *self.unique)

    def numeric_columns(self) -> list[Column]:
        return [c for c in self.columns.values() if c.type in NUMERIC and not c.is_list]

    def comparable_columns(self) -> list[Column]:
        return [c for c in self.columns.values() if c.type in COMPARABLE and not c.is_list]


@dataclass(frozen=True)
class Function:
    name: str
    args_input: str
    returns: str  # table name
    mutation: bool


@dataclass
class Catalogue:
    tables: dict[str, Table]
    functions: dict[str, Function]
    scalars: list[str]
    enums: dict[str, list[str]]
    inputs_sdl: str  # the function argument inputs, verbatim


def _named(type_node: gast.TypeNode) -> tuple[str, bool, bool]:
    """``(name, nullable, is_list)`` of a field type."""
    nullable = True
    if isinstance(type_node, gast.NonNullTypeNode):
        nullable, type_node = False, type_node.type
    is_list = False
    if isinstance(type_node, gast.ListTypeNode):
        is_list, type_node = True, type_node.type
        if isinstance(type_node, gast.NonNullTypeNode):
            type_node = type_node.type
    assert isinstance(type_node, gast.NamedTypeNode)
    return type_node.name.value, nullable, is_list


def _directive_args(node: Any, name: str) -> dict[str, Any] | None:
    for directive in node.directives or ():
        if directive.name.value == name:
            out: dict[str, Any] = {}
            for arg in directive.arguments:
                value = arg.value
                if isinstance(value, gast.ListValueNode):
                    out[arg.name.value] = tuple(v.value for v in value.values)  # type: ignore[attr-defined]
                else:
                    out[arg.name.value] = value.value  # type: ignore[attr-defined]
            return out
    return None


@functools.cache
def catalogue() -> Catalogue:
    """The tables, functions, scalars and enums of ``hasura_tables.graphql``."""
    text = resources.files("emulator.wallaroo").joinpath(TABLES_FILE).read_text("utf-8")
    document = parse(text)
    tables: dict[str, Table] = {}
    functions: dict[str, Function] = {}
    scalars: list[str] = []
    enums: dict[str, list[str]] = {}
    inputs: list[str] = []
    for definition in document.definitions:
        if isinstance(definition, gast.ScalarTypeDefinitionNode):
            scalars.append(definition.name.value)
        elif isinstance(definition, gast.EnumTypeDefinitionNode):
            enums[definition.name.value] = [v.name.value for v in definition.values]
        elif isinstance(definition, gast.InputObjectTypeDefinitionNode):
            loc = definition.loc
            assert loc is not None
            inputs.append(text[loc.start:loc.end])
        elif isinstance(definition, gast.ObjectTypeDefinitionNode):
            name = definition.name.value
            if name in ("query_functions", "mutation_functions"):
                for fdef in definition.fields:
                    returns, _, _ = _named(fdef.type)
                    args_input, _, _ = _named(fdef.arguments[0].type)
                    functions[fdef.name.value] = Function(fdef.name.value, args_input, returns,
                                                          name == "mutation_functions")
                continue
            meta = _directive_args(definition, "table")
            assert meta is not None, f"type {name} lacks @table"
            table = Table(name, tuple(meta["pk"]), tuple(meta.get("unique", ())),
                          **{k: bool(meta.get(k)) for k in ("aggregate", "insert", "update", "delete")})
            for fdef in definition.fields:
                type_name, nullable, is_list = _named(fdef.type)
                rel = _directive_args(fdef, "rel")
                if rel is None:
                    table.columns[fdef.name.value] = Column(fdef.name.value, type_name, nullable, is_list)
                else:
                    table.relationships[fdef.name.value] = Relationship(
                        fdef.name.value, type_name, rel["column"], rel["remote"], is_list, nullable)
            tables[name] = table
    return Catalogue(tables, functions, scalars, enums, "\n\n".join(inputs))


# ------------------------------------------------------------------------------------------
# SDL generation (Hasura's naming conventions)
# ------------------------------------------------------------------------------------------


def _select_args(table: str) -> str:
    return (f"distinct_on: [{table}_select_column!], limit: Int, offset: Int, "
            f"order_by: [{table}_order_by!], where: {table}_bool_exp")


def _comparison_sdl(scalar: str) -> str:
    ops = [f"_eq: {scalar}", f"_gt: {scalar}", f"_gte: {scalar}", f"_in: [{scalar}!]", "_is_null: Boolean",
           f"_lt: {scalar}", f"_lte: {scalar}", f"_neq: {scalar}", f"_nin: [{scalar}!]"]
    if scalar in TEXT:
        ops += [f"_{op}: {scalar}" for op in ("ilike", "iregex", "like", "nilike", "niregex", "nlike",
                                                 "nregex", "nsimilar", "regex", "similar")]
    if scalar == "jsonb":
        ops += ["_cast: jsonb_cast_exp", "_contained_in: jsonb", "_contains: jsonb", "_has_key: String",
                "_has_keys_all: [String!]", "_has_keys_any: [String!]"]
    return f"input {scalar}_comparison_exp {{\n  " + "\n  ".join(sorted(ops)) + "\n}"


def _array_comparison_sdl(scalar: str) -> str:
    lst = f"[{scalar}!]"
    ops = [f"_contained_in: {lst}", f"_contains: {lst}", f"_eq: {lst}", f"_gt: {lst}", f"_gte: {lst}",
           f"_in: [{lst}!]", "_is_null: Boolean", f"_lt: {lst}", f"_lte: {lst}", f"_neq: {lst}",
           f"_nin: [{lst}!]"]
    return f"input {scalar}_array_comparison_exp {{\n  " + "\n  ".join(ops) + "\n}"


def _comparison_name(column: Column) -> str:
    return f"{column.type}_array_comparison_exp" if column.is_list else f"{column.type}_comparison_exp"


def _block(kind: str, name: str, lines: list[str]) -> str:
    return f"{kind} {name} {{\n  " + "\n  ".join(lines) + "\n}"


def _table_sdl(cat: Catalogue, t: Table) -> list[str]:
    out: list[str] = []
    n = t.name
    tables = cat.tables
    # the object type
    lines = []
    for c in t.columns.values():
        if c.type == "jsonb":  # nullable whatever the column: a path may lead nowhere
            lines.append(f"{c.name}(path: String): jsonb")
        else:
            lines.append(f"{c.name}: {c.sdl_type()}")
    for r in t.relationships.values():
        if r.is_array:
            lines.append(f"{r.name}({_select_args(r.target)}): [{r.target}!]!")
            if tables[r.target].aggregate:
                lines.append(f"{r.name}_aggregate({_select_args(r.target)}): {r.target}_aggregate!")
        else:
            lines.append(f"{r.name}: {r.target}{'' if r.nullable else '!'}")
    out.append(_block("type", n, lines))
    # filtering, ordering, column selection
    bool_lines = [f"_and: [{n}_bool_exp!]", f"_not: {n}_bool_exp", f"_or: [{n}_bool_exp!]"]
    bool_lines += [f"{c.name}: {_comparison_name(c)}" for c in t.columns.values()]
    order_lines = [f"{c.name}: order_by" for c in t.columns.values()]
    for r in t.relationships.values():
        bool_lines.append(f"{r.name}: {r.target}_bool_exp")
        if not r.is_array:
            order_lines.append(f"{r.name}: {r.target}_order_by")
        elif tables[r.target].aggregate:
            bool_lines.append(f"{r.name}_aggregate: {r.target}_aggregate_bool_exp")
            order_lines.append(f"{r.name}_aggregate: {r.target}_aggregate_order_by")
    out.append(_block("input", f"{n}_bool_exp", bool_lines))
    out.append(_block("input", f"{n}_order_by", order_lines))
    out.append(_block("enum", f"{n}_select_column", list(t.columns)))
    if t.aggregate:
        out.extend(_aggregate_sdl(t))
    if t.insert:
        insert_lines = [f"{c.name}: {c.sdl_type().rstrip('!')}" for c in t.columns.values()]
        for r in t.relationships.values():
            if tables[r.target].insert:
                suffix = "arr_rel_insert_input" if r.is_array else "obj_rel_insert_input"
                insert_lines.append(f"{r.name}: {r.target}_{suffix}")
        out.append(_block("input", f"{n}_insert_input", insert_lines))
        out.append(_block("input", f"{n}_obj_rel_insert_input",
                          [f"data: {n}_insert_input!", f"on_conflict: {n}_on_conflict"]))
        out.append(_block("input", f"{n}_arr_rel_insert_input",
                          [f"data: [{n}_insert_input!]!", f"on_conflict: {n}_on_conflict"]))
        out.append(_block("input", f"{n}_on_conflict", [
            f"constraint: {n}_constraint!", f"update_columns: [{n}_update_column!]! = []",
            f"where: {n}_bool_exp"]))
        out.append(_block("enum", f"{n}_constraint", list(t.constraints)))
        out.append(_block("enum", f"{n}_update_column", list(t.columns)))
    if t.update:
        out.append(_block("input", f"{n}_set_input",
                          [f"{c.name}: {c.sdl_type().rstrip('!')}" for c in t.columns.values()]))
        if t.numeric_columns():
            out.append(_block("input", f"{n}_inc_input", [f"{c.name}: {c.type}" for c in t.numeric_columns()]))
        out.append(_block("input", f"{n}_pk_columns_input", [f"{p}: {t.columns[p].type}!" for p in t.pk]))
        out.append(_block("input", f"{n}_updates", [*_update_args(t), f"where: {n}_bool_exp!"]))
    if t.insert or t.update or t.delete:
        out.append(_block("type", f"{n}_mutation_response", ["affected_rows: Int!", f"returning: [{n}!]!"]))
    return out


def _aggregate_sdl(t: Table) -> list[str]:
    """``t_aggregate`` and its fields, ordering and predicate inputs (tables with ``aggregate``)."""
    n = t.name
    out = [_block("type", f"{n}_aggregate", [f"aggregate: {n}_aggregate_fields", f"nodes: [{n}!]!"])]
    fields = [f"count(columns: [{n}_select_column!], distinct: Boolean): Int!"]
    order = ["count: order_by"]
    kinds: list[tuple[str, list[Column], Any]] = []
    if t.comparable_columns():
        kinds += [(k, t.comparable_columns(), lambda c: c.type) for k in ("max", "min")]
    if t.numeric_columns():
        kinds += [("avg", t.numeric_columns(), lambda c: "Float"), ("sum", t.numeric_columns(), lambda c: c.type)]
    for kind, columns, scalar in kinds:
        fields.append(f"{kind}: {n}_{kind}_fields")
        order.append(f"{kind}: {n}_{kind}_order_by")
        out.append(_block("type", f"{n}_{kind}_fields", [f"{c.name}: {scalar(c)}" for c in columns]))
        out.append(_block("input", f"{n}_{kind}_order_by", [f"{c.name}: order_by" for c in columns]))
    out.append(_block("type", f"{n}_aggregate_fields", fields))
    out.append(_block("input", f"{n}_aggregate_order_by", order))
    out.append(_block("input", f"{n}_aggregate_bool_exp", [f"count: {n}_aggregate_bool_exp_count"]))
    out.append(_block("input", f"{n}_aggregate_bool_exp_count", [
        f"arguments: [{n}_select_column!]", "distinct: Boolean", f"filter: {n}_bool_exp",
        "predicate: Int_comparison_exp!"]))
    return out


def _update_args(t: Table) -> list[str]:
    args = [f"_set: {t.name}_set_input"]
    if t.numeric_columns():
        args.append(f"_inc: {t.name}_inc_input")
    return args


def _roots(cat: Catalogue) -> tuple[list[str], list[str]]:
    query: list[str] = []
    mutation: list[str] = []
    for n, t in sorted(cat.tables.items()):
        pk_args = ", ".join(f"{p}: {t.columns[p].type}!" for p in t.pk)
        query.append(f"{n}({_select_args(n)}): [{n}!]!")
        query.append(f"{n}_by_pk({pk_args}): {n}")
        if t.aggregate:
            query.append(f"{n}_aggregate({_select_args(n)}): {n}_aggregate!")
        if t.insert:
            mutation += [
                f"insert_{n}(objects: [{n}_insert_input!]!, on_conflict: {n}_on_conflict): {n}_mutation_response",
                f"insert_{n}_one(object: {n}_insert_input!, on_conflict: {n}_on_conflict): {n}",
            ]
        if t.update:
            upd = ", ".join(_update_args(t))
            mutation += [
                f"update_{n}({upd}, where: {n}_bool_exp!): {n}_mutation_response",
                f"update_{n}_by_pk({upd}, pk_columns: {n}_pk_columns_input!): {n}",
                f"update_{n}_many(updates: [{n}_updates!]!): [{n}_mutation_response]",
            ]
        if t.delete:
            mutation += [
                f"delete_{n}(where: {n}_bool_exp!): {n}_mutation_response",
                f"delete_{n}_by_pk({pk_args}): {n}",
            ]
    for f in sorted(cat.functions.values(), key=lambda f: f.name):
        args = f"args: {f.args_input}!, {_select_args(f.returns)}"
        (mutation if f.mutation else query).append(f"{f.name}({args}): [{f.returns}!]!")
    return sorted(query), sorted(mutation)


@functools.cache
def schema_sdl() -> str:
    """The whole schema in SDL, as Hasura would derive it from the table list."""
    cat = catalogue()
    parts = [f"scalar {s}" for s in cat.scalars]
    parts.append(_block("enum", "order_by", ["asc", "asc_nulls_first", "asc_nulls_last", "desc",
                                             "desc_nulls_first", "desc_nulls_last"]))
    for name, values in cat.enums.items():
        parts.append(_block("enum", name, values))
    used: set[tuple[str, bool]] = {("Int", False), ("Boolean", False), ("String", False)}
    for t in cat.tables.values():
        used.update((c.type, c.is_list) for c in t.columns.values())
    for scalar, is_list in sorted(used):
        if is_list:
            parts.append(_array_comparison_sdl(scalar))
        elif scalar in cat.enums:
            parts.append(_block("input", f"{scalar}_comparison_exp", [
                f"_eq: {scalar}", f"_in: [{scalar}!]", "_is_null: Boolean", f"_neq: {scalar}",
                f"_nin: [{scalar}!]"]))
        else:
            parts.append(_comparison_sdl(scalar))
    parts.append(_block("input", "jsonb_cast_exp", ["String: String_comparison_exp"]))
    parts.append(cat.inputs_sdl)
    for t in cat.tables.values():
        parts.extend(_table_sdl(cat, t))
    query, mutation = _roots(cat)
    parts.append(_block("type", "query_root", query))
    parts.append(_block("type", "mutation_root", mutation))
    parts.append("schema {\n  query: query_root\n  mutation: mutation_root\n}")
    return "\n\n".join(parts) + "\n"


# ------------------------------------------------------------------------------------------
# Scalars
# ------------------------------------------------------------------------------------------


def is_instant(value: Any) -> bool:
    """A datetime, whichever class made it (the virtual clock's patching may swap the class)."""
    return hasattr(value, "utcoffset") and hasattr(value, "isoformat") and not isinstance(value, str)


def _serialize_timestamp(value: Any) -> Any:
    return value.isoformat() if is_instant(value) else value


def _parse_timestamp(value: Any) -> datetime:
    if is_instant(value):
        return value
    if not isinstance(value, str):
        raise TypeError(f"invalid input syntax for type timestamp with time zone: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise TypeError(f'invalid input syntax for type timestamp with time zone: "{value}"') from None


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"invalid input syntax for type bigint: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise TypeError(f'invalid input syntax for type bigint: "{value}"')


def _parse_float(value: Any) -> float | int:
    if isinstance(value, bool):
        raise TypeError(f"invalid input syntax for type double precision: {value!r}")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    raise TypeError(f'invalid input syntax for type double precision: "{value}"')


def _serialize_number(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return value


def _parse_uuid(value: Any) -> str:
    try:
        return str(_uuid.UUID(str(value)))
    except ValueError:
        raise TypeError(f'invalid input syntax for type uuid: "{value}"') from None


def _parse_text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _install_scalars(schema: GraphQLSchema) -> None:
    """Give the custom scalars their behaviour (graphql-core 3.2 and 3.3 name the hooks differently)."""
    from graphql import value_from_ast_untyped

    behaviours: dict[str, tuple[Any, Any]] = {
        "timestamptz": (_serialize_timestamp, _parse_timestamp),
        "timestamp": (_serialize_timestamp, _parse_timestamp),
        "bigint": (_serialize_number, _parse_bigint),
        "numeric": (_serialize_number, _parse_float),
        "float8": (_serialize_number, _parse_float),
        "uuid": (str, _parse_uuid),
        "bpchar": (str, _parse_text),
        "interval": (str, _parse_text),
    }
    for name, (serialize, parse_value) in behaviours.items():
        scalar = schema.type_map.get(name)
        if scalar is None:
            continue

        def parse_literal(node: Any, variables: Any = None, parse_value: Any = parse_value) -> Any:
            return parse_value(value_from_ast_untyped(node, variables))

        hooks = {"serialize": serialize, "coerce_output_value": serialize, "parse_value": parse_value,
                 "coerce_input_value": parse_value, "parse_literal": parse_literal}
        if hasattr(scalar, "coerce_input_literal"):  # graphql-core 3.3: literals arrive with variables replaced
            hooks["coerce_input_literal"] = parse_literal
        for attribute, hook in hooks.items():
            setattr(scalar, attribute, hook)


@functools.cache
def schema() -> GraphQLSchema:
    """The executable schema (built on first use, then shared; resolvers are attached by the wire)."""
    built = build_schema(schema_sdl())
    _install_scalars(built)
    return built
