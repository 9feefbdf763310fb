"""What moderators see in /queue (one card per waiting article) and /audit (one line per
action)."""

from __future__ import annotations

from typing import Any

import discord

from bot.domain.moderation import AuditPage
from bot.domain.text import clip, headline, readable
from bot.ui.embeds import BRAND_COLOUR, LISTING_CHARACTERS, outlet, plain, timestamp
from storage.models import AuditEntry, GuildArticle


def queue_item_embed(index: int, item: GuildArticle, bar: int = 0) -> discord.Embed:
    """A compact card for one queued article (ten fit within a message's 6,000 characters);
    its quality is marked when it is under the server's ``bar`` (members would not see it)."""
    article = item.article
    embed = discord.Embed(
        title=clip(f"{index}. {plain(headline(article.title), 200)}", 256),
        url=article.web_url,
        description=plain(article.excerpt, 280) or None,
        colour=BRAND_COLOUR,
    )
    embed.add_field(name="Outlet", value=plain(outlet(article), 100))
    embed.add_field(name="Published", value=timestamp(article))
    under = f" (under this server's bar of {bar})" if article.quality < bar else ""
    embed.add_field(name="Quality", value=f"{article.quality}/100{under}")
    topics = readable(", ".join(article.topics))  # a footer shows text as it is, no markdown
    embed.set_footer(text=clip(f"id {article.id} · {topics}", 200))
    return embed


ARTICLE_VERBS = {
    "publish": "published",
    "unpublish": "retracted",
    "reject": "turned down",
}


def _article(entry: AuditEntry) -> str:
    if entry.article_id is None:
        return "an article no longer stored"
    gone = "" if entry.article_stored else ", no longer stored"
    return f"“{plain(headline(entry.article_title or ''), 80)}” (`{entry.article_id}`{gone})"


def _feed(detail: dict[str, Any]) -> str:
    parts = [f"<#{int(detail.get('channel_id') or 0)}>"]
    topic = detail.get("topic")
    parts.append(f"topic {plain(str(topic), 60)}" if topic else "every topic")
    if detail.get("min_quality") is not None:
        parts.append(f"bar {int(detail['min_quality'])}")
    if detail.get("mention_role_id"):
        parts.append(f"mentions <@&{int(detail['mention_role_id'])}>")
    return ", ".join(parts)


def _removed_feeds(detail: dict[str, Any]) -> str:
    """'2 feeds of #news (channel deleted)', '1 feed of #news, topic ai': without a topic, a
    removal took every feed of the channel, whatever their topics."""
    removed = int(detail.get("removed") or 0)
    said = f"{removed} feed{'s' if removed != 1 else ''} of <#{int(detail.get('channel_id') or 0)}>"
    if detail.get("topic"):
        said += f", topic {plain(str(detail['topic']), 60)}"
    if detail.get("reason"):
        said += f" ({plain(str(detail['reason']), 40)})"
    return said


def _deleted_role(detail: dict[str, Any]) -> str:
    """'<@&1> from the moderator role and 2 feeds' mentions'."""
    places = ["the moderator role"] if detail.get("moderator_role") else []
    feeds = int(detail.get("feeds") or 0)
    if feeds:
        places.append(f"{feeds} feed{'s' if feeds != 1 else ''}' mentions")
    return f"<@&{int(detail.get('role_id') or 0)}> from {' and '.join(places) or 'nothing'}"


def _setting(name: str, value: Any) -> str:
    if value is None:
        return f"{name.removesuffix('_id')} reset"
    if name == "moderator_role_id":
        return f"moderator_role <@&{int(value)}>"
    if name == "digest_items_moved":
        return f"{int(value)} waiting digest items moved"
    return f"{name} {plain(str(value), 40)}"


def audit_line(entry: AuditEntry) -> str:
    """One action: when (each reader's own time zone), who, what."""
    who = f"{discord.utils.format_dt(entry.at, 'f')} <@{entry.actor_id}>"
    detail = entry.detail
    if entry.action == "article.add":
        return f"{who} added {_article(entry)} by hand"
    if entry.action in ARTICLE_VERBS:
        return f"{who} {ARTICLE_VERBS[entry.action]} {_article(entry)}"
    if entry.action == "posts.remove":
        removed, gone = int(detail.get("removed") or 0), int(detail.get("gone") or 0)
        also = f" ({gone} more already deleted by hand)" if gone else ""
        return (
            f"{who} removed {removed} post{'s' if removed != 1 else ''} of {_article(entry)}{also}"
        )
    if entry.action == "feed.add":
        return f"{who} added a feed: {_feed(detail)}"
    if entry.action == "feed.update":
        return f"{who} changed a feed: {_feed(detail)}"
    if entry.action == "feed.remove":
        return f"{who} removed {_removed_feeds(detail)}"
    if entry.action == "role.deleted":
        return f"{who} removed the deleted role {_deleted_role(detail)}"
    if entry.action == "settings":
        changes = ", ".join(
            _setting(name, value)
            for name, value in detail.items()
            if not (name == "digest_items_moved" and not value)
        )
        return f"{who} changed settings: {changes}"
    return f"{who} {plain(entry.action, 40)}"


def audit_span(listing: AuditPage) -> str:
    """Where the page's entries are among all, newest first: '11-20'."""
    return f"{listing.first}-{listing.first + len(listing.entries) - 1}"


def audit_embed(listing: AuditPage) -> discord.Embed:
    """One page of /audit."""
    lines = [clip(audit_line(entry), 380) for entry in listing.entries]
    embed = discord.Embed(
        title="Audit log",
        description=clip("\n".join(lines), LISTING_CHARACTERS)
        or "No moderator has done anything here yet.",
        colour=BRAND_COLOUR,
    )
    total = listing.total
    footer = f"{total} entr{'ies' if total != 1 else 'y'}"
    if listing.entries:
        footer += f" · {audit_span(listing)} of them, newest first"
    embed.set_footer(text=footer)
    return embed
