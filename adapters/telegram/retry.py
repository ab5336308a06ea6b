"""Bot API calls that survive flood limits and flaky networks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.constants import FloodLimit
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

from adapters.telegram.pacing import SteadyPace
from core.faults import describe_error

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]

# httpx failures that happen before the request reaches Telegram, so resending cannot double it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RetryingRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (Telegram's flood limits, `RetryAfter` obeyed) plus network retries.

    PTB retries neither dropped connections nor timeouts of ordinary calls; this retries them with
    exponential backoff. A `send*` call whose request may have reached Telegram is not retried,
    because resending could post the message twice. getUpdates never gets here (PTB's Updater has
    its own retry loop).
    """

    def __init__(
        self,
        *,
        overall_max_rate: float = FloodLimit.MESSAGES_PER_SECOND,
        group_max_rate: float = FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        """Pace calls at `overall_max_rate` a second and `group_max_rate` a minute per group.

        A rate of 0 turns that limit off (AIORateLimiter's convention).
        """
        super().__init__(
            overall_max_rate=overall_max_rate,
            group_max_rate=group_max_rate,
            max_retries=max_retries,
        )
        self._network_retries = network_retries
        self._backoff = backoff
        if overall_max_rate > 0:
            # PTB's bucket holds a whole second of messages, so after any pause it lets twice
            # the rate through within one second, and Telegram answers 429. Spacing messages
            # evenly keeps any one-second window within the rate.
            self._base_limiter = SteadyPace(overall_max_rate)

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
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as exc:
                if attempt >= self._network_retries or not safe_to_retry(exc, endpoint):
                    raise
                delay = self._backoff * 2**attempt
                attempt += 1
                logger.warning(
                    "Bot API %s failed (%s); retry %d in %.1f s",
                    endpoint,
                    describe_error(exc),
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)


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
