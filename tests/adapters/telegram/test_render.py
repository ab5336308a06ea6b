"""Golden and property tests for render_reply: escaping, chunking, keyboards, previews."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.telegram.render import RenderedMessage, render_reply
from core.models import Paper
from core.registry import CALLBACK_LIMIT
from core.replies import CommandHelp, Help, Link, Paging, PaperList, Problem, Reply, Text
from tests.adapters.telegram.samples import card, make_paper, paper_list, ranked
from tests.adapters.telegram.tg_html import assert_valid, visible_text

GOLDEN = Path(__file__).parents[2] / "data" / "telegram"
SEPARATOR = "\n----- next message -----\n"


def golden(name: str, messages: list[RenderedMessage]) -> None:
    """Compare with tests/data/telegram/<name>.html; UPDATE_GOLDEN=1 rewrites the file."""
    text = SEPARATOR.join(m.text for m in messages) + "\n"
    path = GOLDEN / f"{name}.html"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def callback_data(message: RenderedMessage) -> list[str]:
    keyboard = message.keyboard.inline_keyboard if message.keyboard else ()
    return [b.callback_data for row in keyboard for b in row if isinstance(b.callback_data, str)]


def test_render_list_golden():
    messages = render_reply(paper_list(3, paging=Paging("top", ("3", "week"), 2, has_next=True)))
    golden("list", messages)
    assert len(messages) == 1
    assert callback_data(messages[0]) == ["top 3 week page=1", "top 3 week page=3"]


def test_render_card_golden():
    messages = render_reply(card())
    golden("card", messages)
    (message,) = messages
    assert message.keyboard is not None
    (row,) = message.keyboard.inline_keyboard
    assert [(b.text, b.callback_data, b.url) for b in row] == [
        ("Abstract", "paper 2401.00001 abstract", None),
        ("PDF", None, "https://arxiv.org/pdf/2401.00001"),
        ("HTML", None, "https://arxiv.org/html/2401.00001"),
    ]


def test_render_help_and_problem_golden():
    help_reply = Help(
        "I tell you which <arXiv> papers people share & how much.",
        (CommandHelp("top", "/top [n] [day|week|month]", "Most shared", "/top 5 week"),),
    )
    golden("help", render_reply(help_reply))
    golden("problem", render_reply(Problem("“<abc>” is not an arXiv id", usage="/paper <id>")))


def test_render_list_escapes_markup_in_titles_authors_and_headings():
    paper = make_paper(1, title="a < b && c > d <b>bold</b>", authors=("<i>Eve</i> & Co",))
    reply = PaperList("Top <script>", (ranked(1, paper),), footer="x & y")
    (message,) = render_reply(reply)
    assert "a &lt; b &amp;&amp; c &gt; d &lt;b&gt;bold&lt;/b&gt;" in message.text
    assert "&lt;i&gt;Eve&lt;/i&gt; &amp; Co" in message.text
    assert "<b>Top &lt;script&gt;</b>" in message.text
    assert "<script>" not in message.text
    assert_valid(message.text)


def test_render_list_line_shows_counts_and_shortened_authors():
    paper = make_paper(1, title="Title", authors=("A", "B", "C", "D"))
    (message,) = render_reply(PaperList("Top", (ranked(1, paper),)))
    lines = message.text.splitlines()
    assert lines[2] == (
        '1. <a href="https://arxiv.org/abs/2401.00001">Title</a>'
        " — 12 shares (X 9, Bluesky 3) · HN 210 pts"
    )
    assert lines[3] == "<i>A, B, C et al.</i> · cs.LG"


def test_render_list_shows_paper_without_metadata_by_id():
    (message,) = render_reply(PaperList("Top", (ranked(1, Paper("2401.99999")),)))
    assert ">2401.99999</a> <i>(metadata pending)</i>" in message.text
    assert_valid(message.text)


def test_render_empty_list_shows_note():
    (message,) = render_reply(PaperList("Top", (), empty_note="Nothing shared <yet>."))
    assert message.text == "<b>Top</b>\n\n<i>Nothing shared &lt;yet&gt;.</i>"


def test_render_lists_turn_link_previews_off():
    for reply in (paper_list(2), paper_list(0), paper_list(80)):
        assert all(m.disable_preview for m in render_reply(reply))


def test_render_splits_long_list_at_paper_boundaries():
    long_title = "A very long title about transformers " * 8
    papers = tuple(ranked(i, make_paper(i, title=f"{i}: {long_title}")) for i in range(1, 81))
    reply = PaperList("Top 80", papers, paging=Paging("top", ("80",), 1, has_next=True))
    messages = render_reply(reply)
    assert len(messages) > 1
    for message in messages:
        assert_valid(message.text)
    ranks = [
        int(line.split(".", 1)[0])
        for m in messages
        for line in m.text.splitlines()
        if line[:1].isdigit()
    ]
    assert ranks == list(range(1, 81))  # every paper once, whole, in order
    assert all(m.keyboard is None for m in messages[:-1])
    assert callback_data(messages[-1]) == ["top 80 page=2"]


def test_render_hard_splits_one_oversized_text_without_breaking_entities():
    line = "fish & chips <tags> " * 600  # 12 000 characters, escaping makes it longer
    messages = render_reply(Text((line,)))
    assert len(messages) > 2
    for message in messages:
        assert_valid(message.text)
    assert "".join(visible_text(m.text) for m in messages) == line


@pytest.mark.parametrize(
    "reply",
    [
        paper_list(3, paging=Paging("top", ("10", "week", "cs.LG"), 5, has_next=True)),
        paper_list(3, paging=Paging("search", ("x" * 80,), 1, has_next=True)),
        card(make_paper(1, arxiv_id="math.GT/0309136")),
        card(make_paper(1, arxiv_id="9" * 70)),
    ],
    ids=["top", "too-long-args", "old-style-id", "absurd-id"],
)
def test_render_keyboards_callback_data_fits_64_bytes(reply: Reply):
    for message in render_reply(reply):
        assert all(len(d.encode()) <= CALLBACK_LIMIT for d in callback_data(message))


def test_render_drops_buttons_whose_data_would_not_fit():
    reply = paper_list(1, paging=Paging("search", ("x" * 80,), 2, has_next=True))
    (message,) = render_reply(reply)
    assert message.keyboard is None


def test_render_card_without_long_abstract_has_no_abstract_button():
    (message,) = render_reply(card(make_paper(1, abstract="Short.")))
    assert message.keyboard is not None
    assert [b.text for b in message.keyboard.inline_keyboard[0]] == ["PDF", "HTML"]
    assert "<blockquote>Short.</blockquote>" in message.text


def test_render_never_links_unsafe_urls():
    unsafe = (Link("abs", 'javascript:alert("x")'), Link("pdf", "https://a.b/c d"))
    (message,) = render_reply(PaperList("Top", (replace(ranked(1), links=unsafe),)))
    assert "javascript" not in message.text
    assert "<a " not in message.text
    (card_message,) = render_reply(replace(card(), links=unsafe))
    assert "javascript" not in card_message.text
    assert card_message.keyboard is not None
    assert all(b.url is None for b in card_message.keyboard.inline_keyboard[0])


def test_render_text_of_blank_lines_is_never_an_empty_message():
    # Telegram answers "message text is empty" to a message of whitespace only.
    assert [m.text for m in render_reply(Text(("", "\r", "  ")))] == ["…"]
