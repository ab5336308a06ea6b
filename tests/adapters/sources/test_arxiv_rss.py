"""arXiv RSS listings over recorded feeds (an excerpt of one day, an empty and an error channel)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.sources.arxiv_rss import ArxivRssSource
from core.models import Paper
from core.ports import Batch, SourceUnavailable

DATA = Path(__file__).parents[2] / "data" / "sources" / "arxiv_rss"
LISTING = (DATA / "rss_excerpt_2024-11-28.xml").read_bytes()
EMPTY = (DATA / "rss_empty_test_archive.xml").read_bytes()
ERROR = (DATA / "rss_error_bad_archive.xml").read_bytes()
ANNOUNCED = datetime(2024, 11, 28, 5, 0, tzinfo=UTC)  # Thu, 28 Nov 2024 00:00:00 -0500


async def poll(
    body: bytes, cursor: str | None = None, status: int = 200
) -> tuple[Batch, list[httpx.Request]]:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, content=body, headers={"Retry-After": "120"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        source = ArxivRssSource(client, ("cs.LG", "stat.ML"), "https://rss.test/rss/")
        batch = await source.poll(cursor)
    return batch, requests


async def test_poll_reads_the_listing_of_the_configured_categories() -> None:
    batch, requests = await poll(LISTING)

    assert str(requests[0].url) == "https://rss.test/rss/cs.LG+stat.ML"
    assert batch.mentions == ()
    assert [p.arxiv_id for p in batch.papers] == [
        "2411.17700", "2411.17702", "2411.17713", "2411.18550",
        "2202.06515", "2411.15345", "1712.07645", "2405.14568",
    ]  # fmt: skip
    assert batch.cursor == ANNOUNCED.isoformat()


async def test_a_new_submission_is_published_on_its_announcement_day() -> None:
    batch, _ = await poll(LISTING)
    paper = next(p for p in batch.papers if p.arxiv_id == "2411.17702")

    assert paper == Paper(
        arxiv_id="2411.17702",
        title='Finding "Good Views" of Electrocardiogram Signals for Inferring Abnormalities in '
        "Cardiac Condition",
        authors=("Hyewon Jeong", "Suyeol Yun", "Hammaad Adam"),
        abstract=paper.abstract,
        categories=("eess.SP", "cs.LG"),
        published=ANNOUNCED,
        updated=ANNOUNCED,
        version=1,
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith("Electrocardiograms (ECGs) are an established technique")
    assert "Announce Type" not in paper.abstract


async def test_cross_lists_and_replacements_do_not_claim_a_publication_date() -> None:
    batch, _ = await poll(LISTING)
    papers = {p.arxiv_id: p for p in batch.papers}

    assert papers["2202.06515"].published is None  # cross-list of an old paper
    assert papers["2202.06515"].updated is None
    assert papers["2202.06515"].version == 3
    assert papers["1712.07645"].published is None  # replaced by v2 today
    assert papers["1712.07645"].updated == ANNOUNCED
    assert papers["1712.07645"].version == 2


async def test_listing_text_is_unescaped_and_long_author_lists_are_split() -> None:
    batch, _ = await poll(LISTING)
    papers = {p.arxiv_id: p for p in batch.papers}

    assert len(papers["2411.17713"].authors) == 20
    assert papers["2411.17713"].authors[0] == "Igor Fedorov"
    abstract = papers["2411.18550"].abstract or ""
    assert r"\begin{cases}1,&x<0" in abstract  # TeX keeps its & and <, no &amp; left
    assert "&amp;" not in (papers["2405.14568"].abstract or "")


async def test_a_listing_already_read_is_skipped() -> None:
    batch, _ = await poll(LISTING, cursor=ANNOUNCED.isoformat())

    assert batch.papers == ()
    assert batch.cursor == ANNOUNCED.isoformat()


async def test_an_empty_channel_is_an_empty_batch_that_keeps_the_cursor() -> None:
    batch, _ = await poll(EMPTY, cursor="2024-11-27T05:00:00+00:00")

    assert batch.papers == ()
    assert batch.cursor == "2024-11-27T05:00:00+00:00"


async def test_a_feed_error_channel_is_source_unavailable() -> None:
    with pytest.raises(SourceUnavailable, match="Bad archive 'astroph'"):
        await poll(ERROR)


@pytest.mark.parametrize("body", [b"", b"<html><body>Service Unavailable</body></html>"])
async def test_a_body_that_is_not_a_feed_is_source_unavailable(body: bytes) -> None:
    with pytest.raises(SourceUnavailable, match="not a listing"):
        await poll(body)


async def test_an_http_error_is_source_unavailable_with_retry_after() -> None:
    with pytest.raises(SourceUnavailable) as failure:
        await poll(b"", status=503)

    assert failure.value.retry_after == 120
    assert "HTTP 503" in str(failure.value)


async def test_an_item_without_an_id_is_skipped() -> None:
    broken = LISTING.replace(b"oai:arXiv.org:2411.17700v1", b"oai:arXiv.org:nonsense", 1).replace(
        b"<link>https://arxiv.org/abs/2411.17700</link>", b"<link>https://example.org/</link>", 1
    )
    batch, _ = await poll(broken)

    assert len(batch.papers) == 7
    assert "2411.17700" not in {p.arxiv_id for p in batch.papers}


def test_a_source_needs_categories() -> None:
    with pytest.raises(ValueError, match="at least one category"):
        ArxivRssSource(httpx.AsyncClient(), ())
