"""What a YAML loader makes of a text, for comparing ours with ``yaml.load``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

STOCK = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def outcome(load: Callable[[str], Any], text: str) -> tuple[str, str]:
    """What a loader does with ``text``: its value (as repr, so NaN equals NaN) or its error."""
    try:
        return ("value", repr(load(text)))
    except RecursionError:
        return ("error", "RecursionError")
    except Exception as error:
        return ("error", f"{type(error).__name__}: {error}")


def stock_outcome(text: str) -> tuple[str, str]:
    """``outcome`` of ``yaml.load(text, Loader=CSafeLoader)``."""
    return outcome(lambda t: yaml.load(t, Loader=STOCK), text)


def walked(value: Any, depth: int = 1) -> tuple[int, int]:
    """(values, deepest level) as article_file's shape check walks them."""
    if isinstance(value, dict):
        counts = [walked(part, depth + 1) for pair in value.items() for part in pair]
    elif isinstance(value, list):
        counts = [walked(item, depth + 1) for item in value]
    else:
        return 1, depth
    return 1 + sum(c for c, _ in counts), max([depth, *(d for _, d in counts)])
