from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from core.cards import CardOptions
from core.commands import build_commands
from core.metadata import MetadataService
from core.models import ChatRef, DailySeries, Mention, Paper, VoteSnapshot
from core.ports import SourceUnavailable
from core.ranking import RankingConfig
from core.registry import Registry, Request
from core.replies import Failure, Help, PaperCard, PaperList, Problem, Reply, Text
from tests.fakes import FixedClock, InMemoryPaperRepository

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
CHAT = ChatRef("console", "test")


class FakeArxiv:
    """Answers like the arXiv API from a dict; `down` makes it fail like a dead network."""

    def __init__(self, papers: Sequence[Paper] = (), *, down: bool = False) -> None:
        self.papers = {p.arxiv_id: p for p in papers}
        self.down = down
        self.asked: list[list[str]] = []
        self.retried: list[bool] = []  # whether each ask allowed retries

    async def fetch(self, arxiv_ids: Sequence[str], *, retry: bool = True) -> list[Paper]:
        self.asked.append(list(arxiv_ids))
        self.retried.append(retry)
        if self.down:
            raise SourceUnavailable("connection refused")
        return [self.papers[i] for i in arxiv_ids if i in self.papers]


ATTENTION = Paper(
    "1706.03762",
    title="Attention Is All You Need",
    authors=("Ashish Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit"),
    abstract="The dominant sequence transduction models are based on recurrent networks.",
    categories=("cs.CL", "cs.LG"),
    published=datetime(2017, 6, 12, tzinfo=UTC),
)
LLAMA = Paper(
    "2302.13971",
    title="LLaMA: Open and Efficient Foundation Language Models",
    authors=("Hugo Touvron",),
    abstract="We introduce LLaMA, a collection of foundation language models.",
    categories=("cs.CL",),
    published=datetime(2023, 2, 27, tzinfo=UTC),
)


def share(
    arxiv_id: str, author: str, hours_ago: float, source: str = "x", post: str = ""
) -> Mention:
    return Mention(
        source=source,
        post_id=post or f"{source}-{author}-{arxiv_id}-{hours_ago}",
        author=author,
        posted_at=NOW - timedelta(hours=hours_ago),
        kind="post",
        arxiv_id=arxiv_id,
        url=f"https://arxiv.org/abs/{arxiv_id}",
        text=f"read {arxiv_id}",
    )


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def repo(clock):
    return InMemoryPaperRepository(RankingConfig(), clock)


@pytest.fixture
def arxiv():
    return FakeArxiv([ATTENTION, LLAMA])


@pytest.fixture
def registry(repo, arxiv, clock) -> Registry:
    return build_commands(repo, MetadataService(repo, arxiv, clock), clock, RankingConfig())


async def ask(registry: Registry, line: str) -> Reply:
    name, *args = line.split()
    return await registry.dispatch(name.lstrip("/"), Request(CHAT, "u1", tuple(args)))


async def test_help_lists_every_command_with_an_example(registry):
    reply = await ask(registry, "/help")
    assert isinstance(reply, Help)
    assert {c.name for c in reply.commands} == {"start", "help", "top", "new", "paper", "search"}
    assert all(c.example.startswith("/" + c.name) for c in reply.commands)


async def test_help_explains_one_command_and_refuses_unknown_ones(registry):
    reply = await ask(registry, "/help top")
    assert isinstance(reply, Text)
    assert reply.lines[0].startswith("/top")
    assert isinstance(await ask(registry, "/help frobnicate"), Problem)


async def test_top_on_an_empty_store_says_how_to_get_shares(registry):
    reply = await ask(registry, "/top")
    assert isinstance(reply, PaperList)
    assert reply.papers == ()
    assert "import" in reply.empty_note


async def test_top_ranks_by_unique_sharers_and_shows_counts_per_source(registry, repo):
    await repo.add_mentions(
        [share("1706.03762", a, 1) for a in ("ann", "bob", "cy")]
        + [share("1706.03762", "dee", 2, source="bluesky")]
        + [share("2302.13971", "ann", 1), share("2302.13971", "ann", 3)]
    )
    reply = await ask(registry, "/top day")
    assert isinstance(reply, PaperList)
    assert [p.paper.arxiv_id for p in reply.papers] == ["1706.03762", "2302.13971"]
    first = reply.papers[0]
    assert first.rank == 1
    assert {(s.source, s.sharers) for s in first.sources} == {("x", 3), ("bluesky", 1)}
    assert reply.papers[1].sharers == 1  # one account posting twice counts once
    assert reply.heading == "Most shared today"


async def test_top_counts_votes_log_compressed_next_to_shares(registry, repo):
    await repo.add_mentions([share("1706.03762", a, 1) for a in ("ann", "bob")])
    await repo.add_snapshots([VoteSnapshot("hackernews", "hn1", "2302.13971", NOW, votes=7)])
    reply = await ask(registry, "/top day")
    assert isinstance(reply, PaperList)
    # log2(1 + 7) = 3 points beat two sharers.
    assert [p.paper.arxiv_id for p in reply.papers] == ["2302.13971", "1706.03762"]
    assert reply.papers[0].score == pytest.approx(3.0)


async def test_top_windows_leave_out_older_shares(registry, repo):
    await repo.add_mentions([share("1706.03762", "ann", 30), share("2302.13971", "bob", 2)])
    day = await ask(registry, "/top day")
    week = await ask(registry, "/top week")
    assert isinstance(day, PaperList)
    assert isinstance(week, PaperList)
    assert [p.paper.arxiv_id for p in day.papers] == ["2302.13971"]
    assert {p.paper.arxiv_id for p in week.papers} == {"1706.03762", "2302.13971"}


async def test_top_filters_by_category_and_words(registry, repo, arxiv):
    await repo.save_papers([ATTENTION, LLAMA])
    await repo.add_mentions([share("1706.03762", "ann", 1), share("2302.13971", "bob", 1)])
    by_category = await ask(registry, "/top 3 week cs.lg")
    assert isinstance(by_category, PaperList)
    assert {p.paper.arxiv_id for p in by_category.papers} == {"1706.03762"}
    assert by_category.heading == "Most shared this week in cs.LG"
    by_words = await ask(registry, "/top foundation models")
    assert isinstance(by_words, PaperList)
    assert [p.paper.arxiv_id for p in by_words.papers] == ["2302.13971"]


async def test_top_pages_continue_the_numbering(registry, repo):
    ids = [f"2401.{i:05d}" for i in range(1, 8)]
    await repo.add_mentions(
        [share(pid, f"user{j}", 1) for n, pid in enumerate(ids) for j in range(10 - n)]
    )
    first = await ask(registry, "/top 3 day")
    assert isinstance(first, PaperList)
    assert first.paging is not None
    assert first.paging.has_next
    assert not first.paging.has_previous
    second = await ask(registry, "/top " + " ".join(first.paging.args_for(2)))
    assert isinstance(second, PaperList)
    assert [p.rank for p in second.papers] == [4, 5, 6]
    assert [p.paper.arxiv_id for p in second.papers] == ids[3:6]
    last = await ask(registry, "/top 3 day page=3")
    assert isinstance(last, PaperList)
    assert last.paging is not None
    assert [p.paper.arxiv_id for p in last.papers] == ids[6:]
    assert not last.paging.has_next


@pytest.mark.parametrize("line", ["/top 0", "/top 26", "/top 5 7", "/top 5 day ???"])
async def test_top_refuses_bad_arguments_with_usage(registry, line):
    reply = await ask(registry, line)
    assert isinstance(reply, Problem)
    assert reply.usage is not None
    assert reply.usage.startswith("/top")


async def test_new_lists_shared_papers_newest_first(registry, repo):
    await repo.save_papers([ATTENTION, LLAMA])
    await repo.add_mentions([share("1706.03762", "ann", 1), share("2302.13971", "bob", 1)])
    await repo.add_mentions([share("2401.00001", "cy", 1)])  # no metadata yet
    reply = await ask(registry, "/new")
    assert isinstance(reply, PaperList)
    assert [p.paper.arxiv_id for p in reply.papers] == ["2302.13971", "1706.03762"]
    assert reply.paging is None


async def test_new_empty_store_mentions_papers_waiting_for_metadata(registry, repo):
    await repo.add_mentions([share("2401.00001", "cy", 1)])
    reply = await ask(registry, "/new")
    assert isinstance(reply, PaperList)
    assert "1 shared paper is waiting" in reply.empty_note


@pytest.mark.parametrize("line", ["/new 0", "/new two", "/new 1 2"])
async def test_new_refuses_bad_pages(registry, line):
    assert isinstance(await ask(registry, line), Problem)


@pytest.mark.parametrize(
    "ref",
    [
        "1706.03762",
        "arXiv:1706.03762v5",
        "https://arxiv.org/pdf/1706.03762v7.pdf",
        "<https://www.arxiv.org/abs/1706.03762>",
        "https://huggingface.co/papers/1706.03762",
        "arXiv:1706.03762 [cs.CL]",
        "arXiv:1706.03762v7 [cs.CL].",
        "/1706.03762v5",
        "https://ar5iv.labs.arxiv.org/html/1706.03762",
        "https://www.alphaxiv.org/pdf/1706.03762v7",
    ],
)
async def test_paper_card_from_any_reference(registry, repo, ref):
    await repo.add_mentions([share("1706.03762", "ann", 1), share("1706.03762", "bob", 30)])
    reply = await ask(registry, f"/paper {ref}")
    assert isinstance(reply, PaperCard)
    assert reply.paper.title == "Attention Is All You Need"
    assert reply.rank == 1
    assert len(reply.daily_shares) == 14
    assert reply.daily_shares[-1] == 1
    assert reply.daily_shares[-2] == 1
    assert [link.label for link in reply.links] == ["abs", "pdf", "html"]
    assert {p.author for p in reply.top_posts} == {"ann", "bob"}


async def test_paper_card_with_a_month_of_shares_per_network_when_asked(registry, repo):
    await repo.add_mentions(
        [
            share("1706.03762", "ann", 1),
            share("1706.03762", "bob", 1, source="bluesky"),
            share("1706.03762", "cy", 24 * 20, source="bluesky"),
            share("1706.03762", "dee", 24 * 40),  # older than the month
        ]
    )
    request = Request(CHAT, "u1", ("1706.03762",), typed=CardOptions(days=30, by_network=True))

    reply = await registry.dispatch("paper", request)

    assert isinstance(reply, PaperCard)
    assert reply.first_day == (NOW - timedelta(days=29)).date()
    assert len(reply.daily_shares) == 30
    assert reply.daily_by_network == (
        DailySeries("bluesky", (0,) * 9 + (1,) + (0,) * 19 + (1,)),
        DailySeries("x", (0,) * 29 + (1,)),
    )
    plain = await ask(registry, "/paper 1706.03762")
    assert isinstance(plain, PaperCard)
    assert (len(plain.daily_shares), plain.daily_by_network) == (14, ())


async def test_paper_unknown_but_valid_id_is_looked_up_on_arxiv(registry, arxiv):
    reply = await ask(registry, "/paper 2302.13971")
    assert isinstance(reply, PaperCard)
    assert reply.paper.title.startswith("LLaMA")
    assert reply.rank is None
    assert reply.sources == ()
    assert arxiv.asked == [["2302.13971"]]


async def test_paper_that_arxiv_does_not_know_is_a_problem(registry):
    reply = await ask(registry, "/paper 2401.99999")
    assert reply == Problem("arXiv has no paper 2401.99999.")


async def test_paper_with_arxiv_down_shows_what_is_stored(registry, repo, arxiv):
    arxiv.down = True
    await repo.add_mentions([share("2401.00001", "ann", 1)])
    card = await ask(registry, "/paper 2401.00001")
    assert isinstance(card, PaperCard)
    assert card.paper.title is None
    assert card.note is not None
    assert "arXiv could not be reached" in card.note
    unknown = await ask(registry, "/paper 2401.00002")
    assert isinstance(unknown, Problem)
    assert "could not be reached" in unknown.message


@pytest.mark.parametrize(
    "line",
    [
        "/paper",
        "/paper junk",
        "/paper https://example.com/paper.pdf",
        "/paper 1706.03762 1706.03763",
        "/paper 1713.03762",
        "/paper arXiv:1706.03762 [cs.CL] [cs.LG]",
        # A month after the clock's: the id cannot exist yet.
        "/paper 2612.00001",
    ],
)
async def test_paper_refuses_junk_with_usage(registry, arxiv, line):
    reply = await ask(registry, line)
    assert isinstance(reply, Problem)
    assert reply.usage == "/paper <arXiv id or link>"
    assert arxiv.asked == []  # junk never reaches arXiv


async def test_paper_abstract_action_gives_the_whole_abstract(registry):
    reply = await ask(registry, "/paper 1706.03762 abstract")
    assert reply == Text((ATTENTION.title, ATTENTION.abstract))
    cited = await ask(registry, "/paper arXiv:1706.03762 [cs.CL] abstract")
    assert cited == Text((ATTENTION.title, ATTENTION.abstract))


async def test_search_finds_words_in_title_or_abstract(registry, repo):
    await repo.save_papers([ATTENTION, LLAMA])
    await repo.add_mentions([share("1706.03762", "ann", 1), share("2302.13971", "bob", 1)])
    reply = await ask(registry, "/search recurrent")
    assert isinstance(reply, PaperList)
    assert [p.paper.arxiv_id for p in reply.papers] == ["1706.03762"]
    assert isinstance(await ask(registry, "/search"), Problem)


async def test_unknown_command_is_a_problem(registry):
    assert await ask(registry, "/frobnicate") == Problem("Unknown command /frobnicate. Try /help.")


async def test_a_failing_store_gives_an_apology_not_a_traceback(registry, repo):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    repo.top = broken
    reply = await ask(registry, "/top")
    assert reply == Failure("Sorry, /top failed on our side. Please try again later.")


async def test_top_takes_at_most_as_many_words_as_search(registry):
    many = " ".join(f"word{i}" for i in range(1000))
    top = await ask(registry, f"/top {many}")
    search = await ask(registry, f"/search {many}")
    assert top == Problem("Use at most 8 words.", "/top [n] [day|week|month|all] [category|words]")
    assert search == Problem("Use at most 8 words.", "/search <words>")


async def test_a_store_outage_is_one_log_line_and_a_bug_keeps_its_traceback(registry, repo, caplog):
    async def unreachable(*_args, **_kwargs):
        raise ConnectionRefusedError(111, "Connect call failed")

    async def buggy(*_args, **_kwargs):
        raise KeyError("score")

    repo.top = unreachable
    assert isinstance(await ask(registry, "/top"), Failure)
    repo.top = buggy
    assert isinstance(await ask(registry, "/top"), Failure)
    outage, bug = [r for r in caplog.records if r.name == "core.registry"]
    assert outage.getMessage() == (
        "command /top failed: ConnectionRefusedError: [Errno 111] Connect call failed;"
        " the user was told to try again"
    )
    assert outage.exc_info is None
    assert bug.getMessage() == "command /top failed"
    assert bug.exc_info is not None


async def test_top_reads_a_quoted_phrase_as_one_word(registry, repo):
    await repo.save_papers([ATTENTION, LLAMA])
    await repo.add_mentions([share("1706.03762", "ann", 1), share("2302.13971", "bob", 1)])
    phrase = await registry.dispatch_text("top", '"language models"', Request(CHAT, "u1"))
    words = await registry.dispatch_text("top", "models language", Request(CHAT, "u1"))
    assert isinstance(phrase, PaperList)
    assert phrase.heading == "Trending now about “language models”"
    assert [p.paper.arxiv_id for p in phrase.papers] == ["2302.13971"]
    assert isinstance(words, PaperList)
    assert [p.paper.arxiv_id for p in words.papers] == ["2302.13971"]


async def test_an_overlong_line_is_answered_without_running_the_command(registry, repo):
    async def broken(*_args, **_kwargs):
        raise AssertionError("the store must not be asked")

    repo.top = broken
    reply = await registry.dispatch_text("top", "x" * 1_000_000, Request(CHAT, "u1"))
    assert reply == Problem("That is too long for a command: keep it under 4,096 characters.")


async def test_a_page_past_the_end_says_how_many_pages_there_are(registry, repo):
    ids = [f"2401.{i:05d}" for i in range(1, 8)]
    await repo.add_mentions([share(pid, "ann", 1) for pid in ids])
    assert await ask(registry, "/top 3 page=4") == Problem("There is no page 4: there are 3 pages.")
    assert await ask(registry, "/top 5 day page=999999") == Problem(
        "There is no page 999,999: there are 2 pages."
    )
    assert await ask(registry, "/top 5 day page=999999999") == Problem(
        "There is no page 999,999,999: there are 2 pages."
    )
    assert await ask(registry, "/top week cs.LG page=2") == Problem(
        "There is no page 2: there is 1 page."
    )


async def test_new_past_the_end_says_how_many_pages_there_are(registry, repo):
    await repo.save_papers([ATTENTION, LLAMA])
    await repo.add_mentions([share("1706.03762", "ann", 1), share("2302.13971", "bob", 1)])
    assert await ask(registry, "/new 999999") == Problem(
        "There is no page 999,999: there is 1 page."
    )
    assert await ask(registry, "/new page=2") == Problem("There is no page 2: there is 1 page.")


async def test_lists_page_no_deeper_than_the_first_two_hundred_papers(registry, repo):
    ids = [f"2401.{i:05d}" for i in range(1, 203)]
    await repo.add_mentions([share(pid, "ann", 1) for pid in ids])
    last = await ask(registry, "/top 25 day page=8")
    assert isinstance(last, PaperList)
    assert [p.rank for p in last.papers] == list(range(176, 201))
    assert last.paging is not None
    assert not last.paging.has_next
    assert await ask(registry, "/top 25 day page=9") == Problem(
        "There is no page 9: there are 8 pages."
    )
