"""Discord markdown for dynamic strings: escaped, mention-proof and cut to a limit."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from discord.utils import escape_markdown, escape_mentions

from core.replies import Link
from core.views import Counts, authors_line, one_line

ELLIPSIS = "…"
BLANK = "\u200b"  # Discord rejects empty field names and values
URL_LIMIT = 512  # of a link button, and our cap for every other URL too

# `escape_mentions` leaves channel mentions (`<#id>`) alone, and user and role mentions only
# when the id has 17 to 20 digits; a zero-width space after the sigil defuses the rest.
_MENTION_SIGIL = re.compile(r"<(#|@[!&]?)(?=\d)")
_URL_ESCAPES = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"})
_MASS_MENTION = re.compile(r"@(?=everyone|here)")


def escape(text: str) -> str:
    """Escape markdown and neutralise @everyone, @here, user, role and channel mentions.

    `escape_markdown` treats a masked link `[..](..)` as one unit matched greedily, so in
    "[a](b) **x** [c](d)" everything between the first `[` and the last `)` would stay
    unescaped; escaping each run between brackets separately avoids that.
    """
    runs = (escape_markdown(run) for run in text.split("["))
    return neutralise_mentions("\\[".join(runs))


def neutralise_mentions(text: str) -> str:
    """Make @everyone, @here and user, role and channel mentions show as typed, pinging nobody.

    Messages carry `AllowedMentions.none()` as well; this keeps the text from looking like a
    live mention (a channel mention renders as a link even when nobody is pinged).
    """
    return _MENTION_SIGIL.sub("<\\1\u200b", escape_mentions(text))


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
    """An http(s) URL safe for a link button or a masked link, or None for anything else.

    None for a URL that, made safe, is longer than a link button takes (512), or that holds a
    line break or another control or invisible character, which Discord rejects or would hide.
    """
    if not url.startswith(("https://", "http://")) or any(map(_unprintable, url)):
        return None
    # Characters that would end a masked link `[..](..)` early, or start a mention in it.
    safe = _MASS_MENTION.sub("%40", url.translate(_URL_ESCAPES))
    return safe if len(safe) <= URL_LIMIT else None


def _unprintable(char: str) -> bool:
    # Cc control, Cf format (zero-width, bidi), Co/Cs/Cn, and Zl/Zp line and paragraph breaks.
    category = unicodedata.category(char)
    return category[0] == "C" or category in ("Zl", "Zp")


def link_line(links: Sequence[Link], limit: int = 1024) -> str:
    """Masked links such as `[abs](…) · [pdf](…)`, as many as fit in `limit`.

    Links that are not http(s), or not safe (see `safe_url`), are left out.
    """
    shown = []
    for link in links:
        url = safe_url(link.url)
        if url is not None:
            shown.append(f"[{clean(one_line(link.label), 40)}]({url})")
    return join_within(shown, limit, sep=" · ")


def counts_line(counts: Counts, limit: int = 1024) -> str:
    """The counts line, e.g. `12 shares (X 9, Bluesky 3) · HN 210 pts`, escaped.

    A paper shared on many networks does not fit a field: the networks that do not fit in
    `limit` are then counted as "and N more".
    """
    full = escape(counts.line)
    if len(full) <= limit:
        return full
    votes = [clean(v.term, 60) for v in counts.votes]
    parts = []
    if counts.total_shares:
        head = f"{counts.shares_phrase} ("
        room = (limit if not votes else limit // 2) - len(head) - 1
        terms = (clean(s.term, 60) for s in counts.shares)
        parts.append(f"{head}{join_within(terms, room, sep=', ', more='and {n} more')})")
    return join_within([*parts, *votes], limit, sep=" · ", more="and {n} more")


def authors_short(authors: Sequence[str], limit: int = 100) -> str:
    """The authors line (three, then `et al.`), escaped and cut to `limit`."""
    return clean(authors_line(authors), limit)


def authors_full(authors: Sequence[str], limit: int) -> str:
    """As many authors as fit in `limit`, then how many more there are."""
    return join_within((clean(a, 100) for a in authors), limit, sep=", ", more="and {n} more")
