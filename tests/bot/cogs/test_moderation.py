"""Moderators' commands end to end, including refusals for members and crafted interactions."""

from __future__ import annotations

from tests.bot.harness import EPHEMERAL, Harness
from tests.discord_double import payloads
from tests.discord_double.interactions import CommandNotVisible

PARCEL = "https://securitybrief.example/breaches/parcel-firm-2-million-addresses"
MEMBER_PERMISSIONS = 1 << 31  # use application commands, nothing more
NOT_A_MODERATOR = (
    "Only moderators can do this: you need the Manage Server permission "
    "or this server's moderator role."
)


async def parcel_id(harness: Harness) -> str:
    article = await harness.store.articles.get_by_url(PARCEL)
    assert article is not None
    return article.id


async def test_publish_and_unpublish_apply_to_this_guild_only(harness: Harness):
    article_id = await parcel_id(harness)
    moderator = harness.first.moderator.id
    choices = await harness.autocomplete(
        harness.first, moderator, "publish", {"article": "parcel"}, "article"
    )
    assert [c["value"] for c in choices] == [article_id]
    assert (
        choices[0]["name"]
        == "Data Breach at Parcel Firm Exposes 2 Million Delivery Addresses — Security Brief"
    )

    published = await harness.slash(harness.first, moderator, "publish", {"article": article_id})
    assert published.message.flags & EPHEMERAL
    assert (
        published.content
        == f"Published “Data Breach at Parcel Firm Exposes 2 Million Delivery Addresses” (`{article_id}`) here."
    )
    first_state = await harness.store.publication.get(harness.first.id, article_id)
    second_state = await harness.store.publication.get(harness.second.id, article_id)
    assert first_state is not None
    assert second_state is not None
    assert (first_state.state, second_state.state) == ("published", "pending")

    twice = await harness.slash(harness.first, moderator, "publish", {"article": article_id})
    assert twice.content.endswith("is already published here.")

    retracted = await harness.slash(harness.first, moderator, "unpublish", {"article": article_id})
    assert retracted.content.startswith("Retracted “Data Breach")
    audit = await harness.store.audit.recent(harness.first.id)
    assert [(e.action, e.actor_id, e.article_id) for e in audit] == [
        ("unpublish", moderator, article_id),
        ("publish", moderator, article_id),
    ]
    assert await harness.store.audit.recent(harness.second.id) == []


async def test_members_cannot_see_moderator_commands(harness: Harness):
    member = harness.first.members[0].id
    try:
        await harness.slash(
            harness.first, member, "publish", {"article": "x"}, permissions=MEMBER_PERMISSIONS
        )
    except CommandNotVisible:
        pass
    else:
        raise AssertionError("Discord would hide /publish from a member without Manage Server")


async def test_crafted_moderator_interactions_from_members_are_refused(harness: Harness):
    article_id = await parcel_id(harness)
    member = harness.first.members[0].id
    for command, options in [
        ("publish", {"article": article_id}),
        ("unpublish", {"article": article_id}),
        ("queue", None),
        ("feed list", None),
        ("settings", {"min_quality": 0}),
        ("article add", {"url": "https://x.example/a", "title": "t", "topics": "AI"}),
    ]:
        result = await harness.slash(
            harness.first, member, command, options, permissions=MEMBER_PERMISSIONS, force=True
        )
        assert result.message.flags & EPHEMERAL, command
        assert result.content == NOT_A_MODERATOR, command
    state = await harness.store.publication.get(harness.first.id, article_id)
    assert state is not None
    assert state.state == "pending"
    assert (
        await harness.autocomplete(
            harness.first,
            member,
            "publish",
            {"article": "parcel"},
            "article",
            permissions=MEMBER_PERMISSIONS,
        )
        == []
    )


async def test_the_guild_moderator_role_grants_moderation(harness: Harness):
    helper = harness.first.members[1]
    helper_role = harness.double.world.add_role(harness.first.guild, "News team")
    await harness.double.gateway.dispatch(
        "GUILD_ROLE_CREATE", {"guild_id": str(harness.first.id), "role": payloads.role(helper_role)}
    )
    harness.first.guild.members[helper.id].roles.append(helper_role.id)
    refused = await harness.slash(
        harness.first, helper.id, "queue", permissions=MEMBER_PERMISSIONS, force=True
    )
    assert refused.content == NOT_A_MODERATOR
    await harness.slash(
        harness.first, harness.first.moderator.id, "settings", {"moderator_role": helper_role.id}
    )
    allowed = await harness.slash(
        harness.first, helper.id, "queue", permissions=MEMBER_PERMISSIONS, force=True
    )
    assert allowed.embeds


async def test_queue_buttons_publish_and_reject_in_place_with_audit(harness: Harness):
    await harness.add_pending(6)
    moderator = harness.first.moderator.id
    queue = await harness.slash(harness.first, moderator, "queue")
    assert queue.message.flags & EPHEMERAL
    titles = [e["title"] for e in queue.embeds]
    assert titles == [
        "1. Pending story number 5",
        "2. Pending story number 4",
        "3. Pending story number 3",
        "4. Pending story number 2",
    ]
    assert queue.embeds[-1]["footer"]["text"].endswith("8 pending · 1-4 of them, newest first")
    buttons = [c for row in queue.message.components for c in row["components"]]
    publish_first = next(b for b in buttons if b.get("label") == "Publish 1")

    clicked = await harness.double.click(queue.message, publish_first["custom_id"], moderator)
    assert clicked.callback_type == 7
    assert clicked.message.content == "✅ Published “Pending story number 5”."
    assert clicked.message.embeds[0]["title"] == "1. Pending story number 4"
    assert clicked.message.embeds[-1]["footer"]["text"].endswith(
        "7 pending · 1-4 of them, newest first"
    )

    reject = next(
        c
        for row in clicked.message.components
        for c in row["components"]
        if c.get("label") == "Reject 2"
    )
    rejected = await harness.double.click(clicked.message, reject["custom_id"], moderator)
    assert rejected.message.content == "🗑️ Rejected “Pending story number 3”."
    actions = [
        (e.action, e.detail["to"]) for e in await harness.store.audit.recent(harness.first.id)
    ]
    assert actions == [("reject", "retracted"), ("publish", "published")]

    next_page = next(
        c
        for row in rejected.message.components
        for c in row["components"]
        if c.get("label") == "Next ▶"
    )
    page_two = await harness.double.click(rejected.message, next_page["custom_id"], moderator)
    assert page_two.message.embeds[-1]["footer"]["text"].endswith(
        "6 pending · 5-6 of them, newest first"
    )


async def test_queue_buttons_refuse_a_member_who_is_not_a_moderator(harness: Harness):
    moderator = harness.first.moderator.id
    queue = await harness.slash(harness.first, moderator, "queue")
    button = next(
        c
        for row in queue.message.components
        for c in row["components"]
        if c.get("label", "").startswith("Publish")
    )
    member = harness.first.members[0].id
    crafted = await harness.double.click(
        queue.message, button["custom_id"], member, permissions=MEMBER_PERMISSIONS
    )
    assert crafted.message.flags & EPHEMERAL
    assert crafted.content == NOT_A_MODERATOR
    assert [e.action for e in await harness.store.audit.recent(harness.first.id)] == []


async def test_article_add_stores_for_this_guild_only(harness: Harness):
    moderator = harness.first.moderator.id
    added = await harness.slash(
        harness.first,
        moderator,
        "article add",
        {
            "url": "https://local.example/news/fete?utm_source=x",
            "title": "Village fête raises record sum",
            "topics": "Community, ai",
            "quality": 70,
            "publish": True,
        },
    )
    assert added.message.flags & EPHEMERAL
    assert added.content.startswith("Added “Village fête raises record sum” (`")
    assert added.content.endswith("`) and published it.")
    article = await harness.store.articles.get_by_url("https://local.example/news/fete")
    assert article is not None
    assert article.topics == ("Community", "ai")
    assert article.origin_guild_id == harness.first.id
    assert await harness.store.publication.get(harness.second.id, article.id) is None
    other = harness.second.moderator.id
    hidden = await harness.slash(harness.second, other, "publish", {"article": article.id})
    assert hidden.content.startswith(f"No article with id `{article.id}` here.")
    assert (
        await harness.autocomplete(
            harness.second, other, "publish", {"article": "village"}, "article"
        )
        == []
    )

    duplicate = await harness.slash(
        harness.first,
        moderator,
        "article add",
        {"url": "https://local.example/news/fete", "title": "Again", "topics": "x"},
    )
    assert (
        duplicate.content
        == f"That link is already stored as `{article.id}`. Use `/publish` to publish it."
    )
    bad_url = await harness.slash(
        harness.first,
        moderator,
        "article add",
        {"url": "javascript:alert(1)", "title": "x", "topics": "x"},
    )
    assert (
        bad_url.content
        == "`url`: URL has 'javascript:'; only http and https links are allowed. Paste a full https:// link."
    )


async def test_article_add_is_written_to_the_audit_log(harness: Harness):
    # README: "Every moderator action is written to the audit log", /article add included
    moderator = harness.first.moderator.id
    await harness.slash(
        harness.first,
        moderator,
        "article add",
        {"url": "https://local.example/news/fete", "title": "Village fête", "topics": "x"},
    )
    await harness.slash(
        harness.first,
        moderator,
        "article add",
        {"url": "https://local.example/news/fair", "title": "Fair", "topics": "x", "publish": True},
    )
    fete = await harness.store.articles.get_by_url("https://local.example/news/fete")
    fair = await harness.store.articles.get_by_url("https://local.example/news/fair")
    assert fete is not None and fair is not None
    audit = await harness.store.audit.recent(harness.first.id)
    assert [(e.action, e.actor_id, e.article_id) for e in audit] == [
        ("publish", moderator, fair.id),
        ("article.add", moderator, fair.id),
        ("article.add", moderator, fete.id),
    ]
    assert await harness.store.audit.recent(harness.second.id) == []


async def test_article_add_refuses_a_link_that_hides_its_host(harness: Harness):
    # https://discord.com@evil.example/x shows discord.com and opens evil.example
    moderator = harness.first.moderator.id
    for url in ("https://discord.com@evil.example/x", "https://user:pw@local.example/news/a"):
        refused = await harness.slash(
            harness.first, moderator, "article add", {"url": url, "title": "x", "topics": "x"}
        )
        assert refused.message.flags & EPHEMERAL
        assert refused.content == (
            "`url`: URL has user information (name@ before the host), which disguises the site "
            "it opens. Paste a full https:// link."
        )
    for stored in ("https://evil.example/x", "https://local.example/news/a"):
        assert await harness.store.articles.get_by_url(stored) is None
    assert [e.action for e in await harness.store.audit.recent(harness.first.id)] == []


async def test_publish_and_unpublish_take_a_title_typed_instead_of_picked(harness: Harness):
    # A moderator types the headline and sends without picking a suggestion: it is the one;
    # some of its words name the articles they match, for the moderator to confirm (a slip
    # would alert every follower); none, the closest titles.
    article_id = await parcel_id(harness)
    moderator = harness.first.moderator.id
    title = "Data Breach at Parcel Firm Exposes 2 Million Delivery Addresses"
    published = await harness.slash(harness.first, moderator, "publish", {"article": title})
    assert published.content == f"Published “{title}” (`{article_id}`) here."
    partly = await harness.slash(
        harness.first, moderator, "unpublish", {"article": "parcel firm breach"}
    )
    assert partly.content == (
        f"“parcel firm breach” could be “{title}” (`{article_id}`). Pick it from the "
        "suggestions, type its title in full, or give its id. Nothing changed."
    )
    state = await harness.store.publication.get(harness.first.id, article_id)
    assert state is not None and state.state == "published"
    retracted = await harness.slash(harness.first, moderator, "unpublish", {"article": title})
    assert retracted.content.startswith(f"Retracted “{title}” (`{article_id}`)")

    ferries = []
    for n in (1, 2):
        ferries.append(
            await harness.add_article(
                title=f"Ferry pilot {n} expands to the islands",
                webUrl=f"https://harbour-times.example/ferries/{n}",
                originalUrl=...,
                related=[],
                published=False,
                publishedDateTime=f"2026-11-2{n}T10:00:00Z",
            )
        )
    several = await harness.slash(harness.first, moderator, "publish", {"article": "ferry pilot"})
    assert several.message.flags & EPHEMERAL
    assert several.content == (
        "“ferry pilot” could be “Ferry pilot 2 expands to the islands” "
        f"(`{ferries[1].id}`) or “Ferry pilot 1 expands to the islands” (`{ferries[0].id}`). "
        "Pick it from the suggestions, type its title in full, or give its id. Nothing changed."
    )
    none = await harness.slash(harness.first, moderator, "publish", {"article": "parcle firm"})
    assert none.content == (
        "No article called “parcle firm” here. Closest titles: "
        f"“{title}” (`{article_id}`). Pick one from the suggestions, or give its id."
    )
    for ferry in ferries:
        state = await harness.store.publication.get(harness.first.id, ferry.id)
        assert state is not None and state.state == "pending"


async def test_article_add_with_a_topic_spelt_close_to_one_asks_before_starting_a_twin(
    harness: Harness,
):
    # `privcy` where Privacy exists would start a twin topic that Privacy's followers and
    # feeds never see: the moderator is asked, and a new topic takes `new_topic`.
    moderator = harness.first.moderator.id
    fields = {"url": "https://local.example/news/cookies", "title": "Cookie banners go"}
    refused = await harness.slash(
        harness.first, moderator, "article add", {**fields, "topics": "Community, privcy"}
    )
    assert refused.message.flags & EPHEMERAL
    assert refused.content == (
        "`topics`: there is no topic called “privcy” here. Did you mean Privacy? Type it as it "
        "is written, or set `new_topic` to True to start a topic of that name. Nothing was added."
    )
    assert await harness.store.articles.get_by_url(fields["url"]) is None

    meant = await harness.slash(
        harness.first, moderator, "article add", {**fields, "topics": "Community, Privacy"}
    )
    assert meant.content.endswith("to the queue.")
    article = await harness.store.articles.get_by_url(fields["url"])
    assert article is not None and article.topics == ("Community", "Privacy")

    twin = {"url": "https://local.example/news/privcy", "title": "The Privcy app"}
    started = await harness.slash(
        harness.first, moderator, "article add", {**twin, "topics": "privcy", "new_topic": True}
    )
    assert started.content.endswith("to the queue.")
    article = await harness.store.articles.get_by_url(twin["url"])
    assert article is not None and article.topics == ("privcy",)
