"""Numbers as the file wrote them. YAML 1.1 (PyYAML's) reads a plain `070` as the octal number
56, `1:10` as the base-60 number 70, `0x1F` as 31, `0b101` as 5 and `.inf` or `.nan` as no
number at all, where a newsroom meant something else or nothing it could name.

One rule for every number and date field of an article and of its entries: a number is taken
as written in decimal (`12`, `+12`, `-1`, `1_000`, `07`, `12.0`); anything YAML reads
otherwise is refused saying what to write (``Misread``), which costs the file for the
article's own fields and the field or the entry for an image or a related entry, as any
other bad value does there."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

FieldPath = tuple[str | int, ...]

# The fields the rule covers, where a file puts them (the yes/no ones too: `published: 1:10`
# is told what YAML read, not only that 70 is no yes/no value).
_ARTICLE_FIELDS = frozenset({"quality", "heat", "publishedDateTime", "published"})
_RELATED_FIELDS = frozenset({"quality", "publishedDateTime"})
_IMAGE_FIELDS = frozenset({"width", "height", "isCached"})
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", _FLOAT_TAG})
_STR_TAG = "tag:yaml.org,2002:str"
_COMPOSER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A value YAML may read as another number than its decimal digits say, or none: leading
# zeros, 0x/0o/0b, colons, .inf/.nan, underscores. Only a file holding one is composed again
# to find where, and whether it is a number field's. A value follows a colon and a space or a
# line break (the value on the next line), or a JSON-style key's colon with no space
# (`{"quality":070}`), maybe after an anchor or a tag (`&q 070`); a date's time, `T16:05`,
# has no space, and one written apart, `2026-11-20 16:05`, is a timestamp node, left alone.
# A literal first character, possessive repeats and the cases spelled out keep this quick,
# for it runs on every file (about 10 us on the sample, as when it looked after ': ' only;
# field names first, or re.IGNORECASE, 60). A comment between the colon and a value on the
# next line is looked for only in a file with a '#'.
_VALUE = (
    r"(?:[&!]\S*+\s++)?"  # an anchor or a tag
    r"[-+]?(?:0[0-7_]|0[xobXOB]|[0-9][0-9_]*[:_]|\.(?:inf|nan|Inf|NaN|INF|NAN))"
)
_SUSPECT = re.compile(r":(?:(?<=[\"']:)[ \t]*+|\s++)" + _VALUE)
_SUSPECT_AFTER_COMMENT = re.compile(r":[ \t]+#[^\n]*\n\s+" + _VALUE)
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")  # read alike by YAML and in decimal
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_RESOLVER = yaml.resolver.Resolver()
_DECIMAL_INT = re.compile(r"[-+]?[0-9]+")
_DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_OCTAL_12 = re.compile(r"[-+]?0o[0-7_]+", re.IGNORECASE)  # YAML 1.2's octal; text to 1.1


@dataclass(frozen=True, slots=True)
class Misread:
    """A value written as a number that YAML reads as another number, or as none."""

    written: str
    read: Any  # YAML's reading

    @property
    def reading(self) -> str:
        """What YAML read, in words: 'the octal number 56'."""
        text = self.written.lower().lstrip("+-")
        if isinstance(self.read, str):
            return "text, not a number (YAML 1.1, which topicbot reads, has no 0o octal)"
        if isinstance(self.read, float) and math.isnan(self.read):
            return "not-a-number (.nan)"
        if isinstance(self.read, float) and math.isinf(self.read):
            return "infinity"
        for prefix, kind in (("0x", "hexadecimal "), ("0b", "binary ")):
            if text.startswith(prefix):
                return f"the {kind}number {self.read}"
        if ":" in text:
            return f"the base-60 number {self.read}"
        if _OCTAL.fullmatch(self.written):
            return f"the octal number {self.read}"
        return f"the number {self.read}"

    @property
    def advice(self) -> str:
        """What to write instead."""
        if _OCTAL.fullmatch(self.written):
            return f"write {_digits(self.written)}, without the leading zero"
        if _OCTAL_12.fullmatch(self.written):
            return f"write {int(self.written.replace('_', ''), 0)}"
        if isinstance(self.read, int) and ":" not in self.written:
            return f"write {self.read}"  # 0x1F, 0b101: the number is clear, its notation not
        return "write the number meant in plain digits"

    def problem(self) -> str:
        return f"{self.written} is read by YAML as {self.reading}: {self.advice}"


def text_problem(text: str) -> str:
    """Why text (a quoted value, or a word) in a number field is refused, and what to write:
    the rule for a plain value, applied to what is inside the quotes."""
    written = text.strip()
    tag = _RESOLVER.resolve(ScalarNode, written, (True, False))  # type: ignore[no-untyped-call]
    read: Any = written
    if tag in _NUMBER_TAGS:
        node = ScalarNode(tag, written)
        construct = (
            _CONSTRUCTOR.construct_yaml_float
            if tag == _FLOAT_TAG
            else _CONSTRUCTOR.construct_yaml_int
        )
        read = construct(node)
    return f"{_shown(written)} is not a number written in decimal: {Misread(written, read).advice}"


def _shown(text: str, limit: int = 60) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def decimal_text(text: str) -> int | float | None:
    """The number a text in a number field says in decimal (`"29"`, `" 1_000 "`), or None."""
    return _decimal(text.strip())


def _digits(written: str) -> str:
    sign = "-" if written.startswith("-") else ""
    return sign + str(int(written.lstrip("+-").replace("_", ""), 10))


def _decimal(written: str) -> int | float | None:
    """What ``written`` says in decimal (underscores as separators), or None."""
    text = written.replace("_", "")
    if _DECIMAL_INT.fullmatch(text):
        return int(text, 10)
    if _DECIMAL_FLOAT.fullmatch(text):
        return float(text)
    return None


def misread_numbers(front_matter: str) -> dict[FieldPath, Misread]:
    """Each number or date field of the article and its entries whose plain value YAML reads
    otherwise than its decimal digits say, by its path in the loaded mapping
    (``("related", 2, "quality")``)."""
    if not _may_hold_misread(front_matter):
        return {}
    try:
        root = yaml.compose(front_matter, Loader=_COMPOSER)
    except yaml.YAMLError:
        return {}  # loaded already; nothing to add to what the loader said
    found: dict[FieldPath, Misread] = {}
    for name, value in _fields(root):
        _drop_under(found, (name,))  # a field written twice: YAML keeps the last
        if name in _ARTICLE_FIELDS:
            _check(value, (name,), found)
        elif name == "images":
            _check_images(value, ("images",), found)
        elif name == "related":
            for index, entry in _items(value):
                for field, item in _fields(entry):
                    if field in _RELATED_FIELDS:
                        _check(item, ("related", index, field), found)
                    elif field == "images":
                        _check_images(item, ("related", index, "images"), found)
    return found


def _may_hold_misread(front_matter: str) -> bool:
    return bool(
        _SUSPECT.search(front_matter)
        or ("#" in front_matter and _SUSPECT_AFTER_COMMENT.search(front_matter))
    )


def _drop_under(found: dict[FieldPath, Misread], prefix: FieldPath) -> None:
    for path in [p for p in found if p[: len(prefix)] == prefix]:
        del found[path]


def _fields(node: Node | None) -> list[tuple[str, Node]]:
    if not isinstance(node, MappingNode):
        return []
    return [(k.value, v) for k, v in node.value if isinstance(k, ScalarNode)]


def _items(node: Node) -> list[tuple[int, Node]]:
    return list(enumerate(node.value)) if isinstance(node, SequenceNode) else []


def _check_images(node: Node, within: FieldPath, found: dict[FieldPath, Misread]) -> None:
    for index, image in _items(node):
        for field, value in _fields(image):
            if field in _IMAGE_FIELDS:
                _check(value, (*within, index, field), found)


def _check(node: Node, path: FieldPath, found: dict[FieldPath, Misread]) -> None:
    if not isinstance(node, ScalarNode) or node.style:  # None or "": plain
        return  # quoted: text, which the field's own rule reads
    written = node.value.strip()
    if node.tag == _STR_TAG and _OCTAL_12.fullmatch(written):
        found[path] = Misread(written, written)
        return
    if node.tag not in _NUMBER_TAGS or _PLAIN_INT.fullmatch(written):
        return
    if node.tag == _FLOAT_TAG:
        read = _CONSTRUCTOR.construct_yaml_float(node)
    else:
        read = _CONSTRUCTOR.construct_yaml_int(node)
    decimal = _decimal(written)
    if decimal is None or decimal != read:  # nan != nan: refused too
        found[path] = Misread(written, read)


def mark_misread(fields: dict[str, Any], misread: dict[FieldPath, Misread]) -> None:
    """Put each ``Misread`` where its value is, so the field's validator refuses it."""
    for path, wrong in misread.items():
        holder: Any = fields
        for step in path[:-1]:
            try:
                holder = holder[step]
            except (KeyError, IndexError, TypeError):
                holder = None
                break
        last = path[-1]
        if isinstance(holder, dict) and last in holder:
            holder[last] = wrong


def written_scalar(front_matter: str, path: tuple[int | str, ...]) -> str | None:
    """The text of the plain value at ``path`` (keys and list indices) as the file wrote it,
    or None (not found, not plain, or not composed). For a message only: it composes again."""
    try:
        node: Node | None = yaml.compose(front_matter, Loader=_COMPOSER)
    except yaml.YAMLError:
        return None
    for step in path:
        if isinstance(step, int):
            items = _items(node) if node is not None else []
            node = items[step][1] if 0 <= step < len(items) else None
        else:
            node = next((v for k, v in reversed(_fields(node)) if k == step), None)
    if not isinstance(node, ScalarNode) or node.style:
        return None
    return str(node.value)
