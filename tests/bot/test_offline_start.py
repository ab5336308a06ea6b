"""Starting without network: the first ingest of an empty store gives up at once, not in 15 s.

"Refused" is a loopback port nothing listens on; "unresolvable" is a resolver that fails, so no
test ever asks a real DNS server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.main import main
from bot.source_settings import URL_VARIABLES
from tests.bot.servers import closed_port
from tests.bot.test_ingest_e2e import OTHER_VARIABLES, SOURCES, progress

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

EMPTY = "The store is empty: asking the sources what people share now…"
NO_NETWORK = "No network: no source could be reached; carrying on with an empty store."
QUICK = 3.0  # seconds from the first ingest's start to the "no network" line


def offline_environment(tmp_path: Path, base: str, websocket: str) -> dict[str, str]:
    """The environment of a user whose every source is at `base` (HTTP) and `websocket`."""
    env = {k: v for k, v in os.environ.items() if k not in OTHER_VARIABLES}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        SOURCES=",".join(SOURCES),
        HN_API_URL=f"{base}/api/v1",
        HF_API_URL=f"{base}/api",
        MASTODON_INSTANCES=base,
        JETSTREAM_URL=websocket,
        ARXIV_RSS_URL=f"{base}/rss",
        ARXIV_API_URL=f"{base}/api/query",
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
    )
    return env


def test_chat_offline_reaches_its_first_answer_within_three_seconds(tmp_path):
    port = closed_port()
    env = offline_environment(tmp_path, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")
    lines: list[tuple[float, str]] = []  # stderr lines with when they came
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        stderr = process.stderr

        def read_stderr() -> None:
            for line in stderr:
                lines.append((time.monotonic(), line.rstrip("\n")))

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        try:
            process.stdin.write("/top\n/quit\n")
            process.stdin.close()
            out = process.stdout.read()  # the replies come after the first ingest
            process.wait(60)
        finally:
            process.kill()
        reader.join(5)
    err = [text for _, text in lines]
    assert process.returncode == 0, err
    assert EMPTY in err, err
    assert NO_NETWORK in err, err
    began = next(at for at, text in lines if text == EMPTY)
    gave_up = next(at for at, text in lines if text == NO_NETWORK)
    assert gave_up - began < QUICK, err
    failures = dict(line.split(": ", 1) for line in progress("\n".join(err)))
    assert set(failures) == set(SOURCES), err
    assert all(what.startswith("failed (") for what in failures.values()), err
    assert out.splitlines()[0] == "Trending now"
    assert not any("Traceback" in text for text in err)
    print(f"offline start: no-network line {gave_up - started:.2f} s after launch")


def test_ingest_with_no_name_resolving_fails_every_source_at_once(tmp_path, capsys, monkeypatch):
    def no_dns(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.chdir(tmp_path)
    base = "http://sources.example.invalid"
    for name in OTHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = offline_environment(tmp_path, base, "wss://jetstream.example.invalid")
    for name in ("DATABASE_URL", "SOURCES", "MASTODON_INSTANCES", *URL_VARIABLES):
        if name in env:
            monkeypatch.setenv(name, env[name])

    started = time.monotonic()
    status = main(["ingest", "--once"])
    took = time.monotonic() - started
    err = capsys.readouterr().err

    assert status == 1
    assert took < QUICK, err
    failures = dict(line.split(": ", 1) for line in progress(err))
    assert set(failures) == set(SOURCES), err
    assert failures["hackernews"] == "failed (ConnectError from sources.example.invalid)"
    assert failures["bluesky"] == "failed (gaierror: [Errno -2] Name or service not known)"
