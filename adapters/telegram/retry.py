"""Bot API calls within Telegram's flood limits, surviving 429s and flaky networks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from adapters.telegram.pacing import SteadyPace, retry_after_seconds
from core.backoff import Backoff
from core.faults import describe_error

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]

# httpx failures that happen before the request reaches Telegram, so resending cannot double it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
NETWORK_BACKOFF = Backoff(first=0.5, cap=8.0)
_GROUP_PERIOD = 60.0  # Telegram counts a group's messages per minute
_IDLE_GROUPS = 512  # past this many group limiters, the idle ones are dropped


class RetryingRateLimiter(BaseRateLimiter[int]):
    """Telegram's flood limits for every Bot API call, through PTB's public limiter interface.

    * Calls to a chat take the slots of a `SteadyPace` at `overall_max_rate` a second.
      PTB's `AIORateLimiter` keeps a bucket of a whole second of messages, so after any pause
      it lets twice the rate through within one second and Telegram answers 429.
    * Calls to a group or channel (a negative or `@name` chat id) also wait for that group's
      bucket of `group_max_rate` a minute, before taking an overall slot.
    * A `RetryAfter` pauses every call for as long as Telegram asked; the call is then made
      again, up to `max_retries` times (or a call's own `rate_limit_args`).
    * Dropped connections and timeouts are retried after a `backoff` wait, unless the request
      may have reached Telegram: resending a `send*` call could post the message twice.
      getUpdates never gets here (PTB's Updater has its own retry loop).

    A rate of 0 turns that limit off.
    """

    def __init__(
        self,
        *,
        overall_max_rate: float = FloodLimit.MESSAGES_PER_SECOND,
        group_max_rate: float = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: Backoff = NETWORK_BACKOFF,
    ) -> None:
        """Pace calls at `overall_max_rate` a second and `group_max_rate` a minute per group."""
        self._overall_max_rate = overall_max_rate
        self._group_max_rate = group_max_rate
        self._max_retries = max_retries
        self._network_retries = network_retries
        self._backoff = backoff
        self._pace = SteadyPace(overall_max_rate) if overall_max_rate > 0 else None
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._paused_until = float("-inf")

    @property
    def overall_max_rate(self) -> float:
        """Calls a second to any chat; 0 when off."""
        return self._overall_max_rate

    @property
    def group_max_rate(self) -> float:
        """Calls a minute to one group or channel; 0 when off."""
        return self._group_max_rate

    async def initialize(self) -> None:
        """Nothing to set up: the limits keep no connection and run nothing in the background."""

    async def shutdown(self) -> None:
        """Forget the group buckets; a restarted bot starts them afresh."""
        self._groups.clear()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Run one Bot API call under the rate limits, retrying what is safe to retry."""
        max_retries = rate_limit_args or self._max_retries
        floods = failures = 0
        while True:
            try:
                return await self._limited(callback, args, kwargs, data)
            except RetryAfter as exc:
                if floods >= max_retries:
                    logger.warning(
                        "Bot API %s: still rate limited after %d retries", endpoint, floods
                    )
                    raise
                floods += 1
                self._pause(retry_after_seconds(exc))
            except NetworkError as exc:
                if failures >= self._network_retries or not safe_to_retry(exc, endpoint):
                    raise
                delay = self._backoff.delay(failures)
                failures += 1
                logger.warning(
                    "Bot API %s failed (%s); retry %d in %.1f s",
                    endpoint,
                    describe_error(exc),
                    failures,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _limited(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        data: dict[str, Any],
    ) -> Result:
        chat_id = data.get("chat_id")
        group = self._group(chat_id) if chat_id is not None else None
        # The group's wait comes first, so a call held by its group holds no overall slot.
        async with group or contextlib.nullcontext():
            pace = self._pace if chat_id is not None else None
            if pace is not None:
                async with pace:  # waits out a pause too, and starts one on RetryAfter
                    return await callback(*args, **kwargs)
            await self._wait_out_pause()
            return await callback(*args, **kwargs)

    def _group(self, chat_id: object) -> AsyncLimiter | None:
        """The bucket of a group or channel; None for a private chat or with no group limit."""
        key = group_key(chat_id)
        if key is None or self._group_max_rate <= 0:
            return None
        if key not in self._groups and len(self._groups) >= _IDLE_GROUPS:
            for other, idle in list(self._groups.items()):
                if idle.has_capacity(idle.max_rate):  # full again: unused for a minute
                    del self._groups[other]
        bucket = self._groups.get(key)
        if bucket is None:
            bucket = self._groups[key] = AsyncLimiter(self._group_max_rate, _GROUP_PERIOD)
        return bucket

    def _pause(self, seconds: float) -> None:
        now = asyncio.get_running_loop().time()
        self._paused_until = max(self._paused_until, now + seconds)
        if self._pace is not None:
            self._pace.pause(seconds)

    async def _wait_out_pause(self) -> None:
        wait = self._paused_until - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)


def group_key(chat_id: object) -> int | str | None:
    """The chat id of a group or channel, or None for a private chat.

    Private chats have positive ids, groups and channels negative ones; a channel may also be
    named by its @username.
    """
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return chat_id
    return chat_id if isinstance(chat_id, int) and chat_id < 0 else None


def safe_to_retry(error: NetworkError, endpoint: str) -> bool:
    """Whether repeating `endpoint` after `error` cannot do harm.

    A BadRequest is an answer, not a network fault. Sending calls are repeated only if the
    request never left (a connect or pool failure); reads, answers and edits are idempotent.
    """
    if isinstance(error, BadRequest):
        return False
    if endpoint.startswith(("send", "forward", "copy")):
        return isinstance(error.__cause__, _NOT_SENT)
    return True
