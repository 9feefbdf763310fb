"""Typed words as a PostgreSQL text-search query that reads nothing in them as query syntax
(as ``storage.sql.fts_match`` does for FTS5)."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Letters and digits only: none of tsquery's operators (& | ! ( ) : * ' < > \\) is one.
_WORD = re.compile(r"[^\W_]+")


def words_query(terms: Sequence[str], *, prefix_last: bool = False) -> str:
    """Text for ``to_tsquery('topicbot_text', ...)`` requiring every word of ``terms``, the
    last one as a prefix when asked (autocomplete); "" when no word is left."""
    words = [word for term in terms for word in _WORD.findall(term)]
    if words and prefix_last:
        words[-1] += ":*"
    return " & ".join(words)
