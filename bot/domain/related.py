"""Related coverage: the other outlets' takes on a story first, then similar stories.

For a stored story the results are, in order:

1. its own coverage: the entries its file lists as related (in the file's order), the articles
   whose files list it, then the rest of its story (``storage.grouping``), closest in time first;
2. similar stories from the store, scored by text (BM25 over title and excerpt, searched by the
   story's rarest headline words), shared topics, closeness in time and quality; at most
   ``max_per_outlet`` from one outlet before the others have had their turn.

A free-text query goes through the same search and scoring, with time measured from now.
Never the story itself, never one URL twice, and only what members of the asking guild see
(``bot.domain.visibility``: nothing another guild's moderators added, no full article pending
or retracted there; coverage-only ones are fine), for a story and a query alike; a story they
do not see is not found. What members type is reduced to plain words before it reaches the
search, so it is never read as FTS5 syntax.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.config import RelatedSettings
from bot.domain.errors import UserError
from bot.domain.text import query_terms, shown
from bot.domain.urls import InvalidUrlError, canonical_url
from storage import Store
from storage.models import Article
from storage.related import (
    Candidate,
    CandidateQuery,
    CoverageLink,
    StoryCoverage,
    StoryKey,
    Weights,
)
from storage.titles import STOPWORDS, fold, similarity, title_words

MAX_SEARCH_TERMS = 4
_TIES = {
    "listed_by_story": "curated coverage",
    "lists_story": "lists this story as related",
}


@dataclass(frozen=True, slots=True)
class RelatedResult:
    """One related article and why it is listed."""

    article: Article
    reason: str


def significant_terms(text: str, *, limit: int = 8) -> list[str]:
    """The words of a headline or query that say most about it: no stopwords, no outlet
    dressing, each once, in order."""
    words = title_words(text) or [fold(w) for w in query_terms(text, max_terms=limit)]
    return [w for w in words if len(w) > 1 or w.isdigit()][:limit] or words[:limit]


def pick_terms(counts: dict[str, int], budget: int) -> list[str]:
    """The rarest terms whose matches together stay within ``budget`` (at least one, at
    most ``MAX_SEARCH_TERMS``); terms that match nothing are left out."""
    ranked = sorted((count, term) for term, count in counts.items() if count > 0)
    picked: list[str] = []
    total = 0
    for count, term in ranked[:MAX_SEARCH_TERMS]:
        if picked and total + count > budget:
            break
        picked.append(term)
        total += count
    return picked


class RelatedService:
    """Find related coverage for a stored story or for free text."""

    def __init__(self, store: Store, settings: RelatedSettings | None = None) -> None:
        self._store = store
        self._settings = settings or RelatedSettings()

    async def story(self, guild_id: int, story: str) -> Article:
        """The story named by an id or a link, if this guild can see it."""
        return (await self._story(guild_id, story, coverage=0)).article

    async def _story(self, guild_id: int, story: str, *, coverage: int) -> StoryCoverage:
        try:
            url: str | None = canonical_url(story.strip())
        except InvalidUrlError:
            url = None
        found = await self._store.related.story(story, url, guild_id, coverage=coverage)
        if found is None:
            raise UserError(
                f"I can't find the story “{shown(story)}”. Start typing its title and pick one "
                "of the suggestions, or search with `/related query:`."
            )
        return found

    async def for_story(
        self, guild_id: int, story: str, *, limit: int = 10
    ) -> tuple[Article, list[RelatedResult]]:
        """The story, then its own coverage, then similar stories."""
        found = await self._story(guild_id, story, coverage=limit)
        article, key = found.article, found.key
        seen = {article.canonical_url}
        results = self._coverage_results(article, found.coverage, seen)
        wanted = limit - len(results)
        if wanted <= 0:
            return article, results[:limit]
        words = significant_terms(article.title)
        query = self.search_query(words, key, guild_id, limit * 4)
        ranked = await self._store.related.candidates(query, self._weights(False))
        before = [(_outlet(r.article), r.article.canonical_url) for r in results]
        picked = self._diverse([c for c in ranked if c.canonical_url not in seen], before, wanted)
        loaded = await self._store.related.load([c.pk for c in picked])
        results += [
            RelatedResult(loaded[c.pk], self._similar_reason(loaded[c.pk], words, article.topics))
            for c in picked
            if c.pk in loaded
        ]
        return article, results[:limit]

    async def for_query(self, guild_id: int, text: str, *, limit: int = 10) -> list[RelatedResult]:
        """Stored stories matching free text, best first."""
        words = significant_terms(text)
        if not words:
            raise UserError("Type a few words to search for, such as `facial recognition`.")
        query = self.search_query(words, None, guild_id, limit * 4)
        ranked = await self._store.related.candidates(query, self._weights(True))
        picked = self._diverse(ranked, [], limit)
        loaded = await self._store.related.load([c.pk for c in picked])
        return [
            RelatedResult(loaded[c.pk], self._query_reason(loaded[c.pk], words))
            for c in picked
            if c.pk in loaded
        ]

    # --- the search -----------------------------------------------------------------------

    def search_query(
        self,
        words: list[str],
        key: StoryKey | None,
        guild_id: int,
        wanted: int,
    ) -> CandidateQuery:
        """The one planned and scored search to run: the rarest words in a window of pks
        around the story (the newest, for a query), widened to the whole store when none
        occurs there (see ``CandidateQuery``; planned in SQL, as ``pick_terms`` does)."""
        settings = self._settings
        window = settings.search_window_articles
        return CandidateQuery(
            words=tuple(words),
            centre_pk=key.pk if key else None,
            half_window=window // 2 if key else window,
            around=key is not None,
            guild_id=guild_id,
            reference_time=_reference_time(key),
            topic_ids=key.topic_ids if key else (),
            exclude_story=key.story_id if key else None,
            exclude_pk=key.pk if key else None,
            limit=wanted,
            term_cap=settings.term_budget,
            term_budget=settings.term_budget,
            max_terms=MAX_SEARCH_TERMS,
        )

    def weights(self, for_query: bool) -> Weights:
        """The scoring weights, with the time scale of a story or of a free-text query."""
        return self._weights(for_query)

    def _weights(self, for_query: bool) -> Weights:
        settings = self._settings
        scale = (
            settings.query_time_scale_days * 86400
            if for_query
            else settings.time_scale_hours * 3600
        )
        return Weights(
            text=settings.weights.text,
            topics=settings.weights.topics,
            time=settings.weights.time,
            quality=settings.weights.quality,
            time_scale_seconds=int(scale),
        )

    # --- results and reasons --------------------------------------------------------------

    def _coverage_results(
        self, article: Article, links: list[CoverageLink], seen: set[str]
    ) -> list[RelatedResult]:
        results: list[RelatedResult] = []
        words = set(title_words(article.title))
        for link in links:
            linked = link.article
            if linked.canonical_url in seen:
                continue
            seen.add(linked.canonical_url)
            reason = _TIES.get(link.tie)
            if reason is None:
                near = similarity(words, set(title_words(linked.title)))
                near_identical = near >= self._settings.title_similarity
                reason = "same story: " + (
                    "near-identical headline" if near_identical else "linked coverage"
                )
            results.append(RelatedResult(linked, reason))
        return results

    def _diverse(
        self, ranked: Sequence[Candidate], before: Sequence[tuple[str, str]], wanted: int
    ) -> list[Candidate]:
        """Keep the ranking, but move an outlet's items past ``max_per_outlet`` (counting
        ``before``, as (outlet, URL) pairs) to the end, and never list one URL twice."""
        per_outlet: dict[str, int] = {}
        for outlet, _ in before:
            per_outlet[outlet] = per_outlet.get(outlet, 0) + 1
        seen = {url for _, url in before}
        first: list[Candidate] = []
        later: list[Candidate] = []
        for candidate in ranked:
            if candidate.canonical_url in seen:
                continue
            seen.add(candidate.canonical_url)
            outlet = candidate.outlet
            per_outlet[outlet] = per_outlet.get(outlet, 0) + 1
            crowded = outlet and per_outlet[outlet] > self._settings.max_per_outlet
            (later if crowded else first).append(candidate)
        return (first + later)[: max(wanted, 0)]

    @staticmethod
    def _similar_reason(article: Article, words: list[str], topics: Sequence[str]) -> str:
        parts: list[str] = []
        article_topics = {fold(t) for t in article.topics}
        shared_topics = [name for name in topics if fold(name) in article_topics]
        if shared_topics:
            parts.append("shared topics: " + ", ".join(shared_topics[:3]))
        text_words = set(title_words(article.title + " " + article.excerpt))
        shared = [w for w in words if w in text_words]
        if shared:
            parts.append("shared terms: " + ", ".join(shared[:4]))
        return " · ".join(parts) or "similar story"

    @staticmethod
    def _query_reason(article: Article, words: list[str]) -> str:
        text_words = set(title_words(article.title + " " + article.excerpt))
        text_words |= {w for topic in article.topics for w in title_words(topic)}
        shared = [w for w in words if w in text_words]
        if len(shared) == len(words):
            return "matches every word"
        return "shared terms: " + ", ".join(shared[:4]) if shared else "similar words"


def _reference_time(key: StoryKey | None) -> int:
    """The moment closeness in time is measured from: the story's date, else now (a query,
    or a story whose date is unknown)."""
    if key is None or key.published_at is None:
        return int(time.time())
    return key.published_at


def _outlet(article: Article) -> str:
    return article.provider.domain or article.provider.name


__all__ = ["STOPWORDS", "RelatedResult", "RelatedService", "pick_terms", "significant_terms"]
