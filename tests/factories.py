"""Builders for article files used across the tests (our own examples, not the shared sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SAMPLE_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "samples" / "000_df9f5cf7b7883256.txt"
)
EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


def article_fields(**overrides: Any) -> dict[str, Any]:
    """A complete, valid article in the sample's shape; keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "category": "news",
        "title": "Harbour City Trials Driverless Ferries",
        "excerpt": "Two electric ferries will run without a captain on board for six months.",
        "publishedDateTime": "2026-11-01T08:30:00Z",
        "originalUrl": "https://harbour-times.example/transport/driverless-ferries?utm_source=x",
        "webUrl": "https://harbour-times.example/transport/driverless-ferries",
        "type": "article",
        "quality": 64,
        "heat": 12,
        "published": False,
        "provider": {"name": "Harbour Times", "domain": "harbour-times.example"},
        "topics": ["Autonomous Vehicles", "Transport"],
        "images": [
            {
                "url": "https://harbour-times.example/img/ferry.jpg",
                "width": 1200,
                "height": 800,
                "isCached": True,
            }
        ],
        "related": [
            {
                "title": "Captain-free ferries set sail in Harbour City",
                "excerpt": "The pilot will be watched closely by other ports.",
                "publishedDateTime": "2026-11-01T12:00:00Z",
                "webUrl": "https://coastwire.example/2026/11/01/captain-free-ferries",
                "type": "article",
                "provider": {"name": "Coast Wire", "domain": "coastwire.example"},
                "quality": 41,
                "images": [
                    {
                        "url": "https://coastwire.example/ferry.png",
                        "width": 640,
                        "height": 360,
                        "isCached": False,
                    }
                ],
            }
        ],
        "secured": "b3BhcXVlLXNlY3JldC12YWx1ZQ==;dGVzdA==",
    }
    fields.update(overrides)
    return {key: value for key, value in fields.items() if value is not ...}


def article_text(body: str = "", **overrides: Any) -> str:
    """The text of an article file; pass ``field=...`` (Ellipsis) to leave a field out."""
    front = yaml.safe_dump(article_fields(**overrides), sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n{body}"


def write_article(folder: Path, name: str, body: str = "", **overrides: Any) -> Path:
    """Write an article file and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(article_text(body, **overrides), encoding="utf-8")
    return path
