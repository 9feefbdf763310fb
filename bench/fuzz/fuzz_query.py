"""Coverage-guided fuzzing of the search query builder with atheris (optional).

    pip install atheris
    python -m bench.fuzz.fuzz_query -atheris_runs=50000

Each input, read as text, goes through ``query_terms`` and every store search that member
text reaches (``articles.search``, title autocomplete, ``related.term_counts`` and the
``/related query`` engine) against a real SQLite FTS5 store holding ``examples/``. An
``sqlite3.Error`` (or anything but the ``UserError`` for an empty query) is a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from bot.domain.errors import UserError
    from bot.domain.related import RelatedService
    from bot.domain.text import query_terms
    from bot.ingest.writer import ingest_paths
    from storage import Store
    from storage.related import SearchTerm
    from storage.sql import fts_match

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


async def _open(folder: Path) -> Store:
    store = await Store.open(folder / "fuzz.db")
    await ingest_paths(store, [EXAMPLES])
    return store


async def _search(store: Store, text: str, raw: list[str]) -> None:
    words = query_terms(text)
    await store.articles.search(words)
    await store.articles.search(raw, any_term=True)
    await store.publication.suggest(0, words, "any")
    await store.related.term_counts(
        [SearchTerm(w, (w, *raw[:2]), 1.0) for w in words], 0, 10**9, cap=100
    )
    fts_match(raw, prefix_last=True)
    with contextlib.suppress(UserError):
        await RelatedService(store).for_query(0, text)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="topicbot-fuzz-"))
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(_open(folder))

    def test_one_input(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        text = provider.ConsumeUnicodeNoSurrogates(300)
        count = provider.ConsumeIntInRange(0, 5)
        raw = [provider.ConsumeUnicodeNoSurrogates(30) for _ in range(count)]
        loop.run_until_complete(_search(store, text, raw))

    atheris.Setup(sys.argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        loop.run_until_complete(store.close())
        loop.close()


if __name__ == "__main__":
    main()
