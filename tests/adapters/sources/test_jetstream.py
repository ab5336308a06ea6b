"""Jetstream decoding, and the consumer against a local server replaying recorded-format events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.asyncio.server import ServerConnection, serve

from adapters.sources.bluesky_record import POST, REPOST, post_refs
from adapters.sources.jetstream import (
    DeleteEvent,
    PostEvent,
    RepostEvent,
    decode_message,
    message_time,
    might_matter,
    subscribe_url,
)
from adapters.sources.jetstream_consumer import JetstreamConsumer, JetstreamOptions
from core.arxiv_id import ArxivRef
from core.backoff import longest
from core.ingest import AccountFilter
from core.locks import InProcessLocks
from core.models import ImportReport, Mention, SourceHealth
from core.ports import Batch
from tests.bot.servers import closed_port

REPLAY = Path(__file__).parents[2] / "data" / "sources" / "bluesky" / "jetstream_replay.jsonl"
LINES = REPLAY.read_text(encoding="utf-8").splitlines()
NOW = datetime(2025, 5, 19, 18, 0, tzinfo=UTC)

DIDS = {
    "alice": "did:plc:lygj7oap27dsphdjgxdi3pmp",
    "bob": "did:plc:bwxy4sg2dzgwrtbxnhvexfyn",
    "carol": "did:plc:mgzhmhy66zhmkblrarrszr7v",
    "dave": "did:plc:bkidyfvdxxuumdtmutzncn7y",
    "frank": "did:plc:xep2prgdwhljyhbhphnldpg5",
    "gina": "did:plc:djdj7udqllbb2wegfbmsxt66",
    "hank": "did:plc:kzxtulmv4xqdivabrx6asnes",
    "ivan": "did:plc:nlus4xped2ai3wpqyd4qve2r",
    "judy": "did:plc:r3cjwr7plucx2rjsauslv4vp",
    "kate": "did:plc:meutkq4drum3stmm2vi444c2",
    "leo": "did:plc:fvimby33kymsr52lxrn3owr4",
    "mia": "did:plc:gohnvm7timjbor2d6fmh6i43",
}
FEED = "app.bsky.feed.generator"
OLD_POST = "at://did:plc:oldoldoldoldoldoldoldoldo/app.bsky.feed.post/3kzzzzzzzzz2a"


def uri(name: str, rkey: str, collection: str = POST) -> str:
    return f"at://{DIDS[name]}/{collection}/{rkey}"


# Every share the replay holds once it is over: (post, author, kind, paper).
EXPECTED = {
    (uri("alice", "3lpk002qo222m"), "alice", "post", "2401.01234"),
    (uri("bob", "3lpk003qo222m"), "bob", "post", "2312.00752"),
    (uri("carol", "3lpk004qo222m"), "carol", "post", "2405.04517"),
    (uri("frank", "3lpk007qo222m"), "frank", "quote", "2312.00752"),
    (uri("gina", "3lpk009qo222m"), "gina", "quote", "2401.01234"),
    (uri("hank", "3lpk010qo222m"), "hank", "post", "2406.12345"),
    (uri("judy", "3lpk012qo222m", REPOST), "judy", "repost", "2405.04517"),
    (uri("kate", "3lpk013qo222m", REPOST), "kate", "repost", "2301.00001"),
    (uri("leo", "3lpk014qo222m"), "leo", "post", "hep-th/9901001"),
    (uri("leo", "3lpk014qo222m"), "leo", "post", "2402.05678"),
    (uri("mia", "3lpk015qo222m", REPOST), "mia", "repost", "2312.00752"),
}
LAST_TIME = max(t for line in LINES if (t := message_time(line)) is not None)


class FixedClock:
    def now(self) -> datetime:
        return NOW


class MemoryRepo:
    """Just enough of PaperRepository: idempotent shares per (source, post, paper)."""

    def __init__(self, seed: Sequence[Mention] = ()) -> None:
        self.mentions = {(m.source, m.post_id, m.arxiv_id): m for m in seed}
        self.cursors: dict[str, str] = {}
        self.records: list[SourceHealth] = []
        self.commits: list[Batch] = []
        self.lookups: list[str] = []
        self.cursor_reads: list[str | None] = []
        self.fail_commits: set[int] = set()  # 1-based numbers of commit calls that fail
        self.caught_up = asyncio.Event()  # set once the replay's last event is committed

    async def get_cursor(self, source: str) -> str | None:
        self.cursor_reads.append(self.cursors.get(source))
        return self.cursor_reads[-1]

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        self.commits.append(batch)
        if len(self.commits) in self.fail_commits:
            raise RuntimeError("database is locked")
        new = 0
        for m in batch.mentions:
            new += (m.source, m.post_id, m.arxiv_id) not in self.mentions
            self.mentions.setdefault((m.source, m.post_id, m.arxiv_id), m)
        for key in batch.removed:
            for stored in [k for k in self.mentions if k[:2] == key]:
                del self.mentions[stored]
        if batch.cursor is not None:
            self.cursors[source] = batch.cursor
        if batch.cursor == str(LAST_TIME):
            self.caught_up.set()
        return ImportReport(mentions=new)

    async def record_health(self, health: SourceHealth) -> None:
        self.records.append(health)

    async def health(self) -> list[SourceHealth]:
        return self.records[-1:]

    async def lookup(self, post_uri: str) -> list[str]:
        self.lookups.append(post_uri)
        return [k[2] for k in self.mentions if k[:2] == ("bluesky", post_uri)]

    def shares(self) -> set[tuple[str, str, str, str]]:
        names = {did: name for name, did in DIDS.items()}
        return {
            (m.post_id, names[m.author], m.kind, m.arxiv_id)
            for m in self.mentions.values()
            if m.post_id != OLD_POST
        }


class ReplayServer:
    """Serves the replay like Jetstream: from the `cursor` query on; drops the first link."""

    def __init__(self, drop_after: int | None = None) -> None:
        self.drop_after = drop_after
        self.cursors: list[int | None] = []
        timed, last = [], 0
        for line in LINES:  # a malformed line keeps the place of the event before it
            last = message_time(line) or last
            timed.append((last, line))
        self.timed = timed

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        assert query["wantedCollections"] == [POST, REPOST]
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        self.cursors.append(cursor)
        drop = self.drop_after if len(self.cursors) == 1 else None
        sent = 0
        for time_us, line in self.timed:
            if cursor is not None and time_us < cursor:
                continue
            if sent == drop:
                ws.transport.abort()  # a network failure, not a close handshake
                return
            await ws.send(line)
            sent += 1
        await ws.wait_closed()


def seeded_repo() -> MemoryRepo:
    old = Mention(
        "bluesky", OLD_POST, "did:plc:oldoldoldoldoldoldoldoldo", NOW, "post", "2301.00001"
    )
    return MemoryRepo([old])


async def run_until_caught_up(
    repo: MemoryRepo,
    server: ReplayServer,
    options: JetstreamOptions,
    account_filter: AccountFilter | None = None,
) -> list[float]:
    delays: list[float] = []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)

    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        port = ws_server.sockets[0].getsockname()[1]
        consumer = JetstreamConsumer(
            f"ws://127.0.0.1:{port}", repo, FixedClock(), repo.lookup, options,
            sleep=fake_sleep, account_filter=account_filter,
        )  # fmt: skip
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await asyncio.wait_for(repo.caught_up.wait(), 3)
        stop.set()
        await asyncio.wait_for(task, 1)
    return delays


@pytest.mark.enable_socket
async def test_consumer_resumes_after_a_drop_without_losing_or_doubling() -> None:
    repo, server = seeded_repo(), ReplayServer(drop_after=12)
    options = JetstreamOptions(
        batch_size=4, batch_seconds=0.05, rewind_seconds=2.5, backoff_jitter=longest
    )
    delays = await run_until_caught_up(repo, server, options)

    assert repo.shares() == EXPECTED
    assert len(server.cursors) == 2
    assert server.cursors[0] is None
    committed_before_drop = int(cast(str, repo.cursor_reads[1]))
    assert server.cursors[1] == committed_before_drop - 2_500_000  # rewound a little
    offered = Counter((m.post_id, m.arxiv_id) for b in repo.commits for m in b.mentions)
    assert max(offered.values()) == 2  # so a share was read twice, and is stored once
    assert delays == [1.0]
    failure = next(h for h in repo.records if h.consecutive_failures)
    assert failure.consecutive_failures == 1
    assert failure.last_success == NOW
    assert "ConnectionClosedError" in (failure.last_error or "")
    assert repo.records[-1].consecutive_failures == 0
    assert repo.records[-1].last_success == NOW
    assert [int(cast(str, b.cursor)) for b in repo.commits] == sorted(
        int(cast(str, b.cursor)) for b in repo.commits
    )  # the stored cursor never moves back, even while old events are replayed
    # Reposts and quotes of unknown posts ask storage once; recent shares come from memory.
    assert sorted(repo.lookups) == sorted({*repo.lookups})
    assert OLD_POST in repo.lookups
    assert uri("alice", "3lpk002qo222m") not in repo.lookups


@pytest.mark.enable_socket
async def test_consumer_replays_a_batch_whose_commit_failed() -> None:
    repo, server = seeded_repo(), ReplayServer()
    repo.fail_commits = {2}
    options = JetstreamOptions(batch_size=5, batch_seconds=0.05, rewind_seconds=0)
    await run_until_caught_up(repo, server, options)

    assert repo.shares() == EXPECTED
    assert server.cursors == [None, int(cast(str, repo.commits[0].cursor))]
    failure = next(h for h in repo.records if h.consecutive_failures)
    assert failure.last_error == "RuntimeError"  # only the type: a driver may quote secrets
    assert repo.records[-1].consecutive_failures == 0


@pytest.mark.enable_socket
async def test_consumer_ignores_blocked_accounts_and_reposts_of_their_posts() -> None:
    repo, server = seeded_repo(), ReplayServer()
    blocked = AccountFilter(block=frozenset({f"bluesky:{DIDS['carol']}", DIDS["gina"]}))
    options = JetstreamOptions(batch_size=50, batch_seconds=0.05)
    await run_until_caught_up(repo, server, options, blocked)

    assert repo.shares() == {
        share for share in EXPECTED if share[1] not in {"carol", "gina"} and share[1] != "judy"
    }  # judy reposted carol's post, which is not tracked


@pytest.mark.enable_socket
async def test_consumer_backs_off_while_the_server_refuses() -> None:
    port = closed_port()
    repo, stop, delays = MemoryRepo(), asyncio.Event(), []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 4:
            stop.set()

    consumer = JetstreamConsumer(
        f"ws://127.0.0.1:{port}", repo, FixedClock(), repo.lookup,
        JetstreamOptions(backoff_initial=1, backoff_max=5, backoff_jitter=longest),
        sleep=fake_sleep,
    )  # fmt: skip
    await asyncio.wait_for(consumer.run(stop), 2)

    assert delays == [1, 2, 4, 5]
    assert [h.consecutive_failures for h in repo.records] == [1, 2, 3, 4]
    assert not repo.records[-1].healthy
    assert repo.records[-1].last_success is None
    assert "ConnectionRefusedError" in (repo.records[-1].last_error or "")
    assert repo.commits == []


@pytest.mark.enable_socket
async def test_a_one_off_listen_ends_at_once_when_the_stream_is_refused() -> None:
    port = closed_port()
    repo, stop, delays = MemoryRepo(), asyncio.Event(), []

    async def fake_sleep(delay: float) -> None:  # a retry would come at once, and for ever
        delays.append(delay)

    consumer = JetstreamConsumer(
        f"ws://127.0.0.1:{port}", repo, FixedClock(), repo.lookup, sleep=fake_sleep
    )
    await asyncio.wait_for(consumer.run(stop, end_when_unreachable=True), 2)

    assert stop.is_set()
    assert [h.consecutive_failures for h in repo.records] == [1]
    assert (repo.records[-1].last_error or "").startswith("ConnectionRefusedError: ")


@pytest.mark.enable_socket
async def test_a_one_off_listen_ends_at_once_when_every_address_of_the_host_refuses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = closed_port()

    def two_addresses(*args: object, **kwargs: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    repo, stop = MemoryRepo(), asyncio.Event()
    consumer = JetstreamConsumer(f"ws://jetstream.example:{port}", repo, FixedClock(), repo.lookup)
    await asyncio.wait_for(consumer.run(stop, end_when_unreachable=True), 2)

    assert stop.is_set()
    assert (repo.records[-1].last_error or "").startswith("OSError: Multiple exceptions")


async def test_a_one_off_listen_ends_at_once_when_the_name_does_not_resolve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_dns(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    repo, stop = MemoryRepo(), asyncio.Event()
    consumer = JetstreamConsumer(
        "wss://jetstream.example.invalid", repo, FixedClock(), repo.lookup, locks=InProcessLocks()
    )
    await asyncio.wait_for(consumer.run(stop, end_when_unreachable=True), 2)

    assert stop.is_set()
    assert repo.records[-1].last_error == "gaierror: [Errno -2] Name or service not known"


@pytest.mark.enable_socket
async def test_a_health_record_lost_to_an_unreachable_database_is_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class NoDatabase(MemoryRepo):
        async def record_health(self, health: SourceHealth) -> None:
            raise ConnectionRefusedError(111, "Connect call failed")

    port = closed_port()
    repo = NoDatabase()
    consumer = JetstreamConsumer(f"ws://127.0.0.1:{port}", repo, FixedClock(), repo.lookup)
    await asyncio.wait_for(consumer.run(asyncio.Event(), end_when_unreachable=True), 2)

    [lost] = [r for r in caplog.records if "could not record health" in r.getMessage()]
    assert lost.getMessage() == (
        "jetstream: could not record health:"
        " ConnectionRefusedError: [Errno 111] Connect call failed"
    )
    assert not lost.exc_info


@pytest.mark.enable_socket
async def test_one_of_two_consumers_reads_the_stream_and_the_other_stands_by() -> None:
    repo, server, locks = seeded_repo(), ReplayServer(), InProcessLocks()
    options = JetstreamOptions(batch_size=50, batch_seconds=0.05, rewind_seconds=0)
    standby: list[float] = []

    async def standby_sleep(delay: float) -> None:
        standby.append(delay)
        await asyncio.sleep(0.01)

    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}"
        first, second = (
            JetstreamConsumer(url, repo, FixedClock(), repo.lookup, options, sleep=s, locks=locks)
            for s in (asyncio.sleep, standby_sleep)
        )
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        running_first = asyncio.create_task(first.run(stop_first))
        await asyncio.wait_for(repo.caught_up.wait(), 3)
        records = len(repo.records)
        running_second = asyncio.create_task(second.run(stop_second))
        await asyncio.sleep(0.1)  # several tries of the lock

        assert len(server.cursors) == 1  # the second never subscribed
        assert len(standby) > 1
        assert set(standby) == {30.0}  # tries again every 30 s
        assert len(repo.records) == records  # standing by is not a failure

        stop_first.set()  # the first replica goes: the second takes over at its next try
        await asyncio.wait_for(running_first, 1)
        for _ in range(200):  # the second subscribes within a few tries
            if len(server.cursors) == 2:
                break
            await asyncio.sleep(0.01)
        stop_second.set()
        await asyncio.wait_for(running_second, 1)

    assert server.cursors == [None, LAST_TIME]  # took over from the first one's cursor
    assert repo.shares() == EXPECTED


class UnreachableLocks:
    def hold(self, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
        raise OSError("connection refused")


async def test_consumer_waits_for_the_lock_while_its_database_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo, stop, delays = MemoryRepo(), asyncio.Event(), []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 2:
            stop.set()

    consumer = JetstreamConsumer(
        "ws://127.0.0.1:9", repo, FixedClock(), repo.lookup, sleep=fake_sleep,
        locks=UnreachableLocks(),
    )  # fmt: skip
    await asyncio.wait_for(consumer.run(stop), 1)

    assert delays == [30.0, 30.0]
    assert repo.cursor_reads == []  # never connected
    assert repo.records == []  # nor recorded anything
    assert "could not ask for source:bluesky: OSError" in caplog.text


# --- decoding ----------------------------------------------------------------------------------


def by_author(name: str) -> str:
    return next(line for line in LINES if f'"did":"{DIDS[name]}"' in line)


def commit_message(record: Mapping[str, object] | None, **commit: object) -> str:
    body: dict[str, object] = {
        "rev": "3lpk2u6qrev99",
        "operation": "create",
        "collection": POST,
        "rkey": "3lpkzzzzzz2m",
    }
    body.update(commit)
    if record is not None:
        body["record"] = record
    return json.dumps(
        {"did": "did:plc:x", "time_us": 1747675000000000, "kind": "commit", "commit": body}
    )


def test_decode_trusts_the_facet_uri_over_the_shortened_text() -> None:
    event = decode_message(by_author("alice"))

    assert isinstance(event, PostEvent)
    assert event.refs == (ArxivRef("2401.01234", 2),)
    assert event.author == DIDS["alice"]
    assert event.uri == uri("alice", "3lpk002qo222m")
    assert event.posted_at == datetime(2025, 5, 19, 17, 16, 42, 750000, tzinfo=UTC)


def test_decode_cuts_link_facets_by_utf8_bytes() -> None:
    text = "🚀🚀🚀 arxiv.org/abs/2401.0123... arXiv:2402.05678"
    start = text.encode().index(b"arxiv.org")
    facet = {
        "index": {"byteStart": start, "byteEnd": start + len("arxiv.org/abs/2401.0123...")},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://arxiv.org/abs/2401.01234v3"}],
    }  # fmt: skip

    refs = post_refs({"text": text, "facets": [facet]})

    assert refs == (ArxivRef("2401.01234", 3), ArxivRef("2402.05678", None))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bob", (ArxivRef("2312.00752", None),)),  # embed.external only
        ("carol", (ArxivRef("2405.04517", None),)),  # text only
        ("hank", (ArxivRef("2406.12345", None),)),  # huggingface.co/papers link in text
        ("leo", (ArxivRef("hep-th/9901001", None), ArxivRef("2402.05678", None))),
    ],
)
def test_decode_finds_papers_in_embeds_and_text(name: str, expected: tuple[ArxivRef, ...]) -> None:
    event = decode_message(by_author(name))

    assert isinstance(event, PostEvent)
    assert event.refs == expected
    assert event.quoted is None


def test_decode_reads_quotes_reposts_and_deletes() -> None:
    gina = decode_message(by_author("gina"))
    judy = decode_message(by_author("judy"))
    delete = decode_message(commit_message(None, operation="delete", collection=REPOST))

    assert isinstance(gina, PostEvent)
    assert gina.refs == ()
    assert gina.quoted == uri("alice", "3lpk002qo222m")  # through recordWithMedia
    assert isinstance(judy, RepostEvent)
    assert judy.subject == uri("carol", "3lpk004qo222m")
    assert delete == DeleteEvent(1747675000000000, f"at://did:plc:x/{REPOST}/3lpkzzzzzz2m")


@pytest.mark.parametrize(
    "raw",
    [
        "not json, but it says arxiv",
        '["arxiv"]',
        '{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"record":{"text":"arxiv.org/abs/2401',
        '{"did":"did:plc:x","time_us":1,"kind":"labels","labels":{"arxiv":true}}',
        commit_message(None),  # a create without its record
        commit_message({"text": "arXiv:2401.01234"}, rkey=7),
        commit_message({"text": "arXiv:2401.01234"}, collection="app.bsky.feed.like"),
        commit_message({"text": "arXiv:2401.01234"}, operation="compact"),
        commit_message({"subject": {"uri": f"at://did:plc:y/{FEED}/cats"}}, collection=REPOST),
        commit_message({"text": "arXiv:2401.01234", "facets": [{"index": None, "features": 3}]})
        .replace('"did:plc:x"', "17"),
    ],
)  # fmt: skip
def test_decode_skips_malformed_and_irrelevant_messages(raw: str) -> None:
    assert decode_message(raw) is None


def test_decode_survives_odd_facets_and_clamps_future_dates() -> None:
    record = {
        "text": "see arXiv:2401.01234",
        "createdAt": "2999-01-01T00:00:00Z",
        "facets": [{"index": {"byteStart": 90, "byteEnd": 2}, "features": [{"uri": 5}]}, "x"],
        "embed": {"$type": "app.bsky.embed.external", "external": None},
    }

    event = decode_message(commit_message(record))

    assert isinstance(event, PostEvent)
    assert event.refs == (ArxivRef("2401.01234", None),)
    assert event.posted_at == datetime.fromtimestamp(1747675000, UTC)


def test_prefilter_parses_nothing_for_ordinary_posts() -> None:
    ordinary = LINES[1]  # the osf.io post copied from the searchPosts cassette

    assert not might_matter(ordinary)
    assert decode_message(ordinary) is None
    assert might_matter(by_author("carol"))
    assert might_matter(by_author("judy"))
    assert message_time(ordinary) == 1747675002000000
    assert message_time("{}") is None


def test_subscribe_url_asks_for_posts_and_reposts_from_the_cursor() -> None:
    base = "wss://jetstream2.us-east.bsky.network"
    wanted = "wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost"

    assert subscribe_url(base, None) == f"{base}/subscribe?{wanted}"
    assert subscribe_url(f"{base}/subscribe/", 42) == f"{base}/subscribe?{wanted}&cursor=42"


def test_decode_replaces_lone_surrogates_no_database_would_store() -> None:
    raw = commit_message({"text": "\ud800 arXiv:2401.01234"})  # json.dumps writes a \ud800 escape

    event = decode_message(raw)

    assert isinstance(event, PostEvent)
    assert event.text == "? arXiv:2401.01234"
    assert event.refs == (ArxivRef("2401.01234", None),)


@pytest.mark.enable_socket
async def test_consumer_waits_a_random_part_of_the_backoff_but_never_less_than_the_first() -> None:
    port = closed_port()
    repo, stop, delays = MemoryRepo(), asyncio.Event(), []
    draws = iter([0.0, 0.0, 0.5, 0.5, 0.9])

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 5:
            stop.set()

    options = JetstreamOptions(
        backoff_initial=1, backoff_max=30, backoff_jitter=lambda: next(draws)
    )
    consumer = JetstreamConsumer(
        f"ws://127.0.0.1:{port}", repo, FixedClock(), repo.lookup, options, sleep=fake_sleep
    )
    await asyncio.wait_for(consumer.run(stop), 2)

    # Ceilings 1, 2, 4, 8, 16: a draw of 0 waits the first wait, not zero.
    assert delays == [1, 1, 2, 4, 14.4]
