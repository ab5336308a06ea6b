import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from core.backoff import longest
from core.ingest import (
    AccountFilter,
    SourceRunner,
    backoff_delay,
    load_account_filter,
    poll_source,
)
from core.locks import InProcessLocks, LockLost
from core.models import ImportReport, Mention, SourceHealth, VoteSnapshot
from core.ports import Batch, SourceUnavailable

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


class FixedClock:
    """A clock that says what it is told."""

    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class InMemorySourceRepository:
    """Cursors, rows and health in dicts; what `poll_source` needs of a `PaperRepository`."""

    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.mentions: dict[tuple[str, str, str], Mention] = {}
        self.snapshots: list[VoteSnapshot] = []
        self.removed: list[tuple[str, str]] = []
        self.records: dict[str, SourceHealth] = {}
        self.commits = 0
        self.fail_commit: Exception | None = None
        self.fail_health: Exception | None = None

    async def get_cursor(self, source: str) -> str | None:
        return self.cursors.get(source)

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        if self.fail_commit is not None:
            raise self.fail_commit
        new = [m for m in batch.mentions if (m.source, m.post_id, m.arxiv_id) not in self.mentions]
        self.mentions |= {(m.source, m.post_id, m.arxiv_id): m for m in new}
        self.snapshots += batch.snapshots
        self.removed += batch.removed
        if batch.cursor is not None:
            self.cursors[source] = batch.cursor
        self.commits += 1
        papers = {m.arxiv_id for m in new} | {s.arxiv_id for s in batch.snapshots}
        return ImportReport(mentions=len(new), papers=len(papers), snapshots=len(batch.snapshots))

    async def record_health(self, health: SourceHealth) -> None:
        self.records[health.source] = health

    async def health(self) -> list[SourceHealth]:
        if self.fail_health is not None:
            raise self.fail_health
        return list(self.records.values())


@dataclass
class FakeSource:
    """Answers each poll with the next scripted batch or exception."""

    name: str
    script: list[Batch | BaseException] = field(default_factory=list)
    poll_interval: float = 60.0
    cursors_seen: list[str | None] = field(default_factory=list)

    async def poll(self, cursor: str | None) -> Batch:
        self.cursors_seen.append(cursor)
        step = self.script.pop(0) if self.script else Batch(cursor=cursor)
        if isinstance(step, BaseException):
            raise step
        return step


class HangingSource:
    name = "hanging"
    poll_interval = 60.0

    async def poll(self, cursor: str | None) -> Batch:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def mention(author: str, source: str = "x", post_id: str = "1") -> Mention:
    return Mention(
        source=source,
        post_id=post_id,
        author=author,
        posted_at=NOW,
        kind="post",
        arxiv_id="2411.01234",
    )


def snapshot(votes: int = 5) -> VoteSnapshot:
    return VoteSnapshot("hackernews", "1", "2411.01234", NOW, votes)


async def test_poll_source_commits_rows_with_cursor_and_resets_failures():
    repo = InMemorySourceRepository()
    repo.cursors["x"] = "c0"
    repo.records["x"] = SourceHealth(
        "x", last_error="HTTP 500", consecutive_failures=2, items_seen=3
    )
    source = FakeSource("x", [Batch(mentions=(mention("a"),), cursor="c1")])

    outcome = await poll_source(source, repo, FixedClock())

    assert outcome.ok
    assert outcome.next_due == NOW + timedelta(seconds=60)
    assert outcome.report == ImportReport(mentions=1, papers=1, snapshots=0)
    assert source.cursors_seen == ["c0"]
    assert repo.cursors["x"] == "c1"
    health = repo.records["x"]
    assert health.last_success == NOW
    assert health.consecutive_failures == 0
    assert health.items_seen == 4
    assert health.last_error == "HTTP 500"  # kept as history


async def test_poll_source_keeps_cursor_and_records_source_unavailable():
    repo = InMemorySourceRepository()
    repo.cursors["hn"] = "c0"
    source = FakeSource("hn", [SourceUnavailable("HTTP 503 from hn.algolia.com")])

    outcome = await poll_source(source, repo, FixedClock(), jitter=longest)

    assert not outcome.ok
    assert outcome.error == "HTTP 503 from hn.algolia.com"
    assert repo.cursors["hn"] == "c0"
    assert repo.commits == 0
    health = repo.records["hn"]
    assert health.last_error == "HTTP 503 from hn.algolia.com"
    assert health.last_error_at == NOW
    assert health.consecutive_failures == 1
    assert outcome.next_due == NOW + timedelta(seconds=120)


async def test_poll_source_backs_off_exponentially_and_recovers():
    repo = InMemorySourceRepository()
    clock = FixedClock()
    source = FakeSource("hn", [SourceUnavailable("down")] * 3 + [Batch(cursor="c1")])
    delays = []
    for _ in range(4):
        outcome = await poll_source(source, repo, clock, jitter=longest)
        delays.append((outcome.next_due - clock.now()).total_seconds())
    assert delays == [120, 240, 480, 60]
    assert repo.records["hn"].consecutive_failures == 0
    assert repo.cursors["hn"] == "c1"


async def test_poll_source_honours_retry_after():
    repo = InMemorySourceRepository()
    source = FakeSource("x", [SourceUnavailable("HTTP 429 from api.x.com", retry_after=900)])
    outcome = await poll_source(source, repo, FixedClock())
    assert outcome.next_due == NOW + timedelta(seconds=900)


async def test_poll_source_records_only_the_type_of_an_unexpected_error():
    repo = InMemorySourceRepository()
    source = FakeSource("x", [KeyError("https://api.example/?token=SECRET")])
    outcome = await poll_source(source, repo, FixedClock())
    assert not outcome.ok
    assert repo.records["x"].last_error == "KeyError"
    assert "SECRET" not in (outcome.error or "")


async def test_poll_source_keeps_cursor_when_commit_fails():
    repo = InMemorySourceRepository()
    repo.cursors["x"] = "c0"
    repo.fail_commit = RuntimeError("database is locked")
    source = FakeSource("x", [Batch(mentions=(mention("a"),), cursor="c1")])
    outcome = await poll_source(source, repo, FixedClock())
    assert not outcome.ok
    assert repo.cursors["x"] == "c0"
    assert repo.records["x"].consecutive_failures == 1


async def test_a_poll_failing_on_an_unreachable_database_logs_one_line(caplog):
    repo = InMemorySourceRepository()
    outage = OperationalError("SELECT 1", {}, sqlite3.OperationalError("unable to open database"))
    repo.fail_commit = repo.fail_health = outage
    caplog.set_level(logging.DEBUG, logger="core.ingest")
    source = FakeSource("x", [Batch(mentions=(mention("a"),), cursor="c1")])
    outcome = await poll_source(source, repo, FixedClock(), jitter=longest)
    assert not outcome.ok
    assert [r.getMessage() for r in caplog.records] == [
        "source x failed: sqlite3.OperationalError: unable to open database; next try in 120 s"
    ]
    assert caplog.records[0].exc_info is None


async def test_an_unavailable_source_says_when_it_is_tried_again(caplog):
    repo = InMemorySourceRepository()
    source = FakeSource("x", [SourceUnavailable("HTTP 503 from example.org", retry_after=600)])
    await poll_source(source, repo, FixedClock())
    assert [r.getMessage() for r in caplog.records] == [
        "source x unavailable: HTTP 503 from example.org; next try in 600 s"
    ]


async def test_a_bug_in_a_poll_keeps_its_traceback(caplog):
    repo = InMemorySourceRepository()
    source = FakeSource("x", [KeyError("cursor")])
    outcome = await poll_source(source, repo, FixedClock())
    assert not outcome.ok
    assert [r.getMessage() for r in caplog.records] == ["source x failed"]
    assert caplog.records[0].exc_info is not None


async def test_poll_source_cuts_off_a_hung_poll():
    repo = InMemorySourceRepository()
    outcome = await poll_source(HangingSource(), repo, FixedClock(), poll_timeout=0.01)
    assert not outcome.ok
    assert "timed out" in (outcome.error or "")


async def test_poll_source_survives_a_failing_health_store():
    repo = InMemorySourceRepository()
    repo.fail_health = RuntimeError("no health table")
    outcome = await poll_source(FakeSource("x", [Batch(cursor="c1")]), repo, FixedClock())
    assert outcome.ok
    assert repo.cursors["x"] == "c1"


async def test_poll_source_applies_the_account_filter():
    repo = InMemorySourceRepository()
    batch = Batch(
        mentions=(mention("Bot", post_id="1"), mention("alice", post_id="2")),
        snapshots=(snapshot(),),
        cursor="c1",
    )
    account_filter = AccountFilter(block=frozenset({"x:bot"}))
    outcome = await poll_source(FakeSource("x", [batch]), repo, FixedClock(), account_filter)
    assert outcome.ok
    assert [m.author for m in repo.mentions.values()] == ["alice"]
    assert len(repo.snapshots) == 1


def test_account_filter_allowlist_applies_only_to_its_network():
    account_filter = AccountFilter(allow={"x": frozenset({"alice"})}, block=frozenset({"spam"}))
    assert account_filter.counts(mention("@Alice"))
    assert not account_filter.counts(mention("bob"))
    assert account_filter.counts(mention("bob@sigmoid.social", source="mastodon"))
    assert not account_filter.counts(mention("spam", source="mastodon"))


def test_load_account_filter_reads_comments_and_bare_handles(tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text(
        "# researchers we trust\nx:AliceML\nmastodon:@bob@sigmoid.social  # boosts a lot\ncarol\n\n"
    )
    block = tmp_path / "block.txt"
    block.write_text("x:arxiv_daily_bot\nselfpromo\n")
    loaded = load_account_filter(str(allow), str(block))
    assert loaded == AccountFilter(
        allow={"x": frozenset({"aliceml"}), "mastodon": frozenset({"bob@sigmoid.social"})},
        block=frozenset({"x:arxiv_daily_bot", "selfpromo"}),
    )


def test_load_account_filter_without_files_counts_everyone():
    assert load_account_filter(None, None) == AccountFilter()


def test_load_account_filter_fails_on_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_account_filter(str(tmp_path / "missing.txt"), None)


@pytest.mark.parametrize(
    ("failures", "retry_after", "expected"),
    [
        (0, None, 60),
        (1, None, 120),
        (2, None, 240),
        (20, None, 3600),
        (1, 1000, 1000),
        (1, 10, 120),
        (1, 10**9, 86400),
    ],
)
def test_backoff_delay_doubles_caps_and_honours_retry_after(failures, retry_after, expected):
    assert backoff_delay(60, failures, retry_after, cap=3600, jitter=longest) == expected


@pytest.mark.parametrize(
    ("failures", "jitter", "expected"),
    [(2, 0.5, 120), (2, 0.1, 60), (3, 0.75, 360), (20, 0.5, 1800)],
)
def test_backoff_delay_is_a_random_part_of_the_ceiling_but_at_least_the_interval(
    failures, jitter, expected
):
    assert backoff_delay(60, failures, cap=3600, jitter=lambda: jitter) == expected


async def test_source_runner_isolates_a_failing_and_a_hung_source():
    repo = InMemorySourceRepository()
    good = FakeSource("good", [Batch(snapshots=(snapshot(),), cursor="g1")])
    bad = FakeSource("bad", [RuntimeError("boom")])
    runner = SourceRunner([bad, HangingSource(), good], repo, FixedClock(), poll_timeout=0.05)

    outcomes = {o.source: o for o in await runner.run_due()}

    assert outcomes["good"].ok
    assert not outcomes["bad"].ok
    assert not outcomes["hanging"].ok
    assert repo.cursors == {"good": "g1"}
    assert repo.records["bad"].consecutive_failures == 1
    assert repo.records["hanging"].consecutive_failures == 1


async def test_source_runner_polls_sources_concurrently():
    started: list[str] = []
    release = asyncio.Event()

    class Gate:
        poll_interval = 60.0

        def __init__(self, name: str) -> None:
            self.name = name

        async def poll(self, cursor: str | None) -> Batch:
            started.append(self.name)
            if len(started) == 2:
                release.set()
            await release.wait()
            return Batch(cursor="done")

    runner = SourceRunner([Gate("a"), Gate("b")], InMemorySourceRepository(), FixedClock())
    outcomes = await asyncio.wait_for(runner.run_due(), timeout=1)
    assert sorted(started) == ["a", "b"]
    assert all(o.ok for o in outcomes)


async def test_source_runner_follows_each_sources_interval_and_backoff():
    clock = FixedClock()
    repo = InMemorySourceRepository()
    fast = FakeSource("fast", poll_interval=60)
    flaky = FakeSource("flaky", [SourceUnavailable("down", retry_after=300)], poll_interval=60)
    runner = SourceRunner([fast, flaky], repo, clock)

    assert len(await runner.run_due()) == 2
    assert runner.next_due("flaky") == NOW + timedelta(seconds=300)
    assert await runner.run_due(NOW + timedelta(seconds=59)) == []
    later = await runner.run_due(NOW + timedelta(seconds=60))
    assert [o.source for o in later] == ["fast"]
    clock.advance(300)
    assert sorted(o.source for o in await runner.run_due()) == ["fast", "flaky"]
    assert repo.records["flaky"].consecutive_failures == 0


def test_source_runner_refuses_two_sources_with_one_name():
    with pytest.raises(ValueError, match="two sources"):
        SourceRunner([FakeSource("x"), FakeSource("x")], InMemorySourceRepository(), FixedClock())


def _names(outcomes: Sequence[object]) -> list[str]:
    return sorted(getattr(o, "source", "") for o in outcomes)


async def test_source_runner_does_not_start_a_source_that_is_still_running():
    release = asyncio.Event()

    class Slow:
        name = "slow"
        poll_interval = 0.0

        async def poll(self, cursor: str | None) -> Batch:
            await release.wait()
            return Batch()

    runner = SourceRunner([Slow()], InMemorySourceRepository(), FixedClock(), poll_timeout=5)
    first = asyncio.create_task(runner.run_due())
    await asyncio.sleep(0)
    assert await runner.run_due() == []
    release.set()
    assert _names(await first) == ["slow"]


# --- several processes: SourceRunner with locks -------------------------------------------------


async def test_source_runner_skips_a_source_another_process_is_polling():
    clock, repo, locks = FixedClock(), InMemorySourceRepository(), InProcessLocks()
    busy, free = FakeSource("busy"), FakeSource("free")
    runner = SourceRunner([busy, free], repo, clock, locks=locks)

    async with locks.hold("source:busy"):  # the other process, polling it now
        outcomes = await runner.run_due()

    assert _names(outcomes) == ["free"]
    assert busy.cursors_seen == []
    assert "busy" not in repo.records  # a skip is not a failure: nothing recorded
    assert runner.next_due("busy") is None  # tried again at the next round
    assert not locks.held("source:free")  # released once polled
    clock.advance(30)
    assert _names(await runner.run_due()) == ["busy"]
    assert repo.records["busy"].consecutive_failures == 0


async def test_source_runner_leaves_a_source_another_process_polled_until_it_is_due():
    clock, repo = FixedClock(), InMemorySourceRepository()
    source = FakeSource("hn", poll_interval=600)
    # Another process polled it 100 s ago, and failed 200 s ago before that.
    repo.records["hn"] = SourceHealth(
        "hn", last_success=NOW - timedelta(seconds=100), last_error_at=NOW - timedelta(seconds=200)
    )
    runner = SourceRunner([source], repo, clock, locks=InProcessLocks())

    assert await runner.run_due() == []
    assert runner.next_due("hn") == NOW + timedelta(seconds=500)
    assert source.cursors_seen == []
    clock.advance(500)
    assert _names(await runner.run_due()) == ["hn"]


async def test_source_runner_follows_the_backoff_another_process_recorded():
    clock, repo = FixedClock(), InMemorySourceRepository()
    source = FakeSource("hn", poll_interval=60)
    repo.records["hn"] = SourceHealth("hn", last_error_at=NOW, consecutive_failures=3)
    runner = SourceRunner([source], repo, clock, locks=InProcessLocks())

    assert await runner.run_due() == []
    assert runner.next_due("hn") == NOW + timedelta(seconds=480)


class LosingLocks:
    """Takes every lock, then loses it after `after` seconds, as PostgresLocks does."""

    def __init__(self, after: float) -> None:
        self.after = after

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        try:
            async with asyncio.timeout(self.after):
                yield True
        except TimeoutError:
            raise LockLost(name) from None


class BrokenLocks:
    """The lock's database cannot be reached."""

    def hold(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
        raise OSError("connection refused")


async def test_source_runner_stops_a_poll_whose_lock_was_lost_and_retries_it():
    repo = InMemorySourceRepository()
    runner = SourceRunner([HangingSource()], repo, FixedClock(), locks=LosingLocks(0.01))

    assert await asyncio.wait_for(runner.run_due(), 1) == []
    assert "hanging" not in repo.records
    assert runner.next_due("hanging") is None


async def test_source_runner_skips_every_source_while_the_locks_are_unreachable(caplog):
    repo, source = InMemorySourceRepository(), FakeSource("hn")
    runner = SourceRunner([source], repo, FixedClock(), locks=BrokenLocks())

    assert await runner.run_due() == []
    assert source.cursors_seen == []
    assert repo.records == {}
    assert runner.next_due("hn") is None
    assert "could not lock source hn" in caplog.text
