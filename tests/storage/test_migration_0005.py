"""Upgrading a store written before the single trending key: scores right after `db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from core.ports import TopQuery
from core.ranking import RankingConfig
from core.storage.database import alembic_config, create_engine, session_factory, upgrade
from core.storage.repository import SqlPaperRepository
from tests.conftest import START
from tests.fakes import FixedClock, InMemoryPaperRepository
from tests.storage.builders import A, B, hours_ago, share, votes

# A paper, its sharers and snapshot as revision 0004 stored them, with their old scores.
_OLD_ROWS = (
    "INSERT INTO papers (arxiv_id, last_share_at, scores_at, score_day, score_week,"
    " score_month, score_all, networks_day, networks_week, networks_month, networks_all,"
    " trend_shares, trend_votes) VALUES"
    " ('2611.00001', '2026-11-26 12:00:00.000000', '2026-11-26 12:00:00.000000',"
    " 2, 2, 2, 2, 1, 1, 1, 1, 123.0, -1e308),"
    " ('2611.00002', NULL, '2026-11-26 12:00:00.000000', 3, 3, 3, 3, 1, 1, 1, 1, -1e308, 9.0)",
    "INSERT INTO mentions (source, post_id, arxiv_id, author, posted_at, kind, engagement)"
    " VALUES ('bluesky', 'p1', '2611.00001', 'ann', '2026-11-26 12:00:00.000000', 'post', 0),"
    " ('bluesky', 'p2', '2611.00001', 'bob', '2026-11-25 12:00:00.000000', 'post', 0)",
    "INSERT INTO sharers (arxiv_id, source, author, first_at, last_at) VALUES"
    " ('2611.00001', 'bluesky', 'ann', '2026-11-26 12:00:00.000000',"
    " '2026-11-26 12:00:00.000000'),"
    " ('2611.00001', 'bluesky', 'bob', '2026-11-25 12:00:00.000000',"
    " '2026-11-25 12:00:00.000000')",
    "INSERT INTO vote_snapshots (source, item_id, arxiv_id, taken_at, votes, comments) VALUES"
    " ('hackernews', 'item-1', '2611.00002', '2026-11-26 06:00:00.000000', 7, 0)",
    "INSERT INTO meta (key, value) VALUES ('scores_as_of', '2026-11-26T12:00:00+00:00'),"
    " ('scores_signature', 'h=86400;')",
)


def _to_0004(connection: Any) -> None:
    from alembic import command

    config = alembic_config(str(connection.engine.url))
    config.attributes["connection"] = connection
    command.upgrade(config, "0004")
    for statement in _OLD_ROWS:
        connection.execute(text(statement))


async def test_upgrade_and_first_sweep_rescore_a_store_written_before(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}")
    async with engine.begin() as connection:
        await connection.run_sync(_to_0004)
    await upgrade(engine)
    clock = FixedClock(START)
    repo = SqlPaperRepository(session_factory(engine), RankingConfig(), clock)

    report = await repo.sweep(START)  # what `db upgrade` runs after migrating

    fake = InMemoryPaperRepository(RankingConfig(), clock)
    await fake.add_mentions([share(A, "ann", post_id="p1"), share(A, "bob", at=hours_ago(24))])
    await fake.add_snapshots([votes(B, 7, at=hours_ago(6))])
    assert report.rescored == 2
    for window in ("trending", "day", "all"):
        query = TopQuery(window=window)
        expected = [(s.paper.arxiv_id, round(s.score, 9)) for s in await fake.top(query, START)]
        found = [(s.paper.arxiv_id, round(s.score, 9)) for s in await repo.top(query, START)]
        assert found == expected, window
    await engine.dispose()
