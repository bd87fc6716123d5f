from flask import Flask, jsonify, session

import tenure
import tenure.flask
from tenure import SessionManager

from conftest import SECRET


def make_app(manager: SessionManager) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
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
