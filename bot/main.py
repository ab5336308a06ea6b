"""Entry point: `trending-arxiv` (or `python -m bot`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from adapters.console.chat import run_chat
from adapters.console.render import render_reply
from bot.cli import build_parser, shell_form
from bot.settings import Settings, SettingsError
from bot.wiring import Engine, StartupError, open_engine
from core.commands import SYNTAX
from core.failure_log import FailureLog
from core.importer import MAX_LINE_BYTES, read_mentions
from core.models import ChatRef
from core.registry import Request
from core.replies import Failure, Problem
from core.scheduling import finish, pause
from core.storage.faults import database_fault

logger = logging.getLogger("trending_arxiv")
METADATA_INTERVAL = 60.0
STOP_GRACE = 5.0  # seconds the chat's background steps get to end when it does
ONE_SHOTS = ("top", "paper", "search", "new")  # print one reply and exit


INTERRUPTED = 130  # the shell's status for a program ended by Ctrl-C (128 + SIGINT)


def cli(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its status."""
    try:
        status = main(argv)
    except KeyboardInterrupt:  # Ctrl-C before or after the event loop ran
        status = _interrupted()
    if status == INTERRUPTED:
        # A second Ctrl-C may have cut the database's shutdown short, leaving a driver thread
        # that Python's exit would wait for: leave without waiting.
        _leave_now(signal.SIGINT, None)
    sys.exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load settings and run one sub-command; return the exit status."""
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose, command=args.command)
    _load_dotenv()
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(
            "Configuration problems:",
            *(f"  - {p}" for p in exc.problems),
            sep="\n",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(interruptible(dispatch(args, settings)))
    except StartupError as exc:
        print(f"trending-arxiv: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return _interrupted()


async def interruptible(command: Coroutine[Any, Any, int]) -> int:
    """Run a sub-command that Ctrl-C cancels (status 130); a second Ctrl-C leaves at once.

    asyncio's own handler raises KeyboardInterrupt at the second Ctrl-C wherever the program
    is, in a garbage-collection callback too, which prints a traceback.
    """
    task = asyncio.current_task()
    interrupts = 0

    def interrupt() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1 or task is None:
            _leave_now(signal.SIGINT, None)
        else:
            task.cancel()

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on this platform
        loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        return await command
    except asyncio.CancelledError:
        if interrupts:
            return INTERRUPTED
        raise
    finally:
        with contextlib.suppress(NotImplementedError):
            loop.remove_signal_handler(signal.SIGINT)


def _interrupted() -> int:
    """Leave after Ctrl-C; another Ctrl-C while threads wind down leaves at once, quietly.

    The first Ctrl-C cancels the running command and closes the database. Python then waits
    for the database driver's threads, where a second one would print a traceback.
    """
    signal.signal(signal.SIGINT, _leave_now)
    return INTERRUPTED


def _leave_now(signum: int, frame: object) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(INTERRUPTED)


def configure_logging(*, verbose: bool, command: str) -> None:
    """Log one line per event to stderr; quiet libraries that would log secrets.

    The console chat logs only errors by default: its replies already say when arXiv is away.
    """
    quiet = logging.ERROR if command == "chat" else logging.WARNING
    level = logging.DEBUG if verbose else logging.INFO if command in ("run", "web") else quiet
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and Telegram's URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # One line per event: migrations and every scheduled run are not events worth a line.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def _load_dotenv() -> None:
    if Path(".env").is_file():
        from dotenv import load_dotenv

        load_dotenv(".env", override=False)


async def dispatch(args: object, settings: Settings) -> int:
    """Run the chosen sub-command."""
    command = getattr(args, "command", "")
    if command == "db":
        # The release step of every deploy: migrates from any earlier revision.
        async with open_engine(settings, migrate=True) as engine:
            return await maintain(engine, str(getattr(args, "db_command", "upgrade")))
    answers_once = command in ONE_SHOTS or command == "digest"
    async with open_engine(settings, one_shot=answers_once) as engine:
        if command in ("chat", "run", "ingest", "sources"):
            return await with_sources(engine, args)
        if command == "web":
            return await web(engine)
        if command == "import":
            return await import_file(engine, str(getattr(args, "file", "")))
        if command in ONE_SHOTS:
            return await one_shot(engine, command, tuple(getattr(args, "args", ())))
        if command == "digest":
            return await preview_digest(engine, str(getattr(args, "preview", "")))
    return 2


async def maintain(engine: Engine, action: str) -> int:
    """`db upgrade` (migrated on open), then scores made with the configured weights."""
    if action == "rescore":
        print(_rescored(await engine.repo.rescore()))
        return 0
    print("The database schema is up to date.")
    # A migration or new weights leave stored scores to recompute: done here, not in a read.
    report = await engine.repo.sweep(engine.clock.now())
    if report.rescored:
        print(_rescored(report.rescored))
    return 0


def _rescored(papers: int) -> str:
    return f"Rescored {papers:,} paper{'s' if papers != 1 else ''}."


async def with_sources(engine: Engine, args: object) -> int:
    """The sub-commands that need the signal sources."""
    from bot.ingest import first_ingest, health_table, ingest_forever, ingest_once
    from bot.sources import build_sources
    from core.storage.locks import locks_for

    command = getattr(args, "command", "")
    # On PostgreSQL, advisory locks keep each source to one replica at a time.
    locks = locks_for(engine.database)
    sources = build_sources(engine.settings, engine.http, engine.repo, engine.clock, locks)
    if command == "sources":
        print(health_table(sources.names, await engine.repo.health(), engine.clock.now()))
        return 0
    if command == "ingest":
        names = tuple(getattr(args, "source", ()))
        unknown = sorted(set(names) - set(sources.names))
        if unknown:
            print(
                f"not enabled: {', '.join(unknown)} (enabled: {', '.join(sources.names)})",
                file=sys.stderr,
            )
            return 2
        if getattr(args, "once", False):
            # A source another process was polling is not a failure of this one.
            outcomes = [o for o in await ingest_once(engine, sources, names) if not o.skipped]
            return 0 if any(o.ok for o in outcomes) or not outcomes else 1
        from bot.run import stop_on_signals

        stop = asyncio.Event()
        stop_on_signals(stop)
        await ingest_forever(engine, sources, names, stop)
        return 0
    await first_ingest(engine, sources)
    if command == "run":
        from bot.run import run

        return await run(engine, sources)
    return await chat(engine)


async def web(engine: Engine) -> int:
    """The PaaS `web` process: /healthz and Telegram's webhook until SIGTERM."""
    from bot.run import stop_on_signals
    from bot.web import serve_web

    stop = asyncio.Event()
    stop_on_signals(stop)
    return await serve_web(engine, stop)


async def preview_digest(engine: Engine, chat: str) -> int:
    """Print the digest `platform:chat_id` would get now, without recording anything."""
    platform, _, chat_id = chat.partition(":")
    if platform not in ("telegram", "discord", "console") or not chat_id:
        print("give the chat as platform:chat_id, e.g. telegram:-1001234", file=sys.stderr)
        return 2
    target = ChatRef(platform, chat_id)  # type: ignore[arg-type]
    return await one_shot(engine, "digest", (), chat=target)


async def one_shot(
    engine: Engine, command: str, args: tuple[str, ...], chat: ChatRef | None = None
) -> int:
    """Print one command's reply; non-zero status when it was a problem."""
    request = Request(chat or ChatRef("console", "shell"), "shell", args, is_admin=True)
    reply = await engine.registry.dispatch(command, request)
    if isinstance(reply, Problem) and reply.usage is not None:  # the shell's form of the usage
        # The shell's own syntax where it has one: a chat's `/top` also takes `following`.
        usage = SYNTAX[command][0] if command in SYNTAX else reply.usage
        reply = Problem(reply.message, shell_form(usage))
    text = render_reply(reply)
    if isinstance(reply, Problem | Failure):
        print(text, file=sys.stderr)
        return 1
    print(text)
    return 0


async def chat(engine: Engine) -> int:
    """The console chat, with arXiv metadata filled in the background."""
    interactive = sys.stdin.isatty()
    if interactive:
        print("Trending arXiv console. Try /top, /new, /paper 1706.03762, /help; /quit to leave.")
    from bot.sweeping import sweep_forever
    from core.storage.locks import locks_for

    stop = asyncio.Event()
    background = {
        asyncio.create_task(_fill_metadata(engine, stop)),
        asyncio.create_task(sweep_forever(engine, locks_for(engine.database), stop)),
    }
    try:
        await run_chat(engine.registry, sys.stdin, sys.stdout, prompt=interactive)
    finally:
        # The store closes next: a step in flight ends first, or is cancelled after the grace.
        stop.set()
        await finish(background, STOP_GRACE)
    return 0


async def _fill_metadata(engine: Engine, stop: asyncio.Event) -> None:
    failures = FailureLog(logger, engine.clock)
    while not stop.is_set():
        try:
            await engine.metadata.fill_missing()
            failures.succeeded("metadata fill")
        except Exception as exc:  # the chat must go on whatever arXiv or the store does
            failures.failed("metadata fill", exc, f"next try in {METADATA_INTERVAL:g} s")
        await pause(stop, METADATA_INTERVAL)


async def import_file(engine: Engine, path: str) -> int:
    """Import mentions from JSONL, reporting bad lines by number and skipping them."""
    try:
        # A one-shot job: nothing else runs on this loop, so blocking reads are fine.
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")  # noqa: ASYNC230, SIM115
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    new = parsed = skipped = 0
    papers: set[str] = set()
    with stream:
        lines = bounded_lines(stream)
        for mentions, problems in read_mentions(lines, today=engine.clock.now().date()):
            for problem in problems:
                print(f"{path}: {problem}", file=sys.stderr)
            skipped += len(problems)
            try:
                new += (await engine.repo.add_mentions(mentions)).mentions
            except Exception as exc:
                fault = database_fault(exc)
                if fault is None:
                    raise
                print(_import_stopped(fault, parsed), file=sys.stderr)
                return 1
            parsed += len(mentions)
            papers.update(m.arxiv_id for m in mentions)
    # Left swept: the first read after an import costs what any read costs.
    try:
        await engine.repo.sweep(engine.clock.now())
    except Exception as exc:
        fault = database_fault(exc)
        if fault is None:
            raise
        print(f"the day, week and month lists catch up at the next sweep: {fault}", file=sys.stderr)
    print(_import_summary(new, parsed, len(papers), skipped))
    return 1 if skipped and not parsed else 0


def bounded_lines(stream: TextIO, limit: int = MAX_LINE_BYTES) -> Iterator[str]:
    """The lines of `stream`, one a line, those over `limit` cut to its first `limit + 1` chars.

    The importer refuses a line over its limit anyway; cutting it here means a file with no
    line breaks is read piece by piece, never held whole.
    """
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith("\n"):
            while (rest := stream.readline(limit)) and not rest.endswith("\n"):
                pass
        yield line


def _import_stopped(fault: str, committed: int) -> str:
    # Each batch is one transaction, and shares already stored are skipped: a rerun resumes.
    return (
        f"import stopped: {fault}; {committed:,} shares were committed before it. "
        "Run the same command again to resume: shares already imported are skipped."
    )


def _import_summary(new: int, parsed: int, papers: int, skipped: int) -> str:
    text = f"imported {_count(new, 'mention')} of {_count(papers, 'paper')}"
    if parsed > new:
        text += f" ({parsed - new:,} already known)"
    if skipped:
        text += f" ({_count(skipped, 'line')} skipped: see above)"
    return text


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")
