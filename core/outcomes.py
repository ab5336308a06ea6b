"""Recording what became of sent digests in batches, once the platform has answered.

A transaction a delivery costs more CPU than the send itself, so the sender hands each outcome
to an `OutcomeRecorder`, which writes them together: a batch when `batch` are waiting or
`delay` seconds after the first, whichever comes first, and the rest on `close`.

An outcome is added only after the platform accepted (or refused) the message, and until it is
written its delivery stays `sending`. So a crash can repeat only deliveries that were claimed and
not yet recorded, which DESIGN.md section 6 counts as in flight; the delay bounds how many more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.faults import log_failure
from core.subscriptions import Outcome, SubscriptionStore

logger = logging.getLogger(__name__)

RETRY_PAUSE = 1.0  # after a failed write, before the next try


class OutcomeRecorder:
    """Writes outcomes to the store in batches; `close` writes the rest and says if it could."""

    def __init__(self, store: SubscriptionStore, *, batch: int = 64, delay: float = 0.1) -> None:
        self._store = store
        self._batch = batch
        self._delay = delay
        self._pending: list[Outcome] = []
        self._full = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one write at a time: SQLite has a single writer anyway

    def add(self, outcome: Outcome) -> None:
        """Queue an outcome to be written soon."""
        self._pending.append(outcome)
        if len(self._pending) >= self._batch:
            self._full.set()
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write_soon())

    async def flush(self) -> None:
        """Write what is queued now; if that fails, it stays queued and the error is raised."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await self._store.finish_many(batch)
            except BaseException:
                self._pending[:0] = batch
                raise

    async def close(self) -> None:
        """Write everything queued, after any write in progress.

        Raises:
            Exception: what the store raised; those deliveries stay `sending` until their
                lease ends, and are then sent again.
        """
        writer = self._writer
        if writer is not None:
            self._full.set()
            # Shielded: a sender being cancelled must not abort a write half done.
            with contextlib.suppress(Exception):
                await asyncio.shield(writer)
        await self.flush()

    async def _write_soon(self) -> None:
        try:
            while self._pending:
                if len(self._pending) < self._batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full.wait(), self._delay)
                self._full.clear()
                await self.flush()
        except Exception as exc:
            # Kept queued: the next batch or `close` tries again.
            n = len(self._pending)
            log_failure(logger, exc, "recording %d digest outcomes failed", n, then="kept to retry")
            await asyncio.sleep(RETRY_PAUSE)
        finally:
            self._writer = None
