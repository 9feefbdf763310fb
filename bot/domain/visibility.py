"""What members see: one rule for every path by which a member reads articles.

Members of a server see an article when both hold:

- it is not another server's own: an article a server's moderators added with ``/article add``
  is shown in that server only (until a file brings the same link, making it everyone's);
- it is coverage-only (known only as another file's ``related`` entry, which nobody publishes
  or retracts), or it is published in their server: its moderators published it, or the source
  did (``published: true``) and they have not retracted it.

So a full article that is pending or retracted in a server is never shown to its members:
not by ``/related`` (a story, a query, the story autocomplete), ``/latest``, the counts of
``/topics``, "Also covered by" in alerts, nor ``topicbot related --guild``. Its moderators see
pending ones in ``/queue`` and ``/publish``. Alerts go only to what is published (planning's
own rule, ``storage.outbox.planning``).

The rule is written once, as SQL: ``storage.visibility.members_see``; topic counts are kept by
it (migration 0011).
"""

from __future__ import annotations

# A server that added nothing of its own and decided nothing: it sees what the source
# published, and coverage. ``topicbot related`` without ``--guild`` sees as it does.
NO_GUILD = 0
