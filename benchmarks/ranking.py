"""Ranking benchmark: import throughput and `/top`, `/paper` latency on a generated store.

    python benchmarks/ranking.py                # 1,000,000 mentions, 100,000 papers, 30 days
    python benchmarks/ranking.py --quick        # 100,000 mentions, 10,000 papers (smoke run)
    python benchmarks/ranking.py --database-url postgresql://postgres@127.0.0.1:5432/test

The data are seeded and shaped like the real thing: Zipf-like paper popularity, shares spread
over the days with a recent bias and a burst after each paper appears, three networks whose
accounts share many papers (sometimes the same one twice), vote snapshots from three aggregators
for a few thousand papers, and arXiv metadata for most papers.

Mentions go in through `SqlPaperRepository.add_mentions` in batches of `IMPORT_BATCH` (50,000),
in time order, as `trending-arxiv import` feeds them, and the import ends with a sweep, as the
command does. Right after each batch, the same rows are inserted with a raw `executemany` into a
copy of the mentions table (same columns and indexes; on SQLite in a file of its own beside the
store, with the store's settings; on PostgreSQL in the same database), through the driver's own
connection, a commit per batch: alternated so, both inserts see the machine at the same speed,
which drifts within a run (the `cpu check` line).

The generated data set is kept out of the garbage collector's view (`gc.freeze`): a real
import holds one batch of its file, not a million mentions, and the collector's full passes over
them would be charged to both inserts.

Queries go through the command registry and the console renderer, as a chat sends them, on a
clock that moves as users live: 61 s between calls (the background sweep runs between them, as
it does once a minute), then an hour and a day of quiet before the first `/top`, with the sweep
started beside it, and a poller writing a batch of five new shares every 200 ms while the sweep
runs (how long each batch took, waiting for the write lock included). Beside those sweeps
another connection asks for the write lock every 5 ms (benchmarks/lock_probe.py): its longest
wait is the longest the lock was held. Warm-up calls are not counted. On PostgreSQL the
benchmark creates a scratch database on the named server and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import random
import resource
import sys
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lock_probe import LockProbe
from scratch import postgres_scratch
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.console.render import render_reply
from core.commands import build_commands
from core.importer import IMPORT_BATCH
from core.metadata import MetadataService
from core.models import ChatRef, Mention, MentionKind, Paper, VoteSnapshot
from core.ports import SweepReport
from core.ranking import RankingConfig
from core.registry import Registry, Request
from core.replies import Problem
from core.storage.database import create_engine, session_factory, upgrade
from core.storage.repository import MENTION_COLUMNS, SqlPaperRepository
from core.storage.tables import MentionRow

END = datetime(2026, 6, 1, tzinfo=UTC)
BATCH = IMPORT_BATCH
SNAPSHOT_BATCH = 1000
PAPER_BATCH = 1000
QUERIES = 200
NETWORKS = (("x", 0.45), ("bluesky", 0.35), ("mastodon", 0.20))
AGGREGATORS = (("huggingface", 0.6), ("hackernews", 0.4), ("reddit", 0.3))
KINDS: tuple[tuple[MentionKind, float], ...] = (("post", 0.8), ("repost", 0.15), ("quote", 0.05))
CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML", "cs.RO", "cs.CR", "quant-ph")
LEADS = ("", "", "New paper: ", "Worth a read: ", "Interesting! ", "via @arxiv: ", "🔥 ")
INSTANCES = ("mastodon.social", "sigmoid.social", "fediscience.org", "hachyderm.io")
VOCABULARY = (
    "learning deep neural network networks language model models large transformer attention "
    "diffusion graph reinforcement policy optimization gradient training scaling laws data "
    "efficient robust adversarial generative sparse mixture experts vision image video robot "
    "quantum benchmark evaluation reasoning agents alignment preference retrieval augmented "
    "contrastive self supervised representation embedding tokens inference fast memory kernel "
    "bayesian causal federated privacy differential theory convergence stochastic approximation"
)
WORDS = tuple(VOCABULARY.split())


@dataclass
class Dataset:
    """Everything the benchmark stores, in the order it is stored."""

    mentions: list[Mention]
    snapshots: list[VoteSnapshot]
    papers: list[Paper]
    popularity: dict[str, int] = field(default_factory=dict)


class MovingClock:
    """A clock that runs with the wall clock from `start`, and jumps when users go quiet."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._t0 = time.perf_counter()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.perf_counter() - self._t0)

    def advance(self, delta: timedelta) -> datetime:
        self._start += delta
        return self.now()


# --- data -------------------------------------------------------------------------------------


def _pick(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def _zipf_cum(n: int, exponent: float, offset: float) -> list[float]:
    total = 0.0
    cum = []
    for rank in range(n):
        total += (rank + 1 + offset) ** -exponent
        cum.append(total)
    return cum


def _paper_ids(n: int) -> list[str]:
    months = ("2603", "2604", "2605")
    per_month = math.ceil(n / len(months))
    return [f"{months[i // per_month]}.{i % per_month + 1:05d}" for i in range(n)]


def _title(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 11))).capitalize()


def generate(n_mentions: int, n_papers: int, days: int, seed: int) -> Dataset:
    """Build the seeded data set."""
    rng = random.Random(seed)
    start = END - timedelta(days=days)
    ids = _paper_ids(n_papers)
    rng.shuffle(ids)  # rank r is the r-th most popular paper
    counts = [1] * n_papers
    cum = _zipf_cum(n_papers, 1.0, 20.0)
    for rank in rng.choices(range(n_papers), cum_weights=cum, k=max(0, n_mentions - n_papers)):
        counts[rank] += 1
    births = {pid: start + (END - start) * rng.random() ** 0.6 for pid in ids}
    titles = {pid: _title(rng) for pid in ids}
    pools = {name: max(50, int(n_mentions * share * 0.15)) for name, share in NETWORKS}
    handles = {name: [_author(name, k) for k in range(size)] for name, size in pools.items()}
    draws = _draws(rng, n_mentions, pools)
    shares: list[tuple[Any, ...]] = []
    for pid, count in zip(ids, counts, strict=True):
        seen: list[tuple[str, str]] = []
        for _ in range(count):
            source, account, kind, version, lead = next(draws)
            if seen and rng.random() < 0.03:
                source, author = rng.choice(seen)  # the same account shares it again
            else:
                author = handles[source][account]
                seen.append((source, author))
            moment = _share_time(rng, births[pid], start)
            engagement = min(50_000, int(rng.paretovariate(1.1)) - 1)
            shares.append((moment, source, author, pid, kind, version, lead, engagement))
    shares.sort(key=lambda share: share[0])
    mentions = []
    # Post ids grow with time on every network (snowflakes, TIDs), so they are given in order.
    for serial, (moment, source, author, pid, kind, version, lead, engagement) in enumerate(shares):
        post_id, url = _post(serial, source, author)
        mentions.append(
            Mention(
                source=source,
                post_id=post_id,
                author=author,
                posted_at=moment,
                kind=kind,
                arxiv_id=pid,
                version=version,
                url=url,
                text=f"{lead}{titles[pid]} https://arxiv.org/abs/{pid}",
                engagement=engagement,
            )
        )
    popularity = dict(zip(ids, counts, strict=True))
    snapshots = _snapshots(rng, ids, counts, births, titles)
    papers = _papers(rng, ids, births, titles)
    return Dataset(mentions, snapshots, papers, popularity)


def _share_time(rng: random.Random, birth: datetime, start: datetime) -> datetime:
    if rng.random() < 0.15:
        moment = start + (END - start) * rng.random()  # the long tail: old papers come back
    else:
        moment = birth + timedelta(days=rng.expovariate(1 / 1.5))
        if moment >= END:
            moment = birth + (END - birth) * rng.random()
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _author(source: str, k: int) -> str:
    if source == "bluesky":
        return f"researcher{k}.bsky.social"
    if source == "mastodon":
        return f"scholar{k}@{INSTANCES[k % len(INSTANCES)]}"
    return f"ml_person_{k}"


def _draws(rng: random.Random, n: int, pools: dict[str, int]) -> Iterator[tuple[Any, ...]]:
    """Draw each mention's network, account, kind, version and lead text in bulk (fast)."""
    sources = rng.choices([k for k, _ in NETWORKS], weights=[w for _, w in NETWORKS], k=n)
    accounts = {
        name: iter(
            rng.choices(range(size), cum_weights=_zipf_cum(size, 0.8, 10.0), k=sources.count(name))
        )
        for name, size in pools.items()
    }
    kinds = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS], k=n)
    versions = rng.choices((None, 1, 2), weights=(1, 3, 1), k=n)
    leads = rng.choices(LEADS, k=n)
    for source, kind, version, lead in zip(sources, kinds, versions, leads, strict=True):
        yield source, next(accounts[source]), kind, version, lead


def _post(serial: int, source: str, author: str) -> tuple[str, str]:
    """A post id and URL shaped like the network's own."""
    if source == "x":
        post_id = str(1_790_000_000_000_000_000 + serial * 7919)
        return post_id, f"https://x.com/{author}/status/{post_id}"
    if source == "bluesky":
        rkey = f"3l{serial * 104729:011x}"
        did = f"did:plc:{zlib.crc32(author.encode()):010d}"
        return (
            f"at://{did}/app.bsky.feed.post/{rkey}",
            f"https://bsky.app/profile/{author}/post/{rkey}",
        )
    post_id = str(113_000_000_000_000_000 + serial * 31)
    user, instance = author.split("@")
    return post_id, f"https://{instance}/@{user}/{post_id}"


def _snapshots(
    rng: random.Random,
    ids: list[str],
    counts: list[int],
    births: dict[str, datetime],
    titles: dict[str, str],
) -> list[VoteSnapshot]:
    how_many = min(len(ids), max(10, len(ids) * 3 // 100))
    keyed = sorted(zip(ids, counts, strict=True), key=lambda p: rng.random() ** (1 / p[1]))
    snaps: list[VoteSnapshot] = []
    for serial, (pid, _) in enumerate(keyed[-how_many:]):
        chosen = [name for name, p in AGGREGATORS if rng.random() < p] or ["huggingface"]
        for source in chosen:
            item = {"hackernews": str(40_000_000 + serial), "reddit": f"t3_{serial:x}"}.get(
                source, pid
            )
            first = min(END, births[pid] + timedelta(days=rng.expovariate(2.0)))
            final = min(3000, int(rng.paretovariate(1.0) * 5))
            steps = rng.randint(3, 10)
            for j in range(1, steps + 1):
                taken = first + (min(END, first + timedelta(days=3)) - first) * (j - 1) / steps
                votes = int(final * (j / steps) ** 0.7)
                snaps.append(
                    VoteSnapshot(
                        source=source,
                        item_id=item,
                        arxiv_id=pid,
                        taken_at=taken.replace(microsecond=0),
                        votes=votes,
                        comments=0 if source == "huggingface" else votes * 2 // 5,
                        url=f"https://{source}.example/{item}",
                        title=titles[pid],
                    )
                )
    snaps.sort(key=lambda s: (s.taken_at, s.source, s.item_id))
    return snaps


def _papers(
    rng: random.Random, ids: list[str], births: dict[str, datetime], titles: dict[str, str]
) -> list[Paper]:
    papers = []
    for pid in ids:
        if rng.random() >= 0.9:
            continue  # arXiv has not answered for this one yet
        published = (births[pid] - timedelta(days=rng.random() * 3)).replace(microsecond=0)
        version = rng.choice((1, 1, 1, 2, 3))
        cats = [rng.choice(CATEGORIES)]
        if rng.random() < 0.5:
            cats.append(rng.choice(CATEGORIES))
        papers.append(
            Paper(
                arxiv_id=pid,
                title=titles[pid],
                authors=tuple(f"Author {rng.randint(1, 50_000)}" for _ in range(rng.randint(1, 8))),
                abstract=" ".join(rng.choice(WORDS) for _ in range(rng.randint(80, 200))),
                categories=tuple(dict.fromkeys(cats)),
                published=published,
                updated=published + timedelta(days=7 * (version - 1)),
                version=version,
            )
        )
    return papers


# --- measurements -----------------------------------------------------------------------------


def cpu_check() -> float:
    """Seconds a 10,000,000-step Python loop takes: how fast this machine is at the moment.

    Machines of one kind differ, and one machine's speed drifts within an hour: printed before
    and after the run, it tells whether two runs' figures can be compared.
    """
    start = time.perf_counter()
    total = 0
    for step in range(10_000_000):
        total += step
    return time.perf_counter() - start


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def import_all(
    repo: SqlPaperRepository,
    registry: Registry,
    clock: MovingClock,
    data: Dataset,
    raw: RawInsert | None = None,
) -> dict[str, Any]:
    """Import the data set as `trending-arxiv import` does, timing each part.

    With `raw`, each batch is also inserted raw right after it is imported, so both inserts
    see the machine as it is at that moment (its speed drifts within a run).
    """
    out: dict[str, Any] = {"mentions_s": 0.0, "raw_s": 0.0}
    stored = 0
    for i in range(0, len(data.mentions), BATCH):
        batch = data.mentions[i : i + BATCH]
        start = time.perf_counter()
        stored += (await repo.add_mentions(batch)).mentions
        out["mentions_s"] += time.perf_counter() - start
        if raw is not None:
            out["raw_s"] += await raw.insert(batch)
    if stored != len(data.mentions):
        raise SystemExit(f"stored {stored} of {len(data.mentions)} mentions")
    start = time.perf_counter()
    for i in range(0, len(data.snapshots), SNAPSHOT_BATCH):
        await repo.add_snapshots(data.snapshots[i : i + SNAPSHOT_BATCH])
    out["snapshots_s"] = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(0, len(data.papers), PAPER_BATCH):
        await repo.save_papers(data.papers[i : i + PAPER_BATCH])
    out["papers_s"] = time.perf_counter() - start
    start = time.perf_counter()
    out["sweep"] = await repo.sweep(clock.now())  # `trending-arxiv import` ends swept
    out["sweep_s"] = time.perf_counter() - start
    out["first_top_s"] = await timed(lambda: ask(registry, "top"))
    return out


def _raw_table() -> Any:
    table = MentionRow.__table__.to_metadata(MetaData(), name="bench_raw_mentions")
    for item in (*table.indexes, *table.constraints):
        if isinstance(item.name, str):
            item.name = f"bench_raw_{item.name}"
    return table


def _raw_value(m: Mention, sqlite: bool) -> tuple[Any, ...]:
    posted: Any = m.posted_at
    if sqlite:  # the text SQLAlchemy's SQLite dialect stores
        posted = posted.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return (
        m.source,
        m.post_id,
        m.arxiv_id,
        m.author,
        posted,
        m.kind,
        m.version,
        m.url,
        m.text,
        m.engagement,
    )


class RawInsert:
    """Batches through the driver's executemany into a copy of the mentions table, a commit each.

    The copy has the same columns and indexes, on the database of `engine`.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._table = _raw_table()
        self._sqlite = engine.dialect.name == "sqlite"
        if self._sqlite:
            marks = ", ".join("?" for _ in MENTION_COLUMNS)
        else:
            marks = ", ".join(f"${i + 1}" for i in range(len(MENTION_COLUMNS)))
        cols = ", ".join(MENTION_COLUMNS)
        self._sql = f"INSERT INTO {self._table.name} ({cols}) VALUES ({marks})"
        self._driver: Any = None

    async def __aenter__(self) -> RawInsert:
        async with self._engine.begin() as conn:
            await conn.run_sync(self._table.create)
        self._conn = await self._engine.connect()
        self._driver = (await self._conn.get_raw_connection()).driver_connection
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._conn.close()
        async with self._engine.begin() as conn:
            await conn.run_sync(self._table.drop)

    async def insert(self, mentions: Sequence[Mention]) -> float:
        """Insert one batch and commit; return seconds."""
        start = time.perf_counter()
        rows = [_raw_value(m, self._sqlite) for m in mentions]
        if self._sqlite:
            await self._driver.executemany(self._sql, rows)
            await self._driver.commit()
        else:
            async with self._driver.transaction():
                await self._driver.executemany(self._sql, rows)
        return time.perf_counter() - start


async def ask(registry: Registry, command: str, *args: str) -> str:
    """Send one command as the console chat does, and render the reply."""
    request = Request(ChatRef("console", "bench"), "bench", args)
    reply = await registry.dispatch(command, request)
    if isinstance(reply, Problem):
        raise SystemExit(f"/{command} {' '.join(args)}: {render_reply(reply)}")
    return render_reply(reply)


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def _timed_sweep(repo: SqlPaperRepository, now: datetime) -> tuple[SweepReport, float]:
    start = time.perf_counter()
    done = await repo.sweep(now)
    return done, time.perf_counter() - start


async def latencies(
    repo: SqlPaperRepository,
    registry: Registry,
    clock: MovingClock,
    data: Dataset,
    seed: int,
    url: str,
) -> dict[str, Any]:
    """Users asking, a minute apart and after quiet spells, with the sweep doing its rounds."""
    out: dict[str, Any] = {}
    rng = random.Random(seed + 1)
    ids = list(data.popularity)
    picks = rng.choices(ids, weights=[data.popularity[i] for i in ids], k=QUERIES + 20)
    for pid in picks[QUERIES:]:  # warm-up, not counted
        await ask(registry, "top")
        await ask(registry, "top", "week")
        await ask(registry, "paper", pid)
    samples: dict[str, list[float]] = {"top": [], "top week": [], "paper": []}
    for pid in picks[:QUERIES]:
        for name, args in (("top", ()), ("top week", ("week",)), ("paper", (pid,))):
            clock.advance(timedelta(seconds=61))
            await repo.sweep(clock.now())  # the minute's background sweep, not counted
            command = name.split()[0]
            samples[name].append(await timed(lambda c=command, a=args: ask(registry, c, *a)))
    out.update(samples)
    for label, quiet in (("1 h", timedelta(hours=1)), ("24 h", timedelta(hours=24))):
        clock.advance(quiet)
        with LockProbe(url) as probe:
            # The sweep starts as the first user asks: the read does not wait for it.
            sweeping = asyncio.create_task(_timed_sweep(repo, clock.now()))
            await asyncio.sleep(0)
            out[f"first top after {label}"] = await timed(lambda: ask(registry, "top"))
            beside = await _write_beside(repo, clock, sweeping)
            out[f"writes beside the sweep after {label}"] = beside
            out[f"sweep after {label}"], out[f"sweep after {label} s"] = await sweeping
        out[f"lock waits beside the sweep after {label}"] = probe.waits
    return out


async def _write_beside(
    repo: SqlPaperRepository, clock: MovingClock, sweeping: asyncio.Task[Any]
) -> list[float]:
    """A poller's small batches while the sweep runs, one every 200 ms: how long each took."""
    took: list[float] = []
    serial = 0
    while not sweeping.done():
        serial += 1
        batch = [
            Mention(
                source="bluesky",
                post_id=f"at://did:plc:beside/app.bsky.feed.post/{serial}-{k}",
                author=f"beside-{serial}-{k}.bsky.social",
                posted_at=clock.now(),
                kind="post",
                arxiv_id=f"2605.{(serial * 7 + k) % 9000 + 1000:05d}",
                version=None,
                url=None,
                text="beside the sweep",
            )
            for k in range(5)
        ]
        took.append(await timed(lambda b=batch: repo.add_mentions(b)))
        await asyncio.sleep(0.2)
    return took


# --- databases --------------------------------------------------------------------------------


async def sqlite_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


# --- report -----------------------------------------------------------------------------------


def _ms(samples: Sequence[float]) -> str:
    p50, p99 = (percentile(samples, p) * 1000 for p in (50, 99))
    return f"p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"


def _sweep(report: SweepReport, seconds: float | None = None) -> str:
    took = f"{seconds:.2f} s, " if seconds is not None else ""
    return (
        f"{took}{report.steps} steps, longest {report.longest_step * 1000:.0f} ms"
        f" (rescored {report.rescored:,})"
    )


def _waits(samples: Sequence[float]) -> str:
    if not samples:
        return "none (the sweep ended first)"
    return f"{len(samples)} asks, {_ms(samples)}   max {max(samples) * 1000:7.2f} ms"


def _beside(samples: Sequence[float]) -> str:
    if not samples:
        return "none (the sweep ended first)"
    worst = max(samples) * 1000
    return f"{len(samples)} batches of 5 shares, {_ms(samples)}   max {worst:7.2f} ms"


def report(
    args: argparse.Namespace,
    data: Dataset,
    loads: dict[str, float],
    raw_s: float,
    lat: dict[str, Any],
    size: int,
    backend: str,
    cpu: tuple[float, float],
) -> None:
    n = len(data.mentions)
    rate, raw_rate = n / loads["mentions_s"], n / raw_s
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"backend              {backend}",
        f"data                 {n:,} mentions, {len(data.popularity):,} papers, {args.days} days, "
        f"{len(data.snapshots):,} vote snapshots, {len(data.papers):,} papers described, "
        f"seed {args.seed}",
        f"import (repo)        {rate:>10,.0f} mentions/s   ({loads['mentions_s']:.1f} s)",
        f"raw executemany      {raw_rate:>10,.0f} mentions/s   ({raw_s:.1f} s)",
        f"import / raw         {rate / raw_rate:10.1%}",
        f"sweep ending import  {_sweep(loads['sweep'], loads['sweep_s'])}",
        f"snapshots            {len(data.snapshots) / loads['snapshots_s']:>10,.0f} /s",
        f"metadata             {len(data.papers) / loads['papers_s']:>10,.0f} papers/s",
        f"first /top (import)  {loads['first_top_s'] * 1000:10.1f} ms",
        f"/top, 61 s apart     {_ms(lat['top'])}",
        f"/top week            {_ms(lat['top week'])}",
        f"/paper               {_ms(lat['paper'])}",
        f"first /top, 1 h      {lat['first top after 1 h'] * 1000:10.1f} ms (sweep beside it)",
        f"sweep after 1 h      {_sweep(lat['sweep after 1 h'], lat['sweep after 1 h s'])}",
        f"write lock waited    {_waits(lat['lock waits beside the sweep after 1 h'])}",
        f"first /top, 24 h     {lat['first top after 24 h'] * 1000:10.1f} ms (sweep beside it)",
        f"sweep after 24 h     {_sweep(lat['sweep after 24 h'], lat['sweep after 24 h s'])}",
        f"writes beside it     {_beside(lat['writes beside the sweep after 24 h'])}",
        f"write lock waited    {_waits(lat['lock waits beside the sweep after 24 h'])}",
        f"database size        {size / 2**20:10.1f} MiB",
        f"peak RSS             {rss_mb:10.0f} MiB",
        f"cpu check            {cpu[0]:.2f} s before, {cpu[1]:.2f} s after "
        "(a 10,000,000-step Python loop)",
    ]
    print("\n".join(lines))


async def run(args: argparse.Namespace) -> None:
    before = cpu_check()
    t0 = time.perf_counter()
    data = generate(args.mentions, args.papers, args.days, args.seed)
    print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    # The data set stays in memory for the whole run, where `trending-arxiv import` holds one
    # batch of a streamed file: keep its million objects out of every garbage collection.
    gc.collect()
    gc.freeze()
    drop: Callable[[], Awaitable[None]] | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.database_url:
        scratch = await postgres_scratch(args.database_url, "bench_ranking")
        url, pg_size, drop = scratch.url, scratch.size, scratch.drop
        backend = "postgresql (scratch database)"
    else:
        if args.db:
            path = Path(args.db)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="bench-ranking-")
            path = Path(tmp.name) / "store.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        backend = f"sqlite {path}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        clock = MovingClock(END)
        config = RankingConfig()
        repo = SqlPaperRepository(session_factory(engine), config, clock)
        registry = build_commands(repo, MetadataService(repo, None, clock), clock, config)
        # On SQLite the raw rows go to a file of their own, which the store's size leaves out.
        raw_path = None if args.database_url else path.with_name(f"raw-{path.name}")
        raw_engine = create_engine(f"sqlite+aiosqlite:///{raw_path}") if raw_path else engine
        try:
            async with RawInsert(raw_engine) as raw:
                loads = await import_all(repo, registry, clock, data, raw)
        finally:
            if raw_path is not None:
                await raw_engine.dispose()
                for leftover in raw_path.parent.glob(raw_path.name + "*"):
                    leftover.unlink()
        print(f"imported in {loads['mentions_s']:.1f} s", file=sys.stderr)
        size = await (pg_size() if args.database_url else sqlite_size(path))
        raw_s = loads["raw_s"]
        lat = await latencies(repo, registry, clock, data, args.seed, url)
        report(args, data, loads, raw_s, lat, size, backend, (before, cpu_check()))
    finally:
        await engine.dispose()
        if drop is not None and not args.keep:
            await drop()
        if tmp is not None and not args.keep:
            tmp.cleanup()


def store_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the generated store's shape, which every benchmark on it takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20260601)
    parser.add_argument("--quick", action="store_true", help="100k mentions, 10k papers")
    return parser


def store_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse `argv`, `--quick` standing for a tenth of the store."""
    args = parser.parse_args(argv)
    if args.quick:
        args.mentions, args.papers = 100_000, 10_000
    return args


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = store_parser(__doc__)
    parser.add_argument("--db", help="SQLite file to create (default: one in a temp dir)")
    parser.add_argument("--database-url", help="run on this PostgreSQL server instead")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = store_args(parser, argv)
    if args.db and os.path.exists(args.db):
        parser.error(f"{args.db} exists; give a new file")
    if args.papers > args.mentions:
        parser.error("--papers must not exceed --mentions")
    return args


if __name__ == "__main__":
    asyncio.run(run(parse_args()))
