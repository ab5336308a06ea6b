"""Asking core's commands for what a page shows, as a chat asks them: one registry for all.

A page's request becomes the command's typed arguments (`TopArgs`, `NewArgs`, `CardOptions`),
so the web reads exactly what `/top`, `/new` and `/paper` answer, problems included.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.arguments import NewArgs, TopArgs, parse_paper_ref
from core.cards import CardOptions
from core.errors import InvalidArguments
from core.models import ChatRef
from core.ports import Clock
from core.registry import Registry, Request
from core.replies import Failure, PaperCard, PaperList, Problem, Reply

WEB = ChatRef("web", "site")
CHART_DAYS = 30
CARD = CardOptions(days=CHART_DAYS, by_network=True)
SORRY = "Sorry, this page failed on our side. Please try again later."


@dataclass(frozen=True, slots=True)
class Moved:
    """The paper lives under another id form: its canonical, version-less id."""

    arxiv_id: str


ListAnswer = PaperList | Problem | Failure
CardAnswer = PaperCard | Moved | Problem | Failure


class SiteReader:
    """Runs the commands behind the pages, the feed and the API."""

    def __init__(self, registry: Registry, clock: Clock) -> None:
        self._registry = registry
        self._clock = clock

    async def top(self, args: TopArgs) -> ListAnswer:
        """What `/top` answers for these arguments."""
        return _as_list(await self._ask("top", (), args))

    async def new(self, args: NewArgs) -> ListAnswer:
        """What `/new` answers for this page."""
        return _as_list(await self._ask("new", (), args))

    async def card(self, ref: str) -> CardAnswer:
        """The card of the paper `ref` names, or where its canonical page is.

        Any form `/paper` takes in a chat is accepted; a form other than the canonical id
        (a version, a link, `arXiv:`) is `Moved`, so each paper has one address.
        """
        try:
            arxiv_id = parse_paper_ref(ref, self._clock.now().date()).arxiv_id
        except InvalidArguments as exc:
            return Problem(str(exc))
        if arxiv_id != ref:
            return Moved(arxiv_id)
        reply = await self._ask("paper", (arxiv_id,), CARD)
        if isinstance(reply, PaperCard | Problem | Failure):
            return reply
        return Failure(SORRY)

    async def _ask(self, command: str, args: tuple[str, ...], typed: object) -> Reply:
        return await self._registry.dispatch(command, Request(WEB, "web", args, typed=typed))


def _as_list(reply: Reply) -> ListAnswer:
    if isinstance(reply, PaperList | Problem | Failure):
        return reply
    return Failure(SORRY)


def is_bad_request(problem: Problem) -> bool:
    """Whether a problem is about the arguments (400) rather than a missing thing (404).

    Core attaches the usage to answers about malformed arguments only; a page past the end or
    a paper nobody knows comes without one.
    """
    return problem.usage is not None
