"""Ctrl-C in the console chat: the process leaves at once with status 130 and no traceback."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROMPT = b"> "


def read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            seen += os.read(fd, 4096)
    return seen


@pytest.mark.parametrize(
    ("line", "interrupts"),
    [(b"", 1), (b"", 2), (b"/top\n", 1), (b"/top\n", 2)],
    ids=["prompt-once", "prompt-twice", "command-once", "command-twice"],
)
def test_ctrl_c_leaves_the_chat_at_once_with_status_130(
    tmp_path: Path, line: bytes, interrupts: int
) -> None:
    master, slave = pty.openpty()  # a terminal: the chat prompts and reads as a user's would
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "SOURCES": "none",
        "ARXIV_API_URL": "http://127.0.0.1:9/api/query",
    }
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    os.close(slave)
    try:
        assert PROMPT in read_until(master, PROMPT, 60)
        if line:
            os.write(master, line)
        for _ in range(interrupts):
            chat.send_signal(signal.SIGINT)
            time.sleep(0.05)
        started = time.monotonic()
        status = chat.wait(timeout=10)
        waited = time.monotonic() - started
    finally:
        chat.kill()
        os.close(master)
    assert chat.stderr is not None
    errors = chat.stderr.read().decode()
    chat.stderr.close()
    assert status == 130, errors
    assert "Traceback" not in errors
    assert waited < 5
