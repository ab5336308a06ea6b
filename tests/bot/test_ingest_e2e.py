"""`trending-arxiv ingest --once`, then `top`, against local servers that answer as the sources do.

One HTTP server stands in for Algolia (Hacker News), Hugging Face, a Mastodon instance, the arXiv
RSS listing and the arXiv API; a websocket server replays Jetstream (Bluesky). The payloads in
tests/data/e2e (see its README) tell one story: 2401.00001 is shared on Bluesky by two accounts
and on Mastodon by one, with an HN story of 120 points and 40 upvotes on Hugging Face; 2402.00002
is shared on Mastodon by two accounts, on Bluesky by one and in an HN comment by one, and trends
on Mastodon; 2411.17700 has votes only, and its title comes from the recorded RSS listing rather
than the arXiv API.

Every command runs in-process through `bot.main.main`, with the environment a user would set.
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import bot.ingest
from bot.main import main
from bot.source_settings import URL_VARIABLES
from tests.bot.servers import (
    RSS,
    HttpServer,
    JetstreamServer,
    Route,
    algolia_route,
    arxiv_api_route,
    closed_port,
    daily_papers_route,
    first,
    static_route,
    tag_timeline_route,
    trends_route,
)

# Every server is on loopback; pytest-socket refuses any other host.
pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

DATA = Path(__file__).parents[1] / "data"
E2E = DATA / "e2e"
RSS_LISTING = DATA / "sources" / "arxiv_rss" / "rss_excerpt_2024-11-28.xml"

SOURCES = ("hackernews", "huggingface", "mastodon", "bluesky", "arxiv")
STREAM_SECONDS = 2.0  # how long `ingest --once` listens to Jetstream (15 s in production)

ALGOLIA = "/api/v1/search_by_date"
DAILY_PAPERS = "/api/daily_papers"
TAG_TIMELINE = "/api/v1/timelines/tag/arxiv"
TRENDS = "/api/v1/trends/links"
LISTING = "/rss/cs.CY+cs.LG"  # ARXIV_RSS_CATEGORIES=cs.CY,cs.LG
ARXIV_API = "/api/query"

# What `top 10 all` prints for each paper the payloads share, best first.
TOP = [
    " 1. Attention Sinks Keep Long-Context Retrieval Stable"
    " — 3 shares (Bluesky 2, Mastodon 1) · HN 120 pts · HF 40 upvotes",
    " 2. Exploring the Impact of Generative AI on Cross-Border E-Commerce Brand Building in"
    " Chinese Tianjin's Manufacturing Sector — HN 30 pts · HF 12 upvotes",
    " 3. Sparse Mixtures of Experts for Tabular Data"
    " — 4 shares (Mastodon 2, Bluesky 1, HN 1) · Mastodon 7 uses",
]
DESCRIBED_BY_THE_API = {"2401.00001", "2402.00002"}  # 2411.17700 is described by the listing
# Shares plus vote snapshots each source took (Mastodon: 3 statuses with papers, 1 trending link;
# Bluesky: alice's two posts, bob's repost and carol's card, but not dave's deleted post; HN: two
# stories and ravi's comment).
ITEMS = {"bluesky": 4, "hackernews": 3, "huggingface": 2, "mastodon": 4}
LISTED_PAPERS = 8  # items of the recorded RSS listing

# Variables that would point a source elsewhere, or enable one with credentials.
OTHER_VARIABLES = (
    *URL_VARIABLES,
    "BLUESKY_HANDLE",
    "BLUESKY_APP_PASSWORD",
    "REDDIT_CLIENT_ID",
    "REDDIT_CLIENT_SECRET",
    "REDDIT_SUBREDDITS",
    "X_BEARER_TOKEN",
    "X_DAILY_REQUEST_BUDGET",
    "ACCOUNT_ALLOWLIST_FILE",
    "ACCOUNT_BLOCKLIST_FILE",
    "SOURCE_WEIGHTS",
    "TRENDING_HALF_LIFE_HOURS",
    "TELEGRAM_BOT_TOKEN",
    "DISCORD_BOT_TOKEN",
)


def load(name: str) -> Any:
    return json.loads((E2E / name).read_text(encoding="utf-8"))


def routes() -> dict[str, Route]:
    today = datetime.now(UTC).date()
    return {
        ALGOLIA: algolia_route(
            {
                "arxiv.org": load("hn_search_by_date_arxiv.org.json"),
                "alphaxiv.org": load("hn_search_by_date_alphaxiv.org.json"),
            },
            load("hn_search_by_date_empty.json"),
            comments={"arxiv.org": load("hn_search_by_date_comments_arxiv.org.json")},
        ),
        # The papers of today's list; yesterday too, should the poll straddle midnight.
        DAILY_PAPERS: daily_papers_route(
            load("hf_daily_papers.json"), {str(today), str(today - timedelta(days=1))}
        ),
        TAG_TIMELINE: tag_timeline_route(load("mastodon_tag_arxiv.json")),
        TRENDS: trends_route(load("mastodon_trends_links.json")),
        LISTING: static_route(RSS_LISTING.read_bytes(), RSS),
        ARXIV_API: arxiv_api_route((E2E / "arxiv_api_entries.xml").read_text(encoding="utf-8")),
    }


@dataclass(frozen=True)
class Services:
    http: HttpServer
    jetstream: JetstreamServer

    def arxiv_api_asks(self) -> list[set[str]]:
        """The ids of each arXiv API request, in order."""
        return [set(first(q, "id_list").split(",")) for q in self.http.queries(ARXIV_API)]


def point_sources_at(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, http: str, websocket: str
) -> None:
    """Set the environment a user would, with every base URL on the given servers."""
    monkeypatch.chdir(tmp_path)  # so no .env of the working tree is read
    for name in OTHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    monkeypatch.setenv("SOURCES", ",".join(SOURCES))
    monkeypatch.setenv("HN_API_URL", f"{http}/api/v1")
    monkeypatch.setenv("HF_API_URL", f"{http}/api")
    monkeypatch.setenv("MASTODON_INSTANCES", http)
    monkeypatch.setenv("JETSTREAM_URL", websocket)
    monkeypatch.setenv("ARXIV_RSS_URL", f"{http}/rss")
    monkeypatch.setenv("ARXIV_RSS_CATEGORIES", "cs.CY,cs.LG")
    monkeypatch.setenv("ARXIV_API_URL", f"{http}{ARXIV_API}")
    monkeypatch.setenv("ARXIV_LOOKUP_TIMEOUT", "2")
    monkeypatch.setenv("CONTACT_URL", "https://example.org/trending-arxiv-e2e")
    for name in ("NO_PROXY", "no_proxy"):  # a proxy from the environment must not be used
        monkeypatch.setenv(name, "127.0.0.1")
    monkeypatch.setattr(bot.ingest, "STREAM_SECONDS", STREAM_SECONDS)


@pytest.fixture
def sources_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Services]:
    """Both servers running, and every source pointed at them."""
    messages = (E2E / "jetstream.jsonl").read_text(encoding="utf-8").splitlines()
    with HttpServer(routes()) as http, JetstreamServer(messages) as jetstream:
        point_sources_at(monkeypatch, tmp_path, http.url(), jetstream.url)
        yield Services(http, jetstream)


@pytest.fixture
def sources_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every source pointed at a loopback port nothing listens on."""
    http, websocket = closed_port(), closed_port()
    point_sources_at(
        monkeypatch, tmp_path, f"http://127.0.0.1:{http}", f"ws://127.0.0.1:{websocket}"
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str, float]:
    """Run one command; return its status, stdout, stderr and how long it took."""
    capsys.readouterr()
    started = time.monotonic()
    status = main(list(argv))
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    return status, out, err, took


def health(table: str) -> dict[str, dict[str, str]]:
    """Read `trending-arxiv sources` into {source: {column: value}}."""
    header, *rows = table.strip().splitlines()
    columns = re.split(r" {2,}", header)
    assert columns == ["source", "state", "last success", "items", "failures", "last error"]
    records = {}
    for row in rows:
        cells = re.split(r" {2,}", row, maxsplit=len(columns) - 1)
        records[cells[0]] = dict(zip(columns, cells, strict=True))
    return records


def progress(err: str) -> list[str]:
    """The per-source lines `ingest` prints to a stderr that is not a terminal."""
    return [line for line in err.splitlines() if re.match(r"^[a-z]+: (ok|failed \()", line)]


def ranked(top: str) -> list[str]:
    """The numbered lines of a `top` reply."""
    return [line for line in top.splitlines() if re.match(r"^ *\d+\. ", line)]


def test_ingest_once_then_top_lists_the_shared_papers_with_counts_per_source(sources_up, capsys):
    status, out, err, took = run(capsys, "ingest", "--once")
    assert status == 0, err
    assert sorted(progress(err)) == sorted(f"{name}: ok" for name in SOURCES)
    assert took < 25

    status, out, err, _ = run(capsys, "top", "10", "all")
    assert status == 0, err
    assert out.splitlines()[0] == "Most shared of all time"
    assert ranked(out) == TOP  # the listing's other papers have no signal and are not ranked
    assert "    Mira Okafor, Jonas Lindqvist · 2024-01-01 · cs.CL cs.LG" in out.splitlines()
    assert "    https://arxiv.org/abs/2401.00001" in out.splitlines()
    # One batch to the arXiv API, for the papers the RSS listing did not describe.
    assert sources_up.arxiv_api_asks() == [DESCRIBED_BY_THE_API]

    status, out, err, _ = run(capsys, "sources")
    assert status == 0, err
    records = health(out)
    assert set(records) == set(SOURCES)
    for record in records.values():
        assert record["state"] == "healthy", record
        assert re.fullmatch(r"\d+ min ago", record["last success"]), record
        assert (record["failures"], record["last error"]) == ("0", "-"), record
    assert {name: int(records[name]["items"]) for name in ITEMS} == ITEMS

    # Jetstream was asked for posts and reposts from its live tip (no cursor stored yet).
    assert sources_up.jetstream.subscriptions == [
        "/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost"
    ]


def test_with_every_server_down_ingest_fails_fast_and_top_still_answers(sources_down, capsys):
    status, out, err, took = run(capsys, "ingest", "--once")
    assert status == 1
    assert took < STREAM_SECONDS + 5  # nothing waits on a dead service beyond the stream window
    failures = dict(line.split(": ", 1) for line in progress(err))
    assert set(failures) == set(SOURCES), err
    for name in ("hackernews", "huggingface", "arxiv"):
        assert failures[name] == "failed (ConnectError from 127.0.0.1)"
    assert failures["mastodon"] == "failed (every instance failed: ConnectError from 127.0.0.1)"
    assert failures["bluesky"].startswith("failed (ConnectionRefusedError")

    status, out, err, _ = run(capsys, "sources")
    assert status == 0, err
    records = health(out)
    assert set(records) == set(SOURCES)
    for record in records.values():
        assert record["state"] == "retrying", record
        assert record["last success"] == "never", record
        assert int(record["failures"]) >= 1, record
        assert "Error" in record["last error"], record

    status, out, err, _ = run(capsys, "top", "10", "all")
    assert status == 0, err
    assert out.splitlines() == [
        "Most shared of all time",
        "Nothing has been shared yet: run `trending-arxiv ingest` or import shares.",
    ]


def test_chat_on_an_empty_store_ingests_first_and_its_first_top_shows_the_papers(
    sources_up, capsys, monkeypatch
):
    monkeypatch.setattr(sys, "stdin", io.StringIO("/top all\n/quit\n"))
    status, out, err, took = run(capsys, "chat")
    assert status == 0, err
    assert err.splitlines()[0] == "The store is empty: asking the sources what people share now…"
    assert sorted(progress(err)) == sorted(f"{name}: ok" for name in SOURCES)
    assert out.splitlines()[0] == "Most shared of all time"
    assert ranked(out) == TOP
    assert "Traceback" not in out + err
    assert sources_up.arxiv_api_asks() == [DESCRIBED_BY_THE_API]
    assert took < 25


def test_bluesky_items_seen_survive_a_second_ingest(sources_up, capsys):
    assert run(capsys, "ingest", "--once", "--source", "bluesky")[0] == 0
    assert int(health(run(capsys, "sources")[1])["bluesky"]["items"]) == ITEMS["bluesky"]
    assert run(capsys, "ingest", "--once", "--source", "bluesky")[0] == 0
    # The second subscription resumed a little before the stored cursor.
    assert "&cursor=" in sources_up.jetstream.subscriptions[-1]
    assert int(health(run(capsys, "sources")[1])["bluesky"]["items"]) >= ITEMS["bluesky"]


def test_three_failed_ingests_mark_every_source_unhealthy(sources_down, capsys, monkeypatch):
    monkeypatch.setattr(bot.ingest, "STREAM_SECONDS", 0.5)
    for _ in range(3):
        assert run(capsys, "ingest", "--once")[0] == 1
    records = health(run(capsys, "sources")[1])
    assert {name: records[name]["state"] for name in SOURCES} == dict.fromkeys(SOURCES, "unhealthy")


def test_listing_papers_count_as_items_seen(sources_up, capsys):
    assert run(capsys, "ingest", "--once", "--source", "arxiv")[0] == 0
    assert health(run(capsys, "sources")[1])["arxiv"]["items"] == str(LISTED_PAPERS)
