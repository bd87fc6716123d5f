"""What the package tests share: where the built packages are, the README's quick starts,
and a quick-start server run as a user would run it and driven over real HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("TENURE_DIST", ROOT / "dist"))

# A quick start is the fenced block right after a `<!-- tests/dist: FILE -->` line.
MARKER = re.compile(r"^<!-- tests/dist: (\S+) -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)


def version() -> str:
    """The one version number: Cargo.toml's [workspace.package] version."""
    with open(ROOT / "Cargo.toml", "rb") as f:
        return str(tomllib.load(f)["workspace"]["package"]["version"])


def quick_starts() -> dict[str, str]:
    """The README's marked code blocks, by the file name each is meant to be saved as."""
    text = (ROOT / "README.md").read_text()
    blocks = {name: body for name, body in MARKER.findall(text)}
    # A marker whose block did not match (a typo in the fence) must not pass unnoticed.
    assert len(blocks) == text.count("<!-- tests/dist: "), "a tests/dist marker without its code block"
    return blocks


def artifact(pattern: str) -> Path:
    """The one file in dist/ matching `pattern` (make test-dist builds them first)."""
    found = sorted(DIST.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST}, found {[p.name for p in found]}"
    return found[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A quick-start server started as a user would start it, on a free port; a context
    manager that kills it on the way out (it keeps nothing worth a graceful stop)."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], port: int) -> None:
        self.port = port
        self.log = cwd / "server.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"{argv} exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.__exit__()
                    raise AssertionError(f"{argv} did not listen on {port}:\n{self.log.read_text()}")
                time.sleep(0.05)

    def request(self, method: str, path: str, cookie: Optional[str] = None) -> tuple[int, str, Optional[str]]:
        """(status, body, the Set-Cookie header's name=value or None)."""
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        if cookie is not None:
            req.add_header("Cookie", cookie)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, body, headers = resp.status, resp.read().decode(), resp.headers
        except urllib.error.HTTPError as err:
            status, body, headers = err.code, err.read().decode(), err.headers
        set_cookie = headers.get("Set-Cookie")
        return status, body, set_cookie.split(";", 1)[0] if set_cookie else None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def check_quick_start(server: Server, cookie_name: str) -> None:
    """The flow both quick starts offer: a view counter kept in a server-side session that
    survives a login, which moves the session to a new id and retires the old one."""
    status, body, first = server.request("GET", "/")
    assert (status, body.replace(" ", "")) == (200, '{"views":1}'), server.log.read_text()
    assert first is not None and first.startswith(cookie_name + "="), first
    status, body, _ = server.request("GET", "/", first)
    assert (status, body.replace(" ", "")) == (200, '{"views":2}')
    status, _, renewed = server.request("POST", "/login", first)
    assert status == 200
    assert renewed is not None and renewed.startswith(cookie_name + "=") and renewed != first
    status, body, _ = server.request("GET", "/", renewed)
    assert (status, body.replace(" ", "")) == (200, '{"views":3}'), "the login kept the data"
    status, body, fresh = server.request("GET", "/", first)
    assert (status, body.replace(" ", "")) == (200, '{"views":1}'), "the old id is retired"
    assert fresh is not None and fresh != first
