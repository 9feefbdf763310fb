"""The documentation a newcomer follows: every link between its pages leads somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
CODE_BLOCK = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = CODE_BLOCK.sub("", page.read_text())
    return {_slug(heading) for heading in HEADING.findall(text)}


def _local_links(page: Path) -> list[str]:
    text = CODE_BLOCK.sub("", page.read_text())
    return [link for link in LINK.findall(text) if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_local_link_leads_to_a_page_and_heading_that_exist(page: Path) -> None:
    broken = []
    for link in _local_links(page):
        target, _, anchor = link.partition("#")
        target_path = (page.parent / target).resolve() if target else page
        if not target_path.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target_path.suffix == ".md" and anchor not in _anchors(target_path):
            broken.append(f"{link}: no heading with that anchor")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_readme_points_a_newcomer_to_every_docs_page() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        page.name
        for page in sorted((ROOT / "docs").glob("*.md"))
        if f"docs/{page.name}" not in readme
    ]
    assert not missing, f"README.md does not link to {missing}"
