"""The outbox against real SQLite files: upgrading to the lean outbox, reaching pending rows
through the per-mode queues, and folding the WAL back in the background. What holds on both
engines is in ``test_outbox_engines``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage import Store
from storage.outbox.rows import MODES, WHENEVER, pending_by
from tests.storage.legacy import add_article, store_at_version

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())


async def test_an_outbox_from_version_4_keeps_its_rows_and_notes(tmp_path):
    path = tmp_path / "v4.db"
    connection = await store_at_version(path, 4)
    try:
        pk = await add_article(connection, "https://a.example/1", "A", published_at=STAMP)
        rows = [
            # (kind, target, mode, reason) as topicbot 0004 wrote them
            ("dm", 1, "instant", "topic: AI"),
            ("dm", 2, "daily", "topic: AI · over 10 alerts an hour"),
            ("channel", 3, "instant", "feed"),
        ]
        await connection.executemany(
            "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, mode, reason, "
            "next_attempt_at, created_at) VALUES (7, ?, ?, ?, ?, ?, ?, ?)",
            [(pk, *row, STAMP, STAMP) for row in rows],
        )
        await connection.commit()
    finally:
        await connection.close()

    async with await Store.open(path) as store:
        notes = await store._db.fetch_all(
            "SELECT target_id, mode, note FROM deliveries ORDER BY target_id"
        )
        due = await store.deliveries.due(NOW + timedelta(seconds=1), limit=10)
        digest = await store.deliveries.due_digest_rows(NOW + timedelta(seconds=1), limit=10)
    assert notes == [(1, "instant", ""), (2, "daily", "over 10 alerts an hour"), (3, "instant", "")]
    assert sorted(d.target_id for d in due) == [1, 3]
    assert [d.target_id for d in digest] == [2]


@pytest.mark.parametrize("modes", [MODES, ("daily", "weekly"), ("instant",)])
async def test_pending_rows_are_read_through_the_queues_never_by_scanning_the_outbox(
    tmp_path, modes
):
    async with await Store.open(tmp_path / "topicbot.db") as store:
        plan = await store._db.fetch_all(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM deliveries d "
            f"WHERE {pending_by(':until', modes=modes)} AND d.target_id = 5",
            {"until": WHENEVER},
        )
    details = [row[3] for row in plan]
    assert not any(detail.startswith("SCAN") for detail in details), details
    assert {f"deliveries_pending_{mode}" for mode in modes} == {
        index for detail in details for index in detail.split() if index.startswith("deliv")
    }


def _db_file_size(path):
    return path.stat().st_size


async def test_the_wal_is_folded_into_the_file_in_the_background(tmp_path):
    path = tmp_path / "topicbot.db"
    async with await Store.open(path, checkpoint_seconds=0.05) as store:
        before = _db_file_size(path)
        async with store._db.transaction():
            await store._db.executemany(
                "INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?)",
                [(n, n) for n in range(50_000)],
            )
        for _ in range(200):  # up to 10 s on a loaded machine; usually the first tick
            if _db_file_size(path) > before:
                break
            await asyncio.sleep(0.05)
        assert _db_file_size(path) > before  # the rows reached the file with the store open
        log_pages, copied = await store._checkpointer.checkpoint()
        assert log_pages == copied  # and nothing was left behind in the log


async def test_closing_the_store_stops_the_checkpoints(tmp_path):
    store = await Store.open(tmp_path / "topicbot.db", checkpoint_seconds=0.01)
    assert any(task.get_name() == "wal-checkpoint" for task in asyncio.all_tasks())
    await store.close()
    assert not any(task.get_name() == "wal-checkpoint" for task in asyncio.all_tasks())
