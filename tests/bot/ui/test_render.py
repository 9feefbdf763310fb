"""How article text is made readable and safe for display (``readable``, ``plain``), how a
linked line keeps its link whole, and how lists keep whole lines (``fit_lines``)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.domain.text import readable
from bot.ui.alerts import digest_message
from bot.ui.embeds import article_embed, fit_lines, link_line, plain
from storage.models import Provider
from storage.outbox.rows import Delivery
from tests.bot.ui.test_embeds import NOW, article

LINK = re.compile(r"(?<!\\)\[((?:[^\]\\]|\\.)*)\]\(([^)\s]*)\)")


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("AT&amp;T buys Time Warner", "AT&T buys Time Warner"),
        ("Trump&#8217;s &quot;deal&quot;&nbsp;closes", 'Trump’s "deal" closes'),
        ("Trump&amp;#8217;s plan", "Trump’s plan"),  # encoded twice, as WordPress feeds do
        ('<b>Bold</b> text<br/>more <a href="https://x.example">link</a>', "Bold text more link"),
        ("<p>One</p><p>Two</p>", "One Two"),
        ("R&D, Q&A and a < b > c", "R&D, Q&A and a < b > c"),
        ("<@123> <t:0:R> <#7> <:e:1>", "<@123> <t:0:R> <#7> <:e:1>"),  # Discord's, kept for plain
        ("file\u202egnp.exe \u2066x\u2069", "filegnp.exe x"),
        ("مرحبا بالعالم \u200f", "مرحبا بالعالم \u200f"),  # right-to-left text reads as written
        ("Cafe\u0301 👍🏽 naïve", "Cafe\u0301 👍🏽 naïve"),
        ("  # not a heading\n   > not a quote", "# not a heading\n> not a quote"),
        ("\x1b[31mred\x1b[0m \x07bell \x9bC1", "[31mred[0m bell C1"),
    ],
)
def test_readable_is_what_a_reader_should_see(written: str, read: str):
    assert readable(written) == read


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("*Breaking* _x_ ~~y~~ ||z||", "\\*Breaking\\* \\_x\\_ \\~\\~y\\~\\~ \\|\\|z\\|\\|"),
        ("  # Heading", "\\# Heading"),
        ("line\n   > quote", "line\n\\> quote"),
        ("<t:0:R> <#123456789012345678> <:e:1>", "\\<t:0:R> \\<#123456789012345678> \\<:e:1>"),
        ("@everyone <@&123456789012345678>", "@\u200beveryone \\<@\u200b&123456789012345678>"),
        ("&lt;@&amp;123456789012345678&gt;", "\\<@\u200b&123456789012345678>"),
        ("[Click](https://evil.example)", "\\[Click\\](https://evil.example)"),
        (
            "[a](https://a.example)[b](https://evil.example)",
            "\\[a\\](https://a.example)[b\\](https://evil.example)",
        ),
        ("[[c]](https://evil.example)", "\\[[c\\]\\](https://evil.example)"),
    ],
)
def test_plain_shows_markdown_and_discord_syntax_as_written(written: str, shown: str):
    assert plain(written, 500) == shown


LONG_URL = "https://news.example/2026/11/20/" + "a-long-slug-of-the-headline-" * 6


def test_a_link_line_shortens_the_title_and_keeps_the_address_whole():
    item = article(title="T" * 200, web_url=LONG_URL, provider=Provider("Outlet", ""))
    for limit in (len(LONG_URL) + 50, 260, 320):
        line = link_line(item, limit)
        assert len(line) <= limit
        ((text, url),) = LINK.findall(line)
        assert url == LONG_URL and text.startswith("TTT") and text.endswith("…")
        assert line.endswith(" — Outlet")


def test_an_address_too_long_for_a_line_leaves_the_title_unlinked():
    item = article(title="Ferries", web_url="https://news.example/" + "p" * 2000)
    line = link_line(item, 320)
    assert line == "Ferries — Harbour Times"


def test_an_address_with_parentheses_or_angle_brackets_stays_one_link():
    item = article(title="Wiki", web_url="https://wiki.example/Ferry_(boat)<x>")
    assert LINK.findall(link_line(item)) == [
        ("Wiki", "https://wiki.example/Ferry_%28boat%29%3Cx%3E")
    ]


def test_link_text_cannot_show_another_address_or_end_early():
    item = article(title="https://bank.example/login [x] ok")
    ((text, url),) = LINK.findall(link_line(item))
    assert "://" not in text and url == item.web_url
    assert text == "https:\u200b//bank.example/login (x) ok"


def test_fit_lines_keeps_whole_lines_and_counts_the_rest():
    lines = [f"line {n} " + "x" * 90 for n in range(100)]
    text, shown = fit_lines(lines, 1000)
    assert len(text) <= 1000
    assert text.splitlines()[:-1] == lines[:shown]
    assert text.splitlines()[-1] == f"…and {100 - shown} more"
    assert fit_lines(lines[:3], 1000) == ("\n".join(lines[:3]), 3)
    assert fit_lines(lines, 1000, more=None)[0] == "\n".join(
        lines[: fit_lines(lines, 1000, None)[1]]
    )


def _row(n: int) -> Delivery:
    return Delivery(
        guild_id=1,
        article_pk=n,
        article_id=f"a{n}",
        target_kind="dm",
        target_id=5,
        feed_id=None,
        subscription_id=1,
        mode="daily",
        state="pending",
        note="",
        attempts=0,
        next_attempt_at=NOW,
        last_error=None,
        message_id=None,
        mention_role_id=None,
        topic_id=1,
        topic_name="Topic " + "t" * 100,
    )


def test_a_digest_never_cuts_an_item_and_lists_those_not_in_full_as_links():
    items = {
        n: article(title=f"Item {n} " + "i" * 100, web_url=f"{LONG_URL}{n}") for n in range(10)
    }
    rows = [_row(n) for n in range(10)]
    message = digest_message("daily", rows, items, {1: "Harbour " + "h" * 60}, limit=10)
    full = message.embeds[0].description or ""
    in_full = LINK.findall(full)
    assert len(full) <= 4000
    assert 5 <= len(in_full) < 10
    assert full.count("**") == 2 * len(in_full)  # every numbered item whole
    listed = [link for e in message.embeds for link in LINK.findall(e.description or "")]
    assert len(message.embeds) <= 10
    assert sum(len(e) for e in message.embeds) <= 6000
    assert [url for _, url in listed] == [f"{LONG_URL}{n}" for n in range(len(listed))]
    assert message.articles == len(listed) and len(message.rows) == len(listed)
    footer = message.embeds[-1].footer.text
    if len(listed) == 10:
        assert footer == "10 new articles"
    else:  # the rest come in the next message
        assert footer == f"Articles 1–{len(listed)} of 10 · continued in the next message"


@pytest.mark.parametrize("title", ["<br/>", "&nbsp;", "\u200b", "<b></b>\u202e"])
def test_a_title_that_reads_as_nothing_is_shown_as_untitled(title: str):
    item = article(title=title)
    assert article_embed(item).title == "(untitled)"
    assert LINK.findall(link_line(item)) == [("(untitled)", item.web_url)]


def test_a_title_is_one_line_and_an_excerpt_keeps_one_blank_line_at_most():
    item = article(
        title="Line one\nLine two",
        excerpt="First\n\n\n\n\n\n\nSecond\n\nThird",
        provider=Provider("Coast\nWire", ""),
    )
    assert LINK.findall(link_line(item)) == [("Line one Line two", item.web_url)]
    assert link_line(item).endswith(") — Coast Wire")
    card = article_embed(item)
    assert card.title == "Line one Line two"
    assert card.description == "First\n\nSecond\n\nThird"


def test_a_digest_through_two_servers_lists_each_article_once_with_its_server():
    items = {n: article(title=f"Item {n}", web_url=f"https://news.example/{n}") for n in range(4)}
    rows = [_row(n) for n in range(4)] + [replace(_row(3), guild_id=2)]  # 3 through both
    rows[2] = replace(rows[2], guild_id=2)
    names = {1: "Harbour Club", 2: "Isle *Readers*"}
    message = digest_message("daily", rows, items, names, limit=1)
    full, rest = message.embeds
    assert full.title == "Your daily digest from Harbour Club and Isle \\*Readers\\*"
    lines = (rest.description or "").splitlines()
    assert [LINK.findall(line)[0][0] for line in lines] == ["Item 1", "Item 2", "Item 3"]
    assert lines[0].endswith(" · Harbour Club_") and lines[1].endswith(" · Isle \\*Readers\\*_")
    assert message.articles == 4 and len(message.rows) == 5  # both rows of item 3 sent
    assert rest.footer.text == "4 new articles"
