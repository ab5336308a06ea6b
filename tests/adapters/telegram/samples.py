"""Realistic replies and a small command registry standing in for core/commands.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from core.errors import InvalidArguments
from core.models import Paper, SourceCounts
from core.registry import Command, Registry, Request
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

PAGE_SIZE = 5
ABSTRACT = (
    "We study how papers spread across networks. "
    "Our model predicts shares from the first hour of posts, & it beats <baselines>. " * 12
).strip()


def links_for(arxiv_id: str) -> tuple[Link, ...]:
    return (
        Link("abs", f"https://arxiv.org/abs/{arxiv_id}"),
        Link("pdf", f"https://arxiv.org/pdf/{arxiv_id}"),
        Link("html", f"https://arxiv.org/html/{arxiv_id}"),
    )


def make_paper(n: int, **changes: Any) -> Paper:
    fields: dict[str, Any] = {
        "arxiv_id": f"2401.{n:05d}",
        "title": f"Paper number {n}: scaling <laws> & friends",
        "authors": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra")[: 1 + n % 4],
        "abstract": ABSTRACT,
        "categories": ("cs.LG", "stat.ML"),
        "published": datetime(2024, 1, 2, tzinfo=UTC),
        "updated": datetime(2024, 1, 2, tzinfo=UTC),
        "version": 1,
    }
    fields.update(changes)
    return Paper(**fields)


def counts(x: int = 9, bluesky: int = 3, hn: int = 210) -> tuple[SourceCounts, ...]:
    return (
        SourceCounts("x", sharers=x, score=float(x)),
        SourceCounts("bluesky", sharers=bluesky, score=float(bluesky)),
        SourceCounts("hackernews", votes=hn, score=7.7),
    )


def ranked(rank: int, paper: Paper | None = None) -> RankedPaper:
    paper = paper or make_paper(rank)
    return RankedPaper(
        rank, paper, 20.0 - rank, counts(x=10 - rank % 10), links_for(paper.arxiv_id)
    )


def paper_list(
    n: int = 3, *, heading: str = "Trending papers", paging: Paging | None = None
) -> PaperList:
    return PaperList(
        heading, tuple(ranked(i) for i in range(1, n + 1)), paging=paging, footer="Counts: 24 h"
    )


def card(paper: Paper | None = None, *, posts: int = 2) -> PaperCard:
    paper = paper or make_paper(1)
    return PaperCard(
        paper=paper,
        sources=counts(),
        daily_shares=(0, 1, 3, 9, 2, 0, 0, 0, 1, 2, 5, 1, 0, 3),
        first_day=date(2024, 1, 1),
        rank=3,
        score=19.7,
        score_parts=(ScorePart("x", 9, 1.0, 9.0), ScorePart("hackernews", 210, 1.0, 7.7)),
        top_posts=tuple(
            Post(
                "x",
                f"@poster{i}",
                datetime(2024, 1, 3, tzinfo=UTC),
                f"https://x.com/p/status/{i}",
                "This <paper> & its code are great",
            )
            for i in range(posts)
        ),
        links=links_for(paper.arxiv_id),
    )


# ---------------------------------------------------------------- a registry like core's

_ID = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")


def _page(args: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    pages = [a for a in args if a.startswith("page=")]
    rest = tuple(a for a in args if not a.startswith("page="))
    return (int(pages[-1].removeprefix("page=")) if pages else 1), rest


async def _top(req: Request) -> Reply:
    page, args = _page(req.args)
    n = int(args[0]) if args and args[0].isdigit() else PAGE_SIZE
    window = next((a for a in args if a in ("day", "week", "month")), "trending")
    words = [a for a in args[1 if args and args[0].isdigit() else 0 :] if a != window]
    heading = f"Top {n} papers — {window}" + (f" · {' '.join(words)}" if words else "")
    first = (page - 1) * n + 1
    papers = tuple(ranked(i) for i in range(first, first + n))
    return PaperList(heading, papers, paging=Paging("top", args, page, has_next=page < 3))


async def _new(req: Request) -> Reply:
    page, _ = _page(req.args)
    first = (page - 1) * PAGE_SIZE + 1
    papers = tuple(ranked(i) for i in range(first, first + PAGE_SIZE))
    heading = f"New papers people shared — page {page}"
    return PaperList(heading, papers, paging=Paging("new", (), page, has_next=True))


async def _paper(req: Request) -> Reply:
    match = _ID.search(req.args[0]) if req.args else None
    if match is None:
        raise InvalidArguments("Give an arXiv id or link, like 2401.01234.")
    paper = make_paper(1, arxiv_id=match.group(1))
    if req.args[1:] == ("abstract",):
        return Text((paper.title or paper.arxiv_id, paper.abstract or ""))
    return card(paper)


async def _search(req: Request) -> Reply:
    if not req.args:
        raise InvalidArguments("Say what to search for.")
    words = " + ".join(req.args)  # shows how the words were split
    return PaperList(f"Papers matching “{words}”", (ranked(1), ranked(2)), empty_note="None.")


async def _subscribe(req: Request) -> Reply:
    return Text(("Subscribed this chat to a daily digest at 09:00 UTC.",))


async def _boom(req: Request) -> Reply:
    return object()  # type: ignore[return-value]  # not a Reply: rendering it fails


def build_registry() -> Registry:
    commands: list[Command] = []

    async def _help(req: Request) -> Reply:
        return Help(
            "I tell you which arXiv papers people share right now.",
            tuple(CommandHelp(c.name, c.usage, c.summary, c.example) for c in commands),
        )

    commands.extend(
        [
            Command("start", "/start", "What this bot does", "/start", _help),
            Command("help", "/help", "Every command with an example", "/help", _help),
            Command(
                "top", "/top [n] [day|week|month] [words]", "Most shared papers", "/top 5", _top
            ),
            Command("new", "/new [page]", "New papers people shared", "/new", _new),
            Command(
                "paper", "/paper <id or link>", "One paper's card", "/paper 2401.01234", _paper
            ),
            Command(
                "search", "/search <words>", "Tracked papers matching words", "/search rl", _search
            ),
            Command(
                "subscribe",
                "/subscribe [HH:MM]",
                "Daily digest here",
                "/subscribe 09:00",
                _subscribe,
                admin_only=True,
            ),
            Command(
                "boom", "/boom", "Fails while rendering (tests the error path)", "/boom", _boom
            ),
        ]
    )
    return Registry(commands)
