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
from adapters.telegram.fragments import TITLE_LIMIT, details_line
from adapters.telegram.markup import esc, link, pack, shorten
from core.registry import encode_callback
from core.replies import Failure, Help, PaperCard, PaperList, Problem, Reply, Text
from core.views import ListItem, ListView, PageNav, PageTarget, build_card_view, build_list_view


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
            view = build_list_view(reply)
            return _messages(render_list(view), _paging_keyboard(view.nav), no_preview=True)
        case PaperCard():
            card = build_card_view(reply)
            return _messages(pack(card_blocks(card)), card_keyboard(card), no_preview=True)
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


def render_list(view: ListView) -> list[str]:
    """The HTML chunks of a paper list, split only between papers."""
    blocks = [f"<b>{esc(shorten(view.heading, TITLE_LIMIT))}</b>"]
    if view.items:
        blocks.extend(render_paper_line(item) for item in view.items)
    else:
        blocks.append(f"<i>{esc(view.empty_note)}</i>")
    if view.footer:
        blocks.append(f"<i>{esc(view.footer)}</i>")
    return pack(blocks)


def render_paper_line(item: ListItem) -> str:
    """`1. <a href=abs>Title</a> — 12 shares (X 9, Bluesky 3) · HN 210 pts`, then authors."""
    paper = item.paper
    if paper.title is None:
        head = f"{link(paper.abs_url, esc(paper.arxiv_id))} <i>(metadata pending)</i>"
    else:
        head = link(paper.abs_url, esc(shorten(paper.title, TITLE_LIMIT)))
    line = f"{item.rank}. {head} — {esc(item.counts.line)}"
    details = details_line(paper)
    return f"{line}\n{details}" if details else line


def _paging_keyboard(nav: PageNav | None) -> InlineKeyboardMarkup | None:
    if nav is None:
        return None
    buttons = []
    if nav.previous is not None:
        buttons.append(_page_button(nav.previous, f"« Page {nav.previous.page}"))
    if nav.next is not None:
        buttons.append(_page_button(nav.next, f"Page {nav.next.page} »"))
    kept = [b for b in buttons if b is not None]
    return InlineKeyboardMarkup([kept]) if kept else None


def _page_button(target: PageTarget, label: str) -> InlineKeyboardButton | None:
    # Stateless: the button re-runs the command for that page; data over 64 bytes gets no button.
    data = encode_callback(target.command, target.args)
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
