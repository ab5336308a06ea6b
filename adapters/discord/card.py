"""A paper card (`/paper`) as one embed with link buttons and an "Abstract" button."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import discord

from adapters.discord.markup import (
    BLANK,
    authors_full,
    clean,
    counts_line,
    join_within,
    safe_url,
)
from adapters.discord.message import (
    BUTTON_LABEL_LIMIT,
    COLOUR,
    FIELD_VALUE_LIMIT,
    SHOW,
    TITLE_LIMIT,
    ButtonSpec,
    RenderedMessage,
    button_id,
)
from core.replies import Link
from core.views import CardView, DailyShares, PostView, ScoreTerm, one_line

ABSTRACT_LIMIT = 1000  # shortened on the card; the "Abstract" button shows all of it
_POST_TEXT_LIMIT = 200
_LINK_BUTTONS = 4  # one row of five, with room for "Abstract"
_DAYS = 14


def render_card(card: CardView) -> RenderedMessage:
    """Render a paper card; it always fits one embed (every part is capped)."""
    paper = card.paper
    embed = discord.Embed(
        title=clean(paper.display_title, TITLE_LIMIT),
        url=_abs_url(paper.links),
        description=_description(card) or None,
        colour=COLOUR,
    )
    if paper.authors:
        embed.add_field(
            name="Authors",
            value=authors_full(paper.authors, FIELD_VALUE_LIMIT) or BLANK,
            inline=False,
        )
    if paper.published:
        version = f" (v{paper.version})" if paper.version else ""
        embed.add_field(name="Published", value=f"{paper.published.isoformat()}{version}")
    if paper.categories:
        embed.add_field(name="Categories", value=clean(", ".join(paper.categories), 200) or BLANK)
    embed.add_field(name="Shares", value=counts_line(card.counts), inline=False)
    embed.add_field(name="Last 14 days", value=_days(card.daily))
    embed.add_field(name="Rank", value=f"#{card.rank}" if card.rank else "not ranked")
    embed.add_field(name="Score", value=_score(card.score, card.score_terms), inline=False)
    if card.top_posts:
        embed.add_field(name="Top posts", value=_posts(card.top_posts), inline=False)
    embed.set_footer(text=clean(f"arXiv:{paper.arxiv_id}", 100))
    return RenderedMessage(embeds=[embed], buttons=_buttons(card))


def _description(card: CardView) -> str:
    parts = []
    if card.paper.abstract:
        parts.append(clean(card.paper.abstract, ABSTRACT_LIMIT))
    if card.note:
        parts.append(f"*{clean(one_line(card.note), 300)}*")
    return "\n\n".join(parts)


def _abs_url(links: Sequence[Link]) -> str | None:
    urls = [(link.label.lower(), safe_url(link.url)) for link in links]
    return next((u for label, u in urls if u and label == "abs"), None) or next(
        (u for _, u in urls if u), None
    )


def _days(daily: DailyShares) -> str:
    # The field is "Last 14 days": of a longer series, only the newest 14 days are shown.
    skipped = max(0, len(daily.counts) - _DAYS)
    first_day = daily.first_day + timedelta(days=skipped)
    bars = daily.sparkline[skipped:]
    return f"`{bars}` {sum(daily.counts[skipped:])} shares since {first_day:%d %b}"


def _score(score: float, parts: Sequence[ScoreTerm]) -> str:
    total = f"{score:.1f}"
    terms = [
        f"{clean(p.network, 30)} {p.points:.1f}"
        + (f" (weight {p.weight:g})" if p.weight != 1 else "")
        for p in parts
    ]
    room = FIELD_VALUE_LIMIT - len(total) - len(" = ")
    detail = join_within(terms, room, sep=" + ", more="{n} more")
    return total + (f" = {detail}" if detail else "")


def _posts(posts: Sequence[PostView]) -> str:
    lines = []
    for post in posts:
        text = clean(post.text or "", _POST_TEXT_LIMIT)
        url = safe_url(post.url) if post.url else None
        line = f"**{clean(post.network, 30)}** · {clean(post.author, 60)}"
        line += f": {text}" if text else ""
        line += f" [post]({url})" if url else ""
        lines.append(line)
    return join_within(lines, FIELD_VALUE_LIMIT, more="and {n} more")


def _buttons(card: CardView) -> tuple[ButtonSpec, ...]:
    buttons: list[ButtonSpec] = []
    for link in card.paper.links:
        url = safe_url(link.url)
        if url is not None and len(buttons) < _LINK_BUTTONS:
            label = one_line(link.label)[:BUTTON_LABEL_LIMIT] or "link"
            buttons.append(ButtonSpec(label, url=url))
    custom_id = button_id(SHOW, "paper", (card.paper.arxiv_id, "abstract"))
    if card.paper.abstract and custom_id is not None:
        buttons.append(ButtonSpec("Abstract", custom_id=custom_id))
    return tuple(buttons)
