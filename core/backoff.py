"""How long to wait before trying again: exponential, capped, with full jitter.

Every retry in the project waits through `Backoff`. Full jitter (a uniformly random wait up to
the exponential ceiling) keeps many clients that failed together, such as replicas after a
network blip, from retrying together; the cap keeps a long outage from growing the wait
without bound; a server's Retry-After is a floor, never shortened by the jitter.

The retry loops themselves differ too much (a poller's next due time, a delivery's retry row,
a reconnecting stream, an HTTP call) for one retry decorator to fit them all, so this computes
only the waits.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count

# 2.0 ** 1024 overflows a float; any cap is reached long before this many doublings.
_MAX_DOUBLINGS = 64


def longest() -> float:
    """A jitter that always picks the ceiling: the deterministic, longest wait."""
    return 1.0


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits of up to `first * 2**attempt` seconds, at most `cap`, drawn by `jitter`.

    `jitter` returns a number in [0, 1), as `random.random` does; tests pass a seeded
    `random.Random(...).random` or a constant.
    """

    first: float = 1.0
    cap: float = 60.0
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry `attempt` (0 is the first retry)."""
        doublings = min(max(attempt, 0), _MAX_DOUBLINGS)
        return min(self.cap, self.first * 2.0**doublings)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """A random wait up to `ceiling(attempt)`, but never less than a server's `retry_after`."""
        wait = self.jitter() * self.ceiling(attempt)
        return wait if retry_after is None else max(wait, retry_after)

    def delays(self) -> Iterator[float]:
        """The wait before each retry, forever."""
        return (self.delay(attempt) for attempt in count())
