"""The delivery outbox's repository: its planning, sending and health queries together, as
``store.deliveries``."""

from __future__ import annotations

from storage.database import Database
from storage.outbox.health import HealthQueries
from storage.outbox.planning import PlanningQueries
from storage.outbox.sending import SendingQueries


class DeliveryRepository(PlanningQueries, SendingQueries, HealthQueries):
    """Named queries over the outbox."""

    def __init__(self, connection: Database) -> None:
        self._db = connection
