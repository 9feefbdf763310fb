"""The plain block YAML that article exports are written in, read line by line.

Exported front matter is nearly always the same few forms: ``key: value`` lines, nested
mappings and ``- item`` lists by indentation, plain or quoted one-line scalars. For that
subset, reading the lines directly is about twice as fast as libyaml's parse plus PyYAML's
nodes. Everything else - flow collections, block scalars, anchors, tags, comments, escapes,
multi-line scalars, tabs, odd keys or indentation - is refused with ``NotSimple`` and the
caller loads the text the stock way, so the result is always what ``yaml.load`` gives (a
property test holds the two equal). Plain scalars are typed by PyYAML's own resolver and
constructors.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

# Shared with front_matter's libyaml path, which types scalars the same way.
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
# Scalars typed by PyYAML's stock constructors.
SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")
)
# What the stock int constructor would read as plain base 10 (no 0-prefixed octal, no
# underscores, no sexagesimal 1:30).
PLAIN_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# Typing caches keep values this short, this many of them.
CACHED_VALUE_LENGTH = 40
CACHE_LIMIT = 50_000
# Characters that make libyaml read a document in ways this module does not: tabs, line
# breaks other than LF (YAML 1.1 also breaks at NEL, LS and PS), a byte-order mark, and
# what YAML refuses as non-printable.
_NOT_SIMPLE_TEXT = re.compile(
    "[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
# A plain scalar may not start with these (a '-' before a digit or '.' is a number).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_NUMBER_STARTS = frozenset("0123456789.")
# The escapes of double-quoted strings seen in exports; the others go the stock way.
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "n": "\n", "t": "\t"}


class NotSimple(Exception):
    """The text is outside the subset; load it the stock way."""


class Counted(NamedTuple):
    """A document read, with how many values it holds and its deepest level."""

    value: dict[str, Any]
    values: int
    depth: int


_resolver = Resolver()
_constructor = SafeConstructor()
# Short plain scalars, typed: keys and values such as 'article' or '-1' repeat in every file.
_known: dict[str, Any] = {}
_string_keys: set[str] = set()


def _scalar(text: str) -> Any:
    """The value of a one-line scalar (already stripped of the spaces around it)."""
    first = text[0]
    if first == '"':
        return _double_quoted(text)
    if first == "'":
        return _single_quoted(text)
    try:
        return _known[text]
    except KeyError:
        value = _plain(text)
    if len(text) <= CACHED_VALUE_LENGTH and len(_known) < CACHE_LIMIT:
        _known[text] = value  # every type _plain returns is immutable
    return value


def _plain(text: str) -> Any:
    first = text[0]
    if first in _INDICATORS and not (first == "-" and text[1:2] in _NUMBER_STARTS):
        raise NotSimple
    if ": " in text or " #" in text or text[-1] == ":":
        raise NotSimple
    tag = _implicit_tag(text)
    if tag == STR_TAG:
        return text
    if tag == INT_TAG and PLAIN_DECIMAL.fullmatch(text):
        return int(text)
    if tag not in SCALAR_TAGS:
        raise NotSimple
    try:
        return _constructor.yaml_constructors[tag](_constructor, ScalarNode(tag, text))
    except Exception:
        # The stock loader parses the whole document before it builds any value, so a
        # syntax error further down would come first: let it decide.
        raise NotSimple from None


def _implicit_tag(plain: str) -> str:
    """The type PyYAML's resolver gives a plain scalar."""
    tag: str = _resolver.resolve(ScalarNode, plain, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _is_string_key(key: str) -> bool:
    if key in _string_keys:
        return True
    if _implicit_tag(key) != STR_TAG:
        return False  # 'on', 'null' and such are not strings
    if len(_string_keys) < CACHE_LIMIT:
        _string_keys.add(key)
    return True


def _double_quoted(text: str) -> str:
    inner = text[1:-1]
    if len(text) < 2 or text[-1] != '"':
        raise NotSimple
    if "\\" not in inner:
        if '"' in inner:
            raise NotSimple
        return inner
    unescaped_rest = _ESCAPE.sub("", inner)
    if '"' in unescaped_rest or "\\" in unescaped_rest:
        raise NotSimple  # a quote that ends the string early, or a lone backslash
    return _ESCAPE.sub(_unescaped, inner)


def _unescaped(escape: re.Match[str]) -> str:
    try:
        return _ESCAPES[escape.group(1)]
    except KeyError:
        raise NotSimple from None  # \x, \u and the rarer escapes: the stock way


def _single_quoted(text: str) -> str:
    inner = text[1:-1]
    if len(text) < 2 or text[-1] != "'":
        raise NotSimple
    if "'" not in inner:
        return inner
    if "'" in inner.replace("''", ""):
        raise NotSimple
    return inner.replace("''", "'")


# One line: its indent, a list item's '- ', a simple key and its colon, the value. (libyaml
# takes keys of up to 1024 characters; these are short ones.)
_LINE = re.compile(
    r"^( *)(- +)?(?:([A-Za-z_][A-Za-z0-9_-]{0,99}):(?: +|$))?((?:.*[^ \n])?) *$", re.MULTILINE
)


class _Frame(NamedTuple):
    indent: int  # the column its keys or '- ' marks start at
    container: Any  # dict or list
    is_mapping: bool
    depth: int  # the document's mapping is 1


def read(text: str) -> Counted:
    """The mapping ``text`` holds, if it is written in the simple subset; else NotSimple."""
    if _NOT_SIMPLE_TEXT.search(text) is not None:
        raise NotSimple
    root: dict[str, Any] = {}
    stack = [_Frame(0, root, True, 1)]
    values = depth_reached = 1
    waiting: tuple[dict[str, Any], str, int, int] | None = None  # a key with nothing after ':'
    for spaces, dash, key, value in _LINE.findall(text):
        if not (dash or key or value):
            continue  # a blank line
        indent = len(spaces)
        if waiting is not None:
            stack = _open_block(stack, waiting, indent, bool(dash))
            waiting = None
        frame = stack[-1]
        # a line ends the blocks indented deeper; a key also ends a list beside its key
        while indent < frame.indent or (
            indent == frame.indent and not dash and not frame.is_mapping
        ):
            stack.pop()
            if not stack:
                raise NotSimple
            frame = stack[-1]
        if indent != frame.indent or frame.is_mapping == bool(dash):
            raise NotSimple  # indented where no block is, or an item among keys (or back)
        mapping = frame.container
        depth = frame.depth + 1
        if dash:
            values += 1
            if not key:
                if not value:
                    raise NotSimple  # an empty item, or one whose value is on the next lines
                frame.container.append(_scalar(value))
                if depth > depth_reached:
                    depth_reached = depth
                continue
            mapping = {}  # an item that is a mapping: its first key is on the item's line
            frame.container.append(mapping)
            frame = _Frame(indent + len(dash), mapping, True, depth)
            stack.append(frame)
            depth += 1
        if not key or not _is_string_key(key):
            raise NotSimple  # a line with no key, or one such as 'on:' that is no string
        values += 2
        if depth > depth_reached:
            depth_reached = depth
        if value:
            mapping[key] = _scalar(value)
        else:
            waiting = (mapping, key, frame.indent, depth)
    if waiting is not None:
        waiting[0][waiting[1]] = None
    if not root:
        raise NotSimple  # an empty document: None, the stock way
    return Counted(root, values, depth_reached)


def _open_block(
    stack: list[_Frame], waiting: tuple[dict[str, Any], str, int, int], indent: int, item: bool
) -> list[_Frame]:
    """The value of a key left waiting, now that the next line says what it is."""
    mapping, key, key_indent, depth = waiting
    if indent > key_indent or (indent == key_indent and item):
        block: list[Any] | dict[str, Any] = [] if item else {}
        mapping[key] = block
        stack.append(_Frame(indent, block, not item, depth))
    else:
        mapping[key] = None
    return stack
