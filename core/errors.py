"""What a command raises for input it cannot answer; the registry turns these into a `Problem`."""

from __future__ import annotations


class InvalidArguments(Exception):
    """The user's arguments do not fit the command; the message says why."""


class UnknownPaper(Exception):
    """The id is well-formed but neither we nor arXiv know it."""
