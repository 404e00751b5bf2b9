"""Reading a real ``wallaroo`` SDK's source without running it: its GraphQL documents, its public surface.

Used by the tests that hold the emulator against the real SDK: the installed one (a venv with
``wallaroo`` installed beside the project) or unpacked copies named by environment variables
(``WALLAROO_SDK_SOURCES``: ``os.pathsep``-separated folders, each holding a ``wallaroo``
package, e.g. an unpacked 2023.2.1 wheel). Nothing is imported from those folders.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path

#: f-string parts the SDKs interpolate into documents, and a literal that stands for each.
PLACEHOLDERS = {"self._id": "1"}
#: Folders of the generated REST client (no GraphQL there).
_SKIPPED = ("wallaroo_ml_ops_api_client",)


def installed_real_sdk() -> Path | None:
    """The folder of the installed real ``wallaroo`` package (never the emulator's facade), if any."""
    try:
        spec = importlib.util.find_spec("wallaroo")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.submodule_search_locations:
        return None  # no package, or a namespace package (e.g. this tests/wallaroo folder on sys.path)
    folder = Path(spec.origin).parent
    if "emulator" in folder.parts or not (folder / "client.py").is_file():
        return None
    return folder


def source_folders() -> list[Path]:
    """Unpacked SDK packages named by ``WALLAROO_SDK_SOURCES`` (each folder holds ``wallaroo/``)."""
    found = []
    for entry in os.environ.get("WALLAROO_SDK_SOURCES", "").split(os.pathsep):
        if entry.strip():
            folder = Path(entry.strip())
            found.append(folder / "wallaroo" if (folder / "wallaroo").is_dir() else folder)
    return found


def _is_gql_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name == "gql" and bool(node.args)


def _render(arg: ast.expr) -> str | None:
    """The document text of a ``gql(...)`` argument; None when it is built at run time."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr):
        parts = []
        for value in arg.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                assert isinstance(value, ast.FormattedValue)
                replacement = PLACEHOLDERS.get(ast.unparse(value.value))
                if replacement is None:
                    return None
                parts.append(replacement)
        return "".join(parts)
    return None


def documents(package: Path) -> dict[str, str]:
    """Every GraphQL document shipped in an SDK package: ``.graphql`` files and ``gql("...")`` literals.

    Keys are ``<path inside the package>`` for files and ``<path>:<line>`` for literals. Literals
    assembled at run time (``gql(query)``, f-strings with a where clause) are left out: the
    real-SDK tests make the SDK build those.
    """
    found: dict[str, str] = {}
    for path in sorted(package.rglob("*.graphql")):
        found[path.relative_to(package).as_posix()] = path.read_text("utf-8")
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.startswith(_SKIPPED):
            continue
        text = path.read_text("utf-8")
        if "gql" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and _is_gql_call(node):
                rendered = _render(node.args[0])
                if rendered is not None:
                    found[f"{relative}:{node.lineno}"] = rendered
    return found


_BUILDER_PREFIXES = ("_generate_", "_add_", "_build_nested_query", "_validate_workspace")


class _Gql:
    """Stands in for the ``gql`` module inside an SDK's query builders: ``gql.gql(text)`` is the text."""

    @staticmethod
    def gql(text: str) -> str:
        return text


def assembled_documents(package: Path) -> dict[str, str]:
    """The documents the SDK's ``Client`` assembles at run time, each built with every filter set.

    The builder methods (``Client._generate_*`` and the helpers they call) are compiled from the
    SDK's ``client.py`` on their own, into a bare class, and called; nothing else of the SDK runs,
    so this works for an SDK whose dependencies are not installed (e.g. 2023.2.1 for Python 3.8).
    """
    import __future__

    import datetime as _dt
    import inspect
    import typing

    tree = ast.parse((package / "client.py").read_text("utf-8"))
    client = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Client")
    methods = [n for n in client.body if isinstance(n, ast.FunctionDef) and n.name.startswith(_BUILDER_PREFIXES)]
    module = ast.Module(body=[ast.ClassDef(name="Client", bases=[], keywords=[], body=methods, decorator_list=[],
                                           type_params=[])], type_ignores=[])
    namespace: dict[str, object] = {name: getattr(typing, name) for name in ("Any", "Dict", "List", "Optional")}
    namespace["gql"] = _Gql
    exec(compile(ast.fix_missing_locations(module), str(package / "client.py"), "exec",
                 flags=__future__.annotations.compiler_flag, dont_inherit=True), namespace)
    builder_class = namespace["Client"]
    found = {}
    for method in methods:
        if not method.name.startswith("_generate_") or method.name.endswith(("_where_clause_str", "_param_str",
                                                                              "_time_range_graphql")):
            continue
        function = getattr(builder_class, method.name)
        values: dict[str, object] = {}
        for name in inspect.signature(function).parameters:
            if name == "self":
                continue
            if name == "deployed":
                values[name] = True
            elif "start" in name or "end" in name:
                values[name] = _dt.datetime(2023, 1, 1, tzinfo=_dt.UTC)
            elif name.endswith("_id") and name != "user_id":
                values[name] = 1
            else:
                values[name] = "x"
        document, _params = function(builder_class(), **values)
        found[f"client.py:Client.{method.name}"] = document
    return found
