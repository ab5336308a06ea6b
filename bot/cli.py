"""The `trending-arxiv` command line: one sub-command per job."""

from __future__ import annotations

import argparse

from core.commands import SYNTAX

PROGRAM = "trending-arxiv"
DESCRIPTION = "Which arXiv papers are people sharing right now? A chat bot and its tools."


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="trending-arxiv", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser(
        "chat",
        help="a console chat on the local store (no tokens needed)",
        epilog=f"example: {PROGRAM} chat, then /top 5 week; /quit or Ctrl-D to leave",
    )
    sub.add_parser(
        "run",
        help="the bot: every adapter with a token, the scheduler and pollers",
        epilog=f"example: TELEGRAM_BOT_TOKEN=... {PROGRAM} run",
    )
    sub.add_parser(
        "web",
        help="the web process: /healthz and the Telegram webhook on $PORT (see Procfile)",
        epilog=f"example: PORT=8080 {PROGRAM} web",
    )
    ingest = sub.add_parser(
        "ingest",
        help="poll the signal sources now",
        epilog=f"example: {PROGRAM} ingest --source hackernews --once",
    )
    ingest.add_argument(
        "--source", action="append", default=[], metavar="NAME", help="only this source (repeat)"
    )
    ingest.add_argument("--once", action="store_true", help="poll once and exit")
    sub.add_parser(
        "sources", help="print each source's health", epilog=f"example: {PROGRAM} sources"
    )
    digest = sub.add_parser(
        "digest",
        help="print a chat's digest as it would be sent now",
        epilog=f"example: {PROGRAM} digest --preview telegram:-1001234",
    )
    digest.add_argument(
        "--preview",
        metavar="CHAT",
        default="console:console",
        help="platform:chat_id, e.g. telegram:-1001234 or discord:987 (default: the console)",
    )
    db = sub.add_parser("db", help="database maintenance", epilog=f"example: {PROGRAM} db upgrade")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="migrate the database to the newest schema")
    db_sub.add_parser(
        "rescore", help="recompute every stored score (after a change of weights or half-life)"
    )
    imp = sub.add_parser(
        "import",
        help="import mentions from a JSONL file (- for stdin)",
        epilog=f"example: {PROGRAM} import my-shares.jsonl",
    )
    imp.add_argument("file", help="JSON Lines, one share a line; - reads standard input")
    for name in ("top", "paper", "search", "new"):
        usage, summary, example = SYNTAX[name]
        one = sub.add_parser(
            name,
            help=f"{summary[0].lower()}{summary[1:]}, e.g. `{shell_form(example)}`",
            usage=shell_form(usage),
            description=f"{summary}, as the chat's {usage.split()[0]} answers it.",
            epilog=f"example: {shell_form(example)}",
        )
        one.add_argument("args", nargs="*", help="as typed after the chat command")
    return parser


def shell_form(line: str) -> str:
    """A chat command line as the shell takes it: `/top 5` is `trending-arxiv top 5`."""
    return f"{PROGRAM} {line.removeprefix('/')}"
