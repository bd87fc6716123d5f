"""The "35-sessions" sample API (mORMot2 / DMVC) on tenure, Starlette edition.

    PORT=8080 STORE_DIR=/tmp/sessions TENURE_SECRET=... python server.py
    PORT=8080 REDIS_URL=redis://127.0.0.1:6379/0 TENURE_SECRET=... python server.py

Two users, isolated session data, atomic counters, an admin list of active sessions and a
per-session shopping cart. The API is documented in docs/demo.md.
"""

from __future__ import annotations

import hmac
import inspect
import json
import os
import sys
from typing import Any, Awaitable, Callable, Optional, Union

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


def make_app(manager: Union[tenure.SessionManager, tenure.aio.SessionManager], secret: str) -> Starlette:
    carts = manager.per_session(Cart)

    async def body_of(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
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

    app = Starlette(
        routes=[
            Route("/root/Auth", auth, methods=["POST"]),
            Route("/root/Logout", logout, methods=["POST"]),
            Route("/root/{call}", call, methods=["POST"]),
        ],
        exception_handlers={ApiError: on_api_error},
    )
    # A browser-session cookie, as the Express demo's: the manager's timeouts rule.
    app.add_middleware(tenure.asgi.SessionMiddleware, secret_key=secret, session_cookie="sid",
                       https_only=False, transport="both", manager=manager, max_age=None)
    return app


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    host = os.environ.get("HOST", "127.0.0.1")
    secret = os.environ.get("TENURE_SECRET") or DEV_SECRET
    if secret == DEV_SECRET:
        print("warning: TENURE_SECRET is not set; using the development secret", file=sys.stderr)
    store_dir: Optional[str] = os.environ.get("STORE_DIR")
    redis_url: Optional[str] = os.environ.get("REDIS_URL")
    manager: Union[tenure.SessionManager, tenure.aio.SessionManager]
    if redis_url:  # sessions in Redis, shared with the Node server (same prefix and secret)
        import redis.asyncio
        from tenure.redis import AsyncRedisStore

        client = redis.asyncio.Redis.from_url(redis_url)
        manager = tenure.aio.SessionManager(store=AsyncRedisStore(client, prefix=os.environ.get("REDIS_PREFIX", "tenure:")))
    else:
        manager = tenure.SessionManager(store=tenure.FileStore(store_dir) if store_dir else None)
    print(f"tenure sessions demo (Python) on http://{host}:{port}/root")
    print(f"""  curl -X POST "http://{host}:{port}/root/Auth?UserName=user1" -H "Content-Type: application/json" -d '{{"UserName":"user1","PassWord":"pass1"}}'""")
    sys.stdout.flush()
    uvicorn.run(make_app(manager, secret), host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
