"""A paper card (`/paper`) as Telegram HTML blocks and its keyboard."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.fragments import AUTHOR_LIMIT, TITLE_LIMIT, shorten_authors
from adapters.telegram.markup import esc, is_web_url, link, shorten
from core.registry import encode_callback
from core.views import CardView, PaperView, PostView

ABSTRACT_LIMIT = 600
POST_TEXT_LIMIT = 200
SHOWN_POSTS = 5
SHOWN_CATEGORIES = 6


def card_blocks(card: CardView) -> list[str]:
    """The card's HTML blocks, in reading order; `pack` joins and splits them."""
    paper = card.paper
    blocks = [_heading(paper)]
    if paper.abstract:
        blocks.append(f"<blockquote>{esc(shorten(paper.abstract, ABSTRACT_LIMIT))}</blockquote>")
    blocks.append(_numbers(card))
    if card.top_posts:
        posts = [_post_line(p) for p in card.top_posts[:SHOWN_POSTS]]
        blocks.append("\n".join(["<b>Top posts</b>", *posts]))
    links = [link(ln.url, esc(ln.label)) for ln in paper.links if is_web_url(ln.url)]
    if links:
        blocks.append(" · ".join(links))
    if card.note:
        blocks.append(f"<i>{esc(card.note)}</i>")
    return blocks


def card_keyboard(card: CardView) -> InlineKeyboardMarkup | None:
    """Buttons: "Abstract" runs `/paper <id> abstract` (if the card cut it); PDF/HTML are links."""
    buttons = []
    abstract = card.paper.abstract or ""
    data = encode_callback("paper", (card.paper.arxiv_id, "abstract"))
    if data is not None and len(abstract) > ABSTRACT_LIMIT:
        buttons.append(InlineKeyboardButton("Abstract", callback_data=data))
    for label in ("pdf", "html"):
        url = card.paper.link(label)
        if url is not None and is_web_url(url):
            buttons.append(InlineKeyboardButton(label.upper(), url=url))
    return InlineKeyboardMarkup([buttons]) if buttons else None


def _heading(paper: PaperView) -> str:
    if paper.title is None:
        lines = [f"<b>{esc(paper.arxiv_id)}</b> <i>(metadata pending)</i>"]
    else:
        lines = [f"<b>{esc(shorten(paper.title, TITLE_LIMIT))}</b>"]
    if paper.authors:
        lines.append(f"<i>{esc(shorten_authors(paper.authors))}</i>")
    facts = [f"arXiv:{esc(paper.arxiv_id)}"]
    if paper.published is not None:
        facts.append(f"published {paper.published:%Y-%m-%d}")
    if paper.updated is not None:
        version = f" (v{paper.version})" if paper.version else ""
        facts.append(f"updated {paper.updated:%Y-%m-%d}{version}")
    if paper.categories:
        shown = ", ".join(shorten(c, AUTHOR_LIMIT) for c in paper.categories[:SHOWN_CATEGORIES])
        facts.append(esc(shown))
    lines.append(" · ".join(facts))
    return "\n".join(lines)


def _numbers(card: CardView) -> str:
    lines = [f"<b>Signal:</b> {esc(card.counts.line)}"]
    daily = card.daily
    if daily.counts:
        lines.append(
            f"Last {len(daily.counts)} days (from {daily.first_day:%Y-%m-%d}):"
            f" {esc(daily.sparkline)} ({daily.total} shares)"
        )
    rank = f"#{card.rank}" if card.rank is not None else "not ranked"
    lines.append(f"Rank now: {rank} · score {card.score:.1f}")
    if card.score_terms:
        parts = " + ".join(f"{esc(t.network)} {t.points:.1f}" for t in card.score_terms)
        lines.append(f"<i>Score = {parts}</i>")
    return "\n".join(lines)


def _post_line(post: PostView) -> str:
    who = link(post.url, esc(shorten(post.author, AUTHOR_LIMIT)))
    line = f"• {who} on {esc(post.source)}, {post.posted_at:%Y-%m-%d}"
    if post.text:
        line += f": {esc(shorten(post.text, POST_TEXT_LIMIT))}"
    return line
