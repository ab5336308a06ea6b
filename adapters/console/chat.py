"""The console chat: commands line by line from a terminal or a pipe, replies as plain text."""

from __future__ import annotations

import asyncio
from typing import TextIO

from adapters.console.render import render_reply
from core.grammar import split_command
from core.models import ChatRef
from core.registry import Registry, Request

QUIT = frozenset({"/quit", "/exit", "/q"})
CHAT = ChatRef("console", "console")


async def run_chat(registry: Registry, stdin: TextIO, stdout: TextIO, *, prompt: bool) -> None:
    """Answer commands until end of input or `/quit`.

    Reading happens in a thread so the event loop keeps serving background work.
    """
    loop = asyncio.get_running_loop()
    while True:
        if prompt:
            stdout.write("> ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip().lower() in QUIT:
            break
        answer = await answer_line(registry, line)
        if answer:
            stdout.write(answer + "\n\n" if prompt else answer + "\n")
            stdout.flush()


async def answer_line(registry: Registry, line: str) -> str | None:
    """Answer one typed line; blank lines get nothing, other text a hint."""
    if not line.strip():
        return None
    parsed = split_command(line)
    if parsed is None:
        return "Commands start with a slash. Try /help, /top or /quit."
    name, text = parsed
    # The console's user owns the chat, so admin commands are allowed here.
    reply = await registry.dispatch_text(name, text, Request(CHAT, "console", is_admin=True))
    return render_reply(reply)
