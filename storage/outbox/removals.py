"""Taking a retracted article's posts down, on either engine: a press claims the posts, each is
renewed just before its DELETE, confirmed once Discord said it is gone, or released when it
stays (statements in ``storage.outbox.plans``). Each engine supplies how a statement runs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from storage.outbox import plans
from storage.timestamps import to_timestamp


class PostRemovalQueries(ABC):
    """The claims on posts being deleted (``removal_claimed_at``, ``removal_claimed_by``) and
    their confirmation (``removed_at``)."""

    @abstractmethod
    async def _removal_rows(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows a statement returns."""

    @abstractmethod
    async def _removal_write(self, sql: str, params: Mapping[str, Any]) -> int:
        """How many rows a statement changed."""

    async def claim_posts(
        self, guild_id: int, article_id: str, claimer: str, now: datetime, stale: datetime
    ) -> list[tuple[int, int]]:
        """The article's posts in the guild still up, (channel id, message id) each, claimed
        for ``claimer`` at ``now`` while the article is retracted there; a post another press
        claimed after ``stale`` is not returned (it is being deleted)."""
        rows = await self._removal_rows(
            plans.CLAIM_POSTS,
            {
                "article": article_id,
                "guild": guild_id,
                "claimer": claimer,
                "now": to_timestamp(now),
                "stale": to_timestamp(stale),
            },
        )
        return sorted((int(row[0]), int(row[1])) for row in rows)

    async def renew_post_claim(
        self, guild_id: int, article_id: str, post: tuple[int, int], claimer: str, now: datetime
    ) -> bool:
        """Whether the post is still up and ``claimer``'s, its claim renewed at ``now``."""
        params = plans.post_params(guild_id, article_id, post)
        rows = await self._removal_rows(
            plans.RENEW_POST_CLAIM, params | {"claimer": claimer, "now": to_timestamp(now)}
        )
        return bool(rows)

    async def confirm_post_removed(
        self, guild_id: int, article_id: str, post: tuple[int, int], now: datetime
    ) -> None:
        """Discord said the post is gone: it counts as removed from ``now``."""
        params = plans.post_params(guild_id, article_id, post)
        await self._removal_write(plans.CONFIRM_POST_REMOVED, params | {"now": to_timestamp(now)})

    async def release_post_claims(
        self, guild_id: int, article_id: str, posts: Sequence[tuple[int, int]], claimer: str
    ) -> None:
        """These posts stay up (Discord kept them, or was never asked): free to claim."""
        for post in posts:
            params = plans.post_params(guild_id, article_id, post)
            await self._removal_write(plans.RELEASE_POST_CLAIM, params | {"claimer": claimer})

    async def release_removal_claims(self, run: str, *, others: bool = False) -> int:
        """Free the claims of the run of the bot named ``run`` (the prefix of its presses'
        claimers), or with ``others`` those of every other run; how many."""
        sql = plans.RELEASE_CLAIMS_OF_OTHER_RUNS if others else plans.RELEASE_CLAIMS_OF_RUN
        return await self._removal_write(sql, {"prefix": f"{run}:%"})
