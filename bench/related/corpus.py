"""A labelled, seed-shaped corpus for related-coverage evaluation and benchmarks.

Stories are events covered by 1-7 outlets. Each outlet writes its own headline (its own
template, Title Case or not, an ``Analysis:``-style prefix, a ``| Outlet`` suffix, its own
money style), its own excerpt and time (within +/- 36 hours of the event). One article of a
story usually lists some of the others as ``related``; the rest are found only by similarity.
Distractor stories reuse an earlier story's company, event kind and topics with different
facts (half of them within 20 days), so sharing words or topics is not the same as sharing
a story. The same spec always yields the same corpus.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

TOPICS = (
    "AI", "Cybersecurity", "Privacy", "Climate", "Computer Vision", "Machine Learning",
    "Big Tech", "Regulation", "Electric Vehicles", "Semiconductors", "Cloud Computing",
    "Startups", "Social Media", "Healthcare", "Ransomware", "Renewable Energy", "Robotics",
    "Space", "Autonomous Vehicles", "Surveillance", "Cryptocurrency", "Misinformation",
    "Antitrust", "Data Protection", "Quantum Computing", "Smartphones", "Fintech", "Batteries",
    "Energy", "Open Source", "Deep Learning", "Chatbots", "Gaming", "Telecommunications", "5G",
    "E-commerce", "Biotech", "Genomics", "Internet of Things", "Virtual Reality", "Wearables",
    "Education", "Remote Work", "Labor", "Supply Chain", "Manufacturing", "Agriculture",
    "Drones", "Smart Cities", "Solar", "Nuclear", "Transportation", "Aviation", "Elections",
    "Defense", "Software Development", "Venture Capital", "Streaming", "Media", "Science",
)  # fmt: skip
TECH = (
    "AI model", "chatbot", "facial recognition system", "payments app", "cloud platform",
    "smart camera", "robotaxi service", "AI chip", "battery plant", "satellite network",
    "coding assistant", "VR headset", "delivery drone", "smartwatch", "search engine",
    "ad platform", "gene therapy", "quantum processor", "wind farm", "fraud detector",
)  # fmt: skip
_HEADS = ("Nex", "Vel", "Quan", "Lum", "Aster", "Cor", "Heli", "Nov", "Orb", "Pix", "Syn",
          "Ter", "Vor", "Zen", "Arc", "Brig", "Clar", "Dyn", "Ever", "Flu", "Graph", "Hyper",
          "Ion", "Kai", "Mer", "Oct", "Pol", "Rho", "Sol", "Tal")  # fmt: skip
_TAILS = ("ora", "trix", "tum", "io", "is", "ex", "gen", "wave", "path", "mind", "loop",
          "forge", "scale", "grid", "core", "ly", "ant", "ify", "on", "ara")  # fmt: skip
PLACES = ("California", "Texas", "Berlin", "Paris", "London", "Toronto", "Tokyo", "Seoul",
          "Dublin", "Amsterdam", "Ohio", "Kenya", "Brazil", "India", "Spain", "Sweden",
          "Oregon", "Quebec", "Sydney", "Zürich")  # fmt: skip
REGULATORS = ("the FTC", "the European Commission", "Britain's ICO", "France's CNIL", "the SEC",
              "Ireland's DPC", "Italy's privacy watchdog", "the CFPB")  # fmt: skip
ISSUES = ("children's data", "ad tracking", "cookie consent", "location data", "dark patterns",
          "security lapses", "biometric data", "misleading claims")  # fmt: skip
INVESTORS = ("Sequoia", "Accel", "SoftBank", "Index Ventures", "Lightspeed", "Khosla Ventures")
VENUES = ("schools", "public spaces", "hospitals", "police work", "stadiums", "workplaces")
SERVICES = ("cloud service", "payments app", "email service", "video platform", "banking app")
PREFIXES = ("Analysis:", "Exclusive:", "Update:", "Report:", "Explainer:", "Breaking:")

TITLES: dict[str, tuple[str, ...]] = {
    "funding": (
        "{org} raises {money} to expand its {tech}",
        "{org} secures {money} {round} for {tech}",
        "{tech} startup {org} lands {money} in {round} funding",
        "Investors pour {money} into {org}'s {tech}",
        "{org} closes {money} {round} led by {investor}",
    ),
    "fine": (
        "{reg} fines {org} {money} over {issue}",
        "{org} hit with {money} fine over {issue}",
        "{org} ordered to pay {money} by {reg} for {issue}",
        "{money} penalty for {org} after {reg} probe into {issue}",
        "{reg} slaps {org} with {money} fine",
    ),
    "breach": (
        "{org} confirms data breach affecting {num} users in {place}",
        "Hackers steal data of {num} {org} users",
        "{num} users exposed in {org} cyberattack",
        "{org} says attackers accessed records of {num} customers",
        "Data of {num} {org} customers leaked online",
    ),
    "acquisition": (
        "{org} to acquire {org2} for {money}",
        "{org} buys {org2} in {money} deal",
        "{org2} agrees to {money} takeover by {org}",
        "{org} snaps up {tech} maker {org2}",
        "Why {org} is paying {money} for {org2}",
    ),
    "launch": (
        "{org} unveils {product}, a {tech} for {venue}",
        "{org} launches {product} {tech} in {place}",
        "{org} debuts {tech} {product}",
        "Meet {product}: {org}'s new {tech}",
        "{org}'s {product} brings a {tech} to {venue}",
    ),
    "ban": (
        "{place} bans {tech} in {venue}",
        "{place} lawmakers vote to restrict {tech} in {venue}",
        "{place} moves to outlaw {tech} in {venue}",
        "Ban on {tech} in {venue} approved in {place}",
        "{place} becomes latest to curb {tech} in {venue}",
    ),
    "outage": (
        "{org} {service} down for hours in {place}",
        "{org} outage knocks {service} offline for {num} users",
        "{org} restores {service} after {hours}-hour outage",
        "{service} outage at {org} hits {place}",
        "{org} apologizes for {hours}-hour {service} outage",
    ),
    "layoffs": (
        "{org} to cut {jobs} jobs in {place}",
        "{org} lays off {jobs} workers as {tech} demand slows",
        "{jobs} jobs axed at {org}",
        "{org} announces {jobs} layoffs and restructures {place} unit",
        "{org} cuts {jobs} staff in latest shake-up",
    ),
}
EXCERPTS = (
    "{org} said on {weekday} that the move affects its {tech} business in {place}.",
    "The decision, first reported on {weekday}, puts {org} at the centre of the debate over "
    "{issue}.",
    "People familiar with the matter said {org} had been preparing for weeks; {investor} and "
    "others declined to comment.",
    "Analysts said the news could reshape the market for {tech} in {place} and beyond.",
    "{org} did not respond to a request for comment. The company employs about {jobs} people.",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass(frozen=True, slots=True)
class Outlet:
    """A news outlet and its house style."""

    name: str
    domain: str
    title_case: bool
    prefix_rate: float
    suffix: bool
    short_money: bool


@dataclass(slots=True)
class GenArticle:
    """One generated article; ``related`` holds indexes of other articles it lists."""

    index: int
    story: int
    url: str
    title: str
    excerpt: str
    published_at: datetime
    outlet: Outlet
    topics: tuple[str, ...]
    quality: int
    published: bool
    coverage_only: bool = False
    related: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CorpusSpec:
    """What to generate: about ``articles`` articles from ``seed``, ending at ``end``."""

    articles: int
    seed: int = 1
    end: datetime = datetime(2026, 11, 25, tzinfo=UTC)
    distractor_rate: float = 0.3


def _outlets(rng: random.Random, count: int = 300) -> list[Outlet]:
    names: list[Outlet] = []
    papers = ("Herald", "Tribune", "Chronicle", "Gazette", "Post", "Times", "Ledger", "Wire")
    cities = ("Austin", "Boston", "Leeds", "Dublin", "Toronto", "Perth", "Omaha", "Cork", "Oslo")
    for n in range(count):
        name = f"{rng.choice(cities)} {rng.choice(papers)} {n}"
        domain = name.lower().replace(" ", "-") + ".example"
        names.append(
            Outlet(name, domain, rng.random() < 0.5, rng.random() * 0.2, rng.random() < 0.3,
                   rng.random() < 0.5)
        )  # fmt: skip
    return names


def _facts(rng: random.Random, org: str) -> dict[str, str]:
    amount = rng.choice((5, 8, 12, 20, 25, 40, 60, 75, 90, 120, 150, 300, 450, 700))
    return {
        "org": org,
        "org2": _org(rng),
        "amount": str(amount),
        "round": rng.choice(("seed", "Series A", "Series B", "Series C", "growth")),
        "tech": rng.choice(TECH),
        "place": rng.choice(PLACES),
        "reg": rng.choice(REGULATORS),
        "issue": rng.choice(ISSUES),
        "investor": rng.choice(INVESTORS),
        "venue": rng.choice(VENUES),
        "service": rng.choice(SERVICES),
        "num": f"{rng.randint(2, 90) * 1000:,}",
        "hours": str(rng.randint(2, 14)),
        "jobs": str(rng.randint(2, 60) * 50),
        "product": rng.choice(_HEADS) + rng.choice(("Go", "One", "Max", "Pro", "Lite", "X")),
        "weekday": rng.choice(WEEKDAYS),
    }


def _org(rng: random.Random) -> str:
    return rng.choice(_HEADS) + rng.choice(_TAILS) + rng.choice(("", "", " Labs", " Systems"))


def _headline(
    rng: random.Random, kind: str, template: int, facts: dict[str, str], o: Outlet
) -> str:
    money = f"${facts['amount']}M" if o.short_money else f"${facts['amount']} million"
    text = TITLES[kind][template].format(money=money, **facts)
    text = text[0].upper() + text[1:]
    if o.title_case:
        text = " ".join(w[0].upper() + w[1:] if w[0].isalpha() else w for w in text.split())
    if rng.random() < o.prefix_rate:
        text = f"{rng.choice(PREFIXES)} {text}"
    if o.suffix:
        text = f"{text} | {o.name}"
    return text


def _zipf_pick(rng: random.Random, items: tuple[str, ...] | list[Outlet], s: float = 1.1) -> int:
    weights = [1 / (rank + 1) ** s for rank in range(len(items))]
    return rng.choices(range(len(items)), weights=weights)[0]


def generate(spec: CorpusSpec) -> list[GenArticle]:
    """The corpus, in publication order (as files would arrive)."""
    rng = random.Random(spec.seed)
    outlets = _outlets(rng)
    outlet_weights = [1 / (rank + 1) ** 0.9 for rank in range(len(outlets))]
    topic_weights = [1 / (rank + 1) ** 1.0 for rank in range(len(TOPICS))]
    # Two stories a day per 100 articles a day keeps density like the real feed.
    days = max(spec.articles / 400, 3)
    start = spec.end - timedelta(days=days)
    articles: list[GenArticle] = []
    earlier: list[tuple[str, str, tuple[str, ...], datetime]] = []
    story = 0
    while len(articles) < spec.articles:
        at = start + timedelta(seconds=rng.random() * days * 86400)
        if earlier and rng.random() < spec.distractor_rate:
            org, kind, topics, then = rng.choice(earlier[-5000:])
            if rng.random() < 0.5:
                at = then + timedelta(days=rng.uniform(2, 20) * rng.choice((-1, 1)))
        else:
            org, kind = _org(rng), rng.choice(list(TITLES))
            picked = rng.choices(TOPICS, weights=topic_weights, k=rng.randint(1, 3))
            topics = tuple(dict.fromkeys(picked))
            earlier.append((org, kind, topics, at))
        facts = _facts(rng, org)
        size = rng.choices((1, 2, 3, 4, 5, 6, 7), weights=(30, 25, 18, 12, 7, 5, 3))[0]
        chosen = rng.sample(range(len(outlets)), k=0) or []
        while len(chosen) < size:
            pick = rng.choices(range(len(outlets)), weights=outlet_weights)[0]
            if pick not in chosen:
                chosen.append(pick)
        templates = rng.sample(range(len(TITLES[kind])), k=min(size, len(TITLES[kind])))
        members: list[GenArticle] = []
        for n, outlet_index in enumerate(chosen):
            outlet = outlets[outlet_index]
            template = templates[n % len(templates)]
            members.append(
                GenArticle(
                    index=-1,
                    story=story,
                    url=f"https://{outlet.domain}/news/{story}-{n}-{org.lower().replace(' ', '-')}",
                    title=_headline(rng, kind, template, facts, outlet),
                    excerpt=" ".join(
                        e.format(**facts) for e in rng.sample(EXCERPTS, k=rng.randint(1, 2))
                    ),
                    published_at=at + timedelta(hours=rng.uniform(-36, 36)),
                    outlet=outlet,
                    topics=topics,
                    quality=min(100, int(rng.expovariate(1 / 27))),
                    published=rng.random() < 0.3,
                )
            )
        _link(rng, members)
        for member in members:
            member.index = len(articles)
            articles.append(member)
        story += 1
    articles = articles[: spec.articles]
    return _in_time_order(articles)


def _link(rng: random.Random, members: list[GenArticle]) -> None:
    """The lead article lists some of the others; some of those are known only through it."""
    if len(members) < 2 or rng.random() < 0.35:
        return
    lead, others = members[0], members[1:]
    listed = rng.sample(others, k=rng.randint(1, min(5, len(others))))
    lead.related = [id(m) for m in listed]
    for member in listed:
        member.coverage_only = rng.random() < 0.5


def _in_time_order(articles: list[GenArticle]) -> list[GenArticle]:
    """Sort by time and turn object references in ``related`` into indexes."""
    by_object = {id(a): a for a in articles}
    ordered = sorted(articles, key=lambda a: a.published_at)
    for n, article in enumerate(ordered):
        article.index = n
    for article in ordered:
        article.related = [by_object[r].index for r in article.related if r in by_object]
    return ordered


def same_story(articles: list[GenArticle]) -> dict[str, set[str]]:
    """URL -> URLs of the other articles of its story (the ground truth)."""
    stories: dict[int, set[str]] = {}
    for article in articles:
        stories.setdefault(article.story, set()).add(article.url)
    return {a.url: stories[a.story] - {a.url} for a in articles}


def iter_files(articles: list[GenArticle]) -> Iterator[tuple[str, str]]:
    """(file name, text) for every article that has a file of its own."""
    from yaml import safe_dump

    for article in articles:
        if article.coverage_only:
            continue
        front = _front_matter(article)
        front["related"] = [_related_entry(articles[r]) for r in article.related]
        text = safe_dump(front, sort_keys=False, allow_unicode=True)
        yield f"{article.index:07d}.md", f"---\n{text}---\n"


def _front_matter(article: GenArticle) -> dict[str, object]:
    return {
        "category": "news",
        "title": article.title,
        "excerpt": article.excerpt,
        "publishedDateTime": article.published_at.isoformat(),
        "webUrl": article.url,
        "type": "article",
        "quality": article.quality,
        "heat": -1,
        "published": article.published,
        "provider": {"name": article.outlet.name, "domain": article.outlet.domain},
        "topics": list(article.topics),
    }


def _related_entry(article: GenArticle) -> dict[str, object]:
    entry = _front_matter(article)
    for key in ("category", "heat", "published", "topics"):
        entry.pop(key)
    return entry
