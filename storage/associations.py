"""Term associations: the stories they are learned from, and the learned table.

Housekeeping reads the articles of recent stories that hold more than one article
(``story_members``), learns in ``bot.domain.associations`` which terms go together across
outlets, and replaces the table in one short transaction (``replace``); the related engine
reads a story's terms' associates (``associates``, on the search connection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.database import Database

# Stories whose articles are read, newest first, and articles read per story at most.
_MEMBERS = """
WITH recent AS MATERIALIZED (
    SELECT story_id FROM articles WHERE story_id IS NOT NULL
    GROUP BY story_id HAVING count(*) > 1 ORDER BY story_id DESC LIMIT :stories)
SELECT r.story_id, a.title, a.excerpt, coalesce(nullif(a.provider_domain, ''), a.provider_name)
FROM recent r JOIN articles a ON a.story_id = r.story_id
WHERE a.pk IN (SELECT pk FROM articles WHERE story_id = r.story_id ORDER BY pk LIMIT :per_story)
ORDER BY r.story_id DESC, a.pk"""


@dataclass(frozen=True, slots=True)
class StoryMember:
    story_id: int
    title: str
    excerpt: str
    outlet: str


@dataclass(frozen=True, slots=True)
class Association:
    """``associate`` goes with ``term`` across outlets; ``forms`` spell it in an article."""

    term: str
    associate: str
    forms: tuple[str, ...]
    strength: float


class AssociationRepository:
    """Named statements of learned term associations."""

    def __init__(self, connection: Database, search: Database) -> None:
        self._db = connection
        self._search = search

    async def story_members(self, *, stories: int, per_story: int) -> list[StoryMember]:
        """The articles of the newest ``stories`` stories holding more than one article (at
        most ``per_story`` of each), grouped by story."""
        # on the read-only search connection: the writer (ingest, commands) does not wait
        rows = await self._search.fetch_all(_MEMBERS, {"stories": stories, "per_story": per_story})
        return [StoryMember(int(r[0]), r[1] or "", r[2] or "", r[3] or "") for r in rows]

    async def replace(self, associations: Sequence[Association]) -> None:
        """The table becomes ``associations``, in one transaction."""
        async with self._db.transaction():
            await self._db.execute("DELETE FROM term_associations")
            await self._db.executemany(
                "INSERT INTO term_associations (term, associate, forms, strength) "
                "VALUES (?, ?, ?, ?)",
                [(a.term, a.associate, "|".join(a.forms), a.strength) for a in associations],
            )

    async def associates(self, terms: Sequence[str]) -> list[Association]:
        """The associates of ``terms``, strongest first."""
        if not terms:
            return []
        marks = ", ".join("?" * len(terms))
        rows = await self._search.fetch_all(
            "SELECT term, associate, forms, strength FROM term_associations "
            f"WHERE term IN ({marks}) ORDER BY strength DESC, term, associate",
            tuple(terms),
        )
        return [association_of(r) for r in rows]

    async def all(self) -> list[Association]:
        """Every association, strongest first."""
        rows = await self._db.fetch_all(
            "SELECT term, associate, forms, strength FROM term_associations "
            "ORDER BY strength DESC, term, associate"
        )
        return [association_of(r) for r in rows]


def association_of(row: tuple[Any, ...]) -> Association:
    """An association from its stored (term, associate, forms, strength)."""
    return Association(row[0], row[1], tuple(str(row[2]).split("|")), float(row[3]))
