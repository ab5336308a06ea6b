"""The pages in headless Chromium: tabs, page numbers, the search box, a card and its chart,
the folded abstract, a phone's width, dark mode, and a hostile title that must not run.

Playwright drives the system's Chromium (Debian's `chromium`; `.ci/run` installs it). Without
it these tests are skipped with that reason, except under CI, where they must run.
Screenshots of each page go to `test-artifacts/web/<store>/` (ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from tests.adapters.web.conftest import Site
from tests.adapters.web.site_data import HOSTILE, HOSTILE_ID, TOP_ID

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "web"
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    """The system's Chromium, or skip (fail under CI) saying it is missing."""
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if found is None:
        reason = "the browser tests need Chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture
async def page(browser: Browser, store: str) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("dialog", lambda dialog: errors.append(f"dialog: {dialog.message}"))
    try:
        yield opened
    finally:
        await context.close()
    assert errors == []  # no script ran, so none could fail or open a dialog


async def shoot(page: Page, store: str, name: str) -> None:
    folder = ARTIFACTS / store
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def heading(page: Page) -> str:
    return (await page.locator("h1").first.text_content() or "").strip()


async def first_ranks(page: Page) -> str | None:
    return await page.locator("ol.papers").get_attribute("start")


async def test_tabs_and_page_numbers_lead_where_they_say(site: Site, page: Page, store: str):
    await page.goto(site.url + "/")
    assert await heading(page) == "Trending now"
    assert await page.locator("ol.papers > li").count() == 25
    await shoot(page, store, "home")

    await (
        page.get_by_role("navigation", name="Time window")
        .get_by_role("link", name="All time")
        .click()
    )
    assert await heading(page) == "Most shared of all time"
    assert page.url.endswith("/?window=all")

    await (
        page.get_by_role("navigation", name="Pages, bottom")
        .get_by_role("link", name="Page 2")
        .click()
    )
    assert page.url.endswith("/?window=all&page=2")
    assert await first_ranks(page) == "26"
    await shoot(page, store, "home-all-page-2")

    await (
        page.get_by_role("navigation", name="Pages, top")
        .get_by_role("link", name="Previous page")
        .click()
    )
    assert await first_ranks(page) == "1"
    await page.get_by_role("navigation", name="Site").get_by_role("link", name="Newest").click()
    assert await heading(page) == "Recently published papers people shared"


async def test_search_box_filters_the_list(site: Site, page: Page, store: str):
    await page.goto(site.url + "/?window=all")

    await page.get_by_label("Words").fill("Still")
    await page.get_by_label("Category").select_option("cs.LG")
    await page.get_by_role("button", name="Search").click()

    assert page.url.endswith("/?window=all&q=Still&category=cs.LG")
    assert await heading(page) == "Most shared of all time in cs.LG about “Still”"
    titles = await page.locator("ol.papers h2").all_text_contents()
    assert titles == ["Attention Is Still All You Need"]
    await shoot(page, store, "search")


async def test_a_card_opens_from_the_list_with_its_chart_drawn(site: Site, page: Page, store: str):
    await page.goto(site.url + "/?q=Still&window=all")

    await page.get_by_role("link", name="Attention Is Still All You Need").click()

    assert page.url == f"{site.url}/paper/{TOP_ID}"
    assert await heading(page) == "Attention Is Still All You Need"
    chart = page.get_by_role("img", name="Daily shares per network, last 30 days")
    box = await chart.bounding_box()
    assert box is not None
    assert (box["width"] > 300, box["height"] > 80) == (True, True)
    lines = page.locator("svg polyline.series")
    assert await lines.count() == 3
    for i in range(3):
        drawn = await lines.nth(i).evaluate("line => line.getTotalLength()")
        assert drawn > 100
        stroke = await lines.nth(i).evaluate("line => getComputedStyle(line).stroke")
        assert stroke not in ("none", "")
    assert "Bluesky: 13" in (await page.locator("figcaption").text_content() or "")
    await shoot(page, store, "paper")


async def test_a_hostile_title_neither_runs_nor_renders_as_markup(
    site: Site, page: Page, store: str
):
    for path in ("/new", f"/paper/{HOSTILE_ID}", "/?window=all&page=2"):
        await page.goto(site.url + path)
        assert await page.evaluate("window.pwned") is None
        shown = page.get_by_text(HOSTILE, exact=True)
        assert await shown.count() >= 1, path
        assert await page.locator("h1 b, h2 b, h2 script, h1 script, li img").count() == 0
    await shoot(page, store, "hostile-paper")


async def test_new_folds_long_abstracts_and_opens_them_without_script(
    site: Site, page: Page, store: str
):
    await page.goto(site.url + "/new?page=3")
    abstract = page.locator("details.abstract").first
    assert await abstract.get_attribute("open") is None

    await abstract.locator("summary").click()

    assert await abstract.get_attribute("open") == ""
    assert await abstract.locator("p").is_visible()
    await shoot(page, store, "new-page-3-abstract-open")


async def test_pages_fit_a_phone_and_follow_dark_mode(browser: Browser, site: Site, store: str):
    context = await browser.new_context(viewport=PHONE, color_scheme="dark", is_mobile=True)
    page = await context.new_page()
    try:
        for path, name in (
            ("/", "phone-home"),
            (f"/paper/{TOP_ID}", "phone-paper"),
            ("/new", "phone-new"),
        ):
            await page.goto(site.url + path)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], path
            background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(22, 24, 27)", path
            await shoot(page, store, name)
        await page.goto(site.url + "/paper/2611.55555")
        assert await heading(page) == "Not found"
        await shoot(page, store, "phone-not-found")
    finally:
        await context.close()
