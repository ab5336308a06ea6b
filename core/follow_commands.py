"""`/follow`, `/unfollow`, `/following` and `/top following`: a chat's own follow list."""

from __future__ import annotations

from collections.abc import Sequence

from core.arguments import MAX_RANKED, NUMBER, TopArgs, parse_page, shown
from core.cards import ranked
from core.errors import InvalidArguments
from core.follows import MAX_FOLLOWS, NETWORK_NAMES, FollowListFull, FollowLists, name_key
from core.models import SHARE_NETWORKS
from core.phrases import source_name
from core.ports import (
    Account,
    AccountDirectory,
    AccountNotFound,
    Clock,
    SourceUnavailable,
    TopQuery,
)
from core.registry import Command, Request
from core.replies import Paging, PaperList, Problem, Reply, Text

MAX_TYPED = 20  # accounts one /follow or /unfollow names; each typed one is a lookup
PAGE_SIZE = 40  # accounts a /following page lists
EXAMPLE = "bluesky:alice.bsky.social"
HEADINGS = {
    "trending": "Trending among the accounts this chat follows",
    "day": "Most shared today by the accounts this chat follows",
    "week": "Most shared this week by the accounts this chat follows",
    "month": "Most shared this month by the accounts this chat follows",
    "all": "Most shared of all time by the accounts this chat follows",
}
NO_LOOKUPS = "This bot cannot look accounts up yet, so it cannot follow any."
NOBODY = (
    "This chat follows nobody yet. An admin can add accounts with /follow "
    f"{EXAMPLE}, or everyone an account follows with /follow import {EXAMPLE}."
)


def display(account: Account) -> str:
    """How an account is written in replies: `@alice.bsky.social`, `@bob@sigmoid.social`."""
    return f"@{account.shown}"


def _labelled(account: Account) -> str:
    return f"{display(account)} ({source_name(account.network)})"


def parse_account(token: str) -> tuple[str, str]:
    """Split `network:account` into the network's name and the account as typed.

    Raises:
        InvalidArguments: no network, an unknown one, or nothing after the colon.
    """
    network, colon, name = token.partition(":")
    if not colon or not name.strip():
        raise InvalidArguments(
            f"write {shown(token)} as network:account, e.g. {EXAMPLE} or x:karpathy"
        )
    known = NETWORK_NAMES.get(network.lower())
    if known is None:
        networks = ", ".join(SHARE_NETWORKS)
        raise InvalidArguments(f"{shown(network, 20)} is not a network I follow ({networks})")
    return known, name.strip()


def _unreachable(network: str) -> str:
    return f"{source_name(network)} could not be asked just now; try again later"


class FollowCommands:
    """The follow list commands, holding the lists and the networks' directory."""

    def __init__(
        self, follows: FollowLists, directory: AccountDirectory | None, clock: Clock
    ) -> None:
        self._follows = follows
        self._directory = directory
        self._clock = clock

    def commands(self) -> list[Command]:
        """The follow list commands for the registry."""
        return [
            Command(
                "follow",
                "/follow <network:account …> | /follow import <network:account>",
                "Follow accounts here, or everyone an account follows; "
                "/top following ranks their shares (admins)",
                f"/follow {EXAMPLE} mastodon:@bob@sigmoid.social x:karpathy",
                self.follow,
                admin_only=True,
            ),
            Command(
                "unfollow",
                "/unfollow <network:account …> | /unfollow all",
                "Stop following accounts here (admins)",
                f"/unfollow {EXAMPLE}",
                self.unfollow,
                admin_only=True,
            ),
            Command(
                "following",
                "/following [page]",
                "The accounts this chat follows",
                "/following 2",
                self.following,
            ),
        ]

    async def follow(self, req: Request) -> Reply:
        """Follow typed accounts, or import an account's follows."""
        if not req.args:
            raise InvalidArguments(f"Name the accounts to follow, e.g. /follow {EXAMPLE}.")
        if self._directory is None:
            return Problem(NO_LOOKUPS)
        if req.args[0].lower() == "import":
            if len(req.args) != 2:
                raise InvalidArguments(
                    f"Import one account's follows, e.g. /follow import {EXAMPLE}."
                )
            return await self._import(req, req.args[1], self._directory)
        if len(req.args) > MAX_TYPED:
            raise InvalidArguments(f"Name at most {MAX_TYPED} accounts at a time.")
        directory = self._directory
        found: list[Account] = []
        refused: list[str] = []
        for token in req.args:
            try:
                network, name = parse_account(token)
                found.append(await directory.resolve(network, name))
            except (InvalidArguments, ValueError, AccountNotFound) as exc:
                refused.append(f"{shown(token)} ({_reason(exc)})")
            except SourceUnavailable:
                refused.append(f"{shown(token)} ({_unreachable(network)})")
        try:
            added = await self._follows.add(req.chat, found, self._clock.now())
        except FollowListFull as exc:
            return Problem(f"Nothing added: {exc}. /unfollow some first.")
        already = [a for a in dict.fromkeys(found) if a not in added]
        lines = []
        if added:
            lines.append("Following now: " + ", ".join(_labelled(a) for a in added) + ".")
        if already:
            lines.append("Already followed: " + ", ".join(display(a) for a in already) + ".")
        if refused:
            lines.append("Not added: " + "; ".join(refused) + ".")
        if not added and not already:
            return Problem(_nothing_done("added", refused))
        return Text(tuple(lines))

    async def _import(self, req: Request, token: str, directory: AccountDirectory) -> Reply:
        """Add everyone an account follows, all or nothing."""
        try:
            network, name = parse_account(token)
            account = await directory.resolve(network, name)
            accounts = await directory.following(account, MAX_FOLLOWS)
        except (InvalidArguments, ValueError, AccountNotFound) as exc:
            return Problem(f"Nothing imported: {_reason(exc)}.")
        except SourceUnavailable:
            return Problem(f"Nothing imported: {_unreachable(network)}.")
        if not accounts:
            return Problem(f"Nothing imported: {display(account)} follows nobody.")
        try:
            added = await self._follows.add(req.chat, accounts, self._clock.now())
        except FollowListFull as exc:
            return Problem(
                f"Nothing imported: {display(account)} follows {len(accounts):,} accounts, and "
                f"{exc}. /unfollow all first, or follow fewer."
            )
        total = sum((await self._follows.counts(req.chat)).values())
        lines = [f"Imported {len(added):,} accounts that {display(account)} follows."]
        if len(accounts) == MAX_FOLLOWS:
            lines.append(f"That is the most one import takes: the first {MAX_FOLLOWS:,}.")
        if len(added) < len(accounts):
            lines.append(f"{len(accounts) - len(added):,} were followed here already.")
        lines.append(f"This chat follows {total:,} accounts; /top following ranks their shares.")
        return Text(tuple(lines))

    async def unfollow(self, req: Request) -> Reply:
        """Stop following the named accounts, or everyone."""
        if not req.args:
            raise InvalidArguments(f"Name the accounts to unfollow, e.g. /unfollow {EXAMPLE}.")
        if len(req.args) == 1 and req.args[0].lower() == "all":
            gone = await self._follows.clear(req.chat)
            if not gone:
                return Text(("This chat follows nobody.",))
            return Text((f"Unfollowed all {gone:,} accounts.",))
        if len(req.args) > MAX_TYPED:
            raise InvalidArguments(f"Name at most {MAX_TYPED} accounts at a time.")
        names: list[tuple[str, str]] = []
        refused: list[str] = []
        for token in req.args:
            try:
                names.append(parse_account(token))
            except InvalidArguments as exc:
                refused.append(f"{shown(token)} ({exc})")
        removed = await self._follows.remove(req.chat, names)
        missing = [
            f"{shown(n)} (not followed here)"
            for network, n in names
            if not any(a.network == network and name_key(n) in (a.key, a.shown) for a in removed)
        ]
        lines = []
        if removed:
            lines.append("Unfollowed: " + ", ".join(_labelled(a) for a in removed) + ".")
        if missing or refused:
            lines.append("Not removed: " + "; ".join([*refused, *missing]) + ".")
        return (
            Text(tuple(lines))
            if removed
            else Problem(_nothing_done("removed", [*refused, *missing]))
        )

    async def following(self, req: Request) -> Reply:
        """List the accounts this chat follows, a page at a time, with counts per network."""
        page = _page(req.args)
        counts = await self._follows.counts(req.chat)
        total = sum(counts.values())
        if not total:
            return Text((NOBODY,))
        pages = -(-total // PAGE_SIZE)
        if page > pages:
            have = "is 1 page" if pages == 1 else f"are {pages:,} pages"
            return Problem(f"There is no page {page:,}: there {have}.")
        accounts = await self._follows.page(req.chat, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        per_network = ", ".join(
            f"{counts[n]:,} on {source_name(n)}" for n in SHARE_NETWORKS if counts.get(n)
        )
        noun = "account" if total == 1 else "accounts"
        lines = [f"This chat follows {total:,} {noun}: {per_network}."]
        lines += [_labelled(a) for a in accounts]
        if pages > 1:
            more = f"; /following {page + 1} for more" if page < pages else ""
            lines.append(f"Page {page:,} of {pages:,}{more}.")
        return Text(tuple(lines))

    async def top(self, req: Request, args: TopArgs) -> PaperList:
        """The ranked list counted from this chat's follows only."""
        offset = (args.page - 1) * args.n
        query = TopQuery(args.window, args.n + 1, offset, args.category, args.words)
        stats = await self._follows.top(req.chat, query, self._clock.now())
        heading = HEADINGS[args.window]
        if args.category:
            heading += f" in {args.category}"
        if args.words:
            heading += " about “" + " ".join(args.words) + "”"
        has_next = len(stats) > args.n and offset + args.n < MAX_RANKED
        if args.page > 1:
            note = "No more papers."
        elif not await self._follows.counts(req.chat):
            note = NOBODY
        else:
            note = "None of the accounts this chat follows shared a matching paper in this window."
        return PaperList(
            heading=heading,
            papers=ranked(stats[: args.n], offset + 1),
            empty_note=note,
            paging=(
                Paging("top", args.as_typed(), args.page, has_next)
                if args.page > 1 or has_next
                else None
            ),
        )


def _nothing_done(done: str, refused: Sequence[str]) -> str:
    """One line for a command that changed nothing: the reason, or the first of them."""
    if len(refused) == 1:
        return f"Not {done}: {refused[0]}."
    return f"Nothing {done}: {len(refused)} accounts, none of them good; the first: {refused[0]}."


def _reason(exc: Exception) -> str:
    """An error's message as part of a sentence: no final stop, first letter as written."""
    return str(exc).rstrip(".") or type(exc).__name__


def _page(args: Sequence[str]) -> int:
    if not args:
        return 1
    if len(args) == 1:
        token = args[0]
        page = int(token) if NUMBER.match(token) else parse_page(token)
        if page is not None and page >= 1:
            return page
    raise InvalidArguments("The page must be a number of 1 or more.")
