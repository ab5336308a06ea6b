"""Drive app commands, autocomplete and button clicks on top of dpytest 0.7.0.

Members are not cached without the members
intent, so the member and its permissions in the channel are given explicitly. dpytest knows no
interactions: fake INTERACTION_CREATE payloads go to `parse_interaction_create`, and the
webhook adapter that interaction responses go through is swapped for a recorder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import discord
import discord.ext.test as dpytest
from discord.webhook.async_ import async_context

_seq = itertools.count()
_OURS = ("CommandTree-invoker", "discord-ui-dynamic-item", "discord.py: ")


def snowflake() -> int:
    # It must look recent: Interaction.is_expired() reads the id's timestamp.
    return discord.utils.time_snowflake(dt.datetime.now(dt.UTC)) + next(_seq)


@dataclass
class Recorder:
    """Stands in for AsyncWebhookAdapter and records every answer to an interaction."""

    bot: discord.Client
    responses: list[dict[str, Any]] = field(default_factory=list)  # callbacks: type 4/5/6/7/8
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)  # PATCH @original
    deletes: int = 0

    def message(self, data: dict[str, Any] | None, channel_id: int = 0) -> dict[str, Any]:
        data = data or {}
        user = self.bot.user
        assert user is not None
        return {
            "id": str(snowflake()),
            "channel_id": str(channel_id),
            "type": 0,
            "tts": False,
            "pinned": False,
            "author": {
                "id": str(user.id),
                "username": user.name,
                "discriminator": "0000",
                "avatar": None,
            },
            "content": data.get("content") or "",
            "embeds": data.get("embeds") or [],
            "components": data.get("components") or [],
            "flags": data.get("flags", 0),
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "edited_timestamp": None,
        }

    async def create_interaction_response(
        self, interaction_id, token, *, session, proxy=None, proxy_auth=None, params
    ):
        payload = params.payload
        self.responses.append(payload)
        resource: dict[str, Any] = {"type": payload["type"]}
        if payload["type"] in (4, 7):
            resource["message"] = self.message(payload.get("data"))
        return {
            "interaction": {
                "id": str(interaction_id),
                "type": 2,
                "response_message_loading": False,
                "response_message_ephemeral": False,
            },
            "resource": resource,
        }

    async def get_original_interaction_response(self, *args, **kwargs):
        last = self.responses[-1] if self.responses else {}
        return self.message(last.get("data"))

    async def edit_original_interaction_response(self, *args, payload=None, **kwargs):
        self.edits.append(payload or {})
        return self.message(payload)

    async def delete_original_interaction_response(self, *args, **kwargs):
        self.deletes += 1

    async def execute_webhook(self, *args, payload=None, **kwargs):
        self.followups.append(payload or {})
        return self.message(payload)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every message payload the bot answered with, in order (responses then follow-ups)."""
        first = [r.get("data") or {} for r in self.responses if r["type"] in (4, 7)]
        return first + self.edits + self.followups


def _user(user: discord.abc.User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.name,
        "discriminator": "0000",
        "global_name": None,
        "avatar": None,
    }


def _base(bot: discord.Client, itype: int, data: dict[str, Any]) -> dict[str, Any]:
    assert bot.user is not None
    bot.http._HTTPClient__session = None  # type: ignore[attr-defined]  # Interaction() reads it
    bot._connection._command_tree = bot.tree  # type: ignore[attr-defined]  # dpytest's state lost it
    return {
        "id": str(snowflake()),
        "application_id": str(bot.application_id or bot.user.id),
        "type": itype,
        "token": "interaction-token",
        "version": 1,
        "data": data,
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "attachment_size_limit": 8 * 1024 * 1024,
    }


def interaction_payload(
    bot: discord.Client,
    itype: int,
    data: dict[str, Any],
    *,
    member: discord.abc.User | None = None,
    channel: discord.TextChannel | None = None,
    user: discord.abc.User | None = None,
    permissions: discord.Permissions | None = None,
    app_permissions: discord.Permissions | None = None,
) -> dict[str, Any]:
    """A guild interaction (member in channel), or a DM one when `user` is given instead."""
    payload = _base(bot, itype, data)
    if user is not None:
        dm_id = snowflake()
        payload.update(
            channel_id=str(dm_id),
            channel={"id": str(dm_id), "type": 1, "recipients": [_user(user)]},
            user=_user(user),
            context=1,
            app_permissions=str(discord.Permissions.text().value),
        )
        return payload
    assert member is not None
    assert channel is not None
    assert member is not None
    assert channel is not None
    perms = permissions if permissions is not None else discord.Permissions.text()
    payload.update(
        guild_id=str(channel.guild.id),
        channel_id=str(channel.id),
        channel={
            "id": str(channel.id),
            "type": 0,
            "guild_id": str(channel.guild.id),
            "name": channel.name,
            "position": 0,
            "permission_overwrites": [],
        },
        member={
            "user": _user(member),
            "roles": [],
            "nick": None,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(perms.value),
        },
        guild_locale="en-US",
        app_permissions=str((app_permissions or discord.Permissions.text()).value),
        context=0,
    )
    return payload


async def settle(limit: float = 5.0) -> None:
    """Wait (at most `limit` seconds) until the bot's command, button and event tasks end."""
    await dpytest.run_all_events()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and not t.done() and t.get_name().startswith(_OURS)
        ]
        if not pending:
            break
        await asyncio.wait(pending, timeout=deadline - loop.time())
    for _ in range(5):
        await asyncio.sleep(0)


def _options(options: dict[str, Any], focused: str | None = None) -> list[dict[str, Any]]:
    out = []
    for name, value in options.items():
        option = {"name": name, "type": 3 if isinstance(value, str) else 4, "value": value}
        if name == focused:
            option["focused"] = True
        out.append(option)
    return out


class Harness:
    """Invokes slash commands and clicks buttons as a member in a channel, or as a user in a DM."""

    def __init__(self, bot: discord.Client) -> None:
        self.bot = bot
        self.recorder = Recorder(bot)

    async def _deliver(self, payload: dict[str, Any]) -> Recorder:
        self.recorder = Recorder(self.bot)
        # Set in the test's own context, which the tasks discord.py creates copy.
        async_context.set(self.recorder)  # type: ignore[arg-type]
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await settle()
        return self.recorder

    async def slash(self, name: str, *, where: dict[str, Any], **options: Any) -> Recorder:
        data = {"id": str(snowflake()), "name": name, "type": 1, "options": _options(options)}
        return await self._deliver(interaction_payload(self.bot, 2, data, **where))

    async def complete(
        self, name: str, focused: str, *, where: dict[str, Any], **options: Any
    ) -> list[str]:
        data = {
            "id": str(snowflake()),
            "name": name,
            "type": 1,
            "options": _options(options, focused),
        }
        rec = await self._deliver(interaction_payload(self.bot, 4, data, **where))
        assert [r["type"] for r in rec.responses] == [8]  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
        return [c["value"] for c in rec.responses[0]["data"]["choices"]]

    async def click(
        self, message: dict[str, Any], custom_id: str, *, where: dict[str, Any]
    ) -> Recorder:
        """Click a button of a message the bot answered with (a recorded payload)."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = interaction_payload(self.bot, 3, data, **where)
        payload["message"] = self.recorder.message(message, int(payload["channel_id"]))
        return await self._deliver(payload)


def custom_ids(message: dict[str, Any]) -> dict[str, str]:
    """Label to custom id of every non-link button of a recorded message."""
    return {
        c["label"]: c["custom_id"]
        for row in message.get("components") or []
        for c in row["components"]
        if "custom_id" in c
    }


def link_buttons(message: dict[str, Any]) -> dict[str, str]:
    """Label to URL of every link button of a recorded message."""
    return {
        c["label"]: c["url"]
        for row in message.get("components") or []
        for c in row["components"]
        if "url" in c
    }
