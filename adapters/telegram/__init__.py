"""Telegram adapter (python-telegram-bot 22).

The composition root uses `app.build_application`, `app.start` and `app.stop`, and hands
`sink.TelegramDigestSink(app.bot)` to the digest sender; chat lifecycle events are
`events.ChatGone` and `events.ChatMoved`.
"""
