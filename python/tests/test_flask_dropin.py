"""``tenure.flask.SessionInterface`` as a drop-in for Flask's default session, over real
HTTP (Werkzeug's ``make_server`` in a thread), plus Flask's test client where Flask's own
tests look inside the request: each test ports one behaviour of the session tests in
Flask's ``tests/test_basic.py`` and names the test it mirrors. ``test_peer_suites.py`` also
runs those tests themselves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import flask
import httpx
import pytest
from flask import Flask
from flask.globals import request_ctx

import tenure
import tenure.flask
from conftest import SECRET
from http_servers import clients, werkzeug_server


def make_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY=SECRET)
    app.config.update(config)
    # Plain http in these tests: the cookie can't be Secure (tenure's default is Secure).
    app.session_interface = tenure.flask.SessionInterface(secure=False)
    return app


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(app)`` runs ``app`` on a real server for the test; returns an httpx client."""
    with clients(werkzeug_server) as start:
        yield start


def cookies(r: httpx.Response) -> list[str]:
    return r.headers.get_list("set-cookie")


def test_session_accessed(serve: Any) -> None:
    """Flask test_session_accessed: Vary: Cookie only when the session was looked at;
    ``accessed`` and ``modified`` as Flask sets them."""
    app = make_app()
    flags: list[tuple[bool, bool]] = []

    @app.post("/")
    def do_set() -> str:
        flask.session["value"] = flask.request.form["value"]
        return "value set"

    @app.get("/")
    def do_get() -> str:
        return str(flask.session.get("value", "None"))

    @app.get("/nothing")
    def do_nothing() -> str:
        return ""

    @app.after_request
    def note(response: flask.Response) -> flask.Response:
        # Not through flask.session: Flask marks the session accessed on every use of it.
        s = request_ctx._session
        flags.append((s.accessed, s.modified))
        return response

    c = serve(app)
    assert "vary" not in c.get("/nothing").headers
    r = c.post("/", data={"value": "42"})
    assert r.text == "value set" and r.headers["vary"] == "Cookie"
    r = c.get("/")
    assert r.text == "42" and r.headers["vary"] == "Cookie"
    assert "vary" not in c.get("/nothing").headers
    assert flags == [(False, False), (True, True), (True, False), (False, False)]


def test_session_modified_stays_true_after_saving() -> None:
    """Flask test_session_accessed (``request_ctx._session.modified`` read after the
    response): ``modified`` is still true once the session is stored."""
    app = make_app()

    @app.post("/")
    def do_set() -> str:
        flask.session["value"] = "42"
        return ""

    with app.test_client() as c:
        c.post("/")
        assert request_ctx._session.accessed and request_ctx._session.modified
        assert request_ctx._session.new


def test_session_path(serve: Any) -> None:
    """Flask test_session_path: APPLICATION_ROOT is the cookie's path (config read per request)."""
    app = make_app()

    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    c = serve(app)
    assert "Path=/" in cookies(c.get("/"))[0].split("; ")
    app.config.update(APPLICATION_ROOT="/foo")
    assert "Path=/foo" in cookies(c.get("/"))[0].split("; ")


def test_session_using_session_settings(serve: Any) -> None:
    """Flask test_session_using_session_settings: domain, HttpOnly off, Secure, Partitioned,
    SameSite from the config, on the cookie and on the clearing one."""
    app = make_app(SESSION_COOKIE_DOMAIN="example.com", SESSION_COOKIE_HTTPONLY=False,
                   SESSION_COOKIE_PARTITIONED=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_PATH="/")
    app.session_interface = tenure.flask.SessionInterface(secure=True)

    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    @app.route("/clear")
    def clear() -> str:
        flask.session.pop("testing", None)
        return "Goodbye World"

    c = serve(app)
    cookie = cookies(c.get("/"))[0]
    parts = cookie.split("; ")
    for part in ("Domain=example.com", "Path=/", "Secure", "SameSite=Lax", "Partitioned"):
        assert part in parts, (part, cookie)
    assert "HttpOnly" not in parts
    r = c.get("/clear", headers={"cookie": cookie.split(";")[0]})
    cleared = cookies(r)[0]
    assert cleared.startswith("session=;")
    for part in ("Domain=example.com", "Path=/", "Secure", "SameSite=Lax", "Partitioned"):
        assert part in cleared.split("; "), (part, cleared)


def test_session_using_samesite_attribute(serve: Any) -> None:
    """Flask test_session_using_samesite_attribute: a wrong value is a ValueError (here an
    error response), Strict and Lax are sent; None still sends Lax (a documented difference:
    Flask's default None is not taken as a choice; same_site=None on the interface is)."""
    app = make_app(SESSION_COOKIE_SAMESITE="invalid")

    @app.route("/")
    def index() -> str:
        flask.session["testing"] = 42
        return "Hello World"

    with pytest.raises(ValueError, match="invalid"):
        app.test_client().get("/")
    c = serve(app)
    app.config.update(SESSION_COOKIE_SAMESITE="Strict")
    assert "SameSite=Strict" in cookies(c.get("/"))[0]
    app.config.update(SESSION_COOKIE_SAMESITE="Lax")
    assert "SameSite=Lax" in cookies(c.get("/"))[0]
    app.config.update(SESSION_COOKIE_SAMESITE=None)
    assert "SameSite=Lax" in cookies(c.get("/"))[0]


def test_missing_session(serve: Any) -> None:
    """Flask test_missing_session: without a secret key the session is Flask's null
    session: reads see nothing, a write raises Flask's error."""
    app = make_app(SECRET_KEY=None)
    with app.test_request_context():
        assert flask.session.get("missing_key") is None
        with pytest.raises(RuntimeError, match="session is unavailable"):
            flask.session["foo"] = 42
        with pytest.raises(RuntimeError, match="session is unavailable"):
            flask.session.pop("foo")

    @app.route("/")
    def index() -> str:
        return str(flask.session.get("k"))

    r = serve(app).get("/")
    assert r.text == "None" and "set-cookie" not in r.headers


def test_session_secret_key_fallbacks(serve: Any) -> None:
    """Flask test_session_secret_key_fallbacks: the secret key and SECRET_KEY_FALLBACKS are
    read on every request; an unknown secret reads as an empty session."""
    app = make_app()

    @app.post("/")
    def set_session() -> str:
        flask.session["a"] = 1
        return ""

    @app.get("/")
    def get_session() -> dict[str, Any]:
        return dict(flask.session)

    k = [f"{i} key-0123456789-0123456789-0123456789" for i in range(4)]
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = k[1], [k[0]]
    c = serve(app)
    c.post("/")
    assert c.get("/").json() == {"a": 1}
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = k[3], []
    assert c.get("/").json() == {}
    app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = k[2], [k[1], k[0]]
    assert c.get("/").json() == {"a": 1}


def test_session_expiration(serve: Any) -> None:
    """Flask test_session_expiration: a permanent session's cookie expires after
    PERMANENT_SESSION_LIFETIME; turning ``permanent`` off sends a browser-session cookie."""
    app = make_app()
    permanent = [True]

    @app.route("/")
    def index() -> str:
        flask.session["test"] = 42
        flask.session.permanent = permanent[0]
        return ""

    @app.route("/test")
    def test() -> str:
        return str(flask.session.permanent)

    c = serve(app)
    r = c.get("/")
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookies(r)[0])[1])  # type: ignore[index]
    expected = datetime.now(timezone.utc) + app.permanent_session_lifetime
    assert abs((expires - expected).total_seconds()) < 60
    assert c.get("/test").text == "True"
    permanent[0] = False
    r = c.get("/")
    assert cookies(r) and "Expires" not in cookies(r)[0]


def test_changing_permanent_sends_a_cookie(serve: Any) -> None:
    """Flask (SessionMixin.permanent): changing ``session.permanent`` alone sends the cookie."""
    app = make_app(SESSION_REFRESH_EACH_REQUEST=False)

    @app.route("/set")
    def set_() -> str:
        flask.session["k"] = 1
        return ""

    @app.route("/remember")
    def remember() -> str:
        flask.session.permanent = True
        return ""

    c = serve(app)
    assert "Max-Age" not in cookies(c.get("/set"))[0]
    assert "Max-Age=2678400" in cookies(c.get("/remember"))[0]


def test_session_stored_last(serve: Any) -> None:
    """Flask test_session_stored_last: a change made in after_request is stored."""
    app = make_app()

    @app.after_request
    def modify_session(response: flask.Response) -> flask.Response:
        flask.session["foo"] = 42
        return response

    @app.route("/")
    def dump_session_contents() -> str:
        return repr(flask.session.get("foo"))

    c = serve(app)
    assert c.get("/").text == "None"
    assert c.get("/").text == "42"


def test_session_cookie_setting(serve: Any) -> None:
    """Flask test_session_cookie_setting: SESSION_REFRESH_EACH_REQUEST (on by default)
    re-sends a permanent session's cookie on every request, a read one too."""
    app = make_app()
    is_permanent = [True]

    @app.route("/bump")
    def bump() -> str:
        rv = flask.session["foo"] = flask.session.get("foo", 0) + 1
        flask.session.permanent = is_permanent[0]
        return str(rv)

    @app.route("/read")
    def read() -> str:
        return str(flask.session.get("foo", 0))

    for permanent, refresh, expect_header in [(True, True, True), (True, False, False),
                                              (False, True, False), (False, False, False)]:
        is_permanent[0] = permanent
        app.config["SESSION_REFRESH_EACH_REQUEST"] = refresh
        c = serve(app)
        assert [c.get("/bump").text for _ in range(3)] == ["1", "2", "3"]
        r = c.get("/read")
        assert r.text == "3"
        assert bool(cookies(r)) == expect_header, (permanent, refresh)


def test_session_vary_cookie(serve: Any) -> None:
    """Flask test_session_vary_cookie: one Vary header, merged with the application's."""
    app = make_app()

    @app.route("/set")
    def set_session() -> str:
        flask.session["test"] = "test"
        return ""

    @app.route("/get")
    def get() -> str:
        return str(flask.session.get("test"))

    @app.route("/getitem")
    def getitem() -> str:
        return str(flask.session["test"])

    @app.route("/setdefault")
    def setdefault() -> str:
        return str(flask.session.setdefault("test", "default"))

    @app.route("/clear")
    def clear() -> str:
        flask.session.clear()
        return ""

    @app.route("/vary-header-set")
    def vary_header_set() -> flask.Response:
        response = flask.Response()
        response.vary.update(("Accept-Encoding", "Accept-Language"))
        flask.session["test"] = "test"
        return response

    @app.route("/no-vary-header")
    def no_vary_header() -> str:
        return ""

    c = serve(app)

    def expect(path: str, value: Any = "Cookie") -> None:
        r = c.get(path)
        if value:
            assert r.headers.get_list("vary") == [value], path
        else:
            assert "vary" not in r.headers, path

    for path in ("/set", "/get", "/getitem", "/setdefault", "/clear"):
        expect(path)
    expect("/vary-header-set", "Accept-Encoding, Accept-Language, Cookie")
    expect("/no-vary-header", None)


def test_session_refresh_vary(serve: Any) -> None:
    """Flask test_session_refresh_vary: a refreshed permanent session's response varies."""
    app = make_app()

    @app.get("/login")
    def login() -> str:
        flask.session["user_id"] = 1
        flask.session.permanent = True
        return ""

    @app.get("/ignored")
    def ignored() -> str:
        return ""

    c = serve(app)
    assert c.get("/login").headers["vary"] == "Cookie"
    r = c.get("/ignored")
    assert r.headers["vary"] == "Cookie" and cookies(r)


def test_clear_ends_the_session_on_the_server(serve: Any) -> None:
    """Flask (save_session): an emptied session deletes the cookie; here the stored session
    is destroyed too, so the old cookie is dead."""
    app = make_app()
    app.session_interface = interface = tenure.flask.SessionInterface(secure=False)

    @app.route("/set")
    def set_() -> str:
        flask.session["k"] = 1
        return ""

    @app.route("/logout")
    def logout() -> str:
        flask.session.clear()
        return ""

    c = serve(app)
    assert cookies(c.get("/set"))
    assert interface.manager.count() == 1
    assert cookies(c.get("/logout"))[0].startswith("session=;")
    assert interface.manager.count() == 0


def test_flashes() -> None:
    """Flask test_flashes: ``modified`` is readable and settable around flash()."""
    app = make_app()
    with app.test_request_context():
        assert not flask.session.modified
        flask.flash("Zap")
        flask.session.modified = False
        flask.flash("Zip")
        assert flask.session.modified
        assert list(flask.get_flashed_messages()) == ["Zap", "Zip"]


def test_one_lifetime_the_manager_made_follows_permanent_session_lifetime(serve: Any) -> None:
    """The manager tenure.flask makes keeps sessions as long as Flask accepts its cookie
    (PERMANENT_SESSION_LIFETIME), not 30 idle minutes."""
    clock = tenure.ManualClock(1_700_000_000)
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(days=7))
    app.session_interface = interface = tenure.flask.SessionInterface(secure=False, clock=clock)

    @app.route("/")
    def index() -> str:
        flask.session["n"] = flask.session.get("n", 0) + 1
        return str(flask.session["n"])

    c = serve(app)
    assert c.get("/").text == "1"
    clock.advance(timedelta(days=6))
    assert c.get("/").text == "2"
    (sid,) = [info["id"] for info in interface.manager.list()[0]]
    stored = interface.manager.peek(sid)
    assert stored is not None and stored.idle_timeout == timedelta(days=7)
    clock.advance(timedelta(days=8))
    assert c.get("/").text == "1", "expired on the server after the lifetime"


def test_one_lifetime_a_shorter_manager_is_refused() -> None:
    """A manager whose idle timeout is shorter than PERMANENT_SESSION_LIFETIME is refused
    at the first request, naming both and the way out."""
    app = make_app()
    app.session_interface = tenure.flask.SessionInterface(tenure.SessionManager())
    with pytest.raises(tenure.InvalidPolicy, match="2678400000 ms.*1800000 ms.*PERMANENT_SESSION_LIFETIME"):
        app.test_client().get("/")
    app.permanent_session_lifetime = timedelta(minutes=30)
    assert app.test_client().get("/").status_code == 404
