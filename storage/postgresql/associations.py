"""Learned term associations on PostgreSQL (the SQLite twin: ``storage.associations``)."""

from __future__ import annotations

from collections.abc import Sequence

from storage.associations import Association, StoryMember, association_of
from storage.postgresql.database import PgDatabase

# Stories whose articles are read, newest first, and articles read per story at most.
_MEMBERS = """
WITH recent AS MATERIALIZED (
    SELECT story_id FROM articles WHERE story_id IS NOT NULL
    GROUP BY story_id HAVING count(*) > 1 ORDER BY story_id DESC LIMIT $1)
SELECT r.story_id, a.title, a.excerpt, coalesce(nullif(a.provider_domain, ''), a.provider_name)
FROM recent r JOIN LATERAL (SELECT * FROM articles o WHERE o.story_id = r.story_id
    ORDER BY o.pk LIMIT $2) a ON true
ORDER BY r.story_id DESC, a.pk"""
_SELECT = "SELECT term, associate, forms, strength FROM term_associations"
_ORDER = " ORDER BY strength DESC, term, associate"


class PgAssociationRepository:
    """Named statements of learned term associations."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def story_members(self, *, stories: int, per_story: int) -> list[StoryMember]:
        """The articles of the newest ``stories`` stories holding more than one article (at
        most ``per_story`` of each), grouped by story."""
        rows = await self._db.fetch_all(_MEMBERS, stories, per_story)
        return [StoryMember(int(r[0]), r[1] or "", r[2] or "", r[3] or "") for r in rows]

    async def replace(self, associations: Sequence[Association]) -> None:
        """The table becomes ``associations``, in one transaction."""
        async with self._db.transaction():
            await self._db.execute("DELETE FROM term_associations")
            await self._db.execute(
                "INSERT INTO term_associations (term, associate, forms, strength) "
                "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[])",
                [a.term for a in associations],
                [a.associate for a in associations],
                ["|".join(a.forms) for a in associations],
                [a.strength for a in associations],
            )

    async def associates(self, terms: Sequence[str]) -> list[Association]:
        """The associates of ``terms``, strongest first."""
        if not terms:
            return []
        rows = await self._db.fetch_all(f"{_SELECT} WHERE term = ANY($1::text[]){_ORDER}", terms)
        return [association_of(tuple(r)) for r in rows]

    async def all(self) -> list[Association]:
        """Every association, strongest first."""
        return [association_of(tuple(r)) for r in await self._db.fetch_all(_SELECT + _ORDER)]
