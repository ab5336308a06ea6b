"""Follow list commands and following digests, as users see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from core.commands import build_commands
from core.follows import MAX_FOLLOWS
from core.metadata import MetadataService
from core.models import ChatRef, Mention
from core.ports import Account, AccountNotFound, SourceUnavailable
from core.ranking import RankingConfig
from core.registry import Registry, Request
from core.replies import PaperList, Problem, Reply, Text
from tests.fake_follows import FakeAccountDirectory, InMemoryFollowLists
from tests.fakes import FixedClock, InMemoryPaperRepository, InMemorySubscriptionStore

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
GROUP = ChatRef("telegram", "-1001")
ALICE = Account("bluesky", "did:plc:alice", "alice.bsky.social")
BOB = Account("mastodon", "bob@sigmoid.social", "bob@sigmoid.social")
KARPATHY = Account("x", "karpathy", "karpathy")
FRIENDS = [Account("bluesky", f"did:plc:friend{i}", f"friend{i}.bsky.social") for i in range(30)]


@dataclass
class Bot:
    registry: Registry
    repo: InMemoryPaperRepository
    follows: InMemoryFollowLists
    directory: FakeAccountDirectory
    subscriptions: InMemorySubscriptionStore

    async def ask(self, line: str, *, admin: bool = True, chat: ChatRef = GROUP) -> Reply:
        name, _, text = line.removeprefix("/").partition(" ")
        request = Request(chat, "user-1", is_admin=admin)
        return await self.registry.dispatch_text(name, text, request)

    async def followed(self, chat: ChatRef = GROUP) -> list[Account]:
        return await self.follows.page(chat, MAX_FOLLOWS, 0)


@pytest.fixture
def bot() -> Bot:
    clock = FixedClock(NOW)
    repo = InMemoryPaperRepository(RankingConfig(), clock)
    follows = InMemoryFollowLists(repo, RankingConfig())
    directory = FakeAccountDirectory(
        [ALICE, BOB, KARPATHY, *FRIENDS], follows={ALICE.key: FRIENDS, BOB.key: []}
    )
    subscriptions = InMemorySubscriptionStore()
    registry = build_commands(
        repo,
        MetadataService(repo, None, clock),
        clock,
        RankingConfig(),
        subscriptions,
        follows,
        directory,
    )
    return Bot(registry, repo, follows, directory, subscriptions)


def share(arxiv_id: str, author: str, hours_ago: float, source: str = "bluesky") -> Mention:
    return Mention(
        source=source,
        post_id=f"{source}-{author}-{arxiv_id}",
        author=author,
        posted_at=NOW - timedelta(hours=hours_ago),
        kind="post",
        arxiv_id=arxiv_id,
    )


# --- /follow ------------------------------------------------------------------------------------


async def test_follow_adds_typed_accounts_and_says_what_was_not_added(bot: Bot) -> None:
    reply = await bot.ask(
        "/follow bluesky:@Alice.bsky.social mastodon:@bob@sigmoid.social x:karpathy "
        "myspace:tom bluesky:nobody.bsky.social x:karpathy"
    )

    assert reply == Text(
        (
            "Following now: @alice.bsky.social (Bluesky), @bob@sigmoid.social (Mastodon), "
            "@karpathy (X).",
            "Not added: myspace:tom (myspace is not a network I follow (bluesky, mastodon, x)); "
            "bluesky:nobody.bsky.social (There is no bluesky account nobody.bsky.social).",
        )
    )
    assert await bot.followed() == [ALICE, BOB, KARPATHY]


async def test_follow_again_says_already_followed(bot: Bot) -> None:
    await bot.ask("/follow x:karpathy")

    reply = await bot.ask("/follow x:KARPATHY bluesky:alice.bsky.social")

    assert reply == Text(
        ("Following now: @alice.bsky.social (Bluesky).", "Already followed: @karpathy.")
    )


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("/follow karpathy", "write karpathy as network:account"),
        ("/follow x:", "write x: as network:account"),
        ('/follow "bluesky:not a handle"', "“not a handle” is not a bluesky account name"),
    ],
)
async def test_follow_with_nothing_to_add_is_one_problem(bot: Bot, line: str, why: str) -> None:
    reply = await bot.ask(line)

    assert isinstance(reply, Problem)
    assert why in reply.message
    assert "\n" not in reply.message
    assert await bot.followed() == []


async def test_follow_when_the_network_is_down_adds_nothing_and_says_so(bot: Bot) -> None:
    bot.directory.fail = SourceUnavailable("HTTP 503 from public.api.bsky.app")

    reply = await bot.ask("/follow bluesky:alice.bsky.social")

    assert reply == Problem(
        "Not added: bluesky:alice.bsky.social "
        "(Bluesky could not be asked just now; try again later)."
    )
    assert await bot.followed() == []


async def test_follow_without_a_directory_says_it_cannot_look_up(bot: Bot) -> None:
    clock = FixedClock(NOW)
    registry = build_commands(
        bot.repo,
        MetadataService(bot.repo, None, clock),
        clock,
        RankingConfig(),
        follows=bot.follows,
    )

    reply = await registry.dispatch("follow", Request(GROUP, "u", ("x:karpathy",), is_admin=True))

    assert reply == Problem("This bot cannot look accounts up yet, so it cannot follow any.")


async def test_only_admins_change_the_list_but_anyone_reads_it(bot: Bot) -> None:
    await bot.ask("/follow x:karpathy")

    assert await bot.ask("/follow bluesky:alice.bsky.social", admin=False) == Problem(
        "Only an admin of this chat can use /follow."
    )
    assert await bot.ask("/unfollow all", admin=False) == Problem(
        "Only an admin of this chat can use /unfollow."
    )
    assert isinstance(await bot.ask("/following", admin=False), Text)
    assert isinstance(await bot.ask("/top following", admin=False), PaperList)
    assert await bot.followed() == [KARPATHY]


# --- /follow import -----------------------------------------------------------------------------


async def test_import_adds_everyone_the_account_follows(bot: Bot) -> None:
    await bot.ask("/follow bluesky:friend3.bsky.social")

    reply = await bot.ask("/follow import bluesky:alice.bsky.social")

    assert reply == Text(
        (
            "Imported 29 accounts that @alice.bsky.social follows.",
            "1 were followed here already.",
            "This chat follows 30 accounts; /top following ranks their shares.",
        )
    )
    assert await bot.followed() == sorted(FRIENDS, key=lambda a: a.shown)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            SourceUnavailable("HTTP 429 from public.api.bsky.app", retry_after=30),
            "Nothing imported: Bluesky could not be asked just now; try again later.",
        ),
        (
            AccountNotFound("@alice.bsky.social hides whom it follows."),
            "Nothing imported: @alice.bsky.social hides whom it follows.",
        ),
    ],
)
async def test_an_import_that_fails_saves_nothing(bot: Bot, fault: Exception, message: str) -> None:
    bot.directory.fail = fault

    assert await bot.ask("/follow import bluesky:alice.bsky.social") == Problem(message)
    assert await bot.followed() == []


async def test_an_import_of_an_account_that_follows_nobody_says_so(bot: Bot) -> None:
    reply = await bot.ask("/follow import mastodon:@bob@sigmoid.social")

    assert reply == Problem("Nothing imported: @bob@sigmoid.social follows nobody.")


async def test_an_import_past_the_limit_saves_nothing(bot: Bot) -> None:
    many = [Account("x", f"user{i}", f"user{i}") for i in range(MAX_FOLLOWS - 10)]
    await bot.follows.add(GROUP, many, NOW)

    reply = await bot.ask("/follow import bluesky:alice.bsky.social")

    assert isinstance(reply, Problem)
    assert reply.message.startswith("Nothing imported: @alice.bsky.social follows 30 accounts")
    assert len(await bot.followed()) == MAX_FOLLOWS - 10


async def test_import_takes_one_account(bot: Bot) -> None:
    reply = await bot.ask("/follow import bluesky:alice.bsky.social x:karpathy")

    assert isinstance(reply, Problem)
    assert reply.usage is not None
    assert await bot.followed() == []


# --- /unfollow and /following -------------------------------------------------------------------


async def test_unfollow_named_accounts_and_say_which_were_not_followed(bot: Bot) -> None:
    await bot.ask("/follow bluesky:alice.bsky.social x:karpathy mastodon:bob@sigmoid.social")

    reply = await bot.ask("/unfollow bluesky:@alice.bsky.social x:someone karpathy")

    assert reply == Text(
        (
            "Unfollowed: @alice.bsky.social (Bluesky).",
            "Not removed: karpathy (write karpathy as network:account, e.g. "
            "bluesky:alice.bsky.social or x:karpathy); someone (not followed here).",
        )
    )
    assert await bot.followed() == [BOB, KARPATHY]
    assert await bot.ask("/unfollow all") == Text(("Unfollowed all 2 accounts.",))
    assert await bot.followed() == []


async def test_following_lists_the_accounts_with_counts_a_page_at_a_time(bot: Bot) -> None:
    assert await bot.ask("/following") == Text(
        (
            "This chat follows nobody yet. An admin can add accounts with /follow "
            "bluesky:alice.bsky.social, or everyone an account follows with /follow import "
            "bluesky:alice.bsky.social.",
        )
    )
    many = [Account("x", f"user{i:02d}", f"user{i:02d}") for i in range(45)]
    await bot.follows.add(GROUP, [ALICE, *many], NOW)

    first = await bot.ask("/following")
    second = await bot.ask("/following 2")

    assert isinstance(first, Text)
    assert isinstance(second, Text)
    assert first.lines[0] == "This chat follows 46 accounts: 1 on Bluesky, 45 on X."
    assert first.lines[1:3] == ("@alice.bsky.social (Bluesky)", "@user00 (X)")
    assert first.lines[-1] == "Page 1 of 2; /following 2 for more."
    assert second.lines[1:-1] == tuple(f"@user{i} (X)" for i in range(39, 45))
    assert second.lines[-1] == "Page 2 of 2."
    assert await bot.ask("/following 3") == Problem("There is no page 3: there are 2 pages.")


# --- /top following and digests -----------------------------------------------------------------


async def test_top_following_ranks_only_the_shares_of_the_follows(bot: Bot) -> None:
    await bot.repo.add_mentions(
        [
            share("2611.00001", "did:plc:alice", 1),
            share("2611.00001", "karpathy", 2, source="x"),
            share("2611.00002", "did:plc:alice", 3),
            *(share("2611.00003", f"stranger{i}", 1) for i in range(5)),
        ]
    )
    await bot.ask("/follow bluesky:alice.bsky.social x:karpathy")

    reply = await bot.ask("/top following 1")
    everyone = await bot.ask("/top 1")

    assert isinstance(reply, PaperList)
    assert isinstance(everyone, PaperList)
    assert reply.heading == "Trending among the accounts this chat follows"
    assert [(p.paper.arxiv_id, p.sharers) for p in reply.papers] == [("2611.00001", 2)]
    assert reply.paging is not None
    assert reply.paging.args_for(2) == ("following", "1", "page=2")
    assert [p.paper.arxiv_id for p in everyone.papers] == ["2611.00003"]
    week = await bot.ask("/top following week")
    assert isinstance(week, PaperList)
    assert [p.paper.arxiv_id for p in week.papers] == ["2611.00001", "2611.00002"]


async def test_top_following_of_an_empty_list_says_how_to_follow(bot: Bot) -> None:
    reply = await bot.ask("/top following")

    assert isinstance(reply, PaperList)
    assert reply.papers == ()
    assert reply.empty_note.startswith("This chat follows nobody yet.")


async def test_a_following_digest_ranks_the_chats_follows(bot: Bot) -> None:
    await bot.repo.add_mentions(
        [share("2611.00001", "did:plc:alice", 1), share("2611.00002", "stranger", 1)]
    )
    await bot.ask("/follow bluesky:alice.bsky.social")

    reply = await bot.ask("/subscribe 07:30 Europe/Berlin 5 following")
    sub = await bot.subscriptions.get(GROUP)
    digest = await bot.ask("/digest")

    assert isinstance(reply, Text)
    assert reply.lines[0] == (
        "Subscribed: every day at 07:30 Europe/Berlin, the 5 most shared papers among the "
        "accounts this chat follows."
    )
    assert sub is not None
    assert sub.following
    assert sub.at == time(7, 30)
    assert sub.size == 5
    assert isinstance(digest, PaperList)
    assert [p.paper.arxiv_id for p in digest.papers] == ["2611.00001"]
    assert digest.heading.endswith("· from the accounts this chat follows")


async def test_a_following_digest_of_a_chat_that_follows_nobody_says_how_to_follow(
    bot: Bot,
) -> None:
    reply = await bot.ask("/subscribe following")

    assert isinstance(reply, Text)
    assert reply.lines[-1] == "This chat follows nobody yet: /follow adds accounts."
