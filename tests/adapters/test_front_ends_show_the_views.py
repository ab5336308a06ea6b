"""Telegram, Discord and the console all show what core.views decides, word for word."""

from __future__ import annotations

from datetime import UTC, date, datetime

from adapters.console.render import render_reply as console_render
from adapters.discord.render import render_reply as discord_render
from adapters.telegram.render import render_reply as telegram_render
from core.cards import paper_links
from core.models import Paper, SourceCounts
from core.registry import encode_callback
from core.replies import Paging, PaperCard, PaperList, Post, RankedPaper, ScorePart
from core.views import build_card_view, build_list_view
from tests.adapters.telegram.tg_html import visible_text

SOURCES = (
    SourceCounts("x", sharers=9, score=9.0),
    SourceCounts("bluesky", sharers=3, score=3.0),
    SourceCounts("hackernews", votes=210, score=7.7),
)


def paper(n: int) -> Paper:
    return Paper(
        f"2401.{n:05d}",
        title=f"Scaling laws for\n  transformers, part {n}",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        abstract="We study how papers spread.",
        categories=("cs.LG",),
        published=datetime(2024, 1, 2, tzinfo=UTC),
    )


def page() -> PaperList:
    papers = tuple(
        RankedPaper(n, paper(n), 20.0 - n, SOURCES, paper_links(f"2401.{n:05d}"))
        for n in range(6, 11)
    )
    return PaperList("Trending", papers, paging=Paging("top", ("5", "week"), 2, has_next=True))


def card() -> PaperCard:
    return PaperCard(
        paper=paper(1),
        sources=SOURCES,
        daily_shares=(0, 1, 3, 9, 2, 0, 0, 0, 1, 2, 5, 1, 0, 3),
        first_day=date(2024, 1, 1),
        rank=3,
        score=19.7,
        score_parts=(ScorePart("x", 9, 1.0, 9.0), ScorePart("hackernews", 210, 1.0, 7.7)),
        top_posts=(Post("bluesky", "@ada", datetime(2024, 1, 3, tzinfo=UTC), None, "Great"),),
        links=paper_links("2401.00001"),
    )


def test_every_front_end_shows_each_items_title_authors_and_counts_line():
    view = build_list_view(page())
    telegram = visible_text("\n".join(m.text for m in telegram_render(page())))
    (discord,) = discord_render(page())
    fields = [(f.name, f.value) for f in discord.embeds[0].fields]
    console = console_render(page())
    for item, (name, value) in zip(view.items, fields, strict=True):
        shown = item.paper.title, item.paper.authors_line, item.counts.line
        assert all(part in telegram for part in shown)
        assert all(part in console for part in shown)
        assert name == f"{item.rank}. {item.paper.title}"
        assert item.paper.authors_line in value
        assert item.counts.line in value


def test_every_front_end_offers_the_page_targets_of_the_view():
    nav = build_list_view(page()).nav
    assert nav is not None
    assert nav.previous is not None
    assert nav.next is not None
    targets = [encode_callback(t.command, t.args) for t in (nav.previous, nav.next)]
    keyboard = telegram_render(page())[-1].keyboard
    assert keyboard is not None
    assert [b.callback_data for row in keyboard.inline_keyboard for b in row] == targets
    buttons = discord_render(page())[-1].buttons
    assert [b.custom_id.split(":", 2)[-1] for b in buttons if b.custom_id] == targets
    assert console_render(page()).endswith(f"Page {nav.page}. /{targets[0]} · /{targets[1]}")


def test_every_front_end_shows_the_cards_counts_sparkline_rank_and_networks():
    view = build_card_view(card())
    telegram = visible_text(telegram_render(card())[0].text)
    (embed,) = discord_render(card())[0].embeds
    discord = "\n".join(f"{f.name}\n{f.value}" for f in embed.fields)
    console = console_render(card())
    shown = [view.counts.line, view.daily.sparkline, f"#{view.rank}"]
    shown += [term.network for term in view.score_terms]
    for text in (telegram, discord, console):
        assert all(part in text for part in shown)
