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


def flask_app(interface: tenure.flask.SessionInterface, **config: Any) -> Flask:
    app = Flask(__name__)
    app.secret_key = SECRET
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
