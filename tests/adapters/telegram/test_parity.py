"""Telegram exposes exactly the commands of the registry `build_commands` makes."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram.ext import CommandHandler

from adapters.telegram.app import build_application, menu_commands
from core.commands import build_commands
from core.metadata import MetadataService
from core.ranking import RankingConfig
from tests.fakes import FixedClock, InMemoryPaperRepository, InMemorySubscriptionStore


def test_telegram_commands_and_menu_equal_the_registry():
    clock = FixedClock(datetime(2026, 11, 26, tzinfo=UTC))
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    metadata = MetadataService(repo, None, clock)
    registry = build_commands(
        repo, metadata, clock, RankingConfig(), subscriptions=InMemorySubscriptionStore()
    )

    app = build_application("123:TEST", registry)

    handled = [
        name
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    ]
    assert sorted(handled) == sorted(registry.names)
    assert [c.command for c in menu_commands(registry)] == [c.name for c in registry.commands]
