"""``tenure.asgi.SessionMiddleware`` as a drop-in for Starlette's ``SessionMiddleware`` and
for starsessions, over real HTTP (uvicorn): each test ports one behaviour of the peer's own
suite and names the test it mirrors (Starlette's ``tests/middleware/test_session.py``,
starsessions' ``tests/``). ``test_peer_suites.py`` also runs Starlette's file itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

import tenure
import tenure.asgi
from conftest import SECRET
from http_servers import clients, uvicorn_server

DAY = 24 * 60 * 60


async def view_session(request: Request) -> JSONResponse:
    return JSONResponse({"session": request.session})


async def update_session(request: Request) -> JSONResponse:
    request.session.update(await request.json())
    return JSONResponse({"session": request.session})


async def inplace_update_session(request: Request) -> JSONResponse:
    session = request.session
    session |= await request.json()
    return JSONResponse({"session": request.session})


async def popitem_session(request: Request) -> JSONResponse:
    request.session.popitem()
    return JSONResponse({"session": request.session})


async def clear_session(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({"session": request.session})


async def no_session_access(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


ROUTES = [
    Route("/view_session", view_session),
    Route("/update_session", update_session, methods=["POST"]),
    Route("/inplace_update_session", inplace_update_session, methods=["POST"]),
    Route("/popitem_session", popitem_session, methods=["POST"]),
    Route("/clear_session", clear_session, methods=["POST"]),
    Route("/no_session", no_session_access),
]


def middleware(**options: Any) -> tenure.asgi.SessionMiddleware:
    return tenure.asgi.SessionMiddleware(Starlette(routes=ROUTES), options.pop("secret_key", SECRET), **options)


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(app)`` runs ``app`` with uvicorn for the test and returns an httpx client."""
    with clients(uvicorn_server) as start:
        yield start


def set_cookie(r: httpx.Response) -> str:
    values = r.headers.get_list("set-cookie")
    assert len(values) == 1, values
    return values[0]


def test_session(serve: Any) -> None:
    """Starlette test_session: a dict that JSONResponse serialises, a 14-day cookie,
    and clear() ending the session (here: the stored record is destroyed too)."""
    mw = middleware()
    c = serve(mw)
    assert c.get("/view_session").json() == {"session": {}}
    r = c.post("/update_session", json={"some": "data"})
    assert r.json() == {"session": {"some": "data"}}
    assert int(re.search(r"; Max-Age=([0-9]+);", set_cookie(r))[1]) == 14 * DAY  # type: ignore[index]
    assert c.get("/view_session").json() == {"session": {"some": "data"}}
    assert mw.manager.count() == 1  # type: ignore[union-attr]
    r = c.post("/clear_session")
    assert r.json() == {"session": {}}
    cleared = set_cookie(r)
    assert cleared.startswith("session=;") and "Max-Age=0" in cleared
    assert mw.manager.count() == 0, "the record is destroyed, not kept empty"  # type: ignore[union-attr]
    assert c.get("/view_session").json() == {"session": {}}


@pytest.mark.parametrize("partitioned", [False, True])
def test_partitioned_session(serve: Any, partitioned: bool) -> None:
    """Starlette test_partitioned_session: ``partitioned`` on the cookie and on its clearing."""
    c = serve(middleware(https_only=True, same_site="none", partitioned=partitioned))
    r = c.post("/update_session", json={"some": "data"})
    assert ("Partitioned" in set_cookie(r).split("; ")) is partitioned
    # The Secure cookie isn't sent back over http by the client: carry it by hand.
    value = set_cookie(r).split(";")[0]
    r = c.post("/clear_session", headers={"cookie": value})
    assert set_cookie(r).startswith("session=;")
    assert ("Partitioned" in set_cookie(r).split("; ")) is partitioned


def test_session_expires_negative_max_age_is_refused_at_start_up() -> None:
    """Starlette test_session_expires (max_age=-1): refused at start-up, by name, instead of
    cookies that are already expired (a documented difference)."""
    for bad in (-1, float("nan"), "14d"):
        with pytest.raises((tenure.InvalidPolicy, TypeError), match="max_age"):
            middleware(max_age=bad)


def test_session_expires_on_the_server(serve: Any) -> None:
    """Starlette test_session_expires (its point: an expired session is not read back):
    ``max_age`` is enforced on the server, whatever the client does with its cookie."""
    clock = tenure.ManualClock(1_700_000_000)
    c = serve(middleware(max_age=60, clock=clock))
    r = c.post("/update_session", json={"some": "data"})
    replay = set_cookie(r).split(";")[0]
    clock.advance(30)
    assert c.get("/view_session", headers={"cookie": replay}).json() == {"session": {"some": "data"}}
    clock.advance(61)
    assert c.get("/view_session", headers={"cookie": replay}).json() == {"session": {}}


def test_secure_session(serve: Any) -> None:
    """Starlette test_secure_session: https_only makes the cookie Secure (so a client on
    plain http doesn't send it back)."""
    c = serve(middleware(https_only=True))
    r = c.post("/update_session", json={"some": "data"})
    assert "Secure" in set_cookie(r).split("; ")
    assert c.get("/view_session").json() == {"session": {}}
    r = serve(middleware()).post("/update_session", json={"some": "data"})
    assert "Secure" not in set_cookie(r).split("; ")


def test_session_cookie_subpath(serve: Any) -> None:
    """Starlette test_session_cookie_subpath: ``path`` scopes the cookie."""
    inner = tenure.asgi.SessionMiddleware(Starlette(routes=ROUTES), SECRET, path="/second_app")
    c = serve(Starlette(routes=[Mount("/second_app", app=inner)]))
    r = c.post("/second_app/update_session", json={"some": "data"})
    assert r.status_code == 200
    assert "Path=/second_app" in set_cookie(r).split("; ")


def test_invalid_session_cookie(serve: Any) -> None:
    """Starlette test_invalid_session_cookie: a bogus cookie reads as an empty session."""
    c = serve(middleware())
    assert c.post("/update_session", json={"some": "data"}).json() == {"session": {"some": "data"}}
    c.cookies.clear()
    c.cookies.set("session", "invalid")
    assert c.get("/view_session").json() == {"session": {}}


def test_session_cookie(serve: Any) -> None:
    """Starlette test_session_cookie: max_age=None is a browser-session cookie."""
    mw = middleware(max_age=None)
    c = serve(mw)
    r = c.post("/update_session", json={"some": "data"})
    assert "Max-Age" not in set_cookie(r)
    c.cookies.delete("session")
    assert c.get("/view_session").json() == {"session": {}}


def test_session_zero_max_age(serve: Any) -> None:
    """Starlette test_session_zero_max_age: max_age=0 is sent as Max-Age=0."""
    r = serve(middleware(max_age=0)).post("/update_session", json={"some": "data"})
    assert "; Max-Age=0; " in set_cookie(r)


def test_domain_cookie(serve: Any) -> None:
    """Starlette test_domain_cookie: ``domain`` on the cookie."""
    c = serve(middleware(domain=".example.com"))
    r = c.post("/update_session", json={"some": "data"})
    assert "Domain=.example.com" in set_cookie(r).split("; ")


def test_set_cookie_only_on_modification(serve: Any) -> None:
    """Starlette test_set_cookie_only_on_modification: a read sends no cookie; a write
    sends it again (its max age starts over, as in Starlette)."""
    c = serve(middleware())
    assert "set-cookie" in c.post("/update_session", json={"some": "data"}).headers
    r = c.get("/view_session")
    assert r.json() == {"session": {"some": "data"}}
    assert "set-cookie" not in r.headers
    assert "Max-Age=1209600" in set_cookie(c.post("/update_session", json={"more": 1}))


def test_vary_cookie_on_access(serve: Any) -> None:
    """Starlette test_vary_cookie_on_access: Vary: Cookie when the session was looked at."""
    c = serve(middleware())
    assert "cookie" in c.post("/update_session", json={"some": "data"}).headers.get("vary", "").lower()
    assert "cookie" in c.get("/view_session").headers.get("vary", "").lower()
    assert "cookie" not in c.get("/no_session").headers.get("vary", "").lower()


@pytest.mark.parametrize(("path", "data", "expected"), [
    ("/inplace_update_session", {"c": "3"}, {"a": "1", "b": "2", "c": "3"}),
    ("/popitem_session", None, {"a": "1"}),
])
def test_session_persists_mutations(serve: Any, path: str, data: Any, expected: dict[str, str]) -> None:
    """Starlette test_session_persists_mutations: ``|=`` and ``popitem`` are stored."""
    c = serve(middleware())
    assert c.post("/update_session", json={"a": "1", "b": "2"}).json() == {"session": {"a": "1", "b": "2"}}
    assert c.post(path, content=json.dumps(data)).json() == {"session": expected}
    assert c.get("/view_session").json() == {"session": expected}


def test_the_session_is_a_dict_to_fastapi_and_json(serve: Any) -> None:
    """Starlette's Session is a dict: FastAPI's encoder returns it, json.dumps takes it."""
    app = FastAPI()

    @app.get("/echo")
    def echo(request: Request) -> Any:
        request.session.setdefault("cart", []).append(len(request.session["cart"]))
        assert isinstance(request.session, dict)
        assert json.loads(json.dumps(request.session)) == dict(request.session)
        return request.session

    c = serve(tenure.asgi.SessionMiddleware(app, SECRET))
    assert c.get("/echo").json() == {"cart": [0]}
    assert c.get("/echo").json() == {"cart": [0, 1]}


def test_a_refused_value_leaves_the_dict_as_it_was(serve: Any) -> None:
    """Starlette stores any JSON value; tenure refuses what it can't store exactly, at the
    write, and the session (dict and record) stays as it was."""

    async def bad(request: Request) -> JSONResponse:
        request.session["ok"] = 1
        with pytest.raises(tenure.InvalidType, match="set"):
            request.session["bad"] = {1, 2}
        return JSONResponse({"session": request.session})

    c = serve(tenure.asgi.SessionMiddleware(Starlette(routes=[Route("/", bad)]), SECRET))
    assert c.get("/").json() == {"session": {"ok": 1}}


def test_header_transport_varies_on_authorization(serve: Any) -> None:
    """The Vary header of header transport names Authorization (the core's rule, as in
    the Express middleware), so a shared cache doesn't serve one user's page to another."""

    async def token(request: Request) -> JSONResponse:
        request.session["n"] = request.session.get("n", 0) + 1
        return JSONResponse({"token": tenure.asgi.session_of(request).token(), "n": request.session["n"]})

    c = serve(tenure.asgi.SessionMiddleware(Starlette(routes=[Route("/", token)]), SECRET, transport="header"))
    first = c.get("/")
    assert first.headers["vary"] == "Authorization" and "set-cookie" not in first.headers
    r = c.get("/", headers={"authorization": f"Bearer {first.json()['token']}"})
    assert r.json()["n"] == 2 and r.headers["vary"] == "Authorization"


def test_one_lifetime_the_manager_made_follows_max_age(serve: Any) -> None:
    """The server keeps a session as long as its cookie: 14 days by default, idle or not
    (it used to log users out after 30 idle minutes while their cookie lived on)."""
    clock = tenure.ManualClock(1_700_000_000)
    mw = middleware(clock=clock)
    c = serve(mw)
    r = c.post("/update_session", json={"some": "data"})
    s = mw.manager.peek(tenure.unsign_cookie(httpx.URL("?" + set_cookie(r).split(";")[0]).params["session"],  # type: ignore[union-attr]
                                            [SECRET]) or "")
    assert s is not None and s.idle_timeout == timedelta(days=14) and s.absolute_timeout == timedelta(days=14)
    clock.advance(13 * DAY)
    assert c.get("/view_session").json() == {"session": {"some": "data"}}
    clock.advance(15 * DAY)
    assert c.get("/view_session").json() == {"session": {}}


def test_one_lifetime_a_shorter_manager_is_refused_at_start_up() -> None:
    """A manager (or idle_timeout) that would end sessions before their cookie is refused,
    naming both lifetimes and the way out."""
    with pytest.raises(tenure.InvalidPolicy, match="max_age.*max_age=None"):
        middleware(manager=tenure.SessionManager())
    with pytest.raises(tenure.InvalidPolicy, match="1209600000 ms.*60000 ms"):
        middleware(idle_timeout=60)
    middleware(manager=tenure.SessionManager(), max_age=None)
    middleware(manager=tenure.SessionManager(idle_timeout=timedelta(days=14)))
    middleware(manager=tenure.SessionManager(idle_timeout=None))


# -- starsessions ---------------------------------------------------------------------------


def test_send_cookie_if_session_destroyed_and_storage_cleared(serve: Any) -> None:
    """starsessions test_send_cookie_if_session_destroyed, ..._with_domain_... and
    test_will_clear_storage_if_session_destroyed: clear() sends an expired cookie (with the
    domain) and removes the stored session."""
    mw = middleware(cookie_domain="example.com")
    c = serve(mw)
    value = set_cookie(c.post("/update_session", json={"key2": "value2"})).split(";")[0]
    r = c.post("/clear_session", headers={"cookie": value})
    assert "01 Jan 1970 00:00:00 GMT" in set_cookie(r) and "Domain=example.com" in set_cookie(r)
    assert mw.manager.count() == 0  # type: ignore[union-attr]


def test_will_not_send_cookie_if_initially_empty_session_destroyed(serve: Any) -> None:
    """starsessions test_will_not_send_cookie_if_initially_empty_session_destroyed."""
    c = serve(middleware())
    r = c.post("/clear_session", headers={"cookie": "session=session_id"})
    assert "set-cookie" not in r.headers


def test_starsessions_cookie_arguments(serve: Any) -> None:
    """starsessions test_max_age_argument_set_in_cookie, test_same_site_..., test_path_...,
    test_domain_..., test_set_secure_cookie, test_session_timedelta_lifetime: its argument
    names are accepted."""
    r = serve(middleware(lifetime=timedelta(seconds=100), cookie_name="sid", cookie_same_site="strict",
                         cookie_path="/", cookie_domain="example.com", cookie_https_only=True)
              ).post("/update_session", json={"k": 1})
    parts = set_cookie(r).split("; ")
    assert parts[0].startswith("sid=")
    for part in ("Max-Age=100", "SameSite=Strict", "Path=/", "Domain=example.com", "Secure"):
        assert part in parts, (part, parts)
    with pytest.raises(TypeError, match="lifetime.*max_age"):
        middleware(lifetime=10, max_age=20)


def test_session_only_cookies(serve: Any) -> None:
    """starsessions test_session_only_cookies: lifetime=0 is a browser-session cookie."""
    r = serve(middleware(lifetime=0)).post("/update_session", json={"k": 1})
    assert "Max-Age" not in set_cookie(r) and "Expires" not in set_cookie(r)


def test_rolling_session_must_extend_duration(serve: Any) -> None:
    """starsessions test_rolling_session_must_extend_duration: with rolling, every response
    re-sends the cookie with the whole lifetime from now."""
    clock = tenure.ManualClock(1_700_000_000)
    c = serve(middleware(lifetime=10, rolling=True, clock=clock))
    c.post("/update_session", json={"id": 42})
    first = set_cookie(c.get("/view_session"))
    clock.advance(2)
    second = set_cookie(c.get("/view_session"))
    assert "Max-Age=10" in first and "Max-Age=10" in second
    assert re.search("Expires=[^;]+", first)[0] != re.search("Expires=[^;]+", second)[0]  # type: ignore[index]


def test_regenerate_session_id_and_get_session_id(serve: Any) -> None:
    """starsessions test_regenerate_session_id and test_get_session_id: a new id, same data,
    the old id dead. (A session created in the request has a fresh id already: it keeps it.)"""
    seen: dict[str, Any] = {}

    async def login(request: Request) -> JSONResponse:
        await tenure.asgi.load_session(request)
        assert tenure.asgi.is_loaded(request)
        seen["before"] = tenure.asgi.get_session_id(request)
        seen["after"] = tenure.asgi.regenerate_session_id(request)
        assert tenure.asgi.get_session_id(request) == seen["after"]
        meta = tenure.asgi.get_session_metadata(request)
        assert meta["lifetime"] == 14 * DAY and meta["created"] is not None
        assert tenure.asgi.get_session_remaining_seconds(request) == 14 * DAY
        return JSONResponse({})

    mw = middleware()
    mw.app.router.routes.append(Route("/login", login))  # type: ignore[attr-defined]
    c = serve(tenure.asgi.SessionAutoloadMiddleware(mw))
    c.post("/update_session", json={"user": "ann"})
    c.get("/login")
    assert seen["before"] != seen["after"]
    assert mw.manager.peek(seen["before"]) is None  # type: ignore[union-attr]
    assert c.get("/view_session").json() == {"session": {"user": "ann"}}


def test_session_with_an_async_store(serve: Any) -> None:
    """Starlette test_session again, on tenure.aio (an async store): the dict, the write
    re-sending the cookie, and clear() destroying the stored session and clearing the cookie."""
    import asyncio

    from tenure.stores import AsyncDictStore

    store = AsyncDictStore()
    c = serve(middleware(store=store))
    assert c.get("/view_session").json() == {"session": {}}
    r = c.post("/update_session", json={"some": "data"})
    assert r.json() == {"session": {"some": "data"}} and "Max-Age=1209600" in set_cookie(r)
    assert "Max-Age=1209600" in set_cookie(c.post("/inplace_update_session", content=json.dumps({"b": 2})))
    assert c.get("/view_session").json() == {"session": {"some": "data", "b": 2}}
    assert len(asyncio.run(store.ids())) == 1
    r = c.post("/clear_session")
    assert set_cookie(r).startswith("session=;")
    assert asyncio.run(store.ids()) == []


def test_vary_on_any_use_of_request_session(serve: Any) -> None:
    """Starlette (Request.session calls mark_accessed): using ``request.session`` at all,
    even an empty one serialised by JSONResponse, makes the response vary on Cookie."""

    async def look(request: Request) -> JSONResponse:
        return JSONResponse({"session": request.session})

    async def ignore(request: Request) -> JSONResponse:
        return JSONResponse({})

    c = serve(tenure.asgi.SessionMiddleware(Starlette(routes=[Route("/look", look), Route("/ignore", ignore)]),
                                            SECRET))
    assert c.get("/look").headers["vary"] == "Cookie"
    assert "vary" not in c.get("/ignore").headers
