"""Pacing Bot API calls to Telegram's overall limit without losing time to a busy event loop."""

from __future__ import annotations

import asyncio
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from types import TracebackType

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

# How many slots behind the schedule a call may be and still keep it; so also the most calls
# that can start together, catching up.
CATCH_UP_SLOTS = 4


class _Call:
    """One paced call: when it was let go, and when its answer came back."""

    __slots__ = ("answered",)

    def __init__(self) -> None:
        self.answered: asyncio.Future[float] = asyncio.get_running_loop().create_future()


_current: ContextVar[_Call | None] = ContextVar("adapters.telegram.pacing.call", default=None)


class SteadyPace:
    """At most `rate` calls in any second as Telegram counts them, about 1/rate apart.

    Use it as `async with pace:` around the call. Two rules:

    * Calls take the slots of a fixed schedule, 1/rate apart. An `AsyncLimiter(1, 1 / rate)`
      (an evenly spaced bucket) counts 1/rate from when the previous call actually went, so
      every late wake-up of a busy event loop is lost for good: at 300 calls a second, a
      millisecond late each time is a fifth of the rate. Here a call a little late does not
      move the slots after it (the next ones catch up, at most `CATCH_UP_SLOTS` at once);
      after a quiet spell the schedule starts afresh, without a burst.
    * A call starts only `window` seconds after the answer to the call `rate` calls before it.
      Telegram counts a call somewhere between our sending it and its answer, and a busy loop
      or machine can hold up one call more than another; counting from the answer keeps any
      `window` of Telegram's within `rate` calls however uneven those delays.

    A call that Telegram answers with `RetryAfter` pauses every call for as long as Telegram
    asked. (PTB's own pause lets calls through as soon as any other call ends.)
    """

    def __init__(
        self,
        rate: float,
        *,
        window: float = 1.0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._interval = 1 / rate
        self._window = window
        self._calls: deque[_Call] = deque(maxlen=max(1, int(rate * window)))
        self._next = float("-inf")
        self._paused_until = float("-inf")
        self._turn = asyncio.Lock()
        self._clock = clock
        self._sleep = sleep

    async def __aenter__(self) -> None:
        """Wait for this call's slot."""
        await self.acquire()

    async def acquire(self) -> None:
        """Wait for this call's slot."""
        # One caller waits at a time, so one wake-up a call, not one for every caller waiting.
        async with self._turn:
            # A call let in late by a busy loop keeps the schedule, so the lateness does not add
            # up; one that finds the schedule long past (after a quiet spell) starts it afresh.
            now = self._now()
            behind = now - self._next
            slot = now if behind > CATCH_UP_SLOTS * self._interval else self._next
            while True:
                start = max(slot, self._paused_until)
                if len(self._calls) == self._calls.maxlen:
                    answered = self._calls[0].answered
                    if not answered.done():
                        await asyncio.wait([answered])
                    start = max(start, answered.result() + self._window)
                now = self._now()
                if start <= now:
                    break
                await self._sleep(start - now)  # then look again: a 429 may have come meanwhile
            self._next = start + self._interval
            call = _Call()
            self._calls.append(call)
            _current.set(call)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Note when the answer came; pause every call if it was `RetryAfter`."""
        call = _current.get()
        if call is not None and not call.answered.done():
            _current.set(None)
            call.answered.set_result(self._now())
        if isinstance(exc, RetryAfter):
            self.pause(retry_after_seconds(exc))

    def pause(self, seconds: float) -> None:
        """Start no call for `seconds` from now."""
        self._paused_until = max(self._paused_until, self._now() + seconds)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()


def retry_after_seconds(error: RetryAfter) -> float:
    """Seconds Telegram asked us to wait, whichever type PTB gives them in."""
    # PTB 22 warns on every read of `retry_after`; v23 makes it a timedelta.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
