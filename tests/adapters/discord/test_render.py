from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

with warnings.catch_warnings():  # see conftest.py: discord.py imports the deprecated audioop
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord

import pytest

from adapters.discord.markup import clean, counts_line, escape, join_within
from adapters.discord.message import RenderedMessage, pack
from adapters.discord.render import render_reply
from core.models import SourceCounts
from core.replies import Link, PaperList, Problem, Text
from core.views import build_counts
from tests.adapters.discord.fakes import card, help_reply, paper, paper_list, ranked

HOSTILE_TITLE = (
    "**Bold** _it_ `code` ~~s~~ ||spoiler|| @everyone @here <@123456789012345678> "
    "[x](http://e.vil) "
)
HOSTILE = paper(
    7,
    title=HOSTILE_TITLE * 8,
    authors=tuple(f"Author_{i} @everyone" for i in range(300)),
    abstract=("*Emph* `tick` <@&123456789012345678> " * 300)[:10_240],
    categories=tuple(f"cs.{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)


def dynamic_strings(embed: Mapping[str, Any]) -> list[str]:
    texts = [
        embed.get("title", ""),
        embed.get("description", ""),
        embed.get("footer", {}).get("text", ""),
    ]
    for f in embed.get("fields", []):
        texts += [f["name"], f["value"]]
    return [t for t in texts if t]


def assert_within_limits(messages: list[RenderedMessage]) -> None:
    for message in messages:
        assert 1 <= len(message.embeds) <= 10 or message.content
        assert message.content is None or 0 < len(message.content) <= 2000
        assert sum(len(e) for e in message.embeds) <= 6000
        for embed in message.embeds:
            d = embed.to_dict()
            assert len(d.get("title", "")) <= 256
            assert len(d.get("description", "")) <= 4096
            assert len(d.get("footer", {}).get("text", "")) <= 2048
            assert len(d.get("fields", [])) <= 25
            for f in d.get("fields", []):
                assert 0 < len(f["name"]) <= 256
                assert 0 < len(f["value"]) <= 1024
            for text in dynamic_strings(d):
                assert "@everyone" not in text
                assert "@here" not in text
                assert "<@123" not in text
                assert "<@&123" not in text
                assert "**Bold**" not in text
                assert "`code`" not in text
        for button in message.buttons:
            assert len(button.label) <= 80
            assert button.url or (button.custom_id and button.custom_id.startswith("ta:"))
            assert button.custom_id is None or len(button.custom_id) <= 100


def test_render_reply_golden_paper_field():
    [message] = render_reply(paper_list(1))
    assert message.embeds[0].to_dict() == {
        "title": "Trending now",
        "type": "rich",
        "color": 0xB31B1B,
        "flags": 0,
        "footer": {"text": "Sources: x, bluesky, hn"},
        "fields": [
            {
                "name": "1. Scaling laws for test paper number 1",
                "value": "Ada Lovelace, Alan Turing, Grace Hopper et al.\n"
                "12 shares (X 9, Bluesky 3) · HN 210 pts\n"
                "[abs](https://arxiv.org/abs/2401.00001) · [pdf](https://arxiv.org/pdf/2401.00001)"
                " · [html](https://arxiv.org/html/2401.00001)",
                "inline": False,
            }
        ],
    }
    assert message.buttons == ()
    assert message.content is None
    assert not message.ephemeral


def test_render_reply_escapes_markdown_and_mentions_in_titles():
    [message] = render_reply(paper_list(papers=(paper(1, title="x_1 and *y* @everyone"),)))
    name = message.embeds[0].fields[0].name
    assert name == "1. x\\_1 and \\*y\\* @\u200beveryone"


def test_render_reply_keeps_hostile_sixty_paper_list_within_limits():
    reply = paper_list(papers=(HOSTILE,) * 60)
    messages = render_reply(reply)
    assert_within_limits(messages)
    fields = [f for m in messages for e in m.embeds for f in e.fields]
    assert len(fields) == 60
    assert len(messages) > 1
    assert messages[-1].embeds[-1].footer.text == "Sources: x, bluesky, hn"
    assert messages[0].embeds[0].title == "Trending now"


@pytest.mark.parametrize("n", [1, 10, 25])
def test_render_reply_fits_a_hostile_page_in_one_message(n):
    reply = paper_list(papers=(HOSTILE,) * n, page=2)
    [message] = render_reply(reply)
    assert_within_limits([message])
    assert [b.label for b in message.buttons] == ["◀ Previous", "Next ▶"]
    assert [b.custom_id for b in message.buttons] == ["ta:e:top 5 page=1", "ta:e:top 5 page=3"]
    assert message.embeds[-1].footer.text == "Sources: x, bluesky, hn · Page 2"


def test_render_reply_card_within_limits_with_hostile_metadata():
    [message] = render_reply(card(HOSTILE))
    assert_within_limits([message])
    [embed] = message.embeds
    assert embed.url == "https://arxiv.org/abs/2401.00007"
    assert len(embed.description or "") <= 1100
    names = [f.name for f in embed.fields]
    assert names == [
        "Authors",
        "Published",
        "Categories",
        "Shares",
        "Last 14 days",
        "Rank",
        "Score",
        "Top posts",
    ]
    authors = embed.fields[0].value or ""
    assert authors.endswith("more")
    assert "Author\\_0" in authors
    labels = {b.label: b for b in message.buttons}
    assert labels["pdf"].url == "https://arxiv.org/pdf/2401.00007"
    assert labels["Abstract"].custom_id == "ta:s:paper 2401.00007 abstract"


def test_render_reply_card_shows_counts_sparkline_rank_and_posts():
    c = card()
    [message] = render_reply(c)
    fields = {f.name: f.value for f in message.embeds[0].fields}
    assert fields["Shares"] == "12 shares (X 9, Bluesky 3) · HN 210 pts"
    assert fields["Last 14 days"] == f"`{c.sparkline}` 31 shares since 01 Jan"
    assert fields["Rank"] == "#3"
    assert fields["Score"] == "19.7 = X 9.0 + HN 7.7"
    assert fields["Top posts"] == (
        "**X** · @karpathy: Great paper [post](https://x.com/karpathy/status/1)\n"
        "**Bluesky** · someone.bsky.social"
    )


def test_render_reply_problem_is_ephemeral_with_usage():
    [message] = render_reply(Problem("Unknown id `x` @here", usage="/paper <id or link>"))
    assert message.ephemeral
    assert not message.embeds
    assert message.content == "Unknown id \\`x\\` @\u200bhere\nUsage: `/paper <id or link>`"


def test_render_reply_splits_long_text_under_2000():
    lines = (*tuple(f"line {i} " + "y" * 90 for i in range(100)), "z" * 4500)
    messages = render_reply(Text(lines))
    assert_within_limits(messages)
    assert "".join(m.content or "" for m in messages).count("line") == 100
    assert all(not m.ephemeral and not m.embeds for m in messages)


def test_render_reply_help_lists_every_command():
    [message] = render_reply(help_reply())
    fields = message.embeds[0].fields
    assert [f.name for f in fields][:3] == [
        "/start",
        "/help",
        r"/top \[n] \[day\|week\|month\|all] \[category\|words]",
    ]
    assert fields[2].value == "What /top does.\nExample: `/top`"


def test_render_reply_empty_list_shows_note():
    [message] = render_reply(PaperList("Top today", (), empty_note="No papers yet."))
    assert message.embeds[0].description == "No papers yet."


def test_render_reply_leaves_out_non_http_links():
    rp = ranked(1)
    reply = PaperList(
        "x", (rp.__class__(1, rp.paper, 1.0, (), (Link("evil", "javascript:alert(1)"),)),)
    )
    [message] = render_reply(reply)
    assert "javascript" not in (message.embeds[0].fields[0].value or "")


def test_clean_cuts_after_escaping_within_limit():
    text = "_" * 300
    out = clean(text, 256)
    assert len(out) <= 256
    assert out.endswith("…")
    assert not out.endswith("\\…")
    assert escape("<@123456789012345678>") == "<@\u200b123456789012345678>"
    assert escape("[a](b) **x** [c](d)") == r"\[a](b) \*\*x\*\* \[c](d)"


def test_join_within_says_how_many_are_left_out():
    assert join_within(["aaaa"] * 10, 20, sep=", ", more="and {n} more") == "aaaa, and 9 more"
    assert join_within(["aaaa"] * 10, 22, sep=", ", more="and {n} more") == "aaaa, aaaa, and 8 more"
    assert join_within(["a", "b"], 20, sep=", ") == "a, b"


def test_counts_line_without_signal():
    assert counts_line(build_counts(())) == "no shares yet"
    assert counts_line(build_counts((SourceCounts("huggingface", votes=35),))) == "HF 35 upvotes"


def test_pack_keeps_totals_under_6000_and_25_fields():
    head = discord.Embed(title="t" * 256, description="d" * 4096)
    fields = [("n" * 256, "v" * 1024)] * 40
    messages = pack(head, fields, "f" * 1024)
    assert_within_limits([RenderedMessage(embeds=m) for m in messages])
    assert sum(len(e.fields) for m in messages for e in m) == 40
