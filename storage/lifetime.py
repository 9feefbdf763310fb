"""The store's lifetime, alike on both engines: ``async with store:`` closes it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class ClosedOnExit(ABC):
    """Something to ``close``, closed at the end of an ``async with`` block, however the block
    ends (``Store`` and ``PgStore``)."""

    @abstractmethod
    async def close(self) -> None:
        """Release what it holds (connections, a pool, background tasks)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
