"""Back up while `topicbot run` sends a dispatch, restore the copy as README says, start the
bot on it: every member gets the alert exactly once. Rows the copy holds as sent are never
asked for again; rows sent after the backup are asked for again with the same nonce, which
Discord (the double) recognises."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from storage import Store
from storage.outbox.rows import nonce_for
from tests.bot.test_restart import dm_count, seed, write_dispatch_config
from tests.bot.test_run import ROOT, start_topicbot
from tests.discord_double import DiscordDouble
from tests.discord_double.plugin import build_world

MEMBERS = 120
MESSAGES = "/channels/{channel_id}/messages"


async def wait_until(condition, bot, timeout_s: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, bot.log
        assert bot.process.returncode is None, bot.log
        await asyncio.sleep(0.02)


async def backup(config: Path, target: Path) -> str:
    """`topicbot backup` as an operator runs it, beside the running bot."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", str(target), "--config", str(config),
        cwd=ROOT, env=dict(os.environ), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


def sent_nonces(store_path: Path) -> set[str]:
    with sqlite3.connect(store_path) as db:
        rows = db.execute(
            "SELECT article_pk, guild_id, target_kind, target_id FROM deliveries "
            "WHERE state = 'sent'"
        ).fetchall()
    return {nonce_for("tb", tuple(row)) for row in rows}


async def test_a_backup_taken_during_a_dispatch_restores_without_resending(
    discord_double: DiscordDouble, tmp_path
):
    world = build_world(discord_double, guilds=1, members=MEMBERS)
    member_ids = [m.id for m in world.first.members]
    config = tmp_path / "topicbot.yaml"
    # Slow enough (two requests a member: the DM channel, the message; 4 members a second)
    # that the backup, a process of its own, ends midway even on a loaded machine.
    write_dispatch_config(config, discord_double, requests_per_second=8)
    store_path = tmp_path / "topicbot.db"
    copy = tmp_path / "backups" / "topicbot-copy.db"
    copy.parent.mkdir()
    await seed(store_path, world.first.id, member_ids)

    bot = await start_topicbot(config, discord_double.token)
    try:
        await wait_until(lambda: dm_count(discord_double, member_ids) >= 10, bot)
        printed = await backup(config, copy)
        at_backup = dm_count(discord_double, member_ids)
        # let the dispatch go on past the backup: these rows are sent again after the restore
        await wait_until(lambda: dm_count(discord_double, member_ids) >= at_backup + 10, bot)
    finally:
        assert await bot.stop() == 0, bot.log
    assert "quick_check ok" in printed
    in_copy = sent_nonces(copy)
    sent_before_stop = dm_count(discord_double, member_ids)
    assert 0 < len(in_copy) < sent_before_stop < MEMBERS  # the copy was taken midway

    # restore, as README says: the bot stopped, the copy put back, no old WAL left beside it
    for leftover in (Path(f"{store_path}-wal"), Path(f"{store_path}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(copy, store_path)
    asked_before = len(discord_double.requests("POST", MESSAGES))

    # the rest at speed: the pace changes nothing of what is sent
    write_dispatch_config(config, discord_double, requests_per_second=40)
    bot = await start_topicbot(config, discord_double.token)
    try:
        await wait_until(lambda: dm_count(discord_double, member_ids) >= MEMBERS, bot)
        await asyncio.sleep(2.5)  # two more send ticks: nothing more may arrive
    finally:
        assert await bot.stop() == 0, bot.log

    assert [len(discord_double.dms_to(user_id)) for user_id in member_ids] == [1] * MEMBERS
    asked_after = [
        r.json["nonce"] for r in discord_double.requests("POST", MESSAGES)[asked_before:]
    ]
    assert not in_copy & set(asked_after)  # rows the copy held as sent: never asked again
    # what was sent between the backup and the stop was asked again, and recognised
    assert len(asked_after) == MEMBERS - len(in_copy)
    async with await Store.open(store_path) as store:
        stats = await store.stats()
        assert stats.deliveries["sent"] == MEMBERS
        assert stats.deliveries["pending"] == 0
        assert await store.integrity_check() == "ok"
