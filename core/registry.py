"""The command registry: requests in, replies out, written once for every platform."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from core.faults import log_failure
from core.models import ChatRef
from core.replies import Problem, Reply

logger = logging.getLogger(__name__)

CALLBACK_LIMIT = 64  # Telegram's callback_data limit in bytes; Discord allows 100.


class InvalidArguments(Exception):
    """The user's arguments do not fit the command; the message says why."""


class UnknownPaper(Exception):
    """The id is well-formed but neither we nor arXiv know it."""


@dataclass(frozen=True, slots=True)
class Request:
    """One command as a user sent it, stripped of its platform."""

    chat: ChatRef
    user_id: str
    args: tuple[str, ...] = ()
    is_admin: bool = False


Handler = Callable[[Request], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Command:
    """A command: its name, how to call it, what it does and the code that does it."""

    name: str
    usage: str
    summary: str
    example: str
    handler: Handler
    admin_only: bool = False


class Registry:
    """The commands every platform exposes, dispatched with errors turned into `Problem`."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self._commands = {c.name: c for c in commands}

    @property
    def commands(self) -> tuple[Command, ...]:
        """Every command, in registration order."""
        return tuple(self._commands.values())

    @property
    def names(self) -> frozenset[str]:
        """The names of every command."""
        return frozenset(self._commands)

    def get(self, name: str) -> Command | None:
        """Return the command called `name`, if any."""
        return self._commands.get(name.lower())

    async def dispatch(self, name: str, request: Request) -> Reply:
        """Run a command; bad input and failures come back as a short `Problem`."""
        command = self.get(name)
        if command is None:
            return Problem(f"Unknown command /{name}. Try /help.")
        if command.admin_only and not request.is_admin:
            return Problem(f"Only an admin of this chat can use /{command.name}.")
        try:
            return await command.handler(request)
        except InvalidArguments as exc:
            return Problem(str(exc), usage=command.usage)
        except UnknownPaper as exc:
            return Problem(str(exc))
        except Exception as exc:
            then = "the user was told to try again"
            log_failure(logger, exc, "command /%s failed", command.name, then=then)
            return Problem(f"Sorry, /{command.name} failed on our side. Please try again later.")


def parse_line(line: str) -> tuple[str, tuple[str, ...]] | None:
    """Split a typed line like `/top@SomeBot 5 week` into `("top", ("5", "week"))`.

    Returns None when the line is not a command.
    """
    text = line.strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    if not name:
        return None
    try:
        args = tuple(shlex.split(rest))
    except ValueError:  # an unbalanced quote: fall back to plain words
        args = tuple(rest.split())
    return name, args


def encode_callback(command: str, args: tuple[str, ...]) -> str | None:
    """Encode a command re-run as button data, or None if it does not fit the limit."""
    data = " ".join((command, *args))
    return data if len(data.encode()) <= CALLBACK_LIMIT else None


def decode_callback(data: str) -> tuple[str, tuple[str, ...]] | None:
    """Decode button data made by `encode_callback`; None for anything else."""
    parts = data.split()
    if not parts:
        return None
    return parts[0].lower(), tuple(parts[1:])
