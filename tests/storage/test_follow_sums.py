"""A follow list's ranking equals a brute-force sum over its shares, as the shares and list change.

The SQL store ranks from sums it keeps as shares arrive, are removed, and as the list changes
(storage.follow_sums); here every ranking is checked against the shares summed from scratch:
random shares over 40 days (beyond trending's horizon), weights that differ per network, Bluesky
shares naming their account by DID or by handle, category filters and pages.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from core.follows import FollowLists, trend_horizon
from core.models import ChatRef, Mention, Window
from core.ports import Account, PaperRepository, TopQuery
from core.ranking import WINDOW_LENGTHS, RankingConfig
from core.storage.database import session_factory
from core.storage.follow_lists import SqlFollowLists
from tests.conftest import START, RepoFactory
from tests.fake_follows import InMemoryFollowLists
from tests.fakes import InMemoryPaperRepository
from tests.storage.builders import described, share

CONFIG = RankingConfig(weights={"x": 2.0, "mastodon": 0.5})
CHAT = ChatRef("telegram", "-100777")
OTHER = ChatRef("discord", "777")
PAPERS = [f"2611.{i:05d}" for i in range(1, 201)]
WINDOWS: tuple[Window, ...] = ("trending", "day", "week", "month", "all")

Listed = list[tuple[str, dict[str, int], float]]


def accounts() -> list[Account]:
    """Twelve accounts a network; Bluesky ones kept by DID and shown by handle."""
    found = []
    for i in range(12):
        found.append(Account("bluesky", f"did:plc:b{i}", f"b{i}.bsky.social"))
        found.append(Account("mastodon", f"m{i}@m.example", f"m{i}@m.example"))
        found.append(Account("x", f"x{i}", f"x{i}"))
    return found


def shares(rng: random.Random, count: int) -> list[Mention]:
    """Random shares by the accounts, a Bluesky one naming its account either way."""
    found = []
    for _ in range(count):
        account = rng.choice(accounts())
        author = account.key if rng.random() < 0.5 else account.shown
        age = timedelta(days=40) * rng.random() ** 2  # most of them recent, as shares are
        found.append(share(rng.choice(PAPERS), author, at=START - age, source=account.network))
    return found


def brute_force(stored: Sequence[Mention], follows: Sequence[Account], query: TopQuery) -> Listed:
    """Rank from scratch: each followed sharer's first and last share, summed per paper."""
    spans: dict[tuple[str, str, str], list[datetime]] = {}
    followed = {(a.network, name) for a in follows for name in (a.key, a.shown)}
    for m in stored:
        if (m.source, m.author) in followed:
            span = spans.setdefault((m.arxiv_id, m.source, m.author), [m.posted_at, m.posted_at])
            span[0], span[1] = min(span[0], m.posted_at), max(span[1], m.posted_at)
    length = WINDOW_LENGTHS.get(query.window)
    since = trend_horizon(START, CONFIG.half_life) if query.window == "trending" else None
    if length is not None:
        since = START - length
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    scores: dict[str, float] = defaultdict(float)
    newest: dict[str, datetime] = {}
    for (arxiv_id, source, _), (first, last) in spans.items():
        if since is not None and last < since:
            continue
        counts[arxiv_id][source] += 1
        term = 1.0
        if query.window == "trending":
            term = 2.0 ** ((first - START) / CONFIG.half_life)
        scores[arxiv_id] += CONFIG.weight(source) * term
        newest[arxiv_id] = max(newest.get(arxiv_id, last), last)
    if query.category:
        counts = {p: c for p, c in counts.items() if int(p[-2:]) % 3 == 0}
    ranked = sorted(counts, key=lambda p: (scores[p], len(counts[p]), newest[p], p), reverse=True)
    page = ranked[query.offset : query.offset + query.limit]
    return [(p, dict(counts[p]), scores[p]) for p in page]


def listed(found: Sequence[object]) -> Listed:
    return [
        (s.paper.arxiv_id, {c.source: c.sharers for c in s.sources}, s.score)  # type: ignore[attr-defined]
        for s in found
    ]


async def assert_ranks_as_brute_force(
    follows: FollowLists, stored: Sequence[Mention], followed: Sequence[Account]
) -> None:
    for window in WINDOWS:
        for category in (None, "cs.LG"):
            for limit, offset in ((5, 0), (5, 5), (60, 0)):
                query = TopQuery(window, limit, offset, category)
                expected = brute_force(stored, followed, query)
                found = listed(await follows.top(CHAT, query, START))
                assert [f[:2] for f in found] == [e[:2] for e in expected], query
                assert [f[2] for f in found] == pytest.approx([e[2] for e in expected]), query


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_list_ranks_as_its_shares_summed_from_scratch(
    seed: int, make_repo: RepoFactory, store_engine: object
) -> None:
    rng = random.Random(seed)
    repo: PaperRepository = await make_repo(CONFIG)
    follows: FollowLists
    if isinstance(repo, InMemoryPaperRepository):
        follows = InMemoryFollowLists(repo, CONFIG)
    else:
        follows = SqlFollowLists(session_factory(store_engine), CONFIG)  # type: ignore[arg-type]
    await repo.save_papers(
        [
            described(p, categories=("cs.LG",) if int(p[-2:]) % 3 == 0 else ("cs.CV",))
            for p in PAPERS
        ]
    )
    before, after = shares(rng, 1200), shares(rng, 1200)
    await repo.add_mentions(before)
    followed = rng.sample(accounts(), 14)
    await follows.add(CHAT, followed, START)
    await follows.add(OTHER, rng.sample(accounts(), 10), START)
    await assert_ranks_as_brute_force(follows, before, followed)

    # Shares arriving for followed accounts, some of them older than those stored.
    await repo.add_mentions(after)
    stored = before + after
    await assert_ranks_as_brute_force(follows, stored, followed)

    # Shares deleted upstream.
    gone = rng.sample(stored, 400)
    await repo.remove_mentions([(m.source, m.post_id) for m in gone])
    stored = [m for m in stored if m not in gone]
    await assert_ranks_as_brute_force(follows, stored, followed)

    # Accounts unfollowed, others followed.
    dropped = followed[:4]
    await follows.remove(CHAT, [(a.network, a.shown) for a in dropped])
    followed = [a for a in followed if a not in dropped]
    added = [a for a in accounts() if a not in followed][:5]
    await follows.add(CHAT, added, START)
    followed += added
    await assert_ranks_as_brute_force(follows, stored, followed)

    await follows.clear(CHAT)
    assert await follows.top(CHAT, TopQuery(), START) == []
