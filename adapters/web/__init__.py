"""The web front end: the trending page, the newest papers, paper pages, an Atom feed, JSON.

It renders what core's commands answer, as the chat adapters do, with Jinja2 templates
(autoescaped), a static stylesheet and no script. It knows aiohttp, not the process around it:
`bot.web` mounts its routes next to /healthz and the Telegram webhook.
"""
