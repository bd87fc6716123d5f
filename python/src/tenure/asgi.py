"""``tenure.asgi.SessionMiddleware``: a drop-in for Starlette's ``SessionMiddleware`` whose
``request.session`` (Starlette, FastAPI) is a server-side tenure session.

    app.add_middleware(SessionMiddleware, secret_key=SECRET)          # same arguments
    ...
    request.session["user"] = "ann"; tenure.asgi.regenerate(request)    # on login
    tenure.asgi.destroy(request)                                        # on logout

Differences from Starlette's: data lives on the server (the cookie holds only a signed
id), so it can be revoked, expires on the server (idle and absolute timeouts), and
concurrent requests merge instead of overwriting each other. ``secret_key`` may be a list
(the first signs, all verify) and must be at least 32 bytes.

With an asynchronous store, give the middleware a ``tenure.aio.SessionManager`` (or the
store itself: ``store=tenure.stores.AsyncFileStore(path)`` picks the async manager), and
store I/O never blocks the event loop: the session is loaded before the app runs and
committed before the response starts. A store failure then is an exception before the
response starts, which Starlette answers with a 500. The synchronous helpers work there
too (a new session is stored, and ``regenerate``/``destroy`` carried out, when the response
starts); ``await ensure(request)``, ``await aregenerate(request)`` and
``await adestroy(request)`` do it at once (``ensure`` before handing out a bearer token).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, MutableMapping, Sequence
from typing import Any, Callable, Optional, Union

from . import Session, SessionManager, _redis_of, aio
from ._web import AnyManager, RequestSession, Secret, Sweeper, WebConfig, afinish, aload, finish, load

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["SessionMiddleware", "regenerate", "destroy", "session_of", "ensure", "aregenerate", "adestroy"]


def _is_async_store(store: Any) -> bool:
    redis = _redis_of(store)
    if redis is not None:
        return redis[2]
    return any(inspect.iscoroutinefunction(getattr(store, m, None)) for m in ("get", "insert", "replace", "delete", "ids"))


class SessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        secret_key: Union[Secret, Sequence[Secret]],
        session_cookie: str = "session",
        max_age: Optional[int] = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: str = "lax",
        https_only: bool = False,
        domain: Optional[str] = None,
        *,
        manager: Optional[AnyManager] = None,
        transport: str = "cookie",
        rolling: bool = False,
        save_uninitialized: bool = False,
        sweep_interval: Optional[float] = 60.0,
        **policy: Any,
    ) -> None:
        self.app = app
        if manager is not None and policy:
            raise TypeError(
                f"tenure.asgi.SessionMiddleware: {', '.join(sorted(policy))} would be ignored: "
                "policy options configure the SessionManager it makes, and a manager was given"
            )
        if manager is None:
            if _is_async_store(policy.get("store")):
                manager = aio.SessionManager(**policy)
            else:
                manager = SessionManager(**policy)
        self.manager: AnyManager = manager
        self.max_age = max_age
        self.config = WebConfig(
            self.manager, secret_key, cookie_name=session_cookie, max_age=max_age, path=path,
            domain=domain, secure=https_only, same_site=same_site, transport=transport,
            rolling=rolling, save_uninitialized=save_uninitialized,
        )
        #: Removes expired sessions now and then (every ``sweep_interval`` seconds at most,
        #: and only once one can have expired); None turns it off.
        self.sweeper = Sweeper(self.manager, sweep_interval)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookie: list[str] = []
        authorization: Optional[str] = None
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie.append(value.decode("latin-1"))
            elif name == b"authorization":
                authorization = value.decode("latin-1")
        cfg = self.config
        await self.sweeper.amaybe()
        if cfg.aio is not None:
            rs = await aload(cfg, "; ".join(cookie) or None, authorization)
        else:
            rs = load(cfg, "; ".join(cookie) or None, authorization)
        scope["session"] = rs

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                if cfg.aio is not None:
                    extra = await afinish(cfg, rs, self.max_age)
                else:
                    extra = finish(cfg, rs, self.max_age)
                headers = list(message.get("headers", []))
                headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_session)


def session_of(request: Any) -> RequestSession:
    """The tenure request session of a Starlette/FastAPI request."""
    rs = request.scope.get("session")
    if not isinstance(rs, RequestSession):
        raise RuntimeError("tenure.asgi.SessionMiddleware is not installed")
    return rs


def regenerate(request: Any, clear: bool = False) -> None:
    """Moves the request's session to a new id (call on login and privilege changes)."""
    session_of(request).regenerate(clear)


def destroy(request: Any) -> None:
    """Destroys the request's session; the response clears the cookie."""
    session_of(request).destroy()


async def ensure(request: Any) -> Session:
    """The request's session, stored now if it is new (its id is then final: call this
    before ``token()`` with an async manager). Works with sync managers too."""
    return await session_of(request).astore()


async def aregenerate(request: Any, clear: bool = False) -> None:
    """``regenerate``, carried out at once with an async manager."""
    await session_of(request).aregenerate(clear)


async def adestroy(request: Any) -> None:
    """``destroy``, carried out at once with an async manager."""
    await session_of(request).adestroy()
