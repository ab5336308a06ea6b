"""`/subscribe`, `/unsubscribe`, `/settings` and `/digest`: a chat's daily digest."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from core.arguments import FOLLOWING, MAX_N, MAX_WORDS, NUMBER, normalize_category, shown, storable
from core.digest import DigestBuilder, describe_delivery, due_at
from core.errors import InvalidArguments
from core.follows import FollowLists
from core.ports import Clock, PaperRepository
from core.registry import Command, Request
from core.replies import Reply, Text
from core.subscriptions import Delivery, Subscription, SubscriptionStore

CLOCK_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@cache
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


@dataclass(frozen=True, slots=True)
class SubscribeArgs:
    """`/subscribe`'s arguments as a platform took them typed (Discord's options)."""

    at: str | None = None  # HH:MM
    timezone: str | None = None
    size: int | None = None
    filters: tuple[str, ...] = ()  # categories or words


def parse_subscription(req: Request, now: datetime) -> Subscription:
    """Parse `/subscribe [HH:MM] [timezone] [n] [categories or words]`."""
    if isinstance(req.typed, SubscribeArgs):
        return _typed_subscription(req, req.typed, now)
    at, zone, size = time(8, 0), "UTC", 10
    categories: list[str] = []
    words: list[str] = []
    seen: set[str] = set()
    for token in req.args:
        if token.lower() == FOLLOWING and not words:
            seen.add(FOLLOWING)
        elif (match := CLOCK_TIME.match(token)) and "time" not in seen:
            at = _clock_time(int(match.group(1)), int(match.group(2)))
            seen.add("time")
        elif token.isdigit() and not NUMBER.match(token):
            raise InvalidArguments("Write numbers with the digits 0 to 9.")
        elif NUMBER.match(token) and "n" not in seen:
            size = int(token)
            if not 1 <= size <= MAX_N:
                raise InvalidArguments(f"The digest holds 1 to {MAX_N} papers.")
            seen.add("n")
        elif (found := _zone(token)) is not None and "zone" not in seen:
            zone = found
            seen.add("zone")
        else:
            _add_filter(token, categories, words)
        _check_filters(categories, words)  # before the next token: a long line stops here
    return _subscription(req, now, at, zone, size, categories, words, FOLLOWING in seen)


def _typed_subscription(req: Request, typed: SubscribeArgs, now: datetime) -> Subscription:
    at, zone, size = time(8, 0), "UTC", typed.size or 10
    if typed.at is not None:
        if (match := CLOCK_TIME.match(typed.at.strip())) is None:
            raise InvalidArguments("Give the time as HH:MM, from 00:00 to 23:59.")
        at = _clock_time(int(match.group(1)), int(match.group(2)))
    if typed.timezone is not None:
        found = _zone(typed.timezone.strip())
        if found is None:
            raise InvalidArguments(f"Unknown time zone {shown(typed.timezone, 40)}.")
        zone = found
    if not 1 <= size <= MAX_N:
        raise InvalidArguments(f"The digest holds 1 to {MAX_N} papers.")
    categories: list[str] = []
    words: list[str] = []
    following = False
    for token in typed.filters:
        if token.lower() == FOLLOWING and not words:
            following = True
        else:
            _add_filter(token, categories, words)
        _check_filters(categories, words)
    return _subscription(req, now, at, zone, size, categories, words, following)


def _add_filter(token: str, categories: list[str], words: list[str]) -> None:
    if (category := normalize_category(token)) is not None:
        categories.append(category)
    else:
        words.append(_filter_word(token))


def _subscription(
    req: Request,
    now: datetime,
    at: time,
    zone: str,
    size: int,
    categories: list[str],
    words: list[str],
    following: bool,
) -> Subscription:
    return Subscription(
        req.chat,
        at,
        zone,
        size,
        tuple(dict.fromkeys(categories)),
        tuple(words),
        created_at=now,
        following=following,
    )


def _check_filters(categories: list[str], words: list[str]) -> None:
    # Each is one more LIKE term of every digest built for the chat, every day.
    if len(words) > MAX_WORDS:
        raise InvalidArguments(f"Use at most {MAX_WORDS} words.")
    if len(categories) > MAX_WORDS:
        raise InvalidArguments(f"Use at most {MAX_WORDS} categories.")


def _clock_time(hour: int, minute: int) -> time:
    if hour > 23 or minute > 59:
        raise InvalidArguments("Give the time as HH:MM, from 00:00 to 23:59.")
    return time(hour, minute)


def _zone(token: str) -> str | None:
    """The IANA zone a token names; a token that looks like a zone but is not one is an error."""
    zone = _zones().get(token.lower())
    if zone is not None:
        return zone
    if "/" in token:
        close = difflib.get_close_matches(token.lower(), _zones(), n=1, cutoff=0.75)
        hint = f" Did you mean {_zones()[close[0]]}?" if close else ""
        raise InvalidArguments(f"Unknown time zone {shown(token, 40)}.{hint}")
    return None


def _filter_word(token: str) -> str:
    if len(token) > 40 or not storable(token) or not any(ch.isalnum() for ch in token):
        raise InvalidArguments(f"“{shown(token, 20)}” is not a category like cs.LG or a word.")
    return token


_SUBSCRIBE = (
    "/subscribe [HH:MM] [timezone] [n] [categories or words]",
    "A daily digest of the most shared papers in this chat (admins)",
    "/subscribe 07:30 Europe/Berlin 5 cs.LG",
)
# Where chats keep follow lists, a digest may rank the chat's follows only.
_SUBSCRIBE_FOLLOWING = (
    "/subscribe [HH:MM] [timezone] [n] [following] [categories or words]",
    "A daily digest of the most shared papers in this chat (admins)",
    "/subscribe 07:30 Europe/Berlin 5 following",
)


def describe(sub: Subscription) -> str:
    """`every day at 07:30 Europe/Berlin, the 5 most shared papers in cs.LG`."""
    what = f"the {sub.size} most shared papers" if sub.size > 1 else "the most shared paper"
    if sub.following:
        what += " among the accounts this chat follows"
    if sub.categories:
        what += " in " + ", ".join(sub.categories)
    if sub.words:
        what += " about “" + " ".join(sub.words) + "”"
    return f"every day at {sub.at:%H:%M} {sub.timezone}, {what}"


class SubscriptionCommands:
    """The digest commands, holding the subscription store."""

    def __init__(
        self,
        store: SubscriptionStore,
        papers: PaperRepository,
        clock: Clock,
        follows: FollowLists | None = None,
    ) -> None:
        self._store = store
        self._papers = papers
        self._clock = clock
        self._follows = follows

    def commands(self) -> list[Command]:
        """The digest commands for the registry."""
        return [
            Command(
                "subscribe",
                *(_SUBSCRIBE_FOLLOWING if self._follows else _SUBSCRIBE),
                self.subscribe,
                admin_only=True,
            ),
            Command(
                "unsubscribe",
                "/unsubscribe",
                "Stop this chat's daily digest (admins)",
                "/unsubscribe",
                self.unsubscribe,
                admin_only=True,
            ),
            Command(
                "settings",
                "/settings",
                "This chat's digest and how the last one went",
                "/settings",
                self.settings,
            ),
            Command(
                "digest",
                "/digest",
                "A preview of this chat's digest, as it would be now",
                "/digest",
                self.digest,
            ),
        ]

    async def subscribe(self, req: Request) -> Reply:
        """Create or change this chat's subscription."""
        now = self._clock.now()
        wanted = parse_subscription(req, now)
        if wanted.following and self._follows is None:
            raise InvalidArguments("This bot keeps no follow lists.")
        sub = await self._store.subscribe(wanted)
        first = _next_due(sub, now)
        lines = [
            f"Subscribed: {describe(sub)}.",
            f"First digest: {first.astimezone(ZoneInfo(sub.timezone)):%a %-d %b %H:%M}.",
        ]
        if self._follows is not None and sub.following and not await self._follows.counts(sub.chat):
            lines.append("This chat follows nobody yet: /follow adds accounts.")
        return Text(tuple(lines))

    async def unsubscribe(self, req: Request) -> Reply:
        """Stop this chat's digest."""
        if req.args:
            raise InvalidArguments("/unsubscribe takes no arguments.")
        if await self._store.unsubscribe(req.chat):
            return Text(("Unsubscribed: no more daily digests here.",))
        return Text(("This chat has no daily digest.",))

    async def settings(self, req: Request) -> Reply:
        """Show this chat's subscription and its last delivery's outcome."""
        sub = await self._store.get(req.chat)
        if sub is None and not req.digests_here:
            return Text(
                (
                    "Direct messages get no daily digest. An admin can start one with /subscribe "
                    "in a channel or group.",
                )
            )
        if sub is None:
            return Text(("This chat has no daily digest. An admin can start one with /subscribe.",))
        state = f"Daily digest: {describe(sub)}."
        if not sub.active:
            reason = sub.inactive_reason or "the bot could not post here"
            state += f" Paused: {reason}; /subscribe again to resume."
        return Text((state, describe_delivery(await self._store.last_delivery(req.chat))))

    async def digest(self, req: Request) -> Reply:
        """Preview the digest this chat would get now (nothing is recorded)."""
        if req.args:
            raise InvalidArguments("/digest takes no arguments.")
        now = self._clock.now()
        sub = await self._store.get(req.chat) or Subscription(req.chat, created_at=now)
        local_date = now.astimezone(ZoneInfo(sub.timezone)).date()
        preview = Delivery(0, sub, local_date, now, "pending")
        sent = await self._store.recently_sent(req.chat, now - timedelta(days=7))
        return await DigestBuilder(self._papers, now, follows=self._follows).build(preview, sent)


def _next_due(sub: Subscription, now: datetime) -> datetime:
    local_date = now.astimezone(ZoneInfo(sub.timezone)).date()
    for day in range(3):
        moment = due_at(sub, local_date + timedelta(days=day))
        if moment >= now:  # due this very minute: the dispatcher sends today's
            return moment
    return moment
