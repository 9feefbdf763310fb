"""Filler for the written evaluation set: everyday news that is about none of its events.

The pieces (filler_pieces.yaml) are hand-written headline/excerpt pairs, one list per domain,
with slots for places, organisations, people and numbers. `filler_articles` fills them from
pools of invented names that appear nowhere in the labelled set (`name_clashes` checks that),
so a filler article can share an event's topics, outlets, dates and everyday words, but never
its story.

About 30 % of the filler is placed within three days of an event, drawn from the event's domain
and tagged with some of its topics; the rest is spread over the whole period. The same seed
always gives the same articles.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

Piece = tuple[str, str, tuple[str, ...]]
Used = dict[tuple[str, int], list[datetime]]  # (domain, piece index) -> when it was used

PIECES_FILE = Path(__file__).resolve().parent / "filler_pieces.yaml"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


def _load() -> tuple[dict[str, list[Piece]], dict[str, tuple[str, ...]]]:
    raw = load_yaml(PIECES_FILE.read_text(encoding="utf-8"))
    pieces = {
        domain: [(p["title"], p["excerpt"], tuple(p["topics"])) for p in items]
        for domain, items in raw["pieces"].items()
    }
    names = {slot: tuple(values) for slot, values in raw["names"].items()}
    return pieces, names


PIECES, NAMES = _load()

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

OUTLETS: dict[str, tuple[tuple[str, str], ...]] = {
    "general": (
        ("Globe Wire", "globewire.example"),
        ("Meridian Times", "meridiantimes.example"),
        ("The Northgate Herald", "northgateherald.example"),
        ("The Daily Current", "dailycurrent.example"),
        ("Coastal Chronicle", "coastalchronicle.example"),
        ("Upland Observer", "uplandobserver.example"),
    ),
    "sci": (
        ("Science Dispatch", "sciencedispatch.example"),
        ("Lab & Field", "labandfield.example"),
    ),
    "tech": (
        ("TechPulse", "techpulse.example"),
        ("ByteWire", "bytewire.example"),
        ("The Circuit", "thecircuit.example"),
    ),
    "biz": (("Market Ledger", "marketledger.example"), ("Finance Daily", "financedaily.example")),
    "sport": (
        ("Sports Central", "sportscentral.example"),
        ("The Pitch Report", "pitchreport.example"),
    ),
    "pol": (("Capital Dispatch", "capitaldispatch.example"), ("StateWire", "statewire.example")),
    "health": (("Health Beat", "healthbeat.example"), ("Clinic Today", "clinictoday.example")),
    "clim": (("Climate Desk", "climatedesk.example"), ("Green Ledger", "greenledger.example")),
    "court": (
        ("Courtroom Journal", "courtroomjournal.example"),
        ("Docket Daily", "docketdaily.example"),
    ),
    "cult": (("Arts Review", "artsreview.example"), ("The Culture Page", "culturepage.example")),
    "local": (
        ("Valley Post", "valleypost.example"),
        ("Lakeshore Courier", "lakeshorecourier.example"),
        ("Riverbend Times", "riverbendtimes.example"),
        ("County Echo", "countyecho.example"),
    ),
    "trans": (("Rail & Road", "railandroad.example"), ("Aviation Brief", "aviationbrief.example")),
}

PERIOD_START = datetime(2026, 8, 3, tzinfo=UTC)
PERIOD_END = datetime(2026, 11, 12, tzinfo=UTC)
NEAR_EVENT_SHARE = 0.30
NEAR_EVENT_HOURS = 72
SAME_PIECE_GAP = timedelta(days=7)


@dataclass(frozen=True)
class EventAnchor:
    """What filler needs to know of an event: its domain, when it broke, its topics."""

    event_id: str
    domain: str
    first_published: datetime
    topics: tuple[str, ...]


def domain_of(event_id: str) -> str:
    """The filler domain an event's id names by its prefix (``biz-71``: business), whose
    filler sits near it in time; an unknown prefix is a set's mistake, said as such."""
    domain = event_id.split("-", 1)[0]
    if domain not in PIECES:
        known = ", ".join(f"{d}-" for d in sorted(PIECES))
        raise ValueError(f"event id {event_id!r}: its prefix must name a filler domain ({known})")
    return domain


def _slot_values(rng: random.Random) -> dict[str, str]:
    values = {name: rng.choice(pool) for name, pool in NAMES.items()}
    values["place2"] = rng.choice([p for p in NAMES["place"] if p != values["place"]])
    values["co2"] = rng.choice([c for c in NAMES["co"] if c != values["co"]])
    values["tech2"] = rng.choice([t for t in NAMES["tech"] if t != values["tech"]])
    values["team2"] = rng.choice([t for t in NAMES["team"] if t != values["team"]])
    values["weekday"] = rng.choice(WEEKDAYS)
    values["small"] = str(rng.randint(2, 9))
    values["n2"] = str(rng.randint(11, 95))
    values["n3"] = str(rng.randint(110, 950))
    values["n4"] = f"{rng.randint(1100, 9800):,}"
    values["pct"] = str(rng.randint(3, 42))
    values["m"] = str(rng.randint(12, 880))
    values["rate"] = f"{rng.randint(2, 6)}.{rng.randint(1, 9)}"
    values["s1"], values["s2"] = str(rng.randint(2, 4)), str(rng.randint(0, 1))
    values["age"] = str(rng.randint(71, 96))
    values["age2"] = str(rng.randint(29, 36))
    values["hot"] = str(rng.randint(36, 43))
    return values


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words[:9])


def _outlet(rng: random.Random, domain: str) -> tuple[str, str]:
    pool = OUTLETS[domain] if rng.random() < 0.7 else OUTLETS["general"]
    return rng.choice(pool)


def _free_pieces(domain: str, when: datetime, used: Used) -> list[int]:
    return [
        index
        for index in range(len(PIECES[domain]))
        if all(abs(when - other) > SAME_PIECE_GAP for other in used.get((domain, index), []))
    ]


def _pick_piece(rng: random.Random, domain: str, when: datetime, used: Used) -> tuple[str, Piece]:
    """A piece not used within SAME_PIECE_GAP of `when`: of the domain if one is left, else of
    another domain; when none is left anywhere, the domain's least recently used one."""
    others = [d for d in sorted(PIECES) if d != domain]
    rng.shuffle(others)
    for candidate in [domain, *others]:
        free = _free_pieces(candidate, when, used)
        if free:
            index = rng.choice(free)
            break
    else:
        candidate = domain
        index = min(
            range(len(PIECES[domain])),
            key=lambda i: max(abs(when - t) for t in used.get((domain, i), [PERIOD_START])),
            default=0,
        )
    used.setdefault((candidate, index), []).append(when)
    return candidate, PIECES[candidate][index]


def _topics(rng: random.Random, own: Sequence[str], anchor: EventAnchor | None) -> list[str]:
    topics = list(own)
    if anchor is not None:
        shared = rng.sample(anchor.topics, k=min(len(anchor.topics), rng.randint(1, 2)))
        topics += [t for t in shared if t not in topics]
    return topics[:5]


def _article(
    rng: random.Random,
    serial: int,
    domain: str,
    when: datetime,
    anchor: EventAnchor | None,
    used: Used,
    titles: set[str],
) -> dict[str, Any]:
    domain, (title_piece, excerpt_piece, own_topics) = _pick_piece(rng, domain, when, used)
    for _ in range(30):  # no two filler articles share a headline
        values = _slot_values(rng)
        title = _capitalised(title_piece.format(**values))
        if title not in titles:
            break
    titles.add(title)
    excerpt = excerpt_piece.format(**values)
    name, host = _outlet(rng, domain)
    url = f"https://{host}/{domain}/{when:%Y/%m/%d}/{_slug(title)}-{serial:04d}"
    return {
        "title": title,
        "excerpt": excerpt,
        "publishedDateTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "webUrl": url,
        "provider": {"name": name, "domain": host},
        "topics": _topics(rng, own_topics, anchor),
        "quality": rng.randint(40, 90),
    }


def _random_time(rng: random.Random) -> datetime:
    span = (PERIOD_END - PERIOD_START).total_seconds()
    return PERIOD_START + timedelta(seconds=int(rng.uniform(0, span)) // 60 * 60)


def _near(rng: random.Random, anchor: EventAnchor) -> datetime:
    offset = timedelta(minutes=rng.randint(-NEAR_EVENT_HOURS * 60, NEAR_EVENT_HOURS * 60))
    return anchor.first_published + offset


def filler_articles(
    anchors: Sequence[EventAnchor], count: int = 2000, seed: int = 12
) -> list[dict[str, Any]]:
    """`count` filler articles (dicts in the written set's shape), deterministic for a seed."""
    rng = random.Random(seed)
    used: Used = {}
    titles: set[str] = set()
    articles = []
    for serial in range(count):
        if anchors and rng.random() < NEAR_EVENT_SHARE:
            anchor = rng.choice(anchors)
            when, domain = _near(rng, anchor), anchor.domain
        else:
            anchor, when, domain = None, _random_time(rng), rng.choice(sorted(PIECES))
        articles.append(_article(rng, serial, domain, when, anchor, used, titles))
    return articles


def name_clashes(labelled_texts: Iterable[str]) -> list[str]:
    """The slot names that also occur in the labelled set's text (there must be none)."""
    text = " ".join(labelled_texts).lower()
    names = [n for pool in NAMES.values() for n in pool]
    return sorted(n for n in names if re.search(rf"\b{re.escape(n.lower())}\b", text))


def anchors_from(events: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[EventAnchor]:
    """Anchors from each event's articles (dicts with publishedDateTime and topics)."""
    anchors = []
    for event_id, articles in sorted(events.items()):
        times = [
            datetime.fromisoformat(str(a["publishedDateTime"]).replace("Z", "+00:00"))
            for a in articles
        ]
        topics = sorted({t for a in articles for t in a.get("topics", [])})
        anchors.append(EventAnchor(event_id, domain_of(event_id), min(times), tuple(topics)))
    return anchors
