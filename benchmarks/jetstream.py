"""Jetstream benchmark: how many firehose events a second the consumer filters on one core.

    python benchmarks/jetstream.py                   # 200,000 events
    python benchmarks/jetstream.py --events 50000 --websocket

The stream is seeded and shaped like Jetstream's posts and reposts collections: mostly ordinary
posts (some with mentions, tags, links, images, link cards, quotes and replies, some non-ASCII),
about a third reposts, a few deletes and identity/account events, and about 0.5% posts that link
a paper through a link facet, a link card or the text. Reposts and quotes mostly concern posts
that share nothing; some concern the papers' posts.

Three figures:
  decode     `decode_message` and `message_time` on every raw message (the pure filter);
  consumer   `JetstreamConsumer.add_message` plus a commit every 500 events into an in-memory
             store, with a lookup for reposts of posts not in memory (what the live loop does
             between receives);
  websocket  (--websocket) the whole consumer reading a loopback server that runs in another
             process, until the last event's cursor is committed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.sources.bluesky_record import POST, REPOST
from adapters.sources.jetstream import PostEvent, decode_message, message_time
from adapters.sources.jetstream_consumer import JetstreamConsumer
from core.models import ImportReport, SourceHealth
from core.ports import Batch

T0 = 1_747_675_000_000_000
WORDS = (  # noqa: SIM905 (a sentence reads better than a 56-line list)
    "the a of and to in is for on with that this my so just it be at not you are was have we "
    "today love new great day time people think good going really know one like what all "
    "café über naïve 今日は 良い 天気 ですね 🎉 🔥 😂 ❤️ 🧵 Привет мир bom dia"
).split()
LINKS = (
    "https://www.nytimes.com/2025/05/19/us/politics/story.html",
    "https://youtu.be/dQw4w9WgXcQ",
    "https://github.com/bluesky-social/jetstream",
)
PAPER_LINKS = (
    "https://arxiv.org/abs/{}",
    "https://arxiv.org/pdf/{}v2",
    "https://www.alphaxiv.org/abs/{}",
    "https://huggingface.co/papers/{}",
    "https://doi.org/10.48550/arXiv.{}",
)
CID = "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"
IMAGE = {
    "alt": "",
    "aspectRatio": {"height": 1258, "width": 988},
    "image": {"$type": "blob", "ref": {"$link": CID}, "mimeType": "image/jpeg", "size": 162835},
}


def card(uri: str, title: str, description: str) -> dict[str, object]:
    external = {"description": description, "title": title, "uri": uri}
    return {"$type": "app.bsky.embed.external", "external": external}


class Stream:
    """A seeded generator of raw Jetstream messages."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.time_us = T0
        self.posts: list[str] = []  # recent post URIs, for reposts, quotes and replies
        self.paper_posts: list[str] = []
        self.papers = 0

    def did(self) -> str:
        return f"did:plc:{self.rng.getrandbits(120):030x}"[:32]

    def rkey(self) -> str:
        return f"3l{self.rng.getrandbits(52):011x}"[:13]

    def text(self, words: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=words))

    def subject(self, paper_share: float) -> str:
        papers = self.paper_posts and self.rng.random() < paper_share
        return self.rng.choice(self.paper_posts if papers else self.posts)

    def link(self, record: dict[str, object], uri: str) -> None:
        shown = uri.removeprefix("https://")
        shown = shown if len(shown) < 30 else shown[:27] + "..."  # the app shortens links
        before = f"{record['text']} "
        record["text"] = before + shown
        index = {"byteEnd": len(str(record["text"]).encode()), "byteStart": len(before.encode())}
        feature = {"$type": "app.bsky.richtext.facet#link", "uri": uri}
        record["facets"] = [{"features": [feature], "index": index}]

    def paper(self, record: dict[str, object]) -> None:
        rng = self.rng
        self.papers += 1
        paper = f"{rng.randint(23, 25)}{rng.randint(1, 12):02d}.{rng.randint(1, 99999):05d}"
        how = rng.random()
        if how < 0.6:
            self.link(record, rng.choice(PAPER_LINKS).format(paper))
        elif how < 0.85:
            record["embed"] = card(f"https://arxiv.org/abs/{paper}", "A paper", "")
        else:
            record["text"] = f"{record['text']} arXiv:{paper}"

    def post_record(self) -> dict[str, object]:
        rng = self.rng
        text = self.text(rng.randint(3, 45))
        record: dict[str, object] = {"$type": POST, "createdAt": "", "langs": ["en"], "text": text}
        roll = rng.random()
        if roll < 0.005:
            self.paper(record)
        elif roll < 0.15:
            self.link(record, rng.choice(LINKS))
            record["embed"] = card(LINKS[0], self.text(5), self.text(12))
        elif roll < 0.25:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [IMAGE]}
        elif roll < 0.30 and self.posts:
            quoted = {"cid": CID, "uri": self.subject(0.05)}
            record["embed"] = {"$type": "app.bsky.embed.record", "record": quoted}
        elif roll < 0.45 and self.posts:
            parent = {"cid": CID, "uri": rng.choice(self.posts)}
            record["reply"] = {"parent": parent, "root": parent}
        return record

    def commit(self, did: str, rkey: str, roll: float) -> dict[str, object]:
        if roll < 0.10 and self.posts:
            collection = self.rng.choice((POST, REPOST))
            return {"rev": rkey, "operation": "delete", "collection": collection, "rkey": rkey}
        if roll < 0.40 and self.posts:
            subject = {"cid": CID, "uri": self.subject(0.02)}
            record: dict[str, object] = {
                "$type": REPOST,
                "createdAt": "2025-05-19T17:16:41.000Z",
                "subject": subject,
            }
            collection = REPOST
        else:
            papers = self.papers
            record = self.post_record()
            record["createdAt"] = datetime.fromtimestamp(self.time_us / 1e6, UTC).isoformat()
            uri = f"at://{did}/{POST}/{rkey}"
            (self.paper_posts if self.papers > papers else self.posts).append(uri)
            del self.posts[:-5000]
            collection = POST
        return {"rev": rkey, "operation": "create", "collection": collection, "rkey": rkey,
                "record": record, "cid": CID}  # fmt: skip

    def message(self) -> str:
        self.time_us += self.rng.randint(50, 1500)
        did, rkey, roll = self.did(), self.rkey(), self.rng.random()
        envelope: dict[str, object] = {"did": did, "time_us": self.time_us}
        if roll < 0.02:
            kind = self.rng.choice(("identity", "account"))
            envelope |= {"kind": kind, kind: {"did": did, "seq": self.time_us // 1000}}
        else:
            envelope |= {"kind": "commit", "commit": self.commit(did, rkey, roll)}
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


def generate(count: int, seed: int) -> tuple[list[str], int]:
    stream = Stream(seed)
    messages = [stream.message() for _ in range(count)]
    return messages, stream.papers


class MemoryStore:
    def __init__(self, last: int = 0) -> None:
        self.shares: dict[str, set[str]] = {}
        self.cursor: str | None = None
        self.last = str(last)
        self.caught_up = asyncio.Event()

    async def get_cursor(self, source: str) -> str | None:
        return self.cursor

    async def commit_batch(self, source: str, batch: Batch) -> ImportReport:
        new = 0
        for m in batch.mentions:
            papers = self.shares.setdefault(m.post_id, set())
            new += m.arxiv_id not in papers
            papers.add(m.arxiv_id)
        for _, post_id in batch.removed:
            self.shares.pop(post_id, None)
        self.cursor = batch.cursor
        if self.cursor == self.last:
            self.caught_up.set()
        return ImportReport(mentions=new)

    async def record_health(self, health: SourceHealth) -> None:
        pass

    async def health(self) -> list[SourceHealth]:
        return []

    async def lookup(self, post_uri: str) -> list[str]:
        return sorted(self.shares.get(post_uri, ()))


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def bench_decode(messages: list[str]) -> tuple[float, int, int]:
    start, kept, papers = time.process_time(), 0, 0
    for raw in messages:
        event = decode_message(raw)
        if event is not None:
            kept += 1
            papers += isinstance(event, PostEvent) and bool(event.refs)
    return time.process_time() - start, kept, papers


async def bench_consumer(messages: list[str]) -> tuple[float, MemoryStore]:
    store = MemoryStore()
    consumer = JetstreamConsumer("ws://unused", store, Clock(), store.lookup)
    start = time.process_time()
    for i, raw in enumerate(messages, 1):
        consumer.add_message(raw)
        if i % 500 == 0:
            await consumer._flush()  # what the read loop does after each batch
    await consumer._flush()
    return time.process_time() - start, store


def text_frame(payload: bytes) -> bytes:
    """Encode one unmasked, unfragmented text frame (RFC 6455 section 5.2)."""
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 1 << 16:
        return bytes((0x81, 126)) + size.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + size.to_bytes(8, "big") + payload


def serve(port: int, count: int, seed: int, ready: multiprocessing.synchronize.Event) -> None:
    from websockets.asyncio.server import ServerConnection
    from websockets.asyncio.server import serve as ws_serve

    messages, _ = generate(count, seed)
    # websockets' send() costs more per message than the consumer does, so the server writes
    # pre-encoded frames straight to the socket, or it would be what the benchmark measures.
    frames = [text_frame(m.encode()) for m in messages]

    async def handler(ws: ServerConnection) -> None:
        for start in range(0, len(frames), 1000):
            ws.transport.write(b"".join(frames[start : start + 1000]))
            await asyncio.sleep(0)
        await ws.wait_closed()

    async def main() -> None:
        async with ws_serve(handler, "127.0.0.1", port, compression=None, write_limit=1 << 24):
            ready.set()
            await asyncio.Future()

    asyncio.run(main())


async def bench_websocket(count: int, seed: int, last: int) -> tuple[float, float]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port, count, seed, ready), daemon=True)
    server.start()
    try:
        ready.wait(60)
        store, stop = MemoryStore(last), asyncio.Event()
        consumer = JetstreamConsumer(f"ws://127.0.0.1:{port}", store, Clock(), store.lookup)
        start, cpu = time.perf_counter(), time.process_time()
        task = asyncio.create_task(consumer.run(stop))
        await store.caught_up.wait()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        stop.set()
        await task
        return elapsed, cpu
    finally:
        server.terminate()
        server.join()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--websocket", action="store_true", help="also read a loopback server")
    args = parser.parse_args()

    messages, papers = generate(args.events, args.seed)
    n = len(messages)
    size = sum(len(m) for m in messages) / n
    print(f"{n:,} messages, {size:.0f} chars on average, {papers} posts linking a paper")
    seconds, kept, found = bench_decode(messages)
    print(f"decode     {n / seconds:>9,.0f} events/s  ({kept:,} parsed; {found} paper posts found)")
    seconds, store = asyncio.run(bench_consumer(messages))
    shares = sum(map(len, store.shares.values()))
    print(f"consumer   {n / seconds:>9,.0f} events/s  ({shares:,} shares stored)")
    if args.websocket:
        last = max(t for m in messages if (t := message_time(m)) is not None)
        wall, cpu = asyncio.run(bench_websocket(args.events, args.seed, last))
        print(f"websocket  {n / cpu:>9,.0f} events/s  of the consumer process's CPU time")
        print(
            f"           {n / wall:>9,.0f} events/s  by the wall clock (server in another process)"
        )


if __name__ == "__main__":
    main()
