"""The .crate files `cargo package` made (and built, each from its package alone): what they
hold and what their manifests promise a registry."""

from __future__ import annotations

import tarfile
import tomllib

import pytest

from support import ROOT, artifact, version


@pytest.mark.parametrize("name", ["tenure", "tenure-redis", "tenure-axum"])
def test_the_crate_is_complete_and_licensed(name: str) -> None:
    crate = artifact(f"{name}-{version()}.crate")
    top = f"{name}-{version()}/"
    with tarfile.open(crate) as tar:
        files = {m.name.removeprefix(top): m for m in tar.getmembers() if m.isfile()}
        manifest = tomllib.loads(tar.extractfile(files["Cargo.toml"]).read().decode())  # type: ignore[union-attr]
        readme = tar.extractfile(files["README.md"]).read()  # type: ignore[union-attr]
    assert {"Cargo.toml", "Cargo.toml.orig", "src/lib.rs", "README.md", "LICENSE-MIT", "LICENSE-APACHE"} <= set(files)
    assert readme == (ROOT / "README.md").read_bytes()
    package = manifest["package"]
    assert package["version"] == version()
    assert package["license"] == "MIT OR Apache-2.0"
    assert package["description"] and package["readme"] == "README.md"
    assert 0 < len(package["keywords"]) <= 5 and package["categories"]
    # Every dependency resolves from a registry: no paths survive packaging, and a sibling
    # crate is required at exactly this version.
    for table in ("dependencies", "dev-dependencies"):
        for dep, spec in manifest.get(table, {}).items():
            assert not isinstance(spec, dict) or "path" not in spec, (name, dep)
            if dep.startswith("tenure"):
                assert spec["version"] == "=" + version(), (name, dep)


def test_the_core_keeps_its_no_std_switch() -> None:
    with tarfile.open(artifact(f"tenure-{version()}.crate")) as tar:
        member = tar.extractfile(f"tenure-{version()}/Cargo.toml")
        assert member is not None
        features = tomllib.loads(member.read().decode())["features"]
    assert features["default"] == ["std"]
