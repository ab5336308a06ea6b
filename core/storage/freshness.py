"""Keep stored window scores true as time passes.

A paper's stored counts change without any new row when one of its shares or snapshots leaves
a window. Those are exactly the rows whose time lies between `as_of - window` and
`now - window`, so each sweep refreshes only those papers, through indexes on time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ranking import WINDOW_LENGTHS, RankingConfig
from core.storage.fold import fold_shares
from core.storage.refresh import refresh_papers
from core.storage.tables import MentionRow, MetaRow, PaperRow, SnapshotRow

AS_OF = "scores_as_of"
SIGNATURE = "scores_signature"


async def ensure_fresh(session: AsyncSession, now: datetime, config: RankingConfig) -> None:
    """Refresh every paper whose stored scores differ from what they are at `now`."""
    as_of_row = await session.get(MetaRow, AS_OF)
    signature_row = await session.get(MetaRow, SIGNATURE)
    if signature_row is None or signature_row.value != config.signature:
        # Weights or half-life changed: every stored score is stale.
        ids = (await session.execute(select(PaperRow.arxiv_id))).scalars().all()
        await refresh_papers(session, ids, now, config)
    elif as_of_row is not None:
        as_of = datetime.fromisoformat(as_of_row.value)
        # Brought forward from their stored state (see storage.fold), not recomputed.
        await fold_shares(session, (), now, config, await _expiring(session, as_of, now))
    await session.merge(MetaRow(key=SIGNATURE, value=config.signature))
    await session.merge(MetaRow(key=AS_OF, value=now.isoformat()))


async def _expiring(session: AsyncSession, as_of: datetime, now: datetime) -> set[str]:
    low_now, high_now = sorted((as_of, now))
    ids: set[str] = set()
    for length in WINDOW_LENGTHS.values():
        if length is None:
            continue
        low, high = low_now - length, high_now - length
        # Papers with a share in the range: a superset of those with a sharer whose last
        # share is there, which fold_shares then counts exactly.
        shares = select(MentionRow.arxiv_id).where(
            MentionRow.posted_at >= low, MentionRow.posted_at <= high
        )
        votes = select(SnapshotRow.arxiv_id).where(
            SnapshotRow.taken_at >= low, SnapshotRow.taken_at <= high
        )
        ids.update((await session.execute(shares.distinct())).scalars())
        ids.update((await session.execute(votes.distinct())).scalars())
    return ids
