"""The Telegram Bot API emulator for end-to-end tests (tests/peers/telegram-emulator.sh)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "peers" / "telegram-emulator.sh"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def emulator_url() -> Iterator[str]:
    """Start the emulator once per session on a free loopback port; stop it at the end.

    Without node or npm the tests are skipped, except under CI, where they must run.
    The first start installs the npm package into $TG_EMU_DIR (default /tmp/telegram-emulator).
    """
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        reason = f"the Telegram Bot API emulator needs {' and '.join(missing)} on PATH"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    port = str(_free_port())
    started = subprocess.run(
        [str(SCRIPT), "start", port], capture_output=True, text=True, timeout=300, check=False
    )
    if started.returncode != 0:
        pytest.fail(f"the Telegram emulator did not start:\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SCRIPT), "stop", port], capture_output=True, timeout=60, check=False)
