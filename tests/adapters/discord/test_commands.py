from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import discord
import pytest

from adapters.discord.cog import PapersCog
from core.arguments import NewArgs, TopArgs
from core.commands import build_commands
from core.metadata import MetadataService
from core.models import Mention, Paper
from core.ranking import RankingConfig
from core.registry import Command, Registry
from core.subscription_commands import SubscribeArgs
from tests.adapters.discord.conftest import CATEGORIES
from tests.adapters.discord.harness import Recorder
from tests.fakes import FixedClock, InMemoryPaperRepository

EPHEMERAL = 64
NO_MENTIONS: dict[str, list[str]] = {"parse": []}


def only_response(rec: Recorder) -> dict[str, Any]:
    assert len(rec.responses) == 1, rec.responses
    return rec.responses[0]


def assert_no_mentions(rec: Recorder) -> None:
    for payload in rec.sent:
        assert payload.get("allowed_mentions") == NO_MENTIONS, payload


CASES = [
    ("start", {}, ()),
    ("help", {}, ()),
    (
        "top",
        {"n": 5, "window": "week", "category": "cs.LG", "words": 'graph "neural nets"'},
        TopArgs(5, "week", "cs.LG", ("graph", "neural nets")),
    ),
    ("top", {}, TopArgs()),
    ("top", {"following": True, "window": "day"}, TopArgs(window="day", following=True)),
    ("new", {"page": 2}, NewArgs(2)),
    ("search", {"words": "diffusion models"}, ("diffusion", "models")),
    ("settings", {}, ()),
]


@pytest.mark.parametrize(("name", "options", "args"), CASES)
async def test_slash_command_maps_options_to_core_args(harness, where, core, name, options, args):
    rec = await harness.slash(name, where=where, **options)

    [(called, request)] = core.requests
    # Typed options reach core as its typed arguments; text as the words core reads.
    assert (called, request.args if isinstance(args, tuple) else request.typed) == (name, args)
    assert request.chat.platform == "discord"
    assert request.chat.chat_id == str(where["channel"].id)
    assert request.user_id == str(where["member"].id)
    assert not request.is_admin
    response = only_response(rec)
    assert response["type"] == 4
    assert not response["data"].get("flags")
    assert response["data"]["embeds"] or response["data"]["content"]
    assert_no_mentions(rec)


async def test_top_has_a_next_page_button(harness, where):
    rec = await harness.slash("top", where=where, n=5)
    [row] = only_response(rec)["data"]["components"]
    assert [(c["label"], c["custom_id"]) for c in row["components"]] == [
        ("Next ▶", "ta:e:top 5 page=2")
    ]


async def test_paper_is_deferred_then_followed_up_with_a_card(harness, where, core):
    rec = await harness.slash("paper", where=where, id_or_link="https://arxiv.org/abs/2401.00001v2")

    assert [r["type"] for r in rec.responses] == [5]
    assert core.requests[0][1].args == ("https://arxiv.org/abs/2401.00001v2",)
    [followup] = rec.followups
    assert followup["embeds"][0]["title"] == "Scaling laws for test paper number 1"
    labels = [c["label"] for row in followup["components"] for c in row["components"]]
    assert labels == ["abs", "pdf", "html", "Abstract"]
    assert_no_mentions(rec)


async def test_paper_problem_after_deferral_is_ephemeral(harness, where):
    rec = await harness.slash("paper", where=where, id_or_link=" ")

    assert [r["type"] for r in rec.responses] == [5]
    assert rec.deletes == 1  # the public "thinking…" answer gives way to a private one
    [followup] = rec.followups
    assert followup["flags"] == EPHEMERAL
    assert followup["content"].startswith("Which paper?")


async def test_slow_command_is_deferred_after_the_threshold(bot, harness, where, core):
    async def categories():
        return []

    await bot.remove_cog("PapersCog")
    await bot.add_cog(PapersCog(bot, core.registry(), categories=categories, defer_after=0.01))
    core.slow = 0.1

    rec = await harness.slash("search", where=where, words="slow")

    assert [r["type"] for r in rec.responses] == [5]
    [followup] = rec.followups
    assert followup["embeds"]
    assert not followup.get("flags")


async def test_admin_command_refused_without_manage_channels(harness, where, core):
    rec = await harness.slash("subscribe", where=where, time="08:00")

    response = only_response(rec)
    assert response["type"] == 4
    assert response["data"]["flags"] == EPHEMERAL
    assert "Manage Channels" in response["data"]["content"]
    assert core.requests == []


async def test_admin_command_runs_with_manage_channels(harness, admin_where, core):
    rec = await harness.slash(
        "subscribe",
        where=admin_where,
        time="08:00",
        timezone="Europe/Berlin",
        n=10,
        filters="cs.LG cs.CL",
    )

    [(_, request)] = core.requests
    assert request.typed == SubscribeArgs("08:00", "Europe/Berlin", 10, ("cs.LG", "cs.CL"))
    assert request.is_admin
    assert only_response(rec)["type"] == 4
    assert_no_mentions(rec)


async def test_unsubscribe_takes_no_options(harness, admin_where, core):
    await harness.slash("unsubscribe", where=admin_where)
    assert core.requests[0][1].args == ()


async def test_commands_work_in_direct_messages(harness, dm, core):
    rec = await harness.slash("top", where=dm, n=3)

    [(_, request)] = core.requests
    assert request.typed == TopArgs(n=3)
    assert request.is_admin
    assert not request.digests_here
    assert request.chat.chat_id != str(dm["user"].id)
    assert only_response(rec)["type"] == 4


async def test_admin_command_refused_in_direct_messages(harness, dm, core):
    rec = await harness.slash("subscribe", where=dm)

    response = only_response(rec)
    assert response["data"]["flags"] == EPHEMERAL
    assert "server channel" in response["data"]["content"]
    assert core.requests == []


async def test_error_in_handler_gives_ephemeral_apology(harness, where):
    rec = await harness.slash("digest", where=where, arguments="today")

    response = only_response(rec)
    assert response["data"]["flags"] == EPHEMERAL
    assert response["data"]["content"].startswith("Sorry, /digest failed on our side")


async def test_error_in_adapter_gives_ephemeral_apology_and_log(bot, harness, where, caplog):
    async def broken(request):
        return object()  # not a Reply: rendering fails inside the adapter

    async def categories():
        return []

    await bot.remove_cog("PapersCog")
    registry = Registry([Command("top", "/top", "Top papers.", "/top", broken)])
    await bot.add_cog(PapersCog(bot, registry, categories=categories))

    with caplog.at_level(logging.ERROR, logger="adapters.discord.cog"):
        rec = await harness.slash("top", where=where)

    response = only_response(rec)
    assert response["data"]["flags"] == EPHEMERAL
    assert response["data"]["content"].startswith("Sorry")
    assert any("/top failed" in r.getMessage() for r in caplog.records)


async def test_category_autocomplete_from_store(harness, where):
    assert await harness.complete("top", "category", where=where, category="cs.") == [
        "cs.LG",
        "cs.CL",
        "cs.CV",
    ]
    assert await harness.complete("top", "category", where=where, category="gt") == ["math.GT"]
    assert await harness.complete("top", "category", where=where, category="") == CATEGORIES


async def test_timezone_autocomplete_by_prefix(harness, admin_where):
    found = await harness.complete(
        "subscribe", "timezone", where=admin_where, timezone="europe/ber"
    )
    assert found == ["Europe/Berlin"]
    assert "Europe/Berlin" in await harness.complete(
        "subscribe", "timezone", where=admin_where, timezone="Berl"
    )
    assert (
        len(await harness.complete("subscribe", "timezone", where=admin_where, timezone="")) == 25
    )


@pytest.mark.parametrize(
    ("lacking", "missing"),
    [
        (("embed_links",), "Embed Links"),
        (("send_messages",), "Send Messages"),
        (("send_messages", "embed_links"), "Send Messages and Embed Links"),
    ],
)
async def test_subscribe_refused_where_the_bot_cannot_post_digests(
    harness, admin_where, core, lacking, missing
):
    bot_rights = discord.Permissions.text()
    for flag in lacking:
        setattr(bot_rights, flag, False)

    rec = await harness.slash(
        "subscribe", where={**admin_where, "app_permissions": bot_rights}, time="08:00"
    )

    response = only_response(rec)
    assert response["data"]["flags"] == EPHEMERAL
    assert response["data"]["content"] == (
        f"I can't post digests in this channel: give me {missing} here first."
    )
    assert core.requests == []


async def test_new_page_past_the_end_says_how_many_pages(bot, harness, where):
    clock = FixedClock(datetime(2026, 11, 26, tzinfo=UTC))
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    ids = [f"2611.{i:05d}" for i in range(1, 16)]
    await repo.save_papers([Paper(i, title="T", published=clock.now()) for i in ids])
    await repo.add_mentions([Mention("x", f"p{i}", "ann", clock.now(), "post", i) for i in ids])
    registry = build_commands(repo, MetadataService(repo, None, clock), clock, RankingConfig())

    async def categories():
        return []

    await bot.remove_cog("PapersCog")
    await bot.add_cog(PapersCog(bot, registry, categories=categories))
    rec = await harness.slash("new", where=where, page=999999)

    response = only_response(rec)
    assert response["data"]["flags"] == EPHEMERAL
    assert response["data"]["content"] == "There is no page 999,999: there are 2 pages."


async def test_a_failure_after_a_public_deferral_apologises_privately(
    harness, where, monkeypatch, caplog
):
    async def broken(*_args):
        raise RuntimeError("the cog itself failed")

    # /paper defers publicly first ("thinking…"); then the command fails outside core.
    monkeypatch.setattr(Registry, "dispatch", broken)
    with caplog.at_level(logging.ERROR):
        rec = await harness.slash("paper", where=where, id_or_link="2401.00001")

    assert [r["type"] for r in rec.responses] == [5]
    assert rec.deletes == 1  # the public "thinking…" message is gone before the apology
    [followup] = rec.followups
    assert followup["flags"] == EPHEMERAL
    assert followup["content"] == "Sorry, something went wrong on our side. Please try again later."
