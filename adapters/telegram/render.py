"""Render core replies as Telegram messages: HTML text, an optional keyboard, a preview flag.

Pure functions only, so the command handlers and the digest sink share them and tests can check
every reply without a bot. Uses only the tags Telegram accepts: <b> <i> <a href> <code> <pre>
<blockquote>.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.card import card_blocks, card_keyboard
from adapters.telegram.fragments import (
    TITLE_LIMIT,
    details_line,
    find_link,
    format_counts,
)
from adapters.telegram.markup import esc, link, pack, shorten
from core.registry import encode_callback
from core.replies import (
    Failure,
    Help,
    Paging,
    PaperCard,
    PaperList,
    Problem,
    RankedPaper,
    Reply,
    Text,
)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """One Telegram message: HTML text (parse mode HTML), its keyboard, and the preview flag."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    disable_preview: bool = False


def render_reply(reply: Reply) -> list[RenderedMessage]:
    """Render a reply as one or more messages, each within Telegram's 4096-character limit.

    A keyboard, if any, is on the last message.
    """
    match reply:
        case PaperList():
            return _messages(render_list(reply), _paging_keyboard(reply.paging), no_preview=True)
        case PaperCard():
            return _messages(pack(card_blocks(reply)), card_keyboard(reply), no_preview=True)
        case Help():
            return _messages(pack(_help_blocks(reply)), None, no_preview=True)
        case Text(lines=lines):
            return _messages(pack((esc(line) for line in lines), sep="\n"), None)
        case Problem():
            return _messages(pack(_problem_blocks(reply), sep="\n"), None)
        case Failure(message=message):
            return _messages([f"⚠️ {esc(message)}"], None)
        case _:
            assert_never(reply)


def render_list(papers: PaperList) -> list[str]:
    """The HTML chunks of a paper list, split only between papers."""
    blocks = [f"<b>{esc(shorten(papers.heading, TITLE_LIMIT))}</b>"]
    if papers.papers:
        blocks.extend(render_paper_line(item) for item in papers.papers)
    else:
        blocks.append(f"<i>{esc(papers.empty_note)}</i>")
    if papers.footer:
        blocks.append(f"<i>{esc(papers.footer)}</i>")
    return pack(blocks)


def render_paper_line(item: RankedPaper) -> str:
    """`1. <a href=abs>Title</a> — 12 shares (x 9, bluesky 3) · HN 210 pts`, then authors."""
    paper = item.paper
    url = find_link(item.links, "abs")
    if paper.title is None:
        head = f"{link(url, esc(paper.arxiv_id))} <i>(metadata pending)</i>"
    else:
        head = link(url, esc(shorten(paper.title, TITLE_LIMIT)))
    line = f"{item.rank}. {head} — {format_counts(item.sources)}"
    details = details_line(paper)
    return f"{line}\n{details}" if details else line


def _paging_keyboard(paging: Paging | None) -> InlineKeyboardMarkup | None:
    if paging is None:
        return None
    buttons = []
    if paging.has_previous:
        buttons.append(_page_button(paging, paging.page - 1, f"« Page {paging.page - 1}"))
    if paging.has_next:
        buttons.append(_page_button(paging, paging.page + 1, f"Page {paging.page + 1} »"))
    kept = [b for b in buttons if b is not None]
    return InlineKeyboardMarkup([kept]) if kept else None


def _page_button(paging: Paging, page: int, label: str) -> InlineKeyboardButton | None:
    # Stateless: the button re-runs the command for that page; data over 64 bytes gets no button.
    data = encode_callback(paging.command, paging.args_for(page))
    return None if data is None else InlineKeyboardButton(label, callback_data=data)


def _help_blocks(reply: Help) -> list[str]:
    blocks = [esc(reply.intro)]
    for command in reply.commands:
        lines = [f"<code>{esc(command.usage)}</code> — {esc(command.summary)}"]
        if command.example:
            lines.append(f"<i>e.g.</i> <code>{esc(command.example)}</code>")
        blocks.append("\n".join(lines))
    return blocks


def _problem_blocks(reply: Problem) -> list[str]:
    blocks = [f"⚠️ {esc(reply.message)}"]
    if reply.usage:
        blocks.append(f"Usage: <code>{esc(reply.usage)}</code>")
    return blocks


def _messages(
    chunks: list[str], keyboard: InlineKeyboardMarkup | None, *, no_preview: bool = False
) -> list[RenderedMessage]:
    # Telegram rejects a message that is empty once trimmed, such as a Text of blank lines.
    chunks = [chunk for chunk in chunks if chunk.strip()] or ["…"]
    last = len(chunks) - 1
    return [
        RenderedMessage(chunk, keyboard if i == last else None, disable_preview=no_preview)
        for i, chunk in enumerate(chunks)
    ]
