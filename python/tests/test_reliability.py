"""Issue #16 (reliability and security): defaults, option checking, a change of user, sweeping."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, jsonify, session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import tenure
import tenure.aio
import tenure.asgi
import tenure.flask

from conftest import SECRET


def test_absolute_timeout_defaults_to_12_hours(clock):
    assert tenure.SessionManager(clock=clock).create().absolute_timeout == timedelta(hours=12)
    s = asyncio.run(tenure.aio.SessionManager(clock=clock).create())
    assert s.absolute_timeout == timedelta(hours=12)


def test_unknown_options_are_refused_by_name(manager):
    with pytest.raises(TypeError, match="idel_timeout"):
        tenure.SessionManager(idel_timeout=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="idel_timeout"):
        tenure.aio.SessionManager(idel_timeout=5)  # type: ignore[call-arg]
    app = Starlette()
    with pytest.raises(TypeError, match="idel_timeout"):
        tenure.asgi.SessionMiddleware(app, SECRET, idel_timeout=5)
    # Next to a manager of one's own, policy options would be ignored: refused too.
    with pytest.raises(TypeError, match="idle_timeout"):
        tenure.asgi.SessionMiddleware(app, SECRET, manager=manager, idle_timeout=5)
    with pytest.raises(TypeError, match="idel_timeout"):
        tenure.flask.SessionInterface(idel_timeout=5)
    with pytest.raises(TypeError, match="idle_timeout"):
        tenure.flask.SessionInterface(manager, idle_timeout=5)


def test_negative_max_age_is_refused_at_start_up(manager):
    with pytest.raises(tenure.InvalidPolicy, match="max_age"):
        tenure.asgi.SessionMiddleware(Starlette(), SECRET, manager=manager, max_age=-1)
    app = Flask(__name__)
    app.secret_key = SECRET
    app.permanent_session_lifetime = timedelta(seconds=-5)
    app.session_interface = tenure.flask.SessionInterface(manager)
    with pytest.raises(tenure.InvalidPolicy, match="PERMANENT_SESSION_LIFETIME"):
        app.session_interface.open_session(app, None)  # type: ignore[arg-type]


def flask_app(interface: tenure.flask.SessionInterface, **config: Any) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
    # Flask accepts a session for PERMANENT_SESSION_LIFETIME: the managers here keep them 30 min.
    app.permanent_session_lifetime = timedelta(minutes=30)
    app.config.update(config)
    app.session_interface = interface

    @app.route("/set")
    def set_():  # type: ignore[no-untyped-def]
        session["k"] = 1
        return jsonify(ok=True)

    @app.route("/login/<user>")
    def login(user: str):  # type: ignore[no-untyped-def]
        session.principal = user  # type: ignore[attr-defined]
        tenure.flask.regenerate()
        return jsonify(keys=sorted(session.keys()))

    return app


def test_flask_cookies_are_secure_and_same_site_by_default(manager):
    cookie = flask_app(tenure.flask.SessionInterface(manager)).test_client().get("/set").headers["Set-Cookie"]
    assert "; Secure" in cookie and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    # Flask's own settings are honoured when they say something; secure=False is explicit.
    cookie = flask_app(tenure.flask.SessionInterface(manager), SESSION_COOKIE_SAMESITE="Strict").test_client() \
        .get("/set").headers["Set-Cookie"]
    assert "SameSite=Strict" in cookie and "; Secure" in cookie
    cookie = flask_app(tenure.flask.SessionInterface(manager, secure=False, same_site=None)).test_client() \
        .get("/set").headers["Set-Cookie"]
    assert "Secure" not in cookie and "SameSite" not in cookie


def test_a_change_of_user_clears_the_previous_users_data(manager):
    s = manager.create()
    s["cart"] = ["book"]
    s.principal = "alice"
    assert s["cart"] == ["book"], "an anonymous cart survives the first login"
    s["cart"].append("ring")
    s["cart"] = ["ring"]
    manager.commit(s)
    s.principal = "bob"
    assert dict(s) == {}
    manager.regenerate(s)
    assert dict(manager.peek(s.id)) == {}
    s["k"] = 1
    s.set_principal("carol", keep_data=True)
    assert s["k"] == 1


def test_flask_login_as_another_user_starts_empty(manager):
    c = flask_app(tenure.flask.SessionInterface(manager)).test_client()
    c.get("/set")
    assert c.get("/login/alice").json == {"keys": ["k"]}
    c.get("/set")
    assert c.get("/login/bob").json == {"keys": []}


def asgi_app(manager: Any, **options: Any) -> Starlette:
    async def set_(request: Request) -> JSONResponse:
        request.session["k"] = 1
        return JSONResponse({})

    app = Starlette(routes=[Route("/set", set_)])
    options.setdefault("max_age", None)
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, manager=manager, **options)
    return app


@pytest.mark.parametrize("kind", ["sync", "aio"])
def test_asgi_sweeps_expired_sessions(clock, kind):
    manager = tenure.SessionManager(clock=clock) if kind == "sync" else tenure.aio.SessionManager(clock=clock)
    app = asgi_app(manager)
    for _ in range(20):
        TestClient(app).get("/set")
    stored = lambda: manager._native.metrics()["active"]  # noqa: E731
    assert stored() == 20
    clock.advance(timedelta(minutes=31))
    TestClient(app).get("/set")  # a request after the sessions expired and a minute passed
    assert stored() == 1, "the expired sessions were not swept"
    # Off when asked.
    manager2 = tenure.SessionManager(clock=clock)
    app2 = asgi_app(manager2, sweep_interval=None)
    TestClient(app2).get("/set")
    clock.advance(timedelta(minutes=31))
    TestClient(app2).get("/set")
    assert manager2._native.metrics()["active"] == 2


def test_flask_sweeps_expired_sessions(manager, clock):
    app = flask_app(tenure.flask.SessionInterface(manager, secure=False))
    for _ in range(20):
        app.test_client().get("/set")
    assert manager._native.metrics()["active"] == 20
    clock.advance(timedelta(seconds=30))
    app.test_client().get("/set")
    assert manager._native.metrics()["active"] == 21, "swept before the interval"
    clock.advance(timedelta(minutes=31))
    app.test_client().get("/set")
    assert manager._native.metrics()["active"] == 1
    with pytest.raises(tenure.InvalidPolicy, match="sweep_interval"):
        tenure.flask.SessionInterface(manager, sweep_interval=-1)


def test_file_store_files_are_0600_in_a_0700_folder(tmp_path, clock):
    folder = tmp_path / "nested" / "sessions"
    m = tenure.SessionManager(store=tenure.FileStore(folder), clock=clock)
    s = m.create()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / f"{s.id}.json").stat().st_mode & 0o777 == 0o600
