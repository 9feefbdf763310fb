"""``python -m bot``: the same as the ``topicbot`` command."""

import sys

from bot.cli import main

# Guarded: ingest's worker processes (spawned) import this module again as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
