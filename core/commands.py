"""Every command, written once: `Request -> Reply` (DESIGN.md section 5)."""

from __future__ import annotations

from core.arguments import (
    MAX_RANKED,
    NewArgs,
    TopArgs,
    parse_new,
    parse_paper_ref,
    parse_top,
    parse_words,
    shown,
)
from core.cards import CardOptions, build_card, card_query, ranked
from core.errors import InvalidArguments, UnknownPaper
from core.follow_commands import FollowCommands
from core.follows import FollowLists
from core.metadata import MetadataService
from core.models import PaperStats
from core.ports import AccountDirectory, Clock, PaperRepository, TopQuery
from core.ranking import RankingConfig
from core.registry import Command, Registry, Request
from core.replies import CommandHelp, Help, Paging, PaperList, Problem, Reply, Text
from core.subscription_commands import SubscriptionCommands
from core.subscriptions import SubscriptionStore

INTRO = (
    "I track which arXiv papers people are sharing right now on Bluesky, Mastodon, X, "
    "Hacker News, Reddit and Hugging Face, and rank them."
)
NEW_PAGE = 10
# Each command's usage, summary and example, also read by the shell's `--help`.
SYNTAX: dict[str, tuple[str, str, str]] = {
    "start": ("/start", "What this bot does", "/start"),
    "help": ("/help [command]", "Every command with an example", "/help top"),
    "top": (
        "/top [n] [day|week|month|all] [category|words]",
        "The most shared papers (trending by default)",
        "/top 5 week cs.LG",
    ),
    "new": ("/new [page]", "Recent papers people shared, newest first", "/new 2"),
    "paper": (
        "/paper <arXiv id or link>",
        "A paper's card: who shares it, where, and how much",
        "/paper https://arxiv.org/abs/1706.03762",
    ),
    "search": ("/search <words>", "Tracked papers matching words", "/search diffusion"),
}
# `/top` in a chat that may keep a follow list.
TOP_FOLLOWING = (
    "/top [following] [n] [day|week|month|all] [category|words]",
    "The most shared papers (trending by default), or those the accounts followed here share",
    "/top following week cs.LG",
)
_HEADINGS = {
    "trending": "Trending now",
    "day": "Most shared today",
    "week": "Most shared this week",
    "month": "Most shared this month",
    "all": "Most shared of all time",
}


class Commands:
    """The handlers, holding the engine's parts."""

    def __init__(
        self,
        repo: PaperRepository,
        metadata: MetadataService,
        clock: Clock,
        config: RankingConfig,
        subscriptions: SubscriptionStore | None = None,
        follows: FollowLists | None = None,
        directory: AccountDirectory | None = None,
    ) -> None:
        self._repo = repo
        self._metadata = metadata
        self._clock = clock
        self._config = config
        self._follows = FollowCommands(follows, directory, clock) if follows else None
        extra = (
            SubscriptionCommands(subscriptions, repo, clock, follows).commands()
            if subscriptions
            else []
        )
        following = self._follows.commands() if self._follows else []
        self.registry = Registry([*self._commands(), *extra, *following])

    def _commands(self) -> list[Command]:
        syntax = dict(SYNTAX)
        if self._follows is not None:  # the shell has no chat, so no follow list
            syntax["top"] = TOP_FOLLOWING
        return [
            Command(name, *syntax[name], handler)
            for name, handler in (
                ("start", self.help),
                ("help", self.help),
                ("top", self.top),
                ("new", self.new),
                ("paper", self.paper),
                ("search", self.search),
            )
        ]

    async def help(self, req: Request) -> Reply:
        """List every command, or explain one."""
        if req.args:
            command = self.registry.get(req.args[0].lstrip("/"))
            if command is None:
                raise InvalidArguments(f"There is no /{shown(req.args[0].lstrip('/'))} command.")
            return Text((command.usage, command.summary + ".", f"Example: {command.example}"))
        return Help(
            INTRO,
            tuple(
                CommandHelp(c.name, c.usage, c.summary, c.example) for c in self.registry.commands
            ),
        )

    async def top(self, req: Request) -> Reply:
        """The ranked list."""
        args = req.typed.checked() if isinstance(req.typed, TopArgs) else parse_top(req.args)
        if args.following:
            if self._follows is None:
                raise InvalidArguments("This bot keeps no follow lists.")
            return await self._follows.top(req, args)
        offset = (args.page - 1) * args.n
        query = TopQuery(args.window, args.n + 1, offset, args.category, args.words)
        if args.page > 1 and (past := await self._past_end(query, args.page, args.n)):
            return past
        stats = await self._repo.top(query, self._clock.now())
        heading = _HEADINGS[args.window]
        if args.category:
            heading += f" in {args.category}"
        if args.words:
            heading += " about “" + " ".join(args.words) + "”"
        return PaperList(
            heading=heading,
            papers=ranked(stats[: args.n], query.offset + 1),
            empty_note=await self._empty_note(args.page > 1),
            paging=_paging("top", args.as_typed(), args.page, _more(stats, args.n, offset)),
        )

    async def new(self, req: Request) -> Reply:
        """The 2016 page: recently published papers that people shared, newest first."""
        page = (req.typed if isinstance(req.typed, NewArgs) else parse_new(req.args)).checked().page
        offset = (page - 1) * NEW_PAGE
        if page > 1 and (past := await self._past_end(None, page, NEW_PAGE)):
            return past
        stats = await self._repo.newest(NEW_PAGE + 1, offset)
        note = "No shared papers with arXiv details yet."
        # Counting the papers without details reads every paper: only an empty page says it.
        if not stats and (waiting := await self._repo.count_waiting()):
            papers = "1 shared paper is" if waiting == 1 else f"{waiting:,} shared papers are"
            note += f" {papers} waiting for arXiv's details."
        return PaperList(
            heading="Recently published papers people shared",
            papers=ranked(stats[:NEW_PAGE], (page - 1) * NEW_PAGE + 1),
            empty_note="No more papers." if page > 1 else note,
            paging=_paging("new", (), page, _more(stats, NEW_PAGE, offset)),
        )

    async def paper(self, req: Request) -> Reply:
        """A paper's card."""
        args, abstract = _abstract_flag(req.args)
        # arXiv's citation form "arXiv:2401.01234 [cs.LG]" arrives as two words.
        if len(args) == 2 and args[1].startswith("["):
            args = (f"{args[0]} {args[1]}",)
        if len(args) != 1:
            raise InvalidArguments("Give one arXiv id or link.")
        arxiv_id = parse_paper_ref(args[0], self._clock.now().date()).arxiv_id
        if abstract:
            paper, note = await self._metadata.describe(arxiv_id)
            if paper is None:
                raise _unknown(arxiv_id, note)
            return Text((paper.title or paper.arxiv_id, paper.abstract or "No abstract yet."))
        # The card's read holds the stored paper: the store is read once, and arXiv asked only
        # when the paper has no details yet.
        now = self._clock.now()
        options = req.typed if isinstance(req.typed, CardOptions) else None
        query = card_query(arxiv_id, now, options)
        facts = await self._repo.card(query, now)
        stored = facts.stats.paper if facts.stats else None
        paper, note = await self._metadata.complete(arxiv_id, stored)
        if paper is None:
            raise _unknown(arxiv_id, note)
        return build_card(paper, query, facts, now, self._config, note)

    async def search(self, req: Request) -> Reply:
        """Tracked papers matching every word."""
        words = parse_words(req.args)
        stats = await self._repo.search(words, 10, self._clock.now())
        return PaperList(
            heading="Papers about “" + " ".join(words) + "”",
            papers=ranked(stats, 1),
            empty_note="No tracked paper matches. Try fewer or other words.",
        )

    async def _past_end(self, query: TopQuery | None, page: int, size: int) -> Problem | None:
        """How many pages a list has when `page` is past its end; None when it is not.

        The count stops one paper into the page, so a filter that matches little is read once,
        by the count, and never again for the page itself; lists page no deeper than MAX_RANKED.
        """
        offset = (page - 1) * size
        listed = await self._repo.count_listed(query, min(offset + 1, MAX_RANKED))
        if listed > offset:
            return None
        pages = max(1, -(-listed // size))
        have = "is 1 page" if pages == 1 else f"are {pages:,} pages"
        return Problem(f"There is no page {page:,}: there {have}.")

    async def _empty_note(self, later_page: bool) -> str:
        if later_page:
            return "No more papers."
        if await self._repo.is_empty():
            return "Nothing has been shared yet: run `trending-arxiv ingest` or import shares."
        return "No shared papers match in this window."


def _more(stats: list[PaperStats], size: int, offset: int) -> bool:
    """Whether a next page exists within the depth lists page to."""
    return len(stats) > size and offset + size < MAX_RANKED


def _paging(command: str, args: tuple[str, ...], page: int, has_next: bool) -> Paging | None:
    if page == 1 and not has_next:
        return None
    return Paging(command, args, page, has_next)


def build_commands(
    repo: PaperRepository,
    metadata: MetadataService,
    clock: Clock,
    config: RankingConfig,
    subscriptions: SubscriptionStore | None = None,
    follows: FollowLists | None = None,
    directory: AccountDirectory | None = None,
) -> Registry:
    """Return the registry every platform exposes.

    Digest commands come with a subscription store, follow list commands with `follows`;
    `directory` looks accounts up for `/follow` (without it, `/follow` says it cannot).
    """
    return Commands(repo, metadata, clock, config, subscriptions, follows, directory).registry


def _unknown(arxiv_id: str, note: str | None) -> UnknownPaper:
    if note:
        return UnknownPaper(f"I have nothing on {arxiv_id} yet, and {note[0].lower()}{note[1:]}")
    return UnknownPaper(f"arXiv has no paper {arxiv_id}.")


def _abstract_flag(args: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The arguments without a trailing `abstract`, and whether it was there."""
    if len(args) > 1 and args[-1] == "abstract":
        return args[:-1], True
    return args, False
