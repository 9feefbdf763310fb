"""Stories: one event covered by several outlets, alerted once.

The rules (applied at ingest, in the same transaction as the articles, by
``storage.grouping``):

- an article and the entries its file lists as ``related`` are one story (in both directions,
  and transitively: two files listing the same coverage join their stories);
- one canonical URL is one article, so re-ingesting it, or a file arriving for an article that
  was known only as coverage, keeps its story;
- two headlines from different outlets published within ``related.story_window_hours`` of
  each other are one story when their significant words (without ``Analysis:``-style prefixes,
  ``| Outlet`` suffixes, case, accents or number styling) overlap by at least
  ``related.title_similarity`` (Jaccard) and carry the same figures, if any;
- stories only merge, never split, so an alert sent for a story stays valid for it.

For delivery planning: a member already alerted about a story in a guild is not alerted again
for another outlet's copy within the story window (``already_alerted``), and the first alert
names the other outlets known so far (``also_covered_by``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.config import RelatedSettings
from storage.grouping import GroupingRules
from storage.models import Article


def grouping_rules(settings: RelatedSettings) -> GroupingRules:
    """The store's grouping rules from the ``related`` settings."""
    return GroupingRules(
        window_seconds=int(settings.story_window_hours * 3600),
        title_similarity=settings.title_similarity,
    )


def story_window(settings: RelatedSettings) -> timedelta:
    """How long one alert about a story covers the story's other articles."""
    return timedelta(hours=settings.story_window_hours)


def already_alerted(last_alert: datetime | None, now: datetime, window: timedelta) -> bool:
    """True when the member's last alert about the story is within ``window`` of ``now``."""
    return last_alert is not None and now - last_alert < window


def also_covered_by(article: Article, members: Sequence[Article]) -> list[str]:
    """The other outlets of the story, earliest first, each once (for "Also covered by")."""
    own = article.provider.domain or article.provider.name
    outlets: list[str] = []
    seen = {own}
    for member in sorted(members, key=lambda m: m.published_at):
        key = member.provider.domain or member.provider.name
        if member.canonical_url == article.canonical_url or not key or key in seen:
            continue
        seen.add(key)
        outlets.append(member.provider.name or member.provider.domain)
    return outlets
