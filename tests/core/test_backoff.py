from __future__ import annotations

import random
from itertools import islice

import pytest

from core.backoff import Backoff, longest


def test_backoff_ceiling_doubles_up_to_the_cap():
    backoff = Backoff(first=2.0, cap=30.0)
    assert [backoff.ceiling(n) for n in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.ceiling(10_000) == 30.0  # no overflow however long the outage


def test_backoff_delay_is_full_jitter_below_the_ceiling():
    rng = random.Random(7)
    backoff = Backoff(first=1.0, cap=60.0, jitter=rng.random)
    waits = [backoff.delay(5) for _ in range(2000)]
    assert all(0.0 <= w < 32.0 for w in waits)
    # Spread over the whole range, not bunched at the ceiling as plain doubling would be.
    assert min(waits) < 1.0
    assert max(waits) > 31.0
    assert sum(waits) / len(waits) == pytest.approx(16.0, rel=0.05)


def test_backoff_delay_is_reproducible_with_a_seeded_random():
    first = [Backoff(jitter=random.Random(3).random).delay(4) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    assert Backoff(first=1.0, cap=60.0, jitter=lambda: 0.25).delay(4) == 4.0


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(None, 2.0), (1.0, 2.0), (45.0, 45.0), (600.0, 600.0)],
)
def test_backoff_delay_never_undercuts_retry_after(retry_after, expected):
    backoff = Backoff(first=1.0, cap=60.0, jitter=lambda: 0.5)
    assert backoff.delay(2, retry_after) == expected


def test_backoff_delays_grow_with_each_attempt():
    backoff = Backoff(first=0.5, cap=4.0, jitter=longest)
    assert list(islice(backoff.delays(), 6)) == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
