"""Leaving the console chat: its background steps end before the store closes."""

from __future__ import annotations

import asyncio
import io
import sys
import time
from pathlib import Path

import pytest

import bot.main
import bot.sweeping
from bot.main import main


@pytest.fixture
def quitting_chat(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A chat on a new SQLite store, with no sources, whose user leaves at once."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    monkeypatch.setenv("SOURCES", "none")
    monkeypatch.setattr(sys, "stdin", io.StringIO("/quit\n"))


def test_a_sweep_in_flight_when_the_chat_ends_finishes_first(
    quitting_chat: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    steps: list[str] = []
    sweep = bot.sweeping.sweep_scores

    async def slow_sweep(*args: object) -> None:
        steps.append("started")
        await asyncio.sleep(0.5)  # the chat reads /quit meanwhile
        await sweep(*args)  # type: ignore[arg-type]
        steps.append("finished")

    monkeypatch.setattr(bot.sweeping, "sweep_scores", slow_sweep)
    assert main(["chat"]) == 0
    assert steps == ["started", "finished"]
    assert "Exception during reset" not in caplog.text
    assert "Traceback" not in caplog.text


def test_a_step_that_does_not_end_is_cancelled_after_the_grace(
    quitting_chat: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stuck_sweep(*args: object) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(bot.sweeping, "sweep_scores", stuck_sweep)
    monkeypatch.setattr(bot.main, "STOP_GRACE", 0.2)
    started = time.monotonic()
    assert main(["chat"]) == 0
    assert time.monotonic() - started < 10
