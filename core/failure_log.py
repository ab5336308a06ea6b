"""Logging a failure that repeats as a few lines: the first, a summary now and then, the recovery.

A database outage fails every job at every run; a line (let alone a traceback) each time buries
what happened. Here an expected failure (see `core.faults.is_expected`) is one line saying what
failed, why and what happens next; while the same failure goes on, a line every
`summary_every` says it is still failing and since when; recovery is logged once. A failure that
is not expected is a bug: it is logged with its traceback, once per kind of exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import SystemClock
from core.faults import describe_error, is_expected
from core.ports import Clock

SUMMARY_EVERY = timedelta(minutes=5)


@dataclass(slots=True)
class _Streak:
    """Failures in a row of one task."""

    since: datetime
    reason: str
    logged_at: datetime
    times: int = 1


class FailureLog:
    """Logs the failures and recoveries of named tasks; one instance per set of tasks."""

    def __init__(
        self,
        logger: logging.Logger,
        clock: Clock | None = None,
        *,
        summary_every: timedelta = SUMMARY_EVERY,
    ) -> None:
        self._logger = logger
        self._clock = clock or SystemClock()
        self._every = summary_every
        self._streaks: dict[str, _Streak] = {}
        self._traced: set[tuple[str, str]] = set()  # (task, exception type) shown with traceback

    def failed(self, what: str, exc: BaseException, then: str) -> None:
        """Record that `what` failed with `exc`; `then` says what happens next."""
        now = self._clock.now()
        reason = describe_error(exc)
        streak = self._streaks.get(what)
        if streak is None:
            self._streaks[what] = _Streak(since=now, reason=reason, logged_at=now)
            self._log(what, exc, f"{what} failed: {reason}; {then}")
            return
        streak.times += 1
        if reason != streak.reason:
            streak.reason, streak.logged_at = reason, now
            self._log(what, exc, f"{what} failed again, differently: {reason}; {then}")
        elif now - streak.logged_at >= self._every:
            streak.logged_at = now
            since = f"{streak.since:%H:%M:%S}"
            self._log(
                what, exc, f"{what} still failing ({streak.times} times since {since}): {reason}"
            )

    def succeeded(self, what: str) -> None:
        """Record that `what` worked; logs the recovery if it had been failing."""
        streak = self._streaks.pop(what, None)
        if streak is not None:
            self._logger.warning(
                "%s recovered after %d failure%s since %s",
                what,
                streak.times,
                "" if streak.times == 1 else "s",
                f"{streak.since:%H:%M:%S}",
            )

    def _log(self, what: str, exc: BaseException, line: str) -> None:
        if is_expected(exc):
            self._logger.warning("%s", line)
            return
        kind = (what, type(exc).__qualname__)
        traced = kind in self._traced
        self._traced.add(kind)
        self._logger.error("%s", line, exc_info=None if traced else exc)
