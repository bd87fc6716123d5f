from datetime import timedelta

from flask import Flask, jsonify, session

import tenure
import tenure.flask
import tenure.stores
from tenure import SessionManager

from conftest import SECRET


def make_app(manager: SessionManager) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
    # Flask accepts a session for PERMANENT_SESSION_LIFETIME; the manager keeps it 30 min.
    app.permanent_session_lifetime = timedelta(minutes=30)
    app.session_interface = tenure.flask.SessionInterface(manager)

    @app.route("/login/<user>")
    def login(user: str):  # type: ignore[no-untyped-def]
        session["user"] = user
        session.permanent = True
        tenure.flask.regenerate()
        return jsonify(ok=True)

    @app.route("/views")
    def views():  # type: ignore[no-untyped-def]
        session["views"] = session.get("views", 0) + 1
        return jsonify(views=session["views"], user=session.get("user"))

    @app.route("/logout")
    def logout():  # type: ignore[no-untyped-def]
        tenure.flask.destroy()
        return jsonify(ok=True)

    return app


def test_flask_login_isolation_expiry_and_logout(manager, clock):
    app = make_app(manager)
    a, b = app.test_client(), app.test_client()
    a.get("/views")
    first = a.get_cookie("session").value
    r = a.get("/login/ann")
    assert "Max-Age=" in r.headers["Set-Cookie"], "permanent sessions get a max age"
    assert a.get_cookie("session").value != first
    assert a.get("/views").json == {"views": 2, "user": "ann"}
    assert b.get("/views").json == {"views": 1, "user": None}
    assert "Cookie" in a.get("/views").headers["Vary"]
    b.set_cookie("session", a.get_cookie("session").value[:-4] + "AAAA")
    assert b.get("/views").json == {"views": 1, "user": None}, "tampered cookie: fresh session"
    clock.advance(31 * 60)
    assert a.get("/views").json == {"views": 1, "user": None}, "expired on the server"
    r = a.get("/logout")
    assert "Max-Age=0" in r.headers["Set-Cookie"]


def test_flask_modified_flag(manager):
    app = make_app(manager)
    with app.test_request_context("/"):
        s = app.session_interface.open_session(app, __import__("flask").request)
        assert not s.modified
        s["k"] = 1
        assert s.modified and s.new


def test_flask_secret_rotation_with_fallbacks(manager):
    old = make_app(manager)
    c = old.test_client()
    c.get("/login/ann")
    cookie = c.get_cookie("session").value
    new = make_app(manager)
    new.secret_key = "new-secret-0123456789-0123456789-abcdef"
    new.config["SECRET_KEY_FALLBACKS"] = [SECRET]
    d = new.test_client()
    d.set_cookie("session", cookie)
    r = d.get("/views")
    assert r.json == {"views": 1, "user": "ann"}
    assert d.get_cookie("session").value != cookie, "re-signed with the new secret"
    assert tenure.unsign_cookie(__import__("urllib.parse").parse.unquote(d.get_cookie("session").value),
                                new.secret_key) is not None


def test_flask_in_place_changes_permanent_and_modified(manager):
    app = make_app(manager)

    @app.route("/add/<item>")
    def add(item: str):  # type: ignore[no-untyped-def]
        session.setdefault("cart", []).append(item)
        session.modified = True  # what Flask's docs ask for; harmless here
        return jsonify(cart=session["cart"], permanent=session.permanent)

    c = app.test_client()
    r = c.get("/add/a")
    assert r.json == {"cart": ["a"], "permanent": False}
    assert "Max-Age" not in r.headers["Set-Cookie"], "not permanent: a browser-session cookie"
    assert c.get("/add/b").json["cart"] == ["a", "b"]
    with app.test_request_context("/"):
        s = app.session_interface.open_session(app, __import__("flask").request)
        assert not s.modified and not s.new
        s.modified = True
        assert s.modified


def test_flask_logout_revokes_on_the_server(manager):
    app = make_app(manager)
    c = app.test_client()
    c.get("/login/ann")
    cookie = c.get_cookie("session").value
    c.get("/logout")
    assert c.get_cookie("session") is None, "the browser drops the cleared cookie"
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    assert replay.get("/views").json == {"views": 1, "user": None}


def test_flask_on_the_conditional_store_protocol(tmp_path, clock):
    """Flask stays synchronous; the stores speak get/insert/replace/delete/ids."""
    for store in (tenure.stores.DictStore(), tenure.FileStore(tmp_path)):
        manager = SessionManager(store=store, clock=clock)
        c = make_app(manager).test_client()
        assert [c.get("/views").json["views"] for _ in range(2)] == [1, 2]
        c.get("/login/ann")
        assert c.get("/views").json == {"views": 3, "user": "ann"}
        assert manager.count() == 1
        c.get("/logout")
        assert manager.count() == 0


def test_flask_refuses_an_async_manager():
    import pytest
    import tenure.aio

    with pytest.raises(TypeError, match="synchronous"):
        make_app(tenure.aio.SessionManager())  # type: ignore[arg-type]
