"""Building the account directory that follow lists resolve and import through."""

from __future__ import annotations

import httpx

from adapters.follows.bluesky import DEFAULT_BLUESKY_APPVIEW_URL, BlueskyFollows
from adapters.follows.directory import HttpAccountDirectory
from adapters.follows.mastodon import DEFAULT_MASTODON_API_BASE, MastodonFollows
from adapters.follows.x import DEFAULT_X_API_URL, XFollows
from bot.settings import Settings


def build_directory(settings: Settings, http: httpx.AsyncClient) -> HttpAccountDirectory:
    """Build the directory of Bluesky, Mastodon and X accounts over the shared HTTP client.

    Bluesky and Mastodon need no credentials; X reads follow lists only with `X_BEARER_TOKEN`.
    """
    cfg = settings.sources
    contact = settings.contact_url
    return HttpAccountDirectory(
        [
            BlueskyFollows(
                http,
                base_url=cfg.url("BLUESKY_APPVIEW_URL", DEFAULT_BLUESKY_APPVIEW_URL),
                contact_url=contact,
            ),
            MastodonFollows(
                http,
                api_base=cfg.mastodon_api_base or DEFAULT_MASTODON_API_BASE,
                contact_url=contact,
            ),
            XFollows(
                http,
                bearer_token=cfg.x_bearer_token,
                base_url=cfg.url("X_API_URL", DEFAULT_X_API_URL),
                contact_url=contact,
            ),
        ]
    )
