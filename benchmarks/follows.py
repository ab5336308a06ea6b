"""Follow list benchmark: `/top following` latency on the ranking benchmark's store.

    python benchmarks/follows.py                # 1,000,000 mentions, a 2,000-account list
    python benchmarks/follows.py --quick        # 100,000 mentions (smoke run)
    python benchmarks/follows.py --db store.sqlite3  # reuses a store, or builds it there
    python benchmarks/follows.py --database-url postgresql://postgres@127.0.0.1:5432/test

The store is benchmarks/ranking.py's: the same seeded generator, imported the same way (batches
of `IMPORT_BATCH` through `add_mentions`, then a sweep). A chat then follows 2,000 accounts drawn at
random from the accounts that shared anything (Bluesky ones by a DID, their shares naming
their handle, as imported shares may), stored through `FollowLists.add` as an import does;
a second chat follows the 2,000 most active accounts, the heaviest list of that size.

On PostgreSQL the store is vacuumed and analysed after the import, as autovacuum would have
done by then. Queries go through the command registry and the console renderer as a chat
sends them: plain `/top following`, the week window, and a category filter, 61 s apart on a
moving clock. Warm-up calls are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path

from ranking import END, MovingClock, generate, import_all, percentile, store_args, store_parser
from scratch import postgres_scratch
from sqlalchemy import text

from adapters.console.render import render_reply
from core.commands import build_commands
from core.metadata import MetadataService
from core.models import ChatRef, Mention
from core.ports import Account
from core.ranking import RankingConfig
from core.registry import Registry, Request
from core.replies import PaperList, Problem
from core.storage.database import create_engine, session_factory, upgrade
from core.storage.follow_lists import SqlFollowLists
from core.storage.repository import SqlPaperRepository

FOLLOWING = 2000
QUERIES = 200
RANDOM_LIST = ChatRef("console", "random-follows")
HEAVY_LIST = ChatRef("console", "heavy-follows")
ASKED = (("top following", ()), ("top following week", ("week",)), ("cs.LG", ("cs.LG",)))


def account(source: str, author: str) -> Account:
    """The account a share's author is, as the directory would give it."""
    if source == "bluesky":
        return Account(source, f"did:plc:{zlib.crc32(author.encode()):024d}", author)
    return Account(source, author, author)


def follow_lists(mentions: Sequence[Mention], size: int, seed: int) -> tuple[list[Account], ...]:
    """A random list of `size` accounts among those that shared, and the `size` most active."""
    activity = Counter((m.source, m.author) for m in mentions)
    authors = sorted(activity)
    picked = random.Random(seed).sample(authors, size)
    heaviest = [a for a, _ in activity.most_common(size)]
    return [account(*a) for a in picked], [account(*a) for a in heaviest]


async def ask(registry: Registry, chat: ChatRef, *args: str) -> PaperList:
    request = Request(chat, "bench", ("following", *args))
    reply = await registry.dispatch("top", request)
    if isinstance(reply, Problem) or not isinstance(reply, PaperList):
        raise SystemExit(f"/top following {' '.join(args)}: {render_reply(reply)}")
    render_reply(reply)
    return reply


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def latencies(
    registry: Registry, clock: MovingClock, chat: ChatRef, queries: int
) -> dict[str, list[float]]:
    for _ in range(10):  # warm-up, not counted
        for _, args in ASKED:
            await ask(registry, chat, *args)
    samples: dict[str, list[float]] = {name: [] for name, _ in ASKED}
    for _ in range(queries):
        for name, args in ASKED:
            clock.advance(timedelta(seconds=61))
            samples[name].append(await timed(lambda a=args: ask(registry, chat, *a)))
    return samples


def _ms(samples: Sequence[float]) -> str:
    p50, p99 = (percentile(samples, p) * 1000 for p in (50, 99))
    return f"p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"


async def run(args: argparse.Namespace) -> None:
    data = generate(args.mentions, args.papers, args.days, args.seed)
    gc.collect()
    gc.freeze()  # as benchmarks/ranking.py: the data set stays out of the collector's passes
    picked, heaviest = follow_lists(data.mentions, FOLLOWING, args.seed)
    drop: Callable[[], Awaitable[None]] | None = None
    tmp: tempfile.TemporaryDirectory[str] | None = None
    built = False
    if args.database_url:
        scratch = await postgres_scratch(args.database_url, "bench_follows")
        url, drop, backend = scratch.url, scratch.drop, "postgresql (scratch database)"
    else:
        if args.db:
            path = Path(args.db)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="bench-follows-")
            path = Path(tmp.name) / "store.sqlite3"
        built = path.exists()
        url, backend = f"sqlite+aiosqlite:///{path}", f"sqlite {path}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        clock = MovingClock(END)
        config = RankingConfig()
        factory = session_factory(engine)
        repo = SqlPaperRepository(factory, config, clock)
        follows = SqlFollowLists(factory, config)
        registry = build_commands(
            repo, MetadataService(repo, None, clock), clock, config, follows=follows
        )
        if built:
            # A kept store from an earlier run: the same data, imported then; the lists are
            # stored again below, so the run starts from the same state either way.
            await follows.clear(RANDOM_LIST)
            await follows.clear(HEAVY_LIST)
        else:
            loads = await import_all(repo, registry, clock, data)
            print(f"imported in {loads['mentions_s']:.1f} s", file=sys.stderr)
        if args.database_url:
            # What autovacuum does after a bulk load: the visibility map lets the sharers'
            # account index answer alone (index-only scans), and the planner sees real sizes.
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE"))
        start = time.perf_counter()
        await follows.add(RANDOM_LIST, picked, clock.now())
        stored_s = time.perf_counter() - start
        await follows.add(HEAVY_LIST, heaviest, clock.now())
        if args.database_url:
            # The lists' sums are new rows too: autovacuum would have analysed them by the time
            # anyone asks, and the planner needs their sizes to read them in index order.
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("ANALYZE"))
        shares = Counter((m.source, m.author) for m in data.mentions)
        random_shares = sum(shares[(a.network, a.shown)] for a in picked)
        heavy_shares = sum(shares[(a.network, a.shown)] for a in heaviest)
        lines = [
            f"backend              {backend}",
            f"data                 {len(data.mentions):,} mentions, {len(data.popularity):,} "
            f"papers, {args.days} days, {len(shares):,} accounts, seed {args.seed}",
            f"store {FOLLOWING:,} follows {stored_s * 1000:8.1f} ms (one transaction)",
        ]
        for label, chat, total in (
            ("random", RANDOM_LIST, random_shares),
            ("most active", HEAVY_LIST, heavy_shares),
        ):
            samples = await latencies(registry, clock, chat, args.queries)
            lines.append(f"{label} list: {FOLLOWING:,} accounts, {total:,} of their shares")
            lines += [f"  /{name:<22} {_ms(found)}" for name, found in samples.items()]
        print("\n".join(lines))
    finally:
        await engine.dispose()
        if drop is not None:
            await drop()
        if tmp is not None:
            tmp.cleanup()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = store_parser(__doc__)
    parser.add_argument("--queries", type=int, default=QUERIES, help="timed calls of each")
    parser.add_argument("--db", help="SQLite store to reuse, or to build there if missing")
    parser.add_argument("--database-url", help="run on this PostgreSQL server instead")
    return store_args(parser, argv)


if __name__ == "__main__":
    asyncio.run(run(parse_args()))
