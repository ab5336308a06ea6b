"""Plain-text rendering of replies for the terminal."""

from __future__ import annotations

from typing import assert_never

from core.grammar import quote
from core.replies import Failure, Help, PaperCard, PaperList, Problem, Reply, Text
from core.views import (
    CardView,
    ListItem,
    ListView,
    PaperView,
    PostView,
    authors_line,
    build_card_view,
    build_list_view,
)

ABSTRACT_CHARS = 600
CARD_AUTHORS = 10


def render_reply(reply: Reply) -> str:
    """Render any reply as plain text."""
    match reply:
        case Text(lines=lines):
            return "\n".join(lines)
        case Help():
            rows = [reply.intro, ""]
            rows += [f"{c.usage}\n    {c.summary}. Example: {c.example}" for c in reply.commands]
            return "\n".join(rows)
        case PaperList():
            return _render_list(build_list_view(reply))
        case PaperCard():
            return _render_card(build_card_view(reply))
        case Problem(message=message, usage=usage):
            return message if usage is None else f"{message}\nUsage: {usage}"
        case Failure(message=message):
            return message
        case _:
            assert_never(reply)


def _render_list(view: ListView) -> str:
    rows = [view.heading]
    if not view.items:
        rows.append(view.empty_note)
    rows += [_entry(item) for item in view.items]
    if view.nav is not None:
        moves = [_page_hint(t.command, t.args) for t in (view.nav.previous, view.nav.next) if t]
        rows.append(f"Page {view.nav.page}. " + " · ".join(moves))
    if view.footer:
        rows.append(view.footer)
    return "\n".join(rows)


def _page_hint(command: str, args: tuple[str, ...]) -> str:
    # Quoted as typed, so that pasting the hint back reads the same words.
    return "/" + " ".join(quote(word) or word for word in (command, *args))


def _entry(item: ListItem) -> str:
    paper = item.paper
    lines = [f"{item.rank:>2}. {_title(paper)} — {item.counts.line}"]
    meta = [paper.authors_line] if paper.authors else []
    if paper.published:
        meta.append(paper.published.isoformat())
    if paper.categories:
        meta.append(" ".join(paper.categories[:3]))
    if meta:
        lines.append("    " + " · ".join(meta))
    if paper.links:
        lines.append("    " + paper.links[0].url)
    return "\n".join(lines)


def _render_card(card: CardView) -> str:
    paper = card.paper
    rows = [_title(paper)]
    if paper.authors:
        rows.append(authors_line(paper.authors, CARD_AUTHORS))
    facts = [f"arXiv:{paper.arxiv_id}"]
    if paper.published:
        facts.append(paper.published.isoformat())
    if paper.categories:
        facts.append(" ".join(paper.categories))
    rows.append(" · ".join(facts))
    if paper.abstract:
        rows += ["", _shorten(paper.abstract, ABSTRACT_CHARS)]
    rows += ["", card.counts.line]
    daily = card.daily
    if daily.counts:
        rows.append(f"Last {len(daily.counts)} days: {daily.sparkline}  (from {daily.first_day})")
    rows.append(f"Rank now: #{card.rank}" if card.rank else "Rank now: not in the trending top 200")
    if card.score_terms:
        parts = " + ".join(f"{t.network} {t.points:.2f}" for t in card.score_terms)
        rows.append(f"Score {card.score:.2f} = {parts}")
    if card.top_posts:
        rows.append("Top posts:")
        rows += [_post_line(p) for p in card.top_posts]
    rows.append(" · ".join(f"{link.label}: {link.url}" for link in paper.links))
    if card.note:
        rows.append(card.note)
    return "\n".join(rows)


def _title(paper: PaperView) -> str:
    return f"{paper.display_title} (details pending)" if paper.pending else paper.display_title


def _post_line(post: PostView) -> str:
    words = [w for w in (_shorten(post.text or "", 100), post.url) if w]
    return f"  - {post.network} {post.author}: " + " ".join(words)


def _shorten(text: str, limit: int) -> str:
    """Cut one-line text at a word boundary to at most `limit` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"
