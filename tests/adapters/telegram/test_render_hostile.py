"""Every rendered message must parse as Telegram's HTML, whatever the metadata holds."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.telegram.markup import split_html
from adapters.telegram.render import render_reply
from core.models import Paper, SourceCounts
from core.replies import CommandHelp, Help, Link, Paging, PaperList, Post, Problem, Reply, Text
from tests.adapters.telegram.samples import card, make_paper, ranked
from tests.adapters.telegram.tg_html import assert_valid, check

HOSTILE_TITLES = [
    '<script>alert("x")</script> & friends',
    "Stray <b>bold and &amp; and &notanentity; and &#xZZ;",
    "Emoji 🚀🔥👩‍🔬 in the title 🤖" * 3,
    "שלום עולם ‏مرحبا بالعالم‎ \u202eRTL override\u202c",
    "</a></b><i>",
    "& < > \" ' ` \\ \x00 \x1f",
]


def hostile_paper(title: str) -> Paper:
    authors = tuple(f"Author <{i}> & Co 🚀" for i in range(300))
    abstract = ("Abstract <b>with</b> tags & ampersands; 🚀 مرحبا " * 250)[:10_000]
    return make_paper(7, title=title, authors=authors, abstract=abstract, categories=("<cs.LG>",))


def hostile_replies(title: str) -> list[Reply]:
    paper = hostile_paper(title)
    sources = (SourceCounts("<x>", sharers=3), SourceCounts("h&n", votes=5))
    item = replace(ranked(1, paper), sources=sources)
    posts = (
        Post("<x>", "<@evil>", card().top_posts[0].posted_at, "https://x.com/1?a=1&b=<2>", title),
    )
    links = (*item.links, Link("<html>", 'https://e.com/"><script>'))
    return [
        PaperList(title, (item,) * 40, paging=Paging("top", (title[:10],), 2, True), footer=title),
        replace(card(paper), top_posts=posts * 5, links=links, note=title),
        Text((title, paper.abstract or "", "")),
        Problem(title, usage=title),
        Help(title, (CommandHelp("top", title, title, title),) * 30),
    ]


def test_render_hostile_metadata_is_valid_telegram_html():
    for title in HOSTILE_TITLES:
        for reply in hostile_replies(title):
            messages = render_reply(reply)
            assert messages
            for message in messages:
                assert_valid(message.text)


def test_render_300_authors_are_shortened():
    (message, *_) = render_reply(PaperList("Top", (ranked(1, hostile_paper("T")),)))
    assert (
        "Author &lt;0&gt; &amp; Co 🚀, Author &lt;1&gt; &amp; Co 🚀, Author &lt;2&gt;"
        in message.text
    )
    assert "et al." in message.text
    assert "Author &lt;3&gt;" not in message.text


def test_render_10kb_abstract_is_shortened_on_the_card():
    (message,) = render_reply(card(hostile_paper("T")))
    quote = message.text.split("<blockquote>")[1].split("</blockquote>")[0]
    assert len(quote) < 1000


def test_check_catches_what_telegram_rejects():
    # the validator itself must not be lenient
    assert check("<b>open")
    assert check("a < b")
    assert check("fish & chips")
    assert check("&amp without semicolon")
    assert check("&nbsp;")
    assert check("<u>underline</u>")
    assert check('<a href="javascript:x">x</a>')
    assert check("<b><i>x</b></i>")
    assert check("<code><b>x</b></code>")
    assert check("x" * 4097)
    assert check("<b> </b>")
    assert not check('<b>ok</b> &lt;&amp;&gt; <a href="https://a.b/?x=1&amp;y=2">x</a>')


# Random unicode mixed with the fragments that break HTML: tags, entities, quotes, emoji, RTL.
hostile_text = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
        st.sampled_from(
            ["<", ">", "&", "&amp;", "<b>", "</b>", "<a href='x'>", '"', "🚀", "\u202e"]
        ),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=hostile_text,
    authors=st.lists(hostile_text, max_size=8),
    abstract=st.one_of(st.none(), hostile_text),
    note=hostile_text,
)
def test_render_any_metadata_passes_the_validator(title, authors, abstract, note):
    paper = make_paper(3, title=title, authors=tuple(authors), abstract=abstract)
    replies: list[Reply] = [
        PaperList(title or "x", (ranked(1, paper), ranked(2, paper))),
        replace(card(paper), note=note or None),
        Problem(title or "x", usage=note or None),
        Text((title, note)),
    ]
    for reply in replies:
        for message in render_reply(reply):
            assert_valid(message.text)


@settings(max_examples=150, deadline=None)
@given(title=hostile_text, limit=st.integers(min_value=120, max_value=600))
def test_split_html_keeps_every_piece_valid_and_within_limit(title, limit):
    (html,) = [m.text for m in render_reply(card(make_paper(3, title=title * 3)))][:1]
    for piece in split_html(html, limit):
        assert_valid(piece, limit)
