"""Runs the request-lifecycle vectors (../lifecycle, format in ../README.md) through the
Python package: the core's decisions through ``tenure._native.WebConfig`` (as the Rust and
Node runners check them), then end to end through ``tenure.asgi`` (sync and async managers)
and ``tenure.flask``, with the vector's sessions stored under their ids and a manual clock
at the vector's ``now``."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Optional

import pytest

import tenure
import tenure.aio
import tenure.asgi
import tenure.flask
from tenure import _native
from tenure.stores import AsyncDictStore, DictStore

FILES = sorted((Path(__file__).parent.parent / "lifecycle").glob("*.json"))
DOCS = [(f.name, json.loads(f.read_text())) for f in FILES]
CASES = [(name, doc, case) for name, doc in DOCS for case in doc["cases"]]
PRELOADED = ["AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB"]


def test_there_are_lifecycle_vectors() -> None:
    assert len(FILES) >= 4 and len(CASES) >= 20


def config(c: dict[str, Any]) -> _native.WebConfig:
    o = c.get("cookie", {})
    kw: dict[str, Any] = {}
    for key in ("name", "secure", "http_only", "same_site"):
        if key in o:
            kw[key] = o[key]
    return _native.WebConfig(
        c["secrets"], transport=c.get("transport", "cookie"), max_age_ms=c.get("max_age"),
        rolling=c.get("rolling", False), save_uninitialized=c.get("save_uninitialized", False), **kw,
    )


def cookie_header(item: Any, name: str, secrets: list[str]) -> str:
    if isinstance(item, str):
        return item
    signed = _native.encode_uri_component(_native.sign_cookie(item[name], secrets[item["secret"]]))
    return f"{name}={signed}"


def authorization(item: Any, secrets: list[str]) -> str:
    if isinstance(item, str):
        return item
    return item.get("scheme", "Bearer ") + _native.sign_token(item["bearer"], secrets[item["secret"]])


def request(case: dict[str, Any], name: str, secrets: list[str]) -> tuple[list[str], Optional[str]]:
    req = case.get("request", {})
    cookies = [cookie_header(c, name, secrets) for c in req.get("cookies", [])]
    auth = req.get("authorization")
    return cookies, None if auth is None else authorization(auth, secrets)


def found_json(i: _native.Incoming) -> dict[str, Any]:
    why: Any = i.why
    if why == "rejected":
        why = {"rejected": {"bearer": i.rejected_bearer, "cookie": i.rejected_cookie}}
    out: dict[str, Any] = {"id": i.id, "had_cookie": i.had_cookie, "why": why}
    if i.id is not None:
        out["source"] = i.source
        out["secret_index"] = i.secret_index
    return out


def expected_set_cookie(exp: dict[str, Any], name: str, secrets: list[str], id: Optional[str] = None) -> Optional[str]:
    sc = exp["set_cookie"]
    if sc is None:
        return None
    if "raw" in sc:
        return str(sc["raw"])
    signed = _native.encode_uri_component(_native.sign_cookie(id or sc["id"], secrets[0]))
    return f"{name}={signed}; {sc['attributes']}"


@pytest.mark.parametrize("name,doc,case", CASES, ids=[f"{n}/{c['name']}" for n, _, c in CASES])
def test_vector_through_the_binding(name: str, doc: dict[str, Any], case: dict[str, Any]) -> None:
    secrets = doc["config"]["secrets"]
    web = config(doc["config"])
    cookies, auth = request(case, web.cookie_name, secrets)
    incoming = web.find(cookies, auth)
    got = found_json(incoming)
    for k, v in case.get("find", {}).items():
        assert got[k] == v, f"find.{k}"
    o = case.get("outcome")
    if o is None:
        return
    h = web.respond(incoming, o["ending"], id=o.get("id"), accessed=o["accessed"],
                    refresh=o.get("refresh", False), now_ms=case.get("now", 0))
    exp = case["response"]
    assert h.vary == exp["vary"]
    assert h.reason == exp["reason"]
    assert h.set_cookie == expected_set_cookie(exp, web.cookie_name, secrets)


@pytest.mark.parametrize("name,doc", DOCS, ids=[n for n, _ in DOCS])
def test_keep_new(name: str, doc: dict[str, Any]) -> None:
    web = config(doc["config"])
    for k in doc.get("keep_new", []):
        assert web.keep_new(k["initialized"]) is k["expect"]


# -- end to end ----------------------------------------------------------------------------


def drivable(case: dict[str, Any], flask: bool = False) -> bool:
    o = case.get("outcome")
    if o is None:
        return False
    opened = case.get("find", {}).get("id")
    ending = o["ending"]
    if ending == "kept":
        return bool(opened == o["id"])
    if ending in ("gone", "regenerated"):
        return opened is not None
    if ending == "created":
        return opened is None
    return True


def record(id: str, now: int) -> bytes:
    return json.dumps({"v": 1, "id": id, "created": now, "accessed": now, "idle": None, "absolute": None,
                       "principal": None, "version": 1, "data": {"n": 1}}).encode()


def check(case: dict[str, Any], name: str, secrets: list[str], vary: Optional[str], set_cookies: list[str]) -> None:
    exp = case["response"]
    assert vary == exp["vary"], "vary"
    if exp["set_cookie"] is None:
        assert set_cookies == [], "no Set-Cookie"
        return
    assert len(set_cookies) == 1, set_cookies
    minted = None
    if exp["reason"] in ("created", "regenerated"):
        m = re.match(r"^[^=]+=s%3A([A-Za-z0-9_-]+)\.", set_cookies[0])
        assert m, set_cookies[0]
        minted = m.group(1)
        assert minted not in PRELOADED, "a freshly minted id"
    assert set_cookies[0] == expected_set_cookie(exp, name, secrets, minted)


E2E = [(n, d, c) for n, d, c in CASES if drivable(c)]


@pytest.mark.parametrize("driver", ["sync", "aio"])
@pytest.mark.parametrize("name,doc,case", E2E, ids=[f"{n}/{c['name']}" for n, _, c in E2E])
def test_vector_through_asgi(name: str, doc: dict[str, Any], case: dict[str, Any], driver: str) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    c = doc["config"]
    secrets = c["secrets"]
    now = case.get("now", 0)
    clock = tenure.ManualClock(now / 1000)
    manager: Any
    if driver == "sync":
        store: Any = DictStore()
        manager = tenure.SessionManager(store=store, clock=clock, idle_timeout=None, absolute_timeout=None)
    else:
        store = AsyncDictStore()
        manager = tenure.aio.SessionManager(store=store, clock=clock, idle_timeout=None, absolute_timeout=None)
    for sid in PRELOADED:
        store.data[sid] = record(sid, now)
    o = case["outcome"]

    async def handler(request: Request) -> PlainTextResponse:
        # Not request.session: as in Starlette, using it marks the session accessed.
        s = request.scope["session"]
        ending = o["ending"]
        if ending == "no_session" and o["accessed"]:
            s.get("anything")
        elif ending == "kept":
            if o["accessed"]:
                s.get("n")
            if o.get("refresh"):
                s.modified = True
        elif ending == "created":
            s["n"] = 2
        elif ending == "regenerated":
            s["n"] = 2
            tenure.asgi.regenerate(request)
        elif ending == "destroyed":
            tenure.asgi.destroy(request)
        elif ending == "gone":
            s["n"] = 3
            gone = manager.destroy(s.id)  # another request logs everyone out meanwhile
            if asyncio.iscoroutine(gone):
                await gone
        return PlainTextResponse("ok")

    cookie = c.get("cookie", {})
    name = cookie.get("name", "sid")
    max_age = c.get("max_age")
    app = Starlette(routes=[Route("/", handler)])
    app.add_middleware(
        tenure.asgi.SessionMiddleware, secret_key=secrets, session_cookie=name,
        max_age=None if max_age is None else max_age / 1000, https_only=cookie.get("secure", True),
        same_site=cookie.get("same_site", "lax"), manager=manager, transport=c.get("transport", "cookie"),
        rolling=c.get("rolling", False), save_uninitialized=c.get("save_uninitialized", False),
    )
    cookies, auth = request(case, name, secrets)
    headers = {}
    if cookies:
        headers["cookie"] = "; ".join(cookies)
    if auth is not None:
        headers["authorization"] = auth
    r = TestClient(app).get("/", headers=headers)
    assert r.status_code == 200, r.text
    check(case, name, secrets, r.headers.get("vary"), r.headers.get_list("set-cookie"))


FLASK = [(n, d, c) for n, d, c in E2E
         if d["config"].get("max_age") is None and not d["config"].get("save_uninitialized")]


@pytest.mark.parametrize("name,doc,case", FLASK, ids=[f"{n}/{c['name']}" for n, _, c in FLASK])
def test_vector_through_flask(name: str, doc: dict[str, Any], case: dict[str, Any]) -> None:
    from flask import Flask, session

    c = doc["config"]
    secrets = c["secrets"]
    now = case.get("now", 0)
    store = DictStore()
    for sid in PRELOADED:
        store.data[sid] = record(sid, now)
    manager = tenure.SessionManager(store=store, clock=tenure.ManualClock(now / 1000),
                                    idle_timeout=None, absolute_timeout=None)
    cookie = c.get("cookie", {})
    name = cookie.get("name", "sid")
    app = Flask(__name__)
    app.secret_key = secrets[0]
    app.config.update(SECRET_KEY_FALLBACKS=secrets[1:], SESSION_COOKIE_NAME=name,
                      SESSION_COOKIE_SECURE=cookie.get("secure", True),
                      SESSION_COOKIE_SAMESITE=cookie.get("same_site", "lax").capitalize())
    # Flask's SESSION_COOKIE_SECURE = False is its default, not a choice: tenure.flask sends
    # Secure unless told secure=False.
    app.session_interface = tenure.flask.SessionInterface(manager, transport=c.get("transport", "cookie"),
                                                          rolling=c.get("rolling", False),
                                                          secure=cookie.get("secure", True))
    o = case["outcome"]

    @app.route("/")
    def handler() -> str:
        ending = o["ending"]
        if ending == "no_session" and o["accessed"]:
            session.get("anything")
        elif ending == "kept":
            if o["accessed"]:
                session.get("n")
            if o.get("refresh"):
                session.modified = True
        elif ending == "created":
            session["n"] = 2
        elif ending == "regenerated":
            session["n"] = 2
            tenure.flask.regenerate()
        elif ending == "destroyed":
            tenure.flask.destroy()
        elif ending == "gone":
            session["n"] = 3
            manager.destroy(session.id)
        return "ok"

    cookies, auth = request(case, name, secrets)
    headers = {}
    if auth is not None:
        headers["Authorization"] = auth
    # Werkzeug's test client sends only its own cookie jar: call the WSGI app directly.
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    environ = EnvironBuilder(path="/", headers=headers).get_environ()
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(cookies)
    body, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("200"), b"".join(body)
    check(case, name, secrets, response_headers.get("Vary"), response_headers.getlist("Set-Cookie"))


def test_bad_arguments_are_clear_errors() -> None:
    good = "x" * 32
    with pytest.raises(tenure.InvalidPolicy, match="32"):
        _native.WebConfig(["short"])
    with pytest.raises(tenure.InvalidPolicy, match="transport"):
        _native.WebConfig(good, transport="cookies")
    with pytest.raises(tenure.InvalidValue, match="__Host-"):
        _native.WebConfig(good, name="__Host-sid", secure=False)
    with pytest.raises(tenure.InvalidValue, match="same_site"):
        _native.WebConfig(good, same_site="sometimes")
    with pytest.raises(OverflowError, match="negative"):
        _native.WebConfig(good, max_age_ms=-1)
    with pytest.raises(TypeError, match="secret"):
        _native.WebConfig([3])  # type: ignore[list-item]
    web = _native.WebConfig(good)
    with pytest.raises(TypeError, match="cookie_headers"):
        web.find(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cookie_headers"):
        web.find(["a=1", 7])  # type: ignore[list-item]
    none = web.find(None)
    with pytest.raises(tenure.InvalidValue, match="vanished"):
        web.respond(none, "vanished", now_ms=0)
    with pytest.raises(tenure.InvalidValue, match="id="):
        web.respond(none, "created", now_ms=0)
    with pytest.raises(tenure.LimitExceeded):
        web.respond(none, "created", id="A" * 5000, now_ms=0)
    with pytest.raises(OverflowError):
        web.respond(none, "no_session", now_ms=-5)
    assert web.respond(none, "no_session", accessed=True, now_ms=0).vary == "Cookie"
    assert web.respond(none, "no_session", now_ms=0).vary is None


def test_keep_new_session_asks_the_core() -> None:
    m = tenure.SessionManager()
    web = _native.WebConfig("x" * 32)
    s = m.create()
    assert web.keep_new_session(s) is False and web.keep_new_session(s._native) is False
    s.flash("info", "hi")
    assert web.keep_new_session(s) is True, "a flash message is something to keep"
    t = m.create()
    t.principal = "ann"
    assert web.keep_new_session(t) is True
    assert _native.WebConfig("x" * 32, save_uninitialized=True).keep_new_session(m.create()) is True
    with pytest.raises(TypeError, match="tenure.Session, not dict"):
        web.keep_new_session({})


def test_reprs_read_as_python() -> None:
    web = _native.WebConfig("x" * 32)
    i = web.find(None, None)
    assert repr(i) == 'Incoming(id=None, source=None, secret_index=None, had_cookie=False, why="no_credentials")'
    h = web.respond(i, "no_session", accessed=True, now_ms=0)
    assert repr(h) == 'ResponseHeaders(vary="Cookie", set_cookie=None, reason=None)'


def test_one_lifetime_the_cookie_max_age_sets_the_server_timeouts() -> None:
    day = 24 * 60 * 60 * 1000
    good = "x" * 32
    assert _native.WebConfig(good).server_timeouts() == (30 * 60 * 1000, 12 * 60 * 60 * 1000)
    month = _native.WebConfig(good, max_age_ms=30 * day)
    assert month.server_timeouts() == (30 * day, 30 * day)
    month.check_timeouts(30 * day)
    month.check_timeouts(None)
    with pytest.raises(tenure.InvalidPolicy, match="2592000000 ms.*1800000 ms"):
        month.check_timeouts(30 * 60 * 1000)
