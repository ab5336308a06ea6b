"""Telegram adapter (python-telegram-bot 22).

The composition root uses `app.build_application`, `app.start` and `app.stop`; chat lifecycle
events are `events.ChatGone` and `events.ChatMoved`. A digest sink can reuse
`render.render_reply`, `outbox.send_rendered` and `events.chat_event_for`.
"""
