"""The command registry: requests in, replies out, written once for every platform."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

from core.errors import InvalidArguments, UnknownPaper
from core.faults import log_failure
from core.grammar import quote, tokenize
from core.models import ChatRef
from core.replies import Failure, Problem, Reply

logger = logging.getLogger(__name__)

CALLBACK_LIMIT = 64  # Telegram's callback_data limit in bytes; Discord allows 100.


@dataclass(frozen=True, slots=True)
class Request:
    """One command as a user sent it, stripped of its platform."""

    chat: ChatRef
    user_id: str
    args: tuple[str, ...] = ()
    is_admin: bool = False
    # False where no digest can go, as in Discord's direct messages (/subscribe is refused there).
    digests_here: bool = True
    # Arguments a platform took as typed values (Discord's options), e.g. `core.arguments.TopArgs`:
    # the command checks them and reads no words.
    typed: object | None = None


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

    async def dispatch_text(self, name: str, text: str, request: Request) -> Reply:
        """Run a command on its arguments as typed: core's grammar reads them (`tokenize`)."""
        args = read_arguments(text)
        if isinstance(args, Problem):
            return args
        return await self.dispatch(name, replace(request, args=args))

    async def dispatch(self, name: str, request: Request) -> Reply:
        """Run a command; bad input comes back as a short `Problem`, a crash as a `Failure`."""
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
            return Failure(f"Sorry, /{command.name} failed on our side. Please try again later.")


def read_arguments(text: str) -> tuple[str, ...] | Problem:
    """A command's arguments as typed, read by core's grammar; a `Problem` for an overlong line."""
    try:
        return tokenize(text)
    except InvalidArguments as exc:
        return Problem(str(exc))


def encode_callback(command: str, args: tuple[str, ...]) -> str | None:
    """Encode a command re-run as button data, or None if it does not fit the limit."""
    words = [quote(word) for word in (command, *args)]
    if any(word is None for word in words):
        return None
    data = " ".join(word for word in words if word is not None)
    return data if len(data.encode()) <= CALLBACK_LIMIT else None


def decode_callback(data: str) -> tuple[str, tuple[str, ...]] | None:
    """Decode button data made by `encode_callback`; None for anything else."""
    try:
        parts = tokenize(data)
    except InvalidArguments:
        return None
    if not parts:
        return None
    return parts[0].lower(), tuple(parts[1:])
