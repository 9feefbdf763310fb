"""Drafts turned into what the store writes, without the database.

Everything here is a pure function of a draft: ids, fingerprints, the column values, topic
keys, the headline's grouping words. Ingest runs it in its parse workers, so the one process
that writes to SQLite only writes; the records are plain tuples (cheap to send between
processes: no datetimes, no dataclasses to rebuild).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from storage.models import ArticleDraft, Image, RelatedDraft
from storage.timestamps import UNKNOWN_TIME, to_stored_time, to_timestamp
from storage.titles import analyse
from storage.topics import topic_key

SHORT_ID_LENGTH = 10

# What a file says about an article, in this order, for both INSERT and UPDATE.
CONTENT_COLUMNS = (
    "web_url", "original_url", "title", "excerpt", "published_at", "category", "type",
    "quality", "heat", "published", "provider_name", "provider_domain", "topics_text", "body",
    "extra_json", "secured", "coverage_only", "content_hash",
)  # fmt: skip
_TITLE = CONTENT_COLUMNS.index("title")
_PUBLISHED_AT = CONTENT_COLUMNS.index("published_at")
_PROVIDER_DOMAIN = CONTENT_COLUMNS.index("provider_domain")


class PreparedArticle(NamedTuple):
    """An article (or a coverage entry) as the store writes it."""

    url: str  # canonical
    article_id: str  # lengthened by the store on the rare collision
    content: tuple[Any, ...]  # CONTENT_COLUMNS' values; the fingerprint is the last
    published: bool
    images: tuple[tuple[str, int | None, int | None, int], ...]  # url, width, height, cached
    title_words: tuple[str, ...]
    title_keys: tuple[int, ...]

    @property
    def fingerprint(self) -> str:
        """A digest of everything written, to tell an unchanged re-ingest."""
        return str(self.content[-1])

    @property
    def title(self) -> str:
        """The headline as stored."""
        return str(self.content[_TITLE])

    @property
    def published_at(self) -> int:
        """The article's own date, as a timestamp (``UNKNOWN_TIME`` when unknown)."""
        return int(self.content[_PUBLISHED_AT])

    @property
    def dated(self) -> bool:
        """Whether its date is known (always, but for some coverage entries)."""
        return self.published_at != UNKNOWN_TIME

    @property
    def provider_domain(self) -> str:
        """The outlet's domain ('' when unknown)."""
        return str(self.content[_PROVIDER_DOMAIN])


class PreparedFile(NamedTuple):
    """A file's article, its topics (key, name) in order, and the coverage it lists."""

    article: PreparedArticle
    topics: tuple[tuple[str, str], ...]
    related: tuple[PreparedArticle, ...]


# The same record as nested plain tuples: what crosses from a parse worker to the writer.
# Pickle rebuilds named tuples through their Python __new__ one by one; plain tuples it
# rebuilds in C, and _make wraps them again at C speed.
PlainFile = tuple[tuple[Any, ...], tuple[tuple[str, str], ...], tuple[tuple[Any, ...], ...]]


def to_plain(file: PreparedFile) -> PlainFile:
    """``file`` as nested plain tuples, cheap to pickle."""
    return (tuple(file.article), file.topics, tuple(tuple(entry) for entry in file.related))


def from_plain(plain: PlainFile) -> PreparedFile:
    """The record ``to_plain`` flattened."""
    article, topics, related = plain
    return PreparedFile(
        PreparedArticle._make(article), topics, tuple(map(PreparedArticle._make, related))
    )


_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648's alphabet, lower-cased


def short_id(canonical_url: str, length: int = SHORT_ID_LENGTH) -> str:
    """A short, stable, typeable id derived from the canonical URL: the first ``length``
    characters of the base32 form of its SHA-256 digest."""
    digest = hashlib.sha256(canonical_url.encode("utf-8")).digest()
    # the leading length * 5 bits, five at a time (base64.b32encode is pure Python in 3.11
    # and encodes whole 5-byte groups)
    needed = -(-length * 5 // 8)
    bits = int.from_bytes(digest[:needed], "big") >> (needed * 8 - length * 5)
    return "".join(_BASE32[(bits >> shift) & 31] for shift in range(length * 5 - 5, -5, -5))


def extra_json(extra: dict[str, Any]) -> str:
    """Unknown front-matter keys as stored (most files have none)."""
    return json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else "{}"


def prepare(draft: ArticleDraft) -> PreparedFile:
    """What the store writes for ``draft`` and the coverage it lists."""
    # each entry's payload goes into its own fingerprint and into the file's
    payloads = [_related_fingerprint_payload(entry) for entry in draft.related]
    related = tuple(map(_prepare_related, draft.related, payloads))
    published_at = to_timestamp(draft.published_at)
    extra = extra_json(draft.extra)
    digest = _digest(
        [
            draft.web_url, draft.original_url, draft.title, draft.excerpt, published_at,
            draft.category, draft.type, draft.quality, draft.heat, draft.published,
            draft.provider.name, draft.provider.domain, list(draft.topics),
            _image_payload(draft.images), payloads, draft.body, extra, draft.secured,
        ]
    )  # fmt: skip
    content = (
        draft.web_url, draft.original_url, draft.title, draft.excerpt, published_at,
        draft.category, draft.type, draft.quality, draft.heat, int(draft.published),
        draft.provider.name, draft.provider.domain, ", ".join(draft.topics), draft.body, extra,
        draft.secured, 0, digest,
    )  # fmt: skip
    words, keys = analyse(draft.title)
    article = PreparedArticle(
        draft.canonical_url, short_id(draft.canonical_url), content, draft.published,
        _images(draft.images), words, keys,
    )  # fmt: skip
    topics = tuple((topic_key(name), name) for name in draft.topics)
    return PreparedFile(article, topics, related)


def _prepare_related(entry: RelatedDraft, payload: list[Any]) -> PreparedArticle:
    """A coverage-only article: what the listing file says of it; never published itself.
    ``payload`` is the entry's ``_related_fingerprint_payload``."""
    digest = _digest(["coverage", *payload])
    content = (
        entry.web_url, "", entry.title, entry.excerpt, to_stored_time(entry.published_at), "",
        entry.type, entry.quality, -1, 0, entry.provider.name, entry.provider.domain, "", "",
        extra_json(entry.extra), None, 1, digest,
    )  # fmt: skip
    words, keys = analyse(entry.title)
    if entry.published_at is None:
        # No date, no story window: its headline meets no other (it stays in the story of
        # the file that lists it, through the link).
        keys = ()
    return PreparedArticle(
        entry.canonical_url, short_id(entry.canonical_url), content, False,
        _images(entry.images), words, keys,
    )  # fmt: skip


def _images(images: Iterable[Image]) -> tuple[tuple[str, int | None, int | None, int], ...]:
    return tuple((i.url, i.width, i.height, int(i.is_cached)) for i in images)


def _image_payload(images: Iterable[Image]) -> list[list[Any]]:
    # as fingerprinted since the first version: is_cached as a bool, not the stored int
    return [[i.url, i.width, i.height, i.is_cached] for i in images]


def _related_fingerprint_payload(entry: RelatedDraft) -> list[Any]:
    # an unknown date is None here: a new form, so every dated entry keeps its fingerprint
    published_at = None if entry.published_at is None else to_timestamp(entry.published_at)
    return [
        entry.web_url, entry.title, entry.excerpt, published_at,
        entry.type, entry.quality, entry.provider.name, entry.provider.domain,
        _image_payload(entry.images), extra_json(entry.extra),
    ]  # fmt: skip


def _digest(payload: list[Any]) -> str:
    # repr of str, int, bool, None and lists of them is stable; the free-form extra keys go
    # in as sorted JSON, so their order in the file does not matter
    return hashlib.sha256(repr(payload).encode("utf-8")).hexdigest()[:32]
