"""``python -m bot``: the same as the ``topicbot`` command."""

import sys

from bot.cli import main

sys.exit(main())
