"""Title autocomplete on PostgreSQL: what SQLite's FTS5 (``storage.publication``) serves to
``/related``'s (and ``/publish``'s) autocomplete, by a prefix query on the stored
``title_words`` tsvector of full articles' titles.

As on SQLite, the newest ``SUGGEST_POOL`` title matches are ranked (every typed word, the last
one as a prefix once it has three letters), so a short prefix on a large store costs no more
than its newest matches. They are read newest first from ``suggest_words`` (migration 0007:
each title word under its first three letters, in a btree), by the last typed word: alone, its
matches are the answer; with other words, the newest of its candidates are checked against
the query (``_WALKED`` of them at most: past that the query is rare, and GIN finds its few
matches). A last word too short to have a prefix (a one-letter word of a phrase) goes to GIN.
SQLite ranks them by FTS5's bm25 over titles; here ``ts_rank`` with length normalisation (1):
with every word required, both put the titles that hold the words more often, and shorter
titles, first. Typed text reaches ``to_tsquery`` as quoted letters and digits only
(``prefix_tsquery``), never as syntax.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from storage.models import GuildArticle
from storage.postgresql.articles import ARTICLE as PG_ARTICLE
from storage.postgresql.database import PgDatabase
from storage.publication import SUGGEST_POOL, StateFilter, guild_article, guild_view

_WORD = re.compile(r"[^\W_]+")
_VIEW = guild_view("$1")
PREFIX_LETTERS = 3
# Candidates of a query of several words checked newest first before GIN is asked instead.
_WALKED = 2000


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
        self, guild_id: int, terms: Sequence[str], state: StateFilter, *, limit: int
    ) -> list[GuildArticle]:
        """Listed articles in this state whose titles hold the typed words, best match first
        (then the newest); none when the typed text holds no word."""
        query = prefix_tsquery(terms)
        if not query:
            return []
        sql = f"{_SUGGEST} AND {_VIEW.filters[state]} {_BEST_FIRST}"
        last = next(words[-1] for term in reversed(terms) if (words := _WORD.findall(term)))
        prefix = query.endswith(":*")
        rows = await self._db.fetch_all(
            sql, guild_id, limit, query, SUGGEST_POOL, last, prefix, _WALKED
        )
        return [guild_article(PG_ARTICLE, tuple(row)) for row in rows]


# The newest $4 title matches of full articles, ranked; the best $2 the guild lists in the state.
# $5 is the last typed word (a prefix with $6): its postings, newest first, are the matches
# when it is the whole query ($7 of them are checked against the query otherwise).
_SUGGEST = (
    "WITH q AS MATERIALIZED (SELECT q, l, numnode(q) = 1 AS single,"
    " l IS NOT NULL AND (NOT $6::boolean OR length(l) >= 3) AS usable"
    " FROM (SELECT to_tsquery('topicbot_text', $3) AS q,"
    " (tsvector_to_array(to_tsvector('topicbot_text', $5)))[1] AS l) i),"
    # the word and its prefix as values (not a join): the scan is then of one prefix,
    # backward, in pk order, and stops at its limit
    " walked AS MATERIALIZED (SELECT DISTINCT ON (w.pk) w.pk FROM suggest_words w"
    " WHERE (SELECT usable FROM q) AND w.prefix = (SELECT left(l, 3) FROM q)"
    " AND CASE WHEN $6 THEN starts_with(w.word, (SELECT l FROM q))"
    " ELSE w.word = (SELECT l FROM q) END"
    " ORDER BY w.pk DESC LIMIT CASE WHEN (SELECT single FROM q) THEN $4::int ELSE $7::int END),"
    " recent AS MATERIALIZED (SELECT w.pk FROM walked w, q WHERE q.single OR EXISTS ("
    " SELECT 1 FROM articles a WHERE a.pk = w.pk AND a.title_words @@ q.q)"
    " ORDER BY w.pk DESC LIMIT $4),"
    " done AS MATERIALIZED (SELECT q.usable AND (q.single OR (SELECT count(*) FROM walked) < $7"
    " OR (SELECT count(*) FROM recent) >= $4) AS done FROM q),"
    " older AS MATERIALIZED (SELECT a.pk FROM articles a, q WHERE NOT (SELECT done FROM done)"
    " AND a.coverage_only = 0 AND a.title_words @@ q.q ORDER BY a.pk + 0 DESC LIMIT $4),"
    " hits AS (SELECT pk FROM recent WHERE (SELECT done FROM done) UNION ALL SELECT pk FROM older)"
    f" SELECT {PG_ARTICLE.select}, {_VIEW.state}"
    " FROM hits h JOIN articles a ON a.pk = h.pk, q WHERE"
    f" {_VIEW.listed}"
)
_BEST_FIRST = (
    "ORDER BY ts_rank(a.title_words, q.q, 1) DESC, a.published_at DESC, a.pk DESC LIMIT $2"
)
