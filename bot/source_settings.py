"""Which signal sources run, and with what endpoints and credentials (DESIGN.md section 3)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.models import SOURCES

SOURCE_NAMES = SOURCES
NEEDS_CREDENTIALS = {
    "reddit": ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"),
    "x": ("X_BEARER_TOKEN",),
}
DEFAULT_RSS_CATEGORIES = ("cs.LG", "cs.CL", "cs.AI", "cs.CV", "stat.ML")


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """The enabled sources and every value they need, read from the environment."""

    enabled: tuple[str, ...]
    urls: Mapping[str, str]  # env name -> base URL override, only those that are set
    bluesky_handle: str | None = None
    bluesky_app_password: str | None = None
    mastodon_instances: tuple[str, ...] = ()
    reddit_client_id: str | None = None
    reddit_client_secret: str | None = None
    reddit_subreddits: tuple[str, ...] = ("MachineLearning",)
    x_bearer_token: str | None = None
    x_daily_budget: int = 100
    rss_categories: tuple[str, ...] = DEFAULT_RSS_CATEGORIES
    allowlist_file: str | None = None
    blocklist_file: str | None = None
    mastodon_api_base: str | None = None  # e.g. http://127.0.0.1:8081/{instance}

    def url(self, name: str, default: str) -> str:
        """The base URL set in `name`, else `default`."""
        return self.urls.get(name, default)


URL_VARIABLES = (
    "HN_API_URL",
    "HF_API_URL",
    "JETSTREAM_URL",
    "BLUESKY_API_URL",
    "BLUESKY_APPVIEW_URL",
    "REDDIT_API_URL",
    "REDDIT_AUTH_URL",
    "X_API_URL",
    "ARXIV_RSS_URL",
)


def read_source_settings(env: Mapping[str, str], problems: list[str]) -> SourceSettings:
    """Read the sources' variables, appending one line per problem."""
    get = _getter(env)
    urls = {name: value.rstrip("/") for name in URL_VARIABLES if (value := get(name))}
    for name, value in urls.items():
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            problems.append(f"{name} must be a URL, not {value[:40]!r}")
    budget = get("X_DAILY_REQUEST_BUDGET") or "100"
    if not budget.isdigit():
        problems.append("X_DAILY_REQUEST_BUDGET must be a whole number")
    instances = _list(get("MASTODON_INSTANCES"))
    for instance in instances:
        if not is_web_url(instance):
            problems.append(f"MASTODON_INSTANCES entry {instance[:40]!r} is not an http(s) URL")
    api_base = get("MASTODON_API_BASE")
    if api_base is not None and not _is_instance_template(api_base):
        problems.append(
            "MASTODON_API_BASE must be an http(s) URL with {instance} where the domain goes"
        )
        api_base = None
    for path_var in ("ACCOUNT_ALLOWLIST_FILE", "ACCOUNT_BLOCKLIST_FILE"):
        if (path := get(path_var)) and not _readable(path):
            problems.append(f"{path_var} names {path!r}, which cannot be read")
    return SourceSettings(
        enabled=_enabled(env, problems),
        urls=urls,
        bluesky_handle=get("BLUESKY_HANDLE"),
        bluesky_app_password=get("BLUESKY_APP_PASSWORD"),
        mastodon_instances=tuple(i for i in instances if is_web_url(i)),
        reddit_client_id=get("REDDIT_CLIENT_ID"),
        reddit_client_secret=get("REDDIT_CLIENT_SECRET"),
        reddit_subreddits=_list(get("REDDIT_SUBREDDITS")) or ("MachineLearning",),
        x_bearer_token=get("X_BEARER_TOKEN"),
        x_daily_budget=int(budget) if budget.isdigit() else 100,
        rss_categories=_list(get("ARXIV_RSS_CATEGORIES")) or DEFAULT_RSS_CATEGORIES,
        allowlist_file=get("ACCOUNT_ALLOWLIST_FILE"),
        blocklist_file=get("ACCOUNT_BLOCKLIST_FILE"),
        mastodon_api_base=api_base.rstrip("/") if api_base else None,
    )


def _enabled(env: Mapping[str, str], problems: list[str]) -> tuple[str, ...]:
    """SOURCES, or by default every source that needs no credentials or has them."""
    get = _getter(env)
    raw = get("SOURCES")
    has = {name: all(get(v) for v in needed) for name, needed in NEEDS_CREDENTIALS.items()}
    if raw is None:
        return tuple(n for n in SOURCE_NAMES if has.get(n, True))
    if raw.lower() == "none":
        return ()
    names = tuple(dict.fromkeys(n.strip().lower() for n in raw.split(",") if n.strip()))
    for name in names:
        if name not in SOURCE_NAMES:
            problems.append(f"SOURCES names {name!r}; known sources: {', '.join(SOURCE_NAMES)}")
        elif not has.get(name, True):
            needed = " and ".join(NEEDS_CREDENTIALS[name])
            problems.append(f"SOURCES names {name}, but {needed} is not set")
    return tuple(n for n in names if n in SOURCE_NAMES)


def _getter(env: Mapping[str, str]) -> Callable[[str], str | None]:
    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    return get


def _list(raw: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (raw or "").split(",") if p.strip())


def _readable(path: str) -> bool:
    try:
        with open(path, encoding="utf-8"):
            return True
    except OSError:
        return False


def _is_instance_template(value: str) -> bool:
    # Checked with a domain in place of the placeholder, as the directory will use it.
    return "{instance}" in value and is_web_url(value.replace("{instance}", "mastodon.example"))


def is_web_url(value: str, schemes: tuple[str, ...] = ("http", "https")) -> bool:
    """Whether `value` is a URL of one of `schemes` with a host, a valid port and no whitespace."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname) and not re.search(r"\s", value)
