"""Times go in aware in any zone and come back as the same aware UTC moment, in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.dialects import sqlite

from core.storage.database import create_engine
from core.storage.types import UtcDateTime

_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
)
_TIMES = Table(
    "times", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime())
)


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30)), _ZONES)
def test_aware_times_are_bound_as_naive_utc_on_sqlite(moment: datetime, zone: timezone) -> None:
    aware = moment.replace(tzinfo=zone)
    bound = UtcDateTime().process_bind_param(aware, sqlite.dialect())
    assert bound == aware.astimezone(UTC).replace(tzinfo=None)


async def test_stored_times_read_back_as_the_same_moment_in_order() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    berlin = timezone(timedelta(hours=1))
    moments = [
        datetime(2016, 7, 22, 10, 0, 0, 5, tzinfo=berlin),
        datetime(2016, 7, 22, 9, 30, tzinfo=UTC),
        datetime(2016, 7, 22, 8, 59),  # naive: taken as UTC
        None,
    ]
    async with engine.begin() as connection:
        await connection.run_sync(_TIMES.metadata.create_all)
        await connection.execute(_TIMES.insert(), [{"at": m} for m in moments])
        rows = (await connection.execute(select(_TIMES.c.at).order_by(_TIMES.c.at))).scalars()
        back = list(rows)
    await engine.dispose()
    assert back == [None, moments[2].replace(tzinfo=UTC), moments[0], moments[1]]
    assert all(m is None or m.tzinfo is UTC for m in back)
