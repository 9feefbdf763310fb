"""Title autocomplete on PostgreSQL: what SQLite's ``PublicationRepository.suggest`` serves to
``/related``'s (and ``/publish``'s) autocomplete, by a prefix query on the stored
``title_words`` tsvector (GIN index of full articles' titles, migration 0005).

As on SQLite, the newest ``SUGGEST_POOL`` title matches are ranked (every typed word, the last
one as a prefix once it has three letters), so a short prefix on a large store costs no more
than its newest matches. SQLite ranks them by FTS5's bm25 over titles; here ``ts_rank`` with
length normalisation (1): with every word required, both put the titles that hold the words
more often, and shorter titles, first. Typed text reaches ``to_tsquery`` as quoted letters and
digits only (``prefix_tsquery``), never as syntax.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from storage.models import ArticleState, GuildArticle
from storage.postgresql.articles import ARTICLE as PG_ARTICLE
from storage.postgresql.database import PgDatabase
from storage.publication import SUGGEST_POOL, StateFilter
from storage.visibility import guild_state, members_see, not_another_guilds

_WORD = re.compile(r"[^\W_]+")
_STATE = guild_state("a", "$1")
_LISTED = f"a.coverage_only = 0 AND {not_another_guilds('a', '$1')}"
_FILTERS = {
    "published": members_see("a", "$1"),
    "pending": f"{_STATE} = 'pending'",
    "any": "true",
}
PREFIX_LETTERS = 3


def prefix_tsquery(terms: Sequence[str]) -> str:
    """A ``to_tsquery`` text requiring every term (each a phrase of its words), the last as a
    prefix once it has ``PREFIX_LETTERS`` letters; '' when no term holds a word."""
    phrases = [" ".join(_WORD.findall(term)) for term in terms]
    quoted = [f"'{words}'" for words in phrases if words]
    if quoted and len(terms[-1]) >= PREFIX_LETTERS and phrases[-1]:
        quoted[-1] += ":*"
    return " & ".join(quoted)


class PgTitleSuggestions:
    """Articles for autocomplete by their titles, as a guild sees them."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def suggest(
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int = 25
    ) -> list[GuildArticle]:
        """Listed articles in this state whose titles hold the typed words, best match first
        (then the newest); the newest in that state when nothing is typed."""
        query = prefix_tsquery(terms) if terms else ""
        if terms and not query:
            return []
        if not query:
            sql = (
                f"SELECT {PG_ARTICLE.select}, {_STATE} FROM articles a"
                f" WHERE {_LISTED} AND {_FILTERS[state]}"
                " ORDER BY a.published_at DESC, a.pk DESC LIMIT $2"
            )
            rows = await self._db.fetch_all(sql, guild_id, limit)
        else:
            sql = f"{_SUGGEST} AND {_FILTERS[state]} {_BEST_FIRST}"
            rows = await self._db.fetch_all(sql, guild_id, limit, query, SUGGEST_POOL)
        return [GuildArticle(PG_ARTICLE.from_row(tuple(r)), _STATES[r[-1]]) for r in rows]


_STATES: dict[str, ArticleState] = {s: s for s in ("published", "pending", "retracted")}


# The newest $4 title matches of full articles, ranked; the best $2 the guild lists in the state.
_SUGGEST = (
    "WITH q AS MATERIALIZED (SELECT to_tsquery('topicbot_text', $3) AS q),"
    " hits AS MATERIALIZED (SELECT a.pk, ts_rank(a.title_words, q.q, 1) AS rank"
    " FROM articles a, q WHERE a.coverage_only = 0 AND a.title_words @@ q.q"
    " ORDER BY a.pk DESC LIMIT $4)"
    f" SELECT {PG_ARTICLE.select}, {_STATE}"
    f" FROM hits h JOIN articles a ON a.pk = h.pk WHERE {_LISTED}"
)
_BEST_FIRST = "ORDER BY h.rank DESC, a.published_at DESC, a.pk DESC LIMIT $2"
