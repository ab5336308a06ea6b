"""Keep the bot token out of logs.

httpx logs every request URL at INFO, and Bot API URLs are `.../bot<token>/<method>`; PTB also
puts the bare token into some exception messages ("The token `...` was rejected").
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

REDACTED = "<redacted>"

# `bot<id>:<secret>` in any URL, even for a token we were not told about.
_URL_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
# A bare real token: a numeric bot id, a colon, a 35-character secret.
_BARE_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")

# Loggers whose records can carry a token; a logger's filters do not see its children's records,
# so each PTB logger (telegram.Bot, telegram.ext.Updater, ...) needs the filter itself.
_PREFIXES = ("httpx", "httpcore", "telegram", "adapters.telegram")


class TokenRedactingFilter(logging.Filter):
    """Replace bot tokens in a record's message, arguments and traceback with `<redacted>`."""

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        super().__init__()
        self._tokens: set[str] = {t for t in tokens if t}

    def add_token(self, token: str) -> None:
        """Also redact this exact token (needed for short test tokens the patterns miss)."""
        if token:
            self._tokens.add(token)

    def redact(self, text: str) -> str:
        """Return `text` with every known token and token-like string replaced."""
        for token in sorted(self._tokens, key=len, reverse=True):
            text = text.replace(token, REDACTED)
        text = _URL_TOKEN.sub(f"bot{REDACTED}", text)
        return _BARE_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        if isinstance(record.msg, str):
            record.msg = self.redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: self._redact_arg(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(self._redact_arg(a) for a in record.args)
        if record.exc_info and record.exc_info[1] is not None:
            self._redact_exception(record, record.exc_info[1])
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _redact_exception(self, record: logging.LogRecord, error: BaseException) -> None:
        text = "".join(traceback.format_exception(error)).rstrip("\n")
        redacted = self.redact(text)
        if redacted != text:
            # Formatters print `exc_text` when set; dropping `exc_info` also keeps handlers that
            # format exceptions themselves from rendering the raw traceback.
            record.exc_text = redacted
            record.exc_info = None

    def _redact_arg(self, arg: object) -> object:
        # Numbers keep their type for %d; anything else (an httpx.URL, an exception) that contains
        # a token is replaced by its redacted string form.
        if isinstance(arg, int | float | bool) or arg is None:
            return arg
        text = str(arg)
        redacted = self.redact(text)
        return arg if redacted == text else redacted


_FILTER = TokenRedactingFilter()


def install_redaction(tokens: Iterable[str]) -> TokenRedactingFilter:
    """Install one shared redacting filter on the httpx, httpcore and telegram loggers.

    Call it after `telegram.ext` is imported (so PTB's loggers exist); it is idempotent. For full
    coverage the composition root should also add the returned filter to its log handlers.
    """
    for token in tokens:
        _FILTER.add_token(token)
    names = [n for n in logging.root.manager.loggerDict if n.startswith(_PREFIXES)]
    for name in {*_PREFIXES, *names}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER
