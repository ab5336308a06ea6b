"""Building the engine's objects from settings: the only place that knows every class."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sources.arxiv_api import ArxivApiClient
from bot.directory import build_directory
from bot.settings import Settings
from core.clock import SystemClock
from core.commands import build_commands
from core.faults import describe_error
from core.metadata import MetadataService
from core.ports import AccountDirectory, Clock
from core.ranking import RankingConfig
from core.registry import Registry
from core.storage.database import (
    create_engine,
    current_revision,
    revisions,
    session_factory,
    upgrade,
)
from core.storage.follow_lists import SqlFollowLists
from core.storage.repository import SqlPaperRepository
from core.storage.subscription_repository import SqlSubscriptionStore

USER_AGENT = "trending-arxiv/0.1 (+{contact})"


class StartupError(RuntimeError):
    """The process cannot start; the message tells the user what to do."""


@dataclass(frozen=True, slots=True)
class Engine:
    """The engine's parts, as every entry point needs them."""

    settings: Settings
    database: AsyncEngine
    repo: SqlPaperRepository
    metadata: MetadataService
    registry: Registry
    subscriptions: SqlSubscriptionStore
    http: httpx.AsyncClient
    clock: Clock
    ranking: RankingConfig
    directory: AccountDirectory  # Bluesky, Mastodon and X accounts and their follow lists
    follows: SqlFollowLists


async def prepare_database(database: AsyncEngine, *, migrate: bool = False) -> None:
    """Bring the schema up to date, or refuse a PostgreSQL database that is not.

    `migrate` (the `db upgrade` command, a deploy's release step) migrates from any earlier
    revision. Without it, SQLite and an empty PostgreSQL are migrated on first use, so a first
    run just works; an outdated PostgreSQL is refused, since its migration belongs to the
    release step, not to whichever replica starts first.
    """
    try:
        known = revisions()
        current = await current_revision(database)
        if current is not None and current not in known:
            raise StartupError(
                f"the database schema is at revision {current}, which this version does not "
                "know: it was migrated by a newer release"
            )
        if migrate or database.dialect.name == "sqlite" or current is None:
            await upgrade(database)
        elif current != known[-1]:
            raise StartupError("the database schema is outdated: run `trending-arxiv db upgrade`")
    except (SQLAlchemyError, OSError) as exc:
        raise StartupError(f"cannot open the database: {describe_error(exc)}") from None


@asynccontextmanager
async def open_engine(
    settings: Settings,
    clock: Clock | None = None,
    *,
    one_shot: bool = False,
    migrate: bool = False,
) -> AsyncIterator[Engine]:
    """Open the database and HTTP client, build the engine, and close both afterwards.

    `one_shot` is for a command that answers and exits: no background fill will follow up on
    what arXiv could not tell it. `migrate` migrates the database from any earlier revision
    (see `prepare_database`).
    """
    clock = clock or SystemClock()
    database = create_engine(settings.database_url)
    try:
        await prepare_database(database, migrate=migrate)
        ranking = RankingConfig(weights=settings.weights, half_life=settings.half_life)
        factory = session_factory(database)
        repo = SqlPaperRepository(factory, ranking, clock)
        subscriptions = SqlSubscriptionStore(factory)
        follows = SqlFollowLists(factory, ranking)
        headers = {"User-Agent": USER_AGENT.format(contact=settings.contact_url)}
        async with httpx.AsyncClient(headers=headers, timeout=20.0) as http:
            arxiv = ArxivApiClient(http, settings.arxiv_api_url)
            metadata = MetadataService(
                repo,
                arxiv,
                clock,
                lookup_timeout=settings.arxiv_lookup_timeout,
                fills_later=not one_shot,
            )
            directory = build_directory(settings, http)
            registry = build_commands(
                repo, metadata, clock, ranking, subscriptions, follows, directory
            )
            yield Engine(
                settings,
                database,
                repo,
                metadata,
                registry,
                subscriptions,
                http,
                clock,
                ranking,
                directory,
                follows,
            )
    finally:
        await database.dispose()
