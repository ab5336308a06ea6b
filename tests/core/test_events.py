from datetime import UTC, datetime

from core.events import ChatGone, ChatMoved, apply_chat_event
from core.models import ChatRef
from core.ports import Account
from core.ranking import RankingConfig
from core.subscriptions import Subscription
from tests.fake_follows import InMemoryFollowLists
from tests.fakes import FixedClock, InMemoryPaperRepository, InMemorySubscriptionStore

GROUP = ChatRef("telegram", "-2001")
SUPERGROUP = ChatRef("telegram", "-1002001")
NOW = datetime(2026, 11, 26, 6, tzinfo=UTC)


async def test_a_chat_that_removed_the_bot_stops_getting_digests():
    store = InMemorySubscriptionStore()
    await store.subscribe(Subscription(GROUP, created_at=NOW))
    await apply_chat_event(store, ChatGone(GROUP, "kicked"))
    assert await store.active() == []
    stored = await store.get(GROUP)
    assert stored is not None
    assert stored.inactive_reason == "kicked"


async def test_a_group_that_became_a_supergroup_keeps_its_subscription():
    store = InMemorySubscriptionStore()
    await store.subscribe(Subscription(GROUP, size=5, created_at=NOW))
    await apply_chat_event(store, ChatMoved(GROUP, SUPERGROUP))
    assert await store.get(GROUP) is None
    moved = await store.get(SUPERGROUP)
    assert moved is not None
    assert moved.size == 5
    assert moved.active


async def test_a_group_that_became_a_supergroup_keeps_its_follow_list():
    store = InMemorySubscriptionStore()
    follows = InMemoryFollowLists(
        InMemoryPaperRepository(RankingConfig(), FixedClock(NOW)), RankingConfig()
    )
    alice = Account("bluesky", "did:plc:alice", "alice.bsky.social")
    await follows.add(GROUP, [alice], NOW)
    await apply_chat_event(store, ChatMoved(GROUP, SUPERGROUP), follows)
    assert await follows.page(SUPERGROUP, 10, 0) == [alice]
    assert await follows.page(GROUP, 10, 0) == []
