"""Related coverage: the other outlets' takes on a story first, then similar stories.

For a stored story the results are, in order:

1. its own coverage: the entries its file lists as related (in the file's order), the articles
   whose files list it, then the rest of its story (``storage.grouping``), closest in time first;
2. similar stories from the store, found by the story's terms (``bot.domain.terms``: words,
   names and figures of its headline and excerpt, weighed by where they are, what they are
   and how rare they are in the store) joined by those of its own coverage, else of the
   first search's best results (feedback: outlets paraphrasing one event share words the
   story lacks); scored by the share of the story's term weight they hold, mostly counted
   by closeness in time (one event's coverage comes within days), less for the story's own
   outlet, plus shared topics and quality; the best dozen re-ordered by what each says of
   itself (``bot.domain.rerank``: how much of its own words the story holds, time apart,
   outlet, agreement with the others); at most ``max_per_outlet`` from one outlet before
   the others have had their turn.

A free-text query goes through the same search and scoring, with time measured from now.
Never the story itself, never one URL twice, and only what members of the asking guild see
(``bot.domain.visibility``: nothing another guild's moderators added, no full article pending
or retracted there; coverage-only ones are fine), for a story and a query alike; a story they
do not see is not found. What members type is reduced to plain words before it reaches the
search, so it is never read as FTS5 syntax.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.articles.urls import InvalidUrlError, canonical_url, link_variants, stored_identity
from bot.config import RelatedSettings
from bot.domain.associations import associated_terms
from bot.domain.errors import AmbiguousStory, StoryNotFound, UserError
from bot.domain.lexicon import headlinese
from bot.domain.rerank import Piece, reorder
from bot.domain.terms import STOPWORDS, Term, merge, query_terms, story_terms
from bot.domain.text import one_line, shown
from bot.domain.text import query_terms as text_query_terms
from storage.api import StoreApi
from storage.associations import Association
from storage.models import Article, GuildArticle
from storage.related import (
    Candidate,
    CandidateQuery,
    CoverageLink,
    Search,
    SearchTerm,
    StoryCoverage,
    StoryKey,
    Weights,
)
from storage.titles import fold, similarity, title_words

# Suggestions Discord shows for one option, and the stories a typed headline is looked for in.
MAX_CHOICES = 25
# Stories named in the answer to a story not found by a few words typed.
NEAR_SHOWN = 3
# Why a query's result is listed when it holds every word searched for.
EVERY_WORD = "matches every word"
# A story's heaviest terms whose learned associates are searched for, and associates at most.
ASSOCIATION_SOURCES = 8
MAX_ASSOCIATES = 4
# The best text matches scored per search; the first search only looks for feedback.
SCORED_POOL = 60
FEEDBACK_POOL = 20
# A first result scoring under half the best says too little of the story to be feedback.
FEEDBACK_MIN = 0.5
# One shared word is incidental: a result holding fewer of the terms searched for (when more
# were) tells nothing of the story.
FEEDBACK_MIN_TERMS = 2
# Terms remembered as common (see ``CommonTerms``).
COMMON_TERMS_KEPT = 50_000
_TIES = {
    "listed_by_story": "curated coverage",
    "lists_story": "lists this story as related",
}


@dataclass(frozen=True, slots=True)
class RelatedResult:
    """One related article and why it is listed; not ``close`` when it is a similar story that
    shares little with the one asked about (listed last, and shown as such)."""

    article: Article
    reason: str
    close: bool = True


def first_loose(results: Sequence[RelatedResult]) -> int | None:
    """The position of the first result that shares little with the story (the rest after
    it do too: they come last), None when every one is close; where a list puts its
    "less closely related" heading."""
    return next((i for i, r in enumerate(results) if not r.close), None)


def significant_terms(text: str, *, limit: int = 8) -> list[str]:
    """The words of a headline that say most about it: no stopwords, no outlet dressing,
    each once, in order (what a member would type about it)."""
    words = title_words(text)
    return [w for w in words if len(w) > 1 or w.isdigit()][:limit] or words[:limit]


class CommonTerms:
    """Terms a search found common (``term_cap`` matches or more) around a part of the store,
    so that the next searches there do not look them up only to leave them out: looking a
    term up is what a search costs most. Bounded; a term common in a part of the store stays
    common there as articles arrive."""

    def __init__(self, size: int = COMMON_TERMS_KEPT) -> None:
        self._size = size
        self._known: OrderedDict[tuple[str, int], None] = OrderedDict()

    def drop(self, terms: list[Term], part: int) -> list[Term]:
        """``terms`` without those known to be common in ``part`` (all of them when every
        one is: a search of common terms only narrows its window)."""
        kept = [t for t in terms if (t.key, part) not in self._known]
        return kept or terms

    def note(self, search: Search, part: int) -> None:
        cap = search.query.term_cap
        for key, count in search.counts.items():
            if count >= cap:
                self._known[(key, part)] = None
                self._known.move_to_end((key, part))
        while len(self._known) > self._size:
            self._known.popitem(last=False)


class RelatedService:
    """Find related coverage for a stored story or for free text."""

    def __init__(self, store: StoreApi, settings: RelatedSettings | None = None) -> None:
        self._store = store
        self._settings = settings or RelatedSettings()
        self._common = CommonTerms()

    async def story(self, guild_id: int, story: str) -> Article:
        """The story named by an id or a link, if this guild can see it."""
        return (await self._story(guild_id, story, coverage=0)).article

    async def _story(self, guild_id: int, story: str, *, coverage: int) -> StoryCoverage:
        if not story.strip():
            raise UserError("Start typing a story's title and pick one of the suggestions.")
        try:
            url: str | None = canonical_url(story.strip())
        except InvalidUrlError:
            url = None
        found = await self._store.related.story(story, url, guild_id, coverage=coverage)
        if found is None:
            found = await self._story_elsewhere(guild_id, story.strip(), url, coverage=coverage)
        if found is None:
            # a few words typed and sent without picking a suggestion: name the nearest
            near = [] if url is not None else (await self.suggest(guild_id, story))[:NEAR_SHOWN]
            raise StoryNotFound(
                f"I can't find the story “{shown(story)}”. Start typing its title and pick one "
                "of the suggestions, or search with `/related query:`.",
                one_line(story),
                [item.article for item in near],
            )
        return found

    async def _story_elsewhere(
        self, guild_id: int, story: str, url: str | None, *, coverage: int
    ) -> StoryCoverage | None:
        """The story a member meant when neither its id nor its exact link was given: a link
        stored under another spelling (``link_variants``: http or https, ``www.``, the mobile
        or AMP edition, a trailing slash), else a headline typed out in full rather than
        picked from the suggestions (one story so titled; several say so)."""
        if url is not None:
            for variant in link_variants(url):
                stored = await self._store.articles.get_by_url(variant)
                if stored is not None:
                    found = await self._store.related.story(
                        stored.id, None, guild_id, coverage=coverage
                    )
                    if found is not None:
                        return found
            return None
        wanted = fold(" ".join(story.split()))
        titled = [
            item.article
            for item in await self._store.publication.suggest(
                guild_id, text_query_terms(story), "published", limit=MAX_CHOICES
            )
            if fold(" ".join(item.article.title.split())) == wanted
        ]
        if len(titled) > 1:
            outlets = ", ".join(sorted({_outlet_name(a) for a in titled}))
            raise AmbiguousStory(
                f"{len(titled)} stories here are titled “{shown(story)}” ({outlets}): start "
                "typing it and pick one of the suggestions, which tell them apart.",
                one_line(story),
                [f"{a.id} ({_outlet_name(a)}, {_day(a)})" for a in titled],
            )
        if not titled:
            return None
        return await self._store.related.story(titled[0].id, None, guild_id, coverage=coverage)

    async def suggest(self, guild_id: int, typed: str) -> list[GuildArticle]:
        """Autocomplete for a story: the one a pasted link names (under any of its
        spellings), else published stories whose headline holds the typed words."""
        typed = typed.strip()
        if typed.lower().startswith(("http://", "https://")):
            try:
                found = await self.story(guild_id, typed)
            except UserError:
                return []
            return [GuildArticle(found, "published")]
        titled = await self._store.publication.suggest(
            guild_id, text_query_terms(typed), "published", limit=MAX_CHOICES
        )
        if titled or not _searchable(typed):
            return titled
        # No headline holds those words as typed ("council bans" for "Council Votes to Ban",
        # "ferry" for "Ferries"): the stories holding every one of them, in any of the
        # spellings a search accepts (plural, singular, British or American), headline or
        # excerpt, as `/related query:` lists them.
        found_by_search = await self.for_query(guild_id, typed, limit=MAX_CHOICES)
        return [
            GuildArticle(r.article, "published") for r in found_by_search if r.reason == EVERY_WORD
        ]

    async def for_story(
        self, guild_id: int, story: str, *, limit: int = 10, peek: bool = False
    ) -> tuple[Article, list[RelatedResult]]:
        """The story, then its own coverage, then similar stories. With ``peek``, also the
        result that comes next after ``limit`` when there is one (searched with the pools of
        ``limit``, so the first ``limit`` are the same), for a caller to say more exist."""
        listed = limit + int(peek)
        found = await self._story(guild_id, story, coverage=listed)
        article = found.article
        results, seen, copies = self._own_coverage(found)
        wanted = listed - len(results)
        if wanted <= 0:
            return article, results[:listed]
        terms = story_terms(article.title, article.excerpt)
        labels = {t.key: t.label for t in terms}
        reordered = self._settings.rerank_candidates
        search = await self.similar(found, terms, guild_id, max(limit * 2, reordered))
        before = [(_outlet(r.article), stored_identity(r.article.canonical_url)) for r in results]
        ranked = [c for c in search.candidates if stored_identity(c.canonical_url) not in seen]
        loaded: dict[int, Article] = {}
        if reordered:
            ranked, loaded = await self._reranked(article, results, ranked, reordered)
        close_score = self._settings.close_score
        picked = self._diverse(ranked, before, wanted, close_score=close_score, copies=copies)
        unread = [c.pk for c in picked if c.pk not in loaded]
        if unread:
            loaded |= await self._store.related.load(unread)
        results += [
            RelatedResult(
                loaded[c.pk],
                self._similar_reason(loaded[c.pk], c, labels, article),
                close=c.score >= close_score,
            )
            for c in picked
            if c.pk in loaded
        ]
        return article, results[:listed]

    async def _reranked(
        self, article: Article, coverage: list[RelatedResult], ranked: list[Candidate], head: int
    ) -> tuple[list[Candidate], dict[int, Article]]:
        """``ranked`` with its first ``head`` in ``bot.domain.rerank``'s order (one no longer
        stored left out), and the articles read for it."""
        loaded = await self._store.related.load([c.pk for c in ranked[:head]])
        readable = [c for c in ranked[:head] if c.pk in loaded]
        order = reorder(
            _piece(article),
            [_piece(r.article) for r in coverage],
            [(c.score, _piece(loaded[c.pk])) for c in readable],
        )
        return [readable[i] for i in order] + ranked[head:], loaded

    async def for_query(
        self, guild_id: int, text: str, *, limit: int = 10, peek: bool = False
    ) -> list[RelatedResult]:
        """Stored stories matching free text, best first (with ``peek``, as ``for_story``)."""
        terms = query_terms(text)
        if not terms:
            raise UserError("Type a few words to search for, such as `facial recognition`.")
        search = await self._store.related.candidates(
            self.free_text_query(terms, guild_id, limit * 4), self.weights(True)
        )
        picked = self._diverse(search.candidates, [], limit + int(peek), copies=set())
        loaded = await self._store.related.load([c.pk for c in picked])
        return [
            RelatedResult(loaded[c.pk], _query_reason(c, terms)) for c in picked if c.pk in loaded
        ]

    # --- the search -----------------------------------------------------------------------

    async def similar(
        self, found: StoryCoverage, terms: list[Term], guild_id: int, wanted: int
    ) -> Search:
        """The search for a story's similar articles (by its heaviest ``terms`` not known to
        be common around it) in a window of pks around it (see ``CandidateQuery``), never
        finding the story or its own coverage."""
        key = found.key
        part = key.pk // max(self._settings.search_window_articles // 2, 1)
        terms = self._common.drop(terms, part)[: self._settings.story_terms]
        terms += await self._associates(terms, found.article)
        query = self._query(terms, key, guild_id, wanted, outlet=_outlet(found.article))
        feedback = [(c.article.title, c.article.excerpt) for c in found.coverage]
        search = await self._with_feedback(query, terms, feedback, part)
        self._common.note(search, part)
        return search

    async def _associates(self, terms: list[Term], article: Article) -> list[Term]:
        """What other outlets write for the story's heaviest terms, as the store learned it
        (``bot.domain.associations``) and as the news register has it (``bot.domain.lexicon``:
        its words among those terms, its phrases in the story), at reduced weight."""
        settings = self._settings
        if not terms:
            return []
        sources = terms[:ASSOCIATION_SOURCES]
        found: list[Association] = []
        if settings.association_weight > 0:
            learned = await self._store.associations.associates([t.key for t in sources])
            scale = settings.association_weight
            found += [replace(a, strength=a.strength * scale) for a in learned]
        if settings.lexicon_weight > 0:
            lexicon = headlinese()
            sources += lexicon.phrases(article.title, article.excerpt)
            found += lexicon.associations(sources, strength=settings.lexicon_weight)
        own = {t.key for t in terms}
        found = [a for a in found if a.associate not in own]
        return associated_terms(sources, found, scale=1.0, limit=MAX_ASSOCIATES)

    def free_text_query(self, terms: list[Term], guild_id: int, wanted: int) -> CandidateQuery:
        """The search for what a member typed, among the newest articles."""
        return self._query(terms, None, guild_id, wanted, outlet="")

    def _query(
        self, terms: list[Term], key: StoryKey | None, guild_id: int, wanted: int, *, outlet: str
    ) -> CandidateQuery:
        settings = self._settings
        window = settings.search_window_articles
        return CandidateQuery(
            terms=tuple(SearchTerm(t.key, t.forms, t.weight) for t in terms),
            centre_pk=key.pk if key else None,
            half_window=window // 2 if key else window,
            around=key is not None,
            guild_id=guild_id,
            reference_time=_reference_time(key),
            term_cap=settings.term_cap,
            term_budget=settings.term_budget,
            max_terms=settings.search_terms,
            limit=wanted,
            pool=SCORED_POOL,
            topic_ids=key.topic_ids if key else (),
            exclude_story=key.story_id if key else None,
            exclude_pk=key.pk if key else None,
            outlet=outlet,
        )

    async def _with_feedback(
        self, query: CandidateQuery, terms: list[Term], coverage: list[tuple[str, str]], part: int
    ) -> Search:
        """Search with the story's terms joined by those of the articles that best tell what
        else its event's coverage says: its own coverage, else the first search's best
        (pseudo-relevance feedback: outlets that paraphrase the story share words with each
        other that the story lacks)."""
        weights = self.weights(False)
        needed = self._settings.feedback_articles
        # (title, excerpt, strength): coverage counts fully
        feedback = [(title, excerpt, 1.0) for title, excerpt in coverage[:needed]]
        first: Search | None = None
        if len(feedback) < needed:
            narrowed = replace(query, limit=needed - len(feedback), pool=FEEDBACK_POOL)
            first = await self._store.related.candidates(narrowed, weights)
            self._common.note(first, part)
            feedback += _as_feedback(first)
        if not feedback:
            if first is None:
                return await self._search(query, terms, weights)
            if not first.candidates:
                return first
            # The first search was narrowed to the feedback's few: its matches are scored
            # again for all the results wanted, not read again.
            return await self._store.related.candidates(
                replace(first.planned(), limit=query.limit, pool=query.pool), weights
            )
        weighed, new = self._expanded(terms, feedback, part)
        if first is None or first.window is None or first.window.narrow:
            return await self._search(query, [*weighed, *new], weights)
        # The first search's matches are given, not read again: only the new terms are.
        chosen = set(first.chosen)
        again = replace(query, window=first.window, prior=first.hits)
        return await self._search(again, [t for t in weighed if t.key in chosen] + new, weights)

    def _expanded(
        self, terms: list[Term], feedback: list[tuple[str, str, float]], part: int
    ) -> tuple[list[Term], list[Term]]:
        """The story's terms, heavier by what the feedback shares of them, and the feedback's
        heaviest new terms (as written: each form is one more lookup)."""
        # Another article's words say less about the story than the story's own.
        scale = self._settings.feedback_weight
        others = merge(
            Term(t.key, t.forms, t.weight * strength * scale, t.label)
            for title, excerpt, strength in feedback
            for t in story_terms(title, excerpt)
        )
        own = {t.key for t in terms}
        added = {t.key: t.weight for t in others if t.key in own}
        weighed = [t._replace(weight=t.weight + added.get(t.key, 0.0)) for t in terms]
        new = [t._replace(forms=t.forms[:1]) for t in others if t.key not in own]
        return weighed, self._common.drop(new, part)[: self._settings.feedback_terms]

    async def _search(self, query: CandidateQuery, terms: list[Term], weights: Weights) -> Search:
        search_terms = tuple(SearchTerm(t.key, t.forms, t.weight) for t in terms)
        return await self._store.related.candidates(replace(query, terms=search_terms), weights)

    def weights(self, for_query: bool) -> Weights:
        """The scoring weights of a story's search, or of a free-text query's."""
        settings = self._settings
        w = settings.weights
        if for_query:
            return Weights(
                text=w.text,
                time=w.query_time,
                time_scale_seconds=int(settings.query_time_scale_days * 86400),
                same_outlet=1.0,
                topics=w.topics,
                quality=w.quality,
            )
        return Weights(
            text=w.text,
            time=w.time,
            time_scale_seconds=int(settings.time_scale_hours * 3600),
            time_grace_seconds=int(settings.time_grace_hours * 3600),
            same_outlet=w.same_outlet,
            topics=w.topics,
            quality=w.quality,
        )

    # --- results and reasons --------------------------------------------------------------

    def own_coverage(self, found: StoryCoverage) -> list[RelatedResult]:
        """The story's own coverage, as ``for_story`` lists it before similar stories."""
        return self._own_coverage(found)[0]

    def _own_coverage(
        self, found: StoryCoverage
    ) -> tuple[list[RelatedResult], set[str], set[tuple[str, str, str]]]:
        """The story's own coverage, with the identities and copies it has taken (the story
        itself among them), which no similar story may repeat."""
        article = found.article
        key = stored_identity(article.canonical_url)
        seen = {key}
        copies = {_copy_key(_outlet(article), article.title, article.excerpt, key)}
        return self._coverage_results(article, found.coverage, seen, copies), seen, copies

    def _coverage_results(
        self,
        article: Article,
        links: list[CoverageLink],
        seen: set[str],
        copies: set[tuple[str, str, str]],
    ) -> list[RelatedResult]:
        results: list[RelatedResult] = []
        words = set(title_words(article.title))
        for link in links:
            linked = link.article
            key = stored_identity(linked.canonical_url)
            copy = _copy_key(_outlet(linked), linked.title, linked.excerpt, key)
            if key in seen or copy in copies:
                continue
            seen.add(key)
            copies.add(copy)
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
        self,
        ranked: Sequence[Candidate],
        before: Sequence[tuple[str, str]],
        wanted: int,
        *,
        close_score: float = 0.0,
        copies: set[tuple[str, str, str]],
    ) -> list[Candidate]:
        """Keep the ranking, but move an outlet's items past ``max_per_outlet`` (counting
        ``before``, as (outlet, URL) pairs) after the others, and those scoring under
        ``close_score`` after all of those; never list one URL twice, nor an outlet's copy
        of what is listed already under another link (the same headline from the same
        outlet, with the same excerpt: ``copies``, updated)."""
        per_outlet: dict[str, int] = {}
        for outlet, _ in before:
            per_outlet[outlet] = per_outlet.get(outlet, 0) + 1
        seen = {url for _, url in before}
        first: list[Candidate] = []
        later: list[Candidate] = []
        for candidate in ranked:
            key = stored_identity(candidate.canonical_url)
            copy = _copy_key(candidate.outlet, candidate.title, candidate.excerpt, key)
            if key in seen or copy in copies:
                continue
            seen.add(key)
            copies.add(copy)
            outlet = candidate.outlet
            per_outlet[outlet] = per_outlet.get(outlet, 0) + 1
            crowded = outlet and per_outlet[outlet] > self._settings.max_per_outlet
            (later if crowded else first).append(candidate)
        diverse = first + later
        close = [c for c in diverse if c.score >= close_score]
        loose = [c for c in diverse if c.score < close_score]
        return (close + loose)[: max(wanted, 0)]

    @staticmethod
    def _similar_reason(
        article: Article, candidate: Candidate, labels: dict[str, str], story: Article
    ) -> str:
        """The story's topics the article carries and the story's terms it holds, heaviest
        first."""
        parts: list[str] = []
        article_topics = {fold(t) for t in article.topics}
        shared_topics = [name for name in story.topics if fold(name) in article_topics]
        if shared_topics:
            parts.append("shared topics: " + ", ".join(shared_topics[:3]))
        matched = set(candidate.matched)
        shared = [label for key, label in labels.items() if key in matched]
        if shared:
            parts.append("shared terms: " + ", ".join(shared[:4]))
        return " · ".join(parts) or "similar story"


def _as_feedback(first: Search) -> list[tuple[str, str, float]]:
    """The first search's results that tell of the story, each as strong as it scored against
    the best (so a weak second result adds little)."""
    found = first.candidates
    if not found:
        return []
    best = found[0].score or 1.0
    least = min(FEEDBACK_MIN_TERMS, len(first.chosen))
    return [
        (c.title, c.excerpt, c.score / best)
        for c in found
        if c.score >= best * FEEDBACK_MIN and len(c.matched) >= least
    ]


def _searchable(typed: str) -> bool:
    """Whether what a member typed holds a word worth a search (not only "the", "a" or a
    letter or two)."""
    return any(len(w) >= 3 and w not in STOPWORDS for w in text_query_terms(typed))


def _query_reason(candidate: Candidate, terms: list[Term]) -> str:
    matched = set(candidate.matched)
    shared = [t.label for t in terms if t.key in matched]
    if len(shared) == len(terms):
        return EVERY_WORD
    return "shared terms: " + ", ".join(shared[:4]) if shared else "similar words"


def _reference_time(key: StoryKey | None) -> int:
    """The moment closeness in time is measured from: the story's date, else now (a query,
    or a story whose date is unknown)."""
    if key is None or key.published_at is None:
        return int(time.time())
    return key.published_at


def _piece(article: Article) -> Piece:
    published = article.published_at
    return Piece.of(
        article.title,
        article.excerpt,
        None if published is None else int(published.timestamp()),
        _outlet(article),
        article.topics,
    )


def _outlet(article: Article) -> str:
    return article.provider.domain or article.provider.name


def _copy_key(outlet: str, title: str, excerpt: str, url: str) -> tuple[str, str, str]:
    """What one outlet's copies of an article share under different links (a syndicated or
    AMP copy, a link with a page parameter): the outlet, the headline and the excerpt as
    read. A recurring headline ("Morning briefing") tells another day by its excerpt; an
    article of unknown outlet is a copy of nothing (its key is its link)."""
    if not outlet:
        return ("", url, "")
    return (outlet.casefold(), fold(" ".join(title.split())), fold(" ".join(excerpt.split())))


def _day(article: Article) -> str:
    at = article.published_at
    return "date unknown" if at is None else f"{at:%Y-%m-%d}"


def _outlet_name(article: Article) -> str:
    return article.provider.name or article.provider.domain or "unknown outlet"


__all__ = ["RelatedResult", "RelatedService", "first_loose", "significant_terms"]
