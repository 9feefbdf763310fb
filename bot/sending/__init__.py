"""Sending to Discord: the dispatcher, what it sends through, and the pacing."""
