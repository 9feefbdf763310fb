"""Loading front matter: PyYAML's safe loader, with a leaner way from nodes to values.

Most exports are plain block YAML, which ``simple_yaml`` reads line by line without libyaml;
the rest comes here.

``yaml.load(text, Loader=CSafeLoader)`` parses in C (libyaml) but resolves every plain
scalar's type and builds every value in Python, through machinery made for any YAML: about
half of its time on an article file. Here libyaml still parses and composes, plain scalars
are typed through a cache of the values seen before (keys such as ``title`` repeat in every
file), and the common node kinds (strings, numbers, booleans, null, timestamps, mappings,
lists) become values by a direct walk that calls PyYAML's own constructors for every
non-string scalar. Anything rarer - merge keys (``<<``), ``!!binary``, ``!!set``, unknown
tags, unhashable keys - goes to the stock loader with the same text, so the result (or the
error) is always exactly what ``yaml.load`` gives; a property test holds the two equal.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.articles import simple_yaml
from bot.articles.simple_yaml import (
    CACHE_LIMIT,
    CACHED_VALUE_LENGTH,
    INT_TAG,
    PLAIN_DECIMAL,
    SCALAR_TAGS,
    STR_TAG,
)

_STOCK_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Unusual(Exception):
    """The document needs the stock loader."""


class _CachingLoader(_STOCK_LOADER):  # type: ignore[valid-type,misc]
    """The stock loader whose plain-scalar typing remembers short values it has typed."""

    _tags: dict[str, str] = {}  # noqa: RUF012 - shared by design, across files

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        if not implicit[0]:
            return self.DEFAULT_SCALAR_TAG  # quoted (or '!'): a string, as in BaseResolver
        tag = self._tags.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(value) <= CACHED_VALUE_LENGTH and len(self._tags) < CACHE_LIMIT:
                self._tags[value] = tag
        return tag

    # SafeLoader defines no path resolvers, so there is nothing to track per node.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


class _Builder:
    """Values from composed nodes; raises ``_Unusual`` for what it leaves to the stock loader.

    It also counts the values it builds and the deepest level it reaches (the document's
    mapping is level 1), as ``article_file``'s shape check would count them - exactly so while
    no alias repeats a collection, which ``aliased`` reports."""

    def __init__(self, loader: _CachingLoader) -> None:
        self._loader = loader
        self._built: dict[int, Any] = {}  # aliased collections stay shared, as in PyYAML
        self.values = 0
        self.depth = 0
        self.aliased = False

    def build(self, node: Node, depth: int = 1) -> Any:
        self.values += 1
        if depth > self.depth:
            self.depth = depth
        tag = node.tag
        kind = type(node)
        if kind is ScalarNode:
            if tag == STR_TAG:
                return node.value
            if tag == INT_TAG and PLAIN_DECIMAL.fullmatch(node.value):
                return int(node.value)
            if tag in SCALAR_TAGS:
                return self._loader.yaml_constructors[tag](self._loader, node)
        elif tag == _MAP and isinstance(node, MappingNode):
            return self._mapping(node, depth)
        elif tag == _SEQ and isinstance(node, SequenceNode):
            return self._sequence(node, depth)
        raise _Unusual

    def _mapping(self, node: MappingNode, depth: int) -> dict[Any, Any]:
        known = self._built.get(id(node))
        if known is not None:
            self.aliased = True
            return known  # type: ignore[no-any-return]
        mapping: dict[Any, Any] = {}
        self._built[id(node)] = mapping
        build = self.build
        inner = depth + 1
        for key_node, value_node in node.value:
            if key_node.tag == STR_TAG and type(key_node) is ScalarNode:
                key = key_node.value  # nearly every key
                self.values += 1
                if inner > self.depth:
                    self.depth = inner
            else:
                key = build(key_node, inner)
                if isinstance(key, list | dict):
                    raise _Unusual  # the stock loader says "found unhashable key"
            mapping[key] = build(value_node, inner)
        return mapping

    def _sequence(self, node: SequenceNode, depth: int) -> list[Any]:
        known = self._built.get(id(node))
        if known is not None:
            self.aliased = True
            return known  # type: ignore[no-any-return]
        items: list[Any] = []
        self._built[id(node)] = items
        inner = depth + 1
        items.extend(self.build(item, inner) for item in node.value)
        return items


class Loaded(NamedTuple):
    """A loaded document, and what a shape check needs to know of it."""

    value: Any
    values: int  # how many values (keys included) it holds
    depth: int  # its deepest level, the document being level 1
    counted: bool  # False: the counts are not exact (an alias repeats a collection, or the
    # stock loader built it), so walk the value to check its shape
    clean: bool = False  # True: no string in it can hold a NUL or a lone surrogate (YAML
    # writes those only as escapes, and the text had none that could)


def load(text: str) -> Any:
    """What ``yaml.load(text, Loader=CSafeLoader)`` returns (or raises) for one document."""
    return load_counted(text).value


def load_counted(text: str) -> Loaded:
    """``load``, with the value's size and depth counted as it is built."""
    try:
        simple = simple_yaml.read(text)
    except simple_yaml.NotSimple:
        return load_composed(text)
    return Loaded(simple.value, simple.values, simple.depth, counted=True, clean=True)


def load_composed(text: str) -> Loaded:
    """``load_counted`` through libyaml's parser, for any YAML."""
    loader = _CachingLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Loaded(None, 0, 0, counted=False)
        builder = _Builder(loader)
        value = builder.build(node)
        clean = "\\" not in text
        return Loaded(value, builder.values, builder.depth, not builder.aliased, clean)
    except _Unusual:
        pass
    finally:
        loader.dispose()
    stock = yaml.load(text, Loader=_STOCK_LOADER)  # noqa: S506 - a safe loader
    return Loaded(stock, 0, 0, counted=False)


class _DatesAsWrittenLoader(_STOCK_LOADER):  # type: ignore[valid-type,misc]
    """The stock loader, but a plain scalar shaped like a timestamp that names no moment
    (``2026-02-30``, ``2026-01-01T25:00``) stays the text written, where ``yaml.load``
    raises ValueError: the file's validation then names the field."""

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_DatesAsWrittenLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", _DatesAsWrittenLoader.construct_yaml_timestamp
)


def load_dates_as_written(text: str) -> Loaded:
    """``load_counted`` for a document that ``yaml.load`` cannot load because a timestamp
    names no moment: such timestamps are left as strings (``_DatesAsWrittenLoader``)."""
    value = yaml.load(text, Loader=_DatesAsWrittenLoader)  # noqa: S506 - a safe loader
    return Loaded(value, 0, 0, counted=False)
