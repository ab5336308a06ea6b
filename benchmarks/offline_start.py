"""Offline start benchmark: how long `trending-arxiv chat` takes to show its prompt without network.

    python benchmarks/offline_start.py               # 5 runs
    python benchmarks/offline_start.py --runs 10

Each run starts the console chat on a terminal (a pseudo-terminal, so the prompt is printed) on an
empty SQLite store in a scratch directory, with every source and arXiv pointed at a loopback port
nothing listens on: the first ingest finds no source and must give up at once. Two figures per
run, from the launch: the "No network" line, and the prompt. The target is the prompt within 3 s.
"""

from __future__ import annotations

import argparse
import math
import os
import pty
import select
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NO_NETWORK = b"No network"
PROMPT = b"/quit to leave."  # the banner, printed with the prompt once the first ingest is over


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def environment(store: Path) -> dict[str, str]:
    """The user's environment with every source and arXiv on a closed port."""
    base = f"http://127.0.0.1:{closed_port()}"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_URL", "_TOKEN", "SOURCES"))}
    env.update(
        DATABASE_URL=f"sqlite:///{store}",
        HN_API_URL=f"{base}/api/v1",
        HF_API_URL=f"{base}/api",
        MASTODON_INSTANCES=base,
        JETSTREAM_URL=base.replace("http", "ws"),
        ARXIV_RSS_URL=f"{base}/rss",
        ARXIV_API_URL=f"{base}/api/query",
        NO_PROXY="127.0.0.1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def one_run(workdir: Path) -> tuple[float, float]:
    """Seconds from launch to the "No network" line and to the prompt."""
    env = environment(workdir / "store.sqlite3")
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the chat, on the pseudo-terminal
        os.chdir(workdir)
        os.execve(sys.executable, [sys.executable, "-m", "bot", "chat"], env)
    seen, no_network, prompt = b"", float("nan"), float("nan")
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            seen += os.read(fd, 4096)
        except OSError:
            break
        now = time.monotonic() - started
        if NO_NETWORK in seen and math.isnan(no_network):
            no_network = now
        if PROMPT in seen:
            prompt = now
            break
    os.write(fd, b"/quit\n")
    os.waitpid(pid, 0)
    os.close(fd)
    return no_network, prompt


def main() -> None:
    """Run the chat offline a few times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(ROOT)
    prompts = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as scratch:
            no_network, prompt = one_run(Path(scratch))
        prompts.append(prompt)
        print(f"run {run}: 'No network' after {no_network:.2f} s, prompt after {prompt:.2f} s")
    print(
        f"prompt: median {statistics.median(prompts):.2f} s, worst {max(prompts):.2f} s"
        f" (target: within 3 s)"
    )


if __name__ == "__main__":
    main()
