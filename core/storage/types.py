"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in, aware UTC datetimes out.

    SQLite has no time zones: values are stored as naive UTC text, which sorts correctly, and
    come back aware so the engine never compares naive with aware times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; naive values are taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, write the text SQLAlchemy's DATETIME would, in one step.

        The generic path (normalise, then the dialect's formatter) costs several microseconds
        a value, which shows when a batch binds tens of thousands of them.
        """
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return sqlite_text

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        """On SQLite, read the stored text back as an aware datetime, remembering recent ones.

        A read of papers with their signals repeats each paper's times on every signal row,
        and parsing one costs several microseconds.
        """
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _READ.time

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _RecentTexts:
    """The texts of the datetimes written last, by identity: two generations of `size` each.

    A share's time is written again as its sharer's first and last share, and a batch's clock
    once per paper: an identity lookup costs a tenth of formatting. An entry holds its datetime,
    so an id is not reused while it is kept.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._new: dict[int, tuple[datetime, str]] = {}
        self._old: dict[int, tuple[datetime, str]] = {}

    def text(self, value: datetime) -> str:
        key = id(value)
        entry = self._new.get(key) or self._old.get(key)
        if entry is not None and entry[0] is value:
            return entry[1]
        if len(self._new) >= self._size:
            self._old, self._new = self._new, {}
        text = utc_text(value)
        self._new[key] = (value, text)
        return text


_RECENT = _RecentTexts(1 << 14)  # two generations hold an import batch's times (20,000)


def sqlite_text(value: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS.ffffff` in UTC: the storage format of SQLAlchemy's SQLite DATETIME."""
    if value is None:
        return None
    return _RECENT.text(value)


def utc_text(value: datetime) -> str:
    """`sqlite_text` of one datetime, formatted afresh."""
    if value.tzinfo is UTC:
        # The usual case, and a hot one (an import binds millions): drop "+00:00" from the
        # text rather than build a naive copy first.
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


class _ReadTimes:
    """Datetimes of the SQLite texts read last: at most `size`, forgotten all at once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._times: dict[str, datetime] = {}

    def time(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        moment = self._times.get(value)
        if moment is None:
            if len(self._times) >= self._size:
                self._times = {}
            moment = datetime.fromisoformat(value)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            self._times[value] = moment
        return moment


_READ = _ReadTimes(4096)
