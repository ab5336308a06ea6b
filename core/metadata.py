"""Paper metadata from arXiv: on demand for `/paper`, in the background for everything else.

Ranking never waits for arXiv: a paper without metadata is shown by its id until a later fill.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from core.faults import describe_error
from core.models import Paper
from core.ports import Clock, MetadataSource, PaperRepository, SourceUnavailable

logger = logging.getLogger(__name__)

BATCH = 100  # the arXiv API's id_list takes up to 100 ids per request
QUIET = timedelta(minutes=1)  # after a failure, answer at once instead of waiting on arXiv again


class MetadataService:
    """Looks papers up on arXiv and keeps what it learns in the repository.

    Args:
        repo: Where papers are read and kept.
        source: arXiv; None turns lookups off.
        clock: The time of failures and of ids arXiv does not know.
        lookup_timeout: How long `/paper` waits on its one try of arXiv.
        fills_later: Whether a background fill runs in this process, so a lookup that failed
            can promise the details; a one-shot command tells the user to try again instead.
    """

    def __init__(
        self,
        repo: PaperRepository,
        source: MetadataSource | None,
        clock: Clock,
        *,
        lookup_timeout: float = 8.0,
        fills_later: bool = True,
    ) -> None:
        self._repo = repo
        self._source = source
        self._clock = clock
        self._timeout = lookup_timeout
        self._failed_at: datetime | None = None
        self._fills_later = fills_later

    def _unreachable(self, stored: Paper | None) -> str:
        # The fill completes only papers in the store: an unknown id will not follow by itself.
        follows = self._fills_later and stored is not None
        return "arXiv could not be reached just now; " + (
            "details will follow later." if follows else "try again later."
        )

    @property
    def _recently_failed(self) -> bool:
        return self._failed_at is not None and self._clock.now() - self._failed_at < QUIET

    async def describe(self, arxiv_id: str) -> tuple[Paper | None, str | None]:
        """Return the paper as well as we can know it now, and a note when arXiv failed us.

        The paper is None only when neither the store nor arXiv knows the id.
        """
        return await self.complete(arxiv_id, await self._repo.get_paper(arxiv_id))

    async def complete(
        self, arxiv_id: str, stored: Paper | None
    ) -> tuple[Paper | None, str | None]:
        """As `describe`, for a paper already read from the store (None: not stored)."""
        if stored is not None and stored.has_metadata:
            return stored, None
        if self._source is None:
            return stored, "arXiv lookups are off; showing what was shared."
        if self._recently_failed:
            return stored, self._unreachable(stored)
        try:
            # Someone is waiting: one try within the timeout; retries are the fill's business.
            async with asyncio.timeout(self._timeout):
                found = await self._source.fetch([arxiv_id], retry=False)
        except (SourceUnavailable, TimeoutError) as exc:
            logger.warning("arXiv lookup of %s failed: %s", arxiv_id, describe_error(exc))
            self._failed_at = self._clock.now()
            return stored, self._unreachable(stored)
        self._failed_at = None
        if not found:
            await self._repo.mark_unknown([arxiv_id], self._clock.now())
            return stored, None if stored is None else "arXiv does not describe this id."
        await self._repo.save_papers(found)
        return found[0], None

    async def fill_missing(self, limit: int = 1000) -> int:
        """Fetch metadata of papers that lack it, most shared first; return how many arrived.

        Stops quietly at the first arXiv failure: the next fill carries on.
        """
        if self._source is None:
            return 0
        filled = 0
        while filled < limit:
            ids = await self._repo.missing_metadata(min(BATCH, limit - filled))
            if not ids:
                break
            try:
                papers = await self._source.fetch(ids)
            except SourceUnavailable as exc:
                logger.warning("arXiv metadata fill stopped: %s", describe_error(exc))
                self._failed_at = self._clock.now()
                break
            self._failed_at = None
            await self._repo.save_papers(papers)
            known = {p.arxiv_id for p in papers}
            await self._repo.mark_unknown([i for i in ids if i not in known], self._clock.now())
            filled += len(papers)
            if len(known) == 0:
                break
        return filled
