"""Discord's limits on a message that its OpenAPI description does not carry.

The description (``discord-api-spec/openapi.json``) bounds each embed field alone (title 256,
description 4096, field value 1024, ...) but not what Discord checks across them, and it gives
``content`` 4,000 characters (the limit for Nitro users) where a bot has 2,000. These come from
Discord's developer documentation:

- "Embed Limits" (docs/resources/message, section "Embed Limits"): "the combined sum of
  characters in all ``title``, ``description``, ``field.name``, ``field.value``,
  ``footer.text``, and ``author.name`` fields across all embeds attached to a message must not
  exceed 6000 characters"; refused with ``embeds: Embed size exceeds maximum size of 6000``.
- "Create Message" (docs/resources/message#create-message, JSON params): ``content`` "Message
  contents (up to 2000 characters)"; the same for interaction responses and webhooks.
- Embed URLs (``url``, ``image.url``, ``thumbnail.url``, ``author.url``): Discord refuses one
  that is not a well-formed http(s) URL (``Not a well formed URL.``; ``Scheme "ftp" is not
  supported. Scheme must be one of ('http', 'https').``); the spec's ``format: uri`` is not
  checked by the validator, so it is checked here (images may also be ``attachment://``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

CONTENT_LIMIT = 2000
EMBEDS_TOTAL_LIMIT = 6000


def embed_size(embed: dict[str, Any]) -> int:
    """The characters of one embed that count towards the 6,000 of a message."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    for field in embed.get("fields") or []:
        size += len(field.get("name") or "") + len(field.get("value") or "")
    return size


def _well_formed(url: str, *, attachment: bool = False) -> bool:
    if attachment and url.startswith("attachment://"):
        return True
    if any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _message_issues(body: dict[str, Any], where: str) -> list[str]:
    issues = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        issues.append(f"{where}content: Must be {CONTENT_LIMIT} or fewer in length.")
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        total = sum(embed_size(e) for e in embeds if isinstance(e, dict))
        if total > EMBEDS_TOTAL_LIMIT:
            issues.append(
                f"{where}embeds: Embed size exceeds maximum size of {EMBEDS_TOTAL_LIMIT} "
                f"(got {total})"
            )
        for i, embed in enumerate(embeds):
            if not isinstance(embed, dict):
                continue
            urls = [("url", embed.get("url"), False)]
            for part in ("image", "thumbnail"):
                urls.append((f"{part}.url", (embed.get(part) or {}).get("url"), True))
            urls.append(("author.url", (embed.get("author") or {}).get("url"), False))
            for name, url, attachment in urls:
                if isinstance(url, str) and not _well_formed(url, attachment=attachment):
                    issues.append(f"{where}embeds/{i}/{name}: Not a well formed URL.")
    return issues


def limit_issues(body: Any) -> list[str]:
    """What Discord would refuse in a request body beyond its OpenAPI description: a message
    body (create, edit, webhook) or an interaction callback's ``data``."""
    if not isinstance(body, dict):
        return []
    issues = _message_issues(body, "")
    data = body.get("data")
    if isinstance(data, dict) and "type" in body:
        issues += _message_issues(data, "data/")
    return issues
