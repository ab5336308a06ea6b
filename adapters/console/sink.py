"""A digest sink that prints digests to a terminal, for trying subscriptions locally."""

from __future__ import annotations

from typing import TextIO

from adapters.console.render import render_reply
from core.models import ChatRef, Platform
from core.replies import Reply


class ConsoleDigestSink:
    """Prints each digest as plain text, followed by a blank line; it never fails a delivery."""

    platform: Platform = "console"

    def __init__(self, out: TextIO) -> None:
        self._out = out

    async def publish(self, chat: ChatRef, reply: Reply) -> None:
        """Print `reply`; a terminal has no message ids, so there is none to return."""
        self._out.write(render_reply(reply) + "\n\n")
        self._out.flush()
