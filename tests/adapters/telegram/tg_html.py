"""A strict stand-in for Telegram's HTML parser, to check rendered messages without Telegram.

Rules (https://core.telegram.org/bots/api#html-style), narrowed to the tags we use:
only <b> <i> <a href> <code> <pre> <blockquote>, balanced and properly nested; no links inside
links; nothing but text inside <code>, only <code> inside <pre>; every `<`, `>` and `&` outside a
tag written as an entity, and only `&lt; &gt; &amp; &quot;` or numeric entities; http(s) hrefs;
non-empty visible text; at most 4096 UTF-16 code units.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

LIMIT = 4096
ALLOWED_ATTRS: dict[str, set[str]] = {
    "b": set(),
    "i": set(),
    "a": {"href"},
    "code": set(),
    "pre": set(),
    "blockquote": set(),
}
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")
_TAG = re.compile(r"<[^<>]*>")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.stack: list[str] = []
        self.visible: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_ATTRS:
            self.problems.append(f"tag <{tag}> not allowed")
            return
        names = [name for name, _ in attrs]
        if set(names) - ALLOWED_ATTRS[tag] or len(names) != len(set(names)):
            self.problems.append(f"bad attributes on <{tag}>: {names}")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if not re.match(r"https?://\S+$", href):
                self.problems.append(f"bad href {href!r}")
            if "a" in self.stack:
                self.problems.append("link inside a link")
        if self.stack and self.stack[-1] == "code":
            self.problems.append(f"<{tag}> inside <code>")
        if self.stack and self.stack[-1] == "pre" and tag != "code":
            self.problems.append(f"<{tag}> inside <pre>")
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close {self.stack[-1:] or 'anything'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        for char in "<>&":
            if char in data:
                self.problems.append(f"raw {char!r} in text near {data[:40]!r}")
        self.visible.append(data)

    def handle_entityref(self, name):
        self.visible.append(html.unescape(f"&{name};"))

    def handle_charref(self, name):
        self.visible.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data):
        self.problems.append("comment")

    def handle_decl(self, decl):
        self.problems.append("declaration")

    def handle_pi(self, data):
        self.problems.append("processing instruction")

    def unknown_decl(self, data):
        self.problems.append("unknown declaration")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check(text: str, limit: int = LIMIT) -> list[str]:
    """Everything Telegram would reject in `text` (empty if it would accept it)."""
    problems = []
    if utf16_length(text) > limit:
        problems.append(f"too long: {utf16_length(text)} > {limit}")
    # HTMLParser accepts `&amp` without `;` and unknown names; Telegram does not.
    outside_tags = _TAG.sub("", text)
    for match in re.finditer("&", outside_tags):
        if not _ENTITY.match(outside_tags, match.start()):
            problems.append(f"bad entity near {outside_tags[match.start() : match.start() + 12]!r}")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    problems.extend(checker.problems)
    if checker.stack:
        problems.append(f"unclosed {checker.stack}")
    if not "".join(checker.visible).strip():
        problems.append("no visible text")
    return problems


def assert_valid(text: str, limit: int = LIMIT) -> None:
    problems = check(text, limit)
    assert not problems, f"{problems}\n--- message ---\n{text}"


def visible_text(text: str) -> str:
    """The text a reader sees: tags dropped, entities decoded."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    return "".join(checker.visible)
