"""`SqlPaperMetadata`: what arXiv told us about papers, and which ids it still has to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import Paper
from core.ports import Clock
from core.storage.ranking_reads import PAPER_BY_ID, TEXTS, paper_from_row, reading
from core.storage.scores import PAPERS
from core.storage.tables import PaperRow
from core.storage.upsert import chunks, insert_for

UNKNOWN_RETRY = timedelta(days=1)  # ask arXiv again about an id it did not know


class SqlPaperMetadata:
    """Papers' arXiv metadata in one SQL database."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._factory = factory
        self._clock = clock

    async def save_papers(self, papers: Sequence[Paper]) -> None:
        """Insert or update papers' metadata; a paper without a title keeps what we had."""
        async with self._factory() as session, session.begin():
            await save_papers(session, papers, self._clock.now())

    async def get_paper(self, arxiv_id: str) -> Paper | None:
        """Return a tracked paper, with or without metadata."""
        async with reading(self._factory) as connection:
            row = (await connection.execute(PAPER_BY_ID, {"arxiv_id": arxiv_id})).first()
            return None if row is None else paper_from_row(row)

    async def missing_metadata(self, limit: int) -> list[str]:
        """Return ids arXiv has not described yet, most shared first."""
        retry = self._clock.now() - UNKNOWN_RETRY
        async with reading(self._factory) as connection:
            rows = await connection.execute(
                select(PaperRow.arxiv_id)
                .where(PaperRow.title.is_(None))
                .where(or_(PaperRow.unknown_at.is_(None), PaperRow.unknown_at < retry))
                .order_by(PaperRow.score_all.desc(), PaperRow.arxiv_id)
                .limit(limit)
            )
            return list(rows.scalars())

    async def mark_unknown(self, arxiv_ids: Sequence[str], now: datetime) -> None:
        """Remember ids arXiv did not know."""
        async with self._factory() as session, session.begin():
            for part in chunks(list(arxiv_ids)):
                await session.execute(
                    update(PaperRow).where(PaperRow.arxiv_id.in_(part)).values(unknown_at=now)
                )

    async def count_waiting(self) -> int:
        """How many shared papers still wait for arXiv's metadata."""
        waiting = select(func.count()).select_from(PaperRow).where(PaperRow.title.is_(None))
        async with reading(self._factory) as connection:
            return int((await connection.execute(waiting)).scalar_one())


async def save_papers(session: AsyncSession, papers: Sequence[Paper], now: datetime) -> None:
    """Write the metadata of described papers, adding their rows when new."""
    described = [p for p in papers if p.has_metadata]
    if not described:
        return
    # The ORM's bulk update below only updates: a paper described before its first share needs
    # its row first (scores' upserts make the rows of shared papers).
    ids = [{"arxiv_id": i} for i in sorted({p.arxiv_id for p in described})]
    await session.execute(insert_for(session, PAPERS).on_conflict_do_nothing(), ids)
    # A listing may not know what the API told us (a cross-list has no date): never blank
    # a known field. Rows with different keys are grouped into one executemany each.
    rows = [
        {k: v for k, v in _paper_values(p, now).items() if v is not None or k == "unknown_at"}
        for p in described
    ]
    await session.execute(update(PaperRow), rows)
    # Nor the abstract: a description without one keeps the known one, and its words.
    lacking = [p.arxiv_id for p in described if p.abstract is None]
    known: dict[str, str | None] = {}
    for part in chunks(lacking):
        found = select(TEXTS.c.arxiv_id, TEXTS.c.abstract).where(TEXTS.c.arxiv_id.in_(part))
        known.update((i, a) for i, a in await session.execute(found))
    texts = []
    for p in described:
        abstract = p.abstract if p.abstract is not None else known.get(p.arxiv_id)
        search_text = f"{p.title} {abstract or ''}".lower()
        texts.append({"arxiv_id": p.arxiv_id, "abstract": abstract, "search_text": search_text})
    stmt = insert_for(session, TEXTS)
    replaced = {"abstract": stmt.excluded.abstract, "search_text": stmt.excluded.search_text}
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["arxiv_id"], set_=replaced), texts
    )


def _paper_values(p: Paper, now: datetime) -> dict[str, Any]:
    return {
        "arxiv_id": p.arxiv_id,
        "title": p.title,
        "authors": json.dumps(list(p.authors), ensure_ascii=False) if p.authors else None,
        "categories": " " + " ".join(p.categories) + " " if p.categories else None,
        "published": p.published,
        "updated": p.updated,
        "version": p.version,
        "metadata_at": now,
        "unknown_at": None,
    }
