import json
from datetime import UTC, datetime

import httpx
import pytest

from adapters.sources.huggingface import HuggingFaceSource
from core.models import VoteSnapshot
from core.ports import SourceUnavailable
from tests.adapters.sources.support import (
    TRANSPORT_FAULTS,
    Switch,
    check_fault_then_recovery,
    client_for,
    json_response,
    load_json,
)
from tests.core.test_ingest import NOW, FixedClock

OWN = "daily_papers_2026-11-26.json"
RECORDED = "sotawhat_daily_papers_2026-06.json"


def serve(pages: dict[str, object]):
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(pages.get(request.url.params["date"], []))

    return handler


def source_for(handler, clock, **options) -> HuggingFaceSource:
    return HuggingFaceSource(client_for(handler), clock=clock, min_request_interval=0, **options)


async def test_first_poll_backfills_a_week_and_snapshots_upvotes(clock):
    switch = Switch(serve({"2026-11-26": load_json("huggingface", OWN)}))

    batch = await source_for(switch, clock).poll(None)

    assert [r.url.params["date"] for r in switch.requests] == [
        f"2026-11-{day}" for day in range(20, 27)
    ]
    assert switch.requests[0].url.path == "/api/daily_papers"
    assert switch.requests[0].url.params["limit"] == "100"
    assert batch.snapshots == (
        VoteSnapshot(
            source="huggingface",
            item_id="2411.01234",
            arxiv_id="2411.01234",
            taken_at=NOW,
            votes=57,
            comments=4,
            url="https://huggingface.co/papers/2411.01234",
            title="Sparse attention for long contexts",
        ),
        VoteSnapshot(
            source="huggingface",
            item_id="2411.05678",
            arxiv_id="2411.05678",
            taken_at=NOW,
            votes=3,
            comments=0,
            url="https://huggingface.co/papers/2411.05678",
            title="Another daily paper",
        ),
    )
    assert json.loads(batch.cursor) == {"day": "2026-11-26"}


@pytest.mark.parametrize(
    ("last_day", "first_day"),
    [("2026-11-26", "2026-11-25"), ("2026-11-23", "2026-11-23"), ("2026-10-01", "2026-11-20")],
)
async def test_later_polls_refresh_recent_days_and_catch_up_after_downtime(
    clock, last_day, first_day
):
    switch = Switch(serve({}))
    await source_for(switch, clock).poll(json.dumps({"day": last_day}))
    dates = [r.url.params["date"] for r in switch.requests]
    assert dates[0] == first_day
    assert dates[-1] == "2026-11-26"


async def test_poll_reads_the_recorded_daily_papers():
    clock = FixedClock(datetime(2026, 6, 12, 18, 0, tzinfo=UTC))
    source = source_for(serve({"2026-06-12": load_json("huggingface", RECORDED)}), clock)

    batch = await source.poll(json.dumps({"day": "2026-06-12"}))

    assert len(batch.snapshots) == 30
    by_id = {s.arxiv_id: s for s in batch.snapshots}
    paper = by_id["2606.12730"]
    assert (paper.votes, paper.comments) == (5, 3)
    assert paper.title.startswith("Rethinking Psychometric Evaluation of LLMs")


async def test_poll_of_empty_days_returns_nothing(clock):
    batch = await source_for(serve({}), clock).poll(None)
    assert batch.snapshots == ()
    assert json.loads(batch.cursor) == {"day": "2026-11-26"}


@pytest.mark.parametrize("body", [{"error": "Not found"}, "papers", None])
async def test_poll_fails_on_an_answer_that_is_not_a_list(clock, body):
    with pytest.raises(SourceUnavailable, match="malformed"):
        await source_for(lambda r: json_response(body), clock).poll(None)


async def test_items_missing_a_field_are_skipped(clock):
    items = load_json("huggingface", OWN)
    del items[0]["paper"]
    batch = await source_for(serve({"2026-11-26": items}), clock).poll(None)
    assert [s.arxiv_id for s in batch.snapshots] == ["2411.05678"]


@pytest.mark.parametrize("fault", TRANSPORT_FAULTS)
async def test_poll_fault_keeps_the_cursor_and_the_next_poll_recovers(clock, fault):
    switch = Switch(serve({"2026-11-27": load_json("huggingface", OWN)}), fault)
    cursor = json.dumps({"day": "2026-11-25"})
    repo = await check_fault_then_recovery(source_for(switch, clock), switch, clock, cursor)
    assert {s.arxiv_id for s in repo.snapshots} == {"2411.01234", "2411.05678"}
