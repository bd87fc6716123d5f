"""The npm tarball: what it holds, and the README's JavaScript quick start run from a fresh
project that installed it offline."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Iterator

import pytest

from support import ROOT, Server, artifact, check_quick_start, free_port, quick_starts, version

DEV_MODULES = ROOT / "js" / "node_modules"


@pytest.fixture(scope="module")
def tarball() -> Path:
    return artifact(f"tenure-{version()}.tgz")


@pytest.fixture(scope="module")
def members(tarball: Path) -> dict[str, bytes]:
    with tarfile.open(tarball) as tar:
        return {
            m.name.removeprefix("package/"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers() if m.isfile()
        }


@pytest.fixture(scope="module")
def project(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh npm project with the tarball installed, offline: it needs nothing else."""
    app = tmp_path_factory.mktemp("npm-app")
    (app / "package.json").write_text(json.dumps({"name": "app", "private": True}))
    cache = tmp_path_factory.mktemp("npm-cache")  # empty: nothing can come from the cache
    subprocess.run(
        ["npm", "install", "--offline", "--no-audit", "--no-fund", "--cache", str(cache), str(tarball)],
        cwd=app, check=True, capture_output=True, text=True,
    )
    # The quick start's web framework is the app's own choice, not tenure's dependency; it
    # is linked from the checkout's (locked) node_modules rather than downloaded.
    (app / "node_modules" / "express").symlink_to(DEV_MODULES / "express")
    yield app


def node(app: Path, script: str, *flags: str) -> str:
    out = subprocess.run(["node", *flags, "--input-type=module", "-e", script], cwd=app,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def test_the_tarball_holds_the_package_and_nothing_else(members: dict[str, bytes]) -> None:
    names = set(members)
    wasm = {f"dist/{t}/{f}" for t in ("node", "web") for f in ("tenure_wasm.js", "tenure_wasm_bg.wasm")}
    assert wasm | {"dist/web/api.mjs", "package.json", "README.md", "LICENSE-MIT", "LICENSE-APACHE",
                   "index.d.ts", "express.d.ts", "redis.d.ts", "src/index.cjs", "src/browser.mjs"} <= names
    # Only the package's code, its types and the wasm outputs; no tests, benchmarks,
    # examples, sources maps or the wasm module's internal typings.
    for name in names:
        top = name.split("/")[0]
        assert top in ("src", "dist") or name in ("package.json", "README.md", "LICENSE-MIT", "LICENSE-APACHE") \
            or (name.endswith(".d.ts") and "/" not in name), name
        assert not name.startswith("dist/") or name in wasm | {"dist/web/api.mjs"}, name
        assert not name.startswith("src/") or name.endswith((".cjs", ".mjs")), name
    assert members["README.md"] == (ROOT / "README.md").read_bytes()
    assert members["LICENSE-MIT"] == (ROOT / "LICENSE-MIT").read_bytes()


def test_every_export_points_into_the_tarball(members: dict[str, bytes]) -> None:
    pkg = json.loads(members["package.json"])
    targets: list[str] = [pkg["main"], pkg["types"]]

    def walk(node: object) -> None:
        if isinstance(node, str):
            targets.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(pkg["exports"])
    assert len(targets) > 10
    for target in targets:
        assert target.startswith("./") and target[2:] in members, target


def test_no_runtime_dependencies_only_optional_peers(members: dict[str, bytes]) -> None:
    pkg = json.loads(members["package.json"])
    assert not pkg.get("dependencies") and not pkg.get("optionalDependencies")
    assert set(pkg["peerDependencies"]) == set(pkg["peerDependenciesMeta"])
    assert all(meta == {"optional": True} for meta in pkg["peerDependenciesMeta"].values())
    assert pkg["version"] == version() and pkg["license"] == "MIT OR Apache-2.0"


def test_the_installed_package_is_the_tarball(project: Path) -> None:
    where = node(project, "console.log(import.meta.resolve('tenure'))")
    assert where == (project / "node_modules/tenure/src/index.mjs").as_uri()
    assert not (project / "node_modules/tenure").is_symlink()
    installed = sorted(p.name for p in (project / "node_modules").iterdir() if not p.name.startswith("."))
    assert installed == ["express", "tenure"], "installing tenure brought nothing else"


def test_commonjs_and_esm_entries_work(project: Path) -> None:
    cjs = subprocess.run(
        ["node", "-e", "const t = require('tenure'); const m = new t.SessionManager();"
         " const s = m.create(); s.set('k', 1); m.commit(s); console.log(m.open(s.id).get('k'), m.count())"],
        cwd=project, check=True, capture_output=True, text=True,
    ).stdout.split()
    assert cjs == ["1", "1"]
    esm = node(project, "import { signCookie, unsignCookie } from 'tenure';"
                        " import { redisStore } from 'tenure/redis';"
                        " const s = 'x'.repeat(32); const v = signCookie('abc', s);"
                        " console.log(unsignCookie(v, [s]), typeof redisStore)")
    assert esm.split() == ["abc", "function"]


def test_the_browser_entry_loads_the_web_wasm(project: Path) -> None:
    pkg = project / "node_modules/tenure"
    out = node(project, f"""
        import {{ readFileSync }} from 'node:fs';
        const t = await import({json.dumps((pkg / 'src/browser.mjs').as_uri())});
        await t.init(readFileSync({json.dumps(str(pkg / 'dist/web/tenure_wasm_bg.wasm'))}));
        const m = new t.SessionManager();
        const s = m.create({{ data: {{ theme: 'dark' }} }});
        console.log(m.open(s.id).get('theme'), typeof t.WebStorageStore);
    """)
    assert out.split() == ["dark", "function"]


def test_the_types_resolve_from_the_package(project: Path) -> None:
    (project / "check.ts").write_text(
        "import { SessionManager, ManualClock } from 'tenure';\n"
        "import { session } from 'tenure/express';\n"
        "import { redisStore } from 'tenure/redis';\n"
        "const clock = new ManualClock(0);\n"
        "const m: SessionManager = new SessionManager({ idleTimeout: 1000, clock });\n"
        "const n: number = m.count();\n"
        "export const used = [n, session, redisStore];\n"
        "// @ts-expect-error a misspelled option is a type error\n"
        "new SessionManager({ idleTimout: 1000 });\n"
    )
    result = subprocess.run(
        [str(DEV_MODULES / ".bin/tsc"), "--noEmit", "--strict", "--module", "nodenext",
         "--moduleResolution", "nodenext", "--typeRoots", str(DEV_MODULES / "@types"),
         "--types", "node", "check.ts"],
        cwd=project, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_quick_start_runs(project: Path) -> None:
    (project / "app.mjs").write_text(quick_starts()["app.mjs"])
    port = free_port()
    env = {**os.environ, "PORT": str(port), "SESSION_SECRET": "a quick-start secret of 32+ bytes!"}
    with Server(["node", "app.mjs"], project, env, port) as server:
        check_quick_start(server, "sid")
