"""Describing a failure in one line of a log or a health record."""

from __future__ import annotations

import logging
import re

from core.ports import SourceUnavailable

LIMIT = 200  # characters of a description; a driver's message can run to pages

# PEP 249 names these for faults of the database's operation rather than of the program: a lost
# connection, a locked or full database. Every driver (and SQLAlchemy's wrapper) uses the names.
_DATABASE_FAULTS = frozenset({"OperationalError", "InterfaceError"})

# "(sqlite3.OperationalError) database is locked": how SQLAlchemy names the driver's error.
_DRIVER_PREFIX = re.compile(r"^\((?P<name>[\w.]+)\)\s*")
# The password of a URL a message quotes (`postgresql://user:secret@host/db`).
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][\w+.-]*://[^/\s:@]*:)[^@\s/]*@", re.IGNORECASE)


def describe_error(exc: BaseException) -> str:
    """Say what went wrong in one line: the exception's type and its message.

    Never ends in an empty reason: `str(TimeoutError())` is '', so a timeout without a message
    reads "TimeoutError: timed out", and any other exception without one reads as its type.
    Only the first line of the message is kept (SQLAlchemy appends the statement and its
    parameters), and a password in a URL is masked.
    """
    name = type(exc).__name__
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else ""
    driver = _DRIVER_PREFIX.match(text)
    if driver:
        name, text = driver.group("name"), text[driver.end() :]
    if not text:
        text = "timed out" if _is_timeout(exc) else ""
    described = f"{name}: {text}" if text else name
    described = _URL_PASSWORD.sub(r"\g<head>***@", described)
    return described if len(described) <= LIMIT else described[: LIMIT - 1] + "…"


def _is_timeout(exc: BaseException) -> bool:
    # httpx's and websockets' timeouts are not TimeoutError subclasses, but say so by name.
    return isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower()


def is_expected(exc: BaseException) -> bool:
    """Whether a failure comes from outside the program: a network, a service or the database.

    Those are logged in one line; anything else is a bug and deserves its traceback. The causes
    of an exception count too, so a wrapped connection error is still expected.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError | TimeoutError | SourceUnavailable):
            return True
        if any(cls.__name__ in _DATABASE_FAULTS for cls in type(current).__mro__):
            return True
        current = current.__cause__ or current.__context__
    return False


def log_failure(
    log: logging.Logger, exc: BaseException, message: str, *args: object, then: str = ""
) -> None:
    """Log a failure: one line with its reason and `then` if expected, its traceback if a bug."""
    if is_expected(exc):
        log.warning(message + ": %s" + ("; " + then if then else ""), *args, describe_error(exc))
    else:
        log.error(message, *args, exc_info=exc)
