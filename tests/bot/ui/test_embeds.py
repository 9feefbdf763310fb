"""Article embeds hold every Discord limit and neutralise hostile text, whatever the article."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.articles.article_file import parse_article
from bot.ui.embeds import article_embed, result_line
from storage.models import Article, Image, Provider
from tests.bot.harness import Harness
from tests.factories import article_text

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def article(**changes: object) -> Article:
    draft = parse_article(article_text().encode(), source="t.md")
    base = Article(
        id="abcdefghij",
        canonical_url=draft.canonical_url,
        web_url=draft.web_url,
        original_url=draft.original_url,
        title=draft.title,
        excerpt=draft.excerpt,
        published_at=draft.published_at,
        category="news",
        type="article",
        quality=64,
        heat=1,
        published=True,
        provider=draft.provider,
        topics=draft.topics,
        images=draft.images,
        body="",
        extra={},
        coverage_only=False,
        ingested_at=NOW,
        updated_at=NOW,
        source_published_at=NOW,
        secured="SECRET-OPAQUE",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


HOSTILE = article(
    title="@everyone " + "T" * 300,
    excerpt="<@&123456789012345678> [click me](https://evil.example) **bold** @here "
    + "x" * 10_000,
    provider=Provider("@everyone News " + "P" * 300, "evil.example"),
    topics=tuple(f"<@{n}> topic {'z' * 90}" for n in range(50)),
    images=(Image("https://img.example/a.png", 10, 10, True),),
)


def embed_size_ok(data: dict) -> None:
    assert len(data.get("title", "")) <= 256
    assert len(data.get("description", "")) <= 4096
    assert len(data.get("fields", [])) <= 25
    for field in data.get("fields", []):
        assert len(field["name"]) <= 256
        assert len(field["value"]) <= 1024
    assert len(data.get("footer", {}).get("text", "")) <= 2048


def test_a_normal_article_card_shows_everything():
    data = article_embed(
        article(), related=[article(title="Other take", provider=Provider("Coast Wire", ""))]
    ).to_dict()
    assert data["title"] == "Harbour City Trials Driverless Ferries"
    assert data["url"] == "https://harbour-times.example/transport/driverless-ferries"
    fields = {f["name"]: f["value"] for f in data["fields"]}
    assert fields["Outlet"] == "Harbour Times"
    assert (
        fields["Published"] == f"<t:{int(datetime(2026, 11, 1, 8, 30, tzinfo=UTC).timestamp())}:f>"
    )
    assert fields["Quality"] == "64/100"
    assert fields["Topics"] == "Autonomous Vehicles, Transport"
    assert fields["Also covered by"].startswith("• [Other take](https://harbour-times.example/")
    assert data["thumbnail"]["url"] == "https://harbour-times.example/img/ferry.jpg"
    assert data["footer"]["text"] == "id abcdefghij"
    assert "SECRET-OPAQUE" not in str(data)


def test_hostile_fields_stay_within_every_limit_and_cannot_ping():
    related = [HOSTILE] * 40
    embed = article_embed(HOSTILE, related=related, note="@everyone " + "n" * 5000)
    data = embed.to_dict()
    embed_size_ok(data)
    assert len(embed) <= 6000
    text = str(data)
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "@here" not in text.replace("@\u200bhere", "")
    assert "<@&123456789012345678>" not in text
    assert "**bold**" not in text  # markdown is escaped


@pytest.mark.parametrize("reason", ["curated coverage", "@everyone " + "r" * 500])
def test_result_lines_are_bounded(reason):
    line = result_line(1, HOSTILE, reason)
    assert len(line) <= 500
    assert "@everyone" not in line.replace("@\u200beveryone", "")


async def test_hostile_articles_through_the_double_are_accepted_by_discord_and_ping_nobody(
    harness: Harness,
):
    hostile = await harness.add_article(
        title="@everyone [pwn](https://evil.example) " + "T" * 290,
        excerpt="<@&1> @here " + "x" * 10_000,
        webUrl="https://hostile.example/a",
        originalUrl=...,
        published=True,
        quality=99,
        topics=["@everyone", "AI"],
        provider={"name": "@here " + "P" * 300, "domain": "hostile.example"},
    )
    member = harness.first.members[0].id
    latest = await harness.slash(harness.first, member, "latest")
    related = await harness.slash(harness.first, member, "related", {"story": hostile.id})
    messages = [latest.message, related.followups[0]]
    for message in messages:
        assert message.allowed_mentions.get("parse") == []
        for data in message.embeds:
            embed_size_ok(data)
        assert sum(len(str(e)) for e in message.embeds) < 12_000
    assert "@everyone" not in related.followups[0].embeds[0]["title"].replace("@\u200beveryone", "")
