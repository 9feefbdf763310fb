"""Mistakes a member can fix. The message says what to type; the bot shows it privately."""

from __future__ import annotations


class UserError(Exception):
    """A request that cannot be carried out as given, with a message for the member."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)
