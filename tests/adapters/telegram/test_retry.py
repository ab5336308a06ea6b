"""Flood limits are waited out and network faults retried, unless a retry could double a send."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from adapters.telegram.app import build_application
from adapters.telegram.retry import RetryingRateLimiter, safe_to_retry
from core.backoff import Backoff
from core.registry import Registry

NO_WAIT = Backoff(0.0, 0.0)


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


async def run(limiter: RetryingRateLimiter, callback, endpoint="sendMessage", rate_limit_args=None):
    data = {"chat_id": 1}
    return await limiter.process_request(callback, (), {}, endpoint, data, rate_limit_args)


# PTB 22.x warns whenever it builds a RetryAfter (its `retry_after` becomes a timedelta in v23).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_is_obeyed_then_succeeds():
    callback, calls = failing(RetryAfter(0), RetryAfter(0))
    assert await run(RetryingRateLimiter(max_retries=3, backoff=NO_WAIT), callback) is True
    assert len(calls) == 3


async def test_connection_errors_are_retried_with_backoff():
    not_sent = caused_by(NetworkError("httpx.ConnectError"), httpx.ConnectError("refused"))
    callback, calls = failing(not_sent, not_sent)
    assert await run(RetryingRateLimiter(backoff=NO_WAIT), callback) is True
    assert len(calls) == 3


async def test_retries_give_up_after_the_limit():
    error = NetworkError("reset")
    callback, calls = failing(*[error] * 10)
    with pytest.raises(NetworkError):
        await run(
            RetryingRateLimiter(network_retries=2, backoff=NO_WAIT), callback, "getChatMember"
        )
    assert len(calls) == 3


async def test_send_that_may_have_arrived_is_not_resent():
    callback, calls = failing(caused_by(TimedOut(), httpx.ReadTimeout("slow")))
    with pytest.raises(TimedOut):
        await run(RetryingRateLimiter(backoff=NO_WAIT), callback, "sendMessage")
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
    assert (limiter.overall_max_rate, limiter.group_max_rate) == (overall, group)


async def test_group_calls_wait_for_their_groups_bucket_and_private_chats_do_not():
    limiter = RetryingRateLimiter(overall_max_rate=0, group_max_rate=1)  # one a minute a group
    done: list[object] = []

    def call(chat_id: object):
        async def callback() -> bool:
            done.append(chat_id)
            return True

        return limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    tasks = [asyncio.ensure_future(call(c)) for c in (-100, -100, "-100", "@news", 7, 7, "8", -200)]
    await asyncio.sleep(0.05)

    # -100 (also as "-100") has used its one message of the minute; the rest went at once.
    assert sorted(map(str, done)) == sorted(["-100", "@news", "7", "7", "8", "-200"])
    assert [t.done() for t in tasks] == [True, False, False, True, True, True, True, True]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_pauses_calls_to_every_chat_and_without_a_chat():
    limiter = RetryingRateLimiter(overall_max_rate=100, backoff=NO_WAIT)
    loop = asyncio.get_running_loop()
    started: list[tuple[str, float]] = []
    flooded = asyncio.Event()

    def callback(name: str, fail: bool = False):
        async def run_once() -> bool:
            started.append((name, loop.time()))
            if fail and not flooded.is_set():
                flooded.set()
                raise RetryAfter(timedelta(seconds=0.2))
            return True

        return run_once

    first = asyncio.ensure_future(
        limiter.process_request(callback("send", True), (), {}, "sendMessage", {"chat_id": 1}, None)
    )
    await flooded.wait()
    others = [
        limiter.process_request(callback("getMe"), (), {}, "getMe", {}, None),
        limiter.process_request(callback("other"), (), {}, "sendMessage", {"chat_id": 2}, None),
    ]
    assert await asyncio.gather(first, *others) == [True, True, True]

    flood_at = started[0][1]
    assert sorted(name for name, _ in started[1:]) == ["getMe", "other", "send"]
    assert all(at >= flood_at + 0.2 for _, at in started[1:])


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_call_may_ask_for_fewer_flood_retries():
    callback, calls = failing(*[RetryAfter(0)] * 5)
    with pytest.raises(RetryAfter):
        await run(RetryingRateLimiter(max_retries=3, backoff=NO_WAIT), callback, rate_limit_args=1)
    assert len(calls) == 2


async def test_network_retries_wait_a_random_part_of_the_backoff(monkeypatch):
    waits: list[float] = []

    async def fake_sleep(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    error = NetworkError("reset")
    callback, _ = failing(error, error, error)
    backoff = Backoff(first=0.5, cap=1.5, jitter=lambda: 0.5)
    assert await run(RetryingRateLimiter(backoff=backoff), callback, "getChatMember") is True
    assert waits == [0.25, 0.5, 0.75]
