"""The PaperRepository contract, part 4: metadata, batches, cursors, removals and health."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from core.models import ImportReport, Paper, SourceHealth
from core.ports import Batch, PaperRepository
from core.ranking import RankingConfig
from tests.conftest import START, RepoFactory
from tests.fakes import FixedClock
from tests.storage.builders import (
    A,
    B,
    C,
    D,
    approx,
    described,
    hours_ago,
    ids,
    ranked,
    share,
    votes,
)

# What a write of an out-of-range integer raises: the fake and sqlite3 an OverflowError,
# asyncpg a DataError that SQLAlchemy wraps.
WRITE_ERRORS = (OverflowError, DBAPIError)


# --- metadata -----------------------------------------------------------------------------------


async def test_save_papers_ignores_a_paper_without_a_title(repo: PaperRepository) -> None:
    await repo.save_papers([Paper(B)])
    assert await repo.get_paper(B) is None
    assert await repo.is_empty()

    await repo.save_papers([described(A, "Kept", abstract="Kept too")])
    await repo.save_papers([Paper(A, abstract="lost?")])

    assert await repo.get_paper(A) == described(A, "Kept", abstract="Kept too")


async def test_a_description_without_an_abstract_keeps_the_known_one_and_its_words(
    repo: PaperRepository,
) -> None:
    await repo.save_papers([described(A, "Attention sinks", abstract="Long contexts stay stable.")])
    await repo.save_papers([described(A, "Attention sinks, revised")])  # a listing's cross-list

    paper = await repo.get_paper(A)
    assert paper is not None
    assert paper.abstract == "Long contexts stay stable."
    assert [s.paper.arxiv_id for s in await repo.search(["stable"], 10, START)] == [A]
    assert [s.paper.arxiv_id for s in await repo.search(["revised"], 10, START)] == [A]


async def test_save_papers_takes_arxivs_newer_description(repo: PaperRepository) -> None:
    await repo.save_papers([described(A, "Draft", categories=("cs.LG",))])
    await repo.save_papers([described(A, "Final", categories=("cs.CL",))])

    assert await repo.get_paper(A) == described(A, "Final", categories=("cs.CL",))


async def test_missing_metadata_lists_the_most_shared_first(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [share(A, "a")]
        + [share(B, f"b{i}") for i in range(3)]
        + [share(C, f"c{i}") for i in (1, 2)]
    )
    await repo.add_mentions([share(D, f"d{i}") for i in range(5)])
    await repo.save_papers([described(D)])

    assert await repo.missing_metadata(10) == [B, C, A]
    assert await repo.missing_metadata(2) == [B, C]
    assert await repo.count_waiting() == 3


async def test_mark_unknown_skips_a_paper_for_a_day(
    repo: PaperRepository, clock: FixedClock
) -> None:
    await repo.add_mentions([share(A, "a")] + [share(B, f"b{i}") for i in range(3)])

    await repo.mark_unknown([B, "2611.99999"], START)

    assert await repo.missing_metadata(10) == [A]
    assert await repo.count_waiting() == 2
    clock.advance(timedelta(hours=23))
    assert await repo.missing_metadata(10) == [A]
    clock.advance(timedelta(hours=2))
    assert await repo.missing_metadata(10) == [B, A]
    assert await repo.get_paper("2611.99999") is None


async def test_is_empty_until_a_paper_is_tracked(repo: PaperRepository) -> None:
    assert await repo.is_empty()
    await repo.add_snapshots([votes(A, 1)])
    assert not await repo.is_empty()


# --- batches and cursors ------------------------------------------------------------------------


async def test_commit_batch_stores_every_row_and_the_cursor(repo: PaperRepository) -> None:
    await repo.add_mentions([share(A, "bob", post_id="gone"), share(A, "cy")])

    report = await repo.commit_batch(
        "bluesky",
        Batch(
            mentions=(share(B, "alice"), share(B, "bob")),
            snapshots=(votes(C, 7),),
            papers=(described(A, "Title"),),
            cursor="c2",
            removed=(("bluesky", "gone"),),
        ),
    )

    assert report == ImportReport(mentions=2, papers=1, snapshots=1)
    assert await ranked(repo) == approx([(C, 3.0), (B, 2.0), (A, 1.0)])
    assert await repo.get_paper(A) == described(A, "Title")
    assert await repo.get_cursor("bluesky") == "c2"


async def test_commit_batch_keeps_the_cursor_when_the_batch_has_none(repo: PaperRepository) -> None:
    assert await repo.get_cursor("hackernews") is None

    await repo.commit_batch("hackernews", Batch(cursor="c1"))
    await repo.commit_batch("hackernews", Batch(snapshots=(votes(A, 3),)))
    await repo.commit_batch("reddit", Batch(cursor="r9"))

    assert await repo.get_cursor("hackernews") == "c1"
    assert await repo.get_cursor("reddit") == "r9"
    assert await ids(repo) == [A]


async def test_commit_batch_changes_nothing_when_a_row_fails(repo: PaperRepository) -> None:
    await repo.commit_batch(
        "bluesky", Batch(mentions=(share(A, "bob", post_id="keep"),), cursor="c1")
    )
    before = await ranked(repo)
    failing = Batch(
        papers=(described(A, "New title"),),
        mentions=(share(B, "alice"),),
        removed=(("bluesky", "keep"),),
        snapshots=(votes(C, 3), votes(D, 2**70)),  # the last row cannot be stored
        cursor="c2",
    )

    with pytest.raises(WRITE_ERRORS):
        await repo.commit_batch("bluesky", failing)

    assert await repo.get_cursor("bluesky") == "c1"
    assert await ranked(repo) == before == approx([(A, 1.0)])
    assert await repo.get_paper(A) == Paper(A)
    assert [await repo.get_paper(p) for p in (B, C, D)] == [None, None, None]
    assert await repo.top_posts(A, 5) == [share(A, "bob", post_id="keep")]


# --- removals -----------------------------------------------------------------------------------


async def test_remove_mentions_forgets_deleted_posts(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [
            share(A, "alice", post_id="p1"),
            share(B, "alice", post_id="p1"),
            share(A, "bob", post_id="p2"),
            share(A, "cy", post_id="p1", source="x"),
        ]
    )

    removed = await repo.remove_mentions([("bluesky", "p1"), ("bluesky", "nope")])

    assert removed == 2
    assert await ranked(repo) == approx([(A, 2.0)])
    assert await repo.get_paper(B) == Paper(B)
    assert await repo.remove_mentions([("bluesky", "p1")]) == 0


async def test_remove_mentions_keeps_a_sharer_who_posted_again(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [share(A, "alice", post_id="p1", at=hours_ago(48)), share(A, "alice", post_id="p2")]
    )
    assert await ranked(repo, "trending") == approx([(A, 0.25)])

    await repo.remove_mentions([("bluesky", "p1")])

    assert await ranked(repo, "trending") == approx([(A, 1.0)])
    assert await ranked(repo, "day") == approx([(A, 1.0)])


async def test_remove_mentions_moves_the_newest_share_back(
    repo: PaperRepository, store: str, request: pytest.FixtureRequest
) -> None:
    await repo.add_mentions(
        [
            share(A, "alice", post_id="p1", at=hours_ago(10)),
            share(A, "alice", post_id="p2", at=hours_ago(1)),
            share(B, "bob", post_id="p3", at=hours_ago(5)),
        ]
    )
    assert await ids(repo, "all") == [A, B]

    await repo.remove_mentions([("bluesky", "p2")])

    stats = await repo.paper_stats(A, "all", START)
    assert stats is not None
    assert stats.last_share_at == hours_ago(10)
    assert await ids(repo, "all") == [B, A]


async def test_papers_of_post_lists_what_a_stored_post_shares(repo: PaperRepository) -> None:
    await repo.add_mentions(
        [
            share(B, "alice", post_id="p1"),
            share(A, "alice", post_id="p1"),
            share(C, "alice", post_id="p1", source="x"),
            share(D, "bob", post_id="p2"),
        ]
    )

    assert await repo.papers_of_post("bluesky", "p1") == [A, B]
    assert await repo.papers_of_post("x", "p1") == [C]
    assert await repo.papers_of_post("bluesky", "p9") == []
    await repo.remove_mentions([("bluesky", "p1")])
    assert await repo.papers_of_post("bluesky", "p1") == []


# --- health and configuration -------------------------------------------------------------------


async def test_record_health_keeps_the_latest_record_per_source(repo: PaperRepository) -> None:
    failing = SourceHealth(
        "reddit", last_error="HTTP 503", last_error_at=hours_ago(1), consecutive_failures=4
    )
    await repo.record_health(SourceHealth("x", last_success=hours_ago(3), items_seen=5))
    await repo.record_health(failing)
    await repo.record_health(SourceHealth("x", last_success=START, items_seen=9))

    assert await repo.health() == [failing, SourceHealth("x", last_success=START, items_seen=9)]
    assert [h.healthy for h in await repo.health()] == [False, True]


async def test_new_weights_rescore_papers_already_stored(
    make_repo: RepoFactory, store: str
) -> None:
    if store == "memory":
        pytest.skip("each fake holds its own rows and keeps no stored scores")
    before = await make_repo(RankingConfig())
    await before.add_mentions([share(A, "a1"), share(A, "a2"), share(B, "b", source="x")])
    assert await ranked(before) == approx([(A, 2.0), (B, 1.0)])

    after = await make_repo(RankingConfig(weights={"x": 5.0}))
    # Reads answer from the scores stored until the sweep at start applies the new weights.
    assert [i for i, _ in await ranked(after)] == [A, B]
    report = await after.sweep(START)

    assert report.rescored == 2
    assert await ranked(after) == approx([(B, 5.0), (A, 2.0)])
    assert await ranked(after, "trending") == approx([(B, 5.0), (A, 2.0)])
    assert (await after.sweep(START)).rescored == 0  # applied once
