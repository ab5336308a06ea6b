import asyncio
import logging
from datetime import UTC, datetime, timedelta

from core.metadata import MetadataService
from core.models import Mention, Paper
from core.ranking import RankingConfig
from tests.core.test_commands import FakeArxiv
from tests.fakes import FixedClock, InMemoryPaperRepository

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def shared(arxiv_id: str, n: int) -> list[Mention]:
    return [Mention("x", f"{arxiv_id}-{i}", f"user{i}", NOW, "post", arxiv_id) for i in range(n)]


async def test_fill_missing_fetches_most_shared_first_and_remembers_unknown_ids():
    clock = FixedClock(NOW)
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    await repo.add_mentions(
        shared("2401.00001", 1) + shared("2401.00002", 5) + shared("2401.00003", 2)
    )
    arxiv = FakeArxiv([Paper("2401.00002", title="Popular"), Paper("2401.00001", title="Quiet")])
    service = MetadataService(repo, arxiv, clock)
    assert await service.fill_missing() == 2
    assert arxiv.asked[0] == ["2401.00002", "2401.00003", "2401.00001"]
    assert (await repo.get_paper("2401.00002")).title == "Popular"
    assert (
        await service.fill_missing() == 0
    )  # 2401.00003 is unknown to arXiv: not asked again today
    assert len(arxiv.asked) == 1
    clock.advance(timedelta(days=2))
    await service.fill_missing()
    assert arxiv.asked[-1] == ["2401.00003"]


async def test_fill_missing_stops_quietly_when_arxiv_is_down_and_lookups_answer_at_once():
    clock = FixedClock(NOW)
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    await repo.add_mentions(shared("2401.00001", 1))
    arxiv = FakeArxiv(down=True)
    service = MetadataService(repo, arxiv, clock)
    assert await service.fill_missing() == 0
    paper, note = await service.describe("2401.00001")
    assert paper is not None
    assert paper.title is None
    assert note is not None
    assert "could not be reached" in note
    assert len(arxiv.asked) == 1  # the lookup did not wait on arXiv again right after a failure


async def test_a_lookup_asks_arxiv_once_and_the_fill_retries():
    clock = FixedClock(NOW)
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    await repo.add_mentions(shared("2401.00001", 1) + shared("2401.00002", 1))
    arxiv = FakeArxiv([Paper("2401.00001", title="Asked for"), Paper("2401.00002", title="Filled")])
    service = MetadataService(repo, arxiv, clock)
    paper, note = await service.describe("2401.00001")
    assert (paper.title, note) == ("Asked for", None)
    assert await service.fill_missing() == 1
    assert arxiv.asked == [["2401.00001"], ["2401.00002"]]
    assert arxiv.retried == [False, True]


async def test_a_failed_lookup_promises_details_only_where_a_fill_follows():
    clock = FixedClock(NOW)
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    await repo.add_mentions(shared("2401.00001", 1))
    chat = MetadataService(repo, FakeArxiv(down=True), clock)
    one_shot = MetadataService(repo, FakeArxiv(down=True), clock, fills_later=False)
    assert (await chat.describe("2401.00001"))[1] == (
        "arXiv could not be reached just now; details will follow later."
    )
    assert (await one_shot.describe("2401.00001"))[1] == (
        "arXiv could not be reached just now; try again later."
    )
    # The fill completes stored papers only: an id nobody shared will not follow by itself.
    assert (await chat.describe("2401.99999"))[1] == (
        "arXiv could not be reached just now; try again later."
    )


async def test_a_lookup_that_times_out_logs_why(caplog):
    class SilentArxiv(FakeArxiv):
        async def fetch(self, arxiv_ids, *, retry=True):
            await asyncio.sleep(10)
            return []

    clock = FixedClock(NOW)
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    service = MetadataService(repo, SilentArxiv(), clock, lookup_timeout=0.01)
    with caplog.at_level(logging.WARNING, logger="core.metadata"):
        paper, note = await service.describe("2401.00001")
    assert paper is None
    assert "could not be reached" in note
    assert caplog.messages == ["arXiv lookup of 2401.00001 failed: TimeoutError: timed out"]
