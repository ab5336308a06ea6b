"""Every documented Discord limit holds for any reply core can hand over, however hostile."""

from __future__ import annotations

import asyncio
import re
import unicodedata
import warnings
from datetime import UTC, date, datetime
from typing import Any

with warnings.catch_warnings():  # see conftest.py: discord.py imports the deprecated audioop
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.buttons import build_view
from adapters.discord.card import render_card
from adapters.discord.message import RenderedMessage
from adapters.discord.render import render_reply
from core.models import Paper, SourceCounts
from core.replies import (
    CommandHelp,
    Failure,
    Help,
    Link,
    Paging,
    PaperCard,
    PaperList,
    Post,
    Problem,
    RankedPaper,
    Reply,
    ScorePart,
    Text,
)
from core.views import build_card_view
from tests.adapters.discord.fakes import SOURCES, card, paper

# Pieces that break naive rendering: markdown, every kind of mention, masked links, line
# breaks, control and zero-width characters, and long runs of characters that escaping doubles.
HOSTILE_PIECES = (
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "<@&42>",
    "<#123456789012345678>",
    "<#7>",
    "**bold**",
    "__u__",
    "`tick`",
    "```",
    "||spoiler||",
    "~~s~~",
    "> quote",
    "# head",
    "[x](http://e.vil)",
    "\n",
    "\r\n",
    "\t",
    "\x00",
    "\u200b",
    "\u2028",
    "\\",
    "_" * 300,
    "*" * 300,
)
MENTION = re.compile(r"@everyone|@here|<@[!&]?\d|<#\d")
MASKED_LINK_URL = re.compile(r"\]\((https?://[^)\s]*)\)")

hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=40)), max_size=12
).map("".join)
long_text = st.one_of(hostile_text, hostile_text.map(lambda t: t * 200))
url = st.one_of(
    st.sampled_from(("https://arxiv.org/abs/2401.00001", "javascript:alert(1)", "")),
    st.builds(
        lambda scheme, path: scheme + path,
        st.sampled_from(("https://", "http://")),
        st.one_of(hostile_text, st.text(min_size=400, max_size=700)),
    ),
)
links = st.lists(st.builds(Link, hostile_text, url), max_size=6).map(tuple)
count = st.integers(min_value=0, max_value=10**12)
sources = st.lists(
    st.builds(
        SourceCounts,
        st.one_of(st.sampled_from([s.source for s in SOURCES]), hostile_text),
        count,
        count,
    ),
    max_size=40,
).map(tuple)
papers = st.builds(
    Paper,
    arxiv_id=st.one_of(st.just("2401.00001"), hostile_text),
    title=st.one_of(st.none(), long_text),
    authors=st.lists(long_text, max_size=300).map(tuple),
    abstract=st.one_of(st.none(), long_text),
    categories=st.lists(hostile_text, max_size=40).map(tuple),
    published=st.one_of(st.none(), st.just(datetime(2024, 1, 2, tzinfo=UTC))),
    version=st.one_of(st.none(), st.integers(1, 10**6)),
)
ranked = st.builds(
    RankedPaper,
    rank=st.integers(1, 10**9),
    paper=papers,
    score=st.floats(allow_nan=False),
    sources=sources,
    links=links,
)
paging = st.builds(
    Paging,
    command=st.sampled_from(("top", "new", "search")),
    args=st.lists(hostile_text, max_size=3).map(tuple),
    page=st.integers(1, 10**6),
    has_next=st.booleans(),
)
paged_lists = st.builds(
    PaperList,
    heading=long_text,
    papers=st.lists(ranked, max_size=25).map(tuple),
    empty_note=long_text,
    paging=paging,
    footer=st.one_of(st.none(), long_text),
)
lists = st.builds(
    PaperList,
    heading=long_text,
    papers=st.lists(ranked, max_size=60).map(tuple),
    empty_note=long_text,
    footer=st.one_of(st.none(), long_text),
)
posts = st.builds(
    Post,
    source=hostile_text,
    author=long_text,
    posted_at=st.just(datetime(2024, 1, 3, tzinfo=UTC)),
    url=st.one_of(st.none(), url),
    text=st.one_of(st.none(), long_text),
)
cards = st.builds(
    PaperCard,
    paper=papers,
    sources=sources,
    daily_shares=st.lists(count, max_size=60).map(tuple),
    first_day=st.just(date(2024, 1, 1)),
    rank=st.one_of(st.none(), st.integers(1, 10**9)),
    score=st.floats(allow_nan=False),
    score_parts=st.lists(
        st.builds(ScorePart, hostile_text, st.floats(), st.floats(), st.floats()), max_size=40
    ).map(tuple),
    top_posts=st.lists(posts, max_size=10).map(tuple),
    links=links,
    note=st.one_of(st.none(), long_text),
)
helps = st.builds(
    Help,
    intro=long_text,
    commands=st.lists(
        st.builds(CommandHelp, hostile_text, long_text, long_text, long_text), max_size=30
    ).map(tuple),
)
replies: st.SearchStrategy[Reply] = st.one_of(
    st.builds(Text, st.lists(long_text, max_size=20).map(tuple)),
    st.builds(Problem, long_text, st.one_of(st.none(), long_text)),
    st.builds(Failure, long_text),
    helps,
    lists,
    paged_lists,
    cards,
)


def components(message: RenderedMessage) -> list[dict[str, Any]]:
    """The buttons as discord.py sends them (a view needs a running loop)."""

    async def build() -> list[dict[str, Any]]:
        view = build_view(message.buttons)
        return view.to_components() if view is not None else []

    return asyncio.run(build())


def dynamic_strings(embed: dict[str, Any]) -> list[str]:
    texts = [
        embed.get("title", ""),
        embed.get("description", ""),
        embed.get("footer", {}).get("text", ""),
        embed.get("author", {}).get("name", ""),
    ]
    for f in embed.get("fields", []):
        texts += [f["name"], f["value"]]
    return [t for t in texts if t]


def assert_url_ok(u: str) -> None:
    assert u.startswith(("https://", "http://"))
    assert len(u) <= 512
    assert not any(unicodedata.category(c)[0] == "C" or c in "\n\r\u2028\u2029 " for c in u), u


def assert_within_discord_limits(message: RenderedMessage) -> None:
    """Discord's documented limits of a message, its embeds and its buttons."""
    assert message.content or message.embeds
    assert message.content is None or 0 < len(message.content) <= 2000
    assert len(message.embeds) <= 10
    assert sum(len(e) for e in message.embeds) <= 6000
    texts = [message.content] if message.content else []
    for embed in message.embeds:
        d = embed.to_dict()
        assert len(d.get("title", "")) <= 256
        assert len(d.get("description", "")) <= 4096
        assert len(d.get("footer", {}).get("text", "")) <= 2048
        assert len(d.get("author", {}).get("name", "")) <= 256
        assert len(d.get("fields", [])) <= 25
        for f in d.get("fields", []):
            assert 0 < len(f["name"]) <= 256
            assert 0 < len(f["value"]) <= 1024
        if "url" in d:
            assert_url_ok(d["url"])
        texts += dynamic_strings(d)
    for text in texts:
        assert not MENTION.search(text), text
        for link in MASKED_LINK_URL.findall(text):
            assert_url_ok(link)
    rows = components(message)
    assert len(rows) <= 5
    for row in rows:
        assert len(row["components"]) <= 5
        for button in row["components"]:
            assert 0 < len(button["label"]) <= 80
            if "url" in button:
                assert_url_ok(button["url"])
            else:
                assert 0 < len(button["custom_id"]) <= 100


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(replies)
def test_render_reply_keeps_every_discord_limit_for_hostile_replies(reply):
    messages = render_reply(reply)
    assert messages
    for message in messages:
        assert_within_discord_limits(message)
    if isinstance(reply, PaperList) and reply.paging is not None:
        assert len(messages) == 1  # a page is edited in place by its buttons: one message


def test_card_caps_the_shares_of_a_paper_on_thirty_networks():
    many = tuple(SourceCounts(f"network-number-{i:02d}", sharers=i + 1) for i in range(30))
    many += tuple(SourceCounts(f"forum-number-{i:02d}", votes=10 * i + 1) for i in range(30))
    message = render_card(build_card_view(card(sources=many)))
    assert_within_discord_limits(message)
    shares = {f.name: f.value or "" for f in message.embeds[0].fields}["Shares"]
    assert len(shares) <= 1024
    assert shares.startswith("465 shares (network-number-00 1, network-number-01 2, ")
    left_out = [int(n) for n in re.findall(r"and (\d+) more", shares)]
    shown = shares.count("network-number-") + shares.count("forum-number-")
    assert shown + sum(left_out) == 60


def test_card_leaves_out_links_with_line_breaks_or_too_long_for_a_button():
    bad = (
        Link("abs", "https://arxiv.org/abs/2401.00001\nhttps://e.vil"),
        Link("pdf", "https://arxiv.org/pdf/" + "9" * 500),
        Link("html", "https://arxiv.org/html/2401.00001\x00"),
        Link("alt", "https://arxiv.org/abs/2401.00001 v2"),
    )
    message = render_card(build_card_view(card(links=bad)))
    assert [(b.label, b.url) for b in message.buttons if b.url] == [
        ("alt", "https://arxiv.org/abs/2401.00001%20v2")
    ]
    assert message.embeds[0].url == "https://arxiv.org/abs/2401.00001%20v2"


def test_render_reply_neutralises_channel_and_role_mentions():
    [message] = render_reply(Text(("see <#123456789012345678> and <@&42>, ping <#7>",)))
    assert message.content == "see <#\u200b123456789012345678> and <@&\u200b42>, ping <#\u200b7>"


def test_paper_field_keeps_a_page_of_long_urls_in_one_message():
    long_links = tuple(Link(label, "https://arxiv.org/" + "x" * 490) for label in "abc")
    items = tuple(RankedPaper(i, paper(i), 1.0, SOURCES, long_links) for i in range(1, 26))
    reply = PaperList("Top", items, paging=Paging("top", ("25",), 1, has_next=True))
    [message] = render_reply(reply)
    assert_within_discord_limits(message)
    assert len([f for e in message.embeds for f in e.fields]) == 25
