"""Run a Jupyter notebook's code cells (or a ``.py`` script) in order under an emulator.

What a run does (``python -m tutorial_replay run PATH``, or :func:`run_notebook`):

* builds an :class:`~emulator.Emulator` from the seed (``--seed``) and the overrides
  (``--sdk``, ``--start``), applies the seed (BigQuery tables, key files, files) into the working
  directory (``--workdir``, default: the notebook's folder), enters the emulator and changes into
  the working directory;
* runs every code cell in one shared namespace (``__name__ == "__main__"``), like a kernel:
  a bare expression on a cell's last line is shown as Jupyter shows it (its ``repr``, the text
  form Jupyter keeps next to the HTML; nothing for ``None`` or a trailing ``;``);
  ``IPython.display.display`` is the real one when IPython is installed (it prints outside a
  kernel), otherwise a printing stand-in; shell and magic lines (``!pip install``,
  ``%matplotlib inline``) are skipped with a note, ``%%writefile`` writes its file, the bodies
  of ``%%time``/``%%capture`` cells run, other cell magics are skipped; ``time.sleep`` advances
  the virtual clock;
* stops at the first failing cell, naming it and showing its traceback;
* gives each cell a virtual-time budget (:data:`DEFAULT_CELL_BUDGET`, 6 virtual hours): a cell
  stuck in a polling loop (sleeping while nothing changes) is stopped when its sleeps take the
  clock past the budget, with an error naming the cell and the virtual time it consumed.

Scripts (``.py``) are one cell, or several when they use ``# %%`` cell markers.
The transcript (``--transcript FILE``) holds every cell's source and outputs in plain text;
it is deterministic: virtual times only, and ``at 0x…`` object addresses masked.
"""

from __future__ import annotations

import ast
import builtins
import io
import linecache
import os
import re
import shlex
import sys
import traceback
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

#: Virtual time one cell may consume before it is considered stuck (seconds): 6 hours.
DEFAULT_CELL_BUDGET = 6 * 3600.0

_MAGIC_LINE = re.compile(r"^\s*(!|%|\?)|^\s*\w+\s*=\s*[!%]")
_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]{4,}")
_PY_CELL_MARK = re.compile(r"^# ?%%")
_MISSING = object()
_BODY_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
_CARETS = re.compile(r"^\s+[~^]+\s*$")


@dataclass
class Cell:
    """One code cell: ``number`` counts code cells from 1; ``index`` is its place in the notebook."""

    number: int
    index: int
    source: str


@dataclass
class CellResult:
    number: int
    source: str
    output: str = ""
    status: str = "not run"  # ok | error | stuck | not run
    notes: list[str] = field(default_factory=list)
    error: str = ""
    started: str = ""
    virtual_seconds: float = 0.0


@dataclass
class RunResult:
    path: Path
    cells: list[CellResult]

    @property
    def ok(self) -> bool:
        return all(c.status == "ok" for c in self.cells)

    @property
    def failed(self) -> CellResult | None:
        return next((c for c in self.cells if c.status in ("error", "stuck")), None)

    def transcript(self) -> str:
        return render_transcript(self)


class CellFailed(Exception):
    """Raised by :func:`run_notebook` with ``check=True`` when a cell fails."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        failed = result.failed
        super().__init__(failed.error if failed else "notebook failed")


# -- reading --------------------------------------------------------------------------------


def load_cells(path: str | os.PathLike[str]) -> list[Cell]:
    """The code cells of a ``.ipynb`` notebook, or of a ``.py`` script (``# %%`` splits cells)."""
    p = Path(path)
    if p.suffix == ".ipynb":
        from tutorial_replay.ipynb import read_cells

        cells = []
        for index, kind, source in read_cells(p):
            if kind == "code":
                cells.append(Cell(len(cells) + 1, index, source))
        return cells
    text = p.read_text(encoding="utf-8")
    chunks: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if _PY_CELL_MARK.match(line):
            if any(x.strip() for x in chunks[-1]):
                chunks.append([])
            continue
        chunks[-1].append(line)
    sources = ["".join(c) for c in chunks if any(x.strip() for x in c)]
    return [Cell(i + 1, i, s) for i, s in enumerate(sources)]


def strip_magics(source: str) -> tuple[str, list[str]]:
    """Replace shell (``!cmd``), magic (``%x``) and help (``?x``) lines by ``pass``; notes of what went.

    Cell magics (first line ``%%...``): ``%%writefile [-a] FILE`` writes the cell's body to FILE
    (relative to the working directory) as IPython does; the body of ``%%time``, ``%%timeit``,
    ``%%capture`` and ``%%prun`` runs as plain code; any other cell magic skips the whole cell.
    """
    try:
        ast.parse(source)
    except SyntaxError:
        pass
    else:  # plain Python: nothing to skip (a line starting with % may continue an expression)
        return source, []
    lines = source.splitlines()
    first_index = next((i for i, ln in enumerate(lines) if ln.strip()), 0)
    first = lines[first_index].strip() if lines else ""
    if first.startswith("%%"):
        name, _, args = first[2:].partition(" ")
        body = "\n".join(lines[first_index + 1 :]) + "\n"
        if name == "writefile":
            words = shlex.split(args)
            append = any(w in ("-a", "--append") for w in words)
            targets = [w for w in words if not w.startswith("-")]
            if len(targets) != 1:
                return "", [f"skipped cell magic (expected one file name): {first}"]
            call = f"__import__('tutorial_replay.notebook', fromlist=['_']).writefile({targets[0]!r}, {body!r}, {append})"
            return call + "\n", [f"ran cell magic: {first}"]
        if name in _BODY_MAGICS:
            inner, notes = strip_magics(body)
            padding = "pass\n" * (first_index + 1)  # keeps traceback line numbers those of the cell
            return padding + inner, [f"ran the body of {first} as plain code", *notes]
        return "", [f"skipped cell magic: {first}"]
    notes = []
    out = []
    for number, line in enumerate(lines, 1):
        if _MAGIC_LINE.match(line):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}pass")
            notes.append(f"skipped line {number}: {line.strip()}")
        else:
            out.append(line)
    return "\n".join(out) + ("\n" if source.endswith("\n") else ""), notes


def writefile(path: str, text: str, append: bool = False) -> None:
    """What ``%%writefile [-a] path`` does: write (or append) the cell body and say so."""
    target = Path(path).expanduser()
    if append:
        print(f"Appending to {path}")
    elif target.exists():
        print(f"Overwriting {path}")
    else:
        print(f"Writing {path}")
    with target.open("a" if append else "w", encoding="utf-8") as handle:
        handle.write(text)


# -- display --------------------------------------------------------------------------------


def text_repr(value: Any) -> str:
    """The text Jupyter keeps for a value (``text/plain``: its ``repr``)."""
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken repr must not break the run
        return f"<repr failed: {type(exc).__name__}: {exc}>"


def _standin_ipython() -> dict[str, types.ModuleType]:
    """Tiny ``IPython`` / ``IPython.display`` modules for when IPython is not installed."""
    package = types.ModuleType("IPython")
    package.__path__ = []  # type: ignore[attr-defined]
    display_mod = types.ModuleType("IPython.display")

    def display(*objs: Any, **_kwargs: Any) -> None:
        # what IPython's own display() does outside a kernel: print the objects on one line
        print(*objs)

    class _Rich:
        def __init__(self, data: Any = None, **_kwargs: Any) -> None:
            self.data = data

        def __repr__(self) -> str:
            return str(self.data)

    display_mod.display = display  # type: ignore[attr-defined]
    for name in ("HTML", "Markdown", "JSON", "Image", "Code", "Pretty"):
        setattr(display_mod, name, type(name, (_Rich,), {}))
    package.display = display_mod  # type: ignore[attr-defined]
    package.get_ipython = lambda: None  # type: ignore[attr-defined]
    return {"IPython": package, "IPython.display": display_mod}


@contextmanager
def _ipython_available() -> Iterator[None]:
    try:
        import IPython.display  # noqa: F401
    except ImportError:
        added = _standin_ipython()
        previous = {name: sys.modules.get(name, _MISSING) for name in added}
        sys.modules.update(added)
        try:
            yield
        finally:
            for name, module in previous.items():
                if module is _MISSING:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module  # type: ignore[assignment]
        return
    yield


class _Capture(io.TextIOBase):
    """A text stream that keeps what is written and may echo it."""

    def __init__(self, echo: TextIO | None) -> None:
        self.parts: list[str] = []
        self.echo = echo

    def write(self, text: str) -> int:
        self.parts.append(text)
        if self.echo is not None:
            self.echo.write(text)
        return len(text)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def getvalue(self) -> str:
        return "".join(self.parts)


# -- running --------------------------------------------------------------------------------


def _compile_cell(source: str, filename: str) -> tuple[types.CodeType | None, types.CodeType | None]:
    """Code for the cell's body and, if its last statement is a shown expression, for that expression."""
    tree = ast.parse(source, filename=filename, mode="exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, filename, "exec") if tree.body else None
    expr = compile(last, filename, "eval") if last is not None else None
    return body, expr


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the first frame of the cell's own code on (runner frames dropped)."""
    if isinstance(exc, SyntaxError) and str(exc.filename or "").startswith("<cell "):
        return "".join(traceback.format_exception_only(type(exc), exc))
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell "):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def _register_source(filename: str, source: str) -> None:
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)


def _format_delta(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds, 6)))


def run_cells(
    cells: list[Cell],
    emu: Any,
    namespace: dict[str, Any],
    *,
    budget: float = DEFAULT_CELL_BUDGET,
    echo: TextIO | None = None,
    on_cell: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Run ``cells`` in ``namespace`` under the (already active) emulator ``emu``; stop at a failure."""
    from emulator.clock import DeadlineExceeded

    results = [CellResult(c.number, c.source) for c in cells]
    for cell, result in zip(cells, results):
        clock = emu.clock
        began = clock.now()
        result.started = began.isoformat().replace("+00:00", "Z")
        if echo is not None:
            echo.write(f"--- cell {cell.number} [{result.started}]\n")
        source, result.notes = strip_magics(cell.source)
        capture = _Capture(echo)
        for note in result.notes:
            capture.write(f"[note] {note}\n")
        filename = f"<cell {cell.number}>"
        _register_source(filename, source)
        saved = sys.stdout, sys.stderr
        label = f"cell {cell.number}"
        try:
            sys.stdout = sys.stderr = capture
            body, expr = _compile_cell(source, filename)
            with clock.deadline(began + timedelta(seconds=budget), label):
                if body is not None:
                    exec(body, namespace)
                if expr is not None:
                    value = eval(expr, namespace)
                    if value is not None:
                        namespace["_"] = value
                        capture.write(text_repr(value) + "\n")
            result.status = "ok"
        except DeadlineExceeded:
            used = (clock.now() - began).total_seconds()
            result.status = "stuck"
            result.error = (
                f"cell {cell.number} stopped: it consumed {_format_delta(used)} of virtual time "
                f"(budget {_format_delta(budget)}), from {result.started} to "
                f"{clock.now().isoformat().replace('+00:00', 'Z')}; it looks stuck in a polling loop"
            )
        except BaseException as exc:  # noqa: BLE001 - every failure of user code is reported
            if isinstance(exc, KeyboardInterrupt):
                raise
            result.status = "error"
            result.error = f"cell {cell.number} failed:\n{_user_traceback(exc)}"
        finally:
            sys.stdout, sys.stderr = saved
            result.output = capture.getvalue()
            result.virtual_seconds = (clock.now() - began).total_seconds()
        if on_cell is not None:
            on_cell(result)
        if result.status != "ok":
            break
    return results


@contextmanager
def _jupyter_like_pandas() -> Iterator[None]:
    """pandas text reprs as in a Jupyter kernel (up to 20 columns, 80 wide), whatever the terminal."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        yield
        return
    with pd.option_context("display.max_columns", 20, "display.width", 80):
        yield


@contextmanager
def _working_directory(path: Path, argv: list[str]) -> Iterator[None]:
    saved_cwd = os.getcwd()
    saved_argv = sys.argv
    saved_path = list(sys.path)
    os.chdir(path)
    sys.argv = argv
    sys.path.insert(0, str(path))
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        sys.path[:] = saved_path


def run_notebook(
    path: str | os.PathLike[str],
    *,
    seed: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    sdk: str | None = None,
    start: str | None = None,
    budget: float = DEFAULT_CELL_BUDGET,
    echo: TextIO | None = None,
    check: bool = False,
) -> RunResult:
    """Run a notebook or script under a fresh emulator; see the module docs. ``check`` raises on failure."""
    from emulator.emulator import Emulator
    from tutorial_replay.seed import apply_seed, load_seed

    nb_path = Path(path).resolve()
    cells = load_cells(nb_path)
    work = Path(workdir).resolve() if workdir is not None else nb_path.parent
    work.mkdir(parents=True, exist_ok=True)
    if seed is not None:
        loaded = load_seed(seed)
        emu = loaded.create_emulator(sdk=sdk, start=start)
        apply_seed(loaded, emu, work)
    else:
        kwargs = {k: v for k, v in (("sdk", sdk), ("start", start)) if v is not None}
        emu = Emulator(**kwargs)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    if nb_path.suffix == ".py":
        namespace["__file__"] = str(nb_path)
    try:
        with _ipython_available(), _jupyter_like_pandas(), _working_directory(work, [str(nb_path)]), emu:
            results = run_cells(cells, emu, namespace, budget=budget, echo=echo)
    finally:
        emu.close()
    outcome = RunResult(nb_path, results)
    if check and not outcome.ok:
        raise CellFailed(outcome)
    return outcome


def render_transcript(result: RunResult) -> str:
    """Plain-text transcript: per cell its number, virtual start, source, notes, outputs and error."""
    lines = [f"# transcript: {result.path.name}"]
    for cell in result.cells:
        lines.append("")
        if cell.status == "not run":
            lines.append(f"## cell {cell.number} [not run]")
            lines.append("### source")
            lines.extend(cell.source.rstrip("\n").splitlines())
            continue
        lines.append(
            f"## cell {cell.number} [{cell.status}] start {cell.started} virtual {_format_delta(cell.virtual_seconds)}"
        )
        lines.append("### source")
        lines.extend(cell.source.rstrip("\n").splitlines())
        lines.append("### output")
        if cell.output:
            lines.extend(cell.output.rstrip("\n").splitlines())
        if cell.error:
            lines.append("### error")
            lines.extend(cell.error.rstrip("\n").splitlines())
    # caret lines under traceback source lines vary between Python versions: left out
    text = "\n".join(ln for ln in lines if not _CARETS.match(ln)) + "\n"
    return _ADDRESS.sub(" at 0x…", text)
