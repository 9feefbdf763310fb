"""What `/latest` and `/related` leave out says so: ten results and a note that more exist
(and how to find them), an article's topics past three counted."""

from __future__ import annotations

from tests.bot.conftest import MakeHarness
from tests.bot.harness import Harness
from tests.bot.test_alerts import fresh, story


async def bare(make_harness: MakeHarness) -> Harness:
    return await make_harness(seed=False)


def footer(result) -> str:
    """The footer of a reply's last embed (a deferred reply's follow-up)."""
    return (embeds(result)[-1].get("footer") or {}).get("text", "")


def embeds(result) -> list[dict]:
    return result.followups[0].embeds if result.followups else result.embeds


async def test_latest_with_more_than_ten_says_older_ones_exist_and_how_to_find_them(
    make_harness: MakeHarness,
):
    harness = await bare(make_harness)
    g, member = harness.first, harness.first.members[0].id
    for n in range(1, 12):
        await story(harness, n, title=f"Ferry pilot {n} expands to island {n}")
    result = await harness.slash(g, member, "latest")
    assert result.embeds[0]["description"].count("**") == 2 * 10
    assert footer(result).startswith(
        "The 10 newest shown; older ones are published here: /latest topic: shows one "
        "topic's, /related query: finds them by their words."
    )
    narrowed = await harness.slash(g, member, "latest", {"topic": "Transport"})
    assert footer(narrowed).startswith(
        "The 10 newest shown; older ones are published here in Transport: /related query:"
    )


async def test_latest_with_ten_or_fewer_says_nothing_of_more(make_harness: MakeHarness):
    harness = await bare(make_harness)
    g, member = harness.first, harness.first.members[0].id
    for n in range(1, 11):
        await story(harness, n, title=f"Ferry pilot {n} expands to island {n}")
    result = await harness.slash(g, member, "latest")
    assert result.embeds[0]["description"].count("**") == 2 * 10
    assert "older ones" not in footer(result)


async def test_latest_counts_an_articles_topics_past_three(make_harness: MakeHarness):
    harness = await bare(make_harness)
    g, member = harness.first, harness.first.members[0].id
    topics = ["Transport", "Ports", "Energy", "Islands", "Weather"]
    await story(harness, 1, topics=topics)
    await story(harness, 2, title="Ferry fares frozen for the winter", topics=topics[:3])
    result = await harness.slash(g, member, "latest")
    description = result.embeds[0]["description"]
    assert "_Transport, Ports, Energy +2_" in description
    assert "_Transport, Ports, Energy_" in description


async def test_related_query_with_more_than_ten_matches_says_so(make_harness: MakeHarness):
    harness = await bare(make_harness)
    g, member = harness.first, harness.first.members[0].id
    for n in range(1, 16):
        await story(
            harness,
            n,
            title=f"Ferry pilot {n} expands to island {n}",
            webUrl=f"https://outlet{n}.example/ferries/{n}",
            provider={"name": f"Outlet {n}"},
        )
    many = await harness.slash(g, member, "related", {"query": "ferry pilot"})
    assert embeds(many)[0]["description"].count("**") >= 2 * 10
    assert footer(many) == (
        "The 10 best matches shown; more match. Add words to narrow the search."
    )
    await story(harness, 99, title="Lighthouse keeper retires after forty years")
    one = await harness.slash(g, member, "related", {"query": "lighthouse"})
    assert "Lighthouse keeper" in embeds(one)[0]["description"]
    assert "more match" not in footer(one)


async def test_related_story_with_more_than_ten_similar_says_so(make_harness: MakeHarness):
    harness = await bare(make_harness)
    g, member = harness.first, harness.first.members[0].id
    added = [
        await story(
            harness,
            n,
            title=f"Ferry pilot {n} expands to island {n}",
            webUrl=f"https://outlet{n}.example/ferries/{n}",
            provider={"name": f"Outlet {n}"},
        )
        for n in range(1, 16)
    ]
    first = added[0]
    result = await harness.slash(g, member, "related", {"story": first.id})
    assert embeds(result)[1]["description"].count("**") >= 2 * 10
    assert footer(result).startswith("The 10 closest shown; more coverage is related.")


async def test_related_story_whose_own_coverage_passes_ten_says_so(make_harness: MakeHarness):
    harness = await bare(make_harness)
    g, member = harness.first, harness.first.members[0].id
    linked = [
        {
            "title": f"Island {n} welcomes its first ferry pilot",
            "webUrl": f"https://coverage{n}.example/ferries/{n}",
            "publishedDateTime": fresh(harness),
        }
        for n in range(1, 12)
    ]
    covered = await story(harness, 1, title="Lighthouse keeper retires", related=linked)
    result = await harness.slash(g, member, "related", {"story": covered.id})
    assert footer(result).startswith("The 10 closest shown; more coverage is related.")
