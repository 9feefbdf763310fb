"""The delivery outbox's repository on PostgreSQL: planning, sending and health together, as
``store.deliveries`` of ``PgStore``."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from storage.postgresql.database import PgDatabase
from storage.postgresql.outbox.health import PgHealthQueries
from storage.postgresql.outbox.planning import PgPlanningQueries
from storage.postgresql.outbox.sending import PgSendingQueries

DEFAULT_LEASE = timedelta(seconds=60)


def default_claimer() -> str:
    """This process's name as a sender: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class PgDeliveryRepository(PgPlanningQueries, PgSendingQueries, PgHealthQueries):
    """Named queries over the outbox. ``claimer`` names this sender in the rows it claims
    (default: host and process id); ``lease`` is how long a claimed row stays its own before
    another sender may take it over."""

    def __init__(
        self, db: PgDatabase, *, claimer: str | None = None, lease: timedelta = DEFAULT_LEASE
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError(f"a lease must be longer than zero, not {lease}")
        self._db = db
        self.claimer = claimer or default_claimer()
        self.lease = lease
