"""How the processes of one bot coordinate, by store engine: on PostgreSQL through the
database (the worker lease, identify turns); on SQLite there is one process (the store's lock
file sees to it), which coordinates with itself."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.config import Settings
from bot.sharding import IdentifySlots, LocalSlots
from storage.lease import SoleProcessLease, WorkerLease
from storage.postgresql.identify import PgIdentifySlots
from storage.postgresql.lease import PgWorkerLease


@dataclass(frozen=True, slots=True)
class Coordination:
    """Who runs the jobs, and when each shard may identify."""

    lease: WorkerLease
    identify_slots: IdentifySlots


def coordination_for(settings: Settings) -> Coordination:
    """The configured engine's way (the URL was checked when the store opened)."""
    if settings.storage.backend != "postgresql":
        return Coordination(SoleProcessLease(), LocalSlots())
    name = settings.storage.url_env
    url, source = os.environ.get(name, "").strip(), f"${name}"
    return Coordination(PgWorkerLease(url, source=source), PgIdentifySlots(url, source=source))
