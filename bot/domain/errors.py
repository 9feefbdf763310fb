"""Mistakes a member can fix. The message says what to type; the bot shows it privately."""

from __future__ import annotations

from collections.abc import Sequence

from storage.models import Article


class UserError(Exception):
    """A request that cannot be carried out as given, with a message for the member."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class StoryNotFound(UserError):
    """No story by that id or link among what the server's members see."""

    def __init__(self, message: str, story: str, near: Sequence[Article] = ()) -> None:
        super().__init__(message)
        self.story = story  # as typed, on one line: Discord's replies escape it, a terminal not
        # stories whose headline holds what was typed (a few words, not a full headline)
        self.near = list(near)


class AmbiguousStory(UserError):
    """A headline typed out in full that several stories members see carry."""

    def __init__(self, message: str, story: str, titled: list[str]) -> None:
        super().__init__(message)
        self.story = story
        # "id (outlet, date)" of each, for the operator's command line
        self.titled = titled
