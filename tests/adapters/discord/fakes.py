"""Realistic replies and a small registry standing in for core/commands.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from core.arguments import NewArgs, TopArgs
from core.errors import InvalidArguments
from core.models import Paper, SourceCounts
from core.registry import Command, Handler, Registry, Request
from core.replies import (
    CommandHelp,
    Help,
    Link,
    Paging,
    PaperCard,
    PaperList,
    Post,
    RankedPaper,
    Reply,
    ScorePart,
    Text,
)

NAMES = (
    "start",
    "help",
    "top",
    "new",
    "paper",
    "search",
    "subscribe",
    "unsubscribe",
    "settings",
    "digest",
)
USAGES = {
    "start": "/start",
    "help": "/help",
    "top": "/top [n] [day|week|month|all] [category|words]",
    "new": "/new [page]",
    "paper": "/paper <id or link>",
    "search": "/search <words>",
    "subscribe": "/subscribe [HH:MM] [timezone] [n] [categories or words]",
    "unsubscribe": "/unsubscribe",
    "settings": "/settings",
    "digest": "/digest [date]",
}
ADMIN = frozenset({"subscribe", "unsubscribe"})


def links(arxiv_id: str) -> tuple[Link, ...]:
    return (
        Link("abs", f"https://arxiv.org/abs/{arxiv_id}"),
        Link("pdf", f"https://arxiv.org/pdf/{arxiv_id}"),
        Link("html", f"https://arxiv.org/html/{arxiv_id}"),
    )


def paper(i: int, **overrides: object) -> Paper:
    values: dict[str, object] = {
        "arxiv_id": f"2401.{i:05d}",
        "title": f"Scaling laws for test paper number {i}",
        "authors": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        "abstract": "We study things. " * 20,
        "categories": ("cs.LG", "stat.ML"),
        "published": datetime(2024, 1, 2, tzinfo=UTC),
        "version": 2,
    }
    values.update(overrides)
    return Paper(**values)  # type: ignore[arg-type]


SOURCES = (
    SourceCounts("x", sharers=9, score=9.0),
    SourceCounts("bluesky", sharers=3, score=3.0),
    SourceCounts("hackernews", votes=210, score=7.7),
)


def ranked(i: int, p: Paper | None = None) -> RankedPaper:
    p = p or paper(i)
    return RankedPaper(
        rank=i, paper=p, score=20.0 - i / 10, sources=SOURCES, links=links(p.arxiv_id)
    )


def paper_list(n: int = 5, *, page: int | None = None, papers: tuple[Paper, ...] = ()) -> PaperList:
    items = tuple(ranked(i + 1, p) for i, p in enumerate(papers)) or tuple(
        ranked(i) for i in range(1, n + 1)
    )
    paging = Paging("top", ("5",), page, has_next=page < 3) if page is not None else None
    return PaperList(
        heading="Trending now", papers=items, paging=paging, footer="Sources: x, bluesky, hn"
    )


def card(p: Paper | None = None, **overrides: object) -> PaperCard:
    p = p or paper(1)
    values: dict[str, object] = {
        "paper": p,
        "sources": SOURCES,
        "daily_shares": (0, 1, 3, 8, 2, 0, 0, 1, 0, 0, 4, 9, 2, 1),
        "first_day": date(2024, 1, 1),
        "rank": 3,
        "score": 19.7,
        "score_parts": (ScorePart("x", 9, 1.0, 9.0), ScorePart("hackernews", 210, 1.0, 7.7)),
        "top_posts": (
            Post(
                "x",
                "@karpathy",
                datetime(2024, 1, 3, tzinfo=UTC),
                "https://x.com/karpathy/status/1",
                "Great paper",
            ),
            Post("bluesky", "someone.bsky.social", datetime(2024, 1, 3, tzinfo=UTC), None, None),
        ),
        "links": links(p.arxiv_id),
    }
    values.update(overrides)
    return PaperCard(**values)  # type: ignore[arg-type]


def help_reply() -> Help:
    return Help(
        intro="I tell you which arXiv papers people share right now.",
        commands=tuple(
            CommandHelp(n, USAGES[n], f"What /{n} does.", USAGES[n].split(" [")[0]) for n in NAMES
        ),
    )


def _page(args: tuple[str, ...]) -> tuple[tuple[str, ...], int]:
    rest = tuple(a for a in args if not a.startswith("page="))
    pages = [int(a.removeprefix("page=")) for a in args if a.startswith("page=")]
    return rest, pages[-1] if pages else 1


@dataclass
class FakeCore:
    """The handlers, recording each request; `slow` delays every reply by that many seconds."""

    requests: list[tuple[str, Request]] = field(default_factory=list)
    slow: float = 0.0

    async def handle(self, name: str, req: Request) -> Reply:
        self.requests.append((name, req))
        if self.slow:
            await asyncio.sleep(self.slow)
        match name:
            case "help" | "start":
                return help_reply()
            case "top" | "new":
                rest, page = _page(req.args)
                if isinstance(req.typed, TopArgs):
                    rest, page = req.typed.as_typed(), req.typed.page
                elif isinstance(req.typed, NewArgs):
                    rest, page = (), req.typed.page
                items = paper_list(5).papers
                return PaperList(
                    f"Top, page {page}", items, paging=Paging(name, rest, page, has_next=page < 3)
                )
            case "paper":
                if not req.args:
                    raise InvalidArguments("Which paper? Give an arXiv id or link.")
                if req.args[-1] == "abstract":
                    return Text((paper(1).abstract or "",))
                return card()
            case "search":
                return paper_list(3)
            case "digest":
                raise RuntimeError("database is on fire")
        return Text((f"/{name} done for {req.chat.chat_id}",))

    def handler(self, name: str) -> Handler:
        async def run(req: Request) -> Reply:
            return await self.handle(name, req)

        return run

    def registry(self, names: tuple[str, ...] = NAMES) -> Registry:
        return Registry(
            Command(
                n,
                USAGES.get(n, f"/{n}"),
                f"What /{n} does.",
                f"/{n}",
                self.handler(n),
                admin_only=n in ADMIN,
            )
            for n in names
        )
