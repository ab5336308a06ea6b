"""What every answer carries: a validator, a minute's freshness and a policy without script."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.web.caching import AnswerCache, cached, matches
from tests.adapters.web.conftest import Site
from tests.adapters.web.site_data import TOP_ID

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

PATHS = ["/", "/new", f"/paper/{TOP_ID}", "/feed.atom", "/api/top", "/static/style.css"]


@pytest.mark.parametrize("path", PATHS)
async def test_answers_carry_etag_max_age_and_a_policy_without_script(site: Site, path: str):
    answer = await site.http.get(path)

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=60"
    assert answer.headers["etag"].startswith('"')
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # nothing may run: 'none' from default-src
    assert "unsafe-inline" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", PATHS)
async def test_a_fresh_copy_is_answered_with_304_and_no_body(site: Site, path: str):
    first = await site.http.get(path)
    tag = first.headers["etag"]

    again = await site.http.get(path, headers={"If-None-Match": tag})
    weak = await site.http.get(path, headers={"If-None-Match": f'"other", W/{tag}'})
    stale = await site.http.get(path, headers={"If-None-Match": '"something-else"'})

    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert again.headers["cache-control"] == "public, max-age=60"
    assert weak.status_code == 304
    assert (stale.status_code, stale.content) == (200, first.content)


async def test_the_same_page_keeps_its_etag_until_it_changes(site: Site):
    home = await site.http.get("/")
    same = await site.http.get("/")
    other = await site.http.get("/?window=week")

    assert home.headers["etag"] == same.headers["etag"]
    assert other.headers["etag"] != home.headers["etag"]


async def test_problems_carry_the_policy_too(site: Site):
    missing = await site.http.get("/paper/nothing")

    assert missing.status_code == 404
    assert "default-src 'none'" in missing.headers["content-security-policy"]


async def test_unknown_static_files_are_not_found(site: Site):
    assert (await site.http.get("/static/secrets.txt")).status_code == 404
    assert (await site.http.get("/static/../pyproject.toml")).status_code == 404


def test_if_none_match_lists_and_wildcards():
    assert matches('"a", "b"', '"b"')
    assert matches("*", '"b"')
    assert matches('W/"b"', '"b"')
    assert not matches('"bb"', '"b"')


class Ticks:
    """A monotonic clock that moves when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def counting() -> AsyncIterator[tuple[httpx.AsyncClient, Ticks, list[str]]]:
    """A page that says how often it was built, behind `cached` with a 10 s cache."""
    built: list[str] = []
    ticks = Ticks()

    async def page(request: web.Request) -> web.Response:
        built.append(request.path_qs)
        if request.path == "/broken":
            return web.Response(status=503, text="down")
        return web.Response(text=f"build {len(built)}", content_type="text/html")

    cache = AnswerCache(10.0, size=2, clock=ticks)
    app = web.Application()
    app.router.add_get("/{name}", cached(page, cache))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with httpx.AsyncClient(base_url=str(server.make_url(""))) as http:
            yield http, ticks, built
    finally:
        await server.close()


async def test_an_answer_is_built_once_in_its_seconds_then_again(counting):
    http, ticks, built = counting

    first = await http.get("/a")
    ticks.now += 9.9
    same = await http.get("/a")
    ticks.now += 0.1
    fresh = await http.get("/a")

    assert (first.text, same.text, fresh.text) == ("build 1", "build 1", "build 2")
    assert same.headers["etag"] == first.headers["etag"] != fresh.headers["etag"]
    assert built == ["/a", "/a"]


async def test_each_address_has_its_own_answer_and_the_oldest_is_forgotten(counting):
    http, _ticks, built = counting

    for path in ("/a", "/a?x=1", "/b", "/a?x=1", "/a"):
        await http.get(path)

    # Two kept: /a was forgotten when /b came, /a?x=1 was still there.
    assert built == ["/a", "/a?x=1", "/b", "/a"]


async def test_failures_are_not_kept(counting):
    http, _ticks, built = counting

    answers = [await http.get("/broken") for _ in range(2)]

    assert [a.status_code for a in answers] == [503, 503]
    assert answers[0].headers["cache-control"] == "no-store"
    assert built == ["/broken", "/broken"]
