"""The "35-sessions" sample API (mORMot2 / DMVC) on tenure, Starlette edition.

    PORT=8080 STORE_DIR=/tmp/sessions TENURE_SECRET=... python server.py
    PORT=8080 REDIS_URL=redis://127.0.0.1:6379/0 TENURE_SECRET=... python server.py

Two users, isolated session data, atomic counters, an admin list of active sessions and a
per-session shopping cart. The API is documented in docs/demo.md.

Soak knobs (scripts/soak.py): IDLE_TIMEOUT_MS, ABSOLUTE_TIMEOUT_MS, SWEEP_INTERVAL_MS, and
METRICS_MS (a ``tenure-metrics {json}`` line on stderr that often: RSS, sessions, the event
loop's longest lag, measured by a probe task).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import json
import os
import sys
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, Union

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import tenure
import tenure.aio
import tenure.asgi

USERS = {"user1": "pass1", "user2": "pass2"}
# ListActiveSessions pages: the default and the largest page size.
LIST_DEFAULT, LIST_MAX = 100, 1000
PRICES = {"item1": 10.50, "item2": 25.00, "item3": 15.75}
DEV_SECRET = "tenure-demo-development-secret-change-me!"
# The largest request body read (the same in the three demos); a larger one is a 413.
BODY_LIMIT = 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Cart:
    """One per session (sicPerSession): lives in this process, as in the sample."""

    def __init__(self) -> None:
        self.items: dict[str, int] = {}

    def view(self) -> dict[str, Any]:
        items = [
            {"item_id": i, "quantity": q, "price": PRICES[i], "subtotal": round(PRICES[i] * q, 2)}
            for i, q in self.items.items()
        ]
        return {"items": items, "total": self.total(), "item_count": len(items)}

    def total(self) -> float:
        return round(sum(PRICES[i] * q for i, q in self.items.items()), 2)


async def settle(x: Any) -> Any:
    """A manager call's result: awaited with tenure.aio (REDIS_URL), as is without."""
    return await x if inspect.isawaitable(x) else x


def env_ms(name: str) -> Optional[int]:
    """A whole number of milliseconds from the environment, or None when unset."""
    v = os.environ.get(name, "")
    if not v:
        return None
    if not v.isdigit():
        raise SystemExit(f"{name} must be a whole number of milliseconds, not {v!r}")
    return int(v)


def rss_bytes() -> int:
    """This process's resident set size now (Linux), 0 elsewhere."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


async def longest_lags(period: float) -> AsyncIterator[float]:
    """The event loop's longest lag (seconds) in each `period` seconds, from a probe that asks
    to wake every 10 ms (scripts/soak.py runs it alone too, as the machine's baseline)."""
    loop = asyncio.get_running_loop()
    worst, since = 0.0, loop.time()
    while True:
        t = loop.time()
        await asyncio.sleep(0.01)
        worst = max(worst, loop.time() - t - 0.01)
        if loop.time() - since >= period:
            yield worst
            worst, since = 0.0, loop.time()


async def report_metrics(manager: Union[tenure.SessionManager, tenure.aio.SessionManager], every_ms: int) -> None:
    """Every `every_ms`: a `tenure-metrics` line on stderr with the RSS, the sessions and the
    longest lag of the event loop."""
    async for lag in longest_lags(every_ms / 1000):
        m = await settle(manager.metrics())
        line = {"rss": rss_bytes(), "active": m["active"], "expiredTotal": m["expired_total"],
                "stallMs": round(lag * 1000, 2)}
        print("tenure-metrics " + json.dumps(line), file=sys.stderr, flush=True)


def make_app(manager: Union[tenure.SessionManager, tenure.aio.SessionManager], secret: str,
             sweep_interval: Optional[float] = 60.0, metrics_ms: Optional[int] = None) -> Starlette:
    carts = manager.per_session(Cart)

    async def body_of(request: Request) -> dict[str, Any]:
        # Kept up to the limit; the rest of a larger body is read and dropped as it arrives
        # (memory stays bounded), so the client, still sending, gets the 413 instead of a
        # connection reset.
        raw = bytearray()
        over = False
        async for chunk in request.stream():
            if not over:
                raw += chunk
                over = len(raw) > BODY_LIMIT
        if over:
            raise ApiError(413, f"request body larger than {BODY_LIMIT} bytes")
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except RecursionError:
            # Python's parser recurses: nesting past ~1,000 levels (tenure's own limit,
            # max_depth, refuses far less with LimitExceeded once the value is set).
            raise ApiError(400, "JSON body nested too deeply")
        except ValueError:
            raise ApiError(400, "malformed JSON body")
        if not isinstance(body, dict):
            raise ApiError(400, "the JSON body must be an object")
        return body

    def field(body: dict[str, Any], name: str, kind: type, what: str) -> Any:
        if name not in body:
            raise ApiError(400, f"missing field '{name}'")
        v = body[name]
        if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
            raise ApiError(400, f"field '{name}' must be {what}")
        if kind is str and not isinstance(v, str):
            raise ApiError(400, f"field '{name}' must be {what}")
        return v

    def current(request: Request) -> tenure.Session:
        s = tenure.asgi.session_of(request).session
        if s is None or s.principal is None:
            raise ApiError(401, "authentication required: log in at /root/Auth")
        return s

    async def session_api(method: str, s: tenure.Session, body: dict[str, Any]) -> Any:
        if method == "SetValue":
            key = field(body, "key", str, "a string")
            if "value" not in body:
                raise ApiError(400, "missing field 'value'")
            s[key] = body["value"]
            return {"key": key, "value": body["value"]}
        if method == "GetValue":
            key = field(body, "key", str, "a string")
            if key not in s:
                raise ApiError(404, f"no value for key '{key}'")
            return {"key": key, "value": s[key]}
        if method == "ListKeys":
            return {"keys": sorted(s)}
        if method == "DeleteValue":
            key = field(body, "key", str, "a string")
            deleted = key in s
            if deleted:
                del s[key]
            return {"key": key, "deleted": deleted}
        if method == "ClearSession":
            s.clear()
            return {"cleared": True}
        if method == "SessionInfo":
            return {"id": s.public_id, "user": s.principal, "created": round(s.created_at * 1000),
                    "last_access": round(s.last_access * 1000),
                    "expires_at": None if s.expires_at is None else round(s.expires_at * 1000)}
        if method == "ListActiveSessions":
            # One bounded page per call (at most LIST_MAX sessions read), never the whole store.
            cursor = body.get("cursor")
            limit = body.get("limit", LIST_DEFAULT)
            if cursor is not None and not isinstance(cursor, str):
                raise ApiError(400, "field 'cursor' must be a string or null")
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIST_MAX:
                raise ApiError(400, f"field 'limit' must be an integer from 1 to {LIST_MAX}")
            try:
                page, cursor = await settle(manager.list(cursor, limit))
            except tenure.StoreError:
                raise ApiError(400, "invalid cursor") from None
            out = [{"user": r["principal"], "id": r["public_id"]} for r in page if r["principal"]]
            return {"sessions": out, "count": len(out), "cursor": cursor}
        if method == "IncrementCounter":
            key = field(body, "key", str, "a string")
            s.increment(key)
            await settle(manager.commit(s))  # merged with concurrent requests: the value is the stored one
            return {"key": key, "value": s[key]}
        raise ApiError(404, f"unknown method SessionApi.{method}")

    async def cart_api(method: str, s: tenure.Session, body: dict[str, Any]) -> Any:
        cart = carts(s)
        if method == "AddItem":
            item = field(body, "itemId", str, "a string")
            qty = field(body, "quantity", int, "a positive integer")
            if qty <= 0:
                raise ApiError(400, "field 'quantity' must be a positive integer")
            if item not in PRICES:
                raise ApiError(404, f"unknown item '{item}'")
            cart.items[item] = cart.items.get(item, 0) + qty
            return cart.view()
        if method == "RemoveItem":
            item = field(body, "itemId", str, "a string")
            if item not in cart.items:
                raise ApiError(404, f"item '{item}' is not in the cart")
            del cart.items[item]
            return cart.view()
        if method == "GetCart":
            return cart.view()
        if method == "ClearCart":
            cart.items.clear()
            return cart.view()
        if method == "GetTotal":
            return {"total": cart.total()}
        raise ApiError(404, f"unknown method CartApi.{method}")

    async def auth(request: Request) -> JSONResponse:
        body = await body_of(request)
        user, password = body.get("UserName"), body.get("PassWord")
        query_user = request.query_params.get("UserName")
        # An unknown user is refused whatever the password (USERS.get(user) is None, and so
        # is a missing PassWord: comparing the two would let anyone in).
        known = USERS.get(user) if isinstance(user, str) else None
        if known is None or not isinstance(password, str) or not hmac.compare_digest(known, password) \
                or (query_user and query_user != user):
            raise ApiError(401, "wrong user name or password")
        rs = tenure.asgi.session_of(request)
        # The user first: a login as someone else clears the previous user's data (and the
        # regeneration then drops the cart).
        rs.principal = user
        await rs.aregenerate()  # new id on login (now, so the token is final): the fixation defence
        return JSONResponse({"session": rs.token(), "user": user})

    async def logout(request: Request) -> JSONResponse:
        current(request)
        tenure.asgi.destroy(request)
        return JSONResponse({"logged_out": True})

    apis: dict[str, Callable[[str, tenure.Session, dict[str, Any]], Awaitable[Any]]] = {
        "SessionApi": session_api, "CartApi": cart_api,
    }

    async def call(request: Request) -> JSONResponse:
        api, _, method = request.path_params["call"].partition(".")
        if api not in apis:
            raise ApiError(404, f"unknown service {api}")
        s = current(request)
        body = await body_of(request)
        try:
            return JSONResponse(await apis[api](method, s, body))
        except (tenure.InvalidValue, tenure.LimitExceeded) as e:
            raise ApiError(400, str(e))
        except tenure.SessionGone:
            raise ApiError(401, "the session has ended")

    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(report_metrics(manager, metrics_ms)) if metrics_ms else None
        yield
        if task:
            task.cancel()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/root/Auth", auth, methods=["POST"]),
            Route("/root/Logout", logout, methods=["POST"]),
            Route("/root/{call}", call, methods=["POST"]),
        ],
        exception_handlers={ApiError: on_api_error},
    )
    # A browser-session cookie, as the Express demo's: the manager's timeouts rule.
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=secret, session_cookie="sid",
                       https_only=False, transport="both", manager=manager, max_age=None,
                       sweep_interval=sweep_interval)
    return app


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    host = os.environ.get("HOST", "127.0.0.1")
    secret = os.environ.get("TENURE_SECRET") or DEV_SECRET
    if secret == DEV_SECRET:
        print("warning: TENURE_SECRET is not set; using the development secret", file=sys.stderr)
    store_dir: Optional[str] = os.environ.get("STORE_DIR")
    redis_url: Optional[str] = os.environ.get("REDIS_URL")
    timeouts = {k: ms / 1000 for k, ms in (("idle_timeout", env_ms("IDLE_TIMEOUT_MS")),
                                            ("absolute_timeout", env_ms("ABSOLUTE_TIMEOUT_MS"))) if ms is not None}
    sweep_ms = env_ms("SWEEP_INTERVAL_MS")
    manager: Union[tenure.SessionManager, tenure.aio.SessionManager]
    if redis_url:  # sessions in Redis, shared with the Node server (same prefix and secret)
        import redis.asyncio
        from tenure.redis import AsyncRedisStore

        client = redis.asyncio.Redis.from_url(redis_url)
        manager = tenure.aio.SessionManager(store=AsyncRedisStore(client, prefix=os.environ.get("REDIS_PREFIX", "tenure:")),
                                            **timeouts)
    else:
        manager = tenure.SessionManager(store=tenure.FileStore(store_dir) if store_dir else None, **timeouts)
    print(f"tenure sessions demo (Python) on http://{host}:{port}/root")
    print(f"""  curl -X POST "http://{host}:{port}/root/Auth?UserName=user1" -H "Content-Type: application/json" -d '{{"UserName":"user1","PassWord":"pass1"}}'""")
    sys.stdout.flush()
    app = make_app(manager, secret, sweep_interval=60.0 if sweep_ms is None else sweep_ms / 1000,
                   metrics_ms=env_ms("METRICS_MS"))
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
