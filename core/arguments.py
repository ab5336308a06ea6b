"""Parsing command arguments into values, with one-line answers for anything else."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from core.arxiv_id import ArxivRef, parse_arxiv_id
from core.errors import InvalidArguments
from core.models import Window

MAX_N = 25
DEFAULT_N = 10
MAX_WORDS = 8  # each word is one more LIKE term on every paper a filtered list reads
# Lists page down to this many papers, as deep as `/paper` ranks trending papers. A trending
# page scores every paper above it exactly, so its cost grows with its depth: at 200 the last
# page costs a few times the first, at 1,000 (measured, benchmarks/hostile.py) seventy times.
MAX_RANKED = 200
FOLLOWING = "following"  # `/top following`, `/subscribe … following`: the chat's follows only
PAGE = re.compile(r"^page=([0-9]{1,9})$", re.IGNORECASE)
NUMBER = re.compile(r"^[0-9]{1,9}$")  # ASCII only: "²".isdigit() is true, and int() then fails
# The windows a user picks from, as `(value, label)`: Discord offers these as choices.
WINDOW_CHOICES: tuple[tuple[Window, str], ...] = (
    ("day", "past day"),
    ("week", "past week"),
    ("month", "past month"),
    ("all", "all time"),
)
_WINDOWS: dict[str, Window] = {
    "trending": "trending",
    "now": "trending",
    "day": "day",
    "today": "day",
    "week": "week",
    "month": "month",
    "all": "all",
}
# Archives whose subject classes arXiv writes in lower case (cond-mat.mes-hall, physics.optics).
_LOWER_CLASSES = {"cond-mat", "physics"}
_ARCHIVES = (
    "cs|math|stat|eess|econ|q-bio|q-fin|astro-ph|cond-mat|physics|nlin|hep-th|hep-ph|hep-ex|"
    "hep-lat|gr-qc|quant-ph|math-ph|nucl-th|nucl-ex"
)
CATEGORY = re.compile(rf"^({_ARCHIVES})(\.[a-z][a-z-]{{1,14}})?$", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\""
_SENTENCE_END = ".,;:!?"


@dataclass(frozen=True, slots=True)
class TopArgs:
    """What `/top` was asked for."""

    n: int = DEFAULT_N
    window: Window = "trending"
    category: str | None = None
    words: tuple[str, ...] = ()
    page: int = 1
    following: bool = False  # ranked from the chat's follow list only

    def checked(self) -> TopArgs:
        """These arguments as `/top` takes them (a category as arXiv writes it), or the reason not.

        Raises:
            InvalidArguments: a value out of range or not a category.
        """
        if not 1 <= self.n <= MAX_N:
            raise InvalidArguments(f"n must be between 1 and {MAX_N}.")
        if self.page < 1:
            raise InvalidArguments("The page must be a number of 1 or more.")
        category = self.category
        if category is not None and (category := normalize_category(category)) is None:
            raise InvalidArguments(
                f"“{shown(self.category or '', 20)}” is not a category like cs.LG."
            )
        words = tuple(_word(w) for w in self.words if w.strip())
        if len(words) > MAX_WORDS:
            raise InvalidArguments(f"Use at most {MAX_WORDS} words.")
        return replace(self, category=category, words=words)

    def as_typed(self) -> tuple[str, ...]:
        """The words that ask for these arguments again (paging buttons re-run them)."""
        typed = ["following"] if self.following else []
        typed += [str(self.n)] if self.n != DEFAULT_N else []
        typed += [self.window] if self.window != "trending" else []
        typed += [self.category] if self.category else []
        return (*typed, *self.words)


@dataclass(frozen=True, slots=True)
class NewArgs:
    """What `/new` was asked for."""

    page: int = 1

    def checked(self) -> NewArgs:
        """These arguments, or the reason they do not fit.

        Raises:
            InvalidArguments: a page under 1.
        """
        if self.page < 1:
            raise InvalidArguments("The page must be a number of 1 or more.")
        return self


def shown(token: str, limit: int = 30) -> str:
    """A user's token fit to quote in a one-line answer: whitespace folded, cut short."""
    folded = " ".join(token.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def normalize_category(token: str) -> str | None:
    """Return the category as arXiv writes it (`cs.LG`, `cond-mat.mes-hall`), or None."""
    match = CATEGORY.match(token)
    if match is None:
        return None
    archive = match.group(1).lower()
    sub = match.group(2)
    if not sub:
        return archive
    sub = sub[1:]
    return f"{archive}.{sub.lower() if archive in _LOWER_CLASSES else sub.upper()}"


def parse_page(token: str) -> int | None:
    """Return N for `page=N` (N ≥ 1), else None."""
    match = PAGE.match(token)
    return int(match.group(1)) if match and int(match.group(1)) >= 1 else None


def parse_top(args: tuple[str, ...]) -> TopArgs:
    """Parse `/top [following] [n] [day|week|month|all] [category|words]`."""
    following = bool(args) and args[0].lower() == FOLLOWING
    if following:
        args = args[1:]
    n: int | None = None
    window: Window | None = None
    category: str | None = None
    words: list[str] = []
    page = 1
    for token in args:
        lowered = token.lower()
        if (number := parse_page(token)) is not None:
            page = number
        elif token.isdigit() and not NUMBER.match(token):
            raise InvalidArguments("Write numbers with the digits 0 to 9.")
        elif NUMBER.match(token) and not words:
            if n is not None:
                raise InvalidArguments("Give the number of papers only once.")
            n = int(token)
            if not 1 <= n <= MAX_N:
                raise InvalidArguments(f"n must be between 1 and {MAX_N}.")
        elif lowered in _WINDOWS and window is None and not words:
            window = _WINDOWS[lowered]
        elif (cat := normalize_category(token)) is not None and category is None and not words:
            category = cat
        else:
            words.append(_word(token))
        if len(words) > MAX_WORDS:  # before the next token: a long line stops here
            raise InvalidArguments(f"Use at most {MAX_WORDS} words.")
    return TopArgs(n or DEFAULT_N, window or "trending", category, tuple(words), page, following)


def storable(token: str) -> bool:
    """Whether every character is printable text a database will hold (no NUL, no surrogate)."""
    return token.isprintable() and not any("\ud800" <= ch <= "\udfff" for ch in token)


def _word(token: str) -> str:
    word = token.strip()
    if len(word) > 60 or not storable(word) or not any(ch.isalnum() for ch in word):
        raise InvalidArguments(f"“{shown(word, 20)}” is not a word to look for.")
    return word


def parse_words(args: tuple[str, ...]) -> tuple[str, ...]:
    """Parse search words: at least one, each with a letter or digit."""
    words = tuple(_word(a) for a in args if a.strip())
    if not words:
        raise InvalidArguments("Tell me what to look for.")
    if len(words) > MAX_WORDS:
        raise InvalidArguments(f"Use at most {MAX_WORDS} words.")
    return words


def parse_paper_ref(token: str, today: date | None = None) -> ArxivRef:
    """Extract an arXiv id from an id or a link, without ever fetching the link.

    Args:
        token: What the user wrote; punctuation around it from a pasted sentence is dropped.
        today: The current date: ids of later months are refused.
    """
    text = token.strip()
    # Brackets are stripped last: the citation form "arXiv:2401.01234 [cs.LG]" ends in one.
    candidates = (text, text.rstrip(_SENTENCE_END), text.rstrip(_TRAILING).lstrip("<(["))
    ref = next(filter(None, (parse_arxiv_id(c, today) for c in candidates)), None)
    if ref is None:
        raise InvalidArguments("That is not an arXiv id or link.")
    return ref


def parse_new(args: tuple[str, ...]) -> NewArgs:
    """Parse `/new [page]`."""
    if not args:
        return NewArgs()
    if len(args) == 1:
        token = args[0]
        page = int(token) if NUMBER.match(token) else parse_page(token)
        if page is not None and page >= 1:
            return NewArgs(page)
    raise InvalidArguments("The page must be a number of 1 or more.")
