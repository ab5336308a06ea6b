"""Sending digests: one message per chat, each outcome recorded after the platform answered.

Most tests run on the in-memory stores with `RecordingSink`s; the last ones run the same path
on SQLite (and PostgreSQL with TEST_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from core import outcomes
from core.backoff import Backoff, longest
from core.delivery import ChatGone, ChatMoved, RetryLater
from core.digest import dispatch_due_digests
from core.models import ChatRef, SourceHealth
from core.ports import Account, PaperRepository
from core.ranking import RankingConfig
from core.registry import Request
from core.replies import PaperList, Text
from core.sending import (
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    SendReport,
    send_due_deliveries,
    send_pending_deliveries,
)
from core.subscription_commands import SubscriptionCommands
from core.subscriptions import Delivery, Outcome, SubscriptionStore
from tests.conftest import STORES
from tests.digest.support import (
    CountingRepository,
    chat,
    ids_in,
    shared_papers,
    subscribed_rooms,
    subscription,
)
from tests.fake_follows import InMemoryFollowLists
from tests.fakes import (
    FixedClock,
    InMemoryPaperRepository,
    InMemorySubscriptionStore,
    RecordingSink,
    SenderCrashed,
)
from tests.storage.builders import described, share

MORNING = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
TODAY = date(2026, 11, 27)
ROOM = chat("-1001")
LOBBY = chat("-1002")
SERVER = chat("3003", "discord")


@pytest.fixture
def queue() -> InMemorySubscriptionStore:
    return InMemorySubscriptionStore()


@pytest.fixture
def papers(clock: FixedClock) -> InMemoryPaperRepository:
    return InMemoryPaperRepository(RankingConfig(), clock)


@pytest.fixture
def telegram() -> RecordingSink:
    return RecordingSink("telegram")


@pytest.fixture
def discord() -> RecordingSink:
    return RecordingSink("discord")


@pytest.fixture
def sinks(telegram: RecordingSink, discord: RecordingSink) -> dict[str, RecordingSink]:
    return {"telegram": telegram, "discord": discord}


async def digest_round(
    store: SubscriptionStore,
    papers: PaperRepository,
    sinks: dict[str, RecordingSink],
    now: datetime = MORNING,
    **options: Any,
) -> SendReport:
    """What the scheduler does each minute: enqueue what is due, then send it."""
    await dispatch_due_digests(store, now)
    return await send_pending_deliveries(store, papers, sinks, now, **options)


async def last(store: SubscriptionStore, room: ChatRef = ROOM) -> Delivery:
    delivery = await store.last_delivery(room)
    assert delivery is not None
    return delivery


# --- one message per chat -------------------------------------------------------------------------


async def test_each_subscribed_chat_gets_one_message_with_its_digest(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    discord: RecordingSink,
) -> None:
    for room in (ROOM, LOBBY, SERVER):
        await queue.subscribe(subscription(room, size=3))
    top = await shared_papers(papers, 5, at=MORNING - timedelta(hours=1))

    report = await digest_round(queue, papers, sinks)
    again = await digest_round(queue, papers, sinks, MORNING + timedelta(minutes=1))

    assert (report, again) == (SendReport(sent=3), SendReport())
    assert Counter(telegram.chats) == Counter({ROOM: 1, LOBBY: 1})
    assert discord.chats == [SERVER]
    for sink, room in ((telegram, ROOM), (telegram, LOBBY), (discord, SERVER)):
        [reply] = sink.to(room)
        assert isinstance(reply, PaperList)
        assert reply.heading == "Trending arXiv · Friday 27 November 2026"
        assert ids_in(reply) == top[:3]
        assert [p.rank for p in reply.papers] == [1, 2, 3]
        delivery = await last(queue, room)
        assert (delivery.local_date, delivery.status, delivery.attempts) == (TODAY, "sent", 1)
        assert delivery.message_id is not None


async def setup_filter_sets(
    queue: InMemorySubscriptionStore, papers: InMemoryPaperRepository
) -> None:
    await papers.save_papers(
        [
            described("2611.00001", "Diffusion for graphs", categories=("cs.LG",)),
            described("2611.00002", "Diffusion in physics", categories=("physics.flu-dyn",)),
            described("2611.00003", "Transformers again", categories=("cs.CL",)),
        ]
    )
    await papers.add_mentions(
        [share(p, "ada", at=MORNING) for p in ("2611.00001", "2611.00002", "2611.00003")]
    )
    for n in range(3):
        await queue.subscribe(subscription(chat(f"-10{n}"), size=2))
        await queue.subscribe(subscription(chat(f"-20{n}"), categories=("cs.LG",)))
        await queue.subscribe(subscription(chat(f"-30{n}"), words=("diffusion",)))


RACE = (
    "DigestBuilder.build checks its cache before awaiting papers.top and fills it after, so "
    "concurrent sends (send_pending_deliveries gathers up to `concurrency` of them) all miss "
    "the cache and build the same digest once per chat; footer() races on health() the same way"
)


@pytest.mark.parametrize(
    "concurrency",
    [
        pytest.param(1, id="one-at-a-time"),
        pytest.param(32, id="concurrent"),
    ],
)
async def test_digest_is_built_once_per_distinct_filter_set_and_day(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    concurrency: int,
) -> None:
    await setup_filter_sets(queue, papers)
    counting = CountingRepository(papers, pause=True)  # reads take a turn of the loop, as SQL does

    report = await digest_round(queue, counting.as_repository(), sinks, concurrency=concurrency)

    assert report.sent == 9
    asked = Counter((q.category, q.words) for q in counting.queries)
    assert asked == {(None, ()): 1, ("cs.LG", ()): 1, (None, ("diffusion",)): 1}
    assert counting.health_reads == 1
    assert [ids_in(r) for r in telegram.to(chat("-201"))] == [["2611.00001"]]
    assert [set(ids_in(r)) for r in telegram.to(chat("-301"))] == [{"2611.00001", "2611.00002"}]


async def test_digests_for_different_local_dates_are_built_separately(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await shared_papers(papers, 3, at=MORNING)
    await queue.subscribe(subscription(ROOM, time(7, 30)))
    await queue.subscribe(subscription(LOBBY, time(0, 15), "Pacific/Kiritimati"))  # UTC+14
    counting = CountingRepository(papers)
    now = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)  # Saturday 00:30 in Kiritimati

    await digest_round(queue, counting.as_repository(), sinks, now)

    assert len(counting.queries) == 2
    headings = {
        room: reply.heading for room, reply in telegram.sent if isinstance(reply, PaperList)
    }
    assert headings == {
        ROOM: "Trending arXiv · Friday 27 November 2026",
        LOBBY: "Trending arXiv · Saturday 28 November 2026",
    }


# --- what each chat was sent lately ---------------------------------------------------------------


async def test_papers_sent_in_the_last_seven_days_are_left_out_and_come_back_after(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM, time(7, 30), size=2))
    p1, p2, p3, p4, p5, p6 = await shared_papers(papers, 6, at=MORNING - timedelta(hours=2))

    for day in range(4):
        await digest_round(queue, papers, sinks, MORNING + timedelta(days=day))
    fourth = await last(queue)
    await digest_round(queue, papers, sinks, MORNING + timedelta(days=8))

    assert [ids_in(reply) for reply in telegram.to(ROOM)] == [
        [p1, p2],
        [p3, p4],
        [p5, p6],
        [p1, p2],
    ]
    assert (fourth.local_date, fourth.status) == (TODAY + timedelta(days=3), "empty")


async def test_papers_sent_to_another_chat_are_not_left_out(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM, time(7, 30), size=2))
    top = await shared_papers(papers, 2, at=MORNING)
    await digest_round(queue, papers, sinks)
    await queue.subscribe(subscription(LOBBY, time(8, 0), size=2, created_at=MORNING))

    await digest_round(queue, papers, sinks, MORNING + timedelta(minutes=30))

    assert ids_in(telegram.to(LOBBY)[0]) == top


async def test_an_empty_digest_is_recorded_as_empty_and_not_sent(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    clock: FixedClock,
) -> None:
    await queue.subscribe(subscription(ROOM))

    report = await digest_round(queue, papers, sinks)

    assert report == SendReport(empty=1)
    assert telegram.attempts == []
    assert (await last(queue)).status == "empty"
    settings = await SubscriptionCommands(queue, papers, clock).settings(Request(ROOM, "u1"))
    assert isinstance(settings, Text)
    assert settings.lines[1] == "Last digest: nothing new to send for 2026-11-27."


# --- what the platform says -----------------------------------------------------------------------


async def test_chat_gone_deactivates_the_subscription_and_settings_say_why(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    clock: FixedClock,
) -> None:
    await queue.subscribe(subscription(ROOM, size=3))
    await queue.subscribe(subscription(LOBBY, size=3))
    await shared_papers(papers, 6, at=MORNING)
    telegram.fail(ROOM, ChatGone("bot was blocked by the user"))

    report = await digest_round(queue, papers, sinks)
    tomorrow = await digest_round(queue, papers, sinks, MORNING + timedelta(days=1))

    assert report == SendReport(sent=1, failed=1)
    assert tomorrow == SendReport(sent=1)
    assert telegram.attempts.count(ROOM) == 1
    gone = await last(queue)
    assert (gone.local_date, gone.status) == (TODAY, "failed")
    assert gone.error == "chat gone: bot was blocked by the user"
    paused = await queue.get(ROOM)
    assert paused is not None
    assert (paused.active, paused.inactive_reason) == (False, "bot was blocked by the user")
    settings = await SubscriptionCommands(queue, papers, clock).settings(Request(ROOM, "u1"))
    assert settings == Text(
        (
            "Daily digest: every day at 07:30 UTC, the 3 most shared papers. "
            "Paused: bot was blocked by the user; /subscribe again to resume.",
            "Last digest: failed for 2026-11-27: chat gone: bot was blocked by the user.",
        )
    )


async def test_chat_moved_keeps_the_subscription_and_delivers_to_the_new_id_next_round(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    group, supergroup = chat("-4001"), chat("-1004001")
    await queue.subscribe(subscription(group, size=4, categories=()))
    await shared_papers(papers, 3, at=MORNING)
    telegram.fail(group, ChatMoved(supergroup))

    first = await digest_round(queue, papers, sinks)
    second = await send_pending_deliveries(queue, papers, sinks, MORNING)

    assert (first, second) == (SendReport(retried=1), SendReport(sent=1))
    assert telegram.chats == [supergroup]
    assert await queue.get(group) is None
    assert await queue.get(supergroup) == subscription(supergroup, size=4)
    moved = await last(queue, supergroup)
    assert (moved.local_date, moved.status, moved.attempts) == (TODAY, "sent", 2)
    assert await queue.last_delivery(group) is None


async def test_a_moved_chat_keeps_its_follow_list_and_its_following_digest(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    group, supergroup = chat("-4002"), chat("-1004002")
    follows = InMemoryFollowLists(papers, RankingConfig())
    alice = Account("x", "alice", "alice")
    await follows.add(group, [alice], MORNING)
    await queue.subscribe(replace(subscription(group, size=4, categories=()), following=True))
    followed = share("2401.00001", "alice", at=MORNING - timedelta(hours=2), source="x")
    others = share("2401.00002", "bob", at=MORNING - timedelta(hours=2), source="x")
    await papers.add_mentions([followed, others])
    telegram.fail(group, ChatMoved(supergroup))

    first = await digest_round(queue, papers, sinks, follows=follows)
    second = await send_pending_deliveries(queue, papers, sinks, MORNING, follows=follows)

    assert (first, second) == (SendReport(retried=1), SendReport(sent=1))
    assert await follows.page(supergroup, 10, 0) == [alice]
    assert await follows.page(group, 10, 0) == []
    (digest,) = telegram.to(supergroup)
    assert isinstance(digest, PaperList)
    assert [p.paper.arxiv_id for p in digest.papers] == ["2401.00001"]


async def test_retry_later_puts_the_delivery_back_and_it_is_sent_after_the_wait(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await shared_papers(papers, 3, at=MORNING)
    telegram.fail_once(ROOM, RetryLater(30, "Flood control exceeded"))

    first = await digest_round(queue, papers, sinks)
    waiting = await last(queue)
    early = await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(seconds=29))
    after = await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(seconds=30))

    assert (first, early, after) == (SendReport(retried=1), SendReport(), SendReport(sent=1))
    assert (waiting.status, waiting.error) == ("pending", "Flood control exceeded")
    assert telegram.chats == [ROOM]
    sent = await last(queue)
    assert (sent.status, sent.attempts, sent.error) == ("sent", 2, None)


async def test_repeated_failures_stop_after_max_attempts_as_failed(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await shared_papers(papers, 3, at=MORNING)
    telegram.fail(ROOM, RetryLater(60, "Too Many Requests"))
    await dispatch_due_digests(queue, MORNING)

    reports = [
        await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(minutes=m))
        for m in range(MAX_ATTEMPTS + 3)
    ]

    assert (
        reports
        == [SendReport(retried=1)] * (MAX_ATTEMPTS - 1)
        + [SendReport(failed=1)]
        + [SendReport()] * 3
    )
    assert len(telegram.attempts) == MAX_ATTEMPTS
    failed = await last(queue)
    assert (failed.status, failed.attempts, failed.error) == (
        "failed",
        MAX_ATTEMPTS,
        "Too Many Requests",
    )
    assert (await queue.get(ROOM)) == subscription(ROOM)  # still subscribed for tomorrow


async def test_an_unexpected_error_is_retried_after_a_backoff(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await shared_papers(papers, 3, at=MORNING)
    telegram.fail_once(ROOM, OSError("connection reset by peer"))

    first = await digest_round(queue, papers, sinks, backoff=Backoff(60, 3600, longest))
    waiting = await last(queue)
    early = await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(seconds=119))
    after = await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(seconds=120))

    assert (first, early, after) == (SendReport(retried=1), SendReport(), SendReport(sent=1))
    assert (waiting.status, waiting.error) == ("pending", "OSError('connection reset by peer')")
    assert telegram.chats == [ROOM]


async def test_a_network_fault_is_one_log_line_and_a_bug_keeps_its_traceback(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await queue.subscribe(subscription(LOBBY))
    await shared_papers(papers, 3, at=MORNING)
    telegram.fail_once(ROOM, OSError("connection reset by peer"))
    telegram.fail_once(LOBBY, ValueError("bad markup"))

    await digest_round(queue, papers, sinks)

    lines = {r.getMessage(): r for r in caplog.records if r.name == "core.sending"}
    outage = lines[
        "digest to telegram:-1001 failed: OSError: connection reset by peer; trying again later"
    ]
    assert outage.exc_info is None
    assert lines["digest to telegram:-1002 failed"].exc_info is not None


@pytest.mark.parametrize(("jitter", "wait"), [(0.5, 60), (0.125, 15)])
async def test_an_unexpected_error_waits_a_random_part_of_the_backoff(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    jitter: float,
    wait: int,
) -> None:
    # Full jitter: digests that failed together (a platform outage) are not retried together.
    await queue.subscribe(subscription(ROOM))
    await shared_papers(papers, 3, at=MORNING)
    telegram.fail_once(ROOM, OSError("connection reset by peer"))

    await digest_round(queue, papers, sinks, backoff=Backoff(60, 3600, lambda: jitter))
    early = await send_pending_deliveries(
        queue, papers, sinks, MORNING + timedelta(seconds=wait - 1)
    )
    after = await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(seconds=wait))

    assert (early, after) == (SendReport(), SendReport(sent=1))


async def test_an_error_that_keeps_happening_fails_the_delivery_after_max_attempts(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await shared_papers(papers, 3, at=MORNING)
    telegram.fail(ROOM, ValueError("bad markup"))
    await dispatch_due_digests(queue, MORNING)

    for hour in range(12):  # backoff doubles from two minutes; half a day outlasts it
        await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(hours=hour))

    failed = await last(queue)
    assert (failed.status, failed.error) == ("failed", "ValueError('bad markup')")
    assert len(telegram.attempts) == MAX_ATTEMPTS


async def test_a_platform_without_a_sink_is_left_pending_until_one_runs(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    telegram: RecordingSink,
    discord: RecordingSink,
) -> None:
    await queue.subscribe(subscription(SERVER))
    await shared_papers(papers, 3, at=MORNING)
    only_telegram = {"telegram": telegram}

    first = await digest_round(queue, papers, only_telegram)
    later = await send_pending_deliveries(
        queue, papers, only_telegram, MORNING + timedelta(minutes=5)
    )
    waiting = await last(queue, SERVER)
    with_discord = await send_pending_deliveries(
        queue, papers, {"discord": discord}, MORNING + timedelta(minutes=10)
    )

    # A sender claims only deliveries to platforms it can send to.
    assert (first, later) == (SendReport(), SendReport())
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    assert with_discord == SendReport(sent=1)
    assert (telegram.attempts, discord.chats) == ([], [SERVER])


async def test_a_delivery_that_waited_for_its_sender_still_gets_its_retries(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    discord: RecordingSink,
) -> None:
    await queue.subscribe(subscription(SERVER))
    await shared_papers(papers, 3, at=MORNING)
    await dispatch_due_digests(queue, MORNING)
    for minutes in range(0, 30, 5):  # the Discord adapter takes half an hour to come up
        await send_pending_deliveries(queue, papers, {}, MORNING + timedelta(minutes=minutes))
    discord.fail_once(SERVER, RetryLater(5, "rate limited"))

    first = await send_pending_deliveries(
        queue, papers, {"discord": discord}, MORNING + timedelta(minutes=30)
    )

    assert first == SendReport(retried=1)


# --- what the digest says -------------------------------------------------------------------------


async def test_the_footer_names_the_sources_that_are_failing(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await queue.subscribe(subscription(LOBBY, time(9, 0)))
    await shared_papers(papers, 3, at=MORNING)
    await papers.record_health(SourceHealth("x", consecutive_failures=5))
    await papers.record_health(SourceHealth("hackernews", consecutive_failures=3))
    await papers.record_health(SourceHealth("bluesky", consecutive_failures=1))

    await digest_round(queue, papers, sinks)
    await papers.record_health(SourceHealth("x"))
    await papers.record_health(SourceHealth("hackernews"))
    await digest_round(queue, papers, sinks, MORNING + timedelta(hours=2))

    morning, later = telegram.to(ROOM)[0], telegram.to(LOBBY)[0]
    assert isinstance(morning, PaperList)
    assert isinstance(later, PaperList)
    assert morning.footer == "Not heard from lately: HN, X."
    assert later.footer is None


# --- a sender that dies -----------------------------------------------------------------------


async def test_a_crash_between_send_and_record_repeats_only_the_delivery_in_flight(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    rooms = await subscribed_rooms(queue, "-50", 3)
    await shared_papers(papers, 3, at=MORNING)
    telegram.crash_after_send(rooms[1])

    with pytest.raises(SenderCrashed):
        await digest_round(queue, papers, sinks)
    soon = await send_pending_deliveries(queue, papers, sinks, MORNING + timedelta(minutes=1))
    lease_over = MORNING + timedelta(seconds=LEASE_SECONDS + 1)
    after_lease = await send_pending_deliveries(queue, papers, sinks, lease_over)
    later = await send_pending_deliveries(queue, papers, sinks, lease_over + timedelta(hours=1))

    assert (soon, after_lease, later) == (SendReport(), SendReport(sent=1), SendReport())
    assert Counter(telegram.chats) == {rooms[0]: 1, rooms[1]: 2, rooms[2]: 1}
    repeated = await last(queue, rooms[1])
    assert (repeated.status, repeated.attempts) == ("sent", 2)


async def test_a_sender_that_died_after_claiming_leaves_its_claims_until_the_lease_ends(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await queue.subscribe(subscription(LOBBY, time(7, 32)))
    await shared_papers(papers, 3, at=MORNING)
    await dispatch_due_digests(queue, MORNING)
    [claimed] = await queue.claim(10, MORNING, LEASE_SECONDS)  # and then nothing: it died

    lobby_time = MORNING + timedelta(minutes=2)
    meanwhile = await digest_round(queue, papers, sinks, lobby_time)
    lease_over = MORNING + timedelta(seconds=LEASE_SECONDS + 1)
    after_lease = await send_pending_deliveries(queue, papers, sinks, lease_over)

    assert claimed.subscription.chat == ROOM
    assert (meanwhile, after_lease) == (SendReport(sent=1), SendReport(sent=1))
    assert telegram.chats == [LOBBY, ROOM]


async def test_a_chat_that_unsubscribed_after_its_digest_was_queued_gets_nothing(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    await queue.subscribe(subscription(ROOM))
    await shared_papers(papers, 3, at=MORNING)
    await dispatch_due_digests(queue, MORNING)
    await queue.unsubscribe(ROOM)

    report = await send_pending_deliveries(queue, papers, sinks, MORNING)

    assert report == SendReport()
    assert telegram.attempts == []
    assert (await last(queue)).error == "no active subscription"


# --- the same on SQL ------------------------------------------------------------------------------


@pytest.mark.parametrize("store", STORES[1:])
async def test_sending_on_sql_records_each_outcome_and_what_each_chat_got(
    subscriptions: SubscriptionStore,
    digest_papers: PaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    discord: RecordingSink,
    clock: FixedClock,
) -> None:
    gone, moved, supergroup = chat("-6001"), chat("-6002"), chat("-1006002")
    for room in (ROOM, SERVER, gone, moved):
        await subscriptions.subscribe(subscription(room, size=2))
    top = await shared_papers(digest_papers, 3, at=MORNING)
    telegram.fail(gone, ChatGone("chat not found"))
    telegram.fail(moved, ChatMoved(supergroup))
    counting = CountingRepository(digest_papers)

    first = await digest_round(subscriptions, counting.as_repository(), sinks, concurrency=1)
    second = await send_pending_deliveries(
        subscriptions, digest_papers, sinks, MORNING, concurrency=1
    )
    tomorrow = await digest_round(
        subscriptions, digest_papers, sinks, MORNING + timedelta(days=1), concurrency=1
    )

    assert (first, second) == (SendReport(sent=2, failed=1, retried=1), SendReport(sent=1))
    assert tomorrow == SendReport(sent=3)
    assert len(counting.queries) == 1
    assert Counter(telegram.chats) == {ROOM: 2, supergroup: 2}
    assert discord.chats == [SERVER, SERVER]
    assert [ids_in(r) for r in telegram.to(ROOM)] == [top[:2], top[2:]]
    assert await subscriptions.recently_sent(ROOM, MORNING) == set(top)
    assert await subscriptions.recently_sent(supergroup, MORNING) == set(top)
    failed = await last(subscriptions, gone)
    assert (failed.status, failed.error) == ("failed", "chat gone: chat not found")
    assert (await last(subscriptions, ROOM)).status == "sent"
    settings = await SubscriptionCommands(subscriptions, digest_papers, clock).settings(
        Request(gone, "u1")
    )
    assert isinstance(settings, Text)
    assert "Paused: chat not found" in settings.lines[0]


async def settled(round_: Awaitable[SendReport]) -> SendReport:
    """Run a round; if it raises, let the sends `gather` left running end before teardown."""
    try:
        return await round_
    finally:
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=10)


@pytest.mark.parametrize("store", STORES[1:])
async def test_a_round_on_sql_sends_every_digest_with_the_default_concurrency(
    subscriptions: SubscriptionStore,
    digest_papers: PaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    rooms = await subscribed_rooms(subscriptions, "-70", 10, size=2)
    await shared_papers(digest_papers, 3, at=MORNING)

    report = await settled(digest_round(subscriptions, digest_papers, sinks))

    assert report == SendReport(sent=10)
    assert Counter(telegram.chats) == dict.fromkeys(rooms, 1)


# --- one run that claims as it goes -------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_a_sending_run_claims_again_until_every_due_digest_is_sent_once(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    concurrency: int,
) -> None:
    rooms = await subscribed_rooms(queue, "-80", 7, size=2)
    await shared_papers(papers, 3, at=MORNING)
    await dispatch_due_digests(queue, MORNING)

    report = await send_due_deliveries(
        queue, papers, sinks, FixedClock(MORNING), batch=2, concurrency=concurrency
    )
    again = await send_due_deliveries(queue, papers, sinks, FixedClock(MORNING), batch=2)

    assert (report, again) == (SendReport(sent=7), SendReport())
    assert Counter(telegram.chats) == dict.fromkeys(rooms, 1)
    for room in rooms:
        assert (await last(queue, room)).status == "sent"


async def test_two_digests_for_one_chat_in_one_run_do_not_repeat_papers(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    # Yesterday's digest is still due (a long grace): both go in one run, in separate claims,
    # the second claimed before the first one's outcome is written.
    await queue.subscribe(subscription(ROOM, size=2))
    await shared_papers(papers, 4, at=MORNING - timedelta(hours=1))
    await dispatch_due_digests(queue, MORNING, grace=timedelta(days=2))

    report = await send_due_deliveries(
        queue, papers, sinks, FixedClock(MORNING), batch=1, concurrency=1
    )

    assert report == SendReport(sent=2)
    first, second = (ids_in(r) for r in telegram.to(ROOM))
    assert not set(first) & set(second)


class FlakyRecords(InMemorySubscriptionStore):
    """Fails to record outcomes `failures` times (None: every time), as a database outage."""

    def __init__(self, failures: int | None) -> None:
        super().__init__()
        self.failures = failures

    async def finish_many(self, outcomes: Sequence[Outcome]) -> None:
        if self.failures is None or self.failures > 0:
            if self.failures is not None:
                self.failures -= 1
            raise OSError("database is down")
        await super().finish_many(outcomes)


async def test_a_failed_write_of_outcomes_is_tried_again_and_nothing_is_sent_twice(
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outcomes, "RETRY_PAUSE", 0)
    store = FlakyRecords(failures=1)
    rooms = await subscribed_rooms(store, "-90", 5)
    await shared_papers(papers, 3, at=MORNING)

    report = await digest_round(store, papers, sinks)
    later = await send_due_deliveries(
        store, papers, sinks, FixedClock(MORNING + timedelta(hours=1))
    )

    assert (report, later) == (SendReport(sent=5), SendReport())
    assert Counter(telegram.chats) == dict.fromkeys(rooms, 1)
    for room in rooms:
        assert (await last(store, room)).status == "sent"


async def test_when_outcomes_cannot_be_written_the_digests_go_out_again_after_the_lease(
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outcomes, "RETRY_PAUSE", 0)
    store = FlakyRecords(failures=None)
    rooms = await subscribed_rooms(store, "-91", 3)
    await shared_papers(papers, 3, at=MORNING)

    with pytest.raises(OSError, match="database is down"):
        await digest_round(store, papers, sinks)
    store.failures = 0  # the database is back
    soon = await send_pending_deliveries(store, papers, sinks, MORNING + timedelta(minutes=1))
    lease_over = MORNING + timedelta(seconds=LEASE_SECONDS + 1)
    after_lease = await send_pending_deliveries(store, papers, sinks, lease_over)

    # Sent, but not recorded: taken for in flight, so sent again rather than lost.
    assert (soon, after_lease) == (SendReport(), SendReport(sent=3))
    assert Counter(telegram.chats) == dict.fromkeys(rooms, 2)


async def test_a_crash_mid_run_repeats_only_the_deliveries_in_flight(
    queue: InMemorySubscriptionStore,
    papers: InMemoryPaperRepository,
    sinks: dict[str, RecordingSink],
    telegram: RecordingSink,
) -> None:
    rooms = await subscribed_rooms(queue, "-92", 6)
    await shared_papers(papers, 3, at=MORNING)
    await dispatch_due_digests(queue, MORNING)
    telegram.crash_after_send(rooms[2])

    with pytest.raises(SenderCrashed):
        await send_due_deliveries(queue, papers, sinks, FixedClock(MORNING), batch=2)
    lease_over = MORNING + timedelta(seconds=LEASE_SECONDS + 1)
    after_lease = await send_due_deliveries(queue, papers, sinks, FixedClock(lease_over))

    # The crash stops claiming; what was claimed is sent and recorded, the crashed one repeats,
    # and the rest are sent once by the next run.
    assert after_lease.sent >= 1
    assert Counter(telegram.chats) == {**dict.fromkeys(rooms, 1), rooms[2]: 2}
    for room in rooms:
        assert (await last(queue, room)).status == "sent"
