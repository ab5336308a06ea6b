"""Configuration from the environment, validated once at start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from bot.source_settings import SourceSettings, is_web_url, read_source_settings
from core.models import SOURCES
from core.storage.database import DEFAULT_DATABASE_URL, DatabaseUrlError, normalize_url

DEFAULT_ARXIV_API_URL = "http://export.arxiv.org/api/query"
DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_CONTACT_URL = "https://github.com/trending-arxiv/trending-arxiv"
TELEGRAM_TOKEN = re.compile(r"^\d{3,15}:[A-Za-z0-9_-]{20,}$")
WEIGHT = re.compile(r"^([a-z0-9_-]+)=(\d+(?:\.\d+)?)$")
# What setWebhook accepts as secret_token; Telegram echoes it in X-Telegram-Bot-Api-Secret-Token.
WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
HEALTH_PATH = "/healthz"


class SettingsError(ValueError):
    """One or more variables are malformed; each problem is one line of the message."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the process needs to know, as plain values."""

    database_url: str = DEFAULT_DATABASE_URL
    port: int = 8080
    telegram_token: str | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_max_rate: int = 30
    digest_lease_seconds: float = 300.0
    telegram_group_max_rate: int = 20
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    discord_token: str | None = None
    discord_guild_ids: tuple[int, ...] = ()
    # The Discord shards this process runs (SHARD_IDS; empty: all) out of how many in all
    # replicas (SHARD_COUNT; None: no sharding).
    discord_shard_ids: tuple[int, ...] = ()
    discord_shard_count: int | None = None
    arxiv_api_url: str = DEFAULT_ARXIV_API_URL
    arxiv_lookup_timeout: float = 8.0
    contact_url: str = DEFAULT_CONTACT_URL
    weights: Mapping[str, float] = field(default_factory=dict)
    half_life: timedelta = timedelta(hours=24)
    sources: SourceSettings = field(default_factory=lambda: SourceSettings((), {}))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and check every variable; raise one error listing every problem."""
        problems: list[str] = []
        values = {
            "database_url": _database_url(env, problems),
            "port": _int(env, "PORT", 8080, problems, low=1, high=65535),
            "telegram_token": _telegram_token(env, problems),
            "telegram_api_url": _url(env, "TELEGRAM_API_URL", DEFAULT_TELEGRAM_API_URL, problems),
            "digest_lease_seconds": float(
                _int(env, "DIGEST_LEASE_SECONDS", 300, problems, low=5, high=86_400)
            ),
            "telegram_max_rate": _int(env, "TELEGRAM_MAX_RATE", 30, problems, low=1, high=10_000),
            "telegram_group_max_rate": _int(
                env, "TELEGRAM_GROUP_MAX_RATE", 20, problems, low=1, high=10_000
            ),
            **_telegram_webhook(env, problems),
            "discord_token": _discord_token(env, problems),
            "discord_guild_ids": _ids(env, "DISCORD_GUILD_IDS", problems),
            **_shards(env, problems),
            "arxiv_api_url": _url(env, "ARXIV_API_URL", DEFAULT_ARXIV_API_URL, problems),
            "arxiv_lookup_timeout": float(
                _int(env, "ARXIV_LOOKUP_TIMEOUT", 8, problems, low=1, high=120)
            ),
            "contact_url": _url(env, "CONTACT_URL", DEFAULT_CONTACT_URL, problems),
            "weights": _weights(env, problems),
            "sources": read_source_settings(env, problems),
            "half_life": timedelta(
                hours=_int(env, "TRENDING_HALF_LIFE_HOURS", 24, problems, low=1, high=24 * 90)
            ),
        }
        if problems:
            raise SettingsError(problems)
        return cls(**values)  # type: ignore[arg-type]


def _value(env: Mapping[str, str], key: str) -> str | None:
    value = env.get(key, "").strip()
    return value or None


def _database_url(env: Mapping[str, str], problems: list[str]) -> str:
    raw = _value(env, "DATABASE_URL")
    if raw is None:
        return DEFAULT_DATABASE_URL
    try:
        return normalize_url(raw)
    except DatabaseUrlError as exc:
        problems.append(str(exc).replace(raw, _redact_url(raw)))
        return DEFAULT_DATABASE_URL


def _redact_url(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def _int(
    env: Mapping[str, str], key: str, default: int, problems: list[str], *, low: int, high: int
) -> int:
    raw = _value(env, key)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        problems.append(f"{key} must be a whole number from {low} to {high}, not {raw[:20]!r}")
        return default
    return int(raw)


def _url(env: Mapping[str, str], key: str, default: str, problems: list[str]) -> str:
    raw = _value(env, key)
    if raw is None:
        return default
    if not re.match(r"^https?://[^\s/]+", raw):
        problems.append(f"{key} must be an http(s) URL, not {raw[:40]!r}")
        return default
    return raw.rstrip("/")


def _telegram_token(env: Mapping[str, str], problems: list[str]) -> str | None:
    token = _value(env, "TELEGRAM_BOT_TOKEN")
    if token is not None and not TELEGRAM_TOKEN.match(token):
        # Never echo a token, even a malformed one.
        problems.append(
            "TELEGRAM_BOT_TOKEN is malformed: expected <digits>:<secret> from BotFather"
        )
        return None
    return token


def _telegram_webhook(env: Mapping[str, str], problems: list[str]) -> dict[str, str | None]:
    url, secret = _value(env, "TELEGRAM_WEBHOOK_URL"), _value(env, "TELEGRAM_WEBHOOK_SECRET")
    if url is None:
        return {"telegram_webhook_url": None, "telegram_webhook_secret": None}
    # Telegram delivers only to https; the path is where the web process serves the webhook.
    if not is_web_url(url, ("https",)):
        problems.append(f"TELEGRAM_WEBHOOK_URL must be an https:// URL, not {url[:40]!r}")
        url = None
    elif urlsplit(url).path.rstrip("/") == HEALTH_PATH:
        problems.append(f"TELEGRAM_WEBHOOK_URL must not use the path {HEALTH_PATH}")
        url = None
    # Never echo a secret, even a malformed one.
    rule = "1-256 characters of A-Z, a-z, 0-9, _ and -"
    if secret is None:
        problems.append(f"TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL: {rule}")
    elif not WEBHOOK_SECRET.match(secret):
        problems.append(f"TELEGRAM_WEBHOOK_SECRET must be {rule}")
        secret = None
    return {"telegram_webhook_url": url, "telegram_webhook_secret": secret}


def _discord_token(env: Mapping[str, str], problems: list[str]) -> str | None:
    token = _value(env, "DISCORD_BOT_TOKEN")
    if token is not None and (len(token) < 50 or token.count(".") != 2 or " " in token):
        problems.append(
            "DISCORD_BOT_TOKEN is malformed: copy the bot token from the developer portal"
        )
        return None
    return token


def _ids(env: Mapping[str, str], key: str, problems: list[str]) -> tuple[int, ...]:
    raw = _value(env, key)
    if raw is None:
        return ()
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        problems.append(f"{key} must be a comma list of numeric ids")
        return ()
    return tuple(int(p) for p in parts)


def _shards(env: Mapping[str, str], problems: list[str]) -> dict[str, object]:
    """SHARD_IDS (a comma list) and SHARD_COUNT: which Discord shards this replica runs."""
    count = _int(env, "SHARD_COUNT", 0, problems, low=1, high=100_000) or None
    ids = _ids(env, "SHARD_IDS", problems)
    if ids and count is None:
        problems.append("SHARD_IDS needs SHARD_COUNT, the number of shards across all replicas")
    elif count is not None and any(i >= count for i in ids):
        problems.append(f"SHARD_IDS must be below SHARD_COUNT ({count}): shards count from 0")
    elif len(set(ids)) != len(ids):
        problems.append("SHARD_IDS lists a shard twice")
    return {"discord_shard_ids": ids, "discord_shard_count": count}


def _weights(env: Mapping[str, str], problems: list[str]) -> dict[str, float]:
    raw = _value(env, "SOURCE_WEIGHTS")
    if raw is None:
        return {}
    weights: dict[str, float] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        match = WEIGHT.match(part.lower())
        if match is None:
            problems.append(f"SOURCE_WEIGHTS entry {part[:30]!r} is not like bluesky=1.5")
            continue
        if match.group(1) not in SOURCES:
            # A misspelt source would weigh nothing and fail silently.
            name = match.group(1)[:30]
            problems.append(f"SOURCE_WEIGHTS names {name!r}; known sources: {', '.join(SOURCES)}")
            continue
        weights[match.group(1)] = float(match.group(2))
    return weights
