"""Related coverage: a story's curated coverage first, then similar stories from the store.

The ranking engine (story grouping, time and outlet diversity) builds on this; the rules
that hold already: never the story itself, never the same URL twice, nothing another
guild's moderators added.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import UserError
from bot.domain.text import query_terms, shown
from bot.domain.urls import InvalidUrlError, canonical_url
from storage import Store
from storage.models import Article

STOPWORDS = frozenset(
    (
        "a an and are as at be by for from has have how in is it its new of on or over says "
        "that the their this to up was what when who why will with after into than more about"
    ).split()
)


@dataclass(frozen=True, slots=True)
class RelatedResult:
    """One related article and why it is listed."""

    article: Article
    reason: str


def significant_terms(text: str, *, limit: int = 6) -> list[str]:
    """The words of a title that say most about it: no stopwords, longest first."""
    words = [w for w in query_terms(text, max_terms=20) if w not in STOPWORDS and len(w) > 2]
    return sorted(words, key=len, reverse=True)[:limit]


def _visible(article: Article, guild_id: int) -> bool:
    return article.origin_guild_id in (None, guild_id)


class RelatedService:
    """Find related coverage for a stored story or for free text."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def story(self, guild_id: int, story: str) -> Article:
        """The story named by an id or a link, if this guild can see it."""
        found = await self._store.articles.get(story)
        if found is None:
            try:
                found = await self._store.articles.get_by_url(canonical_url(story.strip()))
            except InvalidUrlError:
                found = None
        if found is None or not _visible(found, guild_id):
            raise UserError(
                f"I can't find the story “{shown(story)}”. Start typing its title and pick one "
                "of the suggestions, or search with `/related query:`."
            )
        return found

    async def for_story(
        self, guild_id: int, story: str, *, limit: int = 10
    ) -> tuple[Article, list[RelatedResult]]:
        """The story, then its curated coverage (both directions), then similar stories."""
        article = await self.story(guild_id, story)
        results: list[RelatedResult] = []
        seen = {article.canonical_url}
        for link in await self._store.articles.related(article.id):
            if _visible(link.article, guild_id) and link.article.canonical_url not in seen:
                seen.add(link.article.canonical_url)
                reason = (
                    "curated coverage"
                    if link.direction == "listed_by_story"
                    else ("lists this story as related")
                )
                results.append(RelatedResult(link.article, reason))
        terms = significant_terms(article.title)
        exclude = [article.id, *(r.article.id for r in results)]
        results += await self._similar(guild_id, terms, exclude, seen, limit - len(results))
        return article, results[:limit]

    async def for_query(self, guild_id: int, text: str, *, limit: int = 10) -> list[RelatedResult]:
        """Stored stories matching free text: all the words first, then any of them."""
        terms = query_terms(text)
        if not terms:
            raise UserError("Type a few words to search for, such as `facial recognition`.")
        seen: set[str] = set()
        found = await self._store.articles.search(terms, guild_id=guild_id, limit=limit)
        results = [RelatedResult(a, "matches every word") for a in found]
        seen.update(a.canonical_url for a in found)
        exclude = [a.id for a in found]
        results += await self._similar(guild_id, terms, exclude, seen, limit - len(results))
        return results[:limit]

    async def _similar(
        self,
        guild_id: int,
        terms: list[str],
        exclude: list[str],
        seen: set[str],
        wanted: int,
    ) -> list[RelatedResult]:
        if wanted <= 0 or not terms:
            return []
        found = await self._store.articles.search(
            terms, any_term=True, guild_id=guild_id, exclude_ids=exclude, limit=wanted
        )
        results: list[RelatedResult] = []
        for article in found:
            if article.canonical_url in seen:
                continue
            seen.add(article.canonical_url)
            title_words = set(query_terms(article.title, max_terms=30))
            shared = [t for t in terms if t in title_words] or terms[:2]
            results.append(RelatedResult(article, "shared words: " + ", ".join(shared[:4])))
        return results
