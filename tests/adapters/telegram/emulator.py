"""A test-side client for the Telegram Bot API emulator (tests/peers/telegram-emulator.sh)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.adapters.telegram.updates import USER, Json, command_message


class Emulator:
    """Plays the users: sends commands and button presses, reads what the bot sent."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def _post(self, path: str, body: Json) -> Any:
        response = await self.client.post(path, json=body)
        response.raise_for_status()
        return response.json()["result"]

    async def send(self, text: str, chat: Json, sender: Json = USER) -> None:
        """A user types `text` (a command) in `chat`."""
        message = command_message(text, chat, sender)
        message.pop("message_id")
        await self._post("/sendMessage", {"botToken": self.token, **message})

    async def update(self, update: Json) -> None:
        """Deliver any raw update (a channel post, a my_chat_member change...)."""
        await self._post("/_emu/update", {"token": self.token, "update": update})

    async def press(self, message: Json, data: str, sender: Json = USER) -> None:
        """A user presses the inline button with `data` under the bot's `message`."""
        body = {"botToken": self.token, "data": data, "from": sender, "message": message}
        await self._post("/sendCallback", body)

    async def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        await self._post("/_emu/member", {"chat_id": chat_id, "user_id": user_id, "status": status})

    async def replies(self, chat_id: int, count: int = 1, wait_s: float = 10) -> list[Json]:
        """The next `count` unread bot messages in `chat_id` (fails after `wait_s` seconds)."""
        found: list[Json] = []
        deadline = time.monotonic() + wait_s
        while len(found) < count and time.monotonic() < deadline:
            wait = max(0.1, deadline - time.monotonic())
            body = {"token": self.token, "chat_id": chat_id, "timeout": wait}
            found += await self._post("/_emu/botMessages", body)
        assert len(found) >= count, f"expected {count} replies in {chat_id}, got {found}"
        return found

    async def reply(self, chat_id: int) -> Json:
        (message,) = await self.replies(chat_id)
        return message

    async def calls(self, method: str) -> list[Json]:
        """Every Bot API call the bot made with `method`, with its parsed parameters."""
        params = {"token": self.token, "method": method}
        response = await self.client.get("/_emu/calls", params=params)
        response.raise_for_status()
        return list(response.json()["result"])

    async def eventually(self, method: str, count: int = 1, wait_s: float = 5) -> list[Json]:
        """Wait until the bot made `count` calls of `method`."""
        deadline = time.monotonic() + wait_s
        while ((calls := await self.calls(method)) and len(calls) < count) or not calls:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} {method} calls, got {calls}")
            await asyncio.sleep(0.05)
        return calls


def buttons(message: Json) -> list[Json]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]
