"""One version number for every package: Cargo.toml's [workspace.package] version is the
source; the crates and the wheel inherit it, and everything that has to repeat it agrees."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from support import DIST, ROOT, version

CRATES = ["tenure", "tenure-redis", "tenure-axum"]


def toml(path: Path) -> dict:  # type: ignore[type-arg]
    with open(path, "rb") as f:
        return tomllib.load(f)


def test_the_version_is_semver() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", version()), version()


@pytest.mark.parametrize("manifest", sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("[cb]*s/*/Cargo.toml")))
def test_every_crate_inherits_it(manifest: str) -> None:
    package = toml(ROOT / manifest)["package"]
    assert package["version"] == {"workspace": True}, manifest
    assert package["license"] == {"workspace": True}, manifest


def test_the_crates_require_each_other_at_it() -> None:
    deps = toml(ROOT / "Cargo.toml")["workspace"]["dependencies"]
    for name in ("tenure", "tenure-redis"):
        assert deps[name]["version"] == "=" + version(), name


def test_the_lock_files_have_it() -> None:
    lock = toml(ROOT / "Cargo.lock")["package"]
    local = {p["name"]: p["version"] for p in lock if "source" not in p}
    assert set(CRATES) <= set(local)
    assert set(local.values()) == {version()}, local
    # The fuzz targets are a workspace of their own, checked with --locked by make test.
    fuzz = {p["name"]: p["version"] for p in toml(ROOT / "fuzz/Cargo.lock")["package"] if "source" not in p}
    assert fuzz["tenure"] == version()


def test_the_npm_package_repeats_it() -> None:
    assert json.loads((ROOT / "js/package.json").read_text())["version"] == version()
    lock = json.loads((ROOT / "js/package-lock.json").read_text())
    assert lock["version"] == lock["packages"][""]["version"] == version()


def test_the_python_package_takes_it_from_cargo() -> None:
    project = toml(ROOT / "python/pyproject.toml")["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert project["license"] == toml(ROOT / "Cargo.toml")["workspace"]["package"]["license"]


def test_the_changelog_names_it() -> None:
    releases = re.findall(r"^## \[(\d[^\]]*)\] - \d{4}-\d{2}-\d{2}$", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert releases and releases[0] == version(), releases


def test_the_built_packages_carry_it() -> None:
    names = {p.name for p in DIST.iterdir()}
    assert f"tenure-{version()}.tgz" in names
    assert f"tenure-{version()}.tar.gz" in names
    assert any(n.startswith(f"tenure-{version()}-cp39-abi3-") and n.endswith(".whl") for n in names), names
    # Nothing left over from another version (make dist replaces what it builds).
    assert all(version() in n for n in names if n.endswith((".tgz", ".whl", ".tar.gz", ".crate"))), names
