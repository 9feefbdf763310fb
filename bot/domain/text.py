"""Turning what members type into safe search terms and display strings."""

from __future__ import annotations

import html
import re
import unicodedata

MAX_TERMS = 8
MAX_TERM_LENGTH = 40
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(text: str, *, max_terms: int = MAX_TERMS) -> list[str]:
    """The words of ``text``, lower-cased, without operators or punctuation, bounded in number
    and length, so nothing a member types can act as query syntax."""
    terms: list[str] = []
    for match in _WORD.finditer(text[:2000]):
        # casefold makes Turkish İ an i and a combining dot, which PostgreSQL's words split at
        word = match.group(0).casefold().replace("i\u0307", "i")[:MAX_TERM_LENGTH]
        if word not in terms:
            terms.append(word)
        if len(terms) == max_terms:
            break
    return terms


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


# What Discord reads as markup within a line: a masked link's brackets, bold, italics,
# strikethrough, spoilers, code, and the "<" of <#channel>, <@&role> or <t:0:R>. A backslash
# before any of them shows it as typed (at a line's start "#", "-" and ">" also count, but a
# quote never starts one).
_MARKUP = re.compile(r"([\\*_~|`\[\]<])")


def shown(text: str, limit: int = 60) -> str:
    """A member's input, or a file's title, quoted back in a sentence: on one line, bounded,
    unable to mention anyone (a zero-width space after every @), and with its markup shown
    as typed, so a title's ``[Approve](https://evil.example)`` is no link in a reply."""
    return _MARKUP.sub(r"\\\1", one_line(text, limit)).replace("@", "@\u200b")


def one_line(text: str, limit: int = 60) -> str:
    """What was typed, on one line and bounded: as a terminal quotes it (``shown`` is for
    Discord)."""
    return clip(" ".join(text.split()), limit)


def shown_in_code(text: str, limit: int = 60) -> str:
    """What a member typed, quoted inside a code span (where markup shows as typed already):
    on one line, bounded, unable to mention anyone, and unable to end the span."""
    return one_line(text, limit).replace("@", "@\u200b").replace("`", "'")


# Shown as nothing: controls, format characters (zero-width, direction marks), separators,
# lone combining marks, and the blank letters some clients use to fake an empty name.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible(text: str) -> bool:
    """Whether ``text`` shows anything at all to a reader."""
    return any(
        unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _BLANK_LETTERS
        for char in text
    )


# Markup that feeds leave in titles and excerpts: tags (``<b>``, ``<br/>``, ``<a href=...>``),
# comments, and character references (``&amp;``, ``&#8217;``, ``&nbsp;``). Only what reads as
# a tag is taken out: ``a < b > c`` and Discord syntax such as ``<@123>`` or ``<t:0:R>`` stay.
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.DOTALL)
_LINE_BREAK_TAG = re.compile(r"<(?:br|/p|/div|/li|/h[1-6])\b[^<>]*>", re.IGNORECASE)
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BLANK_LINES = re.compile(r"\n{3,}")
# Taken out of what a reader sees: direction overrides and isolates (U+202A-U+202E,
# U+2066-U+2069), since an unclosed one turns around everything after it on the line (an
# outlet, a date, a link's address) while right-to-left text reads as written without them;
# and control characters other than line breaks and tabs (ESC, BEL, backspace, C1 codes),
# which mean nothing to a reader and, on an operator's terminal, can recolour or rewrite it.
_HIDDEN = dict.fromkeys(
    [*map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")]
    + [
        c
        for c in [*range(0x20), *range(0x7F, 0xA0)]
        if chr(c) not in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85"
    ]
)


def readable(text: str) -> str:
    """Text from an article file as a reader should see it: HTML tags taken out (a line break
    as a space), character references decoded (``AT&amp;T`` reads ``AT&T``, ``&nbsp;`` a
    space), direction overrides and control characters removed, each line trimmed."""
    if "<" in text:
        text = _TAG.sub("", _LINE_BREAK_TAG.sub(" ", text))
    if "&" in text:
        text = html.unescape(text)
        if _REFERENCE.search(text):  # encoded twice, as feeds often are: ``&amp;#8217;``
            text = html.unescape(text)
    text = text.replace("\xa0", " ").translate(_HIDDEN)
    # a line's leading blanks would otherwise be dropped after markdown is escaped, leaving
    # ``# heading`` or ``> quote`` at the start of a line
    lines = text.splitlines()
    if len(lines) < 2:
        return text.strip()
    # one blank line at most between paragraphs: a file's hundred empty lines are not a card
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in lines)).strip()


UNTITLED = "(untitled)"


def headline(title: str) -> str:
    """A title to show: as written on one line (a line break would split a list's item or
    its link), or ``(untitled)`` when it reads as nothing (``<br/>``, ``&nbsp;`` or a
    zero-width space alone would leave a card without a title and a link without text)."""
    return " ".join(title.split()) if has_visible(readable(title)) else UNTITLED


def shown_title(title: str, limit: int = 60) -> str:
    """An article's title quoted in a reply's sentence: read as it reads in every card and
    list (a feed's ``&amp;`` and ``<b>`` as text, ``(untitled)`` for one that shows nothing),
    its markup shown as typed."""
    return shown(readable(headline(title)), limit)
