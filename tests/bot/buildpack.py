"""Heroku's Python buildpack (v351) reading a pushed tree: its package manager and its Python.

The rules it applies are listed in the docstring of `tests/bot/test_build.py`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE_MANAGER_FILES = {
    "Pipfile.lock": "pipenv",
    "requirements.txt": "pip",
    "poetry.lock": "poetry",
    "uv.lock": "uv",
}
OLDEST_MINOR, NEWEST_MINOR = 10, 14
LATEST_PATCH = {10: 21, 11: 16, 12: 14, 13: 15, 14: 7}
# Names people gave the version file that the buildpack refuses rather than ignores.
MISSPELLED_VERSION_FILES = (
    " .python-version",
    ". python-version",
    ".python_version.txt",
    ".python_version",
    ".python-version ",
    ",python-version",
    ".python-version.",
    ".python-version.py",
    ".python-version.rtf",
    ".python-version.txt",
    ".python-version.TXT",
    ".Python-version",
    ".python.version",
    ".pythonversion",
    "'.python-version'",
    "python_version.txt",
    "python_version",
    "python-version.",
    "python-version.txt",
    "python-version",
)
_NUMBER = r"(0|[1-9][0-9]*)"
VERSION = re.compile(rf"{_NUMBER}\.{_NUMBER}(\.{_NUMBER})?")


class BuildRejected(Exception):
    """The buildpack would stop the build, for the reason given."""


@dataclass(frozen=True)
class PythonChoice:
    """The Python a build installs and where the request for it came from."""

    requested: str
    origin: str
    resolved: str


def package_manager(root: Path) -> str:
    """The one package manager the buildpack would use for the tree at `root`."""
    if (root / "Pipfile").is_file() and not (root / "Pipfile.lock").is_file():
        raise BuildRejected("a Pipfile without its Pipfile.lock")
    found = [name for file, name in PACKAGE_MANAGER_FILES.items() if (root / file).is_file()]
    if not found:
        raise BuildRejected("no supported Python package manager file")
    if len(found) > 1:
        raise BuildRejected(f"several package manager files: {', '.join(found)}")
    return found[0]


def check_no_installed_environment(root: Path) -> None:
    """Refuse a tree carrying a Python install or a virtual environment, as the buildpack does."""
    if (root / ".heroku" / "python").exists():
        raise BuildRejected("the tree already holds .heroku/python")
    for name in (".venv", "venv"):
        if (root / name / "pyvenv.cfg").is_file():
            raise BuildRejected(f"the tree holds a virtual environment: {name}/")


def version_lines(path: Path) -> list[str]:
    """The lines of a version file that count: trimmed, neither empty nor comments."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def requested_python(root: Path, manager: str) -> tuple[str, str]:
    """The Python version the tree asks for, and the file it comes from."""
    runtime_txt = root / "runtime.txt"
    if runtime_txt.is_file():
        if manager == "uv":
            raise BuildRejected("runtime.txt is refused with uv")
        lines = version_lines(runtime_txt)
        match = re.fullmatch(rf"python-({VERSION.pattern})", lines[0]) if len(lines) == 1 else None
        if match is None:
            raise BuildRejected(f"invalid Python version in runtime.txt: {lines}")
        return match.group(1), "runtime.txt"
    for name in MISSPELLED_VERSION_FILES:
        if (root / name).is_file():
            raise BuildRejected(f"the version file is misspelled: {name!r}")
    version_file = root / ".python-version"
    if version_file.is_file():
        lines = version_lines(version_file)
        invalid = [line for line in lines if not VERSION.fullmatch(line)]
        if invalid or len(lines) != 1:
            raise BuildRejected(f"expected one version in .python-version, found {lines}")
        return lines[0], ".python-version"
    if manager == "pipenv":
        meta = json.loads((root / "Pipfile.lock").read_text(encoding="utf-8")).get("_meta", {})
        wanted = meta.get("requires", {})
        if version := wanted.get("python_full_version") or wanted.get("python_version"):
            return str(version), "Pipfile.lock"
    if manager == "uv":
        raise BuildRejected("uv needs a .python-version file")
    return f"3.{NEWEST_MINOR}", "default"


def choose_python(root: Path) -> PythonChoice:
    """Apply the buildpack's rules to the tree at `root`: the Python version it would install."""
    manager = package_manager(root)
    check_no_installed_environment(root)
    requested, origin = requested_python(root, manager)
    major, minor, *_ = (int(part) for part in requested.split("."))
    if major != 3 or not OLDEST_MINOR <= minor <= NEWEST_MINOR:
        raise BuildRejected(f"Python {major}.{minor} is not supported")
    resolved = requested if requested.count(".") == 2 else f"3.{minor}.{LATEST_PATCH[minor]}"
    return PythonChoice(requested, origin, resolved)
