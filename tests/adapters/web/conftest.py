"""The web front end served on a loopback port from a seeded store, on SQLite and PostgreSQL.

The in-memory fake is left out: the pages add nothing it would check that the SQL stores do
not, and every test here starts a server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.web.site import add_site_routes
from core.commands import build_commands
from core.metadata import MetadataService
from core.ports import PaperRepository
from core.ranking import RankingConfig
from tests.adapters.web.site_data import seed
from tests.conftest import STORES
from tests.fakes import FixedClock


@pytest.fixture(params=[p for p in STORES if p.id != "memory"])
def store(request: pytest.FixtureRequest) -> str:
    """SQLite, and PostgreSQL when TEST_DATABASE_URL names one."""
    name: str = request.param
    return name


@dataclass
class Site:
    """A running site and an HTTP client pointed at it (redirects are not followed)."""

    url: str
    http: httpx.AsyncClient


@pytest_asyncio.fixture
async def site(repo: PaperRepository, clock: FixedClock) -> AsyncIterator[Site]:
    await seed(repo)
    registry = build_commands(repo, MetadataService(repo, None, clock), clock, RankingConfig())
    app = web.Application()
    add_site_routes(app, registry, repo, clock)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            yield Site(url, http)
    finally:
        await server.close()
