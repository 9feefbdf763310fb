"""What a digest with more items than one message holds brings a member: every item they
subscribed to, once, the best in full and the rest as linked titles, in as many messages as
it takes (Discord's 10 embeds and 6,000 characters a message)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests.bot.conftest import MakeHarness
from tests.bot.harness import Harness
from tests.bot.test_alerts import follow, story
from tests.discord_double.limits import embed_size

LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]+)\)")
NUMBERED = re.compile(r"^\*\*(\d+)\.\*\* ")


def listed(message: Any) -> list[tuple[int, str]]:
    """The numbered items a digest message lists, across its embeds: (number, link text)."""
    found: list[tuple[int, str]] = []
    for embed in message.embeds:
        for line in (embed.get("description") or "").splitlines():
            number = NUMBERED.match(line)
            if number:
                link = LINK.search(line)
                assert link is not None, line
                found.append((int(number.group(1)), link["text"]))
    return found


async def daily_reader(make_harness: MakeHarness, count: int, **limits: Any) -> tuple[Harness, int]:
    """A member following Transport daily, and ``count`` articles of it published today,
    each with a long address (so that few fit a message), qualities shuffled."""
    harness = await make_harness(seed=False, **limits)
    harness.clock.now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    g = harness.first
    reader = g.members[0].id
    await story(harness, 0, published=False, topics=["Transport"])
    await follow(harness, g, reader, "Transport", delivery="daily")
    for n in range(1, count + 1):
        await story(
            harness,
            n,
            title=f"Ferry timetable change {n:03d}",
            quality=(n * 37) % 80 + 20,
            webUrl=f"https://harbour-times.example/ferries/2026/06/10/{n}-" + "slug-" * 12,
        )
    await harness.deliver()
    return harness, reader


async def test_every_item_of_a_150_item_digest_reaches_the_member_once(
    make_harness: MakeHarness,
):
    harness, reader = await daily_reader(make_harness, 150)
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 150

    messages = harness.double.dms_to(reader)
    assert len(messages) > 1
    items = [item for message in messages for item in listed(message)]
    assert [number for number, _ in items] == list(range(1, 151))  # each once, in order
    titles = sorted(text for _, text in items)
    assert titles == [f"Ferry timetable change {n:03d}" for n in range(1, 151)]
    for message in messages:  # within Discord's limits (the double also refuses past them)
        assert len(message.embeds) <= 10
        assert sum(embed_size(e) for e in message.embeds) <= 6000
    first = messages[0].embeds[0]
    title = f"Your daily digest from {harness.first.guild.name}"
    assert first["title"] == title
    quality = {f"Ferry timetable change {n:03d}": (n * 37) % 80 + 20 for n in range(1, 151)}
    in_full = [text for _, text in listed(messages[0])][:10]
    assert sorted(quality[text] for text in in_full) == sorted(quality.values())[-10:]
    assert first["description"].count("quality") == 10  # the best ten in full
    for later in messages[1:]:
        assert later.embeds[0]["title"] == f"{title} (continued)"
    footers = [m.embeds[-1]["footer"]["text"] for m in messages]
    assert footers[0].startswith("Articles 1–") and footers[0].endswith(
        "of 150 · continued in the next message"
    )
    assert footers[-1].endswith("of 150") and "continued" not in footers[-1]

    # nothing comes twice: the next digest has nothing to send
    harness.clock.now = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    assert len(harness.double.dms_to(reader)) == len(messages)


async def test_items_past_the_best_are_listed_in_the_same_message_when_they_fit(
    make_harness: MakeHarness,
):
    harness, reader = await daily_reader(make_harness, 3, delivery={"digest_items": 2})
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    assert (await harness.bot.dispatcher.send_digests()).sent == 3
    (digest,) = harness.double.dms_to(reader)
    full, rest = digest.embeds
    qualities = {n: (n * 37) % 80 + 20 for n in (1, 2, 3)}
    ranked = sorted(qualities, key=lambda n: -qualities[n])
    assert [text for _, text in listed(digest)] == [
        f"Ferry timetable change {n:03d}" for n in ranked
    ]
    assert "quality" in full["description"] and "quality" not in rest["description"]
    assert rest["description"].endswith("_Transport_")  # why it came
    assert rest["footer"]["text"] == "3 new articles"


async def test_a_continuation_discord_does_not_take_comes_with_the_next_digest_once(
    make_harness: MakeHarness,
):
    harness, reader = await daily_reader(make_harness, 150)
    # the first message goes through, every later one gets a 500 (discord.py's own retries too)
    refusing = harness.double.fail_next(
        "POST", r"^/channels/\d+/messages$", 500, after=1, times=1000
    )
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    await harness.bot.dispatcher.send_digests()
    (first,) = harness.double.dms_to(reader)
    shown_first = [text for _, text in listed(first)]
    assert 10 < len(shown_first) < 150
    refusing.times = 0  # Discord answers again

    harness.clock.now = datetime(2026, 6, 11, 9, 0, tzinfo=UTC)  # the retry: not a 2nd digest
    await harness.bot.dispatcher.send_digests()
    assert len(harness.double.dms_to(reader)) == 1

    harness.clock.now = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)  # the next daily digest
    await harness.bot.dispatcher.send_digests()
    later = harness.double.dms_to(reader)[1:]
    assert later
    shown_later = [text for message in later for _, text in listed(message)]
    everything = sorted(shown_first + shown_later)
    assert everything == [f"Ferry timetable change {n:03d}" for n in range(1, 151)]


async def test_a_digest_stops_at_its_messages_and_says_how_many_more_there_were(
    make_harness: MakeHarness,
):
    """A busy week's digest does not become dozens of DMs: past ``digest_messages`` the
    rest is counted in the last message (``/latest`` lists them) and never sent later."""
    harness, reader = await daily_reader(make_harness, 150, delivery={"digest_messages": 2})
    harness.clock.now = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
    summary = await harness.bot.dispatcher.send_digests()

    messages = harness.double.dms_to(reader)
    assert len(messages) == 2
    items = [item for message in messages for item in listed(message)]
    shown = len(items)
    assert [number for number, _ in items] == list(range(1, shown + 1)) and shown < 150
    quality = {f"Ferry timetable change {n:03d}": (n * 37) % 80 + 20 for n in range(1, 151)}
    left_out = set(quality) - {text for _, text in items}
    assert max(quality[t] for t in left_out) <= min(quality[t] for _, t in items)  # the best
    footer = messages[-1].embeds[-1]["footer"]["text"]
    assert footer.endswith(f"of 150 · {150 - shown} more not shown (see /latest)")
    assert (summary.sent, summary.left_out) == (shown, 150 - shown)
    assert f"{150 - shown} left out of digests" in str(summary)

    harness.clock.now = datetime(2026, 6, 12, 8, 0, tzinfo=UTC)  # they never come later
    assert (await harness.bot.dispatcher.send_digests()).sent == 0
    assert len(harness.double.dms_to(reader)) == 2
