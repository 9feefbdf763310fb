"""The topic repository: lookups and suggestions, most-used first.

``article_count`` counts the articles that members of a guild that added and decided nothing
see (kept by triggers, migration 0011). For one guild, ``_GUILD_COUNTS`` adds what its own
decisions and additions change, by the one rule (``storage.visibility.members_see``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from storage.columns import Column, Columns
from storage.models import Topic
from storage.sql import Row, Statements, like_pattern
from storage.titles import SPELLED_OUT
from storage.visibility import members_see, not_another_guilds

TOPIC = Columns(
    Topic,
    Column("id", "id"),
    Column("key", "key"),
    Column("name", "name"),
    Column("article_count", "article_count"),
)
_COLUMNS = TOPIC.select


def _one_if(condition: str) -> str:
    # 1 or 0 on both engines (a comparison is a boolean on PostgreSQL, not a number)
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# Topics with their counts as members of :guild see them. Only the articles the guild decided
# on or added can count differently for it from the stored count.
_GUILD_COUNTS = f"""
WITH own AS (SELECT article_pk AS pk FROM guild_publication WHERE guild_id = :guild
             UNION SELECT pk FROM articles WHERE origin_guild_id = :guild),
delta AS (SELECT at.topic_id,
                 sum({_one_if(members_see())} - {_one_if(members_see(guild="NULL"))}) AS d
          FROM own JOIN articles a ON a.pk = own.pk
          JOIN article_topics at ON at.article_pk = a.pk GROUP BY at.topic_id),
counted AS (SELECT t.id, t.key, t.name, t.article_count + coalesce(delta.d, 0) AS article_count
            FROM topics t LEFT JOIN delta ON delta.topic_id = t.id)
"""


# Invisible characters that pasted tags bring along (zero-width space, word joiner, a
# byte-order mark, a soft hyphen): a name holding one looks the same as the name without it.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))


def tidy_topic(name: str) -> str:
    """A topic name as shown: one Unicode form (NFC: 'Café' typed as 'e' and a combining
    accent looks the same as typed as one character), no invisible characters, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).translate(_INVISIBLE).split())


# A topic may be named to :guild unless it lives only on other guilds' own articles (added
# there with /article add): its name is theirs. One that carries no article (kept for its
# subscriptions) stays known. A counted topic is carried by an article of no guild's own
# (migration 0011), so only uncounted ones are looked into.
_CARRIED = (
    "SELECT 1 FROM article_topics o_at JOIN articles a ON a.pk = o_at.article_pk "
    "WHERE o_at.topic_id = t.id"
)
_OFFERED = (
    f"(t.article_count > 0 OR EXISTS ({_CARRIED} AND {not_another_guilds()}) "
    f"OR NOT EXISTS ({_CARRIED}))"
)


def topic_key(name: str) -> str:
    """Fold a topic name so that '  ai ' and 'AI' are the same topic, and so are names that
    differ only in what ``tidy_topic`` evens out."""
    return tidy_topic(name).casefold()


def topic_fold(name: str) -> str:
    """A topic name as typed without accents: decomposed (NFKD) and casefolded, its
    combining marks (category Mn) and invisible characters dropped, the letters of
    ``storage.titles.UNDECOMPOSED`` spelled out, single spaces (the same from a name or its
    ``topic_key``).
    'Québec', 'QUEBEC' and 'quebec' fold alike; 'Straße' folds as 'strasse' (casefold). The
    one fold both engines store (topics.folded), so that they match alike."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.translate(SPELLED_OUT).translate(_INVISIBLE).split())


# Topics folded per statement when a store opens on rows stored before topics.folded was.
FOLD_BATCH = 2000
UNFOLDED = "SELECT id, name FROM topics WHERE folded IS NULL ORDER BY id LIMIT {limit}"


def folds_of(rows: Sequence[Row]) -> list[tuple[str, int]]:
    """(fold, id) for rows of ``UNFOLDED``."""
    return [(topic_fold(str(name)), int(topic_id)) for topic_id, name in rows]


class TopicRepository:
    """Named queries over topics, on either engine (``storage.sql.Statements``)."""

    def __init__(self, db: Statements) -> None:
        self._db = db

    async def get(self, name: str) -> Topic | None:
        """The topic with this name (in any case or spacing), or None."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM topics WHERE key = :key", {"key": topic_key(name)}
        )
        return TOPIC.from_row(row) if row else None

    async def by_id(self, topic_id: int) -> Topic | None:
        """The topic with this id, or None."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM topics WHERE id = :id", {"id": topic_id}
        )
        return TOPIC.from_row(row) if row else None

    async def offered(self, guild_id: int, name: str) -> Topic | None:
        """The topic with this name (in any case or spacing) as members of the guild may name
        it, or None (none such, or another guild's own)."""
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM topics t WHERE key = :key AND {_OFFERED}",
            {"key": topic_key(name), "guild": guild_id},
        )
        return TOPIC.from_row(row) if row else None

    async def offered_alike(self, guild_id: int, name: str, *, limit: int = 5) -> list[Topic]:
        """Topics the guild may name whose name folds as this one does (``topic_fold``: typed
        without accents), most-used first."""
        sql = (
            f"SELECT {_COLUMNS} FROM topics t WHERE folded = :folded AND {_OFFERED} "
            "ORDER BY article_count DESC, key LIMIT :limit"
        )
        params = {"folded": topic_fold(name), "guild": guild_id, "limit": limit}
        return [TOPIC.from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def offered_shaped(
        self, guild_id: int, shortest: int, longest: int, ends: tuple[str, str], *, limit: int
    ) -> list[Topic]:
        """Topics the guild may name whose folded name is ``shortest`` to ``longest``
        characters long and begins with ``ends[0]`` or ends with ``ends[1]``, most-used
        first: the candidates for a name typed slightly wrong
        (``bot.domain.topic_names.near_names``)."""
        sql = (
            f"SELECT {_COLUMNS} FROM topics t WHERE length(folded) BETWEEN :shortest AND "
            ":longest AND (substr(folded, 1, 1) = :first "
            "OR substr(folded, length(folded), 1) = :last) "
            f"AND {_OFFERED} ORDER BY article_count DESC, key LIMIT :limit"
        )
        params = {
            "guild": guild_id,
            "shortest": shortest,
            "longest": longest,
            "first": ends[0],
            "last": ends[1],
            "limit": limit,
        }
        return [TOPIC.from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def suggest(self, guild_id: int, typed: str, *, limit: int = 25) -> list[Topic]:
        """Topics the guild may name that hold the typed text, accents or none (``topic_fold``):
        the topic of exactly that name first, then one that folds as it does, then those
        whose name starts with it, then those with a word starting with it, then the rest;
        most-used first within each. So a member who types a topic in full is offered it,
        however many busier topics share its first letters."""
        key, folded = topic_key(typed), topic_fold(typed)
        matching = "folded LIKE :pattern ESCAPE '\\' AND " if key else ""
        # one rank rather than a sort key per rule: each matching row is ranked once, and
        # no further than the first rule it meets (as fast as the key's three rules were)
        first = (
            "CASE WHEN key = :key THEN 0 WHEN folded = :folded THEN 1 "
            "WHEN substr(folded, 1, length(:folded)) = :folded THEN 2 "
            "WHEN (' ' || folded) LIKE :word ESCAPE '\\' THEN 3 ELSE 4 END, "
            if key
            else ""
        )
        sql = (
            f"SELECT {_COLUMNS} FROM topics t WHERE {matching}{_OFFERED} "
            f"ORDER BY {first}article_count DESC, key LIMIT :limit"
        )
        params = {
            "guild": guild_id,
            "pattern": like_pattern(folded),
            "word": like_pattern(f" {folded}"),
            "key": key,
            "folded": folded,
            "limit": limit,
        }
        return [TOPIC.from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def most_used(self, *, limit: int = 25, offset: int = 0) -> list[Topic]:
        """Topics by how many articles carry them."""
        sql = (
            f"SELECT {_COLUMNS} FROM topics ORDER BY article_count DESC, key "
            "LIMIT :limit OFFSET :offset"
        )
        params = {"limit": limit, "offset": offset}
        return [TOPIC.from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def seen_in(self, guild_id: int, *, limit: int, offset: int = 0) -> list[Topic]:
        """Topics carried by articles that members of the guild see, by how many they see."""
        sql = (
            f"{_GUILD_COUNTS} SELECT {_COLUMNS} FROM counted WHERE article_count > 0 "
            "ORDER BY article_count DESC, key LIMIT :limit OFFSET :offset"
        )
        params = {"guild": guild_id, "limit": limit, "offset": offset}
        return [TOPIC.from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def count_seen_in(self, guild_id: int) -> int:
        """How many topics articles that members of the guild see carry."""
        sql = f"{_GUILD_COUNTS} SELECT count(*) FROM counted WHERE article_count > 0"
        return int(await self._db.scalar(sql, {"guild": guild_id}) or 0)
