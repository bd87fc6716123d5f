"""The peers' own session tests, run against tenure's adapters: Starlette's
``tests/middleware/test_session.py`` through ``tenure.asgi.SessionMiddleware`` and the
session tests of Flask's ``tests/test_basic.py`` through ``tenure.flask.SessionInterface``,
from the sdists of the pinned versions (``python/requirements-dev.txt``), which ship their
tests. ``make test-python`` downloads them once into ``.tools/peer-sdists``
(``TENURE_PEER_SDISTS``); run alone, this test downloads them there itself.

Each suite runs in a subprocess with a small shim plugin (``peer_suites/``) that swaps in
tenure's adapter and pads the peers' short test secrets (tenure wants ≥ 32 bytes). Every
test that fails does so on purpose, for a documented difference (docs/python.md,
"Differences from Starlette / starsessions / Flask"), listed below with its reason: a new
failure, or a listed one that starts passing, fails this test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parent.parent
SHIMS = HERE / "peer_suites"

#: Starlette's tests that fail against tenure.asgi, and why.
STARLETTE_DIFFERENCES = {
    "test_session_expires[asyncio]":
        "max_age=-1 is refused at start-up (InvalidPolicy naming max_age); Starlette accepts it "
        "and sends cookies that are already expired",
    "test_partitioned_session[asyncio-True]":
        "the attribute is sent as 'Partitioned' (attribute names are case-insensitive, RFC 6265 "
        "5.2); the test looks for lowercase 'partitioned'",
    "test_session_cookie_subpath[asyncio]":
        "the cookie says 'Path=/second_app' (the path is right); the test's regex wants lowercase "
        "'path='",
    "test_domain_cookie[asyncio]":
        "the cookie says 'Domain=.example.com' (the domain is right); the test wants lowercase "
        "'domain='",
}
#: Starlette's tests not run: they don't go through the middleware.
STARLETTE_NOT_RUN = {
    "test_session_tracks_modification": "a unit test of Starlette's own Session class",
}
STARLETTE_PASSING = 10

#: Flask's session tests that fail against tenure.flask, and why.
FLASK_DIFFERENCES = {
    "test_session_using_session_settings":
        "the cookie keeps the configured 'Domain=.example.com' (browsers ignore the leading dot, "
        "RFC 6265 5.2.3), which Werkzeug's test client doesn't match to www.example.com, so the "
        "second request carries no cookie and gets no clearing one",
    "test_session_using_samesite_attribute":
        "SESSION_COOKIE_SAMESITE = None (Flask's default) still sends SameSite=Lax (OWASP ASVS "
        "3.4.3); same_site=None on the interface leaves it out",
    "test_session_special_types":
        "exact types: tuples come back as lists, and UUID, datetime (and Markup, as str) are "
        "refused at write (InvalidType) instead of tagged",
    "test_extended_flashing":
        "flashed (category, message) pairs are stored as lists and come back as lists, not tuples",
}
FLASK_PASSING = 11


def sdists() -> Path:
    """The folder holding the pinned sdists, downloaded with pip if they are missing."""
    folder = Path(os.environ.get("TENURE_PEER_SDISTS") or REPO / ".tools" / "peer-sdists")
    wanted = [f"starlette=={version('starlette')}", f"flask=={version('flask')}"]
    if not all(archive(folder, spec) for spec in wanted):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                        "--no-binary", ":all:", "--no-deps", "-d", str(folder), *wanted], check=True)
    return folder


def archive(folder: Path, spec: str) -> Path | None:
    name, _, v = spec.partition("==")
    found = sorted(folder.glob(f"{name.lower()}-{v}.tar.gz"))
    return found[0] if found else None


def run_suite(tmp_path: Path, spec: str, args: list[str], shim: str) -> dict[str, str]:
    """Runs the peer's tests with the shim; the outcome of each test by name."""
    tar = archive(sdists(), spec)
    assert tar is not None, f"{spec} was not downloaded"
    with tarfile.open(tar) as t:
        # The "data" filter where this Python has it (3.12, and 3.9-3.11 security releases).
        t.extractall(tmp_path, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    root = next(tmp_path.iterdir())
    report = tmp_path / "report.xml"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SHIMS), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", shim, "-p", "no:cacheprovider",
         f"--junitxml={report}", "-q"],
        cwd=root, env=env, capture_output=True, text=True, timeout=600,
    )
    assert report.exists(), proc.stdout + proc.stderr
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        outcome = "failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "passed"
        outcomes[case.get("name", "?")] = outcome
    return outcomes


def check(outcomes: dict[str, str], differences: dict[str, str], passing: int) -> None:
    failed = {name for name, o in outcomes.items() if o == "failed"}
    skipped = {name for name, o in outcomes.items() if o == "skipped"}
    assert not skipped, f"skipped: {sorted(skipped)}"
    assert failed == set(differences), (
        f"new failures: {sorted(failed - set(differences))}; "
        f"listed differences that now pass: {sorted(set(differences) - failed)}"
    )
    assert sum(o == "passed" for o in outcomes.values()) == passing


def test_starlettes_session_tests_against_tenure_asgi(tmp_path: Path) -> None:
    deselect = [f"--deselect=tests/middleware/test_session.py::{t}" for t in STARLETTE_NOT_RUN]
    outcomes = run_suite(tmp_path, f"starlette=={version('starlette')}",
                         ["tests/middleware/test_session.py", *deselect], "tenure_starlette_shim")
    check(outcomes, STARLETTE_DIFFERENCES, STARLETTE_PASSING)


def test_flasks_session_tests_against_tenure_flask(tmp_path: Path) -> None:
    outcomes = run_suite(tmp_path, f"flask=={version('flask')}",
                         ["tests/test_basic.py", "-k", "session or flash"], "tenure_flask_shim")
    check(outcomes, FLASK_DIFFERENCES, FLASK_PASSING)
