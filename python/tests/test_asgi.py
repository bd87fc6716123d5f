from typing import Any

import pytest
from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import tenure
import tenure.aio
import tenure.asgi
from tenure import SessionManager

from conftest import SECRET


def make_app(manager: SessionManager, **options: Any) -> Starlette:
    async def login(request: Request) -> JSONResponse:
        request.session["user"] = request.query_params["user"]
        tenure.asgi.regenerate(request)
        return JSONResponse({"ok": True})

    async def views(request: Request) -> JSONResponse:
        n = tenure.asgi.session_of(request).increment("views")
        return JSONResponse({"views": n, "user": request.session.get("user")})

    async def peek(request: Request) -> JSONResponse:
        return JSONResponse({"user": request.session.get("user")})

    async def logout(request: Request) -> JSONResponse:
        tenure.asgi.destroy(request)
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/login", login), Route("/views", views), Route("/peek", peek),
                            Route("/logout", logout)])
    # The manager's 30 idle minutes rule: a browser-session cookie (Starlette's 14-day
    # max_age would outlive them, which is refused).
    options.setdefault("max_age", None)
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=options.pop("secret_key", SECRET),
                       manager=manager, **options)
    return app


def test_login_regenerates_and_clients_are_isolated(manager):
    app = make_app(manager)
    a, b = TestClient(app), TestClient(app)
    r = a.get("/peek")
    assert r.json() == {"user": None} and "set-cookie" not in r.headers, "no session for readers"
    assert r.headers["vary"] == "Cookie"
    a.get("/views")
    before = a.cookies["session"]
    a.get("/login?user=ann")
    after = a.cookies["session"]
    assert before != after, "the id changes on login"
    assert a.get("/views").json() == {"views": 2, "user": "ann"}
    assert b.get("/views").json() == {"views": 1, "user": None}
    assert manager.count() == 2
    r = a.get("/logout")
    assert "Max-Age=0" in r.headers["set-cookie"]
    assert manager.count() == 1


def test_tampered_unknown_and_expired_cookies_get_a_fresh_session(manager, clock):
    app = make_app(manager)
    c = TestClient(app)
    c.get("/login?user=ann")
    good = c.cookies["session"]
    for bad in (good[:-3] + "xyz", "s%3Aforged.sig", tenure.encode_uri_component(tenure.sign_cookie("A" * 22, SECRET))):
        c2 = TestClient(app)
        c2.cookies.set("session", bad)
        assert c2.get("/views").json() == {"views": 1, "user": None}
    clock.advance(3600)
    assert c.get("/views").json() == {"views": 1, "user": None}


def test_secret_rotation_accepts_and_resigns(manager):
    old_secret = "old-secret-0123456789-0123456789-abcdef"
    old = TestClient(make_app(manager, secret_key=old_secret))
    old.get("/login?user=ann")
    cookie = old.cookies["session"]
    new = TestClient(make_app(manager, secret_key=[SECRET, old_secret]))
    new.cookies.set("session", cookie)
    r = new.get("/views")
    assert r.json()["user"] == "ann"
    resigned = r.cookies.get("session")
    assert resigned and resigned != cookie
    assert tenure.unsign_cookie_index(tenure.parse_cookie_header(f"x={resigned}")[0][1].replace("%3A", ":").replace("%2B", "+").replace("%2F", "/"), [SECRET])


def test_short_secrets_are_refused(manager):
    with pytest.raises(tenure.InvalidPolicy):
        make_app(manager, secret_key="short")
        TestClient(make_app(manager, secret_key="short")).get("/peek")


def test_bearer_transport(manager):
    app = make_app(manager, transport="both")

    async def token(request: Request) -> JSONResponse:
        return JSONResponse({"token": tenure.asgi.session_of(request).token()})

    app.router.routes.append(Route("/token", token))
    c = TestClient(app)
    tok = c.get("/token").json()["token"]
    bare = TestClient(app)
    h = {"Authorization": f"Bearer {tok}"}
    r = bare.get("/views", headers=h)
    assert r.json()["views"] == 1
    # The core's rule: the response depends on both credential headers (this used to be
    # `Vary: Cookie` only), and a token client is not handed a cookie.
    assert r.headers["vary"] == "Cookie, Authorization"
    assert "set-cookie" not in r.headers
    assert bare.get("/views", headers=h).json()["views"] == 2


def test_header_transport_varies_on_authorization_only(manager):
    app = make_app(manager, transport="header")

    async def token(request: Request) -> JSONResponse:
        return JSONResponse({"token": tenure.asgi.session_of(request).token()})

    app.router.routes.append(Route("/token", token))
    first = TestClient(app).get("/token")
    assert "set-cookie" not in first.headers
    r = TestClient(app).get("/views", headers={"Authorization": f"Bearer {first.json()['token']}"})
    assert r.json()["views"] == 1
    assert r.headers["vary"] == "Authorization"


@pytest.mark.parametrize("driver", ["sync", "aio"])
def test_a_new_session_emptied_in_the_same_request_is_not_kept(driver):
    m: Any = tenure.SessionManager() if driver == "sync" else tenure.aio.SessionManager()

    async def touch(request: Request) -> JSONResponse:
        request.session["tmp"] = 1
        del request.session["tmp"]
        return JSONResponse({})

    app = Starlette(routes=[Route("/", touch)])
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, manager=m, max_age=None)
    r = TestClient(app).get("/")
    assert "set-cookie" not in r.headers
    assert r.headers["vary"] == "Cookie"
    count = m.count()
    if driver == "aio":
        import asyncio

        count = asyncio.run(count)
    assert count == 0


def test_store_failure_is_an_error_not_a_lost_write():
    class Failing(tenure.stores.DictStore):
        fail = False

        def replace(self, id: str, data: bytes, expected: int) -> bool:
            if self.fail:
                raise OSError("disk on fire")
            return super().replace(id, data, expected)

    store = Failing()
    m = SessionManager(store=store)
    c = TestClient(make_app(m), raise_server_exceptions=False)
    c.get("/views")
    store.fail = True
    assert c.get("/views").status_code == 500
    store.fail = False
    assert c.get("/views").json()["views"] == 2


def test_fastapi(manager):
    app = FastAPI()
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, manager=manager, max_age=None)

    @app.get("/count")
    def count(request: Request) -> dict[str, int]:
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"]}

    c = TestClient(app)
    assert [c.get("/count").json()["n"] for _ in range(3)] == [1, 2, 3]


def test_in_place_changes_to_lists_and_dicts_are_saved(manager):
    async def add(request: Request) -> JSONResponse:
        cart = request.session.setdefault("cart", [])
        cart.append(request.query_params["item"])
        request.session.setdefault("prefs", {})["last"] = request.query_params["item"]
        assert request.session["cart"] is cart, "the same object within a request"
        return JSONResponse({"cart": cart})

    async def show(request: Request) -> JSONResponse:
        return JSONResponse(dict(request.session))

    app = Starlette(routes=[Route("/add", add), Route("/show", show)])
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, manager=manager, max_age=None)
    c = TestClient(app)
    c.get("/add?item=a")
    assert c.get("/add?item=b").json() == {"cart": ["a", "b"]}
    assert c.get("/show").json() == {"cart": ["a", "b"], "prefs": {"last": "b"}}
    version = manager.peek(tenure.unsign_cookie(__import__("urllib.parse").parse.unquote(c.cookies["session"]), SECRET)).version
    c.get("/show")
    assert manager.peek(tenure.unsign_cookie(__import__("urllib.parse").parse.unquote(c.cookies["session"]), SECRET)).version == version, \
        "reading without changing writes nothing"


def test_vary_only_when_read_and_logout_revokes_on_the_server(manager):
    async def untouched(request: Request) -> JSONResponse:
        return JSONResponse({})

    app = make_app(manager)
    app.router.routes.append(Route("/untouched", untouched))
    c = TestClient(app)
    assert "vary" not in c.get("/untouched").headers
    c.get("/login?user=ann")
    cookie = c.cookies["session"]
    assert c.get("/peek").headers["vary"] == "Cookie"
    r = c.get("/logout")
    cleared = r.headers["set-cookie"]
    assert cleared.startswith("session=;") and "Max-Age=0" in cleared and "Path=/" in cleared
    replay = TestClient(app)
    replay.cookies.set("session", cookie)
    assert replay.get("/peek").json() == {"user": None}, "the old cookie is dead on the server"


def test_starlette_arguments_shape_the_cookie(manager):
    app = make_app(manager, session_cookie="sid", max_age=600, path="/", same_site="strict",
                   https_only=True, domain="example.com")
    c = TestClient(app, base_url="https://example.com")
    header = c.get("/views").headers["set-cookie"]
    for part in ("sid=s%3A", "Max-Age=600", "Path=/", "Domain=example.com", "SameSite=Strict", "Secure", "HttpOnly"):
        assert part in header, (part, header)
    assert c.get("/views").json()["views"] == 2


def test_policy_and_store_through_the_middleware(tmp_path, clock):
    app = Starlette(routes=[])

    async def views(request: Request) -> JSONResponse:
        return JSONResponse({"views": tenure.asgi.session_of(request).increment("views")})

    app.router.routes.append(Route("/views", views))
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, max_age=None,
                       store=tenure.FileStore(tmp_path), idle_timeout=60, clock=clock)
    c = TestClient(app)
    assert [c.get("/views").json()["views"] for _ in range(2)] == [1, 2]
    assert len(list(tmp_path.glob("*.json"))) == 1
    clock.advance(61)
    assert c.get("/views").json()["views"] == 1, "idle timeout from the middleware's policy"


def test_per_session_objects_in_requests(manager):
    carts = manager.per_session(list)

    async def add(request: Request) -> JSONResponse:
        cart = carts(request.session)
        cart.append(request.query_params["item"])
        return JSONResponse({"cart": cart})

    async def logout(request: Request) -> JSONResponse:
        tenure.asgi.destroy(request)
        return JSONResponse({})

    app = Starlette(routes=[Route("/add", add), Route("/logout", logout)])
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, manager=manager, max_age=None)
    a, b = TestClient(app), TestClient(app)
    assert a.get("/add?item=a1").json() == {"cart": ["a1"]}
    assert b.get("/add?item=b1").json() == {"cart": ["b1"]}, "anonymous visitors don't share"
    assert a.get("/add?item=a2").json() == {"cart": ["a1", "a2"]}
    assert len(carts) == 2 and manager.count() == 2
    a.get("/logout")
    assert len(carts) == 1, "dropped with the session"
    with pytest.raises(tenure.InvalidValue):
        carts(object())
