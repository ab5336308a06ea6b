"""Plain-text rendering of replies for the terminal."""

from __future__ import annotations

from typing import assert_never

from core.grammar import quote
from core.phrases import counts_phrase, short_authors, shorten, source_name, title_of
from core.replies import (
    Failure,
    Help,
    PaperCard,
    PaperList,
    Post,
    Problem,
    RankedPaper,
    Reply,
    Text,
)

ABSTRACT_CHARS = 600


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
            return _render_list(reply)
        case PaperCard():
            return _render_card(reply)
        case Problem(message=message, usage=usage):
            return message if usage is None else f"{message}\nUsage: {usage}"
        case Failure(message=message):
            return message
        case _:
            assert_never(reply)


def _render_list(reply: PaperList) -> str:
    rows = [reply.heading]
    if not reply.papers:
        rows.append(reply.empty_note)
    rows += [_entry(p) for p in reply.papers]
    if reply.paging is not None:
        paging = reply.paging
        moves = []
        if paging.has_previous:
            moves.append(_page_hint(paging.command, paging.args_for(paging.page - 1)))
        if paging.has_next:
            moves.append(_page_hint(paging.command, paging.args_for(paging.page + 1)))
        rows.append(f"Page {paging.page}. " + " · ".join(moves))
    if reply.footer:
        rows.append(reply.footer)
    return "\n".join(rows)


def _page_hint(command: str, args: tuple[str, ...]) -> str:
    # Quoted as typed, so that pasting the hint back reads the same words.
    return "/" + " ".join(quote(word) or word for word in (command, *args))


def _entry(item: RankedPaper) -> str:
    paper = item.paper
    lines = [f"{item.rank:>2}. {title_of(paper)} — {counts_phrase(item.sources)}"]
    meta = [short_authors(paper.authors)] if paper.authors else []
    if paper.published:
        meta.append(paper.published.date().isoformat())
    if paper.categories:
        meta.append(" ".join(paper.categories[:3]))
    if meta:
        lines.append("    " + " · ".join(meta))
    if item.links:
        lines.append("    " + item.links[0].url)
    return "\n".join(lines)


def _render_card(card: PaperCard) -> str:
    paper = card.paper
    rows = [title_of(paper)]
    if paper.authors:
        rows.append(short_authors(paper.authors, 10))
    facts = [f"arXiv:{paper.arxiv_id}"]
    if paper.published:
        facts.append(paper.published.date().isoformat())
    if paper.categories:
        facts.append(" ".join(paper.categories))
    rows.append(" · ".join(facts))
    if paper.abstract:
        rows += ["", shorten(paper.abstract, ABSTRACT_CHARS)]
    rows += ["", counts_phrase(card.sources)]
    rows.append(f"Last 14 days: {card.sparkline}  (from {card.first_day.isoformat()})")
    rows.append(f"Rank now: #{card.rank}" if card.rank else "Rank now: not in the trending top 200")
    if card.score_parts:
        parts = " + ".join(f"{source_name(p.source)} {p.points:.2f}" for p in card.score_parts)
        rows.append(f"Score {card.score:.2f} = {parts}")
    if card.top_posts:
        rows.append("Top posts:")
        rows += [_post_line(p) for p in card.top_posts]
    rows.append(" · ".join(f"{link.label}: {link.url}" for link in card.links))
    if card.note:
        rows.append(card.note)
    return "\n".join(rows)


def _post_line(post: Post) -> str:
    words = [w for w in (shorten(post.text or "", 100), post.url) if w]
    return f"  - {source_name(post.source)} {post.author}: " + " ".join(words)
