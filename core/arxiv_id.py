"""Recognise arXiv references in every form people share them and normalise them to one id.

The old trending sites lost papers through narrow regexes (4-digit ids only, no versions, no pdf
links), so this module accepts every id style arXiv has issued and the common URL forms around
them, while the boundary rules keep version strings, IP addresses and other numbers out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.clock import SystemClock

# Old-style ids are only valid under these archives; without the list any "foo/1234567" path
# segment would read as a paper.
_ARCHIVES = (
    "hep-th", "hep-ph", "hep-lat", "hep-ex", "astro-ph", "cond-mat", "gr-qc", "math-ph",
    "nucl-ex", "nucl-th", "physics", "quant-ph", "math", "cs", "nlin", "q-bio", "q-fin", "stat",
    "econ", "eess", "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an",
    "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol",
    "plasm-ph", "q-alg", "solv-int", "supr-con",
)  # fmt: skip
# Longest first so that "math-ph" is never cut short to "math".
_ARCHIVE_ALTERNATION = "|".join(sorted(_ARCHIVES, key=len, reverse=True))

# Versions are capped at six digits so that int() never meets a huge number (Python refuses to
# convert strings over 4300 digits); no paper has anywhere near that many versions. arXiv's own
# resolver folds runs of slashes ("hep-th//9901001"), so a few are read as one.
_ID = (
    r"(?:(?P<yymm>[0-9]{4})\.(?P<number>[0-9]{4,5})"
    rf"|(?P<archive>{_ARCHIVE_ALTERNATION})(?:\.(?P<subject>[a-z]+(?:-[a-z]+)?))?"
    r"(?:/{1,3}|%2F)(?P<old_yymm>[0-9]{4})(?P<old_number>[0-9]{3}))"
    r"(?:v(?P<version>[1-9][0-9]{0,5}))?"
)
_URL_PREFIX = (
    r"(?:https?://)?(?:"
    r"(?:www\.|export\.|browse\.)?arxiv\.org/(?:abs|pdf|html|format)/"
    r"|ar5iv\.labs\.arxiv\.org/html/"
    r"|(?:www\.)?ar5iv\.org/(?:abs|html)/"
    r"|(?:www\.)?alphaxiv\.org/(?:abs|overview|pdf)/"
    r"|(?:www\.)?huggingface\.co/papers/)"
)
_URL_TAIL = r"(?:\.pdf)?/?(?:[?#]\S*)?"
_PLAIN_PREFIX = r"arxiv:\s?|(?:doi:\s?)?(?:(?:https?://)?(?:dx\.)?doi\.org/)?10\.48550/arxiv\."
# Some cite a new id under its archive, as old ids were written ("hep-th/1601.07616"); arXiv
# files the paper under the bare id.
_ARCHIVE_OF_NEW_ID = rf"(?:(?:{_ARCHIVE_ALTERNATION})(?:\.[a-z]+(?:-[a-z]+)?)?/(?=[0-9]{{4}}\.))?"
# arXiv's citation form adds the primary category: "arXiv:2401.01234 [cs.LG]".
_CATEGORY = r"(?:\s\[[a-z]+(?:-[a-z]+)?(?:\.[a-z]+(?:-[a-z]+)?)?\])?"
# A bare id may be the path of an arXiv page: a leading slash, and after the id a slash, a
# fragment or more path ("physics/0303098/static/icon.png"), all of which arXiv's resolver drops.
_PATH_TAIL = r"(?:[/#]\S*)?"
# Conditional groups pick the tail a prefix allows: a URL may end in ".pdf", a slash or a
# query; an id may take the category, and a bare one may be a page path instead. So a bare
# "2401.01234.pdf" or "arXiv:2401.01234?x" is not mistaken for a reference.
_TAIL = rf"(?(url){_URL_TAIL}|(?(plain){_CATEGORY}|(?:{_PATH_TAIL}|{_CATEGORY})))"
_WHOLE_RE = re.compile(
    rf"(?:(?P<url>{_URL_PREFIX})|(?P<plain>{_PLAIN_PREFIX})|/?){_ARCHIVE_OF_NEW_ID}{_ID}{_TAIL}",
    re.IGNORECASE | re.ASCII,
)
# In free text an id must not continue a word, number or dotted sequence ("v2401.01234",
# "1.2401.01234", "192.168.1401.12345"), except after the DOI's "arXiv." and after a
# percent-encoded "/" or ":" in links that were escaped inside another URL.
_LEAD = r"(?:(?<=arxiv\.)|(?<=%2F)|(?<=%3A)|(?<![a-z0-9])(?<![a-z0-9]\.))"
_TRAIL = r"(?![a-z0-9])(?!\.[0-9])"
_FIND_RE = re.compile(_LEAD + _ID + _TRAIL, re.IGNORECASE | re.ASCII)

# arXiv's new scheme started at 0704; its numbers grew from four to five digits at 1501.
_FIRST_NEW_YYMM = (7, 4)
_FIRST_FIVE_DIGIT_YEAR = 15
# Old-style ids ran from hep-th/9108001 to March 2007 with two-digit years wrapping at 2000.
_OLD_FIRST_YYMM = (1991, 8)
_OLD_LAST_YYMM = (2007, 3)


@dataclass(frozen=True, slots=True)
class ArxivRef:
    """One reference to an arXiv paper: its version-less canonical id and the version cited."""

    arxiv_id: str
    version: int | None


def parse_arxiv_id(text: str, today: date | None = None) -> ArxivRef | None:
    """Parse a string that is exactly one reference: a bare id, "arXiv:<id>", a DOI or a URL.

    Args:
        text: The candidate reference; surrounding whitespace is ignored.
        today: The current date, from the caller's clock; ids of later months do not exist
            yet. The system clock's date when not given.

    Returns:
        The reference, or None when the string is not exactly one valid arXiv reference.
    """
    match = _WHOLE_RE.fullmatch(text.strip())
    return _ref_from_match(match, _this_month(today)) if match else None


def find_arxiv_refs(text: str, today: date | None = None) -> list[ArxivRef]:
    """Find every arXiv reference in free text such as a post, HTML content or a URL list.

    Args:
        text: The text to search.
        today: The current date, as for `parse_arxiv_id`.

    Returns:
        One reference per paper in first-seen order; a paper cited twice keeps the first version.
    """
    month = _this_month(today)
    refs: dict[str, ArxivRef] = {}
    for match in _FIND_RE.finditer(text):
        ref = _ref_from_match(match, month)
        if ref is not None and ref.arxiv_id not in refs:
            refs[ref.arxiv_id] = ref
    return list(refs.values())


def abs_url(arxiv_id: str) -> str:
    """Return the abstract page URL of a paper."""
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    """Return the PDF URL of a paper."""
    return f"https://arxiv.org/pdf/{arxiv_id}"


def html_url(arxiv_id: str) -> str:
    """Return the HTML (ar5iv-style) rendering URL of a paper."""
    return f"https://arxiv.org/html/{arxiv_id}"


def _this_month(today: date | None) -> tuple[int, int]:
    day = today or SystemClock().now().date()
    return day.year, day.month


def _ref_from_match(match: re.Match[str], this_month: tuple[int, int]) -> ArxivRef | None:
    """Build the reference a regex match describes, or None if its date or number is invalid."""
    version = int(match["version"]) if match["version"] else None
    if match["yymm"]:
        if not _is_valid_new_id(match["yymm"], match["number"], this_month):
            return None
        return ArxivRef(f"{match['yymm']}.{match['number']}", version)
    if not _is_valid_old_id(match["old_yymm"], match["old_number"]):
        return None
    # arXiv drops the subject class from old-style ids: math.GT/0309136 lives at math/0309136.
    return ArxivRef(f"{match['archive'].lower()}/{match['old_yymm']}{match['old_number']}", version)


def _is_valid_new_id(yymm: str, number: str, this_month: tuple[int, int]) -> bool:
    """Check a YYMM.NNNN(N) id against the dates and widths arXiv actually issued."""
    year, month = int(yymm[:2]), int(yymm[2:])
    if not 1 <= month <= 12 or (year, month) < _FIRST_NEW_YYMM or int(number) == 0:
        return False
    # New ids carry no century: "9912.12345" would be December 2099, not 1999.
    if (2000 + year, month) > this_month:
        return False
    return len(number) == (5 if year >= _FIRST_FIVE_DIGIT_YEAR else 4)


def _is_valid_old_id(yymm: str, number: str) -> bool:
    """Check an old-style YYMMNNN number against the months the old scheme was in use."""
    year, month = int(yymm[:2]), int(yymm[2:])
    full_year = year + (1900 if year >= 91 else 2000)
    in_range = _OLD_FIRST_YYMM <= (full_year, month) <= _OLD_LAST_YYMM
    return 1 <= month <= 12 and in_range and int(number) != 0
