"""Reading article files: YAML front matter between '---' lines, then an optional body.

Every problem becomes an ``ArticleFileError`` naming the file, the field and what is wrong;
nothing else escapes ``parse_article``.
"""

from __future__ import annotations

import base64
import codecs
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot.articles import front_matter as front_matter_yaml
from bot.articles.urls import InvalidUrlError, canonical_url, link_variants, require_http_url
from bot.articles.written_numbers import (
    FieldPath,
    Misread,
    decimal_text,
    mark_misread,
    misread_numbers,
    text_problem,
    written_scalar,
)
from bot.domain.text import has_visible, readable
from storage.models import ArticleDraft, Image, Provider, RelatedDraft
from storage.topics import tidy_topic, topic_key

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
# The same line searched from the newline before it: a literal first character lets the
# regex engine skip ahead instead of trying every position (5x faster on a typical file).
_FRONT_MATTER_END_AFTER_NEWLINE = re.compile(r"\n(?:---|\.\.\.)[ \t]*(?=\n|\Z)")
_NEEDS_URL = "a webUrl or originalUrl (http or https) is required"


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Bounds that keep a hostile file from exhausting memory or time."""

    max_file_bytes: int = 1_048_576
    max_topics: int = 50
    max_images: int = 50
    max_related: int = 100
    max_nodes: int = 20_000
    max_depth: int = 32
    # An article dated after this is refused (a typed 2062 for 2026 would sit atop /latest
    # for decades); None: no bound. Set per run, from the clock and ``ingest.max_hours_ahead``.
    latest_published: datetime | None = None


DEFAULT_LIMITS = ParseLimits()


class ArticleFileError(Exception):
    """An article file that cannot be stored, with the field at fault and why."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")

    @property
    def reason(self) -> str:
        """The field and the problem, without the file name."""
        return f"{self.field}: {self.problem}"


# --- field types -----------------------------------------------------------------------------


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


def _none_as_list(value: Any) -> Any:
    return [] if value is None else value


def _topic_list(value: Any) -> Any:
    # `topics: AI, Privacy` is two topics, as `/article add` reads its comma-separated list;
    # a list's items are taken whole.
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()] or [value]
    return _none_as_list(value)


def _http_url(value: str) -> str:
    try:
        require_http_url(value)
    except InvalidUrlError as error:
        raise ValueError(str(error)) from None
    return value


_NOT_A_DATE = "not an ISO 8601 date and time"


def _as_written(value: Any) -> Any:
    """A number field's value as the file wrote it in decimal, else why not, in the file's
    terms (the library would say "unable to parse string as an integer")."""
    if isinstance(value, Misread):
        raise ValueError(value.problem())
    if isinstance(value, bool):  # an int to Python: `quality: yes` would be stored as 1
        raise ValueError(
            f"is a yes/no value to YAML ({str(value).lower()}), not a number: write the number"
            " in plain digits"
        )
    if isinstance(value, str):  # quoted: `"29"` is 29, `"0x1F"` is told to write 31
        number = decimal_text(value)
        if number is None:
            raise ValueError(text_problem(value))
        value = number
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise ValueError(f"{_shown(value)} is not a whole number: write a whole number")
    return value


def _number(value: Any) -> Any:
    """``_as_written`` for a number field that has a default but no empty value."""
    if value is None:
        raise ValueError("is empty: write a number, or leave the field out")
    return _as_written(value)


_NOT_YES_NO = "not a yes/no value: write true or false"


def _yes_no(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A yes/no field's value, else why not in the file's terms."""
    if isinstance(value, Misread):
        if isinstance(value.read, str):
            raise ValueError(f"{value.written} is {_NOT_YES_NO}")
        raise ValueError(f"{value.written} is read by YAML as {value.reading}, {_NOT_YES_NO}")
    try:
        return handler(value)
    except ValidationError:
        if value is None:
            raise ValueError("is empty: write true or false, or leave the field out") from None
        if isinstance(value, int | float):
            raise ValueError(f"{_shown(value)} is a number, {_NOT_YES_NO}") from None
        raise ValueError(f"{_shown(value)} is {_NOT_YES_NO}") from None


def _timestamp(value: Any) -> datetime:
    if isinstance(value, Misread):
        raise ValueError(f"{value.written} is read by YAML as {value.reading}, {_NOT_A_DATE}")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            digits = value.strip()
            hint = _unix_time_hint(int(digits)) if digits.isdigit() and len(digits) < 20 else ""
            raise ValueError(f"{_shown(value)} is not an ISO 8601 date and time{hint}") from None
    else:
        raise ValueError(_not_a_date(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1900 <= moment.year <= 2200:
        shown = value.isoformat() if isinstance(value, date) else _shown(value)
        raise ValueError(f"{shown} is outside the years 1900 to 2200")
    return moment.astimezone(UTC)


def _not_a_date(value: Any) -> str:
    """Why a value YAML typed as something other than a date is not one, in the terms of the
    file (exporters write Unix time, or null for a date they lack)."""
    if value is None:
        return "is empty: an ISO 8601 date and time is required, such as 2026-11-20T16:05:00Z"
    if isinstance(value, bool):
        return f"is a yes/no value to YAML ({str(value).lower()}), {_NOT_A_DATE}"
    if isinstance(value, int | float):
        hint = _unix_time_hint(value)
        return f"is the number {_shown(value)}, {_NOT_A_DATE}{hint}"
    return f"expected an ISO 8601 date and time, got {_shown(value)}"


def _unix_time_hint(value: float) -> str:
    """What a number would be as Unix time, in seconds or milliseconds by its size, when
    that falls in the years accepted; else nothing (an id or a year is not a moment)."""
    if not _UNIX_TIME_RANGE[0] <= value < _UNIX_TIME_RANGE[1] * 1000:  # NaN too; no overflow
        return ""
    for unit, per_second in (("seconds", 1), ("milliseconds", 1000)):
        seconds = value / per_second
        if _UNIX_TIME_RANGE[0] <= seconds < _UNIX_TIME_RANGE[1]:
            moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=0)
            shown = moment.isoformat().replace("+00:00", "Z")
            return f" (read as Unix time in {unit} it is {shown}: write that)"
    return ""


# 1973 to 2200: a smaller number is more likely a year, a count or an id than Unix time.
_UNIX_TIME_RANGE = (1e8, datetime(2201, 1, 1, tzinfo=UTC).timestamp())


def _visible_title(value: str) -> str:
    # A title of zero-width spaces, `<br/>` or `&nbsp;` alone passes a length check but shows
    # as "(untitled)": refused like a blank one, so the newsroom hears of it.
    if not has_visible(readable(value)):
        raise ValueError(
            "shows nothing (only invisible characters or markup): write the headline as text"
        )
    return value


def _topic(value: Any) -> Any:
    if isinstance(value, str):
        return tidy_topic(value)
    return value


OptionalText = Annotated[str, BeforeValidator(_none_as_empty)]
RequiredText = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_visible_title)]
HttpUrlText = Annotated[str, AfterValidator(_http_url)]
Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]
# Numbers as written (``written_numbers``): the validator before the type's own.
Quality = Annotated[int, Field(ge=0, le=100), BeforeValidator(_number)]
Heat = Annotated[int, Field(ge=-1, le=1_000_000_000), BeforeValidator(_number)]
Dimension = Annotated[int | None, Field(ge=0, le=100_000), BeforeValidator(_as_written)]
YesNo = Annotated[bool, WrapValidator(_yes_no)]
# The constraint before the validator: after it, pydantic words a long topic as "100 items".
TopicName = Annotated[str, Field(max_length=100), BeforeValidator(_topic)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, frozen=True)


class ProviderModel(_Model):
    name: OptionalText = ""
    domain: OptionalText = ""


class ImageModel(_Model):
    url: HttpUrlText
    width: Dimension = None
    height: Dimension = None
    isCached: YesNo = False


class _Linked(_Model):
    title: RequiredText
    excerpt: OptionalText = ""
    publishedDateTime: Timestamp | None = None  # required of an article; None: unknown
    webUrl: HttpUrlText | None = None
    originalUrl: HttpUrlText | None = None
    type: OptionalText = "article"
    quality: Quality = 0
    provider: ProviderModel = ProviderModel()

    @model_validator(mode="after")
    def _needs_a_url(self) -> _Linked:
        if not (self.webUrl or self.originalUrl):
            raise ValueError(_NEEDS_URL)
        return self

    @property
    def link(self) -> str:
        return self.webUrl or self.originalUrl or ""


class RelatedModel(_Linked):
    images: Annotated[list[ImageModel], BeforeValidator(_none_as_list)] = []


class ArticleModel(_Linked):
    publishedDateTime: Timestamp
    category: OptionalText = ""
    heat: Heat = -1
    published: YesNo = False
    topics: Annotated[list[TopicName], BeforeValidator(_topic_list)] = []
    images: Annotated[list[ImageModel], BeforeValidator(_none_as_list)] = []
    related: Annotated[list[RelatedModel], BeforeValidator(_none_as_list)] = []
    secured: Any = None


# --- parsing ---------------------------------------------------------------------------------


def read_article_file(
    path: Path, limits: ParseLimits = DEFAULT_LIMITS, *, warnings: list[str] | None = None
) -> ArticleDraft:
    """Read and validate one article file from disk (``warnings``: see ``parse_article``).

    Only regular files are read: links are not followed, and a named pipe, socket or device
    is refused without waiting on it."""
    source = str(path)
    try:
        if not _NO_FOLLOW and path.is_symlink():  # else opening refuses a link by itself
            raise ArticleFileError(source, "file", "is a symbolic link; links are not followed")
        data = _read_regular_file(path, limits.max_file_bytes + 1, source)
    except OSError as error:
        raise ArticleFileError(source, "file", f"cannot be read ({error.strerror})") from None
    return parse_article(data, source=source, limits=limits, warnings=warnings)


_NO_FOLLOW: int = getattr(os, "O_NOFOLLOW", 0)


def _read_regular_file(path: Path, size: int, source: str) -> bytes:
    # O_NONBLOCK: opening a named pipe must not wait for a writer; O_NOFOLLOW: opening a link
    # fails, so a link is refused even if it is put in place after the file was listed.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NO_FOLLOW
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        if path.is_symlink():
            raise ArticleFileError(
                source, "file", "is a symbolic link; links are not followed"
            ) from None
        raise error from None
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise ArticleFileError(
                source, "file", f"is not a regular file ({_kind(status.st_mode)})"
            )
        # Ask for what the file holds (one more byte to see it end), not for ``size``: a
        # buffer of the whole limit per file costs more than reading the file.
        data = handle.read(min(size, status.st_size + 1))
        while len(data) < size:  # it grew since: read on, up to the limit
            more = handle.read(size - len(data))
            if not more:
                break
            data += more
        return data


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "a special file"


def parse_article(
    data: bytes,
    *,
    source: str = "<article>",
    limits: ParseLimits = DEFAULT_LIMITS,
    warnings: list[str] | None = None,
) -> ArticleDraft:
    """Validate the bytes of an article file into a draft ready for the store.

    A bad image or related entry does not refuse the file: it is skipped, or kept without
    what is wrong with it (a related entry's unknown date), and ``warnings`` (when given)
    receives one line about each, such as ``related[1].publishedDateTime: is missing (entry
    kept, date unknown)``."""
    try:
        text = _decode(data, source, limits)
        front_matter, body, first_line = _split_front_matter(text, source)
        loaded = _load_counted(front_matter, source, first_line)
        _check_loaded(loaded, source, limits)
        noted = [] if warnings is None else warnings
        model = _validate(loaded.value, source, noted, misread_numbers(front_matter), front_matter)
        _check_not_ahead(model.publishedDateTime, limits.latest_published, source)
        _warn_cut_by_comment(front_matter, noted)
        _warn_written_twice(front_matter, first_line, noted)
        return _to_draft(model, body, source)
    except ArticleFileError:
        raise
    except Exception as error:  # the promise: nothing but ArticleFileError escapes
        raise ArticleFileError(source, "file", f"cannot be read ({type(error).__name__})") from None


def draft_from_fields(
    fields: dict[str, Any], *, source: str, limits: ParseLimits = DEFAULT_LIMITS
) -> ArticleDraft:
    """Validate front-matter-shaped fields given some other way (a moderator's command)."""
    try:
        _check_list_lengths(fields, source, limits)
        _check_shape(fields, source, limits)
        return _to_draft(_validate(fields, source, []), "", source)
    except ArticleFileError:
        raise
    except Exception as error:  # the same promise as parse_article
        problem = f"is not valid ({type(error).__name__})"
        raise ArticleFileError(source, "article", problem) from None


# What the newsroom can do about a file in another encoding (Windows exporters write UTF-16
# or Windows-1252 by default).
_SAVE_AS_UTF8 = "save or export it as UTF-8"


def _looks_like_utf16(data: bytes) -> bool:
    """A byte-order mark of UTF-16, or ASCII text with a NUL byte after (or before) each
    character, which is how a UTF-16 export of front matter starts."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    head = data[:8]
    return len(head) == 8 and (head[1::2] == bytes(4) or head[0::2] == bytes(4))


def _decode(data: bytes, source: str, limits: ParseLimits) -> str:
    if len(data) > limits.max_file_bytes:
        raise ArticleFileError(
            source, "file", f"is larger than the {limits.max_file_bytes:,}-byte limit"
        )
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16's: a prefix
        raise ArticleFileError(source, "file", f"is UTF-32 text, not UTF-8: {_SAVE_AS_UTF8}")
    if _looks_like_utf16(data):
        raise ArticleFileError(source, "file", f"is UTF-16 text, not UTF-8: {_SAVE_AS_UTF8}")
    nul = data.find(b"\x00")
    if nul != -1:
        raise ArticleFileError(source, "file", f"contains a NUL byte at offset {nul}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArticleFileError(
            source,
            "file",
            f"is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}):"
            f" {_SAVE_AS_UTF8}",
        ) from None
    if text.startswith("\ufeff"):  # a second mark, from exports joined or re-saved
        text = text.lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split_front_matter(text: str, source: str) -> tuple[str, str, int]:
    """Return the YAML text, the body and the file line the YAML starts on."""
    stripped = text.lstrip("\n")
    skipped_lines = len(text) - len(stripped)
    opening, _, rest = stripped.partition("\n")
    if opening.rstrip() != "---":
        raise ArticleFileError(
            source, "front matter", "missing: the file must start with a line '---'"
        )
    end = front_matter_end(rest)
    if end is None:
        raise ArticleFileError(
            source, "front matter", "not terminated: add a line '---' after the last field"
        )
    body = rest[end[1] :].removeprefix("\n")
    return rest[: end[0]], body.strip("\n"), skipped_lines + 2


def front_matter_end(text: str) -> tuple[int, int] | None:
    """Where the first line '---' (or '...') of ``text`` starts and ends, if there is one."""
    first = _FRONT_MATTER_END.match(text)
    if first is not None:
        return first.start(), first.end()
    later = _FRONT_MATTER_END_AFTER_NEWLINE.search(text)
    return (later.start() + 1, later.end()) if later is not None else None


def _load_counted(front_matter: str, source: str, first_line: int) -> front_matter_yaml.Loaded:
    try:
        try:
            counted = front_matter_yaml.load_counted(front_matter)
        except ValueError:  # a timestamp that names no moment (2026-02-30): see the loader
            counted = front_matter_yaml.load_dates_as_written(front_matter)
    except yaml.MarkedYAMLError as error:
        line = first_line + error.problem_mark.line if error.problem_mark else first_line
        if _in_secured(front_matter, error):
            # The problem may quote the value (a tag, say): say where, never what.
            raise ArticleFileError(
                source, "secured", f"YAML syntax error at line {line} (details withheld)"
            ) from None
        problem = error.problem or error.context or "invalid YAML"
        raise ArticleFileError(
            source, "front matter", f"YAML syntax error at line {line}: {problem}"
        ) from None
    except yaml.YAMLError as error:
        raise ArticleFileError(source, "front matter", f"YAML error: {error}") from None
    except RecursionError:
        raise ArticleFileError(source, "front matter", "is nested too deeply") from None
    loaded = counted.value
    if not isinstance(loaded, dict):
        kind = "empty" if loaded is None else f"a {type(loaded).__name__}"
        raise ArticleFileError(
            source, "front matter", f"must be a mapping of fields to values, not {kind}"
        )
    return counted


def _in_secured(front_matter: str, error: yaml.MarkedYAMLError) -> bool:
    """Whether the error points into the lines of the top-level ``secured`` field (a line
    ``secured: ...`` and the lines that follow it up to the next top-level key)."""
    marks = [m.line for m in (error.problem_mark, error.context_mark) if m is not None]
    owner: str | None = None
    for number, line in enumerate(front_matter.split("\n")):
        head, colon, rest = line.partition(":")
        if line.startswith("?"):
            owner = None  # a complex key
        elif colon and line[:1] not in " \t#-[{" and rest[:1] in ("", " ", "\t"):
            owner = head.strip().strip("\"'")  # other lines continue the field above
        if number in marks and owner == "secured":
            return True
    return False


def _check_list_lengths(mapping: dict[Any, Any], source: str, limits: ParseLimits) -> None:
    """Refuse absurd lists by their field before anything walks them."""
    for name, maximum in (
        ("topics", limits.max_topics),
        ("images", limits.max_images),
        ("related", limits.max_related),
    ):
        value = mapping.get(name)
        if name == "topics" and isinstance(value, str):
            value = _topic_list(value)  # `topics: a, b, ...` on one line counts each
        if isinstance(value, list) and len(value) > maximum:
            raise ArticleFileError(
                source, name, f"has {len(value):,} entries; at most {maximum} are accepted"
            )


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_loaded(loaded: front_matter_yaml.Loaded, source: str, limits: ParseLimits) -> None:
    """Refuse absurd lists, then what ``_check_shape`` refuses; its walk is skipped when the
    loader's own count vouches for the shape and no string can hold what the store cannot
    keep (``Loaded.clean``)."""
    _check_list_lengths(loaded.value, source, limits)
    counted_within = (
        loaded.counted and loaded.values <= limits.max_nodes and loaded.depth <= limits.max_depth
    )
    if not loaded.clean or not counted_within:
        _check_shape(loaded.value, source, limits, check_strings=not loaded.clean)


def _check_shape(
    mapping: dict[Any, Any], source: str, limits: ParseLimits, *, check_strings: bool = True
) -> None:
    """Refuse alias bombs and deep nesting before anything walks the values recursively, and
    text the store cannot keep intact (a NUL written as an escape such as ``"\\0"``; a lone
    surrogate, which the pure-Python YAML loader lets through). ``check_strings=False`` skips
    that last check, for a document no string of which can hold either (``Loaded.clean``)."""
    nodes = 0
    stack: list[tuple[Any, int, str]] = [(mapping, 1, "front matter")]
    while stack:
        value, depth, field = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise ArticleFileError(
                source,
                "front matter",
                f"has more than {limits.max_nodes:,} values (YAML aliases expand too far?)",
            )
        if depth > limits.max_depth:
            raise ArticleFileError(
                source, "front matter", f"is nested deeper than {limits.max_depth} levels"
            )
        if isinstance(value, str):
            found = _UNSTORABLE.search(value) if check_strings else None
            if found:
                what = "a NUL character" if found.group() == "\x00" else "a lone surrogate"
                raise ArticleFileError(source, field, f"contains {what}")
        elif isinstance(value, dict):
            for key, item in value.items():
                name = field
                if depth == 1:
                    name = str(key)[:100] if str(key).strip() else "front matter"
                stack.append((key, depth + 1, name))
                stack.append((item, depth + 1, name))
        elif isinstance(value, list | tuple | set):
            stack.extend((item, depth + 1, field) for item in value)


def _validate(
    mapping: dict[Any, Any],
    source: str,
    warnings: list[str],
    misread: dict[FieldPath, Misread] | None = None,
    front_matter: str = "",
) -> ArticleModel:
    """The validated article; what it holds that was skipped or degraded goes to
    ``warnings``. A fault in the article's own fields refuses it (``ArticleFileError``), and
    so does a number YAML reads otherwise than written (``misread``, by its path);
    ``front_matter``, when given, tells how a value refused was written."""
    fields = {key if isinstance(key, str) else str(key): value for key, value in mapping.items()}
    if misread:
        mark_misread(fields, misread)
    start = len(warnings)
    try:
        model = ArticleModel.model_validate(fields)
    except ValidationError as error:
        if not _only_entries_at_fault(error):
            detail = error.errors(include_url=False)[0]
            field, problem = _describe(detail, written=_written(front_matter, detail))
            raise ArticleFileError(source, field, problem) from None
        model, indices = _validated_entry_by_entry(fields, warnings, front_matter)
    else:
        indices = list(range(len(model.related)))
        for index, entry in enumerate(model.related):
            if entry.publishedDateTime is None:
                _warn_undated(warnings, f"related[{index}]")
    model, indices = _without_repeated_links(model, indices, warnings, start)
    return _with_excerpts_cut(model, indices, warnings)


def _only_entries_at_fault(error: ValidationError) -> bool:
    """Whether every fault is inside an image or a related entry (which costs only that)."""
    return all(
        len(loc) > 1 and loc[0] in ("images", "related") and isinstance(loc[1], int)
        for loc in (detail["loc"] for detail in error.errors(include_url=False))
    )


def _validated_entry_by_entry(
    fields: dict[str, Any], warnings: list[str], front_matter: str = ""
) -> tuple[ArticleModel, list[int]]:
    """The article of a file with a bad image or related entry: each one validated on its
    own, bad images skipped, bad related entries skipped or degraded (``_related_entry``);
    and the index in the file of each related entry kept."""
    images = _valid_images(
        _none_as_list(fields.get("images")), "images", warnings, _Written(front_matter, ("images",))
    )
    related: list[RelatedModel] = []
    indices: list[int] = []
    for index, raw in enumerate(_none_as_list(fields.get("related"))):
        written = _Written(front_matter, ("related", index))
        entry = _related_entry(raw, f"related[{index}]", warnings, written)
        if entry is not None:
            related.append(entry)
            indices.append(index)
    article = ArticleModel.model_validate({**fields, "images": [], "related": []})
    return article.model_copy(update={"images": images, "related": related}), indices


def _without_repeated_links(
    model: ArticleModel, indices: list[int], warnings: list[str], start: int
) -> tuple[ArticleModel, list[int]]:
    """The article without the related entries that link to itself (by the identity rule, or
    its www., mobile or AMP edition) or to an entry listed before: each is skipped with a
    warning, in place of those it had (from ``warnings[start:]``)."""
    try:
        own = canonical_url(model.link)
    except InvalidUrlError:
        return model, indices  # the article's own link is refused when the draft is made
    own_host = _edition_host(own)
    kept: list[RelatedModel] = []
    kept_indices: list[int] = []
    first: dict[str, int] = {}
    for index, entry in zip(indices, model.related, strict=True):
        url = canonical_url(entry.link)  # validated: an http(s) URL with a host
        if url == own:
            problem = "is this article's own link"
        elif _edition_host(url) == own_host and (
            url in link_variants(own) or own in link_variants(url)
        ):
            problem = "is this article's own link (its www., mobile or AMP edition)"
        elif url in first:
            problem = f"is the same link as related[{first[url]}]"
        else:
            first[url] = index
            kept.append(entry)
            kept_indices.append(index)
            continue
        within = f"related[{index}]"
        warnings[start:] = [w for w in warnings[start:] if not _about(w, within)]
        _warn(warnings, within, problem, "entry skipped")
    if len(kept) == len(model.related):
        return model, indices
    return model.model_copy(update={"related": kept}), kept_indices


# The longest excerpt stored, in characters. An excerpt is a summary shown on a card (a few
# hundred characters); one of a megabyte is a whole text pasted there, which PostgreSQL's
# full-text index of one article (a tsvector, 1 MiB) cannot hold where SQLite's can: cut here,
# before either engine sees it, both store the same. A title is refused over 1,000.
MAX_EXCERPT = 10_000


def _with_excerpts_cut(
    model: ArticleModel, indices: list[int], warnings: list[str]
) -> ArticleModel:
    """The article with its excerpt and its related entries' cut to ``MAX_EXCERPT``
    characters at a word, with a warning for each."""
    update: dict[str, Any] = {}
    if len(model.excerpt) > MAX_EXCERPT:
        update["excerpt"] = _cut(model.excerpt, "excerpt", warnings)
    if any(len(entry.excerpt) > MAX_EXCERPT for entry in model.related):
        update["related"] = [
            entry.model_copy(
                update={"excerpt": _cut(entry.excerpt, f"related[{i}].excerpt", warnings)}
            )
            if len(entry.excerpt) > MAX_EXCERPT
            else entry
            for i, entry in zip(indices, model.related, strict=True)
        ]
    return model.model_copy(update=update) if update else model


def _cut(excerpt: str, field: str, warnings: list[str]) -> str:
    end = excerpt.rfind(" ", MAX_EXCERPT * 9 // 10, MAX_EXCERPT)  # at a word, if one is near
    cut = excerpt[: end if end > 0 else MAX_EXCERPT - 1].rstrip() + "…"
    _warn(
        warnings,
        field,
        f"is {len(excerpt):,} characters, over the {MAX_EXCERPT:,} an excerpt may hold",
        f"stored cut to its first {len(cut) - 1:,} characters; the full text belongs in the body",
    )
    return cut


def _edition_host(canonical: str) -> str:
    """The host of a ``canonical_url`` without a www., mobile or AMP prefix: two links whose
    hosts differ here are no editions of one page (a quick test before ``link_variants``)."""
    host = canonical[8 : canonical.find("/", 8)]  # after https://
    return host.removeprefix("www.").removeprefix("m.").removeprefix("mobile.").removeprefix("amp.")


def _about(warning: str, within: str) -> bool:
    return warning.startswith((f"{within}.", f"{within}:"))


def _describe_first_error(error: ValidationError, within: str = "") -> tuple[str, str]:
    return _describe(error.errors(include_url=False)[0], within)


@dataclass(frozen=True, slots=True)
class _Written:
    """The front matter a value was loaded from (empty: not known), and where in it the
    values validated are (``("related", 2)`` for the fields of that entry)."""

    front_matter: str = ""
    at: FieldPath = ()

    def within(self, step: str | int) -> _Written:
        return _Written(self.front_matter, (*self.at, step))


def _written(front_matter: str, error: ErrorDetails, at: FieldPath = ()) -> str | None:
    """How the file wrote a value YAML read as a number where text was expected (`1:10`,
    `0x1F`), when that is not how the number reads (70, 31); else None. ``at``: where the
    value validated sits in the front matter."""
    value = error.get("input")
    if not front_matter or not _is_yaml_scalar(value) or not _text_expected(error):
        return None
    written = written_scalar(front_matter, (*at, *error["loc"]))
    return written if written is not None and written != str(value) else None


def _describe(
    error: ErrorDetails, within: str = "", *, written: str | None = None
) -> tuple[str, str]:
    """The field (its path, under ``within``) and the problem of one validation error
    (``written``: how the file wrote the value, when YAML read it otherwise)."""
    field = _field_path(error["loc"], within)
    message = str(error["msg"]).removeprefix("Value error, ")
    if message == _NEEDS_URL:  # raised by the model validator for the entry as a whole
        field = f"{field}.webUrl" if field else "webUrl"
    if error["type"] == "missing":
        return field, "is required"
    if _text_expected(error) and _is_yaml_scalar(error.get("input")):
        return field, _quote_advice(error["input"], written)
    if "secured" not in field and "input" in error and error["type"] != "value_error":
        message = f"{message} (got {_shown(error['input'])})"
    return field, message


def _text_expected(error: ErrorDetails) -> bool:
    """Whether the field at fault takes text: a text field, or ``topics``, which takes one
    topic written alone (``topics: AI``)."""
    return error["type"] == "string_type" or (
        error["type"] == "list_type" and tuple(error["loc"]) == ("topics",)
    )


def _is_yaml_scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float)


def _quote_advice(value: bool | int | float, written: str | None = None) -> str:
    """Why text written unquoted arrived as a yes/no value or a number, and what to write
    (``written``: the text as the file wrote it, when the number reads otherwise)."""
    if isinstance(value, bool):
        return (
            f"is text that YAML reads as {str(value).lower()} (unquoted yes, no, on, off, true and"
            ' false are yes/no values to YAML): put it in quotes, as in "NO"'
        )
    shown = value if written is None else written
    return f'is text that YAML reads as the number {value!r}: put it in quotes, as in "{shown}"'


def _field_path(location: tuple[int | str, ...], within: str = "") -> str:
    path = within
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- building the draft ----------------------------------------------------------------------


def _url_field(model: _Linked, field: str, source: str) -> str:
    try:
        return canonical_url(model.link)
    except InvalidUrlError as error:
        raise ArticleFileError(source, field, str(error)) from None


def _unique_topics(names: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for name in names:
        key = topic_key(name)
        if key and key not in seen:
            seen[key] = name
    return tuple(seen.values())


def _images(models: list[ImageModel]) -> tuple[Image, ...]:
    return tuple(Image(m.url, m.width, m.height, m.isCached) for m in models)


def _provider(model: ProviderModel) -> Provider:
    return Provider(model.name, model.domain)


# A headline or excerpt written unquoted with " #" in it (`title: Council votes #1 priority`):
# YAML reads the rest of the line as a comment, so the stored text stops short of it.
_CUT_BY_COMMENT = re.compile(r"^(title|excerpt):[ \t]+(?![\"'|>])[^\n#]*?[^ \t\n#][ \t]+#", re.M)


def _warn_cut_by_comment(front_matter: str, warnings: list[str]) -> None:
    for match in _CUT_BY_COMMENT.finditer(front_matter):
        _warn(
            warnings,
            match[1],
            "has ' #' unquoted, which YAML reads as the start of a comment",
            "stored without what follows it on the line; quote the value to keep it",
        )


# A line that starts a top-level field; a name seen twice here is looked into by libyaml.
# Searched from the newline before it (a literal first character: see the end of front matter).
_TOP_LEVEL_KEY = re.compile(
    r"""\n([^\s#:'"\[\]{},&*!|>%@`?-][^:\n]*|"[^"\n]*"|'[^'\n]*')[ \t]*:(?=[ \t\n]|$)"""
)
_COMPOSER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _warn_written_twice(front_matter: str, first_line: int, warnings: list[str]) -> None:
    """A field written twice (an exporter appending a corrected title, say) keeps only its
    later value, as YAML loaders do; the earlier one goes without a word unless said here."""
    names = [name.strip("\"'") for name in _TOP_LEVEL_KEY.findall("\n" + front_matter)]
    if len(names) == len(set(names)):
        return
    # The lines above are a cheap guess (a line of a quoted value may look like a field):
    # the composed document says which fields really repeat, and where.
    try:
        root = yaml.compose(front_matter, Loader=_COMPOSER)
    except yaml.YAMLError:
        return
    if not isinstance(root, yaml.MappingNode):
        return
    lines: dict[str, list[int]] = {}
    for key, _ in root.value:
        if isinstance(key, yaml.ScalarNode):
            lines.setdefault(key.value, []).append(first_line + key.start_mark.line)
    for name, where in lines.items():
        if len(where) > 1:
            shown = ", ".join(map(str, where[:-1])) + f" and {where[-1]}"
            _warn(
                warnings,
                name[:100],
                f"is written {_times(len(where))}, on lines {shown}",
                "the last one is stored; keep one",
            )


def _times(count: int) -> str:
    return {2: "twice", 3: "three times"}.get(count, f"{count} times")


def _check_not_ahead(published: datetime, latest: datetime | None, source: str) -> None:
    if latest is None or published <= latest:
        return
    shown = published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    raise ArticleFileError(
        source,
        "publishedDateTime",
        f"is {shown}, {_how_far(published - latest)} past the latest date accepted now"
        " (ingest.max_hours_ahead): a mistyped year or time zone?",
    )


def _how_far(ahead: timedelta) -> str:
    days = ahead / timedelta(days=1)
    if days >= 730:
        return f"{days / 365.25:.0f} years"
    if days >= 2:
        return f"{days:.0f} days"
    return f"{max(ahead / timedelta(hours=1), 1):.0f} hours"


def _warn(warnings: list[str], field: str, problem: str, outcome: str) -> None:
    warnings.append(f"{field}: {problem} ({outcome})")


def _valid_images(
    raw: list[Any], within: str, warnings: list[str], source: _Written
) -> list[ImageModel]:
    """The images that validate; each one that does not is skipped with a warning."""
    images: list[ImageModel] = []
    for index, item in enumerate(raw):
        try:
            images.append(ImageModel.model_validate(item))
        except ValidationError as error:
            detail = error.errors(include_url=False)[0]
            written = _written(source.front_matter, detail, (*source.at, index))
            field, problem = _describe(detail, f"{within}[{index}]", written=written)
            _warn(warnings, field, problem, "image skipped")
    return images


# A related entry is an article only while it has these: without one, it is skipped. (Its
# link is webUrl, else originalUrl; a bad originalUrl beside a good webUrl is just left out.)
_NAMING_FIELDS = frozenset({"", "title", "webUrl"})


def _related_entry(
    raw: Any, within: str, warnings: list[str], source: _Written
) -> RelatedModel | None:
    """A related entry validated on its own: skipped (None) when it cannot name an article
    (a title and an http(s) link), else kept without its bad fields (a bad date makes its
    date unknown); each skip or omission is a warning."""
    if not isinstance(raw, dict):
        _warn(warnings, within, f"is not a mapping of fields (got {_shown(raw)})", "entry skipped")
        return None
    fields = {str(key): value for key, value in raw.items()}
    images = _none_as_list(fields.get("images"))
    if isinstance(images, list):
        fields["images"] = _valid_images(
            images, f"{within}.images", warnings, source.within("images")
        )
    undated = fields.get("publishedDateTime") is None  # (a bad date is warned of below)
    model: RelatedModel | None
    try:
        model = RelatedModel.model_validate(fields)
    except ValidationError as error:
        model = _without_bad_fields(fields, error, within, warnings, source)
    if model is not None and undated:
        _warn_undated(warnings, within)
    return model


def _warn_undated(warnings: list[str], within: str) -> None:
    _warn(warnings, f"{within}.publishedDateTime", "is missing", "entry kept, date unknown")


def _without_bad_fields(
    fields: dict[str, Any],
    error: ValidationError,
    within: str,
    warnings: list[str],
    source: _Written,
) -> RelatedModel | None:
    problems = _problems_by_field(error, within, source)
    naming = [
        name
        for name in problems
        if name in _NAMING_FIELDS or (name == "originalUrl" and not fields.get("webUrl"))
    ]
    if naming:
        field, problem = problems[naming[0]]
        _warn(warnings, field, problem, "entry skipped")
        return None
    for name, (field, problem) in problems.items():
        dated = name == "publishedDateTime"
        _warn(warnings, field, problem, "entry kept, date unknown" if dated else "left out")
        fields.pop(name, None)
    try:
        return RelatedModel.model_validate(fields)
    except ValidationError as again:  # not expected: every field at fault is gone
        field, problem = _describe_first_error(again, within)
        _warn(warnings, field, problem, "entry skipped")
        return None


def _problems_by_field(
    error: ValidationError, within: str, source: _Written
) -> dict[str, tuple[str, str]]:
    """Each entry field at fault ('' for the entry as a whole), with its first problem."""
    problems: dict[str, tuple[str, str]] = {}
    for detail in error.errors(include_url=False):
        name = str(detail["loc"][0]) if detail["loc"] else ""
        if name not in problems:
            written = _written(source.front_matter, detail, source.at)
            problems[name] = _describe(detail, within, written=written)
    return problems


def _related(models: list[RelatedModel], parent_url: str) -> tuple[RelatedDraft, ...]:
    drafts: dict[str, RelatedDraft] = {}
    for model in models:
        url = canonical_url(model.link)  # validated: an http(s) URL with a host
        if url == parent_url or url in drafts:
            continue
        drafts[url] = RelatedDraft(
            canonical_url=url,
            web_url=model.link,
            title=model.title,
            excerpt=model.excerpt,
            published_at=model.publishedDateTime,
            type=model.type or "article",
            quality=model.quality,
            provider=_provider(model.provider),
            images=_images(model.images),
            extra=_jsonable(model.model_extra or {}),
        )
    return tuple(drafts.values())


def _to_draft(model: ArticleModel, body: str, source: str) -> ArticleDraft:
    url = _url_field(model, "webUrl", source)
    return ArticleDraft(
        canonical_url=url,
        web_url=model.link,
        original_url=model.originalUrl or "",
        title=model.title,
        excerpt=model.excerpt,
        published_at=model.publishedDateTime,
        category=model.category,
        type=model.type or "article",
        quality=model.quality,
        heat=model.heat,
        published=model.published,
        provider=_provider(model.provider),
        topics=_unique_topics(model.topics),
        images=_images(model.images),
        related=_related(model.related, url),
        body=body,
        extra=_jsonable(model.model_extra or {}),
        secured=_opaque(model.secured),
    )


def _opaque(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(_jsonable(value), sort_keys=True, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    """Turn what safe YAML can produce into plain JSON values, so unknown keys can be kept."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(str(item) for item in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value
