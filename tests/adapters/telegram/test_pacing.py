"""The overall pace of Bot API calls: the rate is kept, and used, on a busy event loop too.

Time here is virtual: sleeping advances a clock that only the tests and the pacer read, and a
wake-up can be made to come late, as on a loaded machine.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable

import pytest
from telegram.error import RetryAfter

from adapters.telegram.pacing import SteadyPace


class VirtualTime:
    """A clock and a `sleep` for the pacer; `run` plays the sleeps out in order of wake-up."""

    def __init__(self, late: float = 0.0) -> None:
        self.now = 1000.0
        self.late = late  # how much later than asked every wake-up comes
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        wake = self.now + max(seconds, 0.0) + self.late
        heapq.heappush(self._sleepers, (wake, next(self._order), future))
        await future

    async def run(self, *calls: Awaitable[object]) -> None:
        tasks = [asyncio.ensure_future(c) for c in calls]
        while not all(t.done() for t in tasks):
            for _ in range(20):  # let every task that can go on reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers:
                self.now, _, future = heapq.heappop(self._sleepers)
                future.set_result(None)
        for task in tasks:
            task.result()


class Log:
    """When each call started and when its answer came back."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, float]] = []

    @property
    def starts(self) -> list[float]:
        return sorted(start for start, _ in self.calls)


def caller(
    pace: SteadyPace, time: VirtualTime, log: Log, answer_after: float = 0.0
) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        async with pace:
            start = time.now
            if answer_after:
                await time.sleep(answer_after)
            log.calls.append((start, time.now))

    return call


def most_in_a_window(calls: list[tuple[float, float]], window: float) -> int:
    """The most calls Telegram could count in one `window`, counting each at any moment
    between its start and its answer: those that overlap the window at all."""
    return max(
        sum(1 for start, answer in calls if answer >= t and start < t + window) for _, t in calls
    )


async def test_calls_go_out_evenly_at_the_rate() -> None:
    time = VirtualTime()
    pace, log = SteadyPace(10, clock=time.clock, sleep=time.sleep), Log()

    await time.run(*(caller(pace, time, log)() for _ in range(30)))

    gaps = [b - a for a, b in itertools.pairwise(log.starts)]
    assert gaps == pytest.approx([0.1] * 29)


@pytest.mark.parametrize("late", [0.01, 0.15], ids=["within-a-slot", "over-a-slot"])
async def test_late_wake_ups_do_not_slow_the_rate_down(late: float) -> None:
    # An evenly spaced bucket would lose the lateness on every call: 10% or 150% of 10/s.
    time = VirtualTime(late=late)
    pace, log = SteadyPace(10, clock=time.clock, sleep=time.sleep), Log()

    await time.run(*(caller(pace, time, log)() for _ in range(51)))

    # 50 gaps of 0.1 s; a late wake-up costs once a second (the window), not once a call.
    took = log.starts[-1] - log.starts[0]
    assert 5.0 <= took <= 5.0 + 6 * late
    assert most_in_a_window(log.calls, 1.0) <= 10


@pytest.mark.parametrize("answers", [0.05, 0.6], ids=["prompt", "slow"])
async def test_no_second_holds_more_calls_than_the_rate_however_slow_the_answers(
    answers: float,
) -> None:
    time = VirtualTime(late=0.003)
    pace, log = SteadyPace(20, clock=time.clock, sleep=time.sleep), Log()
    calls = [caller(pace, time, log, answers * (1 + i % 3))() for i in range(120)]

    await time.run(*calls)

    assert len(log.calls) == 120
    assert most_in_a_window(log.calls, 1.0) <= 20


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_pauses_every_call_for_as_long_as_telegram_asked() -> None:
    time = VirtualTime()
    pace, log = SteadyPace(10, clock=time.clock, sleep=time.sleep), Log()
    refused_at: list[float] = []

    async def refused() -> None:
        async with pace:
            refused_at.append(time.now)
            raise RetryAfter(3)

    with pytest.raises(RetryAfter):
        await time.run(refused(), *(caller(pace, time, log)() for _ in range(5)))

    assert min(log.starts) >= refused_at[0] + 3


async def test_calls_after_a_quiet_spell_do_not_come_in_a_burst() -> None:
    time = VirtualTime()
    pace, log = SteadyPace(10, clock=time.clock, sleep=time.sleep), Log()
    await time.run(caller(pace, time, log)())
    time.now += 60

    await time.run(*(caller(pace, time, log)() for _ in range(20)))

    gaps = [b - a for a, b in itertools.pairwise(log.starts[1:])]
    assert gaps == pytest.approx([0.1] * 19)
