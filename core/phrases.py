"""Plain words every platform shows the same way (no markup): network names and units."""

from __future__ import annotations

SOURCE_NAMES = {
    "x": "X",
    "bluesky": "Bluesky",
    "mastodon": "Mastodon",
    "hackernews": "HN",
    "reddit": "Reddit",
    "huggingface": "HF",
    "arxiv": "arXiv",
}
VOTE_UNITS = {"hackernews": "pts", "reddit": "pts", "huggingface": "upvotes", "mastodon": "uses"}


def source_name(source: str) -> str:
    """How a source is called in replies."""
    return SOURCE_NAMES.get(source, source)


def shares_phrase(total: int) -> str:
    """`1 share`, `12 shares`."""
    return f"{total} share{'s' if total != 1 else ''}"
