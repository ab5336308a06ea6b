"""The `trending-arxiv` command line: one sub-command per job."""

from __future__ import annotations

import argparse

DESCRIPTION = "Which arXiv papers are people sharing right now? A chat bot and its tools."


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="trending-arxiv", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("chat", help="a console chat on the local store (no tokens needed)")
    sub.add_parser("run", help="the bot: every adapter with a token, the scheduler and pollers")
    sub.add_parser(
        "web", help="the web process: /healthz and the Telegram webhook on $PORT (see Procfile)"
    )
    ingest = sub.add_parser("ingest", help="poll the signal sources now")
    ingest.add_argument(
        "--source", action="append", default=[], metavar="NAME", help="only this source (repeat)"
    )
    ingest.add_argument("--once", action="store_true", help="poll once and exit")
    sub.add_parser("sources", help="print each source's health")
    digest = sub.add_parser("digest", help="print a chat's digest as it would be sent now")
    digest.add_argument(
        "--preview",
        metavar="CHAT",
        default="console:console",
        help="platform:chat_id, e.g. telegram:-1001234 or discord:987 (default: the console)",
    )
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="migrate the database to the newest schema")
    imp = sub.add_parser("import", help="import mentions from a JSONL file (- for stdin)")
    imp.add_argument("file")
    top = sub.add_parser("top", help="print /top, e.g. `trending-arxiv top 5 week cs.LG`")
    top.add_argument("args", nargs="*")
    paper = sub.add_parser(
        "paper", help="print a paper's card, e.g. `trending-arxiv paper 1706.03762`"
    )
    paper.add_argument("args", nargs="*")
    search = sub.add_parser("search", help="print /search results")
    search.add_argument("args", nargs="*")
    new = sub.add_parser("new", help="print /new, the recently published papers people shared")
    new.add_argument("args", nargs="*")
    return parser
