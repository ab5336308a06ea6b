"""TelegramDigestSink: what it sends, and what each Bot API failure tells the sender to do."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from telegram import Bot, Chat, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

from adapters.telegram.retry import RetryingRateLimiter
from adapters.telegram.sink import TelegramDigestSink
from core.delivery import ChatGone, ChatMoved, DeliveryError, DigestSink, RetryLater
from core.models import ChatRef
from tests.adapters.telegram.samples import paper_list

GROUP = ChatRef("telegram", "-1002003")
PRIVATE = ChatRef("telegram", "1001")


class FakeBot:
    """Answers send_message with a Message, or raises the errors it was given, in order."""

    def __init__(self, *errors: TelegramError | None) -> None:
        self.errors = list(errors)
        self.sent: list[dict[str, Any]] = []

    async def send_message(self, chat_id: int | str, text: str, **kwargs: Any) -> Message:
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        self.sent.append({"chat_id": chat_id, "text": text, **kwargs})
        chat = Chat(int(chat_id), Chat.SUPERGROUP)
        return Message(100 + len(self.sent), datetime(2024, 1, 2, tzinfo=UTC), chat)


def sink_over(bot: FakeBot) -> TelegramDigestSink:
    return TelegramDigestSink(cast(Bot, bot))


def test_sink_is_a_digest_sink():
    sink: DigestSink = sink_over(FakeBot())
    assert sink.platform == "telegram"


async def test_publish_sends_html_without_previews_and_returns_the_message_id():
    bot = FakeBot()
    assert await sink_over(bot).publish(GROUP, paper_list(3)) == "101"
    (sent,) = bot.sent
    assert sent["chat_id"] == -1002003  # an int: the rate limiter treats strings as groups
    assert sent["parse_mode"] == "HTML"
    assert sent["link_preview_options"].is_disabled is True
    assert sent["reply_markup"] is None
    assert sent["text"].startswith("<b>Trending papers</b>")


async def test_publish_sends_private_chat_ids_as_ints():
    bot = FakeBot()
    await sink_over(bot).publish(PRIVATE, paper_list(1))
    assert bot.sent[0]["chat_id"] == 1001


async def test_publish_long_digest_sends_every_chunk_and_returns_the_first_id():
    bot = FakeBot()
    assert await sink_over(bot).publish(GROUP, paper_list(60)) == "101"
    assert len(bot.sent) > 1
    assert all(s["link_preview_options"].is_disabled for s in bot.sent)
    assert "60. " in bot.sent[-1]["text"]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), "blocked"),
        (Forbidden("Forbidden: bot was kicked from the supergroup chat"), "kicked"),
        (Forbidden("Forbidden: bot is not a member of the channel chat"), "left"),
        (Forbidden("Forbidden: user is deactivated"), "deactivated"),
        (Forbidden("Forbidden: bot can't initiate conversation with a user"), "forbidden"),
        (BadRequest("Bad Request: chat not found"), "chat not found"),
        (BadRequest("Bad Request: PEER_ID_INVALID"), "chat not found"),
        (BadRequest("Bad Request: CHAT_WRITE_FORBIDDEN"), "no right to post"),
        (
            BadRequest("Bad Request: need administrator rights in the channel chat"),
            "no right to post",
        ),
        (BadRequest("Bad Request: not enough rights to send text messages"), "no right to post"),
        (BadRequest("Bad Request: group chat was deactivated"), "deactivated"),
    ],
)
async def test_publish_gone_chat_raises_chat_gone(error, reason):
    with pytest.raises(ChatGone) as raised:
        await sink_over(FakeBot(error)).publish(GROUP, paper_list(1))
    assert raised.value.reason == reason
    assert raised.value.__cause__ is error


async def test_publish_migrated_group_raises_chat_moved():
    with pytest.raises(ChatMoved) as raised:
        await sink_over(FakeBot(ChatMigrated(-1009876))).publish(GROUP, paper_list(1))
    assert raised.value.new_chat == ChatRef("telegram", "-1009876")


# PTB 22.x warns whenever it builds a RetryAfter (its `retry_after` becomes a timedelta in v23).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_publish_flood_control_raises_retry_later_with_telegrams_delay():
    with pytest.raises(RetryLater) as raised:
        await sink_over(FakeBot(RetryAfter(17))).publish(GROUP, paper_list(1))
    assert raised.value.seconds == 17


@pytest.mark.parametrize("error", [TimedOut(), NetworkError("Bad Gateway")])
async def test_publish_network_faults_raise_retry_later(error):
    with pytest.raises(RetryLater) as raised:
        await sink_over(FakeBot(error)).publish(GROUP, paper_list(1))
    assert raised.value.seconds == 30


async def test_publish_rejected_message_fails_without_retry_or_deactivation():
    error = BadRequest("Bad Request: can't parse entities: unsupported start tag")
    with pytest.raises(DeliveryError) as raised:
        await sink_over(FakeBot(error)).publish(GROUP, paper_list(1))
    assert type(raised.value) is DeliveryError
    assert "can't parse entities" in str(raised.value).lower()


async def test_publish_other_telegram_errors_propagate_unchanged():
    error = InvalidToken("Unauthorized")
    with pytest.raises(InvalidToken):
        await sink_over(FakeBot(error)).publish(GROUP, paper_list(1))


async def test_publish_failure_after_the_first_chunk_is_still_raised():
    # Re-sending the head of a split digest beats losing its tail (see TelegramDigestSink).
    bot = FakeBot(None, TimedOut())
    with pytest.raises(RetryLater):
        await sink_over(bot).publish(GROUP, paper_list(60))
    assert len(bot.sent) == 1


# ---------------------------------------------------------------- through PTB's HTTP layer


class CannedRequest(BaseRequest):
    """PTB's transport, answering every sendMessage with one canned HTTP status and body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body
        self.methods: list[str] = []

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        self.methods.append(url.rsplit("/", 1)[-1])
        return self.status, json.dumps(self.body).encode()


def refusal(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    return {**body, "parameters": parameters} if parameters else body


# What the real Bot API answers; the emulator cannot produce 403 or 429.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, refusal(403, "Forbidden: bot was blocked by the user"), ChatGone("blocked")),
        (403, refusal(403, "Forbidden: bot was kicked from the group chat"), ChatGone("kicked")),
        (400, refusal(400, "Bad Request: chat not found"), ChatGone("chat not found")),
        (
            400,
            refusal(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=-1004242,
            ),
            ChatMoved(ChatRef("telegram", "-1004242")),
        ),
        (429, refusal(429, "Too Many Requests: retry after 7", retry_after=7), RetryLater(7, "")),
        (502, refusal(502, "Bad Gateway"), RetryLater(30, "")),
    ],
)
async def test_publish_maps_real_bot_api_answers(status, body, expected):
    request = CannedRequest(status, body)
    # The application's limiter, told not to wait out the 429 itself, so the test is quick.
    bot = ExtBot("123:TEST", request=request, rate_limiter=RetryingRateLimiter(max_retries=0))
    with pytest.raises(DeliveryError) as raised:
        await TelegramDigestSink(bot).publish(GROUP, paper_list(1))
    assert type(raised.value) is type(expected)
    match expected:
        case ChatGone():
            assert cast(ChatGone, raised.value).reason == expected.reason
        case ChatMoved():
            assert cast(ChatMoved, raised.value).new_chat == expected.new_chat
        case RetryLater():
            assert cast(RetryLater, raised.value).seconds == expected.seconds
    assert request.methods == ["sendMessage"]
