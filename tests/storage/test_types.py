"""Times are stored on SQLite as the text SQLAlchemy's own DATETIME type writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from core.storage.types import UtcDateTime, sqlite_text

# SQLAlchemy's formatter for SQLite DATETIME, fed naive UTC as UtcDateTime's generic path does.
_GENERIC = sqlite.DATETIME().bind_processor(sqlite.dialect())
_GENERIC_READ = sqlite.DATETIME().result_processor(sqlite.dialect(), None)
_READ = UtcDateTime().result_processor(sqlite.dialect(), None)
_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
)


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)), _ZONES)
def test_aware_times_are_stored_as_their_utc_text(moment: datetime, zone: timezone) -> None:
    aware = moment.replace(tzinfo=zone)
    naive_utc = aware.astimezone(UTC).replace(tzinfo=None)
    assert _GENERIC is not None
    assert sqlite_text(aware) == _GENERIC(naive_utc)


def test_naive_times_are_taken_as_utc_and_none_stays_none() -> None:
    moment = datetime(2016, 7, 22, 10, 0, 0, 5)
    assert sqlite_text(moment) == "2016-07-22 10:00:00.000005"
    assert sqlite_text(moment.replace(tzinfo=UTC)) == "2016-07-22 10:00:00.000005"
    assert sqlite_text(None) is None


def test_times_written_again_get_their_own_text_however_many_came_between() -> None:
    # Past the remembered texts of recent writes (an import batch's worth) and back.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    moments = [start + timedelta(seconds=n, microseconds=n % 7) for n in range(50_000)]
    first = [sqlite_text(m) for m in moments]
    again = [sqlite_text(m) for m in reversed(moments)]
    fresh = [sqlite_text(m + timedelta(0)) for m in moments]  # equal times, other objects
    assert first == again[::-1] == fresh
    assert first[1] == "2026-01-01 00:00:01.000001"
    assert first[-1] == (start + timedelta(seconds=49_999, microseconds=49_999 % 7)).strftime(
        "%Y-%m-%d %H:%M:%S.%f"
    )


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)), _ZONES)
def test_stored_times_read_back_as_the_same_aware_utc_moment(
    moment: datetime, zone: timezone
) -> None:
    aware = moment.replace(tzinfo=zone)
    text = sqlite_text(aware)
    assert _READ is not None
    assert _GENERIC_READ is not None
    for _ in range(2):  # read afresh, then as remembered
        back = _READ(text)
        assert back == aware
        assert back.tzinfo is UTC
        assert back == _GENERIC_READ(text).replace(tzinfo=UTC)
    assert _READ(None) is None
    # What SQLAlchemy's DATETIME also reads: no microseconds, or a date alone.
    assert _READ("2016-07-22 10:00:00") == datetime(2016, 7, 22, 10, tzinfo=UTC)
    assert _READ("2016-07-22") == datetime(2016, 7, 22, tzinfo=UTC)
