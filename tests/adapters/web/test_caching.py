"""What every answer carries: a validator, a minute's freshness and a policy without script."""

from __future__ import annotations

import pytest

from adapters.web.caching import matches
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
