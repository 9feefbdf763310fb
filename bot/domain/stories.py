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

For delivery: a member or channel already told of a story in a guild is not told again of
another outlet's copy within the story window (the planner's SQL,
``storage.outbox.planning``), and an alert lists the other coverage known so far ("Also
covered by", ``bot.alerts``).
"""

from __future__ import annotations

from datetime import timedelta

from bot.config import RelatedSettings
from storage.grouping import GroupingRules


def grouping_rules(settings: RelatedSettings) -> GroupingRules:
    """The store's grouping rules from the ``related`` settings."""
    return GroupingRules(
        window_seconds=int(settings.story_window_hours * 3600),
        title_similarity=settings.title_similarity,
    )


def story_window(settings: RelatedSettings) -> timedelta:
    """How long one alert about a story covers the story's other articles."""
    return timedelta(hours=settings.story_window_hours)
