"""A topicbot connected to the Discord double, over a real store, for end-to-end tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import TopicBot
from bot.articles.article_file import parse_article
from bot.config import Settings
from bot.ingest.writer import ingest_paths
from storage.api import StoreApi
from storage.models import Article
from tests.discord_double import DiscordDouble, DoubleWorld
from tests.discord_double.interactions import InteractionResult
from tests.discord_double.plugin import GuildWorld
from tests.factories import EXAMPLES_DIR, article_text

EPHEMERAL = 64


def settings_for(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    """Settings pointing every file at ``tmp_path``."""
    data: dict[str, Any] = {
        "storage": {"path": str(tmp_path / "topicbot.db")},
        "ingest": {"inbox_dir": str(tmp_path / "inbox")},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return Settings.model_validate(data)


class FakeClock:
    """The bot's clock, moved by the test."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move time forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)
        return self.now


class RunningClock:
    """The bot's clock for tests with the jobs running: real time, shifted so that it reads a
    chosen moment now (APScheduler waits in real time; what the bot sees is shifted)."""

    def __init__(self, moment: datetime) -> None:
        self.set(moment)

    def set(self, moment: datetime) -> None:
        """Read ``moment`` now and run on from there (a jump, as over a bot's downtime)."""
        self._offset = moment - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset


@dataclass
class Harness:
    """The double, its world, the store and the running bot."""

    double: DiscordDouble
    world: DoubleWorld
    store: StoreApi
    bot: TopicBot
    clock: FakeClock
    # A second store on the same file or database (another process's view of it).
    reopen: Callable[[], Awaitable[StoreApi]]

    async def plan(self) -> Any:
        """Run the planning job once."""
        return await self.bot.planner.plan()

    async def send(self) -> Any:
        """Run the sending job once."""
        return await self.bot.dispatcher.send_due()

    async def deliver(self) -> Any:
        """Plan, then send."""
        await self.plan()
        return await self.send()

    @property
    def first(self) -> GuildWorld:
        return self.world.first

    @property
    def second(self) -> GuildWorld:
        return self.world.second

    async def slash(
        self,
        guild: GuildWorld | None,
        user_id: int,
        command: str,
        options: dict[str, Any] | None = None,
        **kw: Any,
    ) -> InteractionResult:
        """Invoke a command as a member and wait for its answer: the response, or when the
        command was acknowledged first ("thinking…": a slow command on a loaded machine, or
        one that always defers), the reply that follows it."""
        result = await self.double.slash(
            guild.id if guild else None, user_id, command, options, **kw
        )
        if result.callback_type == 5:
            await result.wait_followups(1)
        return result

    async def autocomplete(
        self,
        guild: GuildWorld | None,
        user_id: int,
        command: str,
        options: dict[str, Any],
        focused: str,
        **kw: Any,
    ) -> list[dict[str, Any]]:
        return await self.double.autocomplete(
            guild.id if guild else None, user_id, command, options, focused, **kw
        )

    async def add_article(self, *, origin_guild: int | None = None, **fields: Any) -> Article:
        """Store one article built from the test factory's fields."""
        draft = parse_article(article_text(**fields).encode(), source="test.md")
        await self.store.articles.upsert_batch(
            [draft], datetime.now(UTC), origin_guild_id=origin_guild
        )
        stored = await self.store.articles.get_by_url(draft.canonical_url)
        assert stored is not None
        return stored

    async def add_pending(self, count: int) -> None:
        """``count`` articles waiting for a moderator ("Pending story number N", each an hour
        after the one before, at most ten)."""
        for n in range(count):
            await self.add_article(
                title=f"Pending story number {n}",
                webUrl=f"https://queue.example/{n}",
                originalUrl=...,
                related=[],
                publishedDateTime=f"2026-11-25T1{n}:00:00Z",
            )


def recent(hours: float = 1) -> str:
    """An ISO time ``hours`` ago."""
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


async def seed_examples(store: StoreApi) -> None:
    """The bundled example articles."""
    report = await ingest_paths(store, [EXAMPLES_DIR])
    assert report.rejected == []
