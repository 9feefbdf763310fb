"""What one sending run did, for the job's log line and the metrics."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SendSummary:
    """What one sending run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    dead: int = 0
    to_digest: int = 0
    taken_over: int = 0  # rows another sender took over when this one's lease ran out
    left: int = 0  # rows cancelled: their member left the server they came from
    deferred: int = 0  # digest rows moved on: their member had just had that digest
    left_out: int = 0  # digest rows past the digest's last message: counted there, not sent
    paused: list[str] = field(default_factory=list)
    full: bool = False  # the run took as many rows as it could: more may be due

    def add(self, other: SendSummary) -> None:
        """Count ``other`` (a later run of the same job) in this one."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.dead += other.dead
        self.to_digest += other.to_digest
        self.taken_over += other.taken_over
        self.left += other.left
        self.deferred += other.deferred
        self.left_out += other.left_out
        self.paused += other.paused
        self.full = other.full

    def __str__(self) -> str:
        text = (
            f"{self.sent} sent, {self.retried} to retry, {self.failed} refused, "
            f"{self.dead} gave up, {self.to_digest} moved to the digest"
        )
        if self.taken_over:
            text += f", {self.taken_over} taken over by another sender or cancelled meanwhile"
        if self.left:
            text += f", {self.left} cancelled (the member left the server)"
        if self.deferred:
            text += f", {self.deferred} to the next digest (one had just gone out)"
        if self.left_out:
            text += f", {self.left_out} left out of digests (past their last message)"
        return text + (f"; paused: {', '.join(self.paused)}" if self.paused else "")

    @property
    def anything(self) -> bool:
        """Whether the run did anything worth logging."""
        return bool(
            self.sent
            or self.retried
            or self.failed
            or self.dead
            or self.to_digest
            or self.taken_over
            or self.left
            or self.deferred
            or self.left_out
        )
