import logging

from adapters.telegram.events import report, telegram_chat
from core.events import ChatGone


async def test_a_chat_event_lost_to_a_database_outage_is_one_line(caplog):
    async def unreachable(_event):
        raise ConnectionRefusedError(111, "Connect call failed")

    caplog.set_level(logging.WARNING, logger="adapters.telegram.events")
    await report(unreachable, ChatGone(telegram_chat(-1001), "blocked"))
    [line] = [r for r in caplog.records if r.name == "adapters.telegram.events"]
    assert line.getMessage().endswith(": ConnectionRefusedError: [Errno 111] Connect call failed")
    assert line.getMessage().startswith("on_chat_event failed for ")
    assert line.exc_info is None
