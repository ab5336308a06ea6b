"""`/api/top`, `/api/new` and `/api/paper/<id>`, checked against the published schema."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.adapters.web.conftest import Site
from tests.adapters.web.site_data import HOSTILE, HOSTILE_ID, OLD_ID, TOP_ID

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

SCHEMA = json.loads((files("adapters.web") / "static" / "api-schema.json").read_text())


def valid(body: Any, kind: str) -> Any:
    """`body` checked against the schema's `kind` and against the whole schema."""
    Draft202012Validator.check_schema(SCHEMA)
    part = {**SCHEMA, "oneOf": [{"$ref": f"#/$defs/{kind}"}]}
    Draft202012Validator(part).validate(body)
    Draft202012Validator(SCHEMA).validate(body)
    return body


async def test_served_schema_is_the_one_checked_here(site: Site):
    answer = await site.http.get("/static/api-schema.json")

    assert answer.headers["content-type"] == "application/schema+json; charset=utf-8"
    assert answer.json() == SCHEMA


async def test_api_top_pages_through_the_list(site: Site):
    first = valid((await site.http.get("/api/top")).json(), "PaperList")
    second = valid((await site.http.get("/api/top?page=2")).json(), "PaperList")

    assert (first["heading"], first["page"], first["has_next"]) == ("Trending now", 1, True)
    assert [p["rank"] for p in first["papers"]] == list(range(1, 26))
    assert (second["page"], second["has_next"], len(second["papers"])) == (2, False, 5)
    assert first["note"] is None


async def test_api_top_item_has_counts_per_source_and_links(site: Site):
    body = valid((await site.http.get("/api/top?window=all&q=Still")).json(), "PaperList")

    [item] = body["papers"]
    assert item["arxiv_id"] == TOP_ID
    assert item["shares"] == 40
    assert {s["source"]: (s["sharers"], s["votes"]) for s in item["sources"]} == {
        "x": (14, 0),
        "bluesky": (13, 0),
        "mastodon": (13, 0),
        "hackernews": (0, 120),
    }
    assert item["links"]["pdf"] == f"https://arxiv.org/pdf/{TOP_ID}"
    assert item["page"] == f"/paper/{TOP_ID}"
    assert item["published"] == "2026-11-01T00:00:00Z"


async def test_api_new_is_newest_first(site: Site):
    body = valid((await site.http.get("/api/new")).json(), "PaperList")

    published = [p["published"] for p in body["papers"]]
    assert published == sorted(published, reverse=True)
    assert body["papers"][0]["title"] == HOSTILE


async def test_api_paper_has_a_month_per_network(site: Site):
    body = valid((await site.http.get(f"/api/paper/{TOP_ID}")).json(), "PaperCard")

    daily = body["daily"]
    assert daily["first_day"] == "2026-10-28"
    assert sum(daily["total"]) == 40
    assert sorted(daily["by_network"]) == ["bluesky", "mastodon", "x"]
    assert [sum(c) for c in daily["by_network"].values()] == [13, 13, 14]
    assert body["rank"] >= 1
    assert len(body["top_posts"]) >= 1


async def test_api_paper_of_an_old_style_id_and_a_hostile_title(site: Site):
    old = valid((await site.http.get(f"/api/paper/{OLD_ID}")).json(), "PaperCard")
    hostile = valid((await site.http.get(f"/api/paper/{HOSTILE_ID}")).json(), "PaperCard")

    assert old["arxiv_id"] == OLD_ID
    assert hostile["title"] == HOSTILE


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/api/top?window=year", 400, "The window is one of trending, day, week, month or all."),
        ("/api/top?category=cooking", 400, "“cooking” is not a category like cs.LG."),
        ("/api/top?page=99", 404, "There is no page 99: there are 2 pages."),
        ("/api/new?page=x", 400, "The page must be a number of 1 or more."),
        ("/api/paper/banana", 404, "That is not an arXiv id or link."),
    ],
)
async def test_api_errors_say_why(site: Site, path: str, status: int, error: str):
    answer = await site.http.get(path)

    assert answer.status_code == status
    body = valid(answer.json(), "Error")
    assert body["error"] == error
