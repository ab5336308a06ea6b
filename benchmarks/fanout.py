"""Digest fan-out benchmark: 10,000 due subscriptions sent through the real Telegram path.

    python benchmarks/fanout.py                  # 10,000 subscriptions, 50 filter sets, 300/s
    python benchmarks/fanout.py --quick          # 1,000 subscriptions (smoke run)
    python benchmarks/fanout.py --rate 30 --subs 3000 --batch 500 --concurrency 64
    python benchmarks/fanout.py --database-url postgresql://postgres@127.0.0.1:5432/test

A fake Bot API (tests/digest/fake_bot_api.py) runs in a child process on 127.0.0.1, so its CPU
is not counted as the bot's; it allows `--server-rate` (default `--rate`) sendMessage calls in
any sliding one-second window and answers 429 (retry after 1 s) above that, like Telegram.

The store (a SQLite file in a temp dir, or a scratch database on PostgreSQL) is seeded with
papers, shares in the last day and `--subs` subscriptions over `--filter-sets` distinct filter
sets (categories and words), all due a minute ago in UTC, with positive (private) chat ids so
only the overall limit applies. Then, as `trending-arxiv run` does, `dispatch_due_digests`
runs once and `send_due_deliveries` runs (again whenever a run ends with deliveries still queued,
as the scheduler's next run would), through the real `TelegramDigestSink` over a PTB
application from `build_application(..., overall_max_rate=--rate)`, until no delivery is
pending or sending, or `--time-limit` seconds (default 90, so a default run takes under two
minutes even when sending is slow; 0 drains the queue however long it takes). A run that raises
is recorded and the loop goes on; what it had claimed waits for the lease (`LEASE_SECONDS`).

Printed: deliveries, wall time, achieved rate / allowed rate (target >= 0.9), 429s (target 0),
duplicates (chats that got more than one message; target 0), process CPU ms per delivery, and
how many digests were built (the design says once per filter set, so ~`--filter-sets`), and
which targets were missed (`--strict`: exit 1 then).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from unittest import mock

import httpx
from scratch import postgres_scratch
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.telegram.app import build_application
from adapters.telegram.sink import TelegramDigestSink
from core.clock import SystemClock
from core.delivery import DigestSink
from core.digest import DigestBuilder, dispatch_due_digests
from core.models import Mention, Paper, PaperStats, SourceHealth
from core.ports import PaperRepository, TopQuery
from core.ranking import RankingConfig
from core.registry import Registry
from core.sending import SendReport, send_due_deliveries
from core.storage.database import create_engine, session_factory, upgrade
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore
from core.storage.subscription_tables import DeliveryRow, SubscriptionRow
from core.subscriptions import Delivery, Subscription, SubscriptionStore

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456789:FAKE_fanout_benchmark_token_0000000000"
FIRST_CHAT = 100_000_000
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "cs.CR", "quant-ph")
VOCABULARY = (
    "learning neural language model transformer attention diffusion graph reinforcement "
    "policy optimization gradient training scaling data efficient robust adversarial "
    "generative sparse experts vision image video robot quantum benchmark evaluation "
    "reasoning agents alignment retrieval contrastive representation embedding inference "
    "memory kernel bayesian causal federated privacy theory convergence stochastic"
)
WORDS = tuple(VOCABULARY.split())
SOURCES = ("bluesky", "mastodon", "x")


# --- instrumentation --------------------------------------------------------------------------


@dataclass
class Counts:
    """What the engine did, counted by thin wrappers around the store and the papers."""

    builds: int = 0  # DigestBuilder._candidates calls: one per distinct digest built
    built_keys: Counter[tuple[object, ...]] = field(default_factory=Counter)
    top_queries: int = 0
    health_reads: int = 0
    claims: int = 0
    claimed: int = 0
    claim_s: float = 0.0


class CountingPapers:
    """The paper repository, counting the reads digests make."""

    def __init__(self, inner: PaperRepository, counts: Counts) -> None:
        self.inner = inner
        self.counts = counts

    async def top(self, query: TopQuery, now: datetime) -> list[PaperStats]:
        self.counts.top_queries += 1
        return await self.inner.top(query, now)

    async def health(self) -> list[SourceHealth]:
        self.counts.health_reads += 1
        return await self.inner.health()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class TimedStore:
    """The subscription store, timing `claim` (wall time: claims overlap the sends)."""

    def __init__(self, inner: SubscriptionStore, counts: Counts) -> None:
        self.inner = inner
        self.counts = counts

    async def claim(self, *args: Any, **kwargs: Any) -> list[Delivery]:
        t0 = time.perf_counter()
        claimed = await self.inner.claim(*args, **kwargs)
        self.counts.claim_s += time.perf_counter() - t0
        self.counts.claims += 1
        self.counts.claimed += len(claimed)
        return claimed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextlib.contextmanager
def counting_builds(counts: Counts) -> Any:
    """Count the digests DigestBuilder builds (its cache misses), without changing them."""
    original = getattr(DigestBuilder, "_candidates", None)
    if original is None:  # renamed: leave builds uncounted (-1) rather than fail
        counts.builds = -1
        yield
        return

    async def candidates(self: DigestBuilder, sub: Subscription) -> list[PaperStats]:
        counts.builds += 1
        counts.built_keys[sub.filters] += 1
        built: list[PaperStats] = await original(self, sub)
        return built

    with mock.patch.object(DigestBuilder, "_candidates", candidates):
        yield


# --- the fake Bot API, in its own process -------------------------------------------------------


@contextlib.asynccontextmanager
async def fake_bot_api(rate: float) -> AsyncIterator[str]:
    """Run tests/digest/fake_bot_api.py in a child process; yield its URL."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.digest.fake_bot_api",
        "--rate",
        str(rate),
        "--exit-on-stdin-eof",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        url = line.decode().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the fake Bot API did not start (said {url!r})")
        yield url
    finally:
        if child.stdin is not None:
            child.stdin.close()  # it stops when its stdin closes
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()


async def server_stats(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        response = await client.get("/_fake/stats")
        response.raise_for_status()
        return dict(response.json())


# --- data -------------------------------------------------------------------------------------


def filter_sets(n: int, rng: random.Random) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """`n` distinct (categories, words) pairs: all papers, a category, two, words, or both."""
    chosen: dict[tuple[tuple[str, ...], tuple[str, ...]], None] = {((), ()): None}
    draws = 0
    while len(chosen) < n:
        kind, draws = draws % 4, draws + 1
        cats: tuple[str, ...] = ()
        words: tuple[str, ...] = ()
        if kind in (0, 1, 3):
            cats = tuple(sorted(rng.sample(CATEGORIES, 2 if kind == 3 else 1)))
        if kind in (1, 2):
            words = (rng.choice(WORDS),)
        chosen.setdefault((cats, words), None)
    return list(chosen)[:n]


def papers_and_shares(
    n: int, now: datetime, rng: random.Random
) -> tuple[list[Paper], list[Mention]]:
    """`n` described papers, each shared 1-30 times (Zipf-like) in the last 20 hours."""
    papers, shares = [], []
    for i in range(n):
        arxiv_id = f"2611.{i + 1:05d}"
        cats = tuple(dict.fromkeys(rng.sample(CATEGORIES, rng.choice((1, 1, 2)))))
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 10))).capitalize()
        published = now - timedelta(days=rng.random() * 3)
        papers.append(
            Paper(
                arxiv_id=arxiv_id,
                title=title,
                authors=tuple(f"Author {rng.randint(1, 9999)}" for _ in range(rng.randint(1, 4))),
                abstract=" ".join(rng.choice(WORDS) for _ in range(40)),
                categories=cats,
                published=published,
                updated=published,
                version=1,
            )
        )
        for k in range(max(1, int(30 / (1 + i % 97)))):
            source = SOURCES[k % len(SOURCES)]
            shares.append(
                Mention(
                    source=source,
                    post_id=f"{arxiv_id}-{k}",
                    author=f"{source}-fan{k}",
                    posted_at=now - timedelta(hours=rng.random() * 20),
                    kind="post",
                    arxiv_id=arxiv_id,
                    url=f"https://example.org/{source}/{arxiv_id}/{k}",
                    text=f"look at arXiv:{arxiv_id}",
                )
            )
    shares.sort(key=lambda m: m.posted_at)
    return papers, shares


async def seed(
    engine: AsyncEngine, repo: SqlPaperRepository, args: argparse.Namespace, now: datetime
) -> int:
    """Papers, shares and `args.subs` subscriptions due a minute ago; return the filter sets."""
    rng = random.Random(args.seed)
    papers, shares = papers_and_shares(args.papers, now, rng)
    for start in range(0, len(shares), 5000):
        await repo.add_mentions(shares[start : start + 5000])
    await repo.save_papers(papers)
    sets = filter_sets(args.filter_sets, rng)
    due = now - timedelta(minutes=1)
    rows = [
        {
            "platform": "telegram",
            "chat_id": str(FIRST_CHAT + i),
            "minute_of_day": due.hour * 60 + due.minute,
            "timezone": "UTC",
            "size": 10,
            "categories": " ".join(sets[i % len(sets)][0]),
            "words": "\t".join(sets[i % len(sets)][1]),
            "active": True,
            "inactive_reason": None,
            "created_at": now - timedelta(hours=1),  # after yesterday's digest: only today's
        }
        for i in range(args.subs)
    ]
    async with session_factory(engine)() as session, session.begin():
        for start in range(0, len(rows), 2000):
            await session.execute(insert(SubscriptionRow), rows[start : start + 2000])
    return len(sets)


async def queue_left(engine: AsyncEngine) -> dict[str, int]:
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        )
        return {str(status): int(n) for status, n in rows.all()}


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the send loop did."""

    queued: int = 0
    dispatch_s: float = 0.0
    dispatch_cpu_s: float = 0.0
    report: SendReport = field(default_factory=SendReport)
    rounds: int = 0  # sending runs that sent something (or raised)
    send_s: float = 0.0  # until the queue was empty or the time limit hit
    busy_s: float = 0.0  # until the end of the last run that sent something
    send_cpu_s: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # runs that raised, as the job logs them
    timed_out: bool = False


def _add(a: SendReport, b: SendReport) -> SendReport:
    return SendReport(
        a.sent + b.sent, a.empty + b.empty, a.failed + b.failed, a.retried + b.retried
    )


async def fan_out(
    engine: AsyncEngine,
    store: SubscriptionStore,
    papers: PaperRepository,
    sinks: dict[str, DigestSink],
    args: argparse.Namespace,
) -> Outcome:
    """Dispatch once, then send until the queue is empty, as bot/digests.py's jobs do."""
    out = Outcome()
    t0, c0 = time.perf_counter(), time.process_time()
    out.queued = await dispatch_due_digests(store, datetime.now(UTC))
    out.dispatch_s, out.dispatch_cpu_s = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    while True:
        left_s = args.time_limit - (time.perf_counter() - t0) if args.time_limit else None
        if left_s is not None and left_s <= 0:
            out.timed_out = True
            break
        try:
            async with asyncio.timeout(left_s):
                report = await send_due_deliveries(
                    store,
                    papers,
                    sinks,
                    SystemClock(),
                    batch=args.batch,
                    concurrency=args.concurrency,
                )
        except TimeoutError:
            out.timed_out = True
            break
        except Exception as exc:  # the job logs it and runs again; its claims wait for the lease
            out.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
            print(f"a run raised: {out.errors[-1]}", file=sys.stderr)
            out.rounds += 1
            out.busy_s = time.perf_counter() - t0
            continue
        if report != SendReport():
            out.rounds += 1
            out.report = _add(out.report, report)
            out.busy_s = time.perf_counter() - t0
            continue
        left = await queue_left(engine)
        if not left.get("pending") and not left.get("sending"):
            break
        await asyncio.sleep(0.1)  # retries wait for their not_before, dead claims for the lease
    out.send_s, out.send_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    out.statuses = await queue_left(engine)
    return out


def report(
    args: argparse.Namespace,
    backend: str,
    n_sets: int,
    out: Outcome,
    counts: Counts,
    stats: dict[str, Any],
) -> list[str]:
    """Print the figures; return the targets missed."""
    per_chat: dict[str, int] = stats["messages_per_chat"]
    # From the queue, not the reports: a run that raised still sent (and recorded) what it had
    # claimed, as its other sends go on after the first error.
    delivered = out.statuses.get("sent", 0)
    messages = int(stats["messages"])
    duplicates = sum(1 for n in per_chat.values() if n > 1)
    allowed = float(args.server_rate)
    achieved = delivered / out.busy_s if out.busy_s else 0.0
    span = float(stats["accepted_span_s"])
    server_rate = messages / span if span else 0.0
    cpu_ms = out.send_cpu_s * 1000 / delivered if delivered else float("nan")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ratio = achieved / allowed if allowed else 0.0
    lines = [
        f"backend              {backend}",
        f"subscriptions        {args.subs:,} over {n_sets} filter sets; batch {args.batch}, "
        f"concurrency {args.concurrency}; bot rate {args.rate}/s, server allows "
        f"{args.server_rate}/s",
        f"queued               {out.queued:,} in {out.dispatch_s:.2f} s "
        f"({out.dispatch_cpu_s * 1000:.0f} ms CPU)",
        f"deliveries           {delivered:,} sent, {out.report.empty} empty, "
        f"{out.report.failed} failed, {out.report.retried} retried; left: {out.statuses}",
        f"messages             {messages:,} to {len(per_chat):,} chats "
        f"({messages / delivered if delivered else 0:.2f} per digest)",
        f"wall time            {out.send_s:.1f} s, {out.busy_s:.1f} s of them sending, in "
        f"{out.rounds} runs "
        f"({counts.claims} claims of {counts.claimed:,} deliveries, {counts.claim_s:.2f} s wall)",
        f"achieved / allowed   {achieved:.1f}/s / {allowed:.0f}/s = {ratio:.2f}   (target >= 0.9)"
        f"   [server saw {server_rate:.1f}/s between first and last message; "
        f"peak {stats['peak_in_window']} in a window]",
        f"429s received        {stats['rejected_429']}   (target 0)",
        f"duplicates           {duplicates}   (target 0)",
        f"CPU per delivery     {cpu_ms:.2f} ms   ({out.send_cpu_s:.1f} s process CPU while sending;"
        f" {1000 / cpu_ms if cpu_ms else 0:.0f} deliveries/s would saturate one core)",
        f"digests built        {counts.builds:,} for {len(counts.built_keys)} filter sets "
        f"(target ~{n_sets}); {counts.top_queries:,} top queries, "
        f"{counts.health_reads:,} health reads",
        f"peak RSS             {rss_mb:.0f} MiB",
    ]
    if out.errors:
        lines.append(f"runs that raised     {len(out.errors)}: {out.errors[0]}")
    print("\n".join(lines))
    missed = []
    if out.timed_out:
        missed.append(f"queue not drained in --time-limit {args.time_limit:.0f} s")
    if out.errors:
        missed.append(f"{len(out.errors)} runs raised")
    if ratio < 0.9:
        missed.append(f"achieved/allowed {ratio:.2f} < 0.9")
    if stats["rejected_429"]:
        missed.append(f"{stats['rejected_429']} 429s")
    if duplicates:
        missed.append(f"{duplicates} duplicates")
    if counts.builds > 2 * n_sets:
        missed.append(f"{counts.builds} digests built for {n_sets} filter sets")
    if not out.timed_out and delivered + out.report.empty + out.report.failed != args.subs:
        missed.append(f"{args.subs - delivered} subscriptions without a digest")
    return missed


async def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # retries and 429s are logged one by one; their counts are printed
        logging.getLogger("adapters.telegram.retry").setLevel(logging.ERROR)
        logging.getLogger("adapters.telegram.sink").setLevel(logging.ERROR)
    drop: Callable[[], Awaitable[None]] | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.database_url:
        scratch = await postgres_scratch(args.database_url, "bench_fanout")
        url, drop = scratch.url, scratch.drop
        backend = "postgresql (scratch database)"
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-fanout-")
        path = Path(tmp.name) / "store.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        backend = f"sqlite {path}"
    engine = create_engine(url)
    counts = Counts()
    try:
        await upgrade(engine)
        factory = session_factory(engine)
        repo = SqlPaperRepository(factory, RankingConfig(), SystemClock())
        t0 = time.perf_counter()
        n_sets = await seed(engine, repo, args, datetime.now(UTC))
        print(f"seeded in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        store = cast(SubscriptionStore, TimedStore(SqlSubscriptionStore(factory), counts))
        papers = cast(PaperRepository, CountingPapers(repo, counts))
        async with fake_bot_api(args.server_rate) as api_url:
            app = build_application(
                TOKEN,
                Registry([]),
                api_url=api_url,
                overall_max_rate=args.rate,
                group_max_rate=args.group_rate,
            )
            await app.initialize()
            try:
                sinks: dict[str, DigestSink] = {"telegram": TelegramDigestSink(app.bot)}
                with counting_builds(counts):
                    out = await fan_out(engine, store, papers, sinks, args)
            finally:
                await app.shutdown()
            stats = await server_stats(api_url)
        missed = report(args, backend, n_sets, out, counts, stats)
    finally:
        await engine.dispose()
        if drop is not None:
            await drop()
        if tmp is not None:
            tmp.cleanup()
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 1 if missed and args.strict else 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subs", type=int, default=10_000)
    parser.add_argument("--filter-sets", type=int, default=50)
    parser.add_argument("--papers", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=300, help="the bot's overall_max_rate")
    parser.add_argument(
        "--server-rate", type=float, help="what the fake Bot API allows (default: --rate)"
    )
    parser.add_argument(
        "--group-rate",
        type=float,
        default=20,
        help="group_max_rate a minute (private chats are not group limited)",
    )
    parser.add_argument("--batch", type=int, default=200, help="send_due_deliveries batch=")
    parser.add_argument(
        "--concurrency", type=int, default=32, help="send_due_deliveries concurrency="
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=90,
        help="stop sending after this many seconds, queue drained or not (0: no limit)",
    )
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--database-url", help="run on this PostgreSQL server instead of SQLite")
    parser.add_argument("--quick", action="store_true", help="1,000 subscriptions")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every 429 wait")
    args = parser.parse_args(argv)
    if args.quick:
        args.subs = 1_000
    if args.server_rate is None:
        args.server_rate = args.rate
    if args.subs < 1 or not 1 <= args.filter_sets <= 400:
        parser.error("--subs must be positive and --filter-sets from 1 to 400")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parse_args())))
