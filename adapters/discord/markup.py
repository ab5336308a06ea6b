"""Discord markdown for dynamic strings: escaped, mention-proof and cut to a limit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from discord.utils import escape_markdown, escape_mentions

from core.models import SourceCounts
from core.phrases import counts_phrase, source_name
from core.replies import Link

ELLIPSIS = "…"
BLANK = "\u200b"  # Discord rejects empty field names and values


def escape(text: str) -> str:
    """Escape markdown and neutralise @everyone, @here, user and role mentions.

    `escape_markdown` treats a masked link `[..](..)` as one unit matched greedily, so in
    "[a](b) **x** [c](d)" everything between the first `[` and the last `)` would stay
    unescaped; escaping each run between brackets separately avoids that.
    """
    runs = (escape_markdown(run) for run in text.split("["))
    return escape_mentions("\\[".join(runs))


def oneline(text: str) -> str:
    """Collapse arXiv's hard line breaks and runs of spaces into single spaces."""
    return " ".join(text.split())


def clean(text: str, limit: int) -> str:
    """Escape `text` and cut it to at most `limit` characters, ending with an ellipsis if cut.

    Escaping can double the length, so the raw text is cut until its escaped form fits;
    cutting after escaping could leave half an escape sequence.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    keep = limit - 1
    while True:
        cut = escape(text[: max(keep, 0)].rstrip()) + ELLIPSIS
        if len(cut) <= limit or keep <= 0:
            return cut[-limit:] if len(cut) > limit else cut
        keep -= len(cut) - limit


def join_within(parts: Iterable[str], limit: int, *, sep: str = "\n", more: str = "") -> str:
    """Join already-escaped parts while they fit in `limit`, then say how many were left out.

    `more` may contain `{n}`, the number of parts left out; room for it is kept at every step,
    so the result never passes `limit`.
    """
    items = list(parts)
    out: list[str] = []
    for i, part in enumerate(items):
        left = len(items) - i - 1
        tail = sep + more.format(n=left) if more and left else ""
        if len(sep.join([*out, part]) + tail) > limit:
            rest = more.format(n=len(items) - i) if more else ""
            return sep.join([*out, rest] if rest else out)[:limit]
        out.append(part)
    return sep.join(out)


def safe_url(url: str) -> str | None:
    """An http(s) URL that cannot close a markdown link early, or None for anything else."""
    if not url.startswith(("https://", "http://")) or len(url) > 512:
        return None
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace(">", "%3E")


def link_line(links: Sequence[Link]) -> str:
    """Masked links such as `[abs](…) · [pdf](…)`; links that are not http(s) are left out."""
    shown = []
    for link in links:
        url = safe_url(link.url)
        if url is not None:
            shown.append(f"[{clean(oneline(link.label), 40)}]({url})")
    return " · ".join(shown)


def source_label(source: str) -> str:
    """How a source is shown, e.g. `hackernews` as `HN`."""
    return source_name(source)


def counts_line(sources: Sequence[SourceCounts]) -> str:
    """Counts per source, e.g. `12 shares (X 9, Bluesky 3) · HN 210 pts`, escaped."""
    return escape(counts_phrase(sources))


def authors_short(authors: Sequence[str], limit: int = 100) -> str:
    """The first three authors, then `et al.`, escaped and cut to `limit`."""
    names = [oneline(a) for a in authors[:3]]
    text = ", ".join(names) + (" et al." if len(authors) > 3 else "")
    return clean(text, limit)


def authors_full(authors: Sequence[str], limit: int) -> str:
    """As many authors as fit in `limit`, then how many more there are."""
    return join_within(
        (clean(oneline(a), 100) for a in authors), limit, sep=", ", more="and {n} more"
    )
