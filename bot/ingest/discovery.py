"""Finding article files: folders walked, suffixes checked, and a file's signature (size and
modification time) to spot one still being written."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.articles.article_file import ARTICLE_SUFFIXES
from bot.ingest.report import Rejection, Skipped

Signature = tuple[int, int]  # a file's size and modification time
# The inbox writes ``<name>.error.txt`` beside each file it refuses, in its rejected/ folder:
# .txt is an article suffix, but such a note is never read as an article (an operator who
# ingests the inbox folder itself would have each one refused).
REFUSAL_NOTE_SUFFIX = ".error.txt"
_REFUSAL_NOTE = "a note topicbot wrote beside a refused file (why it was refused), not an article"


def file_signature(path: Path) -> Signature | None:
    """Size and modification time, or None when the file is gone."""
    try:
        status = path.lstat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def is_article_path(path: Path) -> bool:
    """Whether the file name has one of the article suffixes."""
    return _is_article_name(path.name)


def _is_article_name(name: str) -> bool:
    # Path.suffix's rule, without a Path
    dot = name.rfind(".")
    return (
        0 < dot < len(name) - 1
        and name[dot:].lower() in ARTICLE_SUFFIXES
        and not _is_refusal_note(name)
    )


def _is_refusal_note(name: str) -> bool:
    return name.lower().endswith(REFUSAL_NOTE_SUFFIX) and len(name) > len(REFUSAL_NOTE_SUFFIX)


def iter_article_files(paths: Iterable[Path]) -> Iterator[Path | Rejection | Skipped]:
    """Folders expanded (recursively, hidden entries skipped) into article files, in order,
    as they are walked; a file of another suffix found in a folder comes as ``Skipped``
    (an operator who dropped ``story.json`` there learns why nothing happened). A file named
    explicitly with the wrong suffix comes as its rejection rather than being ignored."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for found in _walk(path):
                yield found if is_article_path(found) else Skipped(str(found), not_article(found))
        elif is_article_path(path):
            yield path
        else:
            yield Rejection(str(path), unsupported_suffix(path))


def collect_article_files(paths: Iterable[Path]) -> tuple[list[Path], list[Rejection]]:
    """``iter_article_files`` as lists: the article files, and the rejected ones (not those
    skipped)."""
    files: list[Path] = []
    rejected: list[Rejection] = []
    for found in iter_article_files(paths):
        if isinstance(found, Rejection):
            rejected.append(found)
        elif isinstance(found, Path):
            files.append(found)
    return files, rejected


def count_article_files(paths: Iterable[Path]) -> int:
    """How many article files ``iter_article_files`` finds, without making a path for each."""
    count = 0
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for root, dirs, names in os.walk(path, followlinks=False):
                dirs[:], links = split_linked_dirs(root, dirs)
                count += sum(
                    1 for n in (*names, *links) if not n.startswith(".") and _is_article_name(n)
                )
        elif is_article_path(path):
            count += 1
    return count


def unsupported_suffix(path: Path) -> str:
    return f"file: {not_article(path)}"


def not_article(path: Path) -> str:
    """Why a file is not read as an article."""
    if _is_refusal_note(path.name):
        return _REFUSAL_NOTE
    shown = path.suffix or "no suffix"
    return f"not an article file ({shown}); topicbot reads .md, .markdown and .txt"


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:], links = split_linked_dirs(root, dirs)
        for name in sorted([*names, *links]):
            if not name.startswith("."):
                yield Path(root, name)


def split_linked_dirs(root: str, dirs: list[str]) -> tuple[list[str], list[str]]:
    """Folders to descend into (not hidden, not links) and links to folders, which are not
    followed but are reported like any other file rather than skipped in silence."""
    real = sorted(d for d in dirs if not d.startswith(".") and not os.path.islink(Path(root, d)))
    links = [d for d in dirs if os.path.islink(Path(root, d))]
    return real, links
