"""Coverage-guided fuzzing of the article parser with atheris (optional; not part of the tests).

    pip install atheris
    python -m bench.fuzz.fuzz_article_file -atheris_runs=200000 [CORPUS_DIR ...]

Any exception other than ``ArticleFileError`` escaping ``parse_article`` is a crash, as is a
reason that shows the ``secured`` value or runs past 1,000 characters. Inputs are tried as they
are and inside front matter (and as the value of ``secured``). Seed it with ``examples/``.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from bot.articles.article_file import ArticleFileError, parse_article

MARKER = b"ATHERIS-SECURED-MARKER"


def _check(data: bytes) -> None:
    try:
        parse_article(data, source="fuzz.md")
    except ArticleFileError as error:
        text = str(error)
        if MARKER.decode() in text or len(text) >= 1000:
            raise AssertionError(f"bad reason: {text[:300]!r}") from None


def test_one_input(data: bytes) -> None:
    _check(data)
    _check(b"---\n" + data + b"\n---\n")
    _check(b"---\ntitle: t\nsecured: " + MARKER + data + b"\n---\n")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
