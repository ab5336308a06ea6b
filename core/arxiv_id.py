"""Recognise arXiv references in every form people share them and normalise them to one id.

The old trending sites lost papers through narrow regexes (4-digit ids only, no versions, no pdf
links), so this module accepts every id style arXiv has issued and the common URL forms around
them, while the boundary rules keep version strings, IP addresses and other numbers out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
# convert strings over 4300 digits); no paper has anywhere near that many versions.
_ID = (
    r"(?:(?P<yymm>[0-9]{4})\.(?P<number>[0-9]{4,5})"
    rf"|(?P<archive>{_ARCHIVE_ALTERNATION})(?:\.(?P<subject>[a-z]+(?:-[a-z]+)?))?"
    r"(?:/|%2F)(?P<old_yymm>[0-9]{4})(?P<old_number>[0-9]{3}))"
    r"(?:v(?P<version>[1-9][0-9]{0,5}))?"
)
_URL_PREFIX = (
    r"(?:https?://)?(?:"
    r"(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html|format)/"
    r"|(?:www\.)?alphaxiv\.org/(?:abs|overview)/"
    r"|(?:www\.)?huggingface\.co/papers/)"
)
_URL_TAIL = r"(?:\.pdf)?/?(?:[?#]\S*)?"
_PLAIN_PREFIX = r"arxiv:\s?|(?:doi:\s?)?(?:(?:https?://)?(?:dx\.)?doi\.org/)?10\.48550/arxiv\."
# The conditional group allows a ".pdf", a slash or a query only after a URL prefix, so a bare
# "2401.01234.pdf" or "arXiv:2401.01234?x" is not mistaken for a reference.
_WHOLE_RE = re.compile(
    rf"(?:(?P<url>{_URL_PREFIX})|{_PLAIN_PREFIX})?{_ID}(?(url){_URL_TAIL})",
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


def parse_arxiv_id(text: str) -> ArxivRef | None:
    """Parse a string that is exactly one reference: a bare id, "arXiv:<id>", a DOI or a URL.

    Args:
        text: The candidate reference; surrounding whitespace is ignored.

    Returns:
        The reference, or None when the string is not exactly one valid arXiv reference.
    """
    match = _WHOLE_RE.fullmatch(text.strip())
    return _ref_from_match(match) if match else None


def find_arxiv_refs(text: str) -> list[ArxivRef]:
    """Find every arXiv reference in free text such as a post, HTML content or a URL list.

    Returns:
        One reference per paper in first-seen order; a paper cited twice keeps the first version.
    """
    refs: dict[str, ArxivRef] = {}
    for match in _FIND_RE.finditer(text):
        ref = _ref_from_match(match)
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


def _ref_from_match(match: re.Match[str]) -> ArxivRef | None:
    """Build the reference a regex match describes, or None if its date or number is invalid."""
    version = int(match["version"]) if match["version"] else None
    if match["yymm"]:
        if not _is_valid_new_id(match["yymm"], match["number"]):
            return None
        return ArxivRef(f"{match['yymm']}.{match['number']}", version)
    if not _is_valid_old_id(match["old_yymm"], match["old_number"]):
        return None
    # arXiv drops the subject class from old-style ids: math.GT/0309136 lives at math/0309136.
    return ArxivRef(f"{match['archive'].lower()}/{match['old_yymm']}{match['old_number']}", version)


def _is_valid_new_id(yymm: str, number: str) -> bool:
    """Check a YYMM.NNNN(N) id against the dates and widths arXiv actually issued."""
    year, month = int(yymm[:2]), int(yymm[2:])
    if not 1 <= month <= 12 or (year, month) < _FIRST_NEW_YYMM or int(number) == 0:
        return False
    return len(number) == (5 if year >= _FIRST_FIVE_DIGIT_YEAR else 4)


def _is_valid_old_id(yymm: str, number: str) -> bool:
    """Check an old-style YYMMNNN number against the months the old scheme was in use."""
    year, month = int(yymm[:2]), int(yymm[2:])
    full_year = year + (1900 if year >= 91 else 2000)
    in_range = _OLD_FIRST_YYMM <= (full_year, month) <= _OLD_LAST_YYMM
    return 1 <= month <= 12 and in_range and int(number) != 0
