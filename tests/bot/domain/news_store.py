"""A store of everyday news for the related engine's tests, and a way to add articles to it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.articles.article_file import parse_article
from storage import Store
from tests.factories import article_text

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GUILD, OTHER_GUILD = 1, 2
# Other news of the same weeks, so that everyday words are everyday in the store too.
FILLER = [
    ("Council approves new cycle lanes on the high street", "Work starts in spring, it said."),
    ("Local bakery wins national award for its sourdough", "The owners thanked customers."),
    ("Storm warning issued for the coast this weekend", "Winds may reach 70mph."),
    ("School reopens after summer repairs to its roof", "Pupils return on Monday."),
    ("Museum extends opening hours for the holidays", "Late openings run until January."),
    ("Police appeal for witnesses after a shop fire", "Nobody was hurt, police said."),
    ("Airline adds winter flights to the islands", "Tickets go on sale this week."),
    ("Researchers map the city's oldest trees", "The survey found 900 trees."),
    ("Lost dog found after three weeks on the moors", "Its owners found it near a farm."),
    ("Library reaches 10,000 members", "Most new members are students, it said."),
    ("Energy supplier says customers will get refunds", "About 8,000 customers were overcharged."),
    ("Rail fares to rise in January", "The operator said the rise reaches 4%."),
    ("Study finds city parks cooler in heat waves", "Researchers found parks were 3C cooler."),
    ("Football club reaches cup semi-final", "Fans found tickets hard to get."),
    ("Hospital waiting lists reach a record", "Officials said staff shortages were to blame."),
    ("Bank branch to close in the town centre", "Customers can use the post office instead."),
]


async def open_with_filler(path: Path) -> Store:
    """A store at ``path`` holding the filler news, so everyday words are everyday in it."""
    opened = await Store.open(path)
    await add_filler(opened)
    return opened


async def add_filler(store: Any) -> None:
    """The filler news, into a store of either engine."""
    for n, (title, excerpt) in enumerate(FILLER):
        await add(store, f"filler{n}", title, excerpt, f"2026-08-{1 + n:02d}T09:00:00Z")


async def add(
    store: Any,
    slug: str,
    title: str,
    excerpt: str,
    when: str,
    *,
    outlet: str = "",
    related: tuple[str, ...] = (),
    guild: int | None = None,
    **fields: object,
) -> str:
    outlet = outlet or slug
    listed = [
        {
            "title": f"Listed {url}",
            "webUrl": url,
            "publishedDateTime": when,
            "provider": {"name": "Lister", "domain": "lister.example"},
        }
        for url in related
    ]
    text = article_text(
        **{
            "title": title,
            "excerpt": excerpt,
            "publishedDateTime": when,
            "webUrl": f"https://{outlet}.example/{slug}",
            "originalUrl": ...,
            "provider": {"name": outlet.title(), "domain": f"{outlet}.example"},
            "topics": ["News"],
            "published": True,
            "related": listed,
            **fields,
        }
    )
    draft = parse_article(text.encode(), source=f"{slug}.md")
    await store.articles.upsert_batch([draft], NOW, origin_guild_id=guild)
    stored = await store.articles.get_by_url(draft.canonical_url)
    assert stored is not None
    return stored.id
