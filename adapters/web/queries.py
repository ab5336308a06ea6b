"""What a page's query string asks for, as the typed arguments core's commands take.

`/`, `/feed.atom` and `/api/top` take `window`, `category`, `q` (words, read by core's grammar,
so quotes keep a phrase together) and `page`; `/new` and `/api/new` take `page`. Anything else
in the query string is ignored; a value that does not fit gets the command's one-line answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from core.arguments import NUMBER, NewArgs, TopArgs
from core.errors import InvalidArguments
from core.grammar import tokenize
from core.models import WINDOWS, Window

PAGE_SIZE = 25  # papers a page of `/`, as many as `/top` lists at most
_WINDOW_OF: dict[str, Window] = {w: w for w in WINDOWS}


def top_args(query: Mapping[str, str]) -> TopArgs:
    """The `/top` a page's query string asks for (checked by the command itself).

    Raises:
        InvalidArguments: a window, page or search text that is not one.
    """
    window = _WINDOW_OF.get(query.get("window", "trending") or "trending")
    if window is None:
        raise InvalidArguments("The window is one of trending, day, week, month or all.")
    category = (query.get("category") or "").strip() or None
    words = tokenize(query.get("q", ""))
    return TopArgs(PAGE_SIZE, window, category, words, page_of(query))


def new_args(query: Mapping[str, str]) -> NewArgs:
    """The `/new` page a query string asks for.

    Raises:
        InvalidArguments: a page that is not a number of 1 or more.
    """
    return NewArgs(page_of(query))


def page_of(query: Mapping[str, str]) -> int:
    """The `page` parameter, 1 when absent.

    Raises:
        InvalidArguments: not a number of 1 or more.
    """
    page = query.get("page", "1")
    if not NUMBER.match(page) or int(page) < 1:
        raise InvalidArguments("The page must be a number of 1 or more.")
    return int(page)


def top_query(
    window: str = "trending", category: str | None = None, q: str = "", page: int = 1
) -> str:
    """The query string (with its `?`, or empty) of a trending page; defaults are left out."""
    params = {
        "window": window if window != "trending" else "",
        "category": category or "",
        "q": q,
        "page": str(page) if page != 1 else "",
    }
    encoded = urlencode({k: v for k, v in params.items() if v})
    return f"?{encoded}" if encoded else ""
