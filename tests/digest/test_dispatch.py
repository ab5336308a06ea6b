"""The dispatcher with a fixed clock: one digest per chat and local day, whatever the clocks do.

Simulated runs tick every minute on the in-memory store and every 15 minutes on SQL stores
(every subscription here is due on a quarter hour, so no due moment falls between ticks).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.digest import (
    GRACE,
    MISSED_LOOKBACK,
    describe_delivery,
    dispatch_due_digests,
    due_at,
)
from core.ports import PaperRepository
from core.sending import send_pending_deliveries
from core.subscriptions import SubscriptionStore
from tests.conftest import STORES
from tests.digest.support import (
    chat,
    dispatch_every,
    queued,
    shared_papers,
    subscription,
)
from tests.fakes import InMemorySubscriptionStore, RecordingSink

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
ROOM = chat("-1001")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time in `zone` (the first one, if it happens twice), in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def tick(subscriptions: SubscriptionStore) -> timedelta:
    fake = isinstance(subscriptions, InMemorySubscriptionStore)
    return timedelta(minutes=1 if fake else 15)


# --- when a digest is due -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 1, 15), utc(2026, 1, 15, 6, 30), id="winter"),
        pytest.param(date(2026, 7, 15), utc(2026, 7, 15, 5, 30), id="summer"),
    ],
)
async def test_berlin_0730_is_due_at_0630_utc_in_winter_and_0530_utc_in_summer(
    subscriptions: SubscriptionStore, day: date, expected: datetime
) -> None:
    sub = subscription(ROOM, time(7, 30), BERLIN, created_at=expected - timedelta(hours=12))
    await subscriptions.subscribe(sub)

    assert due_at(sub, day) == expected
    assert await dispatch_due_digests(subscriptions, expected - timedelta(minutes=1)) == 0
    assert await dispatch_due_digests(subscriptions, expected) == 1
    [delivery] = await queued(subscriptions)
    assert (delivery.local_date, delivery.due_at, delivery.status) == (day, expected, "sending")


WEEKS = [
    # zone, time, first local day of the week, the day the clocks change
    pytest.param(BERLIN, time(7, 30), date(2026, 3, 26), id="berlin-spring-0730"),
    pytest.param(BERLIN, time(2, 30), date(2026, 3, 26), id="berlin-spring-0230-in-the-gap"),
    pytest.param(BERLIN, time(7, 30), date(2026, 10, 22), id="berlin-fall-0730"),
    pytest.param(BERLIN, time(2, 30), date(2026, 10, 22), id="berlin-fall-0230-twice"),
    pytest.param(NEW_YORK, time(7, 30), date(2026, 3, 5), id="new-york-spring-0730"),
    pytest.param(NEW_YORK, time(2, 30), date(2026, 3, 5), id="new-york-spring-0230-in-the-gap"),
    pytest.param(NEW_YORK, time(1, 30), date(2026, 10, 29), id="new-york-fall-0130-twice"),
    pytest.param(NEW_YORK, time(2, 30), date(2026, 10, 29), id="new-york-fall-0230"),
    pytest.param(NEW_YORK, time(0, 0), date(2026, 10, 29), id="new-york-fall-midnight"),
    pytest.param(BERLIN, time(23, 45), date(2026, 3, 26), id="berlin-spring-2345"),
]


async def assert_one_digest_a_day(
    store: SubscriptionStore, zone: str, at: time, first_day: date, days: int, step: timedelta
) -> None:
    """Tick the dispatcher over `days` local days; each gets one digest, enqueued on time."""
    start = local(zone, first_day.year, first_day.month, first_day.day)
    sub = subscription(ROOM, at, zone, created_at=start)
    await store.subscribe(sub)

    added = await dispatch_every(store, start, start + timedelta(days=days), step)

    deliveries = sorted(await queued(store), key=lambda d: d.local_date)
    assert [d.local_date for d in deliveries] == [
        first_day + timedelta(days=i) for i in range(days)
    ]
    assert sum(new for _, new in added) == days
    for delivery, (added_at, _) in zip(deliveries, added, strict=True):
        assert delivery.due_at == due_at(sub, delivery.local_date)
        assert delivery.due_at <= added_at < delivery.due_at + step
        wall = delivery.due_at.astimezone(ZoneInfo(zone))
        assert wall.date() == delivery.local_date
        assert wall.time() >= at  # the same time, or just after a gap the clocks jumped


@pytest.mark.parametrize("store", ["memory"])
@pytest.mark.parametrize(("zone", "at", "first_day"), WEEKS)
async def test_every_local_day_of_a_dst_week_gets_exactly_one_digest_at_its_time(
    subscriptions: SubscriptionStore, zone: str, at: time, first_day: date
) -> None:
    await assert_one_digest_a_day(subscriptions, zone, at, first_day, 7, timedelta(minutes=1))


@pytest.mark.parametrize("store", STORES[1:])
@pytest.mark.parametrize(
    ("zone", "at", "first_day"),
    [
        pytest.param(BERLIN, time(2, 30), date(2026, 3, 28), id="berlin-spring-0230-in-the-gap"),
        pytest.param(NEW_YORK, time(1, 30), date(2026, 10, 31), id="new-york-fall-0130-twice"),
    ],
)
async def test_sql_stores_get_one_digest_a_day_across_a_clock_change(
    subscriptions: SubscriptionStore, zone: str, at: time, first_day: date
) -> None:
    await assert_one_digest_a_day(subscriptions, zone, at, first_day, 3, timedelta(minutes=15))


@pytest.mark.parametrize(
    ("zone", "at", "day", "expected"),
    [
        pytest.param(
            BERLIN, time(2, 30), date(2026, 10, 25), utc(2026, 10, 25, 0, 30), id="berlin"
        ),
        pytest.param(
            NEW_YORK, time(1, 30), date(2026, 11, 1), utc(2026, 11, 1, 5, 30), id="new-york"
        ),
    ],
)
def test_a_time_that_happens_twice_is_due_at_its_first_occurrence(
    zone: str, at: time, day: date, expected: datetime
) -> None:
    assert due_at(subscription(ROOM, at, zone), day) == expected


@pytest.mark.parametrize(
    ("zone", "day", "gap_end"),
    [
        pytest.param(BERLIN, date(2026, 3, 29), utc(2026, 3, 29, 1, 0), id="berlin"),
        pytest.param(NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 7, 0), id="new-york"),
    ],
)
def test_a_time_in_the_spring_forward_gap_is_due_within_the_hour_after_the_gap(
    zone: str, day: date, gap_end: datetime
) -> None:
    moment = due_at(subscription(ROOM, time(2, 30), zone), day)

    assert gap_end <= moment <= gap_end + timedelta(minutes=30)
    assert moment.astimezone(ZoneInfo(zone)).date() == day


ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    at=st.times().map(lambda t: time(t.hour, t.minute)),
    day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
)
def test_each_local_date_has_one_due_moment_on_that_date_later_than_the_one_before(
    zone: str, at: time, day: date
) -> None:
    sub = subscription(ROOM, at, zone)

    moment = due_at(sub, day)

    assert moment.astimezone(ZoneInfo(zone)).date() == day
    assert due_at(sub, day - timedelta(days=1)) < moment < due_at(sub, day + timedelta(days=1))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    at=st.sampled_from(
        [time(0, 0), time(0, 30), time(1, 30), time(2, 30), time(3, 0), time(23, 30)]
    ),
    start=st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 28)).map(
        lambda d: d.replace(minute=d.minute // 15 * 15, second=0, microsecond=0, tzinfo=UTC)
    ),
)
async def test_a_dispatcher_ticking_every_quarter_hour_never_skips_or_doubles_a_day(
    zone: str, at: time, start: datetime
) -> None:
    store = InMemorySubscriptionStore()
    sub = subscription(ROOM, at, zone, created_at=start)
    await store.subscribe(sub)
    end = start + timedelta(days=3)

    await dispatch_every(store, start, end, timedelta(minutes=15))

    days = [d.local_date for d in store.deliveries()]
    first = start.astimezone(ZoneInfo(zone)).date()
    wanted = [
        first + timedelta(days=i)
        for i in range(-1, 5)
        if start <= due_at(sub, first + timedelta(days=i)) < end
    ]
    assert days == wanted
    assert all(d.status == "pending" for d in store.deliveries())


# --- re-runs, new subscriptions, downtime -----------------------------------------------------


async def test_running_the_dispatcher_twice_enqueues_nothing_new(
    subscriptions: SubscriptionStore,
) -> None:
    for n in range(3):
        await subscriptions.subscribe(subscription(chat(f"-10{n}"), time(7, 30 + n)))
    now = utc(2026, 11, 27, 9, 0)

    first = await dispatch_due_digests(subscriptions, now)
    second = await dispatch_due_digests(subscriptions, now)
    later = await dispatch_due_digests(subscriptions, now + timedelta(hours=1))

    assert (first, second, later) == (6, 0, 0)  # yesterday's and today's, once each


async def test_subscription_created_after_todays_time_gets_its_first_digest_tomorrow(
    subscriptions: SubscriptionStore,
) -> None:
    created = utc(2026, 11, 26, 12, 0)
    await subscriptions.subscribe(subscription(ROOM, time(7, 30), created_at=created))

    added = await dispatch_every(
        subscriptions, created, created + timedelta(days=1), tick(subscriptions)
    )

    assert added == [(utc(2026, 11, 27, 7, 30), 1)]
    [delivery] = await queued(subscriptions)
    assert delivery.local_date == date(2026, 11, 27)


async def test_subscription_created_before_todays_time_gets_todays_digest(
    subscriptions: SubscriptionStore,
) -> None:
    created = utc(2026, 11, 26, 7, 0)
    await subscriptions.subscribe(subscription(ROOM, time(7, 30), created_at=created))

    added = await dispatch_every(
        subscriptions, created, created + timedelta(hours=2), tick(subscriptions)
    )

    assert added == [(utc(2026, 11, 26, 7, 30), 1)]


async def test_digest_missed_while_down_for_less_than_the_grace_is_sent_at_restart(
    subscriptions: SubscriptionStore, digest_papers: PaperRepository
) -> None:
    evening = local(BERLIN, 2026, 11, 26, 20, 0)
    await subscriptions.subscribe(subscription(ROOM, time(7, 30), BERLIN, created_at=evening))
    await shared_papers(digest_papers, 3, at=local(BERLIN, 2026, 11, 27, 6))
    sink = RecordingSink("telegram")
    went_down, restart = local(BERLIN, 2026, 11, 27, 7, 0), local(BERLIN, 2026, 11, 27, 12, 0)
    assert restart - local(BERLIN, 2026, 11, 27, 7, 30) <= GRACE

    before = await dispatch_every(subscriptions, evening, went_down, tick(subscriptions))
    at_restart = await dispatch_due_digests(subscriptions, restart)
    report = await send_pending_deliveries(
        subscriptions, digest_papers, {"telegram": sink}, restart
    )

    assert (before, at_restart, report.sent) == ([], 1, 1)
    assert sink.chats == [ROOM]
    last = await subscriptions.last_delivery(ROOM)
    assert last is not None
    assert (last.local_date, last.status, last.finished_at) == (date(2026, 11, 27), "sent", restart)


@pytest.mark.parametrize(
    ("late", "status"),
    [
        pytest.param(GRACE, "pending", id="exactly-the-grace"),
        pytest.param(GRACE + timedelta(minutes=1), "missed", id="a-minute-more"),
    ],
)
async def test_grace_is_counted_from_the_due_moment(
    subscriptions: SubscriptionStore, late: timedelta, status: str
) -> None:
    await subscriptions.subscribe(subscription(ROOM, time(7, 30)))

    await dispatch_due_digests(subscriptions, utc(2026, 11, 27, 7, 30) + late)

    last = await subscriptions.last_delivery(ROOM)
    assert last is not None
    assert (last.local_date, last.status) == (date(2026, 11, 27), status)


async def test_digest_missed_while_down_until_the_next_day_is_recorded_as_missed(
    subscriptions: SubscriptionStore, digest_papers: PaperRepository
) -> None:
    evening = local(BERLIN, 2026, 11, 26, 20, 0)
    await subscriptions.subscribe(subscription(ROOM, time(7, 30), BERLIN, created_at=evening))
    await shared_papers(digest_papers, 3, at=local(BERLIN, 2026, 11, 28, 6))
    sink = RecordingSink("telegram")
    sinks = {"telegram": sink}
    went_down = local(BERLIN, 2026, 11, 27, 7, 0)
    restart = local(BERLIN, 2026, 11, 28, 6, 0)  # before the new day's 07:30

    await dispatch_every(subscriptions, evening, went_down, tick(subscriptions))
    at_restart = await dispatch_due_digests(subscriptions, restart)
    report = await send_pending_deliveries(subscriptions, digest_papers, sinks, restart)

    assert (at_restart, report.sent, sink.sent) == (1, 0, [])
    last = await subscriptions.last_delivery(ROOM)
    assert last is not None
    assert (last.local_date, last.status) == (date(2026, 11, 27), "missed")
    assert describe_delivery(last) == (
        "Last digest: missed for 2026-11-27 (the bot was down too long)."
    )

    next_morning = local(BERLIN, 2026, 11, 28, 7, 30)
    assert await dispatch_due_digests(subscriptions, next_morning) == 1
    await send_pending_deliveries(subscriptions, digest_papers, sinks, next_morning)
    assert sink.chats == [ROOM]


async def test_each_day_missed_during_an_outage_of_several_days_is_recorded_as_missed() -> None:
    store = InMemorySubscriptionStore()
    evening = local(BERLIN, 2026, 11, 22, 20, 0)
    await store.subscribe(subscription(ROOM, time(7, 30), BERLIN, created_at=evening))
    went_down = local(BERLIN, 2026, 11, 23, 9, 0)  # just after the 23rd's digest was queued
    restart = local(BERLIN, 2026, 11, 28, 8, 0)  # half an hour after the 28th's was due
    await dispatch_every(store, evening, went_down, timedelta(minutes=1))

    added = await dispatch_due_digests(store, restart, since=went_down)

    assert added == 5
    assert {d.local_date.day: d.status for d in store.deliveries()} == {
        23: "pending",
        24: "missed",
        25: "missed",
        26: "missed",
        27: "missed",
        28: "pending",
    }


async def test_an_outage_longer_than_the_lookback_records_only_its_last_days() -> None:
    store = InMemorySubscriptionStore()
    await store.subscribe(subscription(ROOM, time(7, 30), created_at=utc(2026, 1, 1)))
    restart = utc(2026, 11, 28, 8, 0)

    await dispatch_due_digests(store, restart, since=utc(2026, 6, 1))

    days = [d.local_date for d in store.deliveries()]
    oldest = (restart - MISSED_LOOKBACK).date() - timedelta(days=1)
    assert days == [oldest + timedelta(days=n) for n in range((restart.date() - oldest).days + 1)]


@pytest.mark.parametrize(
    ("season", "expected"),
    [
        pytest.param(
            date(2026, 11, 27),
            # Kolkata +05:30, Chatham +13:45 (its summer), St John's -03:30
            {
                "Asia/Kolkata": utc(2026, 11, 27, 2, 0),
                "Pacific/Chatham": utc(2026, 11, 26, 17, 45),
                "America/St_Johns": utc(2026, 11, 27, 11, 0),
                "UTC": utc(2026, 11, 27, 7, 30),
            },
            id="november",
        ),
        pytest.param(
            date(2026, 7, 1),
            # Kolkata +05:30, Chatham +12:45, St John's -02:30 (its summer)
            {
                "Asia/Kolkata": utc(2026, 7, 1, 2, 0),
                "Pacific/Chatham": utc(2026, 6, 30, 18, 45),
                "America/St_Johns": utc(2026, 7, 1, 10, 0),
                "UTC": utc(2026, 7, 1, 7, 30),
            },
            id="july",
        ),
    ],
)
async def test_subscriptions_in_several_time_zones_are_each_due_at_their_own_0730(
    subscriptions: SubscriptionStore, season: date, expected: dict[str, datetime]
) -> None:
    rooms = {zone: chat(f"room-{n}") for n, zone in enumerate(expected)}
    start = datetime.combine(season, time(), UTC) - timedelta(hours=12)
    for zone, room in rooms.items():
        await subscriptions.subscribe(subscription(room, time(7, 30), zone, created_at=start))

    added = await dispatch_every(
        subscriptions, start, start + timedelta(days=1), tick(subscriptions)
    )

    deliveries = {d.subscription.chat: d for d in await queued(subscriptions)}
    assert len(added) == len(expected) == len(deliveries)
    assert [at for at, _ in added] == sorted(expected.values())
    for zone, moment in expected.items():
        delivery = deliveries[rooms[zone]]
        assert (delivery.local_date, delivery.due_at) == (season, moment)
