"""Platform records that only the GraphQL API creates: tags, their links, default workspaces, visibility.

The SDKs create tags (``insert_tag``), attach them to pipelines and model versions
(``insert_pipeline_tag``, ``insert_model_tag``) and, in 2023.2, record a user's default workspace
(``insert_workspace_one`` with ``user_default_workspaces``) through Hasura only; no REST endpoint or
backend method holds them. :func:`state_for` keeps one :class:`GraphQLState` per platform backend
(without adding attributes to it); ids come from the emulator's seeded generator, so they are
deterministic like every other id.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TagRecord:
    id: int
    tag: str


@dataclass
class TagLink:
    id: int
    tag_id: int
    target_id: int  # pipeline id or model version id


@dataclass
class GraphQLState:
    ids: Any
    tags: dict[int, TagRecord] = field(default_factory=dict)
    pipeline_tags: dict[int, TagLink] = field(default_factory=dict)
    model_tags: dict[int, TagLink] = field(default_factory=dict)
    #: user id (Keycloak subject) → workspace id, as ``user_default_workspace`` rows hold it.
    default_workspaces: dict[str, int] = field(default_factory=dict)
    #: (table, id) → visibility set through ``update_pipeline`` / ``update_model`` (default "private").
    visibility: dict[tuple[str, int], str] = field(default_factory=dict)

    def create_tag(self, text: str) -> TagRecord:
        record = TagRecord(self.ids.next_int("tag"), str(text))
        self.tags[record.id] = record
        return record

    def link(self, kind: str, tag_id: int, target_id: int) -> TagLink:
        links = self.pipeline_tags if kind == "pipeline" else self.model_tags
        for link in links.values():
            if link.tag_id == tag_id and link.target_id == target_id:
                return link
        link = TagLink(self.ids.next_int(f"{kind}_tag"), tag_id, target_id)
        links[link.id] = link
        return link

    def unlink(self, kind: str, tag_id: int, target_id: int) -> list[TagLink]:
        links = self.pipeline_tags if kind == "pipeline" else self.model_tags
        gone = [link for link in links.values() if link.tag_id == tag_id and link.target_id == target_id]
        for link in gone:
            del links[link.id]
        return gone


_STATES: weakref.WeakKeyDictionary[Any, GraphQLState] = weakref.WeakKeyDictionary()


def state_for(backend: Any) -> GraphQLState:
    """The GraphQL-only records of a platform backend (created on first use)."""
    state = _STATES.get(backend)
    if state is None:
        state = _STATES[backend] = GraphQLState(backend.ids)
    return state
