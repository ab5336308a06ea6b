"""Tests for arXiv reference parsing: every shared form, the boundaries, and junk."""

from __future__ import annotations

import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.arxiv_id import (
    ArxivRef,
    abs_url,
    find_arxiv_refs,
    html_url,
    parse_arxiv_id,
    pdf_url,
)

# The archive list from DESIGN.md, restated here so the tests check the module's list.
ARCHIVES = (
    "hep-th", "hep-ph", "hep-lat", "hep-ex", "astro-ph", "cond-mat", "gr-qc", "math-ph",
    "nucl-ex", "nucl-th", "physics", "quant-ph", "math", "cs", "nlin", "q-bio", "q-fin", "stat",
    "econ", "eess", "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an",
    "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol",
    "plasm-ph", "q-alg", "solv-int", "supr-con",
)  # fmt: skip

# The day the tests take as today: ids of later months are not ids yet.
TODAY = date(2026, 12, 5)

# No database: the example store would otherwise appear as .hypothesis/ in the checkout.
FAST = settings(max_examples=150, database=None)


def ref(arxiv_id: str, version: int | None = None) -> ArxivRef:
    return ArxivRef(arxiv_id, version)


PARSED = [
    # New style, both widths, the first valid month, versions.
    ("2401.01234", ref("2401.01234")),
    ("2401.01234v3", ref("2401.01234", 3)),
    ("2401.01234v12", ref("2401.01234", 12)),
    ("0704.0001", ref("0704.0001")),
    ("1412.9999", ref("1412.9999")),
    ("1501.00001", ref("1501.00001")),
    ("  2401.01234\n", ref("2401.01234")),
    # Prefixes.
    ("arXiv:2401.01234", ref("2401.01234")),
    ("arxiv:2401.01234v2", ref("2401.01234", 2)),
    ("ARXIV:2401.01234", ref("2401.01234")),
    ("arXiv: 2401.01234", ref("2401.01234")),
    # Old style, with and without subject class and version.
    ("hep-th/9901001", ref("hep-th/9901001")),
    ("math.GT/0309136", ref("math/0309136")),
    ("cond-mat/0102536v1", ref("cond-mat/0102536", 1)),
    ("astro-ph/0601001", ref("astro-ph/0601001")),
    ("cond-mat.mes-hall/0102536", ref("cond-mat/0102536")),
    ("hep-th/9108001", ref("hep-th/9108001")),
    ("math/0703001", ref("math/0703001")),
    ("arXiv:hep-th/9901001v2", ref("hep-th/9901001", 2)),
    # arxiv.org URLs.
    ("https://arxiv.org/abs/2401.01234", ref("2401.01234")),
    ("http://arxiv.org/abs/2401.01234v2", ref("2401.01234", 2)),
    ("arxiv.org/abs/2401.01234", ref("2401.01234")),
    ("https://www.arxiv.org/abs/2401.01234", ref("2401.01234")),
    ("http://export.arxiv.org/abs/2401.01234", ref("2401.01234")),
    ("https://arxiv.org/pdf/2401.01234", ref("2401.01234")),
    ("https://arxiv.org/pdf/2401.01234.pdf", ref("2401.01234")),
    ("https://arxiv.org/pdf/2401.01234v2.pdf", ref("2401.01234", 2)),
    ("https://arxiv.org/html/2401.01234", ref("2401.01234")),
    ("https://arxiv.org/html/2401.01234v2/", ref("2401.01234", 2)),
    ("https://arxiv.org/html/2401.01234v2/#S3", ref("2401.01234", 2)),
    ("https://arxiv.org/format/2401.01234", ref("2401.01234")),
    ("https://arxiv.org/abs/2401.01234?context=cs", ref("2401.01234")),
    ("https://arxiv.org/abs/2401.01234#comments", ref("2401.01234")),
    ("https://arxiv.org/abs/0704.0001v1", ref("0704.0001", 1)),
    ("https://arxiv.org/abs/hep-th/9901001v2", ref("hep-th/9901001", 2)),
    ("http://arxiv.org/abs/math/0309136v1", ref("math/0309136", 1)),
    ("https://arxiv.org/abs/math.GT/0309136", ref("math/0309136")),
    ("https://arxiv.org/pdf/hep-th/9901001.pdf", ref("hep-th/9901001")),
    ("https://arxiv.org/abs/hep-th%2F9901001", ref("hep-th/9901001")),
    # Mirrors and aggregators.
    ("https://alphaxiv.org/abs/2401.01234", ref("2401.01234")),
    ("https://www.alphaxiv.org/abs/2401.01234v3", ref("2401.01234", 3)),
    ("https://www.alphaxiv.org/overview/2401.01234", ref("2401.01234")),
    ("https://huggingface.co/papers/2401.01234", ref("2401.01234")),
    ("huggingface.co/papers/2401.01234#community", ref("2401.01234")),
    # DOIs.
    ("https://doi.org/10.48550/arXiv.2401.01234", ref("2401.01234")),
    ("http://dx.doi.org/10.48550/arxiv.2401.01234", ref("2401.01234")),
    ("10.48550/arXiv.2401.01234", ref("2401.01234")),
    ("doi:10.48550/ARXIV.2401.01234", ref("2401.01234")),
    ("10.48550/arXiv.hep-th/9901001", ref("hep-th/9901001")),
    # arXiv's citation form, with the primary category.
    ("arXiv:2401.01234 [cs.LG]", ref("2401.01234")),
    ("arXiv:1107.4612v2 [astro-ph.CO]", ref("1107.4612", 2)),
    ("arXiv:cond-mat/0102536 [cond-mat.mes-hall]", ref("cond-mat/0102536")),
    ("0706.0001v1 [q-bio.CB]", ref("0706.0001", 1)),
    # Paths of arXiv pages: a leading slash, runs of slashes, what follows the id.
    ("/hep-th/0702050", ref("hep-th/0702050")),
    ("/0708.1234v1", ref("0708.1234", 1)),
    ("hep-th//9901001", ref("hep-th/9901001")),
    ("hep-th///9901001", ref("hep-th/9901001")),
    ("hep-th/9901001/extra", ref("hep-th/9901001")),
    ("HEP-TH/9901001/ExTrA", ref("hep-th/9901001")),
    ("physics/0303098/", ref("physics/0303098")),
    ("physics/0303098/static/icon.png", ref("physics/0303098")),
    ("2401.01234#S3", ref("2401.01234")),
    # A new id written under its archive.
    ("hep-th/1601.07616", ref("1601.07616")),
    ("arXiv:hep-th/1601.07616v2", ref("1601.07616", 2)),
    # The newest month there is.
    ("2612.00001", ref("2612.00001")),
    # arXiv's other hosts and alphaXiv's pdf path.
    ("https://browse.arxiv.org/abs/2401.01234v2", ref("2401.01234", 2)),
    ("https://ar5iv.labs.arxiv.org/html/2104.09864", ref("2104.09864")),
    ("https://ar5iv.org/abs/2104.09864", ref("2104.09864")),
    ("https://www.alphaxiv.org/pdf/2401.01234v1", ref("2401.01234", 1)),
    ("https://alphaxiv.org/pdf/2401.01234.pdf", ref("2401.01234")),
]

NOT_PARSED = [
    "",
    "   ",
    "hello",
    # Months 00 and 13-99, and dates before the new scheme began.
    "2400.01234",
    "2413.01234",
    "2499.01234",
    "0703.0001",
    "0612.1234",
    "0001.0001",
    # Number width must match the year: arXiv switched from four to five digits at 1501.
    "2401.1234",
    "1501.1234",
    "1401.12345",
    "0704.00001",
    "2401.012345",
    "2401.123",
    "12401.01234",
    "2401.00000",
    # Versions.
    "2401.01234v0",
    "2401.01234v",
    "2401.01234v01",
    "2401.01234 v2",
    # Not exactly one reference.
    "2401.01234 2401.05678",
    "see 2401.01234",
    "arXiv:2401.01234 is great",
    "1.2401.01234",
    "v2401.01234",
    "2401.01234.pdf",
    "arXiv:2401.01234/",
    # Old style: unknown archive, impossible dates, wrong width.
    "foo/9901001",
    "hep-th/990100",
    "hep-th/99010011",
    "hep-th/9913001",
    "hep-th/9900001",
    "hep-th/9107001",
    "hep-th/0704001",
    "hep-th/9901000",
    "hep-th9901001",
    # URLs on other hosts or paths, or with junk after the id.
    "https://example.org/abs/2401.01234",
    "https://arxiv.org/list/2401.01234",
    "https://arxiv.org/abs/2401.01234extra",
    "https://arxiv.org/abs/2401.01234/more",
    "https://arxiv.org/abs/foo/9901001",
    "https://doi.org/10.1000/arXiv.2401.01234",
    "https://arxiv.org/abs/2401.1234",
    # A category only after "arXiv:", and only a real one in brackets.
    "2401.01234 [cs.LG]x",
    "arXiv:2401.01234 [cs.LG",
    "arXiv:2401.01234 [cs.LG] more",
    # An archive before a new id, only a known one.
    "foo/1601.07616",
    "hep-th/hep-th/9901001",
    # Ids of months that have not come yet: new ids carry no century, so 99 is 2099.
    "2701.00001",
    "2712.01234",
    "9912.12345",
    "9912.12345v2",
    "https://arxiv.org/abs/2712.01234",
]

FOUND = [
    ("Great read: 2401.01234!", [ref("2401.01234")]),
    ("(see arXiv:2401.01234v2).", [ref("2401.01234", 2)]),
    ("[paper](https://arxiv.org/abs/2401.01234)", [ref("2401.01234")]),
    ('<a href="https://arxiv.org/abs/2401.01234">link</a>', [ref("2401.01234")]),
    ("<p>https://arxiv.org/pdf/2401.01234v3.pdf</p>", [ref("2401.01234", 3)]),
    (
        "'2401.01234', \"2401.05678\"; [2402.00001]",
        [ref(i) for i in ("2401.01234", "2401.05678", "2402.00001")],
    ),
    ("ids: 2401.01234: and 2401.05678?", [ref("2401.01234"), ref("2401.05678")]),
    (
        "old one hep-th/9901001v2, and math.GT/0309136.",
        [ref("hep-th/9901001", 2), ref("math/0309136")],
    ),
    (
        "https://arxiv.org/abs/hep-th/9901001 and https://arxiv.org/abs/cs%2F0101001",
        [ref("hep-th/9901001"), ref("cs/0101001")],
    ),
    ("https://doi.org/10.48550/arXiv.2401.01234 cited", [ref("2401.01234")]),
    ("DOI 10.48550/arXiv.2401.01234", [ref("2401.01234")]),
    ("go.to/?u=https%3A%2F%2Farxiv.org%2Fabs%2F2401.01234", [ref("2401.01234")]),
    (
        "https://huggingface.co/papers/2401.01234 https://www.alphaxiv.org/overview/2401.05678",
        [ref("2401.01234"), ref("2401.05678")],
    ),
    ("a\nhttps://arxiv.org/abs/2401.01234\nb", [ref("2401.01234")]),
    # De-duplicated by id in first-seen order, keeping the first version.
    (
        "2401.05678 then 2401.01234v2 then arxiv.org/pdf/2401.01234v5 then 2401.05678v1",
        [ref("2401.05678"), ref("2401.01234", 2)],
    ),
    ("math.GT/0309136 and math/0309136v2", [ref("math/0309136")]),
    ("...2401.01234...", [ref("2401.01234")]),
    ("论文2401.01234很好", [ref("2401.01234")]),
    # Valid next to invalid.
    ("2401.1234 and 2401.01234", [ref("2401.01234")]),
]

NOT_FOUND = [
    "no papers here",
    "1.2401.01234",
    "v2401.01234",
    "x2401.01234",
    "2401.01234x",
    "2401.012345678",
    "12401.01234",
    "192.168.1401.12345",
    "version 2401.01234.5",
    "2401.01234v0",
    "2413.01234",
    "2400.01234",
    "2401.1234",
    "1401.12345",
    "0703.0001",
    "foo/1234567",
    "path/to/hep-thx/9901001",
    "xhep-th/9901001",
    "hep-th/99010012",
    "hep-th/0801001",
    "phone +1 2401.0123 4567",
    "soon: 2712.01234 and arXiv:9912.12345v2",
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_arxiv_id_accepts_form(text: str, expected: ArxivRef) -> None:
    assert parse_arxiv_id(text, TODAY) == expected


@pytest.mark.parametrize("text", NOT_PARSED)
def test_parse_arxiv_id_rejects(text: str) -> None:
    assert parse_arxiv_id(text, TODAY) is None


@pytest.mark.parametrize(("text", "expected"), FOUND)
def test_find_arxiv_refs_finds(text: str, expected: list[ArxivRef]) -> None:
    assert find_arxiv_refs(text, TODAY) == expected


@pytest.mark.parametrize("text", NOT_FOUND)
def test_find_arxiv_refs_ignores(text: str) -> None:
    assert find_arxiv_refs(text, TODAY) == []


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_find_arxiv_refs_finds_every_parsed_form(text: str, expected: ArxivRef) -> None:
    assert find_arxiv_refs(f"look: {text} !", TODAY) == [expected]


def test_an_id_becomes_valid_in_its_month() -> None:
    assert parse_arxiv_id("2701.00001", date(2026, 12, 31)) is None
    assert find_arxiv_refs("2701.00001", date(2026, 12, 31)) == []
    assert parse_arxiv_id("2701.00001", date(2027, 1, 1)) == ref("2701.00001")
    assert find_arxiv_refs("2701.00001", date(2027, 1, 1)) == [ref("2701.00001")]


def test_urls_use_the_canonical_id() -> None:
    assert abs_url("2401.01234") == "https://arxiv.org/abs/2401.01234"
    assert pdf_url("2401.01234") == "https://arxiv.org/pdf/2401.01234"
    assert html_url("2401.01234") == "https://arxiv.org/html/2401.01234"
    assert abs_url("math/0309136") == "https://arxiv.org/abs/math/0309136"


def test_url_helpers_round_trip_through_parse() -> None:
    for make in (abs_url, pdf_url, html_url):
        assert parse_arxiv_id(make("hep-th/9901001")) == ref("hep-th/9901001")
        assert parse_arxiv_id(make("2401.01234")) == ref("2401.01234")


# --- Property-based tests ---------------------------------------------------------------------

FORMS = (
    "{id}",
    "arXiv:{id}",
    "arxiv:{id}",
    "arXiv: {id}",
    "ARXIV:{id}",
    "https://arxiv.org/abs/{id}",
    "http://arxiv.org/abs/{id}",
    "arxiv.org/abs/{id}",
    "www.arxiv.org/abs/{id}",
    "https://export.arxiv.org/abs/{id}",
    "https://arxiv.org/abs/{id}?context=cs",
    "https://arxiv.org/abs/{id}#comments",
    "https://arxiv.org/abs/{encoded}",
    "https://arxiv.org/pdf/{id}",
    "https://arxiv.org/pdf/{id}.pdf",
    "https://arxiv.org/html/{id}",
    "https://arxiv.org/html/{id}/",
    "https://arxiv.org/format/{id}",
    "https://alphaxiv.org/abs/{id}",
    "https://www.alphaxiv.org/overview/{id}",
    "https://huggingface.co/papers/{id}",
    "https://doi.org/10.48550/arXiv.{id}",
    "http://dx.doi.org/10.48550/arxiv.{id}",
    "10.48550/arXiv.{id}",
)
SUBJECTS = ("", ".GT", ".AI", ".CO", ".mes-hall", ".stat-mech", ".acc-ph")
# Every month the old scheme was in use: 1991-08 to 2007-03.
OLD_MONTHS = [
    (year % 100, month)
    for year in range(1991, 2008)
    for month in range(1, 13)
    if (1991, 8) <= (year, month) <= (2007, 3)
]


@st.composite
def new_ids(draw: st.DrawFn) -> tuple[str, str]:
    year = draw(st.integers(7, TODAY.year - 2000))
    month = draw(
        st.integers(4 if year == 7 else 1, 12 if year < TODAY.year - 2000 else TODAY.month)
    )
    width = 5 if year >= 15 else 4
    number = draw(st.integers(1, 10**width - 1))
    arxiv_id = f"{year:02d}{month:02d}.{number:0{width}d}"
    return arxiv_id, arxiv_id


@st.composite
def old_ids(draw: st.DrawFn) -> tuple[str, str]:
    archive = draw(st.sampled_from(ARCHIVES))
    year, month = draw(st.sampled_from(OLD_MONTHS))
    number = f"{year:02d}{month:02d}{draw(st.integers(1, 999)):03d}"
    return f"{archive}{draw(st.sampled_from(SUBJECTS))}/{number}", f"{archive}/{number}"


@st.composite
def rendered_refs(draw: st.DrawFn) -> tuple[str, ArxivRef]:
    """A valid reference written in one of the accepted forms, with the ref it stands for."""
    written, canonical = draw(st.one_of(new_ids(), old_ids()))
    version = draw(st.none() | st.integers(1, 999))
    cited = written if version is None else f"{written}v{version}"
    form = draw(st.sampled_from(FORMS))
    text = form.format(id=cited, encoded=cited.replace("/", "%2F"))
    return text, ArxivRef(canonical, version)


@st.composite
def invalid_ids(draw: st.DrawFn) -> str:
    """A digits-and-dots string that looks like a new-style id but is not one arXiv issued."""
    year = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    kinds = ["month", "late4", "early5", "before", "future", "zero", "v0", "longer"]
    kind = draw(st.sampled_from(kinds))
    if kind == "month":
        bad_month = draw(st.sampled_from([0, *range(13, 100)]))
        return f"{year:02d}{bad_month:02d}.{draw(st.integers(1, 99999)):05d}"
    if kind == "late4":
        return f"{draw(st.integers(15, 99)):02d}{month:02d}.{draw(st.integers(1, 9999)):04d}"
    if kind == "early5":
        return f"{draw(st.integers(7, 14)):02d}{month:02d}.{draw(st.integers(1, 99999)):05d}"
    if kind == "before":
        early = [(y, m) for y in range(8) for m in range(1, 13) if (y, m) < (7, 4)]
        early_year, early_month = draw(st.sampled_from(early))
        return f"{early_year:02d}{early_month:02d}.{draw(st.integers(1, 9999)):04d}"
    if kind == "future":
        later = draw(st.integers(TODAY.year - 2000 + 1, 99))
        return f"{later:02d}{month:02d}.{draw(st.integers(1, 99999)):05d}"
    valid, _ = draw(new_ids())
    if kind == "zero":
        return valid.split(".")[0] + "." + "0" * len(valid.split(".")[1])
    if kind == "v0":
        return f"{valid}v0"
    digits = draw(st.text("0123456789", min_size=1, max_size=3))
    longer = [f"{digits}{valid}", f"{digits}.{valid}", f"{valid}{digits}", f"{valid}.{digits}"]
    return draw(st.sampled_from(longer))


FILLER = st.text(string.ascii_letters + " .,;:!?()[]<>'\"-\n", max_size=40)


@FAST
@given(rendered_refs())
def test_parse_arxiv_id_round_trips_every_form(case: tuple[str, ArxivRef]) -> None:
    text, expected = case
    assert parse_arxiv_id(text, TODAY) == expected


@FAST
@given(
    rendered_refs(),
    FILLER,
    FILLER,
    st.sampled_from(" (\n\t\"'<["),
    st.sampled_from(" ).,;:!?'\"]>\n"),
)
def test_find_arxiv_refs_finds_embedded_ref(
    case: tuple[str, ArxivRef], before: str, after: str, left: str, right: str
) -> None:
    text, expected = case
    assert find_arxiv_refs(f"{before}{left}{text}{right}{after}", TODAY) == [expected]


@FAST
@given(st.text(st.characters(exclude_categories=["Nd"])))
def test_text_without_digits_never_matches(text: str) -> None:
    assert parse_arxiv_id(text) is None
    assert find_arxiv_refs(text) == []


@FAST
@given(invalid_ids())
def test_invalid_digit_strings_never_match(text: str) -> None:
    assert parse_arxiv_id(text, TODAY) is None
    assert find_arxiv_refs(text, TODAY) == []


@FAST
@given(st.text())
def test_parse_arxiv_id_never_raises(text: str) -> None:
    parsed = parse_arxiv_id(text)
    assert parsed is None or isinstance(parsed, ArxivRef)
    assert all(isinstance(found, ArxivRef) for found in find_arxiv_refs(text))
