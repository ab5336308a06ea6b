"""The Telegram Bot API emulator, for the Procfile test (one per session and directory)."""

from __future__ import annotations

from tests.adapters.telegram.conftest import emulator_url

__all__ = ["emulator_url"]
