"""The 35-sessions sample workflow over real HTTP, against the Node, the Python and the Rust
(axum) server, and one session handed between them through one FileStore folder.

Each server is started here as a subprocess on a free port; nothing needs to be running.
Only the standard library is used on the client side.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "demo-secret-for-tests-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KINDS = ["node", "python", "rust"]


def server_command(kind: str) -> list[str]:
    if kind == "node":
        return ["node", str(ROOT / "js/examples/sessions/server.mjs")]
    if kind == "rust":
        # Built by `make test-interop` (cargo build -p tenure-axum --example demo).
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        binary = target / "debug/examples/demo"
        if not binary.exists():
            raise RuntimeError(f"{binary} is missing: run cargo build -p tenure-axum --example demo")
        return [str(binary)]
    return [sys.executable, str(ROOT / "python/examples/sessions/server.py")]


class Server:
    def __init__(self, kind: str, store_dir: str | None = None, redis_url: str | None = None):
        self.kind = kind
        self.port = free_port()
        env = dict(os.environ, PORT=str(self.port), TENURE_SECRET=SECRET, HOST="127.0.0.1")
        env.pop("REDIS_URL", None)
        if store_dir:
            env["STORE_DIR"] = store_dir
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.proc = subprocess.Popen(
            server_command(kind), env=env, cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{kind} server exited: {self.proc.stdout.read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{kind} server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def call(self, path: str, body=None, token: str | None = None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps({} if body is None else body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/root/{path}", data=data, method="POST",
            headers={"Content-Type": "application/json"},
        )
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null"), r.headers
        except urllib.error.HTTPError as e:
            body = e.read() or b"null"
            try:
                return e.code, json.loads(body), e.headers
            except ValueError:
                # A server error page of the framework's own (e.g. the store is down).
                return e.code, body.decode(errors="replace"), e.headers

    def login(self, user: str, password: str) -> str:
        status, body, headers = self.call(
            f"Auth?UserName={user}", {"UserName": user, "PassWord": password})
        assert status == 200, body
        assert body["user"] == user
        assert isinstance(body["session"], str) and len(body["session"]) >= 22
        assert "Set-Cookie" in headers
        return body["session"]


@pytest.fixture(params=KINDS)
def server(request):
    s = Server(request.param)
    yield s
    s.stop()


def test_the_sample_workflow(server: Server):
    u1 = server.login("user1", "pass1")                                      # 1
    u2 = server.login("user2", "pass2")                                      # 2
    assert u1 != u2
    assert server.call("CartApi.AddItem", {"itemId": "item1", "quantity": 2}, u1)[0] == 200  # 3
    assert server.call("CartApi.AddItem", {"itemId": "item2", "quantity": 1}, u1)[0] == 200
    assert server.call("CartApi.AddItem", {"itemId": "item3", "quantity": 3}, u2)[0] == 200  # 4
    status, cart, _ = server.call("CartApi.GetCart", {}, u1)                # 5
    assert status == 200
    assert cart == {
        "items": [
            {"item_id": "item1", "quantity": 2, "price": 10.5, "subtotal": 21.0},
            {"item_id": "item2", "quantity": 1, "price": 25.0, "subtotal": 25.0},
        ],
        "total": 46.0,
        "item_count": 2,
    }
    status, cart, _ = server.call("CartApi.GetCart", {}, u2)                # 6
    assert cart == {
        "items": [{"item_id": "item3", "quantity": 3, "price": 15.75, "subtotal": 47.25}],
        "total": 47.25,
        "item_count": 1,
    }
    status, body, _ = server.call("SessionApi.SetValue", {"key": "name", "value": "John"}, u1)  # 7
    assert (status, body) == (200, {"key": "name", "value": "John"})
    for n in (1, 2, 3):                                                      # 8
        status, body, _ = server.call("SessionApi.IncrementCounter", {"key": "page_views"}, u1)
        assert (status, body) == (200, {"key": "page_views", "value": n})
    status, body, _ = server.call("SessionApi.ListActiveSessions", {}, u1)  # 9
    assert status == 200
    users = sorted(s["user"] for s in body["sessions"])
    assert users == ["user1", "user2"] and body["count"] == 2
    for s in body["sessions"]:
        assert s["id"] not in (u1, u2)
        assert server.call("SessionApi.ListKeys", {}, s["id"])[0] == 401, "a public id is no token"

    # Isolation and the rest of SessionApi.
    assert server.call("SessionApi.GetValue", {"key": "name"}, u1)[1] == {"key": "name", "value": "John"}
    assert server.call("SessionApi.GetValue", {"key": "name"}, u2)[0] == 404
    assert server.call("SessionApi.ListKeys", {}, u1)[1] == {"keys": ["name", "page_views"]}
    status, info, _ = server.call("SessionApi.SessionInfo", {}, u1)
    assert info["user"] == "user1" and info["expires_at"] > info["last_access"] >= info["created"]
    assert server.call("SessionApi.DeleteValue", {"key": "name"}, u1)[1] == {"key": "name", "deleted": True}
    assert server.call("SessionApi.DeleteValue", {"key": "name"}, u1)[1] == {"key": "name", "deleted": False}
    assert server.call("SessionApi.ClearSession", {}, u1)[1] == {"cleared": True}
    assert server.call("SessionApi.ListKeys", {}, u1)[1] == {"keys": []}
    assert server.call("CartApi.GetTotal", {}, u1)[1] == {"total": 46.0}
    assert server.call("CartApi.RemoveItem", {"itemId": "item1"}, u1)[1]["total"] == 25.0
    assert server.call("CartApi.ClearCart", {}, u1)[1] == {"items": [], "total": 0, "item_count": 0}

    # Logout destroys the session: the token is dead afterwards.
    assert server.call("Logout", {}, u2)[0] == 200
    assert server.call("CartApi.GetCart", {}, u2)[0] == 401


def test_errors_change_nothing(server: Server):
    assert server.call("Auth?UserName=user1", {"UserName": "user1", "PassWord": "nope"})[0] == 401
    assert server.call("Auth?UserName=user1", {"UserName": "mallory", "PassWord": "pass1"})[0] == 401
    # An unknown user without a password (None == None must not let anyone in), and a known
    # user without one.
    for body in ({"UserName": "admin"}, {"UserName": "admin", "PassWord": None},
                 {"UserName": "user1"}, {"UserName": "user1", "PassWord": None},
                 {"UserName": "toString", "PassWord": None}, {"UserName": "__proto__"}):
        status, reply, _ = server.call("Auth", body)
        assert status == 401, (body, reply)
    tok = server.login("user1", "pass1")
    assert server.call("SessionApi.ListKeys", {})[0] == 401
    assert server.call("SessionApi.ListKeys", {}, "not-a-token")[0] == 401
    assert server.call("SessionApi.ListKeys", {}, tok[:-2] + "AA")[0] == 401
    status, body, _ = server.call("SessionApi.SetValue", None, tok, raw=b"{nope")
    assert status == 400 and "error" in body
    status, body, _ = server.call("SessionApi.SetValue", {"value": 1}, tok)
    assert status == 400 and "key" in body["error"]
    status, body, _ = server.call("CartApi.AddItem", {"itemId": "item1", "quantity": 0}, tok)
    assert status == 400 and "quantity" in body["error"]
    for bad in (-1, 1.5, "2", None):
        assert server.call("CartApi.AddItem", {"itemId": "item1", "quantity": bad}, tok)[0] == 400
    assert server.call("CartApi.AddItem", {"itemId": "item9", "quantity": 1}, tok)[0] == 404
    assert server.call("CartApi.AddItem", {"quantity": 1}, tok)[0] == 400
    assert server.call("CartApi.RemoveItem", {"itemId": "item1"}, tok)[0] == 404
    assert server.call("CartApi.GetCart", {}, tok)[1] == {"items": [], "total": 0, "item_count": 0}
    assert server.call("SessionApi.ListKeys", {}, tok)[1] == {"keys": []}
    assert server.call("SessionApi.Nope", {}, tok)[0] == 404


def test_bodies_over_the_limit_are_413_and_nesting_past_the_parser_400(server: Server):
    tok = server.login("user1", "pass1")
    # Over the demos' 1 MiB body limit: 413 (Node answered 500, Python read any size).
    big = json.dumps({"key": "k", "value": "x" * (1024 * 1024)}).encode()
    status, body, _ = server.call("SessionApi.SetValue", None, tok, raw=big)
    assert status == 413 and "larger than 1048576 bytes" in body["error"], (status, body)
    # Within it but over the session's max_data_bytes: the session's own refusal, a 400.
    status, body, _ = server.call("SessionApi.SetValue", {"key": "k", "value": "x" * 300_000}, tok)
    assert status == 400 and "max_data_bytes" in body["error"], (status, body)
    # Nested far past Python's recursion limit (a RecursionError, a 500, before) and past
    # max_depth: a 400 from every server.
    deep = b'{"key": "d", "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, body, _ = server.call("SessionApi.SetValue", None, tok, raw=deep)
    assert status == 400 and "error" in body, (status, body)
    status, body, _ = server.call("SessionApi.SetValue", {"key": "d", "value": nested(40)}, tok)
    assert status == 400 and "max_depth" in body["error"], (status, body)
    assert server.call("SessionApi.ListKeys", {}, tok)[1] == {"keys": []}


def nested(depth: int) -> object:
    v: object = 1
    for _ in range(depth):
        v = [v]
    return v


def test_list_active_sessions_is_paginated(server: Server):
    tokens = [server.login(f"user{1 + i % 2}", f"pass{1 + i % 2}") for i in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        status, body, _ = server.call("SessionApi.ListActiveSessions", {"cursor": cursor, "limit": 2}, tokens[0])
        assert status == 200, body
        assert len(body["sessions"]) <= 2 and body["count"] == len(body["sessions"])
        seen += [s["id"] for s in body["sessions"]]
        cursor = body["cursor"]
        if cursor is None:
            break
    assert cursor is None, "the listing ends"
    assert len(seen) == len(set(seen)) == 5
    # One page by default, with no cursor when it is the last.
    status, body, _ = server.call("SessionApi.ListActiveSessions", {}, tokens[0])
    assert status == 200 and body["count"] == 5 and body["cursor"] is None
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "2"}, {"limit": 1.5}, {"cursor": 3}):
        status, body, _ = server.call("SessionApi.ListActiveSessions", bad, tokens[0])
        assert status == 400, (bad, body)


def test_login_as_another_user_starts_from_empty_data(server: Server):
    tok = server.login("user1", "pass1")
    assert server.call("CartApi.AddItem", {"itemId": "item1", "quantity": 2}, tok)[0] == 200
    assert server.call("SessionApi.SetValue", {"key": "name", "value": "John"}, tok)[0] == 200
    # user2 logs in on the same session (its token is sent along): a new id, and nothing of
    # user1's.
    status, body, _ = server.call("Auth?UserName=user2", {"UserName": "user2", "PassWord": "pass2"}, tok)
    assert status == 200 and body["user"] == "user2"
    tok2 = body["session"]
    assert tok2 != tok
    assert server.call("SessionApi.ListKeys", {}, tok2)[1] == {"keys": []}
    assert server.call("CartApi.GetCart", {}, tok2)[1] == {"items": [], "total": 0, "item_count": 0}


def test_concurrent_increments_all_count(server: Server):
    tok = server.login("user1", "pass1")
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(
            lambda _: server.call("SessionApi.IncrementCounter", {"key": "hits"}, tok)[1]["value"],
            range(50)))
    assert sorted(results) == list(range(1, 51))


@pytest.mark.parametrize("first, second", [
    (a, b) for a in KINDS for b in KINDS if a != b
])
def test_a_token_from_one_server_works_in_the_other_through_one_file_store(first, second):
    """Two of Node, Python and Rust over one FileStore folder: one session, one set of rules."""
    with tempfile.TemporaryDirectory() as store:
        one, two = Server(first, store), Server(second, store)
        try:
            tok = one.login("user1", "pass1")
            assert one.call("SessionApi.SetValue", {"key": "lang", "value": ["en", 1, True]}, tok)[0] == 200
            assert two.call("SessionApi.GetValue", {"key": "lang"}, tok)[1] == {"key": "lang", "value": ["en", 1, True]}
            assert two.call("SessionApi.IncrementCounter", {"key": "n"}, tok)[1]["value"] == 1
            assert one.call("SessionApi.IncrementCounter", {"key": "n"}, tok)[1]["value"] == 2
            assert two.call("SessionApi.SessionInfo", {}, tok)[1]["user"] == "user1"
            tok2 = two.login("user2", "pass2")
            assert one.call("SessionApi.ListKeys", {}, tok2)[1] == {"keys": []}
            assert two.call("Logout", {}, tok)[0] == 200
            assert one.call("SessionApi.ListKeys", {}, tok)[0] == 401
        finally:
            one.stop()
            two.stop()


@pytest.mark.parametrize(
    "writer,reader",
    [("python", "node"), ("python", "rust"), ("node", "python"), ("node", "rust"), ("rust", "node")],
)
def test_an_integer_beyond_2_to_the_53_reads_back_exactly_whoever_wrote_it(writer: str, reader: str):
    """Every server takes and keeps 64-bit integers: Python's and Rust's JSON do; Node parses
    request bodies keeping an integer beyond 2^53 as a BigInt (JSON.parse would round it to
    the nearest double) and answers with stringifyJson, the exact digits (res.json throws)."""
    with tempfile.TemporaryDirectory() as store:
        first, other = Server(writer, store), Server(reader, store)
        try:
            tok = first.login("user1", "pass1")
            values = {"big": 2**60 + 1, "min": -(2**63), "max": 2**63 - 1, "list": [2**53 + 1, {"n": -(2**55) - 3}]}
            for key, value in values.items():
                assert first.call("SessionApi.SetValue", {"key": key, "value": value}, tok)[0] == 200
            for server in (first, other):
                for key, value in values.items():
                    status, body, _ = server.call("SessionApi.GetValue", {"key": key}, tok)
                    assert status == 200, body
                    assert body == {"key": key, "value": value}
                    assert type(body["value"]) is type(value)
        finally:
            first.stop()
            other.stop()


def test_one_session_through_all_three_servers():
    """Rust, Node and Python on one folder: each change lands, wherever it was made."""
    with tempfile.TemporaryDirectory() as store:
        servers = {k: Server(k, store) for k in KINDS}
        try:
            rust, node, python = servers["rust"], servers["node"], servers["python"]
            tok = rust.login("user2", "pass2")
            assert node.call("SessionApi.SetValue", {"key": "from", "value": {"node": [1.5, None]}}, tok)[0] == 200
            for i, s in enumerate([python, rust, node, python, rust, node]):
                assert s.call("SessionApi.IncrementCounter", {"key": "n"}, tok)[1] == {"key": "n", "value": i + 1}
            assert rust.call("SessionApi.GetValue", {"key": "from"}, tok)[1] == {
                "key": "from", "value": {"node": [1.5, None]}}
            assert python.call("SessionApi.ListKeys", {}, tok)[1] == {"keys": ["from", "n"]}
            # Concurrent increments spread over the three servers all count.
            with ThreadPoolExecutor(max_workers=9) as pool:
                list(pool.map(
                    lambda i: [rust, node, python][i % 3].call("SessionApi.IncrementCounter", {"key": "c"}, tok),
                    range(30)))
            assert node.call("SessionApi.GetValue", {"key": "c"}, tok)[1]["value"] == 30
            info = python.call("SessionApi.ListActiveSessions", {}, tok)[1]
            assert [s["user"] for s in info["sessions"]] == ["user2"]
            assert node.call("Logout", {}, tok)[0] == 200
            for s in (rust, python):
                assert s.call("SessionApi.ListKeys", {}, tok)[0] == 401
        finally:
            for s in servers.values():
                s.stop()


def test_rust_cookie_transport_logout_clears_the_cookie_and_varies():
    """The axum layer's headers over real HTTP: a login cookie, Vary, and a clearing cookie."""
    server = Server("rust")
    try:
        status, body, headers = server.call(
            "Auth?UserName=user1", {"UserName": "user1", "PassWord": "pass1"})
        assert status == 200
        cookie = headers["Set-Cookie"].split(";")[0]
        assert cookie.startswith("sid=s%3A")
        assert headers["Vary"] == "Cookie, Authorization"
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/root/Logout", data=b"{}", method="POST",
            headers={"Content-Type": "application/json", "Cookie": cookie})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
            cleared = r.headers["Set-Cookie"]
        assert cleared.startswith("sid=;") and "Max-Age=0" in cleared
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/root/SessionApi.ListKeys", data=b"{}", method="POST",
            headers={"Content-Type": "application/json", "Cookie": cookie})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401
    finally:
        server.stop()
