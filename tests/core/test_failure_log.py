import asyncio
import logging
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from core.failure_log import FailureLog
from core.scheduling import Job, Scheduler
from tests.fakes import FixedClock

START = datetime(2026, 12, 5, 22, 58, 6, tzinfo=UTC)
LOGGER = "tests.failure_log"


def locked() -> OperationalError:
    return OperationalError(
        "INSERT INTO mentions VALUES (?)", ("x",), sqlite3.OperationalError("database is locked")
    )


@pytest.fixture
def clock():
    return FixedClock(START)


@pytest.fixture
def failures(clock):
    return FailureLog(logging.getLogger(LOGGER), clock)


def lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_an_outage_is_one_line_then_a_summary_then_one_recovery(failures, clock, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    for _ in range(12):  # a job every 30 s for six minutes
        failures.failed("job sources", locked(), "next try in 30 s")
        clock.advance(timedelta(seconds=30))
    failures.failed("job sources", locked(), "next try in 30 s")
    failures.succeeded("job sources")
    failures.succeeded("job sources")  # recovery is said once
    assert lines(caplog) == [
        "job sources failed: sqlite3.OperationalError: database is locked; next try in 30 s",
        "job sources still failing (11 times since 22:58:06):"
        " sqlite3.OperationalError: database is locked",
        "job sources recovered after 13 failures since 22:58:06",
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_different_reason_is_said_at_once(failures, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    failures.failed("job metadata", locked(), "next try in 60 s")
    failures.failed(
        "job metadata", ConnectionRefusedError(111, "Connection refused"), "next try in 60 s"
    )
    failures.failed("job digest-send", TimeoutError(), "next try in 10 s")
    assert lines(caplog) == [
        "job metadata failed: sqlite3.OperationalError: database is locked; next try in 60 s",
        "job metadata failed again, differently:"
        " ConnectionRefusedError: [Errno 111] Connection refused; next try in 60 s",
        "job digest-send failed: TimeoutError: timed out; next try in 10 s",
    ]


def test_a_bug_gets_its_traceback_once(failures, clock, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    for _ in range(3):
        try:
            {}["missing"]
        except KeyError as exc:
            failures.failed("job digest-dispatch", exc, "next try in 60 s")
        clock.advance(timedelta(minutes=6))
    errors = [r for r in caplog.records if r.name == LOGGER]
    assert [r.levelno for r in errors] == [logging.ERROR] * 3
    assert [r.exc_info is not None for r in errors] == [True, False, False]
    assert errors[1].getMessage().startswith("job digest-dispatch still failing (2 times since")


async def test_a_scheduled_job_failing_on_the_database_logs_one_line_and_its_recovery(caplog):
    runs, done = 0, asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 6:
            done.set()
        if runs <= 4:
            raise locked()

    caplog.set_level(logging.INFO, logger="core.scheduling")
    scheduler = Scheduler([Job("sources", flaky, 0.02)])
    scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await scheduler.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == "core.scheduling"]
    assert messages[:2] == [
        "job sources failed: sqlite3.OperationalError: database is locked; next try in 0.02 s",
        f"job sources recovered after 4 failures since {messages[1][-8:]}",
    ]
    assert "Traceback" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
