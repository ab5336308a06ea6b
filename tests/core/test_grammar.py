"""Core's grammar: how every platform reads a command line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.grammar import MAX_LINE, LineTooLong, quote, split_command, tokenize
from core.registry import decode_callback, encode_callback


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("graph neural", ("graph", "neural")),
        ('"graph neural" networks', ("graph neural", "networks")),
        ("“graph   neural” nets", ("graph neural", "nets")),
        ("„graph neural“", ("graph neural",)),
        ("don't stop", ("don't", "stop")),
        ('an "unclosed quote', ("an", '"unclosed', "quote")),
        ('"" empty', ("empty",)),
        ("  5\tweek\ncs.LG  ", ("5", "week", "cs.LG")),
    ],
)
def test_tokenize_groups_quoted_words_and_keeps_apostrophes(text, words):
    assert tokenize(text) == words


def test_tokenize_refuses_a_line_longer_than_any_platform_sends():
    assert len(tokenize("a " * (MAX_LINE // 2))) == MAX_LINE // 2
    with pytest.raises(LineTooLong, match="under 4,096 characters"):
        tokenize("a" * (MAX_LINE + 1))


def test_tokenize_of_many_unclosed_quotes_reads_each_character_a_bounded_number_of_times():
    # Each unclosed quote would otherwise search to the end of the line: quadratic.
    text = "“" * MAX_LINE
    assert tokenize(text) == (text,)


def test_split_command_does_not_read_past_the_first_word():
    line = "/top@SomeBot " + "x" * 1_000_000
    assert split_command(line) == ("top", "x" * 1_000_000)
    assert split_command("  /TOP  5 week") == ("top", "5 week")
    assert split_command("hello") is None
    assert split_command("/") is None
    assert split_command("/@bot") is None


@given(st.lists(st.text(min_size=1, max_size=12), max_size=5))
def test_quote_writes_tokens_that_tokenize_reads_back(tokens):
    quoted = [quote(t) for t in tokens]
    readable = [t for t, q in zip(tokens, quoted, strict=True) if q is not None]
    line = " ".join(q for q in quoted if q is not None)
    assert tokenize(line) == tuple(readable)


def test_a_page_button_keeps_a_phrase_one_word():
    data = encode_callback("top", ("graph neural", "page=2"))
    assert data == 'top "graph neural" page=2'
    assert decode_callback(data) == ("top", ("graph neural", "page=2"))
