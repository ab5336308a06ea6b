"""The rows an installation at each revision held after the story of test_migration_stairway.

Written by the stores of that revision at NOW (2026-11-26 12:00 UTC), as they stored them;
ids are left to the database, which gives them in the order of the rows.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

Rows = dict[str, list[dict[str, Any]]]


def _t(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


SIGNAL_ROWS: Rows = {
    "mentions": [
        {
            "source": "bluesky",
            "post_id": "at://alice/1",
            "arxiv_id": "2401.00001",
            "author": "alice.bsky.social",
            "posted_at": _t("2026-11-26 11:00:00"),
            "kind": "post",
            "version": 2,
            "url": "https://arxiv.org/abs/2401.00001v2",
            "text": "Sinks!",
            "engagement": 3,
        },
        {
            "source": "bluesky",
            "post_id": "at://bob/1",
            "arxiv_id": "2401.00001",
            "author": "bob.bsky.social",
            "posted_at": _t("2026-11-26 10:00:00"),
            "kind": "repost",
            "version": None,
            "url": None,
            "text": None,
            "engagement": 0,
        },
        {
            "source": "bluesky",
            "post_id": "at://dave/1",
            "arxiv_id": "2401.00002",
            "author": "dave.bsky.social",
            "posted_at": _t("2026-11-26 07:00:00"),
            "kind": "post",
            "version": None,
            "url": None,
            "text": None,
            "engagement": 0,
        },
        {
            "source": "mastodon",
            "post_id": "https://m.example/@carol/1",
            "arxiv_id": "2401.00001",
            "author": "carol@m.example",
            "posted_at": _t("2026-11-26 09:00:00"),
            "kind": "post",
            "version": None,
            "url": None,
            "text": None,
            "engagement": 0,
        },
        {
            "source": "x",
            "post_id": "1860000000000000001",
            "arxiv_id": "2401.00002",
            "author": "erin",
            "posted_at": _t("2026-11-25 06:00:00"),
            "kind": "quote",
            "version": None,
            "url": None,
            "text": None,
            "engagement": 0,
        },
        {
            "source": "mastodon",
            "post_id": "https://m.example/@frank/1",
            "arxiv_id": "2401.00003",
            "author": "frank@m.example",
            "posted_at": _t("2026-11-16 12:00:00"),
            "kind": "post",
            "version": None,
            "url": None,
            "text": None,
            "engagement": 0,
        },
    ],
    "meta": [],
    "paper_signals": [
        {
            "arxiv_id": "2401.00001",
            "source": "bluesky",
            "kind": "share",
            "day": 2.0,
            "week": 2.0,
            "month": 2.0,
            "total": 2.0,
            "trend": 2522.4376504173374,
            "comments": 0,
        },
        {
            "arxiv_id": "2401.00001",
            "source": "mastodon",
            "kind": "share",
            "day": 1.0,
            "week": 1.0,
            "month": 1.0,
            "total": 1.0,
            "trend": 2521.375,
            "comments": 0,
        },
        {
            "arxiv_id": "2401.00002",
            "source": "bluesky",
            "kind": "share",
            "day": 1.0,
            "week": 1.0,
            "month": 1.0,
            "total": 1.0,
            "trend": 2521.2916666666665,
            "comments": 0,
        },
        {
            "arxiv_id": "2401.00002",
            "source": "hackernews",
            "kind": "vote",
            "day": 60.0,
            "week": 60.0,
            "month": 60.0,
            "total": 60.0,
            "trend": 2527.2226306647144,
            "comments": 14,
        },
        {
            "arxiv_id": "2401.00002",
            "source": "x",
            "kind": "share",
            "day": 0.0,
            "week": 1.0,
            "month": 1.0,
            "total": 1.0,
            "trend": 2520.25,
            "comments": 0,
        },
        {
            "arxiv_id": "2401.00003",
            "source": "mastodon",
            "kind": "share",
            "day": 0.0,
            "week": 0.0,
            "month": 1.0,
            "total": 1.0,
            "trend": 2511.5,
            "comments": 0,
        },
    ],
    "papers": [
        {
            "arxiv_id": "2401.00001",
            "title": "Attention Sinks",
            "authors": '["Ann Lee", "Bo Chen"]',
            "abstract": "Sinks keep long contexts stable.",
            "categories": " cs.LG cs.CL ",
            "published": _t("2026-11-24 12:00:00"),
            "updated": _t("2026-11-24 12:00:00"),
            "version": 2,
            "search_text": "attention sinks sinks keep long contexts stable.",
            "metadata_at": _t("2026-11-26 12:00:00"),
            "unknown_at": None,
            "first_seen_at": _t("2026-11-26 12:00:00"),
            "last_share_at": _t("2026-11-26 11:00:00"),
            "scores_at": _t("2026-11-26 12:00:00"),
            "score_day": 3.0,
            "score_week": 3.0,
            "score_month": 3.0,
            "score_all": 3.0,
            "networks_day": 2,
            "networks_week": 2,
            "networks_month": 2,
            "networks_all": 2,
            "trend_shares": 2523.0020302663493,
            "trend_votes": -1e308,
        },
        {
            "arxiv_id": "2401.00002",
            "title": "Sparse Experts",
            "authors": '["Cy Diaz"]',
            "abstract": "Mixtures for tabular data.",
            "categories": " stat.ML ",
            "published": _t("2026-11-23 12:00:00"),
            "updated": _t("2026-11-23 12:00:00"),
            "version": 1,
            "search_text": "sparse experts mixtures for tabular data.",
            "metadata_at": _t("2026-11-26 12:00:00"),
            "unknown_at": None,
            "first_seen_at": _t("2026-11-26 12:00:00"),
            "last_share_at": _t("2026-11-26 07:00:00"),
            "scores_at": _t("2026-11-26 12:00:00"),
            "score_day": 6.930737337562887,
            "score_week": 7.930737337562887,
            "score_month": 7.930737337562887,
            "score_all": 7.930737337562887,
            "networks_day": 2,
            "networks_week": 3,
            "networks_month": 3,
            "networks_all": 3,
            "trend_shares": 2521.8628735553034,
            "trend_votes": 2527.2226306647144,
        },
        {
            "arxiv_id": "2401.00003",
            "title": None,
            "authors": None,
            "abstract": None,
            "categories": None,
            "published": None,
            "updated": None,
            "version": None,
            "search_text": None,
            "metadata_at": None,
            "unknown_at": None,
            "first_seen_at": _t("2026-11-26 12:00:00"),
            "last_share_at": _t("2026-11-16 12:00:00"),
            "scores_at": _t("2026-11-26 12:00:00"),
            "score_day": 0.0,
            "score_week": 0.0,
            "score_month": 1.0,
            "score_all": 1.0,
            "networks_day": 0,
            "networks_week": 0,
            "networks_month": 1,
            "networks_all": 1,
            "trend_shares": 2511.5,
            "trend_votes": -1e308,
        },
    ],
    "sharers": [
        {
            "arxiv_id": "2401.00001",
            "source": "bluesky",
            "author": "alice.bsky.social",
            "first_at": _t("2026-11-26 11:00:00"),
            "last_at": _t("2026-11-26 11:00:00"),
        },
        {
            "arxiv_id": "2401.00001",
            "source": "bluesky",
            "author": "bob.bsky.social",
            "first_at": _t("2026-11-26 10:00:00"),
            "last_at": _t("2026-11-26 10:00:00"),
        },
        {
            "arxiv_id": "2401.00001",
            "source": "mastodon",
            "author": "carol@m.example",
            "first_at": _t("2026-11-26 09:00:00"),
            "last_at": _t("2026-11-26 09:00:00"),
        },
        {
            "arxiv_id": "2401.00002",
            "source": "bluesky",
            "author": "dave.bsky.social",
            "first_at": _t("2026-11-26 07:00:00"),
            "last_at": _t("2026-11-26 07:00:00"),
        },
        {
            "arxiv_id": "2401.00002",
            "source": "x",
            "author": "erin",
            "first_at": _t("2026-11-25 06:00:00"),
            "last_at": _t("2026-11-25 06:00:00"),
        },
        {
            "arxiv_id": "2401.00003",
            "source": "mastodon",
            "author": "frank@m.example",
            "first_at": _t("2026-11-16 12:00:00"),
            "last_at": _t("2026-11-16 12:00:00"),
        },
    ],
    "source_cursors": [
        {
            "source": "bluesky",
            "cursor": "1764158400000000",
            "updated_at": _t("2026-11-26 12:00:00"),
        },
        {"source": "hackernews", "cursor": "1764154800", "updated_at": _t("2026-11-26 12:00:00")},
    ],
    "source_health": [
        {
            "source": "hackernews",
            "last_success": _t("2026-11-26 10:00:00"),
            "last_error": None,
            "last_error_at": None,
            "items_seen": 2,
            "consecutive_failures": 0,
        },
        {
            "source": "x",
            "last_success": _t("2026-11-25 06:00:00"),
            "last_error": "HTTP 429 from api.x.com",
            "last_error_at": _t("2026-11-26 11:00:00"),
            "items_seen": 1,
            "consecutive_failures": 2,
        },
    ],
    "vote_snapshots": [
        {
            "source": "hackernews",
            "item_id": "41000001",
            "arxiv_id": "2401.00002",
            "taken_at": _t("2026-11-25 16:00:00"),
            "votes": 10,
            "comments": 2,
            "url": "https://news.ycombinator.com/item?id=41000001",
            "title": "Sparse Experts",
        },
        {
            "source": "hackernews",
            "item_id": "41000001",
            "arxiv_id": "2401.00002",
            "taken_at": _t("2026-11-26 10:00:00"),
            "votes": 60,
            "comments": 14,
            "url": "https://news.ycombinator.com/item?id=41000001",
            "title": "Sparse Experts",
        },
    ],
}
DIGEST_ROWS: Rows = {
    "deliveries": [
        {
            "platform": "telegram",
            "chat_id": "-1001234",
            "local_date": date(2026, 11, 26),
            "due_at": _t("2026-11-26 07:30:00"),
            "status": "sent",
            "attempts": 1,
            "not_before": _t("2026-11-26 07:30:00"),
            "claimed_at": _t("2026-11-26 08:00:00"),
            "message_id": "77",
            "error": None,
            "finished_at": _t("2026-11-26 08:00:02"),
        },
        {
            "platform": "discord",
            "chat_id": "987654321",
            "local_date": date(2026, 11, 26),
            "due_at": _t("2026-11-26 09:00:00"),
            "status": "pending",
            "attempts": 0,
            "not_before": _t("2026-11-26 09:00:00"),
            "claimed_at": None,
            "message_id": None,
            "error": None,
            "finished_at": None,
        },
    ],
    "sent_papers": [
        {
            "platform": "telegram",
            "chat_id": "-1001234",
            "arxiv_id": "2401.00001",
            "sent_at": _t("2026-11-26 08:00:02"),
        },
    ],
    "subscriptions": [
        {
            "platform": "telegram",
            "chat_id": "-1001234",
            "minute_of_day": 450,
            "timezone": "Europe/Berlin",
            "size": 5,
            "categories": "cs.LG",
            "words": "",
            "active": True,
            "inactive_reason": None,
            "created_at": _t("2026-11-22 12:00:00"),
        },
        {
            "platform": "discord",
            "chat_id": "987654321",
            "minute_of_day": 540,
            "timezone": "UTC",
            "size": 3,
            "categories": "",
            "words": "experts",
            "active": True,
            "inactive_reason": None,
            "created_at": _t("2026-11-22 12:00:00"),
        },
    ],
}


# Revision 0005: one trending key per paper instead of a share key and a vote key (vote gains
# enter it as decayed log2(1 + gain) terms, so the vote signal's own sum changes too), no
# per-paper `scores_at`, and the windows' watermark and the scores' signature in `meta`.
_TREND_KEYS = {"2401.00001": 2523.002030266, "2401.00002": 2524.601243578, "2401.00003": 2511.5}
_HN_TREND = 2524.3670260233853
_DROPPED = {"scores_at", "trend_shares", "trend_votes"}
SIGNAL_ROWS_0005: Rows = {
    **SIGNAL_ROWS,
    "meta": [
        {"key": "scores_signature", "value": "h=86400;"},
        {"key": "swept_until", "value": "2026-11-26T12:00:00+00:00"},
    ],
    "paper_signals": [
        {**row, "trend": _HN_TREND} if row["kind"] == "vote" else row
        for row in SIGNAL_ROWS["paper_signals"]
    ],
    "papers": [
        {
            **{k: v for k, v in row.items() if k not in _DROPPED},
            "trend": _TREND_KEYS[row["arxiv_id"]],
        }
        for row in SIGNAL_ROWS["papers"]
    ],
}


# Revision 0006: follow lists, and whether a subscription's digest ranks from them (none yet).
DIGEST_ROWS_0006: Rows = {
    **DIGEST_ROWS,
    "subscriptions": [{**row, "following": False} for row in DIGEST_ROWS["subscriptions"]],
}
FOLLOW_ROWS: Rows = {
    "follows": [
        {
            "platform": "telegram",
            "chat_id": "-1001234",
            "network": "bluesky",
            "key": "did:plc:alice",
            "shown": "alice.bsky.social",
            "added_at": _t("2026-11-26 12:00:00"),
        },
        {
            "platform": "telegram",
            "chat_id": "-1001234",
            "network": "mastodon",
            "key": "carol@m.example",
            "shown": "carol@m.example",
            "added_at": _t("2026-11-26 12:00:00"),
        },
    ]
}


# Revision 0007: abstracts and search text in `paper_texts`, only for papers that had them.
_TEXTS = ("abstract", "search_text")
SIGNAL_ROWS_0007: Rows = {
    **SIGNAL_ROWS_0005,
    "papers": [
        {k: v for k, v in row.items() if k not in _TEXTS} for row in SIGNAL_ROWS_0005["papers"]
    ],
    "paper_texts": [
        {"arxiv_id": row["arxiv_id"], **{k: row[k] for k in _TEXTS}}
        for row in SIGNAL_ROWS_0005["papers"]
        if any(row[k] is not None for k in _TEXTS)
    ],
}


# Revision 0010: papers without the moment they were first seen, which nothing read.
SIGNAL_ROWS_0010: Rows = {
    **SIGNAL_ROWS_0007,
    "papers": [
        {k: v for k, v in row.items() if k != "first_seen_at"} for row in SIGNAL_ROWS_0007["papers"]
    ],
}


# Revision 0008: each chat's followed sharers, copied and summed per paper. Alice (by her
# handle) and Carol shared 2401.00001; the log-sums are `core.ranking.decay_exponent` of their
# first shares.
_ALICE_KEY = (datetime(2026, 11, 26, 11, tzinfo=UTC) - datetime(2020, 1, 1, tzinfo=UTC)) / (
    datetime(2020, 1, 2, tzinfo=UTC) - datetime(2020, 1, 1, tzinfo=UTC)
)
_CAROL_KEY = _ALICE_KEY - 2 / 24
FOLLOW_ROWS_0008: Rows = {
    **FOLLOW_ROWS,
    "follow_sharers": [
        {
            "platform": "telegram",
            "chat_id": "-1001234",
            "arxiv_id": "2401.00001",
            "source": source,
            "author": author,
            "first_at": _t(at),
            "last_at": _t(at),
        }
        for source, author, at in (
            ("bluesky", "alice.bsky.social", "2026-11-26 11:00:00"),
            ("mastodon", "carol@m.example", "2026-11-26 09:00:00"),
        )
    ],
    "follow_sums": [
        {
            "platform": "telegram",
            "chat_id": "-1001234",
            "arxiv_id": "2401.00001",
            "sharers": 2,
            "trend": _ALICE_KEY + math.log2(1 + 2 ** (_CAROL_KEY - _ALICE_KEY)),
            "oldest": _t("2026-11-26 09:00:00"),
            "newest": _t("2026-11-26 11:00:00"),
            "sharers_bluesky": 1,
            "trend_bluesky": _ALICE_KEY,
            "sharers_mastodon": 1,
            "trend_mastodon": _CAROL_KEY,
            "sharers_x": 0,
            "trend_x": -1e308,
        }
    ],
}
