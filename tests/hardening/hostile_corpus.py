"""A corpus of hostile article files, generated into a folder (no binary fixtures committed).

``build(folder)`` writes every case and returns what each one must come to:

- ``walk``: through ``ingest_paths(store, [folder])`` (files are read in place): ``stored``
  (with a warning naming each of ``warnings``, in order: what it held that was skipped or
  degraded), ``rejected`` (the reason starts with ``field``), ``ignored`` (a folder walk skips
  it) or ``gone`` (the case deletes itself);
- ``inbox``: through ``scan_inbox`` on the same folder: ``stored`` (moved to processed/),
  ``rejected`` (moved to rejected/ beside ``<name>.error.txt`` naming ``field``), ``left``
  (stays for a later scan) or ``gone``.

Some cases need something to happen while ingest runs (a file deleted between listing and
reading, deleted or changed while it is read); they carry a ``hook`` that the tests run from
a wrapper around the reader (``run_hook``). Every file carries ``SECRET`` in its ``secured``
field where the case allows it, so the tests can check that it never reaches a reason, a log
line or the command's output.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.factories import article_fields, article_text

SECRET = "HOSTILE-SECURED-4f1c9e"  # a marker, not a credential
BASE_URL = "https://hostile.example/"

Hook = str  # "vanish-before-read" | "vanish-while-read" | "change-while-read"


@dataclass(frozen=True, slots=True)
class Case:
    """One hostile file and what ingest must make of it."""

    name: str  # path relative to the corpus folder
    category: str
    walk: str
    inbox: str
    field: str | None = None  # for "rejected": the field the reason names first
    url: str | None = None  # for "stored": the canonical URL
    title: str | None = None  # for "stored": the stored title
    quality: int | None = None  # for "stored": the stored quality, when it matters
    coverage: int = 0  # for "stored": how many coverage-only articles it adds
    hook: Hook | None = None
    warnings: tuple[str, ...] = ()  # for "stored": the field each warning names, in order


class _Corpus:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[Case] = []

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    def stored(
        self,
        name: str,
        category: str,
        data: bytes | str,
        *,
        slug: str,
        title: str | None = None,
        quality: int | None = None,
        coverage: int = 0,
        warnings: tuple[str, ...] = (),
    ) -> None:
        self.write(name, data)
        self.cases.append(
            Case(
                name,
                category,
                "stored",
                "stored",
                url=BASE_URL + slug,
                title=title or _title(slug),
                quality=quality,
                coverage=coverage,
                warnings=warnings,
            )
        )

    def rejected(
        self,
        name: str,
        category: str,
        data: bytes | str | None,
        field: str,
        *,
        walk: str = "rejected",
        inbox: str = "rejected",
        hook: Hook | None = None,
    ) -> None:
        if data is not None:
            self.write(name, data)
        self.cases.append(Case(name, category, walk, inbox, field=field, hook=hook))


def _title(slug: str) -> str:
    return f"Hostile case {slug}"


def _article(slug: str, body: str = "", **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "title": _title(slug),
        "webUrl": BASE_URL + slug,
        "originalUrl": ...,
        "related": [],
        "secured": SECRET,
    }
    fields.update(overrides)
    return article_text(body, **fields)


def _front(*lines: str, body: str = "") -> str:
    return "---\n" + "".join(f"{line}\n" for line in lines) + "---\n" + body


def _head(slug: str) -> tuple[str, ...]:
    """The required fields as front matter lines, for hand-written cases."""
    return (
        f"title: {_title(slug)}",
        f"webUrl: {BASE_URL}{slug}",
        "publishedDateTime: 2026-11-01T08:30:00Z",
        f"secured: {SECRET}",
    )


def _related(n: int, slug: str) -> dict[str, Any]:
    entry = dict(article_fields()["related"][0])
    entry["webUrl"] = f"{BASE_URL}coverage/{slug}/{n}"
    return entry


def _billion_laughs() -> tuple[str, ...]:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [{', '.join(f'*a{n - 1}' for _ in range(10))}]" for n in range(1, 10)]
    return (*lines, "title: *a9")


def build(root: Path) -> list[Case]:
    """Write the corpus into ``root`` (created) and return its cases."""
    root.mkdir(parents=True, exist_ok=True)
    c = _Corpus(root)
    _tolerances(c)
    _degraded(c)
    _refusals(c)
    _hostile(c)
    _filesystem(c)
    _races(c)
    age(root)
    return c.cases


# --- tolerated: stored -------------------------------------------------------------------------


def _tolerances(c: _Corpus) -> None:
    t = "tolerance"
    full = _article("full", "Body.\n", related=[_related(0, "full")])
    c.stored("t-full.md", t, full, slug="full", coverage=1)
    c.stored("t-minimal.md", t, _front(*_head("minimal")), slug="minimal")
    crlf = _article("crlf", "Line one.\nLine two.\n").replace("\n", "\r\n")
    c.stored("t-crlf.md", t, crlf, slug="crlf")
    c.stored("t-bom.md", t, b"\xef\xbb\xbf" + _article("bom").encode(), slug="bom")
    lone_cr = _article("lone-cr", "Line one.\nLine two.\n").replace("\n", "\r")  # old Mac
    c.stored("t-lone-cr.md", t, lone_cr, slug="lone-cr")
    bom_crlf = b"\xef\xbb\xbf" + _article("bom-crlf").replace("\n", "\r\n").encode()
    c.stored("t-bom-crlf.md", t, bom_crlf, slug="bom-crlf")
    c.stored("t-no-final-newline.md", t, _article("no-newline").rstrip("\n"), slug="no-newline")
    c.stored("t-quoted-numbers.md", t, _article("quoted", quality="29"), slug="quoted", quality=29)
    topics = ["  ai ", "AI", "Machine   Learning", "machine learning"]
    c.stored("t-topic-spacing.md", t, _article("spacing", topics=topics), slug="spacing")
    c.stored("t-single-topic.md", t, _article("one-topic", topics="Climate"), slug="one-topic")
    nulls = _article("nulls", topics=None, images=None, related=None, excerpt=None)
    c.stored("t-null-lists.md", t, nulls, slug="nulls")
    date_only = _front(*_head("date-only")).replace("2026-11-01T08:30:00Z", "2026-03-01")
    c.stored("t-date-only.md", t, date_only, slug="date-only")
    offset = _article("offset", publishedDateTime="2026-11-22T11:00:00+01:00")
    c.stored("t-offset-date.md", t, offset, slug="offset")
    dots = _article("dots").replace("\n---\n", "\n...\n", 1)
    c.stored("t-yaml-end-marker.md", t, dots, slug="dots")
    dashes = _article("dashes", "Intro.\n---\nA rule above.\n---\n\n---\nEnd.\n")
    c.stored("t-dashes-in-body.md", t, dashes, slug="dashes")
    c.stored(
        "t-unknown-keys.md", t, _article("unknown", editorNote="checked", x=[1]), slug="unknown"
    )
    rtl = "\u200fمحكمة تقضي بحظر — בית המשפט 🌍 👩\u200d👩\u200d👧 \u202etxet desrever"
    c.stored("t-rtl-emoji.md", t, _article("rtl", title=rtl), slug="rtl", title=rtl)
    controls = "Bell \a and \x1b[31mred\x1b[0m and tab\tend"
    ctl = _article("escaped-controls", title=controls)  # safe_dump escapes them
    c.stored("t-escaped-controls.md", t, ctl, slug="escaped-controls", title=controls)
    c.stored("t-leading-blank-lines.md", t, "\n\n" + _article("blank-lines"), slug="blank-lines")
    c.stored("t-upper-suffix.MD", t, _article("upper"), slug="upper")
    c.stored("t-suffix.markdown", t, _article("markdown"), slug="markdown")
    c.stored("t-suffix.txt", t, _article("txt"), slug="txt")
    at_limits = _article(
        "at-limits",
        topics=[f"topic {n}" for n in range(50)],
        images=[{"url": f"{BASE_URL}img/{n}.png"} for n in range(50)],
        related=[_related(n, "at-limits") for n in range(100)],
    )
    c.stored("t-at-the-limits.md", t, at_limits, slug="at-limits", coverage=100)
    # Two files with one URL in one batch: the later one (in name order) wins.
    c.stored(
        "t-dup-url-a.md",
        t,
        _article("dup", quality=10, title="Dup A"),
        slug="dup",
        title="Dup B",
        quality=90,
    )
    c.stored(
        "t-dup-url-b.md",
        t,
        _article("dup", quality=90, title="Dup B"),
        slug="dup",
        title="Dup B",
        quality=90,
    )
    secured_map = _article("secured-map", secured={"key": SECRET, "list": [SECRET, 1]})
    c.stored("t-secured-mapping.md", t, secured_map, slug="secured-map")
    merge = _front(
        "base: &base {type: article, quality: 33}",
        "<<: *base",
        *_head("merge"),
    )
    c.stored("t-yaml-merge.md", t, merge, slug="merge", quality=33)
    nested: Any = "leaf"
    for _ in range(25):
        nested = {"n": nested}
    c.stored("t-nested-unknown.md", t, _article("nested", deep=nested), slug="nested")
    tracking = _article("tracking", webUrl=f"{BASE_URL}tracking?utm_source=x&fbclid=y#top")
    c.stored("t-tracking-url.md", t, tracking, slug="tracking")
    c.stored("folder.md/inside.md", t, _article("inside-dir"), slug="inside-dir")


# --- degraded: stored, with a warning naming what was skipped or left out ------------------------


def _degraded(c: _Corpus) -> None:
    d = "degraded"

    def entry(n: int, slug: str, **changes: Any) -> dict[str, Any]:
        fields = {**_related(n, slug), **changes}
        return {key: value for key, value in fields.items() if value is not ...}

    def stored(slug: str, entries: list[Any], kept: int, *warnings: str, **kw: Any) -> None:
        text = _article(slug, related=entries, **kw)
        c.stored(f"d-{slug}.md", d, text, slug=slug, coverage=kept, warnings=warnings)

    # a related entry without a usable date: kept, its date unknown
    date = "related[1].publishedDateTime"
    stored("related-no-date", [entry(0, "nd"), entry(1, "nd", publishedDateTime=...)], 2, date)
    stored("related-null-date", [entry(0, "nl"), entry(1, "nl", publishedDateTime=None)], 2, date)
    bad_date = entry(1, "bd", publishedDateTime="yesterday")
    stored("related-bad-date", [entry(0, "bd"), bad_date], 2, date)
    later = entry(1, "ns", publishedDateTime="NO-SUCH-DAY")
    no_such_day = _article("related-no-such-day", related=[entry(0, "ns"), later]).replace(
        "publishedDateTime: NO-SUCH-DAY", "publishedDateTime: 2026-02-30"
    )  # unquoted, so YAML reads a timestamp, of a day that does not exist: PyYAML raises
    assert "2026-02-30" in no_such_day
    slug = "related-no-such-day"
    c.stored(f"d-{slug}.md", d, no_such_day, slug=slug, coverage=2, warnings=(date,))
    # one that cannot name an article (a title and an http(s) link): skipped
    stored("related-no-title", [entry(0, "nt", title=...), entry(1, "nt")], 1, "related[0].title")
    stored("related-no-url", [entry(0, "nu"), entry(1, "nu", webUrl=...)], 1, "related[1].webUrl")
    script = entry(1, "js", webUrl="javascript:alert(document.cookie)")
    stored("related-javascript-url", [entry(0, "js"), script], 1, "related[1].webUrl")
    userinfo = "https://discord.com@evil.example/x"
    disguised = entry(0, "ui", webUrl=userinfo)
    stored("related-userinfo-url", [disguised, entry(1, "ui")], 1, "related[0].webUrl")
    stored("related-not-a-mapping", ["a line of text", entry(1, "nm")], 1, "related[0]")
    # other bad fields are left out; bad images skipped
    stored("related-bad-quality", [entry(0, "bq", quality=1000)], 1, "related[0].quality")
    images = [{"url": "data:image/png;base64,AAAA"}, {"url": f"{BASE_URL}ok.png"}]
    stored("image-data-url", [], 0, "images[0].url", images=images)
    pictured = entry(0, "ri", images=[{"url": userinfo}])
    stored("related-image-userinfo", [pictured], 1, "related[0].images[0].url")
    both = [entry(0, "all", publishedDateTime=...), entry(1, "all", webUrl=...)]
    stored("related-all-bad", both, 1, "related[0].publishedDateTime", "related[1].webUrl")
    # a field written twice: YAML keeps the later value, and the earlier is named, not lost
    # unsaid; a line of a quoted value that only looks like a field is no second field
    twice = _front(*_head("twice"), "title: Hostile case twice", 'excerpt: "one\ntitle: two"')
    c.stored("d-title-twice.md", d, twice, slug="twice", warnings=("title",))


# --- refused: the field is named -----------------------------------------------------------------


def _refusals(c: _Corpus) -> None:
    r = "refusal"
    fm = "front matter"
    c.rejected("r-no-front-matter.md", r, f"title: x\nsecured: {SECRET}\n", fm)
    c.rejected("r-empty.md", r, b"", fm)
    c.rejected("r-only-dashes.md", r, b"---", fm)
    c.rejected("r-only-dashes-newline.md", r, b"---\n", fm)
    c.rejected("r-empty-front-matter.md", r, b"---\n---\nbody\n", fm)
    unterminated = "---\n" + "\n".join(_head("unterminated")) + "\n"
    c.rejected("r-unterminated.md", r, unterminated, fm)
    c.rejected("r-list-front-matter.md", r, "---\n- a\n- b\n---\n", fm)
    c.rejected("r-scalar-front-matter.md", r, "---\njust words\n---\n", fm)
    syntax = _front(*_head("syntax"), "excerpt: [unclosed")
    c.rejected("r-yaml-syntax.md", r, syntax, fm)
    for name, overrides, field in [
        ("missing-title", {"title": ...}, "title"),
        ("title-list", {"title": ["a", "b"]}, "title"),
        ("title-too-long", {"title": "x" * 1001}, "title"),
        ("missing-date", {"publishedDateTime": ...}, "publishedDateTime"),
        ("bad-date", {"publishedDateTime": "yesterday"}, "publishedDateTime"),
        ("date-out-of-range", {"publishedDateTime": "0900-01-01"}, "publishedDateTime"),
        ("missing-url", {"webUrl": ..., "originalUrl": ...}, "webUrl"),
        ("javascript-url", {"webUrl": "javascript:alert(1)"}, "webUrl"),
        ("file-url", {"webUrl": "file:///etc/passwd"}, "webUrl"),
        ("ftp-original-url", {"originalUrl": "ftp://a.example/x"}, "originalUrl"),
        ("quality-101", {"quality": 101}, "quality"),
        ("quality-word", {"quality": "high"}, "quality"),
        ("heat-huge", {"heat": 10**30}, "heat"),
        ("published-perhaps", {"published": "perhaps"}, "published"),
        ("provider-string", {"provider": "Harbour Times"}, "provider"),
        ("topics-51", {"topics": [f"t{n}" for n in range(51)]}, "topics"),
        ("topics-51-on-one-line", {"topics": ", ".join(f"t{n}" for n in range(51))}, "topics"),
        ("title-invisible", {"title": "\u200b\u2060"}, "title"),
        ("title-markup-only", {"title": "<br/>&nbsp;"}, "title"),
        ("images-51", {"images": [{"url": f"{BASE_URL}{n}.png"} for n in range(51)]}, "images"),
        ("related-101", {"related": [_related(n, "r101") for n in range(101)]}, "related"),
        ("userinfo-url", {"webUrl": "https://discord.com@evil.example/x"}, "webUrl"),
        ("userinfo-original-url", {"originalUrl": "https://u:pw@hostile.example/"}, "originalUrl"),
    ]:
        c.rejected(f"r-{name}.md", r, _article(name, **overrides), field)
    c.rejected("r-quality-octal.md", r, _front(*_head("octal"), "quality: 070"), "quality")
    no_such_day = _front(*_head("no-such-day")).replace("2026-11-01T08:30:00Z", "2026-02-30")
    c.rejected("r-date-no-such-day.md", r, no_such_day, "publishedDateTime")
    # Files of other types: a folder walk skips them, the inbox sets them aside.
    c.rejected("r-notes.json", r, "{}", "file", walk="ignored")
    c.rejected("r-README", r, "no suffix", "file", walk="ignored")


# --- hostile content -----------------------------------------------------------------------------


def _hostile(c: _Corpus) -> None:
    h = "hostile"
    fm = "front matter"
    c.rejected("h-billion-laughs.md", h, _front(*_billion_laughs(), *_head("lol")[1:]), fm)
    apply = "title: !!python/object/apply:os.system ['touch PWNED']"
    c.rejected("h-python-apply.md", h, _front(apply, *_head("apply")[1:]), fm)
    new = "extra: !!python/object/new:subprocess.Popen [['touch', 'PWNED']]"
    c.rejected("h-python-new.md", h, _front(*_head("new"), new), fm)
    name = "extra: !!python/name:os.system"
    c.rejected("h-python-name.md", h, _front(*_head("pyname"), name), fm)
    c.rejected("h-deep-200.md", h, _front(*_head("deep"), "deep: " + "[" * 200 + "]" * 200), fm)
    deeper = "deep: " + "{a: " * 100_000 + "1" + "}" * 100_000
    c.rejected("h-deep-100k.md", h, _front(*_head("deeper"), deeper), fm)
    c.rejected("h-recursive-alias.md", h, _front(*_head("rec"), "loop: &loop [*loop]"), fm)
    many_keys = [f"k{n}: {n}" for n in range(30_000)]
    c.rejected("h-30k-keys.md", h, _front(*_head("keys"), *many_keys), fm)
    c.rejected("h-unhashable-key.md", h, _front(*_head("unhash"), "? [a, b]\n: x"), fm)
    big = _front(*_head("big"), "excerpt: " + "x" * 5_000_000)
    c.rejected("h-excerpt-5mb.md", h, big, "file")
    c.rejected(
        "h-nul-byte.md", h, _article("nul").encode().replace(b"case", b"ca\x00se", 1), "file"
    )
    c.rejected("h-escaped-nul.md", h, _front(*_head("enul")[1:], 'title: "a\\0b"'), "title")
    latin1 = _article("latin1", excerpt="café").encode("utf-8").replace("é".encode(), b"\xe9")
    c.rejected("h-latin1-in-utf8.md", h, latin1, "file")
    cesu = _article("cesu").encode().replace(b"case", b"ca\xed\xa0\x80se", 1)
    c.rejected("h-encoded-surrogate.md", h, cesu, "file")
    c.rejected("h-utf16-bom.md", h, _article("utf16").encode("utf-16"), "file")
    cp1252 = _article("cp1252", excerpt="“quoted”").encode("cp1252")
    c.rejected("h-windows-1252.md", h, cp1252, "file")
    raw_control = _front(*_head("ctl")[1:], 'title: "raw \x07 bell"')
    c.rejected("h-raw-control.md", h, raw_control, fm)
    topics = "topics: [" + ", ".join(f"t{n}" for n in range(100_000)) + "]"
    c.rejected("h-topics-100k.md", h, _front(*_head("t100k"), topics), "topics")
    related_10k = _front(
        *_head("r10k"),
        "related:",
        *[
            f"  - {{title: r, webUrl: '{BASE_URL}x/{n}', publishedDateTime: 2026-01-01}}"
            for n in range(10_000)
        ],
    )
    c.rejected("h-related-10k.md", h, related_10k, "related")
    # ``secured`` malformed, or a neighbour malformed: the reason never shows it.
    tag = _front(*_head("sec-tag")[:3], f"secured: !{SECRET} x")
    c.rejected("h-secured-tag.md", h, tag, "secured")
    pyname = _front(*_head("sec-pyname")[:3], f"secured: !!python/name:{SECRET}")
    c.rejected("h-secured-python-name.md", h, pyname, "secured")
    unterminated = _front(*_head("sec-q")[:3], f'secured: "{SECRET}')
    c.rejected("h-secured-unterminated.md", h, unterminated, "secured")
    bad_neighbour = _article("sec-map", secured={SECRET: [SECRET]}, quality="lots")
    c.rejected("h-secured-map-bad-quality.md", h, bad_neighbour, "quality")


# --- the file system -------------------------------------------------------------------------


def _filesystem(c: _Corpus) -> None:
    f = "filesystem"
    target = c.write("targets/real-article.markdown.orig", _article("link-target"))
    os.symlink(target, c.root / "f-symlink.md")
    c.rejected("f-symlink.md", f, None, "file")
    os.symlink(c.root / "nowhere.md", c.root / "f-dangling-symlink.md")
    c.rejected("f-dangling-symlink.md", f, None, "file")
    (c.root / "targets" / "dir").mkdir()
    c.write("targets/dir/through-real-path.md", _article("through-real-path"))
    os.symlink(c.root / "targets" / "dir", c.root / "f-symlinked-dir.md", target_is_directory=True)
    c.rejected("f-symlinked-dir.md", f, None, "file")
    os.mkfifo(c.root / "f-fifo.md")
    c.rejected("f-fifo.md", f, None, "file")
    c.write(".f-hidden.md", _article("hidden"))
    c.cases.append(Case(".f-hidden.md", f, "ignored", "left"))
    c.write("f-upload.md.part", _article("partial"))
    c.cases.append(Case("f-upload.md.part", f, "ignored", "left"))
    (c.root / "f-empty-dir.md").mkdir()
    # targets/ holds what the links point to; a folder walk reads nothing there with an
    # article suffix, and the inbox sets the .orig file aside.
    c.cases.append(Case("targets/real-article.markdown.orig", f, "ignored", "rejected", "file"))
    c.cases.append(
        Case(
            "targets/dir/through-real-path.md",
            f,
            "stored",
            "stored",
            url=BASE_URL + "through-real-path",
            title=_title("through-real-path"),
        )
    )


# --- races: run from a wrapper around the reader ---------------------------------------------


def _races(c: _Corpus) -> None:
    x = "race"
    c.write("x-vanish-before-read.md", _article("vanish-before"))
    c.rejected("x-vanish-before-read.md", x, None, "file", inbox="gone", hook="vanish-before-read")
    c.write("x-vanish-while-read.md", _article("vanish-while"))
    c.rejected("x-vanish-while-read.md", x, None, "file", inbox="gone", hook="vanish-while-read")
    c.write("x-change-while-read.md", _article("change"))
    c.rejected("x-change-while-read.md", x, None, "file", inbox="left", hook="change-while-read")


def run_hook(hook: Hook, path: Path) -> None:
    """What happens to ``path`` at the hook's moment."""
    if hook.startswith("vanish"):
        path.unlink()
    elif hook == "change-while-read":
        with path.open("a", encoding="utf-8") as handle:
            handle.write("More text arrived while the file was read.\n")
        later = time.time() + 5
        os.utime(path, (later, later))
    else:
        raise ValueError(hook)


# --- helpers for the tests -------------------------------------------------------------------


def age(root: Path, seconds: float = 120) -> None:
    """Make every entry under ``root`` look settled (not modified for a while)."""
    past = time.time() - seconds
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            os.utime(Path(folder, name), (past, past), follow_symlinks=False)


def entries(root: Path) -> list[str]:
    """Every non-folder entry under ``root`` (links, pipes included), relative, sorted."""
    found: list[str] = []
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_dir():
                found.append(str(path.relative_to(root)))
    return sorted(found)


@contextmanager
def fifo_safety(root: Path, after: float = 15.0) -> Iterator[None]:
    """If a reader blocks on a named pipe under ``root``, open its write end after ``after``
    seconds so the reader sees end-of-file and the test fails instead of hanging."""
    done = threading.Event()

    def unblock() -> None:
        if done.wait(after):
            return
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder, name)
                if path.is_fifo():
                    with suppress(OSError):  # no reader waiting on this one
                        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
