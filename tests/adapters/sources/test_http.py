import re
from datetime import UTC, datetime

import httpx
import pytest

from adapters.sources.http import (
    MAX_BODY,
    BodyTooLarge,
    HttpStatusError,
    MalformedItem,
    RateLimiter,
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    as_time,
    clip,
    collect_refs,
    dig,
    dump_cursor,
    get_json,
    html_text,
    load_cursor,
    need,
    parse_each,
    request_json,
    user_agent,
)
from core.arxiv_id import ArxivRef
from core.ports import SourceUnavailable
from tests.adapters.sources.support import client_for, json_response

URL = "https://api.example.org/v1/search"


async def fetch(handler, url: str = URL) -> object:
    async with client_for(handler) as client:
        return await get_json(client, url, {"q": "arxiv.org", "n": 5}, {"User-Agent": "test"})


async def test_get_json_sends_params_and_headers_and_decodes():
    seen = []

    def handler(request):
        seen.append(request)
        return json_response({"hits": [1, 2]})

    assert await fetch(handler) == {"hits": [1, 2]}
    assert seen[0].url.params["q"] == "arxiv.org"
    assert seen[0].url.params["n"] == "5"
    assert seen[0].headers["user-agent"] == "test"


async def test_get_json_raises_with_retry_after_seconds_on_429():
    with pytest.raises(HttpStatusError) as info:
        await fetch(lambda r: httpx.Response(429, headers={"Retry-After": "120"}))
    assert info.value.status == 429
    assert info.value.retry_after == 120
    assert str(info.value) == "HTTP 429 from api.example.org"


async def test_get_json_reads_retry_after_as_an_http_date_against_the_date_header():
    headers = {
        "Retry-After": "Thu, 26 Nov 2026 12:05:00 GMT",
        "Date": "Thu, 26 Nov 2026 12:00:00 GMT",
    }
    with pytest.raises(SourceUnavailable) as info:
        await fetch(lambda r: httpx.Response(503, headers=headers))
    assert info.value.retry_after == 300


async def test_get_json_reads_x_rate_limit_reset():
    served = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    headers = {
        "x-rate-limit-reset": str(int(served.timestamp()) + 600),
        "Date": "Thu, 26 Nov 2026 12:00:00 GMT",
    }
    with pytest.raises(SourceUnavailable) as info:
        await fetch(lambda r: httpx.Response(429, headers=headers))
    assert info.value.retry_after == 600


async def test_get_json_caps_an_absurd_retry_after():
    with pytest.raises(SourceUnavailable) as info:
        await fetch(lambda r: httpx.Response(429, headers={"Retry-After": "99999999"}))
    assert info.value.retry_after == 24 * 3600


@pytest.mark.parametrize("status", [500, 502, 503, 404, 401])
async def test_get_json_raises_on_error_statuses(status):
    with pytest.raises(HttpStatusError) as info:
        await fetch(lambda r: httpx.Response(status, text="oops"))
    assert info.value.status == status
    assert info.value.retry_after is None


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (httpx.ReadTimeout("slow"), "timeout from api.example.org"),
        (httpx.ConnectTimeout("slow"), "timeout from api.example.org"),
        (httpx.ConnectError("refused"), "ConnectError from api.example.org"),
        (httpx.RemoteProtocolError("peer closed"), "RemoteProtocolError from api.example.org"),
    ],
)
async def test_get_json_turns_transport_errors_into_source_unavailable(error, message):
    def handler(request):
        raise error

    with pytest.raises(SourceUnavailable, match=f"^{re.escape(message)}$"):
        await fetch(handler)


@pytest.mark.parametrize("body", [b"<html>busy</html>", b'{"hits": [1, 2', b"", b"\xff\xfe{}"])
async def test_get_json_rejects_bodies_that_are_not_json(body):
    with pytest.raises(SourceUnavailable, match=r"invalid JSON from api\.example\.org"):
        await fetch(lambda r: httpx.Response(200, content=body))


async def test_errors_never_carry_the_query_string():
    with pytest.raises(SourceUnavailable) as info:
        await fetch(lambda r: httpx.Response(500), URL + "?api_key=SECRET")
    assert "SECRET" not in str(info.value)


async def test_request_json_posts_a_form_with_basic_auth():
    seen = []

    def handler(request):
        seen.append(request)
        return json_response({"access_token": "t"})

    async with client_for(handler) as client:
        body = await request_json(
            client, "POST", URL, data={"grant_type": "client_credentials"}, auth=("id", "pw")
        )
    assert body == {"access_token": "t"}
    assert seen[0].method == "POST"
    assert seen[0].content == b"grant_type=client_credentials"
    assert seen[0].headers["authorization"].startswith("Basic ")


def test_user_agent_names_the_bot_and_the_contact_url():
    agent = user_agent("https://example.org/bot")
    assert agent.startswith("trending-arxiv/")
    assert "+https://example.org/bot" in agent


async def test_rate_limiter_spaces_requests():
    now = [100.0]
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, sleep=sleep, monotonic=lambda: now[0])
    await limiter.wait()
    now[0] += 0.5
    await limiter.wait()
    now[0] += 5
    await limiter.wait()
    assert slept == [1.5]


async def test_get_json_waits_for_the_rate_limiter():
    calls = []

    class Limiter(RateLimiter):
        async def wait(self):
            calls.append("wait")

    async with client_for(lambda r: json_response([])) as client:
        await get_json(client, URL, limiter=Limiter(1))
    assert calls == ["wait"]


def test_dig_follows_keys_and_indexes_and_stops_where_the_path_breaks():
    value = {"a": [{"b": "x"}], "n": None}
    assert dig(value, "a", 0, "b") == "x"
    assert dig(value, "a", 5, "b") is None
    assert dig(value, "a", "b") is None
    assert dig(value, "n", "b") is None
    assert dig("text", "a") is None


def test_typed_readers_accept_only_their_type():
    assert as_str("a") == "a"
    assert as_str("") is None
    assert as_str(3) is None
    assert as_int(3) == 3
    assert as_int("12") == 12
    assert as_int(4.0) == 4
    assert as_int(True) is None
    assert as_int(4.5) is None
    assert as_int("x") is None
    assert as_float(1.5) == 1.5
    assert as_float(float("nan")) is None
    assert as_float("1.5") is None
    assert as_dict([]) is None
    assert as_list({"a": 1}) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-26T09:00:00.000Z", datetime(2026, 11, 26, 9, tzinfo=UTC)),
        ("2026-11-26T10:00:00+01:00", datetime(2026, 11, 26, 9, tzinfo=UTC)),
        ("2026-11-26T09:00:00", datetime(2026, 11, 26, 9, tzinfo=UTC)),
        (1795683600, datetime(2026, 11, 26, 9, tzinfo=UTC)),
        (1795683600.0, datetime(2026, 11, 26, 9, tzinfo=UTC)),
        ("yesterday", None),
        (10**20, None),
        (None, None),
        (True, None),
    ],
)
def test_as_time_reads_iso_and_epoch(value, expected):
    assert as_time(value) == expected


def test_parse_each_skips_only_the_items_it_cannot_read():
    def parse(item):
        return [need(as_int(dig(item, "n")), "n") * 2]

    assert parse_each([{"n": 1}, {"m": 2}, "junk", {"n": 3}], parse, "thing") == [2, 6]


def test_need_raises_malformed_item():
    with pytest.raises(MalformedItem, match="missing url"):
        need(None, "url")


def test_collect_refs_merges_texts_and_keeps_a_known_version():
    refs = collect_refs(
        [
            None,
            "see arxiv.org/abs/2411.01234",
            "https://arxiv.org/pdf/2411.01234v2",
            "hep-th/9901001",
        ]
    )
    assert refs == [ArxivRef("2411.01234", 2), ArxivRef("hep-th/9901001", None)]


def test_html_text_rejoins_mastodon_link_spans_and_collects_hrefs():
    html = (
        '<p>Read <a href="https://arxiv.org/abs/2411.01234v2"><span class="invisible">https://'
        '</span><span class="ellipsis">arxiv.org/abs/2411.0123</span><span class="invisible">4v2'
        "</span></a><br />now &amp; later</p>"
    )
    text, hrefs = html_text(html)
    assert text == "Read https://arxiv.org/abs/2411.01234v2 now & later"
    assert hrefs == ["https://arxiv.org/abs/2411.01234v2"]


def test_cursor_round_trip_and_unreadable_cursors():
    assert load_cursor(dump_cursor({"b": 1, "a": "x"}), "s") == {"a": "x", "b": 1}
    assert load_cursor(None, "s") == {}
    assert load_cursor("not json", "s") == {}
    assert load_cursor("[1, 2]", "s") == {}


def test_clip_shortens_long_text():
    assert clip("abc", 5) == "abc"
    assert clip("abcdefgh", 5) == "abcd…"
    assert clip(None) is None


class EndlessBody(httpx.AsyncByteStream):
    """A body that never ends, counting what was taken from it."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self):
        chunk = b"[" * 65536
        while True:
            self.sent += len(chunk)
            yield chunk


async def test_an_endless_body_is_refused_at_the_cap_without_being_held():
    body = EndlessBody()
    with pytest.raises(BodyTooLarge, match="more than 10,485,760 bytes"):
        await fetch(lambda r: httpx.Response(200, stream=body))
    assert MAX_BODY < body.sent <= MAX_BODY + 65536


async def test_a_body_declared_too_large_is_refused_before_it_is_read():
    body = EndlessBody()
    headers = {"Content-Length": str(MAX_BODY + 1)}
    with pytest.raises(BodyTooLarge, match="10,485,761 bytes"):
        await fetch(lambda r: httpx.Response(200, headers=headers, stream=body))
    assert body.sent == 0


async def test_a_body_at_the_cap_is_read():
    padded = b'{"a": "' + b"x" * (MAX_BODY - 10) + b'"}'
    assert len(padded) <= MAX_BODY
    assert await fetch(lambda r: httpx.Response(200, content=padded)) == {
        "a": "x" * (MAX_BODY - 10)
    }
