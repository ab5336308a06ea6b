from __future__ import annotations

from typing import Any

from adapters.discord.cog import PapersCog
from tests.adapters.discord.harness import custom_ids, link_buttons

EPHEMERAL = 64


async def test_page_button_edits_the_list_in_place(harness, where, core):
    first = await harness.slash("top", where=where, n=5, window="week")
    message = first.responses[0]["data"]

    rec = await harness.click(message, custom_ids(message)["Next ▶"], where=where)

    assert core.requests[-1][1].args == ("5", "week", "page=2")
    [update] = rec.responses
    assert update["type"] == 7  # UPDATE_MESSAGE: the same message, re-rendered
    data = update["data"]
    assert data["embeds"][0]["title"] == "Top, page 2"
    assert data["allowed_mentions"] == {"parse": []}
    assert custom_ids(data) == {
        "◀ Previous": "ta:e:top 5 week page=1",
        "Next ▶": "ta:e:top 5 week page=3",
    }
    assert rec.followups == []


async def test_page_button_works_after_a_restart(bot, harness, where, core):
    first = await harness.slash("new", where=where, page=1)
    message = first.responses[0]["data"]

    async def categories():
        return []

    await bot.remove_cog("PapersCog")  # nothing about the message is kept across this
    await bot.add_cog(PapersCog(bot, core.registry(), categories=categories))
    rec = await harness.click(message, custom_ids(message)["Next ▶"], where=where)

    assert rec.responses[0]["type"] == 7
    assert rec.responses[0]["data"]["embeds"][0]["title"] == "Top, page 2"


async def test_abstract_button_answers_privately(harness, where, core):
    first = await harness.slash("paper", where=where, id_or_link="2401.00001")
    card = first.followups[0]
    assert link_buttons(card)["abs"] == "https://arxiv.org/abs/2401.00001"

    rec = await harness.click(card, custom_ids(card)["Abstract"], where=where)

    assert core.requests[-1][1].args == ("2401.00001", "abstract")
    assert [(r["type"], r["data"]["flags"]) for r in rec.responses] == [(5, EPHEMERAL)]
    [followup] = rec.followups
    assert followup["flags"] == EPHEMERAL
    assert followup["content"].startswith("We study things.")
    assert rec.deletes == 0


async def test_button_problem_is_private_and_leaves_the_message(harness, where):
    message = {"content": "", "components": [_row("ta:e:nosuch 1")]}

    rec = await harness.click(message, "ta:e:nosuch 1", where=where)

    [response] = rec.responses
    assert response["type"] == 4
    assert response["data"]["flags"] == EPHEMERAL
    assert "Unknown command /nosuch" in response["data"]["content"]


async def test_admin_only_button_checks_permissions_in_core(harness, where, core):
    message = {"content": "", "components": [_row("ta:e:subscribe 08:00")]}

    rec = await harness.click(message, "ta:e:subscribe 08:00", where=where)

    assert core.requests == []
    assert rec.responses[0]["data"]["flags"] == EPHEMERAL


def _row(custom_id: str) -> dict[str, Any]:
    return {
        "type": 1,
        "components": [{"type": 2, "style": 2, "label": "x", "custom_id": custom_id}],
    }
