from datetime import UTC, date, datetime

from core.models import DailySeries, Discussion, Paper, SourceCounts
from core.replies import Link, Paging, PaperCard, PaperList, Post, RankedPaper, ScorePart
from core.views import (
    Counts,
    DailyShares,
    PageTarget,
    ShareCount,
    VoteCount,
    authors_line,
    build_card_view,
    build_counts,
    build_list_item,
    build_list_view,
    build_page_nav,
    build_paper_view,
)

LINKS = (
    Link("abs", "https://arxiv.org/abs/2401.00001"),
    Link("PDF", "https://arxiv.org/pdf/2401.00001"),
)
PAPER = Paper(
    "2401.00001",
    title="Scaling   laws\n  for <everything>",
    authors=("Ada\n Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
    abstract="We study\nhow papers  spread.",
    categories=("cs.LG", "stat.ML"),
    published=datetime(2024, 1, 2, 20, tzinfo=UTC),
    updated=datetime(2024, 3, 5, tzinfo=UTC),
    version=3,
)
SOURCES = (
    SourceCounts("x", sharers=9, score=9.0),
    SourceCounts("bluesky", sharers=3, score=3.0),
    SourceCounts("hackernews", votes=210, score=7.7),
    SourceCounts("reddit", sharers=0, votes=0),
    SourceCounts("huggingface", votes=40, score=2.0),
)


def test_counts_line_gives_total_then_split_then_votes_with_units():
    counts = build_counts(SOURCES)
    assert counts.line == "12 shares (X 9, Bluesky 3) · HN 210 pts · HF 40 upvotes"
    assert counts.total_shares == 12
    assert counts.shares == (ShareCount("x", "X", 9), ShareCount("bluesky", "Bluesky", 3))
    assert [v.term for v in counts.votes] == ["HN 210 pts", "HF 40 upvotes"]


def test_counts_of_a_paper_without_signal_say_so():
    counts = build_counts((SourceCounts("reddit"),))
    assert counts == Counts(0, (), ())
    assert counts.line == "no shares yet"


def test_counts_with_votes_only_and_a_single_share():
    assert build_counts((SourceCounts("reddit", votes=5),)).line == "Reddit 5 pts"
    assert build_counts((SourceCounts("mastodon", sharers=1),)).line == "1 share (Mastodon 1)"
    assert build_counts((SourceCounts("lemmy", votes=2),)).line == "lemmy 2 votes"


def test_votes_link_to_the_most_voted_discussion_on_their_network():
    discussions = (
        Discussion("hackernews", "https://news.ycombinator.com/item?id=1", "a", 20, 1),
        Discussion("hackernews", "https://news.ycombinator.com/item?id=2", "b", 190, 40),
        Discussion("hackernews", None, "c", 500, 0),
        Discussion("reddit", "https://reddit.com/r/ml/1", "d", 9, 2),
    )
    (hn, hf) = build_counts(SOURCES, discussions).votes
    assert hn == VoteCount("hackernews", "HN", 210, "pts", "https://news.ycombinator.com/item?id=2")
    assert hf.url is None


def test_authors_line_names_three_then_et_al():
    assert authors_line(("A", "B", "C")) == "A, B, C"
    assert authors_line(("A", "B", "C", "D")) == "A, B, C et al."
    assert authors_line(("A", "B")) == "A, B"
    assert authors_line(()) == ""
    assert authors_line(("A", "B", "C"), shown=2) == "A, B et al."
    assert authors_line(("Ann", "Bob"), each=str.upper) == "ANN, BOB"


def test_paper_view_puts_texts_on_one_line_and_keeps_markup_as_text():
    view = build_paper_view(PAPER, LINKS)
    assert view.title == "Scaling laws for <everything>"
    assert view.authors_line == "Ada Lovelace, Alan Turing, Grace Hopper et al."
    assert view.abstract == "We study how papers spread."
    assert (view.published, view.updated, view.version) == (date(2024, 1, 2), date(2024, 3, 5), 3)
    assert view.primary_category == "cs.LG"
    assert view.abs_url == "https://arxiv.org/abs/2401.00001"
    assert view.link("pdf") == "https://arxiv.org/pdf/2401.00001"
    assert view.link("html") is None


def test_paper_view_of_a_pending_paper_shows_its_id():
    view = build_paper_view(Paper("2401.00002"), ())
    assert view.pending
    assert view.display_title == "arXiv:2401.00002"
    assert (view.authors_line, view.primary_category, view.abs_url) == ("", None, None)
    assert (view.published, view.updated) == (None, None)
    assert not build_paper_view(PAPER, LINKS).pending


def test_paper_view_hides_an_update_on_the_day_of_publication():
    same = Paper("2401.00003", published=PAPER.published, updated=PAPER.published)
    assert build_paper_view(same, ()).updated is None


def test_list_view_numbers_items_and_keeps_heading_note_and_footer():
    papers = (RankedPaper(7, PAPER, 19.5, SOURCES, LINKS),)
    reply = PaperList("Top papers", papers, empty_note="None.", footer="Counts: 24 h")
    view = build_list_view(reply)
    (item,) = view.items
    assert item == build_list_item(papers[0])
    assert (item.rank, item.score, item.paper.title) == (7, 19.5, "Scaling laws for <everything>")
    assert item.counts.line.startswith("12 shares")
    assert (view.heading, view.empty_note, view.footer, view.nav) == (
        "Top papers",
        "None.",
        "Counts: 24 h",
        None,
    )


def test_page_nav_targets_re_run_the_command_for_the_neighbouring_pages():
    nav = build_page_nav(Paging("top", ("5", "week"), 2, has_next=True), total_pages=4)
    assert nav is not None
    assert nav.page == 2
    assert nav.previous == PageTarget(1, "top", ("5", "week", "page=1"))
    assert nav.next == PageTarget(3, "top", ("5", "week", "page=3"))
    assert nav.total_pages == 4


def test_page_nav_at_the_ends_has_no_target_beyond_them():
    first = build_page_nav(Paging("new", (), 1, has_next=True))
    last = build_page_nav(Paging("new", (), 3, has_next=False))
    assert first is not None
    assert last is not None
    assert (first.previous, first.next) == (None, PageTarget(2, "new", ("page=2",)))
    assert (last.previous, last.next) == (PageTarget(2, "new", ("page=2",)), None)
    assert first.total_pages is None
    assert build_page_nav(None) is None


def test_page_nav_offers_numbers_around_this_page_with_gaps_and_the_ends():
    nav = build_page_nav(Paging("top", ("week",), 6, has_next=True), total_pages=20)
    assert nav is not None
    assert nav.numbers() == (1, None, 4, 5, 6, 7, 8, None, 20)
    assert nav.numbers(around=0) == (1, None, 6, None, 20)
    assert nav.target(20) == PageTarget(20, "top", ("week", "page=20"))
    assert nav.target(6).args == ("week", "page=6")


def test_page_nav_numbers_without_a_total_end_at_the_next_page():
    middle = build_page_nav(Paging("new", (), 2, has_next=True))
    last = build_page_nav(Paging("new", (), 5, has_next=False))
    near_start = build_page_nav(Paging("new", (), 3, has_next=False), total_pages=4)
    assert middle is not None
    assert last is not None
    assert near_start is not None
    assert middle.numbers() == (1, 2, 3)
    assert last.numbers() == (1, None, 3, 4, 5)
    assert near_start.numbers() == (1, 2, 3, 4)


def test_daily_shares_give_days_points_total_and_sparkline():
    daily = DailyShares(date(2024, 1, 30), (0, 4, 2))
    assert daily.days == (date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1))
    assert daily.points[1] == (date(2024, 1, 31), 4)
    assert daily.total == 6
    assert daily.sparkline == "▁█▄"  # half the peak is half a bar
    assert DailyShares(date(2024, 1, 1), ()).sparkline == ""


def test_card_view_shows_everything_the_card_holds():
    posted = datetime(2024, 1, 3, tzinfo=UTC)
    card = PaperCard(
        paper=PAPER,
        sources=SOURCES,
        daily_shares=(1, 0, 2),
        first_day=date(2024, 1, 1),
        daily_by_network=(DailySeries("bluesky", (1, 0, 1)), DailySeries("x", (0, 0, 1))),
        rank=3,
        score=18.7,
        score_parts=(ScorePart("hackernews", 210, 0.5, 7.7),),
        top_posts=(Post("bluesky", "@a\nb", posted, None, "Look  at\nthis"),),
        links=LINKS,
        note="Details from arXiv are on their way.",
        discussions=(
            Discussion("hackernews", "https://news.ycombinator.com/item?id=9", "t", 2, 1),
        ),
    )
    view = build_card_view(card)
    assert view.paper == build_paper_view(PAPER, LINKS)
    assert view.counts.votes[0].url == "https://news.ycombinator.com/item?id=9"
    assert view.daily.counts == (1, 0, 2)
    assert [(s.source, s.counts) for s in view.daily.by_network] == [
        ("bluesky", (1, 0, 1)),
        ("x", (0, 0, 1)),
    ]
    assert (view.rank, view.score, view.note) == (3, 18.7, "Details from arXiv are on their way.")
    (term,) = view.score_terms
    assert (term.network, term.value, term.weight, term.points) == ("HN", 210, 0.5, 7.7)
    (post,) = view.top_posts
    assert (post.network, post.author, post.text, post.url) == (
        "Bluesky",
        "@a b",
        "Look at this",
        None,
    )


def test_a_blank_title_or_abstract_counts_as_none():
    view = build_paper_view(Paper("2401.00004", title=" \n ", abstract="\t"), ())
    assert view.pending
    assert view.display_title == "arXiv:2401.00004"
    assert view.abstract is None
