import io
from dataclasses import replace
from datetime import date

from adapters.console.chat import answer_line, run_chat
from adapters.console.render import render_reply
from core.models import Paper, SourceCounts
from core.registry import Command, Registry
from core.replies import Help, Link, Paging, PaperCard, PaperList, Problem, RankedPaper, Text


async def echo(req):
    return Text(("echo " + " ".join(req.args),))


REGISTRY = Registry([Command("echo", "/echo [words]", "Echo", "/echo hi", echo)])


async def test_run_chat_answers_each_line_until_quit():
    stdin = io.StringIO("/echo a b\n\nhello\n/nope\n/quit\n/echo never\n")
    stdout = io.StringIO()
    await run_chat(REGISTRY, stdin, stdout, prompt=False)
    assert stdout.getvalue().splitlines() == [
        "echo a b",
        "Commands start with a slash. Try /help, /top or /quit.",
        "Unknown command /nope. Try /help.",
    ]


async def test_run_chat_ends_at_end_of_input():
    stdout = io.StringIO()
    await run_chat(REGISTRY, io.StringIO("/echo x"), stdout, prompt=False)
    assert stdout.getvalue() == "echo x\n"


async def test_answer_line_strips_a_bot_name_like_telegram_groups_do():
    assert await answer_line(REGISTRY, "/echo@TrendingArxivBot hi") == "echo hi"


def test_render_list_shows_counts_authors_and_paging_hint():
    paper = Paper(
        "1706.03762", title="Attention", authors=("A", "B", "C", "D"), categories=("cs.CL",)
    )
    item = RankedPaper(
        1,
        paper,
        12.0,
        (
            SourceCounts("x", sharers=9),
            SourceCounts("bluesky", sharers=3),
            SourceCounts("hackernews", votes=210),
        ),
        (Link("abs", "https://arxiv.org/abs/1706.03762"),),
    )
    text = render_reply(PaperList("Trending now", (item,), paging=Paging("top", ("5",), 1, True)))
    assert " 1. Attention — 12 shares (X 9, Bluesky 3) · HN 210 pts" in text
    assert "A, B, C et al." in text
    assert text.endswith("Page 1. /top 5 page=2")


def test_render_list_keeps_each_paper_on_its_lines_despite_arxiv_line_breaks():
    paper = Paper(
        "2401.00001", title="Scaling\n  laws for\ttransformers", authors=("Ada\n Lovelace",)
    )
    item = RankedPaper(1, paper, 1.0, (SourceCounts("x", sharers=1),), ())
    text = render_reply(PaperList("Top", (item,)))
    assert text.splitlines() == [
        "Top",
        " 1. Scaling laws for transformers — 1 share (X 1)",
        "    Ada Lovelace",
    ]


def test_render_card_names_the_days_its_sparkline_covers():
    paper = Paper("2401.00001", title="T")
    card = PaperCard(
        paper, (), (0, 2, 4), date(2024, 1, 1), None, 0.0, (), (), (Link("abs", "https://a/b"),)
    )
    assert "Last 3 days: ▁▄█  (from 2024-01-01)" in render_reply(card).splitlines()
    assert "Last " not in render_reply(replace(card, daily_shares=()))


def test_render_problem_and_help():
    assert render_reply(Problem("Bad.", usage="/top [n]")) == "Bad.\nUsage: /top [n]"
    assert render_reply(Help("Intro", ())) == "Intro\n"


async def test_a_phrase_in_quotes_stays_one_word_in_the_chat_and_its_page_hint():
    async def words(req):
        return PaperList(" | ".join(req.args), (), paging=Paging("words", req.args, 1, True))

    registry = Registry([Command("words", "/words", "Words", "/words", words)])
    answer = await answer_line(registry, '/words "graph neural" nets')
    assert answer is not None
    assert answer.splitlines()[0] == "graph neural | nets"
    assert answer.endswith('Page 1. /words "graph neural" nets page=2')


async def test_an_overlong_line_is_answered_at_once():
    answer = await answer_line(REGISTRY, "/echo " + "x" * 1_000_000)
    assert answer == "That is too long for a command: keep it under 4,096 characters."
