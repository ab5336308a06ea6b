"""The real clock; tests use a fixed one."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Reads the machine's time, in UTC."""

    def now(self) -> datetime:
        """Return the current time."""
        return datetime.now(UTC)
