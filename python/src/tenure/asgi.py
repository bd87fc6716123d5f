"""``tenure.asgi.SessionMiddleware``: a drop-in for Starlette's ``SessionMiddleware`` whose
``request.session`` (Starlette, FastAPI) is a server-side tenure session.

    app.add_middleware(SessionMiddleware, secret_key=SECRET)          # same arguments
    ...
    request.session["user"] = "ann"; tenure.asgi.regenerate(request)    # on login
    request.session.clear()   # or tenure.asgi.destroy(request): on logout (the session ends)

``request.session`` is a ``dict`` (as Starlette's is), the server keeps a session as long as
its cookie's ``max_age``, and starsessions' option names and helpers are accepted too.

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

import time
from collections.abc import Awaitable, MutableMapping, Sequence
from datetime import timedelta
from typing import Any, Callable, Optional, Union

from . import Session
from ._web import AnyManager, RequestSession, Secret, Sweeper, WebConfig, afinish, aload, finish, load

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = [
    "SessionMiddleware", "regenerate", "destroy", "session_of", "ensure", "aregenerate", "adestroy",
    # starsessions' helpers
    "SessionAutoloadMiddleware", "load_session", "is_loaded", "regenerate_session_id", "get_session_id",
    "get_session_metadata", "get_session_remaining_seconds",
]


#: starsessions' argument names and the Starlette names they mean here.
_STARSESSIONS = {
    "lifetime": "max_age", "cookie_name": "session_cookie", "cookie_same_site": "same_site",
    "cookie_https_only": "https_only", "cookie_domain": "domain", "cookie_path": "path",
}
_DEFAULTS: dict[str, Any] = {
    "max_age": 14 * 24 * 60 * 60, "session_cookie": "session", "same_site": "lax",
    "https_only": False, "domain": None, "path": "/",
}


class SessionMiddleware:
    """Starlette's ``SessionMiddleware`` arguments (``partitioned`` included), and
    starsessions' names for the same settings (``lifetime``, ``cookie_name``,
    ``cookie_same_site``, ``cookie_https_only``, ``cookie_domain``, ``cookie_path``; a
    ``lifetime`` of 0 is a browser-session cookie, as there). The defaults are Starlette's.

    The manager it makes lives as long as the cookie: ``idle_timeout`` and
    ``absolute_timeout`` follow ``max_age`` unless given; a ``manager=`` (or an
    ``idle_timeout``) shorter than ``max_age`` is refused (``InvalidPolicy``), since it would
    log out users whose cookie is still valid. As in Starlette, writing to the session sends
    the cookie again (its ``Max-Age`` starts over), and emptying it (``session.clear()``)
    ends it: the stored session is destroyed and the cookie cleared.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: Union[Secret, Sequence[Secret]],
        session_cookie: str = "session",
        max_age: Optional[float] = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: str = "lax",
        https_only: bool = False,
        domain: Optional[str] = None,
        partitioned: bool = False,
        *,
        manager: Optional[AnyManager] = None,
        transport: str = "cookie",
        rolling: bool = False,
        save_uninitialized: bool = False,
        sweep_interval: Optional[float] = 60.0,
        **policy: Any,
    ) -> None:
        self.app = app
        given: dict[str, Any] = {"max_age": max_age, "session_cookie": session_cookie, "same_site": same_site,
                 "https_only": https_only, "domain": domain, "path": path}
        for alias, name in _STARSESSIONS.items():
            if alias in policy:
                if given[name] != _DEFAULTS[name]:
                    raise TypeError(f"tenure.asgi.SessionMiddleware: {alias} (starsessions) and {name} "
                                    "(Starlette) name the same setting: give one")
                value = policy.pop(alias)
                if alias == "lifetime" and value == 0:
                    value = None  # starsessions: 0 is a browser-session cookie
                if alias == "cookie_path" and value is None:
                    value = "/"
                given[name] = value
        max_age = given["max_age"]
        if isinstance(max_age, timedelta):
            max_age = max_age.total_seconds()
        self.max_age: Optional[float] = max_age
        self.config = WebConfig(
            manager, secret_key, cookie_name=given["session_cookie"], max_age=max_age,
            path=given["path"], domain=given["domain"], secure=bool(given["https_only"]),
            same_site=given["same_site"], partitioned=partitioned, transport=transport,
            rolling=rolling, save_uninitialized=save_uninitialized, drop_emptied=True,
            policy=policy, who="tenure.asgi.SessionMiddleware",
        )
        self.manager: AnyManager = self.config.manager
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
                # As in Starlette, a changed session sends its cookie again.
                if cfg.aio is not None:
                    extra = await afinish(cfg, rs, self.max_age, refresh=rs.modified)
                else:
                    extra = finish(cfg, rs, self.max_age, refresh=rs.modified)
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


# -- starsessions' helpers, so an app written for starsessions runs with its imports swapped --


class SessionAutoloadMiddleware:
    """starsessions' ``SessionAutoloadMiddleware``: here every request's session is loaded
    by ``SessionMiddleware`` already, so this passes requests through (``paths`` accepted)."""

    def __init__(self, app: ASGIApp, paths: Optional[Sequence[Any]] = None) -> None:
        self.app = app
        self.paths = list(paths or [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def load_session(request: Any) -> None:
    """starsessions' ``load_session``: the session is loaded before the app runs; this only
    checks that the middleware is installed."""
    session_of(request)


def is_loaded(request: Any) -> bool:
    """starsessions' ``is_loaded``: always true under ``SessionMiddleware``."""
    return isinstance(request.scope.get("session"), RequestSession)


def get_session_id(request: Any) -> Optional[str]:
    """The session's id (None while the request has no session). A secret: don't show it."""
    return session_of(request).id


def regenerate_session_id(request: Any) -> str:
    """starsessions' ``regenerate_session_id``: moves the session to a new id and returns it
    (a synchronous manager; with ``tenure.aio`` use ``await aregenerate(request)``)."""
    rs = session_of(request)
    if rs._cfg.aio is not None:
        raise RuntimeError("with an async manager the new id is known once stored: "
                           "`await tenure.asgi.aregenerate(request)`, then `session_of(request).id`")
    rs.regenerate()
    s = rs.session
    assert s is not None
    return s.id


def get_session_metadata(request: Any) -> dict[str, Optional[float]]:
    """starsessions' ``get_session_metadata``: ``created`` and ``last_access`` (seconds since
    the epoch) and ``lifetime`` (the cookie's max age in seconds, None for a
    browser-session cookie); ``expires_at`` too (the server's deadline, None for never)."""
    rs = session_of(request)
    s = rs.session
    now = time.time() if s is None else None
    return {
        "lifetime": rs._cfg.max_age,
        "created": now if s is None else s.created_at,
        "last_access": now if s is None else s.last_access,
        "expires_at": None if s is None else s.expires_at,
    }


def get_session_remaining_seconds(request: Any) -> Optional[int]:
    """Seconds until the session expires on the server (None for never; the whole idle
    timeout for a request without a session yet)."""
    rs = session_of(request)
    s = rs.session
    if s is None:
        idle = rs._cfg.manager.idle_timeout
        return None if idle is None else int(idle.total_seconds())
    deadline = s.expires_at
    return None if deadline is None else max(0, int(deadline - rs._cfg.manager.now()))
