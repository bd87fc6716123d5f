"""The wheel and the sdist: what they hold, and the README's Python quick start run from a
fresh venv that installed the wheel with no Rust toolchain on the PATH."""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from support import ROOT, Server, artifact, check_quick_start, free_port, quick_starts, version

WHEELHOUSE = Path(os.environ.get("TENURE_WHEELHOUSE", ROOT / ".tools" / "wheelhouse"))


def without_rust() -> dict[str, str]:
    """The environment less every PATH entry that holds cargo or rustc, and Rust's homes."""
    path = [d for d in os.environ["PATH"].split(os.pathsep)
            if d and not any(os.path.exists(os.path.join(d, tool)) for tool in ("cargo", "rustc", "rustup"))]
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CARGO_HOME", "RUSTUP_HOME", "CARGO_TARGET_DIR")}
    env["PATH"] = os.pathsep.join(path)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel() -> Path:
    return artifact(f"tenure-{version()}-cp39-abi3-*.whl")


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the wheel installed by a pip that could not build Rust if it tried."""
    env = without_rust()
    assert shutil.which("cargo", path=env["PATH"]) is None and shutil.which("rustc", path=env["PATH"]) is None
    home = tmp_path_factory.mktemp("venv")
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(home / "env")], check=True, env=env)
    py = home / "env" / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "-q", "--no-index"]
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, env=env)
    # The quick start's own framework and server, from wheels downloaded once (make test-dist).
    subprocess.run([*pip, "--find-links", str(WHEELHOUSE), "starlette", "uvicorn"], check=True, env=env)
    env["PATH"] = os.pathsep.join([str(py.parent), env["PATH"]])
    return py, env


def test_the_wheel_is_abi3_typed_and_licensed(wheel: Path) -> None:
    assert "-cp39-abi3-" in wheel.name
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = email.message_from_bytes(zf.read(f"tenure-{version()}.dist-info/METADATA"))
    assert {"tenure/__init__.py", "tenure/py.typed", "tenure/_native.pyi", "tenure/_native.abi3.so",
            f"tenure-{version()}.dist-info/licenses/LICENSE-MIT",
            f"tenure-{version()}.dist-info/licenses/LICENSE-APACHE"} <= names
    # One native module, the package's own files, and its metadata: no tests, no sources.
    assert [n for n in names if n.endswith(".so")] == ["tenure/_native.abi3.so"]
    assert all(n.startswith(("tenure/", f"tenure-{version()}.dist-info/")) for n in names), names
    assert not any("test" in n for n in names), names
    assert meta["Version"] == version()
    assert meta["License-Expression"] == "MIT OR Apache-2.0"
    assert meta["Requires-Python"] == ">=3.9"
    # Every dependency belongs to an extra: a plain install pulls in nothing.
    assert all("extra ==" in req for req in meta.get_all("Requires-Dist", [])), meta.get_all("Requires-Dist")
    assert meta.get_payload().startswith("# tenure"), "the README is the long description"


def test_the_sdist_holds_what_builds_the_wheel(wheel: Path) -> None:
    sdist = artifact(f"tenure-{version()}.tar.gz")
    top = f"tenure-{version()}/"
    with tarfile.open(sdist) as tar:
        names = {m.name.removeprefix(top) for m in tar.getmembers() if m.isfile()}
        pkg_info = email.message_from_bytes(tar.extractfile(top + "PKG-INFO").read())  # type: ignore[union-attr]
    assert {"pyproject.toml", "Cargo.toml", "Cargo.lock", "LICENSE-MIT", "LICENSE-APACHE", "README.md",
            "src/tenure/__init__.py", "src/tenure/py.typed", "bindings/python/Cargo.toml",
            "bindings/python/src/lib.rs", "crates/tenure/Cargo.toml", "crates/tenure/src/lib.rs"} <= names
    # The Python package and the two crates it compiles; nothing of JS, the other crates,
    # the Python tests or the built module.
    assert all(n.split("/")[0] in ("src", "bindings", "crates") or "/" not in n for n in names), names
    assert not any(n.startswith(("bindings/wasm", "crates/tenure-axum", "crates/tenure-redis", "js/"))
                   or n.endswith(".so") for n in names), names
    assert pkg_info["Version"] == version()


def test_the_fresh_venv_runs_the_wheel_without_rust(venv: tuple[Path, dict[str, str]]) -> None:
    py, env = venv
    out = subprocess.run(
        [str(py), "-c",
         "import shutil, tenure, tenure._native as n; from importlib.metadata import version;"
         " m = tenure.SessionManager(); s = m.create(data={'k': b'\\x00'}); m.commit(s);"
         " print(version('tenure'), n.__file__, dict(m.open(s.id)), shutil.which('cargo'))"],
        check=True, capture_output=True, text=True, env=env, cwd=py.parent,
    ).stdout.split(maxsplit=2)
    assert out[0] == version()
    assert out[1].startswith(str(py.parent.parent)), "tenure comes from the fresh venv, not the checkout"
    assert out[2].strip() == "{'k': b'\\x00'} None"


def test_the_readme_quick_start_runs(venv: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    py, env = venv
    (tmp_path / "app.py").write_text(quick_starts()["app.py"])
    port = free_port()
    env = {**env, "SESSION_SECRET": "a quick-start secret of 32+ bytes!"}
    # As the README says: uvicorn app:app (from the app's folder).
    with Server([str(py.parent / "uvicorn"), "app:app", "--port", str(port)], tmp_path, env, port) as server:
        check_quick_start(server, "session")
