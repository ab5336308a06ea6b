"""The bot token never reaches a log record, even from a failing Bot API request."""

from __future__ import annotations

import logging
import sys

import httpx
import pytest
from telegram import Bot
from telegram.error import InvalidToken
from telegram.request import HTTPXRequest

from adapters.telegram.logs import REDACTED, TokenRedactingFilter, install_redaction

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the shape of a real token, not a real one
SHORT = "42:TEST"


def record(msg: str, args=(), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, msg, args, exc_info)


def test_filter_redacts_message_args_and_url_objects():
    redactor = TokenRedactingFilter([SHORT])
    url = httpx.URL(f"https://api.telegram.org/bot{SHORT}/getMe")
    rec = record('HTTP Request: %s %s "%s %d %s"', ("POST", url, "HTTP/1.1", 200, "OK"))
    assert redactor.filter(rec)
    assert rec.getMessage() == (
        f'HTTP Request: POST https://api.telegram.org/bot{REDACTED}/getMe "HTTP/1.1 200 OK"'
    )
    assert isinstance(rec.args, tuple)
    assert rec.args[3] == 200  # numbers keep their type


def test_filter_redacts_dict_args_and_unknown_tokens_by_shape():
    redactor = TokenRedactingFilter()
    rec = record("%(url)s", ())
    rec.args = {"url": f"http://x/bot{TOKEN}/sendMessage"}
    redactor.filter(rec)
    assert rec.getMessage() == f"http://x/bot{REDACTED}/sendMessage"
    bare = record(f"The token `{TOKEN}` was rejected")
    redactor.filter(bare)
    assert TOKEN not in bare.getMessage()


def test_filter_redacts_tracebacks():
    redactor = TokenRedactingFilter([SHORT])
    try:
        raise RuntimeError(f"GET https://h/bot{SHORT}/getUpdates failed")
    except RuntimeError:
        rec = record("boom", exc_info=sys.exc_info())
    redactor.filter(rec)
    formatted = logging.Formatter().format(rec)
    assert SHORT not in formatted
    assert "RuntimeError" in formatted


async def test_failing_request_logs_contain_no_token(caplog: pytest.LogCaptureFixture):
    install_redaction([TOKEN])

    def unauthorized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"ok": False, "error_code": 401, "description": "Unauthorized"}
        )

    request = HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(unauthorized)})
    # `trending-arxiv` quiets httpx when it configures logging, and earlier tests may have run it.
    # (Each call also sets the capturing handler's level, so DEBUG goes last.)
    caplog.set_level(logging.INFO, logger="httpx")
    caplog.set_level(logging.DEBUG)
    bot = Bot(TOKEN, base_url="http://bot-api.test/bot", request=request)
    with pytest.raises(InvalidToken) as failure:
        await bot.initialize()
    assert TOKEN in str(failure.value)  # PTB does put it there...
    logging.getLogger("adapters.telegram.app").exception("could not start the Telegram bot")
    await request.shutdown()

    # ...and none of it reaches a record: the URL (httpx, INFO), PTB's debug lines, the traceback
    assert any(
        "HTTP Request: POST http://bot-api.test/bot" in r.getMessage() for r in caplog.records
    )
    assert any(r.name.startswith("telegram") for r in caplog.records)
    assert TOKEN not in caplog.text
    assert TOKEN.split(":")[1] not in caplog.text
    for rec in caplog.records:
        assert TOKEN not in rec.getMessage()
