"""What a `git push` to Heroku or Dokku sends, read the way their Python buildpack reads it.

The tree under test is `git archive HEAD`: the committed files, without ignored or uncommitted
ones, as a push delivers them. `tests/bot/buildpack.py` applies the buildpack's rules to it; the
rule tests below build small trees that break each rule, so the checks on our tree can fail.
Installing from the lock and running the release step needs the network: `.ci/run` does that.

The rules of heroku/heroku-buildpack-python v351 (`lib/package_manager.sh`,
`lib/python_version.sh`, `lib/checks.sh`; Dokku's herokuish runs the same buildpack), restated:

- Package manager files sit at the root: `Pipfile.lock` (Pipenv), `requirements.txt` (pip),
  `poetry.lock` (Poetry), `uv.lock` (uv). Exactly one of them must be there: none fails the build
  (a bare `setup.py` or `pyproject.toml` is not enough), two or more fail it too. A `Pipfile`
  without its `Pipfile.lock` fails.
- The build fails when the tree already holds `.heroku/python`, or a virtual environment
  (`.venv/` or `venv/` with a `pyvenv.cfg`).
- The Python version comes, first match wins, from `runtime.txt` (deprecated, and refused with
  uv), then `.python-version`, then (Pipenv only) `Pipfile.lock`'s `_meta.requires`; without one
  the buildpack picks a default or the last build's version, which with uv is an error.
  A file with a known misspelling of `.python-version` fails the build.
- `.python-version` is read line by line, each trimmed of surrounding whitespace; empty lines and
  lines starting with `#` are skipped. Exactly one line must remain, of the form `N.N` or
  `N.N.N` (no leading zeros, no `python-` prefix, no wildcard).
- Python 3.10 to 3.14 are supported; a major version alone resolves to its newest patch release.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.bot.buildpack import (
    BuildRejected,
    PythonChoice,
    choose_python,
    package_manager,
)
from tests.bot.test_procfile import read_procfile

ROOT = Path(__file__).parents[2]

Dependency = tuple[str, frozenset[str], str, str]


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tree of the commit checked out, extracted from `git archive HEAD`."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the project")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    tree = tmp_path_factory.mktemp("pushed")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def _toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as file:
        return tomllib.load(file)


def test_buildpack_installs_with_uv_the_python_of_python_version(pushed: Path) -> None:
    assert package_manager(pushed) == "uv"
    assert choose_python(pushed) == PythonChoice("3.11", ".python-version", "3.11.16")


def test_python_version_is_the_floor_of_requires_python_and_of_the_tools(pushed: Path) -> None:
    minor = (pushed / ".python-version").read_text(encoding="utf-8").strip()
    pyproject = _toml(pushed / "pyproject.toml")
    requires_python = pyproject["project"]["requires-python"]
    assert requires_python == f">={minor}"
    assert _toml(pushed / "uv.lock")["requires-python"] == requires_python
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + minor.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == minor


def _declared(pyproject: dict[str, Any]) -> set[Dependency]:
    """The project's requirements as pyproject.toml states them, extras as markers."""
    project = pyproject["project"]
    lines = [(line, "") for line in project["dependencies"]]
    for extra, extra_lines in project.get("optional-dependencies", {}).items():
        lines += [(line, f"extra == '{extra}'") for line in extra_lines]
    declared: set[Dependency] = set()
    for line, marker in lines:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        extras = frozenset(requirement.extras)
        declared.add((name, extras, str(requirement.specifier), marker))
    return declared


def _locked_metadata(lock: dict[str, Any], project: str) -> set[Dependency]:
    """The project's requirements as the lock recorded them when it was resolved."""
    (entry,) = [p for p in lock["package"] if p["name"] == project]
    locked: set[Dependency] = set()
    for dependency in entry["metadata"]["requires-dist"]:
        specifier = str(SpecifierSet(dependency.get("specifier", "")))
        extras = frozenset(dependency.get("extras", ()))
        name = canonicalize_name(dependency["name"])
        locked.add((name, extras, specifier, dependency.get("marker", "")))
    return locked


def test_lock_was_resolved_from_the_requirements_of_pyproject(pushed: Path) -> None:
    pyproject = _toml(pushed / "pyproject.toml")
    lock = _toml(pushed / "uv.lock")
    assert _locked_metadata(lock, pyproject["project"]["name"]) == _declared(pyproject)


def test_lock_pins_every_package_to_a_hashed_release_from_pypi(pushed: Path) -> None:
    lock = _toml(pushed / "uv.lock")
    packages = [p for p in lock["package"] if p["source"] != {"editable": "."}]
    assert {"sqlalchemy", "python-telegram-bot", "discord-py", "pytest"} <= {
        p["name"] for p in packages
    }
    for package in packages:
        assert package["source"] == {"registry": "https://pypi.org/simple"}, package["name"]
        files = [package.get("sdist"), *package.get("wheels", [])]
        hashes = [file["hash"] for file in files if file is not None]
        assert hashes, package["name"]
        assert all(h.startswith("sha256:") for h in hashes), package["name"]


def test_app_json_builds_with_the_python_buildpack_and_procfile_processes(pushed: Path) -> None:
    app = json.loads((pushed / "app.json").read_text(encoding="utf-8"))
    assert app["buildpacks"] == [{"url": "heroku/python"}]
    assert set(app["formation"]) <= set(read_procfile(pushed / "Procfile"))
    assert all(var["description"] for var in app["env"].values())


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


UV = {"pyproject.toml": "", "uv.lock": ""}


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        pytest.param({"pyproject.toml": "", "setup.py": ""}, "no supported", id="no-lock"),
        pytest.param({**UV, "requirements.txt": ""}, "several", id="two-managers"),
        pytest.param({"Pipfile": ""}, "Pipfile without", id="pipfile-unlocked"),
        pytest.param(UV, "needs a .python-version", id="uv-unpinned"),
        pytest.param({**UV, "runtime.txt": "python-3.11"}, "runtime.txt", id="uv-runtime-txt"),
        pytest.param({**UV, ".python-version.txt": "3.11"}, "misspelled", id="misspelled"),
        pytest.param({**UV, ".python-version": "python-3.11"}, "expected one", id="prefix"),
        pytest.param({**UV, ".python-version": "3.11\n3.12\n"}, "expected one", id="two"),
        pytest.param({**UV, ".python-version": "3.11.*"}, "expected one", id="wildcard"),
        pytest.param({**UV, ".python-version": "# 3.11\n"}, "expected one", id="comment"),
        pytest.param({**UV, ".python-version": "3.9"}, "not supported", id="too-old"),
        pytest.param({**UV, ".python-version": "3.15"}, "not supported", id="too-new"),
        pytest.param(
            {**UV, ".python-version": "3.11", ".venv/pyvenv.cfg": ""}, "virtual", id="venv"
        ),
    ],
)
def test_buildpack_rules_reject_the_tree(
    tmp_path: Path, files: dict[str, str], reason: str
) -> None:
    with pytest.raises(BuildRejected, match=reason):
        choose_python(_tree(tmp_path, files))


@pytest.mark.parametrize(
    ("files", "choice"),
    [
        pytest.param(
            {**UV, ".python-version": "# ours\n  3.11 \n\n"},
            PythonChoice("3.11", ".python-version", "3.11.16"),
            id="trimmed",
        ),
        pytest.param(
            {**UV, ".python-version": "3.12.3"},
            PythonChoice("3.12.3", ".python-version", "3.12.3"),
            id="exact-patch",
        ),
        pytest.param(
            {"requirements.txt": "", "runtime.txt": "python-3.12", ".python-version": "3.11"},
            PythonChoice("3.12", "runtime.txt", "3.12.14"),
            id="runtime-txt-first",
        ),
        pytest.param(
            {"requirements.txt": ""}, PythonChoice("3.14", "default", "3.14.7"), id="pip-default"
        ),
    ],
)
def test_buildpack_rules_choose_the_python(
    tmp_path: Path, files: dict[str, str], choice: PythonChoice
) -> None:
    assert choose_python(_tree(tmp_path, files)) == choice
