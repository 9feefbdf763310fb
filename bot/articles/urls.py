"""URL checks and canonical article identity."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
_ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# The scheme of every identity key: producers move a site from http to https (or write either),
# and the same story must stay one article. Only the key: links shown are kept as written.
IDENTITY_SCHEME = "https"
_IDENTITY_PREFIX = f"{IDENTITY_SCHEME}://"
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "wickedid", "__s", "ncid", "cmpid",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "hsa_")
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")
# Most URLs in article files look like this: lower-case http(s), a plain lower-case host name,
# a path, no port, user, query or fragment. Such a URL is valid and canonical once its scheme
# is https, its path not empty and without a trailing slash, so neither needs urllib; a
# property test holds the shortcut to the long way.
_PLAIN_URL = re.compile(
    r"https?://(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)"
    r"(?P<path>/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?"
)


class InvalidUrlError(ValueError):
    """A URL that topicbot will not store or link to."""


def check_http_url(url: str) -> SplitResult:
    """Split an absolute http(s) URL, refusing anything a member should not be sent to."""
    if len(url) > MAX_URL_LENGTH or len(url.encode("utf-8", "surrogatepass")) > MAX_URL_LENGTH:
        # Bytes, not characters: PostgreSQL's index of article links holds 2,704 bytes a row,
        # and 2,048 characters outside ASCII take up to 8,192.
        raise InvalidUrlError(
            f"URL is longer than {MAX_URL_LENGTH:,} bytes (a character outside ASCII counts 2 to 4)"
        )
    if _UNSAFE.search(url):
        raise InvalidUrlError("URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidUrlError(f"URL does not parse ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in _ALLOWED_SCHEMES:
        shown = f"'{scheme}:'" if scheme else "no scheme"
        raise InvalidUrlError(f"URL has {shown}; only http and https links are allowed")
    if not parts.hostname:
        raise InvalidUrlError("URL has no host")
    if "@" in parts.netloc:
        # https://discord.com@evil.example/ shows one host and opens another
        raise InvalidUrlError(
            "URL has user information (name@ before the host), which disguises the site it opens"
        )
    del port  # parsed only to reject malformed ports
    return parts


def require_http_url(url: str) -> None:
    """Refuse (``InvalidUrlError``) what ``check_http_url`` refuses; quick for a plain URL."""
    if len(url) > MAX_URL_LENGTH or not _PLAIN_URL.fullmatch(url):
        check_http_url(url)


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str, parts: SplitResult | None = None) -> str:
    """The identity of an article: ``https`` whichever of http or https is written, the host
    lower-cased, ports 80 and 443 dropped, fragment and tracking parameters dropped, trailing
    slashes of the path dropped (an empty path is '/'). ``www.`` stays: it can be another
    site. ``parts``: ``check_http_url``'s answer for this URL, when the caller has it already.
    Idempotent, so a stored key read through it again gives the key ingest would compute."""
    plain = _PLAIN_URL.fullmatch(url) if len(url) <= MAX_URL_LENGTH else None
    if plain is not None:
        return _IDENTITY_PREFIX + plain["host"] + _identity_path(plain["path"] or "/")
    return canonical_from_parts(parts or check_http_url(url))


def canonical_from_parts(parts: SplitResult) -> str:
    """``canonical_url`` the long way, from ``check_http_url``'s answer."""
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port in (None, *_DEFAULT_PORTS.values()) else f"{host}:{port}"
    path = _identity_path(parts.path or "/")
    return urlunsplit((IDENTITY_SCHEME, netloc, path, _without_tracking(parts.query), ""))


def _identity_path(path: str) -> str:
    """``path`` without its trailing slashes (``/a/b/`` is ``/a/b``), the root kept: producers
    add or drop that slash as they please, and a server serves one page either way."""
    return path.rstrip("/") or "/"


def _without_tracking(query: str) -> str:
    """``query`` without its tracking parameters, the others kept as written: re-encoding
    them would make ``?amp&utm_source=x`` (``amp=``) or ``?q=a%20b&fbclid=1`` (``q=a+b``)
    another article than the same link shared without tracking."""
    pieces = query.split("&")
    kept = [p for p in pieces if p and not _is_tracking(unquote_plus(p.partition("=")[0]))]
    return query if len(kept) == len(pieces) else "&".join(kept)


# Host prefixes an outlet serves the same page under (mobile and AMP editions, ``www.``).
_EDITION_HOSTS = ("www.", "m.", "mobile.", "amp.")
# Query parameters that ask for an outlet's AMP edition of a page.
_AMP_PARAMS = frozenset({"amp", "amp=1", "amp=true", "outputtype=amp", "output=amp"})


def link_variants(canonical: str) -> list[str]:
    """Other spellings of the link ``canonical`` (a ``canonical_url``) that open the same page,
    for finding a pasted link stored under another: with or without ``www.``, the mobile or
    AMP edition (``m.``, ``amp.``, a path ending in ``/amp``, ``?amp``, ``?outputType=amp``).
    Scheme and trailing slash need no variant: the identity ignores them. Never ``canonical``
    itself; each once; at most two."""
    parts = urlsplit(canonical)
    host = parts.netloc
    for prefix in _EDITION_HOSTS:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    path = parts.path
    for suffix in ("/amp/", "/amp", ".amp"):
        if path.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)]
            break
    query = "&".join(p for p in parts.query.split("&") if p and p.lower() not in _AMP_PARAMS)
    bare = _identity_path(path)
    variants: list[str] = []
    for netloc in (host, "www." + host):
        url = urlunsplit((IDENTITY_SCHEME, netloc, bare, query, ""))
        if url != canonical and url not in variants:
            variants.append(url)
    return variants


def stored_identity(key: str) -> str:
    """The identity ingest computes today for a stored ``canonical_url``: the same key, but for
    an article set aside under another when two stored ones met under one key (SQLite's
    migration 0023, PostgreSQL's 0017), whose old key reads as the one it met."""
    try:
        return canonical_url(key)
    except InvalidUrlError:
        return key
