"""The SubscriptionStore contract, on every store (memory, SQLite, PostgreSQL with the env var).

The in-memory fake is what the dispatcher and sender tests run on; holding it and the SQL store
to one contract keeps the fake from drifting.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from core.models import ChatRef
from core.subscriptions import NewDelivery, Outcome, Subscription, SubscriptionStore
from tests.conftest import START, STORES

LEASE = 300.0
ALICE = ChatRef("telegram", "-1001")
BOB = ChatRef("telegram", "-1002")
CAROL = ChatRef("discord", "3003")
DAY = date(2026, 11, 26)
SQL_STORES = STORES[1:]


def sub(chat: ChatRef, **changes: Any) -> Subscription:
    return replace(Subscription(chat, created_at=START - timedelta(days=30)), **changes)


def due(chat: ChatRef, local_date: date = DAY, at: datetime = START) -> NewDelivery:
    return NewDelivery(chat, local_date, at, "pending")


async def subscribed(store: SubscriptionStore, *chats: ChatRef) -> None:
    for chat in chats:
        await store.subscribe(sub(chat))


# --- subscriptions --------------------------------------------------------------------------------


async def test_subscribe_then_get_returns_the_settings(subscriptions: SubscriptionStore) -> None:
    wanted = sub(ALICE, at=time(7, 30), timezone="Europe/Berlin", size=5, categories=("cs.LG",))

    stored = await subscriptions.subscribe(wanted)

    assert stored == wanted
    assert await subscriptions.get(ALICE) == wanted
    assert await subscriptions.get(BOB) is None


async def test_subscription_round_trips_several_categories_and_words(
    subscriptions: SubscriptionStore,
) -> None:
    wanted = sub(ALICE, categories=("cs.LG", "stat.ML"), words=("diffusion", "Schrödinger"))

    await subscriptions.subscribe(wanted)

    assert await subscriptions.get(ALICE) == wanted


async def test_subscribe_again_replaces_the_settings_and_resumes_a_paused_chat(
    subscriptions: SubscriptionStore,
) -> None:
    await subscriptions.subscribe(sub(ALICE, at=time(7, 30)))
    await subscriptions.deactivate(ALICE, "bot was blocked")

    again = sub(ALICE, at=time(9, 0), size=3, words=("llm",), created_at=START)
    await subscriptions.subscribe(again)

    assert await subscriptions.get(ALICE) == again
    assert [s.chat for s in await subscriptions.active()] == [ALICE]


async def test_unsubscribe_removes_the_subscription_and_says_whether_there_was_one(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE, BOB)

    assert await subscriptions.unsubscribe(ALICE) is True
    assert await subscriptions.unsubscribe(ALICE) is False
    assert await subscriptions.get(ALICE) is None
    assert [s.chat for s in await subscriptions.active()] == [BOB]


async def test_deactivate_keeps_the_settings_and_the_reason(
    subscriptions: SubscriptionStore,
) -> None:
    await subscriptions.subscribe(sub(ALICE, size=7))

    await subscriptions.deactivate(ALICE, "bot was removed")

    paused = await subscriptions.get(ALICE)
    assert paused == sub(ALICE, size=7, active=False, inactive_reason="bot was removed")
    assert await subscriptions.active() == []


# --- the delivery queue ---------------------------------------------------------------------------


async def test_enqueue_twice_adds_nothing_the_second_time(subscriptions: SubscriptionStore) -> None:
    await subscribed(subscriptions, ALICE, BOB)
    batch = [due(ALICE), due(BOB), due(ALICE, DAY + timedelta(days=1))]

    assert await subscriptions.enqueue(batch) == 3
    assert await subscriptions.enqueue(batch) == 0
    assert await subscriptions.enqueue([due(ALICE, at=START + timedelta(hours=1))]) == 0
    assert len(await subscriptions.claim(10, START + timedelta(days=2), LEASE)) == 3


async def test_enqueue_of_one_chat_and_day_twice_in_a_batch_adds_it_once(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE)

    added = await subscriptions.enqueue([due(ALICE), due(ALICE, at=START + timedelta(hours=1))])

    assert added == 1
    [claimed] = await subscriptions.claim(10, START + timedelta(days=1), LEASE)
    assert claimed.due_at == START


async def test_enqueue_of_a_missed_digest_records_it_without_queueing_it(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE)

    await subscriptions.enqueue([NewDelivery(ALICE, DAY, START, "missed")])

    assert await subscriptions.claim(10, START + timedelta(days=1), LEASE) == []
    last = await subscriptions.last_delivery(ALICE)
    assert last is not None
    assert (last.status, last.local_date, last.finished_at) == ("missed", DAY, START)


async def test_claim_takes_due_deliveries_oldest_first_up_to_the_limit(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE, BOB, CAROL)
    await subscriptions.enqueue(
        [
            due(BOB, at=START - timedelta(minutes=5)),
            due(CAROL, at=START + timedelta(minutes=1)),  # not due yet
            due(ALICE, at=START - timedelta(minutes=10)),
        ]
    )

    first = await subscriptions.claim(1, START, LEASE)
    rest = await subscriptions.claim(10, START, LEASE)
    later = await subscriptions.claim(10, START + timedelta(minutes=1), LEASE)

    assert [d.subscription.chat for d in first] == [ALICE]
    assert [d.subscription.chat for d in rest] == [BOB]
    assert [d.subscription.chat for d in later] == [CAROL]


async def test_claim_marks_the_delivery_sending_and_counts_the_attempt(
    subscriptions: SubscriptionStore,
) -> None:
    await subscriptions.subscribe(sub(ALICE, size=4))
    await subscriptions.enqueue([due(ALICE)])

    [claimed] = await subscriptions.claim(10, START, LEASE)

    assert (claimed.status, claimed.attempts, claimed.local_date) == ("sending", 1, DAY)
    assert claimed.due_at == START
    assert claimed.subscription == sub(ALICE, size=4)
    assert await subscriptions.last_delivery(ALICE) == claimed


async def test_claimed_delivery_carries_the_subscription_as_it_is_at_claim_time(
    subscriptions: SubscriptionStore,
) -> None:
    await subscriptions.subscribe(sub(ALICE, size=4))
    await subscriptions.enqueue([due(ALICE)])
    await subscriptions.subscribe(sub(ALICE, size=9))

    [claimed] = await subscriptions.claim(10, START, LEASE)

    assert claimed.subscription.size == 9


async def test_claimed_delivery_is_not_claimed_again_until_its_lease_expires(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE)
    await subscriptions.enqueue([due(ALICE)])
    [first] = await subscriptions.claim(10, START, LEASE)

    assert await subscriptions.claim(10, START + timedelta(seconds=LEASE - 1), LEASE) == []
    assert await subscriptions.claim(10, START + timedelta(seconds=LEASE), LEASE) == []
    [again] = await subscriptions.claim(10, START + timedelta(seconds=LEASE + 1), LEASE)

    assert again.id == first.id
    assert (again.status, again.attempts) == ("sending", 2)


async def test_retry_puts_the_delivery_back_until_not_before(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE)
    await subscriptions.enqueue([due(ALICE)])
    [first] = await subscriptions.claim(10, START, LEASE)

    await subscriptions.retry(first.id, START + timedelta(seconds=60), "rate limited")

    waiting = await subscriptions.last_delivery(ALICE)
    assert waiting is not None
    assert (waiting.status, waiting.error) == ("pending", "rate limited")
    assert await subscriptions.claim(10, START + timedelta(seconds=59), LEASE) == []
    [again] = await subscriptions.claim(10, START + timedelta(seconds=60), LEASE)
    assert (again.id, again.attempts, again.error) == (first.id, 2, "rate limited")


async def test_finish_records_the_outcome_and_takes_the_delivery_out_of_the_queue(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE)
    await subscriptions.enqueue([due(ALICE)])
    [claimed] = await subscriptions.claim(10, START, LEASE)
    sent_at = START + timedelta(seconds=2)

    await subscriptions.finish(claimed.id, "sent", sent_at, message_id="42", papers=["2611.00001"])

    last = await subscriptions.last_delivery(ALICE)
    assert last is not None
    assert (last.status, last.message_id, last.error) == ("sent", "42", None)
    assert last.finished_at == sent_at
    assert await subscriptions.claim(10, START + timedelta(days=1), LEASE) == []


async def test_finish_records_the_papers_and_recently_sent_honours_since(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE, BOB)
    await subscriptions.enqueue([due(ALICE), due(BOB, at=START + timedelta(seconds=1))])
    alice, bob = await subscriptions.claim(10, START + timedelta(seconds=1), LEASE)
    await subscriptions.finish(alice.id, "sent", START, papers=["2611.00001", "2611.00002"])
    await subscriptions.finish(bob.id, "sent", START, papers=["2611.00003"])

    assert await subscriptions.recently_sent(ALICE, START - timedelta(days=7)) == {
        "2611.00001",
        "2611.00002",
    }
    assert await subscriptions.recently_sent(ALICE, START) == {"2611.00001", "2611.00002"}
    assert await subscriptions.recently_sent(ALICE, START + timedelta(seconds=1)) == set()
    assert await subscriptions.recently_sent(BOB, START) == {"2611.00003"}
    assert await subscriptions.recently_sent(CAROL, START - timedelta(days=7)) == set()


async def test_a_paper_sent_again_counts_from_its_latest_send(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE)
    later = START + timedelta(days=8)
    await subscriptions.enqueue([due(ALICE), due(ALICE, DAY + timedelta(days=8), later)])
    [first] = await subscriptions.claim(10, START, LEASE)
    await subscriptions.finish(first.id, "sent", START, papers=["2611.00001"])
    [second] = await subscriptions.claim(10, later, LEASE)
    await subscriptions.finish(second.id, "sent", later, papers=["2611.00001"])

    assert await subscriptions.recently_sent(ALICE, later - timedelta(days=1)) == {"2611.00001"}


async def test_finish_many_records_each_outcome_and_the_papers_of_each_chat(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE, BOB, CAROL)
    await subscriptions.enqueue([due(ALICE), due(BOB), due(CAROL)])
    alice, bob, carol = await subscriptions.claim(10, START, LEASE)
    later = START + timedelta(seconds=5)

    await subscriptions.finish_many(
        [
            Outcome(alice.id, "sent", START, "41", papers=("2611.00001", "2611.00002")),
            Outcome(bob.id, "empty", START),
            Outcome(carol.id, "failed", START, error="chat gone: forbidden"),
            Outcome(10_000, "sent", START, "43", papers=("2611.00009",)),  # no such delivery
            Outcome(alice.id, "sent", later, "42", papers=("2611.00002",)),
        ]
    )

    outcomes = {}
    for chat in (ALICE, BOB, CAROL):
        last = await subscriptions.last_delivery(chat)
        assert last is not None
        outcomes[chat] = (last.status, last.message_id, last.error, last.finished_at)
    assert outcomes == {
        ALICE: ("sent", "42", None, later),  # the later outcome wins, as if recorded after
        BOB: ("empty", None, None, START),
        CAROL: ("failed", None, "chat gone: forbidden", START),
    }
    assert await subscriptions.recently_sent(ALICE, START) == {"2611.00001", "2611.00002"}
    assert await subscriptions.recently_sent(ALICE, later) == {"2611.00002"}
    assert await subscriptions.recently_sent(BOB, START) == set()
    assert await subscriptions.claim(10, START + timedelta(days=1), LEASE) == []


async def test_recently_sent_to_answers_for_every_chat_asked_in_one_call(
    subscriptions: SubscriptionStore,
) -> None:
    dave = ChatRef("discord", "-1001")  # Alice's id, on the other platform
    await subscribed(subscriptions, ALICE, BOB, CAROL, dave)
    await subscriptions.enqueue([due(ALICE), due(BOB), due(dave)])
    alice, bob, on_discord = await subscriptions.claim(10, START, LEASE)
    await subscriptions.finish_many(
        [
            Outcome(alice.id, "sent", START, papers=("2611.00001", "2611.00002")),
            Outcome(bob.id, "sent", START - timedelta(days=8), papers=("2611.00003",)),
            Outcome(on_discord.id, "sent", START, papers=("2611.00004",)),
        ]
    )

    recent = await subscriptions.recently_sent_to(
        [ALICE, BOB, CAROL, dave], START - timedelta(days=7)
    )

    assert recent == {
        ALICE: {"2611.00001", "2611.00002"},
        BOB: set(),
        CAROL: set(),
        dave: {"2611.00004"},
    }
    assert await subscriptions.recently_sent_to([], START) == {}


async def test_an_outcome_recorded_after_a_move_keeps_the_papers_under_the_new_id(
    subscriptions: SubscriptionStore,
) -> None:
    group, supergroup = ChatRef("telegram", "-4001"), ChatRef("telegram", "-1004001")
    await subscriptions.subscribe(sub(group))
    await subscriptions.enqueue([due(group)])
    [claimed] = await subscriptions.claim(10, START, LEASE)

    await subscriptions.move(group, supergroup)
    await subscriptions.finish_many([Outcome(claimed.id, "sent", START, papers=("2611.00001",))])

    assert await subscriptions.recently_sent(supergroup, START) == {"2611.00001"}
    assert await subscriptions.recently_sent(group, START) == set()


async def test_claim_fails_deliveries_whose_chat_has_no_active_subscription(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE, BOB, CAROL)
    await subscriptions.enqueue([due(ALICE), due(BOB), due(CAROL)])
    await subscriptions.unsubscribe(ALICE)
    await subscriptions.deactivate(BOB, "bot was blocked")

    claimed = await subscriptions.claim(10, START, LEASE)

    assert [d.subscription.chat for d in claimed] == [CAROL]
    for chat in (ALICE, BOB):
        last = await subscriptions.last_delivery(chat)
        assert last is not None
        assert (last.status, last.error) == ("failed", "no active subscription")
    assert await subscriptions.claim(10, START + timedelta(minutes=1), LEASE) == []


async def test_deactivated_chat_gets_no_claims_until_it_subscribes_again(
    subscriptions: SubscriptionStore,
) -> None:
    await subscribed(subscriptions, ALICE)
    await subscriptions.deactivate(ALICE, "chat deleted")
    await subscriptions.enqueue([due(ALICE)])

    assert await subscriptions.claim(10, START, LEASE) == []

    await subscriptions.subscribe(sub(ALICE))
    await subscriptions.enqueue([due(ALICE, DAY + timedelta(days=1), START + timedelta(days=1))])
    [claimed] = await subscriptions.claim(10, START + timedelta(days=1), LEASE)
    assert claimed.local_date == DAY + timedelta(days=1)


async def test_move_keeps_subscription_deliveries_and_history_under_the_new_id(
    subscriptions: SubscriptionStore,
) -> None:
    group, supergroup = ChatRef("telegram", "-4001"), ChatRef("telegram", "-1004001")
    await subscriptions.subscribe(sub(group, size=3, categories=("cs.CL",)))
    tomorrow = DAY + timedelta(days=1)
    await subscriptions.enqueue([due(group), due(group, tomorrow, START + timedelta(days=1))])
    [today] = await subscriptions.claim(1, START, LEASE)
    await subscriptions.finish(today.id, "sent", START, papers=["2611.00001"])

    await subscriptions.move(group, supergroup)

    assert await subscriptions.get(group) is None
    assert await subscriptions.get(supergroup) == sub(supergroup, size=3, categories=("cs.CL",))
    assert await subscriptions.recently_sent(supergroup, START) == {"2611.00001"}
    assert await subscriptions.recently_sent(group, START) == set()
    assert await subscriptions.last_delivery(group) is None
    [next_one] = await subscriptions.claim(10, START + timedelta(days=1), LEASE)
    assert next_one.subscription.chat == supergroup
    assert next_one.local_date == tomorrow


async def test_last_delivery_is_the_latest_local_date(subscriptions: SubscriptionStore) -> None:
    await subscribed(subscriptions, ALICE)
    assert await subscriptions.last_delivery(ALICE) is None

    await subscriptions.enqueue(
        [
            due(ALICE, DAY, START),
            NewDelivery(ALICE, DAY - timedelta(days=1), START - timedelta(days=1), "missed"),
        ]
    )

    last = await subscriptions.last_delivery(ALICE)
    assert last is not None
    assert (last.local_date, last.status) == (DAY, "pending")


async def test_last_delivery_outlives_the_subscription(subscriptions: SubscriptionStore) -> None:
    await subscribed(subscriptions, ALICE)
    await subscriptions.enqueue([due(ALICE)])
    await subscriptions.unsubscribe(ALICE)

    last = await subscriptions.last_delivery(ALICE)

    assert last is not None
    assert last.subscription == Subscription(ALICE)


@pytest.mark.parametrize("store", SQL_STORES)
async def test_claim_uses_no_deprecated_sqlalchemy_api(subscriptions: SubscriptionStore) -> None:
    await subscribed(subscriptions, ALICE)
    await subscriptions.enqueue([due(ALICE)])

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        claimed = await subscriptions.claim(10, START, LEASE)

    assert len(claimed) == 1
