"""The delivery outbox: planning rows (``planning``), sending due ones (``sending``) and each
target's health (``health``), over the row of ``rows``. See ``storage.outbox.repository``."""
