"""``topicbot stats`` and the metrics gauges, the same tests on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.outbox.rows import MODES
from tests.storage import rows as plain

NOW = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
T0 = 1_790_000_000


async def outbox_row(store, article: str, target: int, mode: str, state: str) -> None:
    await plain.run(
        store,
        "INSERT INTO deliveries (guild_id, article_pk, target_kind, target_id, mode, state, "
        "next_attempt_at, created_at) SELECT 7, pk, 'dm', ?, ?, ?, ?, ? FROM articles WHERE id = ?",
        target,
        mode,
        state,
        T0,
        T0,
        article,
    )


async def test_stats_and_gauges_count_what_the_store_holds(any_store):
    store = any_store
    first = await plain.add_article(store, "a", at=T0, published=True, topics=["AI", "Ports"])
    await plain.add_article(store, "b", at=T0, topics=["AI"])
    await plain.add_article(store, "c", at=T0, coverage=True)
    await plain.run(store, "UPDATE articles SET plan_outcome = 'skipped_old' WHERE id = ?", first)
    for target, (mode, state) in enumerate(
        [("instant", "pending"), ("daily", "pending"), ("daily", "pending"), ("instant", "sent")]
    ):
        await outbox_row(store, first, target, mode, state)
    ai = await plain.value(store, "SELECT id FROM topics WHERE key = 'ai'")
    for user in (1, 2):
        await store.subscriptions.save(
            guild_id=7, user_id=user, topic_id=ai, min_quality=0, delivery="instant", now=NOW,
            cap=5,
        )  # fmt: skip
    await plain.run(
        store, "UPDATE subscriptions SET disabled_reason = 'dm closed' WHERE user_id = 2"
    )
    await store.feeds.save(
        guild_id=7, channel_id=70, topic_id=None, min_quality=None, mention_role_id=None,
        created_by=9, now=NOW, cap=5,
    )  # fmt: skip
    await store.guild_settings.update(7, NOW, timezone="Europe/Paris")
    await store.guild_settings.update(8, NOW, digest_time="07:30", timezone="Asia/Tokyo")

    stats = await store.stats()
    assert (stats.articles, stats.published, stats.pending, stats.coverage_only) == (3, 1, 1, 1)
    assert (stats.skipped_old, stats.topics) == (1, 2)
    assert (stats.subscriptions, stats.subscriptions_paused, stats.feeds, stats.feeds_paused) == (
        2,
        1,
        1,
        0,
    )
    assert stats.deliveries == {
        "pending": 3, "sent": 1, "failed": 0, "dead": 0, "skipped": 0, "cancelled": 0
    }  # fmt: skip
    assert stats.digest_overrides == {
        "servers": 2, "timezone": 2, "digest_time": 1, "digest_day": 0
    }  # fmt: skip
    assert stats.size is not None and stats.size.bytes > 0
    assert stats.last_pruning is None

    gauges = await store.gauges()
    assert gauges.outbox_by_mode == dict(zip(MODES, (1, 2, 0), strict=True))
    assert (gauges.paused_feeds, gauges.paused_subscriptions) == (0, 1)
    assert gauges.size_bytes >= stats.size.bytes
