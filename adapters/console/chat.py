"""The console chat: commands line by line from a terminal or a pipe, replies as plain text."""

from __future__ import annotations

import asyncio
import contextlib
import threading
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
    while True:
        if prompt:
            stdout.write("> ")
            stdout.flush()
        line = await read_line(stdin)
        if not line or line.strip().lower() in QUIT:
            break
        answer = await answer_line(registry, line)
        if answer:
            stdout.write(answer + "\n\n" if prompt else answer + "\n")
            stdout.flush()


async def read_line(stdin: TextIO) -> str:
    """Read one line without blocking the event loop, and without holding up its shutdown.

    The executor's threads are joined when the loop shuts down, so Ctrl-C at the prompt (which
    cancels the chat) would wait for Enter; a daemon thread is left to the interpreter's exit.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[str] = loop.create_future()

    def settle(line: str) -> None:
        if not done.done():
            done.set_result(line)

    def read() -> None:
        try:
            line = stdin.readline()
        except (OSError, ValueError):  # closed or unreadable input: the chat ends
            line = ""
        with contextlib.suppress(RuntimeError):  # the loop closed while we waited: nobody asks
            loop.call_soon_threadsafe(settle, line)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return await done


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
