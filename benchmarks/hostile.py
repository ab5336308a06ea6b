"""Hostile input benchmark: how long the slowest answer to any input takes on a large store.

    python benchmarks/hostile.py                     # builds 1,000,000 shares (minutes of CPU)
    python benchmarks/hostile.py --quick             # 100,000 shares, to develop with
    python benchmarks/hostile.py --db store.sqlite3  # reuses a store (ranking.py --db X --keep)

The store is the ranking benchmark's (`ranking.generate`, imported the same way). Every input
goes through the command registry as a platform hands it over (`Registry.dispatch_text`: core's
grammar reads the line), then through the console's renderer, so that what is timed is all a
reply costs short of the network. Next to the hostile inputs (many words, deep pages, 4 KB and
1 MB lines, odd unicode, quotes) run the normal commands, the yardstick: no input may take
longer than the slowest of them, and none more than a second.

Each input runs `--repeat` times after one warm-up run; the report gives the median and the
worst run, slowest first.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ranking import END, MovingClock, generate, import_all, store_args, store_parser

from adapters.console.render import render_reply
from core.commands import build_commands
from core.metadata import MetadataService
from core.models import ChatRef
from core.ports import TopQuery
from core.ranking import RankingConfig
from core.registry import Registry, Request
from core.replies import Failure
from core.storage.database import create_engine, session_factory, upgrade
from core.storage.repository import SqlPaperRepository

BUDGET = 1.0  # seconds: the slowest answer allowed to any input
MEGABYTE = 1024 * 1024


class FixedClock:
    """The end of the generated period, as every query of the ranking benchmark sees it."""

    def now(self) -> datetime:
        return END


def normal_inputs(paper: str) -> list[tuple[str, str, str]]:
    """The commands people type: the yardstick for the hostile ones."""
    return [
        ("normal", "top", ""),
        ("normal", "top", "25 week"),
        ("normal", "top", "10 month cs.LG"),
        ("normal", "top", "diffusion"),
        ("normal", "new", ""),
        ("normal", "paper", paper),
        ("normal", "search", "diffusion models"),
        # Words nobody wrote are normal too, and the dearest: every paper's text is read.
        ("normal", "search", "transformers"),
        ("normal", "top", "month cs.LG transformers"),
        ("normal", "help", ""),
    ]


def hostile_inputs() -> list[tuple[str, str, str]]:
    """Inputs meant to be slow or to break something; each is `(kind, command, text)`."""
    many = " ".join(["abc"] * 1000)  # a thousand words in 3,999 characters
    eight_rare = " ".join(f"zq{i}x" for i in range(8))  # matches nothing: every paper is read
    return [
        ("words", "top", many),
        ("words", "search", many),
        ("words", "top", eight_rare),
        ("words", "search", eight_rare),
        ("words", "top", "25 all cs.LG " + eight_rare),
        ("words", "top", "25 learning"),  # one common word, trending
        ("words", "top", "25 learning page=8"),
        ("pages", "top", "page=999999"),
        ("pages", "top", "page=999999999"),
        ("pages", "top", "25 page=8"),  # the deepest page there is
        ("pages", "top", "25 page=9"),
        ("pages", "top", "25 week page=8"),
        ("pages", "top", "25 week cs.LG page=8"),
        ("pages", "top", "1 page=200"),
        ("pages", "top", "25 " + eight_rare + " page=2"),
        ("pages", "new", "999999"),
        ("pages", "new", "20"),
        ("lines", "top", "a " * 2046),  # just under 4,096 characters
        ("lines", "top", "x" * 4096),
        ("lines", "search", "x" * 4097),
        ("lines", "top", "x" * MEGABYTE),
        ("lines", "search", "graph " * (MEGABYTE // 6)),
        ("lines", "paper", "https://arxiv.org/abs/" + "1" * 4000),
        ("unicode", "search", "\u202egnissecorp\u202c"),
        ("unicode", "top", "🙂 " * 8),
        ("unicode", "search", "e\u0301" * 2000),
        ("unicode", "search", "nul\x00word"),
        ("unicode", "search", "\ud800lone"),
        ("unicode", "top", "\uff11\uff12"),
        ("unicode", "paper", "2401.01234".translate({c: c + 0xFEE0 for c in range(48, 58)})),
        ("quotes", "search", '"' * 4000),
        ("quotes", "search", "“" * 4000),
        ("quotes", "top", '"graph neural" “language models” „x“'),
        ("quotes", "search", '"%" "_" "\\\\"'),
        ("quotes", "search", "%" * 60),
    ]


async def time_input(registry: Registry, name: str, text: str, repeat: int) -> list[float]:
    request = Request(ChatRef("console", "bench"), "bench")
    runs: list[float] = []
    for _ in range(repeat + 1):  # the first run warms caches and is not counted
        start = time.perf_counter()
        reply = await registry.dispatch_text(name, text, request)
        render_reply(reply)
        runs.append(time.perf_counter() - start)
        if isinstance(reply, Failure):
            raise SystemExit(f"/{name} {text[:60]!r} failed: see the log above")
    return runs[1:]


def shown(name: str, text: str) -> str:
    line = f"/{name} {text}".strip()
    if len(line) <= 48:
        return repr(line)
    return f"{line[:40]!r}… ({len(line):,} chars)"


async def build_store(args: argparse.Namespace, path: Path) -> None:
    t0 = time.perf_counter()
    data = generate(args.mentions, args.papers, args.days, args.seed)
    gc.collect()
    gc.freeze()  # as ranking.py: the generated data set is not the bot's to collect
    print(f"generated in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
        clock = MovingClock(END)
        repo = SqlPaperRepository(session_factory(engine), RankingConfig(), clock)
        registry = build_commands(repo, MetadataService(repo, None, clock), clock, RankingConfig())
        loads = await import_all(repo, registry, clock, data)
        seconds = sum(v for k, v in loads.items() if k.endswith("_s"))
        print(f"imported in {seconds:.1f} s", file=sys.stderr)
    finally:
        await engine.dispose()
        gc.unfreeze()


async def run(args: argparse.Namespace) -> None:
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.db:
        path = Path(args.db)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-hostile-")
        path = Path(tmp.name) / "store.sqlite3"
    try:
        if not path.exists():
            await build_store(args, path)
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            clock = FixedClock()
            repo = SqlPaperRepository(session_factory(engine), RankingConfig(), clock)
            metadata = MetadataService(repo, None, clock)  # never asks arXiv
            registry = build_commands(repo, metadata, clock, RankingConfig())
            top = await repo.top(TopQuery(limit=1), END)
            paper = top[0].paper.arxiv_id if top else "2603.00001"
            await report(registry, [*normal_inputs(paper), *hostile_inputs()], args.repeat)
        finally:
            await engine.dispose()
    finally:
        if tmp is not None:
            tmp.cleanup()


async def report(registry: Registry, inputs: Sequence[tuple[str, str, str]], repeat: int) -> None:
    rows: list[tuple[float, float, str, str]] = []
    for kind, name, text in inputs:
        runs = await time_input(registry, name, text, repeat)
        rows.append((max(runs), statistics.median(runs), kind, shown(name, text)))
    rows.sort(reverse=True)
    print(f"{'worst':>9} {'median':>9}  {'kind':8} input")
    for worst, median, kind, line in rows:
        print(f"{worst * 1000:7.1f}ms {median * 1000:7.1f}ms  {kind:8} {line}")
    slowest_normal = max(w for w, _, kind, _ in rows if kind == "normal")
    slowest_hostile = max((r for r in rows if r[2] != "normal"), key=lambda r: r[0])
    print(
        f"slowest normal command: {slowest_normal * 1000:.1f} ms; slowest hostile input: "
        f"{slowest_hostile[3]} at {slowest_hostile[0] * 1000:.1f} ms "
        f"({'within' if slowest_hostile[0] <= slowest_normal else 'OVER'} the yardstick, "
        f"{'within' if slowest_hostile[0] <= BUDGET else 'OVER'} {BUDGET:.0f} s)"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = store_parser(__doc__)
    parser.add_argument("--db", help="SQLite store to reuse, or to build there if missing")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per input")
    args = store_args(parser, argv)
    return args


if __name__ == "__main__":
    asyncio.run(run(parse_args()))
