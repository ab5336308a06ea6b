"""Building the enabled signal sources from settings."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from adapters.sources.arxiv_rss import DEFAULT_ARXIV_RSS_URL, ArxivRssSource
from adapters.sources.bluesky_search import DEFAULT_BLUESKY_API_URL, BlueskySearchSource
from adapters.sources.hackernews import DEFAULT_HN_API_URL, HackerNewsSource
from adapters.sources.huggingface import DEFAULT_HF_API_URL, HuggingFaceSource
from adapters.sources.jetstream import DEFAULT_JETSTREAM_URL
from adapters.sources.jetstream_consumer import JetstreamConsumer
from adapters.sources.mastodon import DEFAULT_MASTODON_INSTANCES, MastodonSource
from adapters.sources.reddit import (
    DEFAULT_REDDIT_API_URL,
    DEFAULT_REDDIT_AUTH_URL,
    RedditSource,
)
from adapters.sources.x import DEFAULT_X_API_URL, XSource
from bot.settings import Settings
from core.ingest import AccountFilter, load_account_filter
from core.locks import Locks
from core.ports import Clock, MentionSource, PaperRepository


@dataclass(frozen=True, slots=True)
class Sources:
    """The polled sources and, when Bluesky is on, the Jetstream consumer."""

    pollers: tuple[MentionSource, ...]
    jetstream: JetstreamConsumer | None
    account_filter: AccountFilter
    locks: Locks | None = None  # one poller per source across replicas

    @property
    def names(self) -> tuple[str, ...]:
        """Every enabled source's name."""
        stream = ("bluesky",) if self.jetstream else ()
        return (*stream, *(p.name for p in self.pollers))


def build_sources(
    settings: Settings,
    http: httpx.AsyncClient,
    repo: PaperRepository,
    clock: Clock,
    locks: Locks | None = None,
) -> Sources:
    """Build every source `SOURCES` enables, with its endpoint and credentials."""
    cfg = settings.sources
    contact = settings.contact_url
    pollers: list[MentionSource] = []
    enabled = set(cfg.enabled)
    if "hackernews" in enabled:
        url = cfg.url("HN_API_URL", DEFAULT_HN_API_URL)
        pollers.append(HackerNewsSource(http, clock=clock, base_url=url, contact_url=contact))
    if "huggingface" in enabled:
        url = cfg.url("HF_API_URL", DEFAULT_HF_API_URL)
        pollers.append(HuggingFaceSource(http, clock=clock, base_url=url, contact_url=contact))
    if "mastodon" in enabled:
        instances = cfg.mastodon_instances or DEFAULT_MASTODON_INSTANCES
        pollers.append(MastodonSource(http, clock=clock, instances=instances, contact_url=contact))
    if "reddit" in enabled and cfg.reddit_client_id and cfg.reddit_client_secret:
        pollers.append(
            RedditSource(
                http,
                clock=clock,
                client_id=cfg.reddit_client_id,
                client_secret=cfg.reddit_client_secret,
                api_url=cfg.url("REDDIT_API_URL", DEFAULT_REDDIT_API_URL),
                auth_url=cfg.url("REDDIT_AUTH_URL", DEFAULT_REDDIT_AUTH_URL),
                subreddits=cfg.reddit_subreddits,
                contact_url=contact,
            )
        )
    if "x" in enabled and cfg.x_bearer_token:
        pollers.append(
            XSource(
                http,
                clock=clock,
                bearer_token=cfg.x_bearer_token,
                base_url=cfg.url("X_API_URL", DEFAULT_X_API_URL),
                daily_budget=cfg.x_daily_budget,
                contact_url=contact,
            )
        )
    if "arxiv" in enabled:
        url = cfg.url("ARXIV_RSS_URL", DEFAULT_ARXIV_RSS_URL)
        pollers.append(ArxivRssSource(http, cfg.rss_categories, url))
    if "bluesky" in enabled and cfg.bluesky_handle and cfg.bluesky_app_password:
        url = cfg.url("BLUESKY_API_URL", DEFAULT_BLUESKY_API_URL)
        pollers.append(BlueskySearchSource(http, cfg.bluesky_handle, cfg.bluesky_app_password, url))
    account_filter = load_account_filter(cfg.allowlist_file, cfg.blocklist_file)
    jetstream = None
    if "bluesky" in enabled:
        jetstream = JetstreamConsumer(
            cfg.url("JETSTREAM_URL", DEFAULT_JETSTREAM_URL),
            repo,
            clock,
            lambda uri: repo.papers_of_post("bluesky", uri),
            account_filter=account_filter,
            locks=locks,
        )
    return Sources(tuple(pollers), jetstream, account_filter, locks)
