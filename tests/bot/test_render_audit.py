"""What members read of an article, wherever it reaches them: channel posts, DM alerts, digests,
/latest, /related (a story and a query), /subscriptions, /topics and the moderators' /queue,
for articles written as real feeds write them (HTML entities, stray tags, long tracking URLs)
and as a hostile file would (markdown, mentions, bidi overrides, every length past Discord's
limits). Every request the bot sends is checked by the double against Discord's OpenAPI
description and the limits it does not carry (``tests/discord_double/limits.py``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.articles.urls import canonical_url
from bot.ingest.writer import ingest_paths
from tests.bot.conftest import MakeHarness
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route, story
from tests.discord_double import limits
from tests.factories import write_article
from tests.test_cli import topicbot

# A real news URL is long: the sample in /work/shared/samples has 152 characters, and
# tracking-free URLs of 200-300 characters are common (dated paths, slugs of the headline).
LONG_URL = (
    "https://www.campussafetymagazine.com/press-release/"
    "more-than-1000-parents-sign-open-letter-calling-for-a-ban-on-facial-recognition-in-schools/"
    "2026/11/20/and-what-school-districts-across-the-country-are-doing-about-it-now"
)
LINK = re.compile(r"(?<!\\)\[(?P<text>(?:[^\]\\]|\\.)*)\]\((?P<url>[^)\s]*)\)")


def links(text: str) -> list[tuple[str, str]]:
    """The masked links ``[text](url)`` Discord would render in ``text``."""
    return [(m["text"], m["url"]) for m in LINK.finditer(text)]


def all_text(message: Any) -> str:
    """Everything a message shows: content and every text part of its embeds."""
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [(embed.get("footer") or {}).get("text", "")]
        parts += [(embed.get("author") or {}).get("name", "")]
        for field in embed.get("fields") or []:
            parts += [field["name"], field["value"]]
    return "\n".join(parts)


def embed_size(embed: dict[str, Any]) -> int:
    """The characters of an embed that count towards a message's 6,000."""
    return limits.embed_size(embed)


def fresh(harness: Harness, hours: float = 1) -> str:
    return (harness.clock.now - timedelta(hours=hours)).isoformat()


# --- the surfaces ------------------------------------------------------------------------


@pytest.fixture
async def bare(make_harness: MakeHarness) -> Harness:
    """No example articles; a fixed Wednesday, so a daily digest is due the next morning."""
    harness = await make_harness(seed=False)
    harness.clock.now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    return harness


async def everywhere(harness: Harness, article_id: str, topic: str) -> dict[str, Any]:
    """Every message in which members and moderators of the first server meet the article
    (planned and sent from a routed channel, an instant and a daily subscriber), by surface."""
    g = harness.first
    instant, daily = g.members[0].id, g.members[1].id
    seen: dict[str, Any] = {}
    seen["post"] = posts(harness, g.alerts.id)[-1]
    seen["dm"] = harness.double.dms_to(instant)[-1]
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent >= 1
    seen["digest"] = harness.double.dms_to(daily)[-1]
    seen["latest"] = (await harness.slash(g, instant, "latest", {"topic": topic})).message
    seen["related story"] = (
        await harness.slash(g, instant, "related", {"story": article_id})
    ).followups[0]
    return seen


async def followed_and_routed(harness: Harness, topic: str) -> None:
    g = harness.first
    await route(harness, g, g.alerts.id, topic=topic)
    await follow(harness, g, g.members[0].id, topic)
    await follow(harness, g, g.members[1].id, topic, delivery="daily")


# --- real feeds: long URLs, entities and tags ------------------------------------------------


async def test_a_long_real_url_stays_one_working_link_wherever_the_article_is_listed(
    bare: Harness,
):
    harness, g = bare, bare.first
    title = "Parents sign open letter calling for a ban on face scanning in schools"
    parent = await story(
        harness,
        0,
        title="School districts weigh face scanning rules",
        topics=["Schools"],
        related=[
            {
                "title": title,
                "webUrl": LONG_URL,
                "publishedDateTime": fresh(harness, 2),
                "provider": {"name": "Campus Safety Magazine"},
            }
        ],
    )
    article = await story(
        harness,
        1,
        title=title,
        webUrl=LONG_URL,
        topics=["Privacy"],
        provider={"name": "Campus Safety Magazine", "domain": "campussafetymagazine.com"},
    )
    await followed_and_routed(harness, "Privacy")
    await harness.deliver()
    seen = await everywhere(harness, article.id, "Privacy")
    listed = {
        "latest": seen["latest"].embeds[0]["description"],
        "digest": seen["digest"].embeds[0]["description"],
        "related of the parent": (
            await harness.slash(g, g.members[0].id, "related", {"story": parent.id})
        )
        .followups[0]
        .embeds[1]["description"],
        "related query": (
            await harness.slash(g, g.members[0].id, "related", {"query": "open letter parents"})
        )
        .followups[0]
        .embeds[0]["description"],
    }
    for where, text in listed.items():
        assert (title, LONG_URL) in links(text), f"{where}: {text}"
        assert "](https://" not in text.replace(f"]({LONG_URL})", ""), f"{where}: {text}"


FEED_TITLE = "AT&amp;T&#8217;s <b>$85bn</b> deal for &quot;Time Warner&quot;&nbsp;closes"
FEED_EXCERPT = "<p>The merger <em>finally</em> closed.<br/>Regulators &amp; courts agreed.</p>"


async def test_html_entities_and_tags_from_feeds_read_as_text_everywhere(bare: Harness):
    harness, g = bare, bare.first
    article = await story(harness, 1, title=FEED_TITLE, excerpt=FEED_EXCERPT, topics=["Media"])
    await followed_and_routed(harness, "Media")
    await harness.deliver()
    seen = await everywhere(harness, article.id, "Media")
    for where, message in seen.items():
        text = all_text(message)
        assert 'AT&T’s $85bn deal for "Time Warner" closes' in text, f"{where}: {text}"
        for raw in ("&amp;", "&#8217;", "&quot;", "&nbsp;", "\xa0", "<b>", "<br/>", "<p>", "<em>"):
            assert raw not in text, f"{where} shows {raw!r}: {text}"
    card = seen["post"].embeds[0]
    assert card["description"] == "The merger finally closed. Regulators & courts agreed."
    choices = await harness.autocomplete(g, g.members[0].id, "related", {"story": "deal"}, "story")
    assert [c["name"] for c in choices] == [
        'AT&T’s $85bn deal for "Time Warner" closes — Harbour Times'
    ]


async def test_the_moderators_queue_reads_feed_titles_as_text(bare: Harness):
    harness, g = bare, bare.first
    await story(harness, 1, title=FEED_TITLE, excerpt=FEED_EXCERPT, published=False)
    queue = await harness.slash(g, g.moderator.id, "queue")
    (card,) = queue.embeds
    assert card["title"] == '1. AT&T’s $85bn deal for "Time Warner" closes'
    assert card["description"] == "The merger finally closed. Regulators & courts agreed."


# --- hostile titles: markdown, mentions, Discord syntax, direction overrides ---------------


def hostile_title(g: Any) -> str:
    return (
        f"*Breaking* _x_ ~~y~~ ||z|| `c` <@{g.moderator.id}> <@&{g.moderator_role.id}> "
        f"@everyone @here <#{g.general.id}> <t:0:R> <:pog:123456789012345678> "
        "[Click](https://evil.example) https://bank.example/login \u202egnp.exe "
        "[a](https://ok.example)[b](https://evil.example) [[c]](https://evil.example/2)"
    )


async def test_hostile_titles_ping_nobody_and_read_as_written_everywhere(bare: Harness):
    harness, g = bare, bare.first
    article = await story(
        harness,
        1,
        title=hostile_title(g),
        excerpt=hostile_title(g),
        topics=["Media"],
        provider={"name": "<@&1234567890123456789> [Outlet](https://evil.example)"},
    )
    await followed_and_routed(harness, "Media")
    await harness.deliver()
    seen = await everywhere(harness, article.id, "Media")
    for where, message in seen.items():
        text = all_text(message)
        assert message.content in ("", None), f"{where}: {message.content}"
        assert not (message.allowed_mentions or {}).get("parse"), where
        assert "@everyone" not in text and "@here" not in text, f"{where}: {text}"
        # Discord's <...> syntax shows as written (escaped), never as a mention, channel,
        # timestamp or emoji
        assert not re.search(r"(?<!\\)<([@#:]|t:0:R)", text), f"{where}: {text}"
        assert "\u202e" not in text, f"{where}: a direction override turns the line around"
        for link_text, url in links(text):
            assert "evil.example" not in url, f"{where}: a masked link to {url}"
            assert "://" not in link_text, f"{where}: link text {link_text!r} shows an address"
        assert "\\*Breaking\\*" in text, f"{where}: {text}"


# --- lengths past Discord's limits -----------------------------------------------------------


async def test_every_length_past_discords_limits_still_reaches_members(bare: Harness):
    harness = bare
    topics = [f"Topic {n} " + "x" * 90 for n in range(50)]
    coverage = [
        {
            "title": f"Other outlet {n} " + "w" * 900,
            "excerpt": "e" * 5000,
            "webUrl": f"https://outlet{n}.example/" + "p" * 1990,
            "publishedDateTime": fresh(harness, 2),
            "provider": {"name": "P" * 300},
        }
        for n in range(8)
    ]
    article = await story(
        harness,
        1,
        title="T" * 1000,
        excerpt="E " * 5000,
        topics=topics,
        webUrl="https://harbour-times.example/" + "u" * 2000,
        provider={"name": "N" * 300, "domain": "d" * 200 + ".example"},
        images=[{"url": "https://img.example/" + "i" * 2000, "width": 100000, "height": 1}],
        related=coverage,
    )
    await followed_and_routed(harness, topics[0])
    await harness.deliver()
    seen = await everywhere(harness, article.id, topics[0])
    for where, message in seen.items():
        assert message.embeds, where
        assert sum(embed_size(e) for e in message.embeds) <= 6000, where
    card = seen["post"].embeds[0]
    assert card["title"].startswith("TTTT") and card["title"].endswith("…")
    assert card["url"] == article.web_url
    # the double refused nothing (checked when the test ends)


async def test_a_digest_of_150_long_links_lists_each_whole_and_counts_what_is_left_out(
    bare: Harness,
):
    harness, g = bare, bare.first
    daily = g.members[1].id
    for n in range(150):
        await story(
            harness,
            n,
            title=f"Ferry pilot {n} <b>expands</b> to island {n}",
            webUrl=f"https://harbour-times.example/ferries/2026/06/10/{n}-" + "slug-" * 30,
        )
    await follow(harness, g, daily, "Transport", delivery="daily")
    await harness.deliver()
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    await harness.bot.dispatcher.send_digests()
    messages = harness.double.dms_to(daily)
    listed = [
        link
        for message in messages
        for embed in message.embeds
        for link in links(embed["description"])
    ]
    # 260-character links: the digest's five messages hold 99, and say so of the rest
    shown = len(listed)
    assert len(messages) == 5 and shown == len({url for _, url in listed}) == 99
    assert all(text.startswith("Ferry pilot") and "<b>" not in text for text, _ in listed)
    for message in messages:  # every numbered item whole
        for embed in message.embeds:
            assert embed["description"].count("**") == 2 * len(links(embed["description"]))
    footer = messages[-1].embeds[-1]["footer"]["text"]
    assert footer.endswith("of 150 · 51 more not shown (see /latest)")


# --- dates -----------------------------------------------------------------------------------


async def test_dates_are_discord_timestamps_each_reader_sees_in_their_own_zone(bare: Harness):
    harness, g = bare, bare.first
    member = g.members[0].id
    await story(
        harness,
        1,
        title="Ferry pilot one year on",
        topics=["Transport"],
        publishedDateTime="2025-06-10T23:30:00-10:00",
    )
    article = await story(
        harness,
        2,
        title="Ferry pilot extended to the islands",
        topics=["Transport"],
        publishedDateTime="2026-06-09T23:30:00-10:00",
    )
    latest = await harness.slash(g, member, "latest", {"topic": "Transport"})
    text = latest.embeds[0]["description"]
    yesterday = int(datetime(2026, 6, 10, 9, 30, tzinfo=UTC).timestamp())
    last_year = int(datetime(2025, 6, 11, 9, 30, tzinfo=UTC).timestamp())
    assert f"<t:{yesterday}:d>" in text and f"<t:{last_year}:d>" in text, text
    result = await harness.slash(g, member, "related", {"story": article.id})
    card = result.followups[0].embeds[0]
    assert card["timestamp"].startswith("2026-06-10T09:30:00")
    assert {"name": "Published", "value": f"<t:{yesterday}:f>", "inline": True} in card["fields"]


# --- secured ---------------------------------------------------------------------------------


SAMPLES = Path("/work/shared/samples")
SAMPLE = next(iter(sorted(SAMPLES.glob("*.txt"))), None) if SAMPLES.is_dir() else None


async def test_the_secured_value_of_a_real_file_appears_nowhere_a_person_looks(
    bare: Harness, tmp_path: Path
):
    harness, g = bare, bare.first
    if SAMPLE is None:
        pytest.skip("no real sample beside the checkout")
    front = yaml.safe_load(SAMPLE.read_text(encoding="utf-8").split("---")[1])
    secured = front["secured"]
    front.update(published=True, publishedDateTime=fresh(harness), quality=80)
    path = tmp_path / "inbox" / "sample.md"
    path.parent.mkdir()
    path.write_text(f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n", encoding="utf-8")
    assert (await ingest_paths(harness.store, [path.parent])).rejected == []
    topic = front["topics"][0]
    await followed_and_routed(harness, topic)
    await harness.deliver()
    article = await harness.store.articles.get_by_url(canonical_url(front["webUrl"]))
    assert article is not None
    seen = await everywhere(harness, article.id, topic)
    await harness.slash(g, g.moderator.id, "unpublish", {"article": article.id})
    seen["queue"] = (await harness.slash(g, g.moderator.id, "queue")).message
    seen["query"] = (
        await harness.slash(g, g.members[0].id, "related", {"query": "facial recognition"})
    ).followups[0]
    pieces = [secured, secured[:24], secured.split(";")[-1]]
    for where, message in seen.items():
        text = all_text(message) + repr(message.embeds) + repr(message.components)
        assert not any(piece in text for piece in pieces), where


# --- the lists around articles: subscriptions, topics, a role's mention, a hand-added one -----


async def test_topic_names_with_markup_read_as_written_in_subscriptions_and_topics(bare: Harness):
    harness, g = bare, bare.first
    member = g.members[0].id
    topic = "R&amp;D **AI** <#1> @everyone"
    await story(harness, 1, topics=[topic])
    await follow(harness, g, member, topic)
    subscriptions = (await harness.slash(g, member, "subscriptions")).message
    topics = (await harness.slash(g, member, "topics")).message
    choices = await harness.autocomplete(g, member, "subscribe", {"topic": "R&"}, "topic")
    for where, message in {"subscriptions": subscriptions, "topics": topics}.items():
        text = all_text(message)
        assert "R&D \\*\\*AI\\*\\* \\<#1> @\u200beveryone" in text, f"{where}: {text}"
    assert [c["name"] for c in choices] == ["R&D **AI** <#1> @everyone (1)"]
    assert [c["value"] for c in choices] == [topic]  # what the store knows it by


async def test_a_feeds_role_is_the_only_mention_whatever_the_title_says(bare: Harness):
    harness, g = bare, bare.first
    await story(harness, 1, title=hostile_title(g), topics=["Media"])
    await route(harness, g, g.alerts.id, topic="Media", mention_role=g.member_role.id)
    await harness.deliver()
    (post,) = posts(harness, g.alerts.id)
    assert post.content == f"<@&{g.member_role.id}>"
    assert post.allowed_mentions["parse"] == []
    assert [int(r) for r in post.allowed_mentions.get("roles", [])] == [g.member_role.id]
    assert not post.allowed_mentions.get("users")


async def test_a_hand_added_article_with_markup_and_parentheses_reads_and_links_right(
    bare: Harness,
):
    harness, g = bare, bare.first
    url = "https://en.wikipedia.example/wiki/Ferry_(boat)"
    added = await harness.slash(
        g,
        g.moderator.id,
        "article add",
        {
            "url": url,
            "title": "Ferries &amp; <b>boats</b> @everyone",
            "topics": "Transport",
            "publish": True,
        },
    )
    assert added.content.startswith("Added “Ferries & boats @\u200beveryone” ("), added.content
    latest = (await harness.slash(g, g.members[0].id, "latest")).message
    assert links(latest.embeds[0]["description"]) == [
        ("Ferries & boats @\u200beveryone", "https://en.wikipedia.example/wiki/Ferry_%28boat%29")
    ]


async def test_a_query_is_quoted_back_as_typed_without_formatting_or_mentions(bare: Harness):
    harness, g = bare, bare.first
    await story(harness, 1, title="Ferry pilot expands to the islands")
    result = await harness.slash(
        g, g.members[0].id, "related", {"query": "**ferry** <@&1234567890123456789> @here"}
    )
    (embed,) = result.followups[0].embeds
    assert embed["title"] == (
        "Stories matching “\\*\\*ferry\\*\\* \\<@\u200b&1234567890123456789> @\u200bhere”"
    )


async def test_the_queue_of_the_longest_hostile_files_fits_and_a_decision_reads_as_written(
    bare: Harness,
):
    harness, g = bare, bare.first
    for n in range(6):
        await story(
            harness,
            n,
            title=f"{n} &amp; <@&{g.moderator_role.id}> " + "Q" * 960,
            excerpt="<p>" + "x " * 3000 + "</p>",
            topics=["R&amp;D"] + [f"Topic {t} " + "y" * 90 for t in range(49)],
            provider={"name": "P" * 300},
            webUrl=f"https://pending.example/{n}/" + "u" * 2000,
            published=False,
        )
    queue = await harness.slash(g, g.moderator.id, "queue")
    assert len(queue.embeds) == 4
    assert sum(embed_size(e) for e in queue.embeds) <= 6000
    assert queue.embeds[0]["title"].startswith(f"1. 5 & \\<@\u200b&{g.moderator_role.id}> QQ")
    assert (
        queue.embeds[0]["footer"]["text"].startswith("id ")
        and " · R&D, Topic 0" in (queue.embeds[0]["footer"]["text"])
    )
    publish = next(
        c
        for row in queue.message.components
        for c in row["components"]
        if c.get("label") == "Publish 1"
    )
    clicked = await harness.double.click(queue.message, publish["custom_id"], g.moderator.id)
    assert clicked.message.content.startswith(
        f"✅ Published “5 & \\<@\u200b&{g.moderator_role.id}> QQ"
    )
    assert len(clicked.message.content) <= 2000
    assert sum(embed_size(e) for e in clicked.message.embeds) <= 6000


# --- the operator's terminal -----------------------------------------------------------------


def test_topicbot_related_prints_titles_as_text_without_terminal_control_codes(tmp_path: Path):
    config = tmp_path / "topicbot.yaml"
    config.write_text("storage:\n  path: data/topicbot.db\n")
    coverage = {
        "title": "\x1b]0;owned\x07Ferry strike \x1b[2J&amp; halts crossings\r",
        "webUrl": "https://coastwire.example/ferry-strike",
        "publishedDateTime": "2026-11-20T11:00:00Z",
        "provider": {"name": "Coast\x1b[31mWire", "domain": "coastwire.example"},
    }
    write_article(
        tmp_path / "in", "story.md",
        title="Harbour ferry workers strike", webUrl="https://harbour-times.example/strike",
        originalUrl=..., publishedDateTime="2026-11-20T10:00:00Z", related=[coverage],
        published=True,
    )  # fmt: skip
    assert topicbot("ingest", "in", "--config", str(config), cwd=tmp_path).returncode == 0
    result = topicbot(
        "related", "--story", "https://harbour-times.example/strike", "--config", str(config),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\r" not in result.stdout
    story, first = result.stdout.splitlines()[:2]  # the story asked about, then its coverage
    assert story.startswith("story: Harbour ferry workers strike — Harbour Times, 2026-11-20")
    assert first.startswith(
        " 1. ]0;ownedFerry strike [2J& halts crossings — Coast[31mWire, 2026-11-20, quality "
    )


async def test_why_a_story_is_related_never_names_a_feeds_markup_as_a_shared_term(bare: Harness):
    harness, g = bare, bare.first
    article = await story(
        harness,
        1,
        title="AT&amp;T&#8217;s Time Warner deal closes after court&#8217;s ruling",
        excerpt="AT&amp;T&#8217;s merger with <b>Time Warner</b> closed &amp; regulators agreed",
        topics=["Media"],
    )
    await story(
        harness,
        2,
        title="Court clears AT&amp;T&#8217;s Time Warner merger",
        excerpt="The court&#8217;s ruling lets AT&amp;T close the <i>Time Warner</i> deal",
        topics=["Media"],
        webUrl="https://other.example/att",
        provider={"name": "Other Wire"},
    )
    result = await harness.slash(g, g.members[0].id, "related", {"story": article.id})
    lines = result.followups[0].embeds[1]["description"].splitlines()
    assert lines[0].startswith("**1.** [Court clears AT&T’s Time Warner merger]"), lines
    reason = lines[1]
    assert "shared terms:" in reason and "warner" in reason.casefold(), reason
    for markup in ("amp", "8217", "quot", "<b>", "<i>"):
        assert markup not in reason, reason
