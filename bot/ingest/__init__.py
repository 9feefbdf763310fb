"""Ingest: article files found (``discovery``), parsed off the event loop (``workers``), stored
in batches (``writer``), and the inbox scan that moves them aside (``inbox``). No Discord."""
