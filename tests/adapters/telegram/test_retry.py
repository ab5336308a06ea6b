"""Flood limits are waited out and network faults retried, unless a retry could double a send."""

from __future__ import annotations

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from adapters.telegram.app import build_application
from adapters.telegram.retry import RetryingRateLimiter, safe_to_retry
from core.registry import Registry


def failing(*errors: Exception):
    calls = []

    async def callback() -> bool:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return True

    return callback, calls


def caused_by(error: NetworkError, cause: Exception) -> NetworkError:
    error.__cause__ = cause
    return error


async def run(limiter: RetryingRateLimiter, callback, endpoint="sendMessage"):
    return await limiter.process_request(callback, (), {}, endpoint, {"chat_id": 1}, None)


# PTB 22.x warns whenever it builds a RetryAfter (its `retry_after` becomes a timedelta in v23).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_is_obeyed_then_succeeds():
    callback, calls = failing(RetryAfter(0), RetryAfter(0))
    assert await run(RetryingRateLimiter(max_retries=3, backoff=0), callback) is True
    assert len(calls) == 3


async def test_connection_errors_are_retried_with_backoff():
    not_sent = caused_by(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused"))
    callback, calls = failing(not_sent, not_sent)
    assert await run(RetryingRateLimiter(backoff=0), callback) is True
    assert len(calls) == 3


async def test_retries_give_up_after_the_limit():
    error = NetworkError("reset")
    callback, calls = failing(*[error] * 10)
    with pytest.raises(NetworkError):
        await run(RetryingRateLimiter(network_retries=2, backoff=0), callback, "getChatMember")
    assert len(calls) == 3


async def test_send_that_may_have_arrived_is_not_resent():
    callback, calls = failing(caused_by(TimedOut(), httpx.ReadTimeout("slow")))
    with pytest.raises(TimedOut):
        await run(RetryingRateLimiter(backoff=0), callback, "sendMessage")
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("error", "endpoint", "expected"),
    [
        (BadRequest("Message is too long"), "getMe", False),
        (TimedOut(), "editMessageText", True),
        (TimedOut(), "answerCallbackQuery", True),
        (caused_by(TimedOut(), httpx.PoolTimeout("pool")), "sendMessage", True),
        (caused_by(NetworkError("x"), httpx.RemoteProtocolError("eof")), "sendMessage", False),
    ],
)
def test_safe_to_retry(error, endpoint, expected):
    assert safe_to_retry(error, endpoint) is expected


@pytest.mark.parametrize(("overall", "group"), [(30, 20), (12, 5)])
def test_build_application_paces_with_the_configured_limits(overall, group):
    limits = {"overall_max_rate": overall, "group_max_rate": group}
    defaults = overall == 30 and group == 20
    app = build_application("123:TEST", Registry([]), **({} if defaults else limits))
    limiter = app.bot.rate_limiter
    assert isinstance(limiter, RetryingRateLimiter)
    # AIORateLimiter keeps its limits in private attributes only.
    assert limiter._base_limiter is not None
    base = limiter._base_limiter
    # Evenly spaced: one message per 1/rate seconds, never a second's worth at once.
    assert base.max_rate == 1
    assert base.max_rate / base.time_period == pytest.approx(overall)
    assert limiter._group_max_rate == group
