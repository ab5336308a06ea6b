"""Saying in words what a failed database operation means for the person who ran it."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from core.faults import describe_error
from core.storage import database

# Driver messages, lower-cased, and what they mean. SQLite says "database is locked" once the
# busy timeout has passed; PostgreSQL says "could not extend file ... No space left on device".
_LOCKED = ("database is locked", "database table is locked")
_FULL = ("database or disk is full", "no space left on device", "disk full")


def database_fault(exc: BaseException) -> str | None:
    """What went wrong with the database, for a one-line message; None if it is not its fault.

    A locked database, a full disk and an unreachable server are faults of the environment,
    which running the command again can mend; anything else is a bug and is left to propagate.
    """
    if not isinstance(exc, DBAPIError | OSError):
        return None
    text = str(getattr(exc, "orig", None) or exc).lower()
    if any(mark in text for mark in _LOCKED):
        waited = f"{database.BUSY_TIMEOUT_SECONDS:g}"
        return f"the database is locked by another process (waited {waited} s for it)"
    if any(mark in text for mark in _FULL):
        return "the database or its disk is full"
    if isinstance(exc, OSError) or exc.connection_invalidated:
        return "the database cannot be reached"
    if isinstance(exc, OperationalError | InterfaceError):
        return "the database failed: " + describe_error(exc)
    return None
