"""`topicbot invite-url` and `topicbot doctor` as an operator runs them: subprocesses talking
to the Discord double, with channels each missing a permission the bot needs."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from storage import Store
from tests.bot.test_run import ROOT, write_config
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import GuildWorld, build_world
from tests.discord_double.state import (
    EMBED_LINKS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Channel,
    Overwrite,
)


async def topicbot(config: Path, token: str, *args: str) -> tuple[int, list[str], str]:
    """Run ``topicbot ARGS --config CONFIG``: exit code, stdout lines, stderr."""
    env = {**os.environ, "DISCORD_TOKEN": token}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, "--config", str(config),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines(), err.decode()


async def add_feeds(
    tmp_path: Path, guild: GuildWorld, *feeds: tuple[int, int | None], guild_id: int | None = None
) -> None:
    """Store feeds (channel id, mention role id) as /feed add would have."""
    async with await Store.open(tmp_path / "topicbot.db") as store:
        for channel_id, role_id in feeds:
            await store.feeds.save(
                guild_id=guild_id or guild.id,
                channel_id=channel_id,
                topic_id=None,
                min_quality=None,
                mention_role_id=role_id,
                created_by=guild.moderator.id,
                now=datetime.now(UTC),
                cap=50,
            )


def channel_denying(double: DiscordDouble, g: GuildWorld, name: str, denied: int) -> Channel:
    """A channel where the bot's role is denied ``denied``."""
    channel = double.world.add_channel(g.guild, name)
    channel.overwrites.append(Overwrite(id=g.bot_role.id, deny=denied))
    return channel


async def test_invite_url_asks_for_the_bot_and_its_commands_with_exactly_its_permissions(
    discord_double: DiscordDouble, tmp_path
):
    config = write_config(tmp_path, discord_double)
    code, out, err = await topicbot(config, discord_double.token, "invite-url")
    assert code == 0, err
    (url,) = out
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(parts.query)
    assert query == {
        "client_id": [str(discord_double.world.application_id)],
        "scope": ["bot applications.commands"],
        "permissions": [str(VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS)],
    }
    assert err == ""
    assert not (tmp_path / "topicbot.db").exists()  # nothing to store, nothing created


async def test_invite_url_without_a_token_or_discord(discord_double: DiscordDouble, tmp_path):
    config = write_config(tmp_path, discord_double)
    code, out, err = await topicbot(config, "", "invite-url")
    assert (code, out) == (2, [])
    assert err.splitlines() == [
        "topicbot: set the DISCORD_TOKEN environment variable to the bot's token"
    ]
    code, out, err = await topicbot(config, "wrong-token", "invite-url")
    assert (code, out) == (2, [])
    assert err.splitlines()[-1] == "topicbot: Discord refused the token in $DISCORD_TOKEN"
    unreachable = tmp_path / "unreachable.yaml"
    unreachable.write_text("discord:\n  api_base: http://127.0.0.1:9/api/v10\n")
    code, out, err = await topicbot(unreachable, "some-token", "invite-url")
    assert (code, out) == (4, [])
    assert err.splitlines()[-1].startswith("topicbot: cannot reach Discord at http://127.0.0.1:9")


async def test_doctor_names_each_missing_permission_and_what_to_do(
    discord_double: DiscordDouble, tmp_path
):
    g = build_world(discord_double, guilds=1).first
    hidden = channel_denying(discord_double, g, "hidden", VIEW_CHANNEL)
    mute = channel_denying(discord_double, g, "mute", SEND_MESSAGES)
    plain = channel_denying(discord_double, g, "plain", EMBED_LINKS)
    pings = discord_double.world.add_channel(g.guild, "pings")
    deleted = discord_double.world.ids.next()
    # the moderators' role cannot be mentioned by members, and the bot may not mention it
    await add_feeds(
        tmp_path,
        g,
        (g.alerts.id, g.member_role.id),
        (hidden.id, None),
        (mute.id, None),
        (plain.id, None),
        (pings.id, g.moderator_role.id),
        (deleted, None),
    )
    left = discord_double.world.ids.next()  # a server that removed the bot
    await add_feeds(tmp_path, g, (discord_double.world.ids.next(), None), guild_id=left)
    config = write_config(tmp_path, discord_double)
    assert (await topicbot(config, discord_double.token, "sync-commands"))[0] == 0
    code, out, err = await topicbot(config, discord_double.token, "doctor")
    assert code == 1, err
    fix = "give the bot's role those permissions in the channel's settings (Edit Channel → Permissions)"
    where = "in guild1"
    assert out == [
        "OK   token: accepted, logged in as topicbot",
        f"OK   application: id {discord_double.world.application_id}",
        f"OK   commands: {len(discord_double.world.commands_for(None))} in sync for every server",
        f"OK   channel #alerts ({g.alerts.id}) {where}: can post its 1 feed(s)",
        f"FIX  channel {hidden.id} {where}: the bot is missing View Channel — {fix}",
        f"FIX  channel #mute ({mute.id}) {where}: the bot is missing Send Messages — {fix}",
        f"FIX  channel #plain ({plain.id}) {where}: the bot is missing Embed Links — {fix}",
        f"FIX  channel #pings ({pings.id}) {where}: the bot is missing Mention @everyone, @here, "
        f"and All Roles — {fix}",
        f"FIX  channel {deleted} {where}: not found (deleted?) — route its topics elsewhere "
        "with /feed add",
        f"FIX  server {left}: the bot is not in this server any more, so its 1 feed(s) cannot "
        "post — invite it again (`topicbot invite-url`)",
        "OK   clock: within 10s of Discord's",
        f"OK   store: {tmp_path / 'topicbot.db'} passes SQLite's quick check",
        f"OK   inbox: {tmp_path / 'inbox'} will be created when the bot starts",
    ]
    assert discord_double.token not in "\n".join(out) + err


async def test_doctor_passes_a_sound_set_up_and_flags_unsynced_commands_and_a_wrong_clock(
    discord_double: DiscordDouble, tmp_path
):
    g = build_world(discord_double, guilds=1).first
    await add_feeds(tmp_path, g, (g.alerts.id, None))
    (tmp_path / "inbox").mkdir()
    config = write_config(tmp_path, discord_double)

    code, out, _ = await topicbot(config, discord_double.token, "doctor")
    assert code == 1
    assert out[2] == (
        "FIX  commands: Discord's commands for every server differ from this version's — run "
        "`topicbot sync-commands` (`topicbot run` syncs them when it starts)"
    )

    assert (await topicbot(config, discord_double.token, "sync-commands"))[0] == 0
    code, out, err = await topicbot(config, discord_double.token, "doctor")
    assert code == 0, "\n".join(out) + err
    assert [line[:5] for line in out] == ["OK   "] * 7
    assert out[-1] == f"OK   inbox: {tmp_path / 'inbox'} is writable"
    assert list((tmp_path / "inbox").iterdir()) == []  # its probe file is gone

    discord_double.clock_offset_seconds = -600
    code, out, _ = await topicbot(config, discord_double.token, "doctor")
    assert code == 1
    (clock,) = [line for line in out if "clock" in line]
    # the Date header has whole seconds, and the request takes a moment
    assert re.fullmatch(
        r"FIX  clock: 60[0-2]s ahead of Discord's — turn on time sync \(timedatectl set-ntp true\)",
        clock,
    )


async def test_doctor_reports_a_damaged_store_a_refused_token_and_an_unreachable_discord(
    discord_double: DiscordDouble, tmp_path
):
    build_world(discord_double, guilds=1)
    config = write_config(tmp_path, discord_double)
    (tmp_path / "topicbot.db").write_bytes(b"not a database, " * 512)
    code, out, _ = await topicbot(config, "wrong-token", "doctor")
    assert code == 1
    assert out[0] == "FIX  token: Discord refused the token in $DISCORD_TOKEN"
    assert out[1].startswith(f"FIX  store: {tmp_path / 'topicbot.db'} cannot be opened (")
    assert out[1].endswith(") — restore it from a backup")

    unreachable = tmp_path / "unreachable.yaml"
    unreachable.write_text("discord:\n  api_base: http://127.0.0.1:9/api/v10\n")
    code, out, err = await topicbot(unreachable, "some-token", "doctor")
    assert code == 4, err
    assert out[0].startswith("FIX  discord: cannot reach Discord at http://127.0.0.1:9/api/v10: ")
    assert out[0].endswith(" — check the network and discord.api_base")
    # the local checks still run (the damaged store is this folder's)
    assert [line.split(":")[0] for line in out] == ["FIX  discord", "FIX  store", "OK   inbox"]


async def test_doctor_runs_sqlite_quick_check_on_the_store(discord_double: DiscordDouble, tmp_path):
    g = build_world(discord_double, guilds=1).first
    await add_feeds(tmp_path, g, (g.alerts.id, None))
    path = tmp_path / "topicbot.db"
    with sqlite3.connect(path) as db:  # where the feeds index lives, to damage just that page
        (page,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'feeds_route'"
        ).fetchone()
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with path.open("r+b") as file:
        file.seek(page_size * (page - 1))
        file.write(b"\x0d\xff\xff\xff\xff\xff\xff\xff")
    config = write_config(tmp_path, discord_double)
    code, out, _ = await topicbot(config, discord_double.token, "doctor")
    assert code == 1
    assert "FIX  commands and feeds: not checked: the store is unusable" in out
    (store,) = [line for line in out if line.startswith("FIX  store")]
    assert store == (
        f"FIX  store: {path} is damaged (*** in database main *** Page {page}: btreeInitPage() "
        "returns error code 11) — restore it from a backup"
    )


async def test_the_token_is_read_from_the_variable_discord_token_env_names(
    discord_double: DiscordDouble, tmp_path
):
    config = write_config(tmp_path, discord_double)
    config.write_text(
        config.read_text().replace("discord:\n", "discord:\n  token_env: MY_BOT_TOKEN\n", 1)
    )
    # the default variable holds a token Discord refuses: it must not be the one read
    env = {**os.environ, "DISCORD_TOKEN": "wrong-token", "MY_BOT_TOKEN": discord_double.token}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "invite-url", "--config", str(config),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert f"client_id={discord_double.world.application_id}" in out.decode()

    # set only in the default variable, the token is not looked for there
    code, out_lines, err_text = await topicbot(config, discord_double.token, "invite-url")
    assert (code, out_lines) == (2, [])
    assert err_text.splitlines() == [
        "topicbot: set the MY_BOT_TOKEN environment variable to the bot's token"
    ]


async def test_sync_commands_pushes_the_definitions_now_and_guild_to_one_server_only(
    discord_double: DiscordDouble, tmp_path
):
    world = build_world(discord_double, guilds=2)
    g = world.first
    config = write_config(tmp_path, discord_double)
    code, out, err = await topicbot(
        config, discord_double.token, "sync-commands", "--guild", str(g.id)
    )
    assert code == 0, err
    assert out == [f"synced slash commands to guild {g.id}"]
    assert "subscribe" in [c.name for c in discord_double.world.commands_for(g.id)]
    assert discord_double.world.commands_for(None) == []
    assert discord_double.world.commands_for(world.second.id) == []

    code, out, err = await topicbot(config, discord_double.token, "sync-commands")
    assert code == 0, err
    assert out == ["synced slash commands to every server (global)"]
    assert "subscribe" in [c.name for c in discord_double.world.commands_for(None)]
    # pushed again even though nothing changed (`run` would skip it)
    code, _, err = await topicbot(config, discord_double.token, "sync-commands")
    assert code == 0, err
    assert len(discord_double.requests("PUT", "/applications/{application_id}/commands")) == 2
