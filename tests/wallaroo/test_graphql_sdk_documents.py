"""Every GraphQL document a real SDK ships validates against the emulator's schema.

gql validates each document locally against the introspected schema before sending it, so a
type, field or argument missing from the schema breaks that SDK call. The documents are read
from the SDK's own files (``.graphql`` files, ``gql("...")`` literals, and the documents its
``Client`` query builders assemble with every filter set): the installed real ``wallaroo`` (the real-SDK venv) and any unpacked
SDK named by ``WALLAROO_SDK_SOURCES`` (e.g. a 2023.2.1 wheel unpacked for reading). Without
either, the module skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate
from graphql.language import ast
from sdk_sources import assembled_documents, documents, installed_real_sdk, source_folders

from emulator.wallaroo.hasura_schema import schema

_SOURCES = [(f"installed:{p}", p) for p in [installed_real_sdk()] if p is not None]
_SOURCES += [(str(p), p) for p in source_folders()]

if not _SOURCES:
    pytest.skip("no real wallaroo SDK installed and WALLAROO_SDK_SOURCES unset", allow_module_level=True)

#: Documents the SDKs ship that no GraphQL server accepts, by operation name, with the reasons
#: validation gives. A copy of one of them is tolerated only when it fails for exactly that
#: reason (some SDK versions ship a fixed copy, which must then validate like any other).
KNOWN_INVALID = {
    # Declares `$name: string!`; GraphQL has no `string` type (Hasura neither). The SDKs never
    # send it: it is an unused module-level constant (records/graphql_queries.py) and .graphql file.
    "WorkspaceByName": ("Unknown type 'string'",),
    # comment.py declares `$pipeline_pk_id` and uses `$pipeline_id`: the real platform refuses it
    # as well, so Pipeline.add_comment cannot work against any server.
    "AddCommentToPipeline": ("Variable '$pipeline_id' is not defined", "Variable '$pipeline_pk_id' is never used"),
    # 2023.2.1 client.py declares `$version` and `$workspace_id` and never uses them, which the
    # GraphQL specification forbids (NoUnusedVariables); the real platform refuses it too.
    "CreatePipeline": ("Variable '$version' is never used", "Variable '$workspace_id' is never used"),
}


def _operation_names(text: str) -> list[str]:
    return [d.name.value for d in parse(text).definitions
            if isinstance(d, ast.OperationDefinitionNode) and d.name is not None]


@pytest.mark.parametrize("package", [pytest.param(p, id=label) for label, p in _SOURCES])
def test_every_shipped_document_validates(package: Path) -> None:
    docs = documents(package)
    assert len(docs) > 100, f"expected the SDK's GraphQL documents under {package}, found {len(docs)}"
    assembled = assembled_documents(package)
    assert "client.py:Client._generate_search_pipeline_query" in assembled
    docs.update(assembled)
    failures = []
    for where, text in docs.items():
        names = _operation_names(text)
        messages = [e.message for e in validate(schema(), parse(text))]
        reasons = [r for n in names for r in KNOWN_INVALID.get(n, ())]
        if messages and not (reasons and all(any(r in m for r in reasons) for m in messages)):
            failures.append(f"{where} {names}: {messages[:3]}")
    assert not failures, "documents the schema does not cover:\n" + "\n".join(failures)
