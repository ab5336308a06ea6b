"""A small store for the web tests: thirty described papers, shares on three networks over a
month, Hacker News votes with a discussion, an old-style id and a title that is hostile markup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import Mention, Paper, VoteSnapshot
from core.ports import PaperRepository
from tests.conftest import START

HOSTILE = "<script>window.pwned = 1</script><b>Bold</b> & friends"
HOSTILE_ID = "2611.09999"
OLD_ID = "hep-th/9901001"
TOP_ID = "2611.00100"  # most shared of all time: 40 sharers on three networks, HN votes
NETWORKS = ("x", "bluesky", "mastodon")
LISTED = 30  # papers with shares: two pages of 25 on `/`
LONG_ABSTRACT = " ".join(["Transformers attend to everything they are given."] * 12)


def paper_ids() -> list[str]:
    """TOP_ID, then 27 more with fewer sharers each, the old-style id and the hostile title."""
    return [TOP_ID, *(f"2611.{101 + i:05d}" for i in range(LISTED - 3)), OLD_ID, HOSTILE_ID]


def _paper(arxiv_id: str, n: int) -> Paper:
    title = HOSTILE if arxiv_id == HOSTILE_ID else f"Paper number {n} on diffusion"
    if arxiv_id == TOP_ID:
        title = "Attention Is Still All You Need"
    published = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=n)
    if arxiv_id == OLD_ID:
        published = datetime(1999, 1, 4, tzinfo=UTC)
    return Paper(
        arxiv_id,
        title=title,
        authors=(f"Author {n}", "Grace Hopper", "Ada Lovelace", "Alan Turing"),
        abstract=LONG_ABSTRACT if arxiv_id == TOP_ID else f"We study diffusion {n}.",
        categories=("hep-th",) if arxiv_id == OLD_ID else ("cs.LG", "stat.ML"),
        published=published,
        updated=published,
        version=1,
    )


def _shares(arxiv_id: str, n: int) -> list[Mention]:
    """Fewer sharers for later papers; TOP_ID's spread over 20 days and three networks."""
    count = 40 if arxiv_id == TOP_ID else max(1, LISTED - n)
    shares = []
    for i in range(count):
        source = NETWORKS[i % 3]
        # TOP_ID's shares grow towards today over 20 days, as a paper catching on does.
        days = round(19 * (1 - i / count) ** 2) if arxiv_id == TOP_ID else 0
        shares.append(
            Mention(
                source=source,
                post_id=f"{arxiv_id}-{i}",
                author=f"{source}-user-{i}",
                posted_at=START - timedelta(days=days, minutes=n + 1),
                kind="post",
                arxiv_id=arxiv_id,
                url=f"https://{source}.example/{arxiv_id}/{i}",
                text=f"Read arXiv:{arxiv_id} <img src=x onerror=alert(1)>",
                engagement=count - i,
            )
        )
    return shares


async def seed(repo: PaperRepository) -> None:
    """Fill `repo` with the papers, their shares and a Hacker News story about TOP_ID."""
    ids = paper_ids()
    await repo.save_papers([_paper(arxiv_id, n) for n, arxiv_id in enumerate(ids)])
    await repo.add_mentions([m for n, arxiv_id in enumerate(ids) for m in _shares(arxiv_id, n)])
    story = "https://news.example/item?id=1"
    await repo.add_snapshots(
        [
            VoteSnapshot("hackernews", "1", TOP_ID, START - timedelta(hours=5), 10, 2, story, "t"),
            VoteSnapshot(
                "hackernews", "1", TOP_ID, START - timedelta(hours=1), 120, 30, story, "t"
            ),
        ]
    )
