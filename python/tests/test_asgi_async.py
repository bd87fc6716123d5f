"""tenure.asgi over tenure.aio: store I/O is awaited, never blocking the event loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Optional

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import tenure
import tenure.aio
import tenure.asgi
from tenure.stores import AsyncDictStore

from conftest import SECRET


class Slow(AsyncDictStore):
    """Every call takes `delay` seconds (a remote store); `broken` methods raise."""

    def __init__(self, delay: float) -> None:
        super().__init__(delay=delay)
        self.broken: set[str] = set()
        self.calls = 0

    async def _pause(self) -> None:
        self.calls += 1
        await super()._pause()

    def _check(self, name: str) -> None:
        if name in self.broken:
            raise ConnectionError(f"{name}: store unreachable")

    async def get(self, id: str) -> Optional[bytes]:
        self._check("get")
        return await super().get(id)

    async def replace(self, id: str, data: bytes, expected: int) -> bool:
        self._check("replace")
        return await super().replace(id, data, expected)


def make_app(**options: Any) -> Starlette:
    async def views(request: Request) -> JSONResponse:
        n = tenure.asgi.session_of(request).increment("views")
        return JSONResponse({"views": n, "user": request.session.get("user")})

    async def login(request: Request) -> JSONResponse:
        tenure.asgi.regenerate(request, clear=bool(request.query_params.get("clear")))
        request.session["user"] = request.query_params["user"]
        return JSONResponse({"ok": True})

    async def token(request: Request) -> JSONResponse:
        request.session["t"] = 1
        await tenure.asgi.ensure(request)
        return JSONResponse({"token": tenure.asgi.session_of(request).token()})

    async def logout(request: Request) -> JSONResponse:
        tenure.asgi.destroy(request)
        return JSONResponse({"ok": True})

    async def alogout(request: Request) -> JSONResponse:
        await tenure.asgi.adestroy(request)
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/views", views), Route("/login", login), Route("/token", token),
                            Route("/logout", logout), Route("/alogout", alogout)])
    options.setdefault("max_age", None)  # the managers here keep sessions 30 idle minutes
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=SECRET, **options)
    return app


def test_concurrent_requests_overlap_their_store_io() -> None:
    store = Slow(0.2)
    manager = tenure.aio.SessionManager(store=store)
    app = make_app(manager=manager)

    async def main() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        clients = [httpx.AsyncClient(transport=transport, base_url="http://test") for _ in range(5)]
        for c in clients:  # each client gets its own stored session first
            r = await c.get("/views")
            assert r.json()["views"] == 1 and "set-cookie" in r.headers

        async def one(c: httpx.AsyncClient) -> int:
            r = await c.get("/views")
            assert r.status_code == 200
            n: int = r.json()["views"]
            return n

        t0 = time.perf_counter()
        assert await one(clients[0]) == 2
        single = time.perf_counter() - t0
        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(c) for c in clients))
        five = time.perf_counter() - t0
        assert results == [3, 2, 2, 2, 2]
        for c in clients:
            await c.aclose()
        return single, five

    single, five = asyncio.run(main())
    print(f"\n1 request: {single * 1000:.0f} ms; 5 concurrent requests: {five * 1000:.0f} ms")
    assert five < 2 * single, (single, five)


def test_a_failing_async_store_is_a_500_not_a_hung_request() -> None:
    store = Slow(0.001)
    app = make_app(store=store)  # an async store in the options picks tenure.aio

    async def main() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            assert (await c.get("/views")).json()["views"] == 1
            store.broken = {"replace"}
            r = await asyncio.wait_for(c.get("/views"), 5)
            assert r.status_code == 500 and "set-cookie" not in r.headers
            store.broken = {"get"}
            r = await asyncio.wait_for(c.get("/views"), 5)
            assert r.status_code == 500
            store.broken = set()
            assert (await c.get("/views")).json()["views"] == 2, "the failed commit wrote nothing"

    asyncio.run(main())
    assert isinstance(app.user_middleware[0].kwargs.get("store"), Slow)


def test_login_logout_tokens_and_per_session_objects_with_an_async_store() -> None:
    store = Slow(0.001)
    manager = tenure.aio.SessionManager(store=store)
    carts = manager.per_session(list)

    async def add(request: Request) -> JSONResponse:
        cart = carts(request.session)
        cart.append(request.query_params["item"])
        return JSONResponse({"cart": cart})

    app = make_app(manager=manager)
    app.router.routes.append(Route("/add", add))
    c = TestClient(app)
    r = c.get("/views")
    assert r.json() == {"views": 1, "user": None}
    first = c.cookies["session"]
    c.get("/login?user=ann")
    assert c.cookies["session"] != first, "regenerated when the response started"
    assert c.get("/views").json() == {"views": 2, "user": "ann"}
    c.get("/login?user=bob&clear=1")
    r = c.get("/views").json()
    assert r == {"views": 1, "user": "bob"}, "clear drops what was there, keeps what came after"
    assert len(store.data) == 1

    d = TestClient(app)
    assert d.get("/add?item=x").json() == {"cart": ["x"]}, "a draft's object follows it into the store"
    assert d.get("/add?item=y").json() == {"cart": ["x", "y"]}
    tok = TestClient(app).get("/token").json()["token"]
    assert tenure.unsign_token(tok, SECRET) is not None and tenure.unsign_token(tok, SECRET)[0] in store.data

    c.get("/logout")
    assert len(store.data) == 2 and "session" not in c.cookies
    d.get("/alogout")
    assert len(store.data) == 1 and len(carts) == 0


def test_sync_managers_still_work_with_the_new_store_protocol() -> None:
    store = tenure.stores.DictStore()
    c = TestClient(make_app(store=store))
    assert [c.get("/views").json()["views"] for _ in range(3)] == [1, 2, 3]
    assert len(store.data) == 1
