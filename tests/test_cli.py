"""The command line as a user runs it: a real SQLite file, arXiv pointed at a closed port."""

import functools
import io
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

import bot.main
from bot.main import bounded_lines, main
from core.importer import read_mentions
from core.storage import database
from core.storage.repository import SqlPaperRepository

# arXiv is pointed at a closed loopback port; no other host may be reached.
pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

SHARES = [
    {
        "source": "x",
        "post_id": "1",
        "author": "ann",
        "posted_at": "2026-11-26T10:00:00Z",
        "kind": "post",
        "url": "https://arxiv.org/pdf/1706.03762v7.pdf",
    },
    {
        "source": "x",
        "post_id": "2",
        "author": "bob",
        "posted_at": "2026-11-26T09:00:00Z",
        "kind": "repost",
        "url": "https://arxiv.org/abs/1706.03762",
    },
    {
        "source": "bluesky",
        "post_id": "3",
        "author": "cy",
        "posted_at": "2026-11-25T09:00:00Z",
        "text": "arXiv:2401.01234 and https://huggingface.co/papers/2310.06825",
    },
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    # A closed port: arXiv is unreachable, and the CLI must still answer.
    monkeypatch.setenv("ARXIV_API_URL", "http://127.0.0.1:9/api/query")
    monkeypatch.setenv("ARXIV_LOOKUP_TIMEOUT", "1")
    (tmp_path / "shares.jsonl").write_text(
        "\n".join([*(json.dumps(s) for s in SHARES), "not json", json.dumps({"source": "x"})])
        + "\n"
    )
    return tmp_path


def test_import_reports_counts_and_skipped_lines(workdir, capsys):
    assert main(["import", "shares.jsonl"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "imported 4 mentions of 3 papers (2 lines skipped: see above)"
    assert "shares.jsonl: line 4: not JSON" in err
    assert "shares.jsonl: line 5: " in err


def test_import_twice_changes_nothing(workdir, capsys):
    main(["import", "shares.jsonl"])
    capsys.readouterr()
    assert main(["import", "shares.jsonl"]) == 0
    assert capsys.readouterr().out.startswith("imported 0 mentions of 3 papers (4 already known)")


def test_import_on_a_locked_database_says_so_in_one_line_and_a_rerun_resumes(
    workdir, capsys, monkeypatch
):
    assert main(["db", "upgrade"]) == 0
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 0.2)
    writer = sqlite3.connect(workdir / "store.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process is writing
    capsys.readouterr()
    try:
        assert main(["import", "shares.jsonl"]) == 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1] == (
        "import stopped: the database is locked by another process (waited 0.2 s for it);"
        " 0 shares were committed before it."
        " Run the same command again to resume: shares already imported are skipped."
    )
    assert "Traceback" not in err
    assert main(["import", "shares.jsonl"]) == 0
    assert capsys.readouterr().out.startswith("imported 4 mentions of 3 papers")


def test_import_on_a_full_disk_reports_what_was_committed_and_a_rerun_resumes(
    workdir, capsys, monkeypatch
):
    monkeypatch.setattr(bot.main, "read_mentions", functools.partial(read_mentions, batch=2))
    add_mentions = SqlPaperRepository.add_mentions
    calls = 0

    async def fills_the_disk(self, mentions):
        nonlocal calls
        calls += 1
        if calls == 2:
            full = sqlite3.OperationalError("database or disk is full")
            raise OperationalError("INSERT INTO mentions ...", (), full)
        return await add_mentions(self, mentions)

    monkeypatch.setattr(SqlPaperRepository, "add_mentions", fills_the_disk)
    assert main(["import", "shares.jsonl"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "import stopped: the database or its disk is full; 2 shares were committed before it."
        " Run the same command again to resume: shares already imported are skipped."
    )
    assert "Traceback" not in err
    monkeypatch.setattr(SqlPaperRepository, "add_mentions", add_mentions)
    assert main(["import", "shares.jsonl"]) == 0
    assert capsys.readouterr().out.startswith("imported 2 mentions of 3 papers (2 already known)")


def test_import_of_a_missing_file_fails_clearly(workdir, capsys):
    assert main(["import", "nope.jsonl"]) == 1
    assert "cannot read nope.jsonl" in capsys.readouterr().err


def test_top_and_paper_one_shots_after_import(workdir, capsys):
    main(["import", "shares.jsonl"])
    capsys.readouterr()
    assert main(["top", "5", "all"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "Most shared of all time"
    assert " 1. arXiv:1706.03762 (details pending) — 2 shares (X 2)" in out
    assert main(["paper", "https://arxiv.org/pdf/1706.03762v7.pdf"]) == 0
    card = capsys.readouterr().out
    assert "Rank now: #1" in card
    assert "arXiv could not be reached" in card


def test_paper_one_shot_without_arxiv_says_to_try_again_later(workdir, capsys):
    main(["import", "shares.jsonl"])
    capsys.readouterr()
    assert main(["paper", "1706.03762"]) == 0
    card = capsys.readouterr().out
    assert "arXiv could not be reached just now; try again later." in card
    assert "details will follow" not in card


def test_bad_arguments_exit_non_zero_with_one_line(workdir, capsys):
    assert main(["paper", "junk"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "That is not an arXiv id or link."


def test_chat_answers_from_a_pipe_on_an_empty_store(workdir, capsys, monkeypatch):
    monkeypatch.setattr(
        sys, "stdin", __import__("io").StringIO("/top\n/new\n/paper 1706.03762\n/quit\n")
    )
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "Nothing has been shared yet" in out
    assert "No shared papers with arXiv details yet." in out
    assert "I have nothing on 1706.03762 yet" in out
    assert "Traceback" not in out


def test_malformed_settings_are_listed_without_echoing_tokens(workdir, capsys, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "secret-but-malformed")
    monkeypatch.setenv("PORT", "eighty")
    assert main(["top"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN is malformed" in err
    assert "PORT must be a whole number" in err
    assert "secret-but-malformed" not in err


def test_db_upgrade_creates_the_schema(workdir, capsys):
    assert main(["db", "upgrade"]) == 0
    assert Path(workdir / "store.sqlite3").exists()


@pytest.mark.parametrize(
    ("command", "usage", "example"),
    [
        (
            "top",
            "usage: trending-arxiv top [n] [day|week|month|all] [category|words]",
            "top 5 week",
        ),
        ("paper", "usage: trending-arxiv paper <arXiv id or link>", "paper https://arxiv.org"),
        ("search", "usage: trending-arxiv search <words>", "search diffusion"),
        ("new", "usage: trending-arxiv new [page]", "new 2"),
        ("import", "usage: trending-arxiv import [-h] file", "import my-shares.jsonl"),
        ("chat", "usage: trending-arxiv chat [-h]", "chat, then /top 5 week"),
    ],
)
def test_each_subcommand_help_shows_its_syntax_and_an_example(capsys, command, usage, example):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert out.splitlines()[0] == usage
    assert f"example: trending-arxiv {example}" in out


def test_a_usage_printed_by_the_shell_is_in_the_shell_form(workdir, capsys):
    assert main(["top", "0"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "n must be between 1 and 25.",
        "Usage: trending-arxiv top [n] [day|week|month|all] [category|words]",
    ]


def test_import_of_one_share_says_one_mention(workdir, capsys):
    (workdir / "one.jsonl").write_text(json.dumps(SHARES[0]) + "\n")
    assert main(["import", "one.jsonl"]) == 0
    assert capsys.readouterr().out.strip() == "imported 1 mention of 1 paper"


def test_import_refuses_a_huge_line_read_piece_by_piece_and_imports_the_rest(workdir, capsys):
    (workdir / "huge.jsonl").write_text(
        json.dumps(SHARES[0]) + "\n" + "x" * 5_000_000 + "\n" + json.dumps(SHARES[2]) + "\n"
    )
    assert main(["import", "huge.jsonl"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "huge.jsonl: line 2: line longer than 64 KiB: not a share\n"
    assert captured.out.startswith("imported 3 mentions of 3 papers")


def test_bounded_lines_cuts_long_lines_and_keeps_their_count():
    stream = io.StringIO("short\n" + "y" * 100 + "\nlast")
    assert [len(line) for line in bounded_lines(stream, limit=10)] == [6, 11, 4]


def test_db_rescore_applies_new_weights_to_the_ranking(workdir, capsys, monkeypatch):
    assert main(["import", "shares.jsonl"]) == 0
    assert main(["top", "all"]) == 0
    before = capsys.readouterr().out
    assert before.index("1706.03762") < before.index("2401.01234")  # two sharers on x

    monkeypatch.setenv("SOURCE_WEIGHTS", "bluesky=5")
    assert main(["db", "rescore"]) == 0
    assert "Rescored 3 papers." in capsys.readouterr().out
    assert main(["top", "all"]) == 0
    after = capsys.readouterr().out
    assert after.index("2401.01234") < after.index("1706.03762")


def test_import_whose_closing_sweep_finds_the_database_locked_still_reports_the_import(
    workdir, capsys, monkeypatch
):
    async def locked(self, now):
        raise OperationalError("UPDATE meta", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(SqlPaperRepository, "sweep", locked)
    assert main(["import", "shares.jsonl"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("imported 4 mentions of 3 papers")
    assert "the day, week and month lists catch up at the next sweep: the database is locked" in err
    assert "Traceback" not in err
