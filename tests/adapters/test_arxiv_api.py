"""Tests for the arXiv API metadata client, over recorded payloads in tests/data/arxiv_api."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.sources.arxiv_api import DEFAULT_ARXIV_API_URL, ArxivApiClient, parse_feed
from adapters.sources.http import MAX_BODY
from core.backoff import Backoff, longest
from core.models import Paper
from core.ports import SourceUnavailable

DATA = Path(__file__).parent.parent / "data" / "arxiv_api"
Handler = Callable[[httpx.Request], httpx.Response]


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def atom(*entries: str) -> bytes:
    """A minimal current-format feed around hand-written entries."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">'
        "<title>arXiv Query</title><id>https://arxiv.org/api/x</id>"
        "<updated>2026-01-01T00:00:00Z</updated>" + "".join(entries) + "</feed>"
    ).encode()


def entry(arxiv_id: str, title: str = "A title", extra: str = "") -> str:
    return (
        f"<entry><id>http://arxiv.org/abs/{arxiv_id}</id><title>{title}</title>"
        "<updated>2024-01-02T03:04:05Z</updated><published>2024-01-01T00:00:00Z</published>"
        f"<summary>An abstract.</summary><author><name>A. Author</name></author>{extra}</entry>"
    )


class FakeTime:
    """A monotonic clock that only moves when the client sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)  # yield like a real sleep, so concurrent fetches interleave

    def monotonic(self) -> float:
        return self.now


class Recorder:
    """A MockTransport handler that answers from a script and records each request."""

    def __init__(self, fake: FakeTime, *answers: httpx.Response | Exception | Handler) -> None:
        self.fake = fake
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(self.fake.now)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer if isinstance(answer, httpx.Response) else answer(request)

    def id_lists(self) -> list[str]:
        return [r.url.params["id_list"] for r in self.requests]


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


ClientFactory = Callable[..., ArxivApiClient]


@pytest.fixture
async def make_client(fake: FakeTime) -> AsyncIterator[ClientFactory]:
    opened: list[httpx.AsyncClient] = []

    def factory(
        recorder: Recorder, *, min_interval: float = 3.0, max_retries: int = 3, backoff: float = 2.0
    ) -> ArxivApiClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
        opened.append(http)
        return ArxivApiClient(
            http,
            min_interval=min_interval,
            max_retries=max_retries,
            backoff=Backoff(backoff, 60.0, longest),
            sleep=fake.sleep,
            monotonic=fake.monotonic,
        )

    yield factory
    for http in opened:
        await http.aclose()


def echo_feed(request: httpx.Request) -> httpx.Response:
    ids = request.url.params["id_list"].split(",")
    return httpx.Response(200, content=atom(*(entry(f"{i}v1") for i in ids)))


# --- parse_feed on every recorded payload ---------------------------------------------------


def test_parse_feed_versioned_id() -> None:
    [paper] = parse_feed(load("idlist_2104.12255v1_versioned.xml"))
    assert paper == Paper(
        arxiv_id="2104.12255",
        version=1,
        title="0",
        authors=("Quan Thoi Minh Nguyen",),
        abstract=paper.abstract,
        categories=("cs.CR",),
        published=datetime(2021, 4, 20, 16, 7, 14, tzinfo=UTC),
        updated=datetime(2021, 4, 20, 16, 7, 14, tzinfo=UTC),
    )
    assert paper.abstract is not None
    assert paper.abstract.startswith("What is the funniest number in cryptography? 0.")
    assert paper.abstract.endswith("awarded $35,000 in total for the reported bugs.")


def test_parse_feed_old_style_id_keeps_archive() -> None:
    [paper] = parse_feed(load("idlist_astro-ph_0601001_oldstyle.xml"))
    assert (paper.arxiv_id, paper.version) == ("astro-ph/0601001", 1)
    assert paper.title == (
        "Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys "
        "Toward the Galactic Bulge and Carina"
    )
    assert paper.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert paper.categories == ("astro-ph",)
    assert paper.published == datetime(2006, 1, 2, 14, 57, 58, tzinfo=UTC)
    assert paper.abstract is not None
    # The leading two-space indent is gone; escaped markup and TeX come through as text.
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters")
    assert "Gould & Morgan (2003)" in paper.abstract
    assert "V_max<17.5" in paper.abstract
    assert "(1/310)(1^{+1.39}_{-0.59})" in paper.abstract


def test_parse_feed_two_ids_one_missing_gives_the_known_one() -> None:
    [paper] = parse_feed(load("idlist_two_ids_one_missing.xml"))
    assert (paper.arxiv_id, paper.version) == ("1707.08567", 1)
    assert paper.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert len(paper.authors) == 34
    assert paper.authors[0] == "Kees A. Schouhamer Immink"
    assert "Dirk Wübben" in paper.authors
    assert paper.categories == ("cs.IT",)


def test_parse_feed_empty_result() -> None:
    assert parse_feed(load("idlist_0000.0000_empty.xml")) == []


def test_parse_feed_skips_error_entry() -> None:
    assert parse_feed(load("idlist_abc_error_http400.xml")) == []


def test_parse_feed_legacy_format_unwraps_title_and_summary() -> None:
    [paper] = parse_feed(load("legacy2016_idlist_1111.2011v2.xml"))
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.published == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert paper.updated == datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)
    assert paper.abstract is not None
    assert paper.abstract.startswith("Theoretical description of anisotropic systems, such as")
    assert "layered superconductors and coupled" in paper.abstract
    assert paper.abstract.endswith("describing a single node.")


def test_parse_feed_legacy_search_mixes_old_and_new_ids() -> None:
    papers = parse_feed(load("legacy2016_search_au_del_maestro.xml"))
    assert [(p.arxiv_id, p.version) for p in papers] == [
        ("1201.4869", 1),
        ("cond-mat/0412498", 1),
        ("cond-mat/0603029", 1),
        ("1005.5383", 1),
        ("1303.6954", 2),
        ("1312.6177", 1),
        ("1412.6529", 2),
        ("cond-mat/0607501", 2),
        ("cond-mat/0702661", 2),
        ("0807.2873", 1),
    ]
    by_id = {p.arxiv_id: p for p in papers}
    assert by_id["1412.6529"].categories == ("cond-mat.quant-gas", "quant-ph")
    assert by_id["cond-mat/0607501"].authors == ("R. G. Melko", "A. Del Maestro", "A. A. Burkov")
    assert by_id["cond-mat/0607501"].updated == datetime(2006, 11, 6, 19, 33, 40, tzinfo=UTC)


def test_parse_feed_search_results_current_format() -> None:
    papers = parse_feed(load("search_testing_max10.xml"))
    assert len(papers) == 10
    assert sorted(p.version or 0 for p in papers) == [1, 1, 1, 1, 1, 2, 2, 2, 3, 3]
    by_id = {p.arxiv_id: p for p in papers}
    assert by_id["2405.13786"].authors[:3] == (
        "Aurora Ramírez",
        "Mario Berrios",
        "José Raúl Romero",
    )
    assert by_id["2302.03287"].title == "ChatGPT and Software Testing Education: Promises & Perils"
    assert by_id["2005.14124"].categories == ("cs.SE", "cs.CR", "cs.LG")
    assert by_id["1205.1866"].categories == ("cs.AR",)
    assert by_id["2204.08348"].version == 3
    assert by_id["2503.05378"].updated == datetime(2025, 8, 12, 14, 8, 11, tzinfo=UTC)


def test_parse_feed_keeps_accented_author_names() -> None:
    papers = parse_feed(load("search_cat-cs.RO_max3.xml"))
    assert [p.arxiv_id for p in papers] == ["2012.11345", "2012.12142", "2012.13240"]
    assert papers[0].authors == (
        "Branimir Ivšić",
        "Zvonimir Šipuš",
        "Juraj Bartolić",
        "Josip Babić",
    )
    assert papers[0].categories == ("cs.RO", "eess.SY")
    assert papers[2].categories == ("cs.RO", "math.OC")


@pytest.mark.parametrize(
    "name",
    [
        "idlist_2104.12255v1_versioned.xml",
        "idlist_astro-ph_0601001_oldstyle.xml",
        "idlist_two_ids_one_missing.xml",
        "legacy2016_idlist_1111.2011v2.xml",
        "legacy2016_search_au_del_maestro.xml",
        "search_testing_max10.xml",
        "search_cat-cs.RO_max3.xml",
    ],
)
def test_parse_feed_fields_are_clean(name: str) -> None:
    papers = parse_feed(load(name))
    assert papers
    for paper in papers:
        assert paper.title
        assert paper.abstract
        assert paper.authors
        assert paper.version
        for text in (paper.title, paper.abstract, *paper.authors):
            assert text == " ".join(text.split())
        assert "v" not in paper.arxiv_id.rsplit("/", 1)[-1]
        assert paper.published is not None
        assert paper.published.tzinfo is UTC
        assert paper.updated is not None
        assert paper.updated >= paper.published
        assert len(set(paper.categories)) == len(paper.categories) >= 1


def test_parse_feed_accepts_text() -> None:
    body = load("search_cat-cs.RO_max3.xml")
    assert parse_feed(body.decode("utf-8")) == parse_feed(body)


# --- parse_feed on hand-written edge cases --------------------------------------------------


def test_parse_feed_puts_primary_category_first_without_duplicates() -> None:
    categories = (
        '<category term="cs.LG"/><category term="stat.ML"/><category term="cs.LG"/>'
        '<arxiv:primary_category term="stat.ML"/>'
    )
    [paper] = parse_feed(atom(entry("2401.00001v2", extra=categories)))
    assert paper.categories == ("stat.ML", "cs.LG")
    assert paper.primary_category == "stat.ML"


def test_parse_feed_skips_entries_without_title_and_legacy_errors() -> None:
    body = atom(
        entry("2401.00001v1", title=""),
        entry("2401.00002v1", title="   "),
        "<entry><id>http://arxiv.org/abs/2401.00003v1</id></entry>",
        "<entry><id>http://arxiv.org/api/errors#bad</id><title>Error</title>"
        "<summary>malformed id</summary></entry>",
        entry("2401.00004v1"),
    )
    assert [p.arxiv_id for p in parse_feed(body)] == ["2401.00004"]


def test_parse_feed_entry_without_updated_or_version() -> None:
    # FeedParserDict.get("updated_parsed") would warn (and fail under filterwarnings=error).
    body = atom(
        "<entry><id>http://arxiv.org/abs/hep-th/9901001</id><title>Old</title>"
        "<published>1999-01-01T00:00:00Z</published></entry>"
    )
    [paper] = parse_feed(body)
    assert (paper.arxiv_id, paper.version, paper.updated) == ("hep-th/9901001", None, None)
    assert paper.published == datetime(1999, 1, 1, tzinfo=UTC)
    assert (paper.abstract, paper.authors, paper.categories) == (None, (), ())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage \x00\xff not xml",
        b'{"error": "rate limited"}',
        b"<html><body><h1>503 Service Unavailable</h1></body></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
        b"<?xml version='1.0' encoding='U\xff\xfeTF-8'?><feed xmlns='http://www.w3.org/2005/Atom'/>",
        load("search_testing_max10.xml")[:12_000],
        load("search_testing_max10.xml")[:300],
    ],
    ids=["empty", "garbage", "json", "html", "rss", "bad-encoding", "truncated", "truncated-head"],
)
def test_parse_feed_rejects_what_is_not_an_atom_feed(body: bytes) -> None:
    with pytest.raises(SourceUnavailable):
        parse_feed(body)


def test_parse_feed_never_opens_a_body_as_a_path() -> None:
    # feedparser.parse() opens a bytes/str argument that names an existing file.
    with pytest.raises(SourceUnavailable):
        parse_feed(str(DATA / "search_cat-cs.RO_max3.xml"))


# --- fetch: requests, batching, politeness --------------------------------------------------


async def test_fetch_sends_id_list_and_max_results(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, httpx.Response(200, content=load("idlist_two_ids_one_missing.xml")))
    papers = await make_client(recorder).fetch(["0808.05394", "1707.08567", "0808.05394"])
    assert [p.arxiv_id for p in papers] == ["1707.08567"]
    [request] = recorder.requests
    assert request.method == "GET"
    assert str(request.url).startswith(DEFAULT_ARXIV_API_URL + "?")
    assert dict(request.url.params) == {"id_list": "0808.05394,1707.08567", "max_results": "2"}
    assert fake.sleeps == []


async def test_fetch_old_style_id(fake: FakeTime, make_client: ClientFactory) -> None:
    body = load("idlist_astro-ph_0601001_oldstyle.xml")
    recorder = Recorder(fake, httpx.Response(200, content=body))
    [paper] = await make_client(recorder).fetch(["astro-ph/0601001"])
    assert paper.arxiv_id == "astro-ph/0601001"
    assert recorder.id_lists() == ["astro-ph/0601001"]


async def test_fetch_unknown_id_gives_nothing(fake: FakeTime, make_client: ClientFactory) -> None:
    recorder = Recorder(fake, httpx.Response(200, content=load("idlist_0000.0000_empty.xml")))
    assert await make_client(recorder).fetch(["0000.0000"]) == []


async def test_fetch_without_ids_sends_nothing(fake: FakeTime, make_client: ClientFactory) -> None:
    recorder = Recorder(fake, echo_feed)
    assert await make_client(recorder).fetch([]) == []
    assert recorder.requests == []


async def test_fetch_rejects_a_bare_string(fake: FakeTime, make_client: ClientFactory) -> None:
    with pytest.raises(TypeError):
        await make_client(Recorder(fake, echo_feed)).fetch("2401.01234")


async def test_fetch_batches_250_ids_into_three_requests(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    ids = [f"2401.{n:05d}" for n in range(250)]
    recorder = Recorder(fake, echo_feed)
    papers = await make_client(recorder).fetch(ids)
    assert recorder.id_lists() == [",".join(ids[:100]), ",".join(ids[100:200]), ",".join(ids[200:])]
    assert [r.url.params["max_results"] for r in recorder.requests] == ["100", "100", "50"]
    assert [p.arxiv_id for p in papers] == ids
    assert recorder.times == [1000.0, 1003.0, 1006.0]
    assert fake.sleeps == [3.0, 3.0]


async def test_fetch_spaces_requests_across_calls(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, echo_feed)
    client = make_client(recorder, min_interval=3.0)
    await client.fetch(["2401.00001"])
    fake.now += 1.0  # the caller did something else for a second
    await client.fetch(["2401.00002"])
    fake.now += 10.0  # long enough: no wait at all
    await client.fetch(["2401.00003"])
    assert fake.sleeps == [2.0]
    assert recorder.times == [1000.0, 1003.0, 1013.0]


async def test_fetch_spaces_concurrent_calls(fake: FakeTime, make_client: ClientFactory) -> None:
    recorder = Recorder(fake, echo_feed)
    client = make_client(recorder)
    results = await asyncio.gather(*(client.fetch([f"2401.0000{n}"]) for n in range(4)))
    assert sorted(p.arxiv_id for r in results for p in r) == [f"2401.0000{n}" for n in range(4)]
    gaps = [b - a for a, b in zip(recorder.times, recorder.times[1:], strict=False)]
    assert gaps == [3.0, 3.0, 3.0]


async def test_fetch_keeps_one_request_in_flight(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    in_flight: list[int] = [0]
    peak: list[int] = [0]

    async def slow_feed(request: httpx.Request) -> httpx.Response:
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        await asyncio.sleep(0)
        in_flight[0] -= 1
        return echo_feed(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(slow_feed))
    async with http:
        client = ArxivApiClient(http, min_interval=0.0, sleep=fake.sleep, monotonic=fake.monotonic)
        await asyncio.gather(*(client.fetch([f"2401.0000{n}"]) for n in range(4)))
    assert peak == [1]


# --- fetch: retries and failures ------------------------------------------------------------


async def test_fetch_retries_503_then_succeeds(fake: FakeTime, make_client: ClientFactory) -> None:
    body = load("idlist_2104.12255v1_versioned.xml")
    recorder = Recorder(fake, httpx.Response(503), httpx.Response(200, content=body))
    [paper] = await make_client(recorder).fetch(["2104.12255"])
    assert paper.arxiv_id == "2104.12255"
    assert len(recorder.requests) == 2
    # 2 s of backoff, then 1 s more to keep 3 s between requests.
    assert fake.sleeps == [2.0, 1.0]
    assert recorder.times == [1000.0, 1003.0]


async def test_fetch_honours_retry_after(fake: FakeTime, make_client: ClientFactory) -> None:
    recorder = Recorder(
        fake, httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, content=atom())
    )
    assert await make_client(recorder).fetch(["2401.00001"]) == []
    assert fake.sleeps == [7.0]
    assert recorder.times == [1000.0, 1007.0]


async def test_fetch_backs_off_exponentially_then_gives_up(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, httpx.Response(500))
    client = make_client(recorder, min_interval=0.0, max_retries=3, backoff=2.0)
    with pytest.raises(SourceUnavailable, match="HTTP 500") as caught:
        await client.fetch(["2401.00001"])
    assert len(recorder.requests) == 4
    assert fake.sleeps == [2.0, 4.0, 8.0]
    assert caught.value.retry_after is None


async def test_fetch_gives_up_with_the_retry_after_it_was_told(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, httpx.Response(429, headers={"Retry-After": "5"}))
    with pytest.raises(SourceUnavailable) as caught:
        await make_client(recorder, max_retries=2).fetch(["2401.00001"])
    assert len(recorder.requests) == 3
    assert fake.sleeps == [5.0, 5.0]
    assert caught.value.retry_after == 5.0


async def test_fetch_does_not_sleep_through_a_long_retry_after(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, httpx.Response(503, headers={"Retry-After": "3600"}))
    with pytest.raises(SourceUnavailable) as caught:
        await make_client(recorder).fetch(["2401.00001"])
    assert len(recorder.requests) == 1
    assert fake.sleeps == []
    assert caught.value.retry_after == 3600.0


async def test_fetch_ignores_an_unparseable_retry_after(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    recorder = Recorder(
        fake,
        httpx.Response(503, headers={"Retry-After": date}),
        httpx.Response(200, content=atom()),
    )
    await make_client(recorder, min_interval=0.0).fetch(["2401.00001"])
    assert fake.sleeps == [2.0]


async def test_fetch_retries_a_timeout(fake: FakeTime, make_client: ClientFactory) -> None:
    body = load("idlist_2104.12255v1_versioned.xml")
    recorder = Recorder(fake, httpx.ReadTimeout("timed out"), httpx.Response(200, content=body))
    [paper] = await make_client(recorder).fetch(["2104.12255"])
    assert paper.version == 1
    assert len(recorder.requests) == 2


async def test_fetch_gives_up_on_transport_errors(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, httpx.ConnectError("connection refused"))
    with pytest.raises(SourceUnavailable, match="ConnectError") as caught:
        await make_client(recorder, max_retries=1).fetch(["2401.00001"])
    assert len(recorder.requests) == 2
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.ConnectError("connection refused")],
    ids=["503", "refused"],
)
async def test_fetch_without_retry_asks_once_and_does_not_wait(
    fake: FakeTime, make_client: ClientFactory, failure: httpx.Response | Exception
) -> None:
    recorder = Recorder(fake, failure, httpx.Response(200, content=atom()))
    with pytest.raises(SourceUnavailable, match="after 1 attempt"):
        await make_client(recorder).fetch(["2401.00001"], retry=False)
    assert len(recorder.requests) == 1
    assert fake.sleeps == []


async def test_fetch_400_raises_with_arxiv_message(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, httpx.Response(400, content=load("idlist_abc_error_http400.xml")))
    with pytest.raises(SourceUnavailable, match="incorrect id format for abc"):
        await make_client(recorder).fetch(["abc"])
    assert len(recorder.requests) == 1


async def test_fetch_400_without_a_feed(fake: FakeTime, make_client: ClientFactory) -> None:
    recorder = Recorder(fake, httpx.Response(400, content=b"Bad Request"))
    with pytest.raises(SourceUnavailable, match="no error detail"):
        await make_client(recorder).fetch(["abc"])


async def test_fetch_other_client_errors_are_not_retried(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    recorder = Recorder(fake, httpx.Response(404))
    with pytest.raises(SourceUnavailable, match="HTTP 404"):
        await make_client(recorder).fetch(["2401.00001"])
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b"garbage", load("search_testing_max10.xml")[:12_000]],
    ids=["html", "garbage", "truncated"],
)
async def test_fetch_unparseable_body_raises(
    fake: FakeTime, make_client: ClientFactory, body: bytes
) -> None:
    recorder = Recorder(fake, httpx.Response(200, content=body))
    with pytest.raises(SourceUnavailable):
        await make_client(recorder).fetch(["2401.00001"])


async def test_fetch_follows_a_redirect_to_https(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    https = DEFAULT_ARXIV_API_URL.replace("http://", "https://")

    def redirect(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "http":
            return httpx.Response(
                301, headers={"Location": f"{https}?{request.url.query.decode()}"}
            )
        return echo_feed(request)

    recorder = Recorder(fake, redirect)
    [paper] = await make_client(recorder).fetch(["2401.00001"])
    assert paper.arxiv_id == "2401.00001"
    assert [r.url.scheme for r in recorder.requests] == ["http", "https"]


async def test_fetch_redirect_loop_raises(fake: FakeTime, make_client: ClientFactory) -> None:
    loop = httpx.Response(302, headers={"Location": DEFAULT_ARXIV_API_URL})
    recorder = Recorder(fake, loop)
    with pytest.raises(SourceUnavailable, match="TooManyRedirects"):
        await make_client(recorder).fetch(["2401.00001"])
    assert len(recorder.requests) == 21  # httpx's default of 20 redirects, then no retry


async def test_a_feed_past_the_body_cap_is_refused(
    fake: FakeTime, make_client: ClientFactory
) -> None:
    huge = httpx.Response(200, headers={"Content-Length": str(MAX_BODY + 1)}, content=b"")
    client = make_client(Recorder(fake, huge))
    with pytest.raises(SourceUnavailable, match="more than 10,485,760"):
        await client.fetch(["1706.03762"])
