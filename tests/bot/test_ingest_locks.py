"""The polls of `ingest --once` and of the first ingest take each source's lock.

Replicas sharing one database keep each source to one poller at a time with named locks; the
scheduled polls took them, and these polls now do too.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest_asyncio

from bot.ingest import first_ingest, ingest_once
from bot.settings import Settings
from bot.sources import Sources
from bot.wiring import Engine, open_engine
from core.ingest import AccountFilter
from core.locks import InProcessLocks
from core.models import Mention
from core.ports import Batch
from tests.conftest import START
from tests.fakes import FixedClock

SKIPPED = "skipped: another process is polling it"


@dataclass
class LockCheckingSource:
    """Shares one paper per poll; records whether its lock was held while it polled."""

    name: str
    locks: InProcessLocks
    poll_interval: float = 60.0
    held_while_polling: list[bool] = field(default_factory=list)

    async def poll(self, cursor: str | None) -> Batch:
        self.held_while_polling.append(self.locks.held(f"source:{self.name}"))
        share = Mention(self.name, f"{self.name}-1", "ann", START, "post", "2401.00001")
        return Batch(mentions=(share,), cursor="next")


@pytest_asyncio.fixture
async def engine() -> AsyncIterator[Engine]:
    settings = Settings.from_env(
        {"DATABASE_URL": "sqlite://", "SOURCES": "none", "ARXIV_API_URL": "http://127.0.0.1:9/"}
    )
    async with open_engine(settings, FixedClock(START)) as built:
        yield built


def sources_of(locks: InProcessLocks, *names: str) -> tuple[Sources, list[LockCheckingSource]]:
    pollers = [LockCheckingSource(name, locks) for name in names]
    return Sources(tuple(pollers), None, AccountFilter(), locks), pollers


async def test_ingest_once_polls_each_source_under_its_lock(engine: Engine) -> None:
    locks = InProcessLocks()
    sources, pollers = sources_of(locks, "mastodon", "x")
    out = io.StringIO()

    outcomes = await ingest_once(engine, sources, out=out)

    assert sorted((o.source, o.ok) for o in outcomes) == [("mastodon", True), ("x", True)]
    assert [p.held_while_polling for p in pollers] == [[True], [True]]
    assert not locks.held("source:x")  # released afterwards
    assert await engine.repo.get_cursor("x") == "next"


async def test_a_source_another_process_polls_is_skipped_and_said_so(engine: Engine) -> None:
    locks = InProcessLocks()
    sources, (mastodon, x) = sources_of(locks, "mastodon", "x")
    out = io.StringIO()

    async with locks.hold("source:x") as held:  # another replica's poll of X
        assert held
        outcomes = await ingest_once(engine, sources, out=out)

    assert x.held_while_polling == []  # X's budget is not spent twice
    assert mastodon.held_while_polling == [True]
    assert sorted(out.getvalue().splitlines()) == ["mastodon: ok", f"x: {SKIPPED}"]
    assert [o.source for o in outcomes if o.skipped] == ["x"]
    assert await engine.repo.get_cursor("x") is None
    assert [h.source for h in await engine.repo.health()] == ["mastodon"]  # nothing recorded


async def test_the_first_ingest_skips_sources_others_poll_without_crying_no_network(
    engine: Engine, capsys
) -> None:
    locks = InProcessLocks()
    sources, (x,) = sources_of(locks, "x")

    async with locks.hold("source:x"):
        await first_ingest(engine, sources)

    err = capsys.readouterr().err
    assert x.held_while_polling == []
    assert f"x: {SKIPPED}" in err.splitlines()
    assert "No network" not in err
