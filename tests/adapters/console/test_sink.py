"""ConsoleDigestSink prints the plain-text digest and has no message id to give back."""

import io

from adapters.console.sink import ConsoleDigestSink
from core.delivery import DigestSink
from core.models import ChatRef, Paper, SourceCounts
from core.replies import Link, PaperList, RankedPaper

CHAT = ChatRef("console", "console")


def digest() -> PaperList:
    paper = Paper("1706.03762", title="Attention <is> all & you need", authors=("A", "B"))
    item = RankedPaper(
        1,
        paper,
        12.0,
        (SourceCounts("x", sharers=9), SourceCounts("hackernews", votes=210)),
        (Link("abs", "https://arxiv.org/abs/1706.03762"),),
    )
    return PaperList("Trending arXiv · Monday", (item,), footer="Not heard from lately: Reddit.")


async def test_console_sink_prints_each_digest_as_plain_text():
    out = io.StringIO()
    sink: DigestSink = ConsoleDigestSink(out)
    assert sink.platform == "console"

    assert await sink.publish(CHAT, digest()) is None
    assert await sink.publish(CHAT, PaperList("Empty day", (), empty_note="Nothing new.")) is None

    assert out.getvalue() == (
        "Trending arXiv · Monday\n"
        " 1. Attention <is> all & you need — 9 shares (X 9) · HN 210 pts\n"
        "    A, B\n"
        "    https://arxiv.org/abs/1706.03762\n"
        "Not heard from lately: Reddit.\n"
        "\n"
        "Empty day\n"
        "Nothing new.\n"
        "\n"
    )
