"""Story grouping's SQL on PostgreSQL (the logic, shared with SQLite: ``storage.grouping``).
Every statement takes the batch's values as arrays: a few statements per batch, whatever its
size."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from storage.grouping import WEEK, GroupingRules, TitleKey
from storage.postgresql.database import PgDatabase


def _week_of(seconds: str) -> str:
    """SQL for the week of a timestamp, rounded down as Python's ``//`` does before 1970."""
    return f"(({seconds}) - ((({seconds}) % {WEEK}) + {WEEK}) % {WEEK}) / {WEEK}"


_LINKED = (
    "SELECT l.parent_pk, coalesce(a.story_id, a.pk) FROM related_links l "
    "JOIN articles a ON a.pk = l.child_pk WHERE l.parent_pk = ANY($1::bigint[]) "
    "UNION ALL SELECT l.child_pk, coalesce(a.story_id, a.pk) FROM related_links l "
    "JOIN articles a ON a.pk = l.parent_pk WHERE l.child_pk = ANY($1::bigint[])"
)
# One walk per title key the batch filed (sent as arrays), a week at a time through the
# primary key (week, key, published_at, article_pk), each stopping at $5 headlines; the first
# $5 of them in index order, as on SQLite. Walks that found the article alone are left out.
_KEY_WALKS = f"""
WITH probes AS (
    SELECT p.pk, p.key, p.published_at - $4 AS lo, p.published_at + $4 AS hi, p.n
    FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY
        AS p(pk, key, published_at, n)
)
SELECT p.pk, w.found FROM probes p
CROSS JOIN LATERAL (
    SELECT (array_agg(f.article_pk ORDER BY wk.week, f.published_at, f.article_pk))[1:$5]
        AS found
    FROM generate_series({_week_of("p.lo")}, {_week_of("p.hi")}) AS wk(week)
    CROSS JOIN LATERAL (
        SELECT s.published_at, s.article_pk FROM story_title_keys s
        WHERE s.week = wk.week AND s.key = p.key AND s.published_at BETWEEN p.lo AND p.hi
        ORDER BY s.published_at, s.article_pk LIMIT $5
    ) f
) w
WHERE w.found <> ARRAY[p.pk]
ORDER BY p.n
"""


class PgGrouping:
    """``storage.grouping.GroupingQueries`` on the PostgreSQL store."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def linked(self, pks: Sequence[int]) -> list[tuple[int, int]]:
        """(article, story or article) pairs joined by curated links touching ``pks``."""
        rows = await self._db.fetch_all(_LINKED, list(pks))
        return [(int(r[0]), int(r[1])) for r in rows]

    async def write_keys(self, keys: Sequence[TitleKey], rewritten: Sequence[int]) -> None:
        """Remove the title keys of ``rewritten`` articles, then file ``keys``."""
        if rewritten:
            await self._db.execute(
                "DELETE FROM story_title_keys WHERE article_pk = ANY($1::bigint[])",
                list(rewritten),
            )
        if keys:
            weeks, values, times, pks = (list(column) for column in zip(*keys, strict=True))
            await self._db.execute(
                "INSERT INTO story_title_keys (week, key, published_at, article_pk) "
                "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])",
                weeks,
                values,
                times,
                pks,
            )

    async def key_walks(
        self, keys: Sequence[TitleKey], rules: GroupingRules, cap: int
    ) -> list[tuple[int, list[int]]]:
        """Each walk of a key just filed, stopping at ``cap`` headlines."""
        if not keys:
            return []
        pks, values, times = ([k.article_pk for k in keys], [k.key for k in keys],
                              [k.published_at for k in keys])  # fmt: skip
        rows = await self._db.fetch_all(_KEY_WALKS, pks, values, times, rules.window_seconds, cap)
        return [(int(pk), list(found)) for pk, found in rows]

    async def stored_candidates(self, pks: Collection[int]) -> list[tuple[int, str, str, int]]:
        """Stored articles by pk: (pk, outlet's domain, title, story)."""
        if not pks:
            return []
        rows = await self._db.fetch_all(
            "SELECT pk, provider_domain, title, coalesce(story_id, pk) FROM articles "
            "WHERE pk = ANY($1::bigint[])",
            sorted(pks),
        )
        return [(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]

    async def merge(self, updates: Sequence[tuple[int, int]]) -> None:
        """Give every article its story; fold merged stories into theirs."""
        await self._set_stories("a.pk = u.item AND a.story_id IS DISTINCT FROM u.root", updates)
        merged = [(root, item) for root, item in updates if root != item]
        await self._set_stories("a.story_id = u.item", merged)

    async def _set_stories(self, where: str, pairs: Sequence[tuple[int, int]]) -> None:
        """Set story ``root`` where ``where`` holds for (root, item), for each pair."""
        if not pairs:
            return
        roots, items = (list(column) for column in zip(*pairs, strict=True))
        await self._db.execute(
            "UPDATE articles a SET story_id = u.root "
            f"FROM unnest($1::bigint[], $2::bigint[]) AS u(root, item) WHERE {where}",
            roots,
            items,
        )
