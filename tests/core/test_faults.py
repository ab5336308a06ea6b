import sqlite3

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from core.faults import describe_error


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (TimeoutError(), "TimeoutError: timed out"),
        (httpx.ReadTimeout(""), "ReadTimeout: timed out"),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "ConnectionRefusedError: [Errno 111] Connection refused",
        ),
        (ValueError(), "ValueError"),
        (RuntimeError("arXiv said no"), "RuntimeError: arXiv said no"),
    ],
)
def test_describe_error_never_ends_in_an_empty_reason(exc, expected):
    assert describe_error(exc) == expected


def test_describe_error_keeps_the_driver_error_and_drops_the_statement():
    exc = OperationalError(
        "INSERT INTO mentions VALUES (?)",
        ("secret text",),
        sqlite3.OperationalError("database is locked"),
    )
    assert describe_error(exc) == "sqlite3.OperationalError: database is locked"


def test_describe_error_masks_a_password_in_a_url_and_stays_short():
    exc = OSError("cannot reach postgresql://bot:hunter2@db.example/prod " + "x" * 500)
    text = describe_error(exc)
    assert "hunter2" not in text
    assert text.startswith("OSError: cannot reach postgresql://bot:***@db.example/prod x")
    assert len(text) == 200
    assert "\n" not in describe_error(RuntimeError("first line\nsecond line"))
