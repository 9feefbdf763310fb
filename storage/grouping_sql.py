"""Story grouping's SQL on SQLite (the logic: ``storage.grouping``)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from functools import cache

from storage.database import Database
from storage.grouping import WEEK, GroupingRules, TitleKey, week_windows
from storage.sql import chunks, placeholders


class SqliteGrouping:
    """``storage.grouping.GroupingQueries`` on the SQLite store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def linked(self, pks: Sequence[int]) -> list[tuple[int, int]]:
        """(article, story or article) pairs joined by curated links touching ``pks``."""
        pairs: list[tuple[int, int]] = []
        for chunk in chunks(sorted(set(pks)), 450):
            marks = placeholders(len(chunk))
            sql = (
                "SELECT l.parent_pk, ifnull(a.story_id, a.pk) FROM related_links l "
                f"JOIN articles a ON a.pk = l.child_pk WHERE l.parent_pk IN ({marks}) "
                "UNION ALL SELECT l.child_pk, ifnull(a.story_id, a.pk) FROM related_links l "
                f"JOIN articles a ON a.pk = l.parent_pk WHERE l.child_pk IN ({marks})"
            )
            rows = await self._db.fetch_all(sql, [*chunk, *chunk])
            pairs.extend((int(r[0]), int(r[1])) for r in rows)
        return pairs

    async def write_keys(self, keys: Sequence[TitleKey], rewritten: Sequence[int]) -> None:
        """Remove the title keys of ``rewritten`` articles, then file ``keys``."""
        await self._db.executemany(
            "DELETE FROM story_title_keys WHERE article_pk = ?", [(pk,) for pk in rewritten]
        )
        await self._db.executemany(
            "INSERT OR IGNORE INTO story_title_keys (week, key, published_at, article_pk) "
            "VALUES (?,?,?,?)",
            keys,
        )

    async def key_walks(
        self, keys: Sequence[TitleKey], rules: GroupingRules, cap: int
    ) -> list[tuple[int, list[int]]]:
        """Each walk of a key just filed, stopping at ``cap`` headlines; the keys are read
        back by their articles' pks (a short parameter)."""
        pks = list(dict.fromkeys(key.article_pk for key in keys))
        params = {"pks": json.dumps(pks), "window": rules.window_seconds, "cap": cap}
        walks = await self._db.fetch_all(_key_walks(week_windows(rules)), params)
        return [(int(pk), [int(other) for other in found.split(",")]) for pk, found in walks]

    async def stored_candidates(self, pks: Collection[int]) -> list[tuple[int, str, str, int]]:
        """Stored articles by pk: (pk, outlet's domain, title, story)."""
        found: list[tuple[int, str, str, int]] = []
        for chunk in chunks(sorted(pks)):
            sql = (
                "SELECT pk, provider_domain, title, ifnull(story_id, pk) FROM articles "
                f"WHERE pk IN ({placeholders(len(chunk))})"
            )
            for pk, domain, title, story in await self._db.fetch_all(sql, chunk):
                found.append((int(pk), str(domain), str(title), int(story)))
        return found

    async def merge(self, updates: Sequence[tuple[int, int]]) -> None:
        """Give every article its story; fold merged stories into theirs."""
        await self._db.executemany(
            "UPDATE articles SET story_id = ?1 WHERE pk = ?2 AND story_id IS NOT ?1", updates
        )
        merged = [(root, item) for root, item in updates if root != item]
        await self._db.executemany("UPDATE articles SET story_id = ? WHERE story_id = ?", merged)


def _week_of(seconds: str) -> str:
    """SQL for the week of a timestamp, rounded down as Python's ``//`` does before 1970."""
    return f"(({seconds}) - ((({seconds}) % {WEEK}) + {WEEK}) % {WEEK}) / {WEEK}"


@cache
def _key_walks(weeks: int) -> str:
    """One walk of the index per title key of each article just written, over the weeks its
    window reaches (at most ``weeks``), made from the keys the batch filed (nothing to send
    but the batch's pks), stopping after ``:cap`` headlines: however many share a key, the
    walk reads no more, and the headlines themselves are read only for the candidates kept.
    Walks that find nothing but the article itself are left out here; most are."""
    first = _week_of("k.published_at - :window")
    last = _week_of("k.published_at + :window")
    spanned = ", ".join(
        f"CASE WHEN p.w0 + {n} <= p.w1 THEN p.w0 + {n} END" if n else "p.w0" for n in range(weeks)
    )
    return (
        "WITH probes AS (SELECT k.article_pk AS pk, k.key AS key,"
        " k.published_at - :window AS start, k.published_at + :window AS end,"
        f" {first} AS w0, {last} AS w1"
        " FROM json_each(:pks) b JOIN story_title_keys k ON k.article_pk = b.value)"
        " SELECT pk, found FROM (SELECT p.pk, (SELECT group_concat(article_pk)"
        f" FROM (SELECT s.article_pk FROM story_title_keys s WHERE s.week IN ({spanned})"
        " AND s.key = p.key AND s.published_at BETWEEN p.start AND p.end LIMIT :cap)) AS found"
        " FROM probes p LIMIT -1)"  # (the LIMIT keeps the walk from running twice for the WHERE)
        " WHERE found <> CAST(pk AS TEXT)"
    )
