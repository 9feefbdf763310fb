"""What an ingest run did: its counts, the files it refused and why, and their warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Rejection:
    """A file that was not stored, and why."""

    path: str
    error: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file found in a folder that is not an article file (by its suffix), and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class FileWarning:
    """Something a stored file held that was skipped or degraded (an image, a related
    entry), and why."""

    path: str
    warning: str


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did, counted per file."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    stored_paths: list[Path] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)  # of stored files only
    skipped: list[Skipped] = field(default_factory=list)  # found in folders, not articles

    @property
    def files(self) -> int:
        """How many files the run read (not those skipped as no articles)."""
        return self.new + self.updated + self.unchanged + len(self.rejected)

    def to_json(self) -> dict[str, Any]:
        """The shape ``topicbot ingest --json`` prints."""
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"path": r.path, "error": r.error} for r in self.rejected],
            "warnings": [{"path": w.path, "warning": w.warning} for w in self.warnings],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }

    def count(
        self,
        outcome: str,
        path: Path,
        warnings: Sequence[str] = (),
        *,
        keep_path: bool = True,
    ) -> None:
        """Record one stored file's outcome, what it held that was skipped or degraded, and
        its path when asked to keep it (the inbox moves them)."""
        setattr(self, outcome, getattr(self, outcome) + 1)
        if keep_path:
            self.stored_paths.append(path)
        self.warnings.extend(FileWarning(str(path), warning) for warning in warnings)

    def warnings_by_file(self) -> dict[str, list[str]]:
        """The warnings, by file, in order."""
        by_file: dict[str, list[str]] = {}
        for warning in self.warnings:
            by_file.setdefault(warning.path, []).append(warning.warning)
        return by_file
