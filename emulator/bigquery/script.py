"""GoogleSQL scripts: the procedural language around SQL statements, parsed and run here.

:func:`parse` reads a request into a tree of statements and control flow — ``IF … THEN … ELSEIF …
ELSE … END IF``, ``CASE … WHEN … THEN … END CASE``, ``LOOP``, ``WHILE … DO``, ``REPEAT … UNTIL``,
``FOR … IN (query) DO``, ``BEGIN … [EXCEPTION WHEN ERROR THEN …] END``, ``LEAVE``/``BREAK``,
``CONTINUE``/``ITERATE`` (with labels), ``RAISE [USING MESSAGE = …]``, ``RETURN`` — and system
variables (``@@error.message``, ``@@row_count``, ``@@project_id``…).

:meth:`Program.flatten` lays every SQL piece of the tree out as one statement list — the
statements themselves, the conditions as ``SELECT (condition)``, declarations of the loop and
system variables — so the translator sees the whole script in one call (its variables, temporary
tables and UDFs stay known from one statement to the next). Statements keep their positions in
the text, so error positions are the user's; positions inside synthesised text are mapped back.

:class:`ScriptRunner` walks the tree and runs the translated statements one by one, as BigQuery
does: each statement commits on its own, so a failing statement keeps the effects of the
statements before it, unless a transaction (``BEGIN TRANSACTION`` … ``COMMIT``/``ROLLBACK``) is
open, which rolls back. A transaction still open when the script ends is rolled back.

Known differences from BigQuery (DuckDB aborts a transaction on the first error): after an error
inside a transaction the transaction's earlier statements are rolled back at once, so a ``COMMIT
TRANSACTION`` in the exception handler commits nothing. Variables declared in a block live until
the end of the script (BigQuery scopes them to the block).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from emulator.bigquery.errors import BigQueryError, InvalidQuery, ResourcesExceeded

#: A guard against endless loops (BigQuery would run for up to 6 hours): statements per script.
MAX_STATEMENTS = 100_000

# ------------------------------------------------------------------------------------------
# lexing (just enough to find statement boundaries and control-flow keywords)
# ------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>(?:[rRbB]{1,2})?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
                |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<ident>`(?:\\.|[^`\\])*`)
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)
  | (?P<sysvar>@@[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)?)
  | (?P<punct>.)
""", re.S | re.X)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int  # exclusive

    @property
    def word(self) -> str | None:
        return self.text.upper() if self.kind == "word" else None


def _lex(sql: str) -> list[_Token] | None:
    """Tokens without whitespace and comments; None when a quote is left open (the translator says so)."""
    tokens = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "punct"
        if kind in ("ws", "comment"):
            continue
        if kind == "punct" and match.group() in ("'", '"', "`"):
            return None
        tokens.append(_Token(kind, match.group(), match.start(), match.end()))
    return tokens


# ------------------------------------------------------------------------------------------
# the tree
# ------------------------------------------------------------------------------------------
@dataclass
class Piece:
    """Text of an element: a span of the script (``start``/``end``) or synthesised ``text``."""

    start: int = -1
    end: int = -1
    text: str | None = None


@dataclass
class Element:
    """One statement of the flattened script (what the translator gets, one Statement each)."""

    pieces: list[Piece]
    index: int = -1  # position in the translated statement list
    declaration_only: bool = False  # synthesised DECLARE / CREATE TEMP TABLE: never run


@dataclass
class Statement:
    element: Element
    start: int
    end: int


@dataclass
class If:
    branches: list[tuple[Element, list[Any]]]
    otherwise: list[Any] | None


@dataclass
class Loop:
    body: list[Any]
    label: str | None = None


@dataclass
class While:
    condition: Element
    body: list[Any]
    label: str | None = None


@dataclass
class Repeat:
    body: list[Any]
    until: Element
    label: str | None = None


@dataclass
class For:
    variable: str
    query: Element
    declaration: Element
    body: list[Any]
    label: str | None = None


@dataclass
class Block:
    body: list[Any]
    handler: list[Any] | None
    label: str | None = None


@dataclass
class Jump:
    kind: str  # LEAVE or CONTINUE
    label: str | None
    start: int


@dataclass
class Raise:
    message: Element | None
    start: int


@dataclass
class Return:
    start: int


#: System variables (``@@name``) → (script variable standing for it, GoogleSQL type).
SYSTEM_VARIABLES = {
    "@@error.message": ("__bq_error_message", "STRING"),
    "@@error.statement_text": ("__bq_error_statement_text", "STRING"),
    "@@error.formatted_stack_trace": ("__bq_error_formatted_stack_trace", "STRING"),
    "@@error.stack_trace": ("__bq_error_stack_trace",
                            "ARRAY<STRUCT<line INT64, column INT64, filename STRING, location STRING>>"),
    "@@row_count": ("__bq_row_count", "INT64"),
    "@@project_id": ("__bq_project_id", "STRING"),
    "@@dataset_id": ("__bq_dataset_id", "STRING"),
    "@@dataset_project_id": ("__bq_dataset_project_id", "STRING"),
    "@@script.job_id": ("__bq_script_job_id", "STRING"),
    "@@current_job_id": ("__bq_current_job_id", "STRING"),
    "@@session_id": ("__bq_session_id", "STRING"),
    "@@time_zone": ("__bq_time_zone", "STRING"),
    "@@script.num_child_jobs": ("__bq_script_num_child_jobs", "INT64"),
    "@@script.bytes_processed": ("__bq_script_bytes_processed", "INT64"),
    "@@script.bytes_billed": ("__bq_script_bytes_billed", "INT64"),
    "@@script.slot_ms": ("__bq_script_slot_ms", "INT64"),
    "@@query_label": ("__bq_query_label", "STRING"),
}

_CONTROL_WORDS = {"IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR", "LEAVE", "BREAK", "CONTINUE", "ITERATE",
                  "RAISE", "RETURN"}


@dataclass
class Program:
    """A parsed request: its statements and control flow, ready to flatten and run."""

    source: str
    nodes: list[Any]
    elements: list[Element]
    system_variables: list[str]  # the @@names used
    sysvar_tokens: list[_Token] = field(default_factory=list)
    text: str = ""
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (flat start, flat end, source start)
    prelude_count: int = 0

    @property
    def is_script(self) -> bool:
        """More than one statement, or any procedural statement (BigQuery's statementType SCRIPT)."""
        return not (len(self.nodes) == 1 and isinstance(self.nodes[0], Statement))

    def statements(self) -> Iterator[Statement]:
        yield from _walk_statements(self.nodes)

    # -- flattening ------------------------------------------------------------------------
    def flatten(self, prelude: list[str] | None = None) -> str:
        """The translator's text: ``prelude`` declarations, then every element, each ended by ``;``."""
        parts: list[str] = []
        length = 0
        self.spans = []
        index = 0
        for text in prelude or []:
            parts.append(text + ";\n")
            length += len(text) + 2
            index += 1
        declarations = [f"DECLARE {SYSTEM_VARIABLES[name][0]} {SYSTEM_VARIABLES[name][1]}"
                        for name in self.system_variables]
        for text in declarations:
            parts.append(text + ";\n")
            length += len(text) + 2
            index += 1
        self.prelude_count = index
        for element in self.elements:
            element.index = index
            index += 1
            first = next((p for p in element.pieces if p.text is None), None)
            lead = 0
            for piece in element.pieces:
                if piece is first:
                    break
                lead += len(piece.text or "")
            if first is not None and first.start - lead > length:
                # keep the element at its place in the source (errors then point at the user's text)
                gap = self.source[length:first.start - lead]
                parts.append(re.sub(r"[^\n]", " ", gap))
                length += len(gap)
            elif parts and not parts[-1].endswith("\n"):
                parts.append("\n")
                length += 1
            for piece in element.pieces:
                if piece.text is not None:
                    parts.append(piece.text)
                    length += len(piece.text)
                    continue
                text = self._substituted(piece.start, piece.end)
                self.spans.append((length, length + len(text), piece.start))
                parts.append(text)
                length += len(text)
            parts.append(";")
            length += 1
        self.text = "".join(parts)
        return self.text

    def _substituted(self, start: int, end: int) -> str:
        """Source text with system variables replaced by the script variables standing for them."""
        text = self.source[start:end]
        tokens = [t for t in self.sysvar_tokens if start <= t.start and t.end <= end]
        for token in reversed(tokens):
            name = SYSTEM_VARIABLES[token.text.lower()][0]
            text = text[:token.start - start] + name.ljust(len(token.text)) + text[token.end - start:]
        return text

    def source_position(self, line: int, column: int) -> tuple[int, int]:
        """A ``[line:column]`` of the flattened text as a position in the user's script."""
        lines = self.text.split("\n")
        offset = sum(len(ln) + 1 for ln in lines[:max(line - 1, 0)]) + column - 1
        origin = None
        for flat_start, flat_end, source_start in self.spans:
            if flat_start <= offset < flat_end:
                origin = source_start + offset - flat_start
                break
            if flat_start > offset:
                origin = source_start
                break
        if origin is None:
            origin = len(self.source.rstrip())
        return _line_col(self.source, origin)

    def remap_error(self, exc: BigQueryError) -> BigQueryError:
        """The translator's error with its ``[line:column]`` positions moved back to the user's script."""
        if not self.spans and self.text == self.source:
            return exc

        def move(match: re.Match[str]) -> str:
            line, column = self.source_position(int(match.group(1)), int(match.group(2)))
            return f"[{line}:{column}]"

        message = re.sub(r"\[(\d+):(\d+)\]", move, exc.message)
        if message == exc.message:
            return exc
        return type(exc)(message, location=exc.location)


def _walk_statements(nodes: list[Any]) -> Iterator[Statement]:
    for node in nodes:
        if isinstance(node, Statement):
            yield node
        elif isinstance(node, If):
            for _, body in node.branches:
                yield from _walk_statements(body)
            yield from _walk_statements(node.otherwise or [])
        elif isinstance(node, Loop | While | Repeat | For):
            yield from _walk_statements(node.body)
        elif isinstance(node, Block):
            yield from _walk_statements(node.body)
            yield from _walk_statements(node.handler or [])


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# ------------------------------------------------------------------------------------------
# parsing
# ------------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, sql: str, tokens: list[_Token]) -> None:
        self.sql = sql
        self.tokens = tokens
        self.i = 0
        self.elements: list[Element] = []

    # -- token helpers ---------------------------------------------------------------------
    def word(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.tokens[j].word if j < len(self.tokens) else None

    def text(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.tokens[j].text if j < len(self.tokens) else None

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def error(self, expected: str | None = None) -> InvalidQuery:
        if self.at_end():
            lines = self.sql.split("\n")
            return InvalidQuery(f"Syntax error: Unexpected end of script at [{len(lines)}:{len(lines[-1]) + 1}]")
        token = self.tokens[self.i]
        line, column = _line_col(self.sql, token.start)
        what = f"keyword {token.text.upper()}" if token.kind == "word" and token.word in _KEYWORDS else \
            f'identifier "{token.text}"' if token.kind in ("word", "ident") else f'"{token.text}"'
        suffix = f"; expected {expected}" if expected else ""
        return InvalidQuery(f"Syntax error: Unexpected {what} at [{line}:{column}]{suffix}")

    def expect(self, *words: str) -> None:
        for w in words:
            if self.word() != w:
                raise self.error(w)
            self.i += 1

    def skip_semicolons(self) -> None:
        while not self.at_end() and self.text() == ";":
            self.i += 1

    def end_of_statement(self) -> None:
        if not self.at_end() and self.text() != ";":
            raise self.error('";"')

    def element(self, pieces: list[Piece], *, declaration_only: bool = False) -> Element:
        element = Element(pieces, declaration_only=declaration_only)
        self.elements.append(element)
        return element

    # -- statements ------------------------------------------------------------------------
    def statements(self, stop: Callable[[], bool] | None) -> list[Any]:
        nodes: list[Any] = []
        while True:
            self.skip_semicolons()
            if self.at_end():
                if stop is not None:
                    raise self.error()
                return nodes
            if stop is not None and stop():
                return nodes
            nodes.append(self.statement())

    def statement(self) -> Any:
        label = None
        if (self.tokens[self.i].kind in ("word", "ident") and self.text(1) == ":"
                and self.word(2) in ("BEGIN", "LOOP", "WHILE", "REPEAT", "FOR")):
            label = self.tokens[self.i].text.strip("`").lower()
            self.i += 2
        word = self.word()
        start = self.tokens[self.i].start
        if word == "IF":
            return self.if_()
        if word == "CASE":
            return self.case()
        if word == "LOOP":
            self.i += 1
            body = self.statements(lambda: self.word() == "END")
            self.expect("END", "LOOP")
            self.end_label(label)
            return Loop(body, label)
        if word == "WHILE":
            self.i += 1
            condition = self.condition({"DO"})
            self.expect("DO")
            body = self.statements(lambda: self.word() == "END")
            self.expect("END", "WHILE")
            self.end_label(label)
            return While(condition, body, label)
        if word == "REPEAT":
            self.i += 1
            body = self.statements(lambda: self.word() == "UNTIL")
            self.expect("UNTIL")
            until = self.condition({"END"})
            self.expect("END", "REPEAT")
            self.end_label(label)
            return Repeat(body, until, label)
        if word == "FOR":
            return self.for_(label)
        if word == "BEGIN" and self.word(1) != "TRANSACTION" and self.text(1) not in (";", None):
            self.i += 1
            body = self.statements(lambda: self.word() in ("EXCEPTION", "END"))
            handler = None
            if self.word() == "EXCEPTION":
                self.expect("EXCEPTION", "WHEN", "ERROR", "THEN")
                handler = self.statements(lambda: self.word() == "END")
            self.expect("END")
            self.end_label(label)
            return Block(body, handler, label)
        if label is not None:
            raise self.error()
        if word in ("LEAVE", "BREAK", "CONTINUE", "ITERATE"):
            self.i += 1
            target = None
            if not self.at_end() and self.text() != ";":
                target = self.tokens[self.i].text.strip("`").lower()
                self.i += 1
            self.end_of_statement()
            return Jump("LEAVE" if word in ("LEAVE", "BREAK") else "CONTINUE", target, start)
        if word == "RAISE":
            self.i += 1
            message = None
            if self.word() == "USING":
                self.expect("USING", "MESSAGE")
                if self.text() != "=":
                    raise self.error('"="')
                self.i += 1
                span = self.until_semicolon()
                message = self.element([Piece(text="SELECT CAST(("), Piece(*span), Piece(text=") AS STRING)")])
            self.end_of_statement()
            return Raise(message, start)
        if word == "RETURN":
            self.i += 1
            self.end_of_statement()
            return Return(start)
        if word == "BEGIN":  # BEGIN [TRANSACTION]: the translator knows the long form
            span = self.until_semicolon()
            return Statement(self.element([Piece(text="BEGIN TRANSACTION")]), *span)
        span = self.until_semicolon()
        return Statement(self.element([Piece(*span)]), *span)

    def end_label(self, label: str | None) -> None:
        if not self.at_end() and self.text() != ";":
            name = self.tokens[self.i].text.strip("`").lower()
            if label is None or name != label:
                raise self.error()
            self.i += 1
        self.end_of_statement()

    def until_semicolon(self) -> tuple[int, int]:
        if self.at_end():
            raise self.error()
        first = self.i
        while not self.at_end() and self.text() != ";":
            self.i += 1
        return self.tokens[first].start, self.tokens[self.i - 1].end

    def expression(self, stop: set[str]) -> tuple[int, int]:
        """The span of an expression up to a stop keyword outside parentheses and CASE … END."""
        first = self.i
        depth = 0
        cases = 0
        while not self.at_end():
            token = self.tokens[self.i]
            if token.text in ("(", "["):
                depth += 1
            elif token.text in (")", "]"):
                depth -= 1
            elif token.word == "CASE":
                cases += 1
            elif token.word == "END" and cases and depth == 0:
                cases -= 1
            elif depth == 0 and not cases and (token.word in stop or token.text == ";"):
                break
            self.i += 1
        if self.i == first or self.at_end() or self.text() == ";":
            raise self.error(" or ".join(sorted(stop)))
        return self.tokens[first].start, self.tokens[self.i - 1].end

    def condition(self, stop: set[str]) -> Element:
        span = self.expression(stop)
        return self.element([Piece(text="SELECT ("), Piece(*span), Piece(text=")")])

    def if_(self) -> If:
        self.expect("IF")
        branches = []
        condition = self.condition({"THEN"})
        self.expect("THEN")
        body = self.statements(lambda: self.word() in ("ELSEIF", "ELSE", "END"))
        branches.append((condition, body))
        while self.word() == "ELSEIF":
            self.i += 1
            condition = self.condition({"THEN"})
            self.expect("THEN")
            branches.append((condition, self.statements(lambda: self.word() in ("ELSEIF", "ELSE", "END"))))
        otherwise = None
        if self.word() == "ELSE":
            self.i += 1
            otherwise = self.statements(lambda: self.word() == "END")
        self.expect("END", "IF")
        self.end_of_statement()
        return If(branches, otherwise)

    def case(self) -> If:
        self.expect("CASE")
        subject = None if self.word() == "WHEN" else self.expression({"WHEN"})
        branches = []
        while self.word() == "WHEN":
            self.i += 1
            span = self.expression({"THEN"})
            if subject is None:
                condition = self.element([Piece(text="SELECT ("), Piece(*span), Piece(text=")")])
            else:
                condition = self.element([Piece(text="SELECT ("), Piece(*subject), Piece(text=") = ("),
                                          Piece(*span), Piece(text=")")])
            self.expect("THEN")
            branches.append((condition, self.statements(lambda: self.word() in ("WHEN", "ELSE", "END"))))
        if not branches:
            raise self.error("WHEN")
        otherwise = None
        if self.word() == "ELSE":
            self.i += 1
            otherwise = self.statements(lambda: self.word() == "END")
        self.expect("END", "CASE")
        self.end_of_statement()
        return If(branches, otherwise)

    def for_(self, label: str | None) -> For:
        self.expect("FOR")
        if self.at_end() or self.tokens[self.i].kind not in ("word", "ident"):
            raise self.error("a variable name")
        variable = self.tokens[self.i].text.strip("`")
        self.i += 1
        self.expect("IN")
        if self.text() != "(":
            raise self.error('"("')
        self.i += 1
        first = self.i
        depth = 1
        while not self.at_end():
            if self.text() == "(":
                depth += 1
            elif self.text() == ")":
                depth -= 1
                if depth == 0:
                    break
            self.i += 1
        if self.at_end() or self.i == first:
            raise self.error('")"')
        span = (self.tokens[first].start, self.tokens[self.i - 1].end)
        self.i += 1
        query = self.element([Piece(*span)])
        declaration = self.element([Piece(text=f"DECLARE {_quote_name(variable)} DEFAULT NULL")],
                                   declaration_only=True)
        self.expect("DO")
        body = self.statements(lambda: self.word() == "END")
        self.expect("END", "FOR")
        self.end_label(label)
        return For(variable.lower(), query, declaration, body, label)


_KEYWORDS = {"SELECT", "FROM", "WHERE", "IF", "THEN", "ELSE", "ELSEIF", "END", "LOOP", "WHILE", "DO", "REPEAT",
             "UNTIL", "FOR", "IN", "BEGIN", "EXCEPTION", "WHEN", "CASE", "RAISE", "RETURN", "LEAVE", "BREAK",
             "CONTINUE", "ITERATE", "USING"}


def _quote_name(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", name) else "`" + name.replace("`", "\\`") + "`"


def parse(sql: str) -> Program:
    """The statements and control flow of a request (see the module docstring)."""
    tokens = _lex(sql)
    if tokens is None:  # an unclosed quote: one statement, the translator reports it
        element = Element([Piece(0, len(sql))])
        return Program(sql, [Statement(element, 0, len(sql))], [element], [])
    parser = _Parser(sql, tokens)
    nodes = parser.statements(None)
    sysvars = [t for t in tokens if t.kind == "sysvar" and t.text.lower() in SYSTEM_VARIABLES]
    names = list(dict.fromkeys(t.text.lower() for t in sysvars))
    return Program(sql, nodes, parser.elements, names, sysvars)


def _walk_all(nodes: list[Any]) -> Iterator[Any]:
    for node in nodes:
        yield node
        if isinstance(node, If):
            for _, body in node.branches:
                yield from _walk_all(body)
            yield from _walk_all(node.otherwise or [])
        elif isinstance(node, Loop | While | Repeat | For):
            yield from _walk_all(node.body)
        elif isinstance(node, Block):
            yield from _walk_all(node.body)
            yield from _walk_all(node.handler or [])


# ------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------
class _Leave(Exception):
    def __init__(self, label: str | None) -> None:
        super().__init__(label)
        self.label = label


class _Continue(Exception):
    def __init__(self, label: str | None) -> None:
        super().__init__(label)
        self.label = label


class _Return(Exception):
    pass


class ScriptRunner:
    """Walks a :class:`Program`'s tree, running its statements through callbacks of the caller.

    ``run_statement(element_index, node)`` runs one translated statement (its outcome is the
    caller's business); ``evaluate(element_index)`` returns the single value of a ``SELECT``;
    ``rows(element_index)`` returns the rows of a query as a list of Arrow-backed records;
    ``bind_loop(variable, rows, i)`` sets a FOR variable; ``set_error(error, statement)`` sets
    ``@@error.*`` for an exception handler.
    """

    def __init__(self, program: Program, *, run_statement: Callable[[Statement], None],
                 evaluate: Callable[[Element], Any], loop_rows: Callable[[Element], Any],
                 bind_loop: Callable[[str, Any, int], None],
                 set_error: Callable[[BigQueryError, Statement | None], None]) -> None:
        self.program = program
        self._run_statement = run_statement
        self._evaluate = evaluate
        self._loop_rows = loop_rows
        self._bind_loop = bind_loop
        self._set_error = set_error
        self.executed = 0
        self.current: Statement | None = None
        self._handled: list[BigQueryError] = []

    def run(self) -> None:
        try:
            self._block(self.program.nodes)
        except _Return:
            return
        except (_Leave, _Continue) as jump:
            raise InvalidQuery(f"{'LEAVE' if isinstance(jump, _Leave) else 'CONTINUE'} is only allowed inside a "
                               "loop or a labeled block") from None

    def _count(self) -> None:
        self.executed += 1
        if self.executed > MAX_STATEMENTS:
            raise ResourcesExceeded(f"Script exceeded the limit of {MAX_STATEMENTS} statements executed "
                                    "(wallaroo-emulator stops endless loops)")

    def _true(self, element: Element) -> bool:
        self._count()
        return self._evaluate(element) is True

    def _block(self, nodes: list[Any]) -> None:
        for node in nodes:
            self._node(node)

    def _node(self, node: Any) -> None:
        if isinstance(node, Statement):
            self._count()
            self.current = node
            self._run_statement(node)
        elif isinstance(node, If):
            for condition, body in node.branches:
                if self._true(condition):
                    self._block(body)
                    return
            if node.otherwise is not None:
                self._block(node.otherwise)
        elif isinstance(node, Loop):
            self._loop(node, lambda: True, node.body)
        elif isinstance(node, While):
            self._loop(node, lambda: self._true(node.condition), node.body)
        elif isinstance(node, Repeat):
            self._repeat(node)
        elif isinstance(node, For):
            self._for(node)
        elif isinstance(node, Block):
            self._try(node)
        elif isinstance(node, Jump):
            raise _Leave(node.label) if node.kind == "LEAVE" else _Continue(node.label)
        elif isinstance(node, Raise):
            self._raise(node)
        elif isinstance(node, Return):
            raise _Return()

    def _loop(self, node: Any, keep_going: Callable[[], bool], body: list[Any]) -> None:
        while keep_going():
            if not self._iteration(node, body):
                return

    def _iteration(self, node: Any, body: list[Any]) -> bool:
        """Run a loop body once; False when the loop is left."""
        try:
            self._block(body)
        except _Leave as jump:
            if jump.label is None or jump.label == node.label:
                return False
            raise
        except _Continue as jump:
            if jump.label is not None and jump.label != node.label:
                raise
        self._count()
        return True

    def _repeat(self, node: Repeat) -> None:
        while True:
            if not self._iteration(node, node.body):
                return
            if self._true(node.until):
                return

    def _for(self, node: For) -> None:
        self._count()
        rows = self._loop_rows(node.query)
        for i in range(rows.num_rows):
            self._bind_loop(node.variable, rows, i)
            if not self._iteration(node, node.body):
                return

    def _try(self, node: Block) -> None:
        try:
            self._block(node.body)
        except _Leave as jump:
            if jump.label is not None and jump.label == node.label:
                return
            raise
        except BigQueryError as error:
            if node.handler is None:
                raise
            self._set_error(error, self.current)
            self._handled.append(error)
            try:
                self._block(node.handler)
            finally:
                self._handled.pop()

    def _raise(self, node: Raise) -> None:
        self._count()
        if node.message is None:
            if not self._handled:
                raise InvalidQuery("RAISE without a message is only allowed inside an exception handler")
            raise self._handled[-1]
        message = self._evaluate(node.message)
        raise InvalidQuery(str(message) if message is not None else "")
