"""Three `trending-arxiv run` replicas started together on one empty PostgreSQL database.

All three must come up: the first migrates, the others wait for it on the migration lock and
find the schema done (without the lock, all but one failed on PostgreSQL's catalog). Each
starts by ingesting into the empty store; Hacker News (the slow local fake of
tests/test_scale_out.py, counting the requests in flight) must be polled by one of them at a
time: the others skip it while its lock is held.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import URL

from adapters.sources.hackernews import DEFAULT_HN_QUERIES
from core.storage.database import create_engine, current_revision, revisions
from tests import test_scale_out
from tests.test_scale_out import slow_hacker_news, start_worker, stop_workers, wait_for, worker_env

pytestmark = test_scale_out.pytestmark  # PostgreSQL only, loopback sockets
database_url = test_scale_out.database_url  # the fixture: an empty database of the test's own

REPLICAS = 3
SKIPPED = "hackernews: skipped: another process is polling it"


async def test_replicas_started_together_on_an_empty_database_all_come_up(
    database_url: URL, tmp_path: Path
) -> None:
    with slow_hacker_news() as (algolia, hn):
        env = worker_env(database_url, "http://127.0.0.1:9", hn.url())
        del env["TELEGRAM_BOT_TOKEN"]  # background work only
        names = [f"replica{n}" for n in range(REPLICAS)]
        workers = await asyncio.gather(*(start_worker(n, env, tmp_path) for n in names))
        try:
            await wait_for(
                lambda: all("running;" in w.output() for w in workers), list(workers), 60,
                "every replica to come up",
            )  # fmt: skip
            await wait_for(
                lambda: algolia.poll_done(len(DEFAULT_HN_QUERIES)), list(workers), 30,
                "the Hacker News poll to end",
            )  # fmt: skip
            codes = await stop_workers(list(workers))
        finally:
            await stop_workers(list(workers))

    logs = [w.output() for w in workers]
    assert codes == [0] * REPLICAS, "\n".join(logs)
    assert not any("Traceback" in log or "IntegrityError" in log for log in logs), "\n".join(logs)
    assert algolia.most_in_flight == 1, "two replicas polled Hacker News at once"
    assert algolia.requests % len(DEFAULT_HN_QUERIES) == 0  # whole polls, none cut short
    # The replicas that started ingesting while another polled said they skipped it.
    assert sum(SKIPPED in log for log in logs) >= 1, "\n".join(logs)
    engine = create_engine(database_url.render_as_string(hide_password=False))
    try:
        assert await current_revision(engine) == revisions()[-1]
    finally:
        await engine.dispose()
