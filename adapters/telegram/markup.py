"""Telegram HTML building blocks: escaping, safe links, shortening, splitting under the limit.

Telegram's HTML mode accepts a few tags and only the entities `&lt; &gt; &amp; &quot;` plus
numeric ones; a single stray `<` or `&` makes the whole message fail with "can't parse entities".
So text is shortened *before* it is escaped (never cutting an entity), and long messages are split
between complete blocks, or, for one oversized block, between tokens with open tags re-opened.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from telegram.constants import MessageLimit

MAX_LENGTH: int = MessageLimit.MAX_TEXT_LENGTH
MAX_URL_LENGTH = 1000  # keeps a re-opened <a href> small enough that every split makes progress

_TOKENS = re.compile(r"<[^<>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG = re.compile(r"</?([a-z]+)")


def esc(text: str) -> str:
    """Escape a dynamic string for Telegram HTML text."""
    return html.escape(text, quote=False)


def is_web_url(url: str) -> bool:
    """Whether Telegram will take `url` as a link target or URL button."""
    return (
        url.startswith(("https://", "http://"))
        and len(url) <= MAX_URL_LENGTH
        and not any(c.isspace() or ord(c) < 32 for c in url)
    )


def link(url: str | None, label_html: str) -> str:
    """Wrap already-escaped `label_html` in a link, or leave it plain if the URL is unusable."""
    if url is None or not is_web_url(url):
        return label_html
    return f'<a href="{html.escape(url, quote=True)}">{label_html}</a>'


def shorten(text: str, limit: int) -> str:
    """Collapse whitespace and cut `text` to at most `limit` characters at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def tg_length(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in (an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2


def pack(blocks: Iterable[str], *, sep: str = "\n\n", limit: int = MAX_LENGTH) -> list[str]:
    """Join blocks into as few messages as fit in `limit`, splitting only between blocks.

    A block that alone exceeds the limit is split with `split_html`.
    """
    chunks: list[str] = []
    current = ""
    for block in blocks:
        for piece in split_html(block, limit):
            candidate = f"{current}{sep}{piece}" if current else piece
            if tg_length(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = piece
    if current:
        chunks.append(current)
    return chunks


class _Splitter:
    """Cuts one HTML string into valid pieces: tags closed at each cut and re-opened after it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[str] = []
        self.current = ""
        self.has_content = False
        self.stack: list[tuple[str, str]] = []  # (tag name, opening tag as written)

    def closing(self) -> str:
        return "".join(f"</{name}>" for name, _ in reversed(self.stack))

    def room(self) -> int:
        return self.limit - tg_length(self.current) - tg_length(self.closing())

    def flush(self) -> None:
        if self.has_content:
            self.chunks.append(self.current + self.closing())
        self.current = "".join(tag for _, tag in self.stack)
        self.has_content = False

    def add_atom(self, token: str, extra: int = 0, *, visible: bool = True) -> None:
        if tg_length(token) + extra > self.room():
            self.flush()
        self.current += token
        self.has_content = self.has_content or visible

    def add_text(self, text: str) -> None:
        while text:
            piece = _fit(text, self.room())
            if not piece and self.has_content:
                self.flush()
                continue
            piece = piece or text[0]  # only if re-opened tags alone nearly fill a message
            self.current += piece
            # Telegram rejects a message with nothing but whitespace: it is dropped at flush.
            self.has_content = self.has_content or not piece.isspace()
            text = text[len(piece) :]
            if text:
                self.flush()

    def feed(self, token: str) -> None:
        tag = _TAG.match(token)
        if tag is None:
            if token.startswith("&") and token.endswith(";"):
                self.add_atom(token)
            else:
                self.add_text(token)
        elif token.startswith("</"):
            self.stack.pop()
            self.current += token  # its length was already reserved by closing()
        else:
            # an opening tag needs room for itself, its closing tag and one character of content
            self.add_atom(token, extra=len(tag.group(1)) + 4, visible=False)
            self.stack.append((tag.group(1), token))


def split_html(text: str, limit: int = MAX_LENGTH) -> list[str]:
    """Split well-formed Telegram HTML into pieces of at most `limit`, each well-formed."""
    if tg_length(text) <= limit:
        return [text]
    splitter = _Splitter(limit)
    for token in _TOKENS.findall(text):
        splitter.feed(token)
    splitter.flush()
    return splitter.chunks


def _fit(text: str, room: int) -> str:
    """The longest prefix of `text` within `room` UTF-16 units, cut at a space when possible."""
    used = 0
    end = 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            break
        end += 1
    if end == len(text):
        return text
    space = max(text.rfind("\n", 0, end), text.rfind(" ", 0, end))
    return text[: space + 1] if space > end // 2 else text[:end]
