"""The Jinja2 environment: templates shipped in this package, autoescaped, strict."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+\Z")
# Characters of an abstract a list shows before folding the rest (about three lines on a phone).
FOLD = 280


def web_url(url: str | None) -> str | None:
    """`url` if a browser may follow it from our page (http or https, no spaces), else None.

    Posts and discussions come from other people's data: a `javascript:` link would run script.
    """
    if url is None or len(url) > 2000 or not _WEB_URL.match(url):
        return None
    return url


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis.

    How much of an abstract or a post a page shows is the page's own limit.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def paper_path(arxiv_id: str) -> str:
    """The address of a paper's page on this site (old-style ids keep their slash)."""
    return "/paper/" + quote(arxiv_id, safe="/")


def build_environment() -> Environment:
    """Templates of `adapters/web/templates`, escaped for HTML and XML (the Atom feed)."""
    environment = Environment(
        loader=PackageLoader("adapters.web", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        auto_reload=False,  # templates ship with the package: no stat() on every render
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(FOLD=FOLD, paper_path=paper_path, shorten=shorten, web_url=web_url)
    return environment


class Templates:
    """Renders the package's templates to bytes."""

    def __init__(self) -> None:
        self._environment = build_environment()

    def render(self, name: str, **context: Any) -> bytes:
        """Render template `name` with `context`, UTF-8 encoded."""
        return self._environment.get_template(name).render(**context).encode()
