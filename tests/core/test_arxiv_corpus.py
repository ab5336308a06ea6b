"""Recall and false ids of both reference modes over other projects' identifier test cases.

The cases (tests/data/arxiv_ids/corpus.tsv) come from arXiv's own code, Zotero, idutils, JabRef,
altmetric and papis; the file says which case comes from where and what it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from core.arguments import parse_paper_ref
from core.arxiv_id import find_arxiv_refs
from core.registry import InvalidArguments

CORPUS = Path(__file__).parents[1] / "data" / "arxiv_ids" / "corpus.tsv"
TODAY = date(2026, 12, 5)
TARGET_RECALL = 0.97


@dataclass(frozen=True)
class Case:
    line: int
    kind: str  # ref, text or whole: see the file's header
    expected: str | None
    text: str


def load_cases() -> list[Case]:
    cases = []
    for number, raw in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw or raw.startswith("#"):
            continue
        kind, expected, text = raw.split("\t")
        assert kind in {"ref", "text", "whole"}, f"line {number}: unknown kind {kind!r}"
        cases.append(Case(number, kind, None if expected == "-" else expected, text))
    return cases


CASES = load_cases()


def paper_id(text: str) -> str | None:
    try:
        return parse_paper_ref(text, TODAY).arxiv_id
    except InvalidArguments:
        return None


def found_ids(text: str) -> list[str]:
    return [ref.arxiv_id for ref in find_arxiv_refs(text, TODAY)]


def test_corpus_has_positives_and_negatives_for_both_modes() -> None:
    for kinds in ({"ref"}, {"ref", "text"}):
        chosen = [c for c in CASES if c.kind in kinds]
        assert sum(c.expected is not None for c in chosen) >= 40
        assert sum(c.expected is None for c in chosen) >= 40


def test_paper_command_accepts_what_the_sources_call_references() -> None:
    positives = [c for c in CASES if c.kind == "ref" and c.expected is not None]
    missed = [c for c in positives if paper_id(c.text) != c.expected]
    recall = 1 - len(missed) / len(positives)
    assert recall >= TARGET_RECALL, [(c.line, c.text) for c in missed]


def test_free_text_finds_what_the_sources_call_references() -> None:
    positives = [c for c in CASES if c.kind != "whole" and c.expected is not None]
    missed = [c for c in positives if c.expected not in found_ids(c.text)]
    recall = 1 - len(missed) / len(positives)
    assert recall >= TARGET_RECALL, [(c.line, c.text) for c in missed]


@pytest.mark.parametrize("case", [c for c in CASES if c.kind != "text"], ids=lambda c: c.text)
def test_paper_command_reads_no_false_id(case: Case) -> None:
    assert paper_id(case.text) in (None, case.expected)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind != "whole"], ids=lambda c: c.text)
def test_free_text_reads_no_false_id(case: Case) -> None:
    assert set(found_ids(case.text)) <= {case.expected}
