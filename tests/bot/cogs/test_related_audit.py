"""`/related`, `/latest` and `/topics` as members of a news community really use them, and
`topicbot related` as an operator does: how a story is found (a pasted link as shared, a
headline typed out), what the answer lists, and what it never shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from storage.models import Article
from tests.bot.conftest import MakeHarness
from tests.bot.harness import EPHEMERAL, Harness, recent
from tests.factories import EXAMPLES_DIR, write_article
from tests.test_cli_related import engine_cli

__all__ = ["engine_cli"]  # the CLI on each engine, as `topicbot related`'s own tests run it

RIVERTON = "https://www.riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"
HEADLINE = "Riverton City Council Votes to Ban Face Scanning by Police"
PATH = "riverton-ledger.example/news/2026/11/20/council-bans-face-scanning"
# Members try many things in a row here; the per-member cooldowns are tested elsewhere.
UNHURRIED = {"related_per_minute": 600, "latest_per_minute": 600, "autocomplete_per_10s": 1000}


async def published_piece(harness: Harness, **fields: Any) -> Article:
    """An article its source published, known by its web link alone, with no coverage listed
    (``fields`` as the test factory takes them)."""
    return await harness.add_article(originalUrl=..., related=[], published=True, **fields)


@pytest.fixture
async def harness(make_harness: MakeHarness) -> Harness:
    """topicbot with the examples stored and no cooldown in the way."""
    return await make_harness(commands=UNHURRIED)


async def related(harness: Harness, **options: str) -> tuple[str, list[dict[str, Any]]]:
    """A member's `/related`: the private answer's text and embeds."""
    g = harness.first
    result = await harness.slash(g, g.members[0].id, "related", options)
    (message,) = result.followups
    assert message.flags & EPHEMERAL
    return message.content or "", message.embeds


async def offered(harness: Harness, typed: str) -> list[tuple[str, str]]:
    g = harness.first
    choices = await harness.autocomplete(g, g.members[0].id, "related", {"story": typed}, "story")
    return [(c["name"], c["value"]) for c in choices]


def titles(embed: dict[str, Any]) -> list[str]:
    """The headlines an answer lists, in order."""
    lines = embed["description"].splitlines()
    return [line.split("** [", 1)[1].split("](", 1)[0] for line in lines if "** [" in line]


@pytest.mark.parametrize(
    "pasted",
    [
        f"http://{PATH}",  # http, and without www.
        f"https://{PATH}/",  # a trailing slash
        f"http://www.{PATH}/?utm_source=share&fbclid=x",  # as shared, tracking and all
        f"https://m.{PATH}",  # the mobile edition
        f"https://amp.{PATH}",
        f"https://www.{PATH}/amp",  # the AMP edition
        f"https://www.{PATH}?amp",
        f"https://www.{PATH}?outputType=amp",
    ],
)
async def test_a_pasted_link_finds_the_story_however_it_was_shared(harness: Harness, pasted: str):
    content, embeds = await related(harness, story=pasted)
    assert content == ""
    assert embeds[0]["title"] == HEADLINE
    assert titles(embeds[1])[0] == "Police face-recognition ban passes in Riverton"
    # and autocomplete offers it as the link is pasted, before the member presses enter
    story = await harness.store.articles.get_by_url(RIVERTON)
    assert story is not None
    assert await offered(harness, pasted) == [(f"{HEADLINE} — Riverton Ledger", story.id)]


async def test_a_link_to_a_story_members_here_do_not_see_stays_unknown(harness: Harness):
    story = await harness.store.articles.get_by_url(RIVERTON)
    assert story is not None
    g = harness.first
    retracted = await harness.slash(g, g.moderator.id, "unpublish", {"article": story.id})
    assert retracted.content.startswith("Retracted")
    for pasted in (RIVERTON, f"http://{PATH}/", f"https://m.{PATH}"):
        content, embeds = await related(harness, story=pasted)
        assert content.startswith("I can't find the story"), pasted
        assert embeds == []
        assert await offered(harness, pasted) == []
    # the other server, where it stays published, still finds it by any spelling
    other = harness.second
    found = await harness.slash(other, other.members[0].id, "related", {"story": f"http://{PATH}"})
    assert found.followups[0].embeds[0]["title"] == HEADLINE


async def test_a_link_that_is_no_stored_story_says_how_to_find_one(harness: Harness):
    content, embeds = await related(harness, story="https://nowhere.example/news/a-story")
    assert content.startswith("I can't find the story “https://nowhere.example/news/a-story”.")
    assert "`/related query:`" in content
    assert embeds == []
    assert await offered(harness, "https://nowhere.example/news/a-story") == []


async def test_a_headline_typed_out_in_full_finds_its_story(harness: Harness):
    """Discord sends what was typed when the member presses enter without picking a
    suggestion: the full headline, in any case and spacing."""
    for typed in (HEADLINE, "  riverton city council votes to ban face  scanning by police "):
        content, embeds = await related(harness, story=typed)
        assert content == "", typed
        assert embeds[0]["title"] == HEADLINE


async def test_a_headline_two_outlets_share_asks_which_one(harness: Harness):
    for outlet, hours in (("A News", 2), ("B Herald", 30)):
        host = outlet.split()[1].lower() + ".example"
        await published_piece(
            harness,
            title="Storm batters the coast",
            webUrl=f"https://{host}/storm",
            publishedDateTime=recent(hours),
            provider={"name": outlet, "domain": host},
        )
    content, embeds = await related(harness, story="Storm batters the coast")
    assert content == (
        "2 stories here are titled “Storm batters the coast” (A News, B Herald): start typing it "
        "and pick one of the suggestions, which tell them apart."
    )
    assert embeds == []
    names = [name for name, _ in await offered(harness, "storm batters")]
    assert sorted(names) == [
        "Storm batters the coast — A News",
        "Storm batters the coast — B Herald",
    ]


async def storm_and_copies(harness: Harness) -> str:
    """A News's story, its own copy under another link (a page parameter), and B Herald's
    coverage; returns A News's story id."""
    story = await published_piece(
        harness,
        title="Storm batters the coast",
        webUrl="https://news.example/storm",
        publishedDateTime=recent(2),
        provider={"name": "A News", "domain": "news.example"},
    )
    await published_piece(
        harness,
        title="Storm  batters the coast",
        webUrl="https://news.example/storm?page=1",
        publishedDateTime=recent(2),
        provider={"name": "A News", "domain": "news.example"},
    )
    await published_piece(
        harness,
        title="Storm batters the coast",
        webUrl="https://herald.example/storm",
        publishedDateTime=recent(5),
        provider={"name": "B Herald", "domain": "herald.example"},
    )
    return story.id


async def test_an_outlets_own_copy_is_not_listed_as_other_coverage(harness: Harness):
    story_id = await storm_and_copies(harness)
    _, embeds = await related(harness, story=story_id)
    assert embeds[0]["title"] == "Storm batters the coast"
    listed = embeds[1]["description"]
    assert "https://herald.example/storm" in listed
    assert "news.example" not in listed  # the story again, under another link
    assert titles(embeds[1]).count("Storm batters the coast") == 1


async def test_a_query_lists_an_outlets_copies_once(harness: Harness):
    await storm_and_copies(harness)
    _, embeds = await related(harness, query="storm coast")
    assert titles(embeds[0]) == ["Storm batters the coast", "Storm batters the coast"]
    listed = embeds[0]["description"]
    assert listed.count("— A News ·") == 1
    assert listed.count("— B Herald ·") == 1


async def test_a_story_just_stored_is_offered_and_found_at_once(harness: Harness):
    story = await published_piece(
        harness,
        title="Lighthouse keepers return to Cape Morrow",
        webUrl="https://capepost.example/lighthouse",
        publishedDateTime=recent(0.1),
        provider={"name": "Cape Post", "domain": "capepost.example"},
    )
    assert [v for _, v in await offered(harness, "lighthouse kee")] == [story.id]
    assert [v for _, v in await offered(harness, "cape morr")] == [story.id]
    _, embeds = await related(harness, query="lighthouse keepers")
    assert titles(embeds[0])[0] == "Lighthouse keepers return to Cape Morrow"


async def test_another_servers_own_story_is_never_found(harness: Harness):
    g, other = harness.first, harness.second
    url = "https://acme-intranet.example/layoffs"
    added = await harness.slash(
        g,
        g.moderator.id,
        "article add",
        {"url": url, "title": "Acme plans layoffs", "topics": "Acme", "publish": True},
    )
    assert added.content.startswith("Added")
    secret = await harness.store.articles.get_by_url(url)
    assert secret is not None
    member = other.members[0].id
    for story in (
        secret.id,
        url,
        "http://www.acme-intranet.example/layoffs/",
        "Acme plans layoffs",
    ):
        result = await harness.slash(other, member, "related", {"story": story})
        (message,) = result.followups
        assert message.content.startswith("I can't find the story"), story
        assert message.embeds == []
        choices = await harness.autocomplete(other, member, "related", {"story": story}, "story")
        assert choices == [], story
    found = await harness.slash(other, member, "related", {"query": "acme layoffs"})
    assert "Acme plans layoffs" not in json.dumps(found.followups[0].embeds)


@pytest.mark.parametrize(
    ("query", "answer"),
    [
        ('"face" AND NOT( title:*', "Riverton"),  # FTS syntax is just words
        ("face-scanning", "Riverton"),
        ("7-2", "Riverton"),
        ("zzqx wobble", "Nothing matches those words. Try fewer or different words."),
        ("日本語のニュース", "Nothing matches those words. Try fewer or different words."),
    ],
)
async def test_hostile_and_odd_queries_get_a_plain_answer(
    harness: Harness, query: str, answer: str
):
    content, embeds = await related(harness, query=query)
    assert content == ""
    assert answer in embeds[0]["description"]


async def test_a_query_of_no_words_says_what_to_type(harness: Harness):
    for query in ("🚀🚀", "?!", "   "):
        g = harness.first
        result = await harness.slash(g, g.members[0].id, "related", {"query": query})
        message = result.followups[0] if result.followups else result.message
        assert message.flags & EPHEMERAL
        assert (message.content or "").startswith(
            ("Type a few words to search for", "Give either `story`")
        ), query


async def test_a_query_never_pings(harness: Harness):
    content, embeds = await related(harness, query="@everyone <@&1> riverton")
    assert "@everyone" not in embeds[0]["title"]  # shown with a zero-width break
    assert "Riverton" in embeds[0]["description"]
    assert content == ""


def test_the_cli_finds_a_story_by_its_link_however_it_was_shared(engine_cli: Any):
    stored = engine_cli("ingest", str(EXAMPLES_DIR))
    assert stored.returncode == 0, stored.stderr
    exact = engine_cli("related", "--story", RIVERTON, "--json")
    assert exact.returncode == 0, exact.stderr
    for pasted in (f"http://{PATH}/", f"https://m.{PATH}?utm_source=x", HEADLINE):
        shared = engine_cli("related", "--story", pasted, "--json")
        assert shared.returncode == 0, (pasted, shared.stderr)
        assert json.loads(shared.stdout) == json.loads(exact.stdout)
    unknown = engine_cli("related", "--story", "https://nowhere.example/x")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("topicbot: can't find the story")
    # the text output names the story the link or headline was taken for
    named = engine_cli("related", "--story", f"http://{PATH}/")
    assert named.returncode == 0, named.stderr
    story_id = json.loads(engine_cli("related", "--query", HEADLINE, "--json").stdout)
    header = named.stdout.splitlines()[0]
    assert header.startswith(f"story: {HEADLINE} — Riverton Ledger, 2026-11-20 (id ")
    assert any(header == f"story: {HEADLINE} — Riverton Ledger, 2026-11-20 (id {row['id']})"
               for row in story_id["results"])  # fmt: skip
    nothing = engine_cli("related", "--query", "zzqx wobble")
    assert (nothing.returncode, nothing.stdout) == (0, "nothing matches those words\n")


def test_the_cli_names_the_stories_a_shared_headline_could_mean(engine_cli: Any, tmp_path: Path):
    folder = tmp_path / "briefings"
    for day in (1, 2):
        write_article(
            folder,
            f"{day}.md",
            title="Morning briefing",
            webUrl=f"https://daily.example/briefing/{day}",
            originalUrl=...,
            related=[],
            published=True,
            publishedDateTime=f"2026-11-0{day}T06:00:00Z",
            provider={"name": "The Daily", "domain": "daily.example"},
            excerpt=f"What to know on November {day}.",
        )
    assert engine_cli("ingest", str(folder)).returncode == 0
    ids = {row["id"] for row in json.loads(engine_cli(
        "related", "--query", "morning briefing", "--json").stdout)["results"]}  # fmt: skip
    assert len(ids) == 2
    shared = engine_cli("related", "--story", "morning briefing")
    assert shared.returncode == 2
    (line,) = shared.stderr.splitlines()
    assert line.startswith("topicbot: 2 stories are titled “morning briefing”: give one's id (")
    for story_id in ids:
        assert story_id in line
    assert "(The Daily, 2026-11-01)" in line and "(The Daily, 2026-11-02)" in line


async def test_latest_says_why_a_topic_that_topics_counts_shows_nothing(harness: Harness):
    """`/topics` counts what members here see, whatever its quality; `/latest` lists only what
    reaches the server's bar. A member who picks a counted topic learns why it is empty."""
    await published_piece(
        harness,
        title="Ferry gossip from the quay",
        webUrl="https://quay.example/gossip",
        quality=5,
        topics=["Quay Gossip"],
    )
    g = harness.first
    member = g.members[0].id
    topics = await harness.slash(g, member, "topics")
    assert "**Quay Gossip** — 1 article" in topics.embeds[0]["description"].splitlines()
    latest = await harness.slash(g, member, "latest", {"topic": "quay gossip"})
    assert latest.message.flags & EPHEMERAL
    (embed,) = latest.embeds
    assert embed["title"] == "Latest in Quay Gossip"
    assert embed["description"] == (
        "Nothing published here in Quay Gossip reaches this server's quality bar (20) yet: what "
        "is published under it is left out here and in alerts. `/related query:` finds it all."
    )
    found = await harness.slash(g, member, "related", {"query": "quay gossip"})
    assert titles(found.followups[0].embeds[0]) == ["Ferry gossip from the quay"]
    # a server whose bar it reaches lists it
    settings = await harness.slash(g, g.moderator.id, "settings", {"min_quality": 0})
    assert settings.message.flags & EPHEMERAL
    listed = await harness.slash(g, member, "latest", {"topic": "quay gossip"})
    assert titles(listed.embeds[0]) == ["Ferry gossip from the quay"]


async def test_latest_in_a_server_that_published_nothing_says_so(make_harness: MakeHarness):
    harness = await make_harness(seed=False, commands=UNHURRIED)
    g = harness.first
    latest = await harness.slash(g, g.members[0].id, "latest")
    assert latest.embeds[0]["description"] == "Nothing published here yet."


async def test_autocomplete_finds_a_headline_typed_in_another_form(harness: Harness):
    """Members type the words they remember: "council bans" for "Council Votes to Ban",
    "ferry" for "Ferries"; the suggestions hold the story, and picking it works."""
    ferries = await published_piece(
        harness,
        title="Harbour Ferries Halted by Strike",
        webUrl="https://quay.example/ferries-halted",
        publishedDateTime=recent(1),
        provider={"name": "Quay News", "domain": "quay.example"},
    )
    riverton = await harness.store.articles.get_by_url(RIVERTON)
    assert riverton is not None
    for typed, story in (("council bans", riverton), ("ferry strike", ferries)):
        choices = await offered(harness, typed)
        assert story.id in [value for _, value in choices], typed
        _, embeds = await related(harness, story=story.id)
        assert embeds[0]["title"] == story.title
    # words no headline nor excerpt holds, or only "the", suggest nothing
    assert await offered(harness, "zebra crossing") == []
    assert await offered(harness, "the") == []


async def test_one_outlets_recurring_headline_is_told_apart_by_its_date(harness: Harness):
    for day in (1, 2):
        await published_piece(
            harness,
            title="Morning briefing: what to know today",
            webUrl=f"https://daily.example/briefing/{day}",
            publishedDateTime=f"2026-11-0{day}T06:00:00Z",
            provider={"name": "The Daily", "domain": "daily.example"},
        )
    names = sorted(name for name, _ in await offered(harness, "morning briefing"))
    assert names == [
        "Morning briefing: what to know today — The Daily · 2026-11-01 06:00 UTC",
        "Morning briefing: what to know today — The Daily · 2026-11-02 06:00 UTC",
    ]
    # a headline no other suggestion shares keeps its short name
    assert await offered(harness, "riverton city council") == [
        (f"{HEADLINE} — Riverton Ledger", (await harness.store.articles.get_by_url(RIVERTON)).id)
    ]


async def test_after_retention_prunes_a_story_nothing_of_it_is_offered_or_counted(
    make_harness: MakeHarness,
):
    harness = await make_harness(
        commands=UNHURRIED, retention={"articles_days": 7, "published_articles_days": 7}
    )
    old = await harness.store.articles.get_by_url(RIVERTON)
    assert old is not None
    harness.clock.advance(days=8)  # the examples are weeks old, and stored a week ago
    await harness.bot.housekeeper.run()
    assert await harness.store.articles.get_by_url(RIVERTON) is None
    fresh = await published_piece(
        harness,
        title="Lighthouse keepers return to Cape Morrow",
        webUrl="https://capepost.example/lighthouse",
        publishedDateTime=recent(1),
        topics=["Lighthouses"],
        provider={"name": "Cape Post", "domain": "capepost.example"},
    )
    content, embeds = await related(harness, story=old.id)
    assert content.startswith(f"I can't find the story “{old.id}”.")
    assert embeds == []
    assert await offered(harness, "riverton") == []
    g = harness.first
    member = g.members[0].id
    topics = await harness.slash(g, member, "topics")
    assert topics.embeds[0]["description"].splitlines() == ["**Lighthouses** — 1 article"]
    latest = await harness.slash(g, member, "latest")
    assert titles(latest.embeds[0]) == [fresh.title]
    _, found = await related(harness, query="riverton face scanning lighthouse")
    assert titles(found[0]) == [fresh.title]


async def test_a_few_words_sent_without_picking_name_the_stories_they_could_mean(
    harness: Harness,
):
    content, embeds = await related(harness, story="riverton council")
    assert embeds == []
    assert content == (
        "I can't find the story “riverton council”. Did you mean “Riverton City Council Votes to "
        "Ban Face Scanning by Police” (Riverton Ledger)? Start typing its title and pick it from "
        "the suggestions, or search with `/related query:`."
    )
    # a headline's markdown and mentions are shown as written, never as formatting or pings
    await published_piece(
        harness,
        title="*Breaking*: @everyone tide_tables __now__",
        webUrl="https://tides.example/now",
        publishedDateTime=recent(1),
        provider={"name": "Tide Times", "domain": "tides.example"},
    )
    content, _ = await related(harness, story="breaking tide")
    assert "Did you mean “\\*Breaking\\*: @\u200beveryone tide\\_tables \\_\\_now\\_\\_”" in content
