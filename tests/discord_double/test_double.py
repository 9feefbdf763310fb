"""Smoke tests: a real discord.py Bot against the Discord double."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord_double import DiscordDouble, DoubleWorld, patch_for
from tests.discord_double.interactions import CommandNotVisible
from tests.discord_double.plugin import StartBot
from tests.discord_double.state import VIEW_CHANNEL, Overwrite
from tests.waiting import eventually

TOPICS = ["python", "pytest", "rust", "discord"]
EPHEMERAL = 64


class UnsubscribeView(discord.ui.View):
    """A button that edits its own message in place (callback type 7)."""

    def __init__(self, topic: str) -> None:
        super().__init__(timeout=60)
        self.topic = topic

    @discord.ui.button(
        label="Unsubscribe", custom_id="unsubscribe", style=discord.ButtonStyle.danger
    )
    async def unsubscribe(
        self, interaction: discord.Interaction, button: discord.ui.Button[UnsubscribeView]
    ) -> None:
        button.disabled = True
        await interaction.response.edit_message(
            content=f"Unsubscribed from {self.topic}", view=self
        )


feed = app_commands.Group(
    name="feed",
    description="Manage feeds",
    default_permissions=discord.Permissions(manage_guild=True),
    guild_only=True,
)


@feed.command(name="add", description="Post a topic feed into a channel")
async def feed_add(
    interaction: discord.Interaction, channel: discord.TextChannel, topic: str
) -> None:
    await interaction.response.defer(thinking=True)
    target = interaction.client.get_channel(channel.id)
    assert isinstance(target, discord.TextChannel)
    await target.send(
        f"<@{interaction.user.id}> added **{topic}** here",
        allowed_mentions=discord.AllowedMentions(
            users=[interaction.user], roles=False, everyone=False
        ),
    )
    await interaction.followup.send(f"Feed {topic} -> #{channel.name}")


@app_commands.command(name="subscribe", description="Subscribe to a topic")
async def subscribe(interaction: discord.Interaction, topic: str) -> None:
    await interaction.response.send_message(
        f"Subscribed to {topic}", ephemeral=True, view=UnsubscribeView(topic)
    )


@subscribe.autocomplete("topic")
async def subscribe_topic(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current)]


@app_commands.command(name="dm", description="Send yourself a DM")
async def dm(interaction: discord.Interaction) -> None:
    try:
        await interaction.user.send("Here is your digest")
    except discord.Forbidden as exc:
        await interaction.response.send_message(f"I cannot DM you ({exc.code})", ephemeral=True)
    else:
        await interaction.response.send_message("Check your DMs", ephemeral=True)


@app_commands.command(name="bigembed", description="Sends an embed Discord refuses")
async def bigembed(interaction: discord.Interaction) -> None:
    try:
        await interaction.response.send_message(embed=discord.Embed(title="x" * 300))
    except discord.HTTPException as exc:
        interaction.client.refused_code = exc.code  # type: ignore[attr-defined]


@app_commands.command(name="limits", description="Echo a bounded number")
async def limits(interaction: discord.Interaction, count: app_commands.Range[int, 1, 10]) -> None:
    await interaction.response.send_message(f"count={count}", ephemeral=True)


def make_bot(guild_id: int) -> commands.Bot:
    """A bot with global commands plus a guild-only /guildping."""
    bot = commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=discord.Intents.default(),
        guild_ready_timeout=0.05,
    )
    commands_: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = [
        subscribe,
        dm,
        bigembed,
        limits,
        feed,
    ]
    for command in commands_:
        bot.tree.add_command(command)

    @bot.tree.command(
        name="guildping", description="Guild-only ping", guild=discord.Object(guild_id)
    )
    async def guildping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    return bot


async def _synced_bot(
    double: DiscordDouble, world: DoubleWorld, start_bot: StartBot
) -> commands.Bot:
    bot = make_bot(world.first.id)
    await start_bot(bot)
    await bot.tree.sync()
    await bot.tree.sync(guild=discord.Object(world.first.id))
    return bot


async def test_login_sync_and_commands(
    discord_double: DiscordDouble, discord_world: DoubleWorld, start_bot: StartBot
) -> None:
    double, g = discord_double, discord_world.first
    bot = await _synced_bot(double, discord_world, start_bot)
    assert bot.user is not None and bot.user.id == double.world.bot_user.id
    assert {guild.id for guild in bot.guilds} == {g.id, discord_world.second.id}
    names = {c.name for c in double.world.commands_for(None)}
    assert names == {"subscribe", "dm", "bigembed", "limits", "feed"}
    assert [c.name for c in double.world.commands_for(g.id)] == ["guildping"]
    synced = await bot.tree.fetch_commands()
    feed_cmd = next(c for c in synced if c.name == "feed")
    assert feed_cmd.default_member_permissions == discord.Permissions(manage_guild=True)

    ping = await double.slash(g.id, g.members[0].id, "guildping", channel_id=g.general.id)
    assert ping.callback_type == 4 and ping.content == "pong" and not ping.ephemeral
    assert ping.ack_latency is not None and ping.ack_latency < 1.0

    ranged = await double.slash(g.id, g.members[0].id, "limits", {"count": 3})
    assert ranged.content == "count=3" and ranged.message is not None
    assert ranged.message.flags & EPHEMERAL


async def test_autocomplete_ephemeral_and_button(
    discord_double: DiscordDouble, discord_world: DoubleWorld, start_bot: StartBot
) -> None:
    double, g = discord_double, discord_world.first
    await _synced_bot(double, discord_world, start_bot)
    user = g.members[1]

    choices = await double.autocomplete(g.id, user.id, "subscribe", {"topic": "py"}, "topic")
    assert [c["value"] for c in choices] == ["python", "pytest"]

    result = await double.slash(g.id, user.id, "subscribe", {"topic": "python"})
    assert result.callback_type == 4 and result.ephemeral
    assert result.content == "Subscribed to python"
    message = result.message
    assert (
        message is not None and message.components[0]["components"][0]["custom_id"] == "unsubscribe"
    )

    click = await double.click(message, "unsubscribe", user.id)
    assert click.callback_type == 7
    assert message.content == "Unsubscribed from python"
    assert message.components[0]["components"][0]["disabled"] is True


async def test_subcommand_group_deferred_followup_and_permissions(
    discord_double: DiscordDouble, discord_world: DoubleWorld, start_bot: StartBot
) -> None:
    double, g = discord_double, discord_world.first
    await _synced_bot(double, discord_world, start_bot)

    result = await double.slash(
        g.id, g.moderator.id, "feed add", {"channel": g.alerts.id, "topic": "rust"}
    )
    assert result.callback_type == 5
    followups = await result.wait_followups(1)
    assert followups[0].content == f"Feed rust -> #{g.alerts.name}"
    posted = double.messages_in(g.alerts.id)
    assert len(posted) == 1
    assert posted[0].allowed_mentions == {
        "parse": [],
        "users": [g.moderator.id],
        "replied_user": True,
    }

    with pytest.raises(CommandNotVisible):
        await double.slash(
            g.id, g.members[0].id, "feed add", {"channel": g.alerts.id, "topic": "x"}
        )
    forced = await double.slash(
        g.id,
        g.members[0].id,
        "feed add",
        {"channel": g.alerts.id, "topic": "x"},
        force=True,
        permissions=0,
    )
    assert forced.callback_type is not None


async def test_dm_and_fault_injection(
    discord_double: DiscordDouble, discord_world: DoubleWorld, start_bot: StartBot
) -> None:
    double, g = discord_double, discord_world.first
    await _synced_bot(double, discord_world, start_bot)
    user = g.members[0]

    ok = await double.slash(g.id, user.id, "dm")
    assert ok.content == "Check your DMs"
    assert [m.content for m in double.dms_to(user.id)] == ["Here is your digest"]

    rule = double.fail_next("POST", r"^/channels/\d+/messages$", 403, code=50007)
    refused = await double.slash(g.id, user.id, "dm")
    assert refused.content == "I cannot DM you (50007)"
    assert rule.hits == 1 and len(double.dms_to(user.id)) == 1

    dm_invoke = await double.slash(None, user.id, "dm")
    assert dm_invoke.payload["context"] == 1 and dm_invoke.content == "Check your DMs"


async def test_strictness_unknown_endpoint_and_spec(
    discord_double: DiscordDouble, discord_world: DoubleWorld, start_bot: StartBot
) -> None:
    double, g = discord_double, discord_world.first
    bot = await _synced_bot(double, discord_world, start_bot)

    with pytest.raises(discord.NotFound):
        await bot.http.request(
            discord.http.Route("GET", "/guilds/{guild_id}/emojis", guild_id=g.id)
        )
    assert double.errors == [f"unimplemented endpoint: GET /guilds/{g.id}/emojis"]
    double.errors.clear()

    if double.spec is None:
        pytest.skip("Discord OpenAPI spec unavailable: body validation is off")
    result = await double.slash(g.id, g.members[0].id, "bigembed", timeout_s=None)
    await asyncio.sleep(0.3)
    assert not result.acknowledged
    assert bot.refused_code == 50035  # type: ignore[attr-defined]
    assert len(double.errors) == 1 and "embeds/0/title" in double.errors[0]
    double.errors.clear()


async def test_raw_requests_and_nonce(
    discord_double: DiscordDouble, discord_world: DoubleWorld
) -> None:
    double, g = discord_double, discord_world.first
    headers = {"Authorization": f"Bot {double.token}", "Content-Type": "application/json"}
    url = f"{double.api_base}/channels/{g.general.id}/messages"
    body = {"content": "once", "nonce": "abc", "enforce_nonce": True}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(url, json=body) as first:
            assert first.headers["Content-Type"] == "application/json"
            first_id = (await first.json())["id"]
        async with session.post(url, json=body) as second:
            assert (await second.json())["id"] == first_id
        async with session.get(f"{double.api_base}/gateway/bot") as gw:
            assert (await gw.json())["url"] == double.gateway_url
    assert len(double.messages_in(g.general.id)) == 1

    with patch_for(double):
        assert double.api_base == discord.http.Route.BASE
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


async def test_a_member_asked_for_is_a_spec_member_object_or_unknown_member_once_gone(
    discord_double: DiscordDouble, discord_world: DoubleWorld
) -> None:
    """GET /guilds/{guild}/members/{user} needs no members intent: the member object as the
    spec describes it, or 404 Unknown Member (10007) once they left (``remove_member``, which
    sends no event to a bot without the intent)."""
    double, g = discord_double, discord_world.first
    member = g.members[0]
    headers = {"Authorization": f"Bot {double.token}"}
    url = f"{double.api_base}/guilds/{g.id}/members/{member.id}"
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(url) as present:
            assert present.status == 200
            body = await present.json()
        assert body["user"]["id"] == str(member.id)
        if double.spec is not None:
            operation = double.spec.operation("GET", f"/guilds/{g.id}/members/{member.id}")
            assert operation is not None and operation.operation_id == "get_guild_member"
            assert double.spec.validate_schema("GuildMemberResponse", body) == []
        await double.remove_member(g.guild, member.id)
        async with session.get(url) as gone:
            assert gone.status == 404
            assert (await gone.json())["code"] == 10007
    assert [r.status for r in double.requests("GET", "/guilds/{guild_id}/members/{user_id}")] == [
        200,
        404,
    ]


async def test_discords_limits_beyond_the_openapi_description(
    discord_double: DiscordDouble, discord_world: DoubleWorld
) -> None:
    """Each embed within its own fields' limits, yet 6,001 characters in all; content of
    2,001 characters (the spec allows 4,000); an embed URL with a space or another scheme:
    Discord refuses each (see ``limits.py`` for where each limit is written)."""
    double, g = discord_double, discord_world.first
    headers = {"Authorization": f"Bot {double.token}", "Content-Type": "application/json"}
    url = f"{double.api_base}/channels/{g.general.id}/messages"
    refused = [
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        {"content": "c" * 2001},
        {"embeds": [{"title": "t", "url": "https://x.example/a b"}]},
        {"embeds": [{"title": "t", "thumbnail": {"url": "ftp://x.example/i.png"}}]},
    ]
    accepted = [
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2000}]},
        {"content": "c" * 2000},
        {"embeds": [{"title": "t", "url": "https://x.example/a_(b)"}]},
    ]
    async with aiohttp.ClientSession(headers=headers) as session:
        for body in refused:
            async with session.post(url, json=body) as response:
                assert response.status == 400, body
                assert (await response.json())["code"] == 50035
        assert len(double.errors) == len(refused)
        double.errors.clear()
        for body in accepted:
            async with session.post(url, json=body) as response:
                assert response.status == 200, await response.text()
    assert len(double.messages_in(g.general.id)) == len(accepted)


async def test_resume_after_forced_close(
    discord_double: DiscordDouble, discord_world: DoubleWorld, start_bot: StartBot
) -> None:
    double, g = discord_double, discord_world.first
    await _synced_bot(double, discord_world, start_bot)
    session = double.gateway.current
    assert session is not None

    await double.gateway.force_close(4000)
    await eventually(lambda: session.resumes == 1, "the session resumed")
    assert double.gateway.identifies == 1
    result = await double.slash(g.id, g.members[0].id, "guildping")
    assert result.content == "pong"


async def test_rate_limits_and_injected_429(
    discord_double: DiscordDouble, discord_world: DoubleWorld, start_bot: StartBot
) -> None:
    double, g = discord_double, discord_world.first
    bot = await _synced_bot(double, discord_world, start_bot)
    channel = bot.get_channel(g.general.id)
    assert isinstance(channel, discord.TextChannel)

    double.enforce_rate_limits(per_channel=(2, 0.3), global_per_second=50)
    for i in range(4):
        await channel.send(f"burst {i}")
    # discord.py honours X-RateLimit-Remaining: 0 and waits instead of hitting a 429.
    assert double.rate_limit_hits == 0
    assert len(double.messages_in(g.general.id)) == 4

    double.fail_next("POST", rf"^/channels/{g.general.id}/messages$", 429, retry_after=0.05)
    await channel.send("after 429")
    statuses = [r.status for r in double.requests("POST", "/channels/{channel_id}/messages")]
    assert statuses[-2:] == [429, 200]


async def test_deleting_a_message_answers_as_discord_does(
    discord_double: DiscordDouble, discord_world: DoubleWorld
) -> None:
    """The bot deletes its own message (204, gone from the channel, kept as deleted); the same
    again is 10008; a channel it cannot see is 50001; a member's message needs Manage
    Messages (50013); the route is Discord's ``delete_message`` operation."""
    double, g = discord_double, discord_world.first
    headers = {"Authorization": f"Bot {double.token}"}
    own = await double.create_message(g.general, double.world.bot_user.id, {"content": "mine"})
    theirs = await double.user_message(g.general.id, g.members[0].id, "a member's")
    hidden = await double.create_message(g.alerts, double.world.bot_user.id, {"content": "x"})
    g.alerts.overwrites.append(Overwrite(id=g.bot_role.id, deny=VIEW_CHANNEL))

    async def delete(channel_id: int, message_id: int) -> tuple[int, int | None]:
        url = f"{double.api_base}/channels/{channel_id}/messages/{message_id}"
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.delete(url) as response,
        ):
            body = await response.json() if response.status != 204 else None
            return response.status, body and body["code"]

    assert await delete(g.general.id, own.id) == (204, None)
    assert [m.content for m in double.messages_in(g.general.id)] == ["a member's"]
    assert double.deleted_in(g.general.id) == [own]
    assert await delete(g.general.id, own.id) == (404, 10008)
    assert await delete(g.alerts.id, hidden.id) == (403, 50001)
    assert await delete(g.general.id, theirs.id) == (403, 50013)
    assert await delete(12345, own.id) == (404, 10003)
    assert not hidden.deleted and not theirs.deleted
    if double.spec is not None:
        operation = double.spec.operation("DELETE", f"/channels/{g.general.id}/messages/{own.id}")
        assert operation is not None and operation.operation_id == "delete_message"
