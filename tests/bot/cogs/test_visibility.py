"""What members see, end to end: every reader path, with a full article pending in both guilds
and one retracted by the first guild's moderators (``bot.domain.visibility``).

The scene: a published story whose file lists three other outlets' takes as related coverage:
one known only as that coverage, one whose own file arrived unpublished (pending), and one whose
file arrived published but which the first guild's moderators retracted. All four share the
story's words and its topic, so nothing but the rule keeps the last two out of sight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from storage.models import Article
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route

STORY = "https://harbour-times.example/ferry-strike"
COVERAGE = "https://coastwire.example/ferry-strike"
PENDING = "https://pendingpost.example/ferry-strike"
RETRACTED = "https://retractedtimes.example/ferry-strike"
TOPIC = "Ferry Strikes"


@dataclass
class Scene:
    story: Article
    pending: Article
    retracted: Article


def entry(url: str, title: str, outlet: str, published_at: str) -> dict[str, Any]:
    """A related entry as a file lists it."""
    return {
        "title": title,
        "webUrl": url,
        "publishedDateTime": published_at,
        "type": "article",
        "provider": {"name": outlet, "domain": url.split("/")[2]},
    }


@pytest.fixture
async def scene(harness: Harness) -> Scene:
    when = (harness.clock.now - timedelta(hours=1)).isoformat()
    common = {"originalUrl": ..., "publishedDateTime": when, "quality": 70, "images": []}
    story = await harness.add_article(
        title="Harbour ferry workers strike over automation plans",
        webUrl=STORY,
        provider={"name": "Harbour Times", "domain": "harbour-times.example"},
        published=True,
        topics=[TOPIC],
        related=[
            entry(COVERAGE, "Ferry strike halts harbour crossings", "Coast Wire", when),
            entry(PENDING, "Ferry strike: harbour workers walk out", "Pending Post", when),
            entry(RETRACTED, "Harbour ferry strike spreads overnight", "Retracted Times", when),
        ],
        **common,
    )
    pending = await harness.add_article(
        title="Ferry strike: harbour workers walk out over automation",
        webUrl=PENDING,
        provider={"name": "Pending Post", "domain": "pendingpost.example"},
        published=False,
        topics=[TOPIC, "Pending Only"],
        related=[],
        **common,
    )
    retracted = await harness.add_article(
        title="Harbour ferry strike over automation spreads overnight",
        webUrl=RETRACTED,
        provider={"name": "Retracted Times", "domain": "retractedtimes.example"},
        published=True,
        topics=[TOPIC, "Retracted Only"],
        related=[],
        **common,
    )
    g = harness.first
    result = await harness.slash(g, g.moderator.id, "unpublish", {"article": retracted.id})
    assert result.content.startswith("Retracted"), result.content
    return Scene(story, pending, retracted)


def member(harness: Harness, second: bool = False) -> tuple[Any, int]:
    guild = harness.second if second else harness.first
    return guild, guild.members[0].id


async def related_text(harness: Harness, options: dict[str, str], second: bool = False) -> str:
    """Everything /related showed the member, as one text."""
    guild, user = member(harness, second)
    result = await harness.slash(guild, user, "related", options)
    (message,) = result.followups
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title", ""), embed.get("url", ""), embed.get("description", "")]
    return "\n".join(parts)


async def test_related_query_shows_neither(harness: Harness, scene: Scene):
    here = await related_text(harness, {"query": "harbour ferry strike automation"})
    assert STORY in here
    assert COVERAGE in here  # coverage-only entries stay visible
    assert PENDING not in here
    assert RETRACTED not in here
    there = await related_text(harness, {"query": "harbour ferry strike automation"}, second=True)
    assert RETRACTED in there  # retracted in the first guild only
    assert PENDING not in there


async def test_related_story_lists_neither_as_coverage(harness: Harness, scene: Scene):
    here = await related_text(harness, {"story": scene.story.id})
    assert "curated coverage" in here and COVERAGE in here
    assert PENDING not in here
    assert RETRACTED not in here
    there = await related_text(harness, {"story": scene.story.id}, second=True)
    assert RETRACTED in there
    assert PENDING not in there


@pytest.mark.parametrize("which", ["pending", "retracted"])
async def test_related_story_does_not_find_either_as_the_story(
    harness: Harness, scene: Scene, which: str
):
    article: Article = getattr(scene, which)
    for named in (article.id, article.web_url):
        shown = await related_text(harness, {"story": named})
        assert shown.startswith(f"I can't find the story “{named}”.")
        assert article.title not in shown


async def test_related_story_autocomplete_offers_neither(harness: Harness, scene: Scene):
    guild, user = member(harness)
    choices = await harness.autocomplete(guild, user, "related", {"story": "ferry strike"}, "story")
    assert [c["value"] for c in choices] == [scene.story.id]
    guild, user = member(harness, second=True)
    there = await harness.autocomplete(guild, user, "related", {"story": "ferry strike"}, "story")
    assert sorted(c["value"] for c in there) == sorted([scene.story.id, scene.retracted.id])


async def test_latest_shows_neither(harness: Harness, scene: Scene):
    for options in (None, {"topic": TOPIC}):
        guild, user = member(harness)
        here = (await harness.slash(guild, user, "latest", options)).embeds[0]["description"]
        assert STORY in here
        assert PENDING not in here
        assert RETRACTED not in here
        guild, user = member(harness, second=True)
        there = (await harness.slash(guild, user, "latest", options)).embeds[0]["description"]
        assert RETRACTED in there
        assert PENDING not in there


async def topic_lines(harness: Harness, second: bool = False) -> dict[str, str]:
    guild, user = member(harness, second)
    result = await harness.slash(guild, user, "topics")
    lines = result.embeds[0]["description"].splitlines()
    return {line.split("**")[1]: line.split(" — ")[1] for line in lines}


async def test_topics_count_neither(harness: Harness, scene: Scene):
    here = await topic_lines(harness)
    assert here[TOPIC] == "1 article"
    assert "Pending Only" not in here
    assert "Retracted Only" not in here
    there = await topic_lines(harness, second=True)
    assert there[TOPIC] == "2 articles"
    assert there["Retracted Only"] == "1 article"
    assert "Pending Only" not in there


async def test_also_covered_by_lists_neither(harness: Harness, scene: Scene):
    g, other = harness.first, harness.second
    reader = g.members[0].id
    await route(harness, g, g.alerts.id, topic=TOPIC)
    await route(harness, other, other.alerts.id, topic=TOPIC)
    await follow(harness, g, reader, TOPIC)
    await harness.deliver()

    (post,) = posts(harness, g.alerts.id)
    (dm,) = harness.double.dms_to(reader)
    for message in (post, dm):
        assert message.embeds[0]["url"] == STORY
        fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
        also = fields["Also covered by"]
        assert COVERAGE in also
        assert PENDING not in also
        assert RETRACTED not in also
    (there,) = posts(harness, other.alerts.id)  # one alert per story: the story's
    fields = {f["name"]: f["value"] for f in there.embeds[0]["fields"]}
    assert RETRACTED in fields["Also covered by"]
    assert PENDING not in fields["Also covered by"]


async def test_moderators_still_see_the_pending_one_in_queue_and_publish(
    harness: Harness, scene: Scene
):
    g = harness.first
    queue = await harness.slash(g, g.moderator.id, "queue")
    assert any(scene.pending.title in e["title"] for e in queue.embeds)
    offered = await harness.autocomplete(
        g, g.moderator.id, "publish", {"article": "ferry strike"}, "article"
    )
    # the retracted one too, marked, so that a retraction can be undone by title
    assert {c["value"]: c["name"].endswith(" · not published") for c in offered} == {
        scene.pending.id: False,
        scene.retracted.id: True,
    }
    await harness.slash(g, g.moderator.id, "publish", {"article": scene.pending.id})
    assert PENDING in await related_text(harness, {"query": "harbour ferry strike automation"})
