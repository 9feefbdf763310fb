"""Nothing older than ``delivery.max_age_hours`` is ever posted, whatever commits meanwhile.

Planning records old publications as skipped, then selects what to plan, then writes each
plan. These tests commit an ingest (or a moderator's decision) from a second connection at the
seams between those steps, as a running bot's inbox scan or a `topicbot ingest` beside it can,
and look at what reached Discord.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.articles.article_file import parse_article
from bot.ingest.inbox import scan_inbox
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, posts, route
from tests.factories import article_text, write_article

OLD = "Thirty-day-old ferry report resurfaces"
NEW = "Fresh ferry timetable announced"


def article_file(harness: Harness, title: str, url: str, age: timedelta) -> dict[str, Any]:
    """A published file's fields: a Transport article dated ``age`` before the bot's now."""
    return {
        "title": title,
        "webUrl": url,
        "originalUrl": ...,
        "publishedDateTime": (harness.clock.now - age).isoformat(),
        "published": True,
        "quality": 70,
        "topics": ["Transport"],
        "related": [],
    }


async def routed_and_followed(harness: Harness) -> int:
    """A Transport feed in the first guild's #general and a member following Transport."""
    await harness.add_article(
        title="warm-up", webUrl="https://x.example/seed", originalUrl=..., related=[],
        topics=["Transport"], published=False,
    )  # fmt: skip
    g = harness.first
    reader = g.members[0].id
    await route(harness, g, g.general.id, topic="Transport")
    await follow(harness, g, reader, "Transport")
    return reader


async def commit_elsewhere(harness: Harness, **fields: Any) -> None:
    """Store an article through a second connection to the same file (committed at once)."""
    draft = parse_article(article_text(**fields).encode(), source="elsewhere.md")
    async with await harness.reopen() as other:
        await other.articles.upsert_batch([draft], harness.clock.now)


def before(target: Any, name: str, step: Callable[[], Awaitable[object]]) -> None:
    """Run ``step`` (once) just before ``target.name`` runs: a seam between planning steps."""
    original = getattr(target, name)
    pending = [step]

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        while pending:
            await pending.pop()()
        return await original(*args, **kwargs)

    setattr(target, name, wrapped)


def what_reached(harness: Harness, reader: int) -> list[str]:
    channel = harness.first.general.id
    messages = posts(harness, channel) + harness.double.dms_to(reader)
    return sorted(m.embeds[0]["title"] for m in messages)


async def test_an_old_published_file_committed_between_skip_and_select_is_never_sent(
    harness: Harness,
):
    reader = await routed_and_followed(harness)
    old = article_file(harness, OLD, "https://old.example/ferry", timedelta(days=30))
    before(harness.store.deliveries, "unplanned", lambda: commit_elsewhere(harness, **old))
    await harness.add_article(
        **article_file(harness, NEW, "https://new.example/ferry", timedelta(hours=1))
    )

    await harness.deliver()
    harness.clock.advance(seconds=10)
    summary = await harness.plan()
    await harness.send()

    assert what_reached(harness, reader) == [NEW, NEW]
    assert summary.skipped_old == 1  # recorded on the next run, once it is seen
    assert (await harness.store.stats()).skipped_old >= 1


async def test_an_old_moderator_decision_committed_between_skip_and_select_is_never_sent(
    harness: Harness,
):
    reader = await routed_and_followed(harness)
    fields = article_file(harness, OLD, "https://old.example/ferry", timedelta(hours=1))
    fields["published"] = False
    article = await harness.add_article(**fields)
    decided = harness.clock.now - timedelta(days=30)

    async def old_decision() -> None:
        async with await harness.reopen() as other:
            await other.publication.decide(
                harness.first.id, article.id, "published", harness.first.moderator.id, decided
            )

    before(harness.store.deliveries, "unplanned", old_decision)
    await harness.deliver()
    assert what_reached(harness, reader) == []
    state = await harness.store.publication.get(harness.first.id, article.id)
    assert state is not None and state.state == "published"  # published, just never alerted


async def test_an_article_redated_before_its_plan_is_written_is_skipped(harness: Harness):
    reader = await routed_and_followed(harness)
    url = "https://new.example/ferry"
    await harness.add_article(**article_file(harness, NEW, url, timedelta(hours=1)))
    redated = article_file(harness, NEW, url, timedelta(days=30))
    before(harness.store.deliveries, "write_plan", lambda: commit_elsewhere(harness, **redated))

    summary = await harness.deliver()

    assert what_reached(harness, reader) == []
    assert summary.sent == 0
    assert (await harness.store.stats()).skipped_old >= 1


@pytest.mark.parametrize("scan_between", [False, True])
async def test_an_old_file_dropped_into_a_running_bots_inbox_is_never_posted_or_dmed(
    harness: Harness, scan_between: bool
):
    reader = await routed_and_followed(harness)
    inbox = harness.bot.settings.ingest.inbox_dir

    async def scan() -> None:  # what the bot's scan_inbox job runs
        await scan_inbox(harness.store, inbox, settle_seconds=0)

    old = article_file(harness, OLD, "https://old.example/ferry", timedelta(days=30))
    new = article_file(harness, NEW, "https://new.example/ferry", timedelta(hours=1))
    write_article(inbox, "old.md", **old)
    write_article(inbox, "new.md", **new)
    if scan_between:
        # the inbox scan commits while planning runs, between its first step and the next
        before(harness.store.deliveries, "unplanned", scan)
    else:
        await scan()

    for _ in range(3):
        await harness.deliver()
        harness.clock.advance(minutes=1)

    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["new.md", "old.md"]
    assert what_reached(harness, reader) == [NEW, NEW]


async def test_a_moderators_publish_of_an_old_article_is_news_from_its_decision(
    harness: Harness,
):
    """README: a moderator's publication is as old as the decision, not the article."""
    reader = await routed_and_followed(harness)
    fields = article_file(harness, OLD, "https://old.example/ferry", timedelta(days=30))
    fields["published"] = False
    article = await harness.add_article(**fields)
    g = harness.first
    result = await harness.slash(g, g.moderator.id, "publish", {"article": article.id})
    assert result.content.startswith("Published")
    await harness.deliver()
    assert what_reached(harness, reader) == [OLD, OLD]


async def test_a_file_dated_decades_ahead_is_set_aside_by_the_running_bots_inbox_scan(
    make_harness: Callable[..., Awaitable[Harness]],
):
    harness = await make_harness(ingest={"settle_seconds": 0})
    reader = await routed_and_followed(harness)
    inbox = harness.bot.settings.ingest.inbox_dir
    typo = article_file(harness, "Ferry timetable for 2026", "https://x.example/typo", timedelta())
    typo["publishedDateTime"] = harness.clock.now.replace(year=2062).isoformat()
    write_article(inbox, "typo.md", **typo)
    write_article(
        inbox, "new.md", **article_file(harness, NEW, "https://x.example/new", timedelta(hours=1))
    )
    (scan,) = [j for j in harness.bot.scheduled_jobs() if j.job_id == "scan_inbox"]
    await scan.run()  # as the running bot's scheduler does, on the bot's clock
    await harness.deliver()
    assert what_reached(harness, reader) == [NEW, NEW]  # the channel post and the DM
    assert sorted(p.name for p in (inbox / "rejected").iterdir()) == [
        "typo.md",
        "typo.md.error.txt",
    ]
    reason = (inbox / "rejected" / "typo.md.error.txt").read_text(encoding="utf-8")
    assert "publishedDateTime: is 2062-" in reason
    assert "years past the latest date accepted now (ingest.max_hours_ahead)" in reason
