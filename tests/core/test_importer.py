import json
from datetime import UTC, date, datetime

import pytest

from core.importer import BadLine, parse_line, read_mentions


def line(**fields) -> str:
    base = {
        "source": "x",
        "post_id": "1",
        "author": "Alice",
        "posted_at": "2016-07-22T10:00:00Z",
        "kind": "post",
        "url": "https://arxiv.org/pdf/1607.06450v1.pdf",
        "text": "Layer norm!",
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None})


def test_parse_line_reads_a_mention_with_its_version():
    [mention] = parse_line(line())
    assert mention.arxiv_id == "1607.06450"
    assert mention.version == 1
    assert mention.posted_at == datetime(2016, 7, 22, 10, tzinfo=UTC)
    assert mention.author == "alice"  # handles are case-insensitive on every network
    assert mention.kind == "post"


def test_parse_line_counts_a_post_for_every_paper_it_names():
    mentions = parse_line(
        line(url=None, text="compare arXiv:1706.03762 with hep-th/9901001 and 1706.03762")
    )
    assert [m.arxiv_id for m in mentions] == ["1706.03762", "hep-th/9901001"]
    assert {m.post_id for m in mentions} == {"1"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (line(source=None), "missing source"),
        (line(source="X Twitter"), "short lowercase name"),
        (line(kind="like"), "kind must be one of"),
        (line(post_id=None), "missing post_id"),
        (line(author=""), "missing author"),
        (line(posted_at="yesterday"), "not an ISO 8601 time"),
        (line(url="https://example.com", text="nothing here"), "no arXiv link"),
        (line(url=5), "url must be a string"),
        (line(engagement=-1), "engagement"),
        (line(author="a" * 300), "longer than"),
        (line(source="blusky"), "source 'blusky' is not a share network: bluesky, mastodon, x"),
        (line(source="hackernews"), "not a share network"),
        (line(url="https://arxiv.org/abs/1607.06450 x"), "whitespace or control characters"),
        (line(url=" https://arxiv.org/abs/1607.06450"), "whitespace or control characters"),
        (line(url="https://arxiv.org/abs/1607.06450\n"), "whitespace or control characters"),
        (line(url="https://arxiv.org/abs/\t1607.06450"), "whitespace or control characters"),
        (line(url="https://arxiv.org/abs/1607.06450\u0000"), "whitespace or control characters"),
        (line(url="https://arxiv.org/abs/1607.06450\u200b"), "whitespace or control characters"),
        (line(url="https://arxiv.org/abs/1607.06450\u0085"), "whitespace or control characters"),
    ],
)
def test_parse_line_rejects_bad_lines_with_a_short_reason(raw, reason):
    with pytest.raises(BadLine, match=reason):
        parse_line(raw)


def test_parse_line_takes_a_time_without_zone_as_utc():
    [mention] = parse_line(line(posted_at="2016-07-22T10:00:00"))
    assert mention.posted_at == datetime(2016, 7, 22, 10, tzinfo=UTC)


def test_read_mentions_reports_line_numbers_and_keeps_going():
    lines = [line(post_id="1"), "", "garbage", line(post_id="2", kind="repost"), line(kind="x")]
    batches = list(read_mentions(lines, batch=1))
    mentions = [m for batch, _ in batches for m in batch]
    problems = [p for _, batch in batches for p in batch]
    assert [m.post_id for m in mentions] == ["1", "2"]
    assert [p.line for p in problems] == [3, 5]
    assert str(problems[0]).startswith("line 3: not JSON")


@pytest.mark.parametrize("source", ["x", "bluesky", "mastodon", "Bluesky"])
def test_parse_line_takes_every_share_network(source):
    [mention] = parse_line(line(source=source))
    assert mention.source == source.lower()


def test_read_mentions_names_the_line_and_the_networks_of_an_unknown_source():
    lines = [line(post_id="1"), line(post_id="2", source="blusky"), line(post_id="3")]
    [(mentions, problems)] = list(read_mentions(lines))
    assert [m.post_id for m in mentions] == ["1", "3"]
    assert [str(p) for p in problems] == [
        "line 2: source 'blusky' is not a share network: bluesky, mastodon, x"
    ]


def test_parse_line_reads_no_id_of_a_month_to_come():
    future = line(url=None, text="arXiv:2701.00001 and 1607.06450")
    [mention] = parse_line(future, today=date(2026, 12, 5))
    assert mention.arxiv_id == "1607.06450"
    assert len(parse_line(future, today=date(2027, 1, 1))) == 2


def test_read_mentions_refuses_a_line_over_64_kib_and_imports_the_rest():
    huge = line(post_id="2", text="x" * 70_000)
    wide = line(post_id="3").replace("Layer norm!", "é" * 33_000)  # 33 k characters, 66 KB
    batches = list(read_mentions([line(post_id="1"), huge, wide, line(post_id="4")]))
    assert [m.post_id for batch, _ in batches for m in batch] == ["1", "4"]
    assert [str(p) for _, batch in batches for p in batch] == [
        "line 2: line longer than 64 KiB: not a share",
        "line 3: line longer than 64 KiB: not a share",
    ]
