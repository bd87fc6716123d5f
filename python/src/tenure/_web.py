"""What the ASGI and Flask integrations share: the lazily created per-request session and
the store calls around a request. The request lifecycle is the core's (``tenure::web``
through ``_native.WebConfig``): which id a request names, re-signing under rotation,
whether a new session is stored, and which ``Set-Cookie`` / clearing cookie / ``Vary`` the
response gets. This only wires it to requests."""

from __future__ import annotations

import inspect
import threading
from collections.abc import ItemsView, Iterator, KeysView, Sequence, ValuesView
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from datetime import timedelta

from . import _native
from ._errors import InvalidPolicy, SessionGone
from . import Session, SessionManager, _redis_of
from ._time import opt_ms

if TYPE_CHECKING:
    from . import aio

Secret = Union[str, bytes]
AnyManager = Union[SessionManager, "aio.SessionManager"]


class WebConfig:
    """Cookie and transport settings of one integration, checked by the core at start-up,
    and the manager it runs on."""

    def __init__(
        self,
        manager: Optional[AnyManager],
        secrets: Union[Secret, Sequence[Secret]],
        *,
        cookie_name: str = "session",
        max_age: Optional[float] = None,
        path: Optional[str] = "/",
        domain: Optional[str] = None,
        secure: bool = True,
        http_only: bool = True,
        same_site: Optional[str] = "lax",
        partitioned: bool = False,
        transport: str = "cookie",
        rolling: bool = False,
        save_uninitialized: bool = False,
        drop_emptied: bool = False,
        policy: Optional[dict[str, Any]] = None,
        who: str = "tenure",
        max_age_name: str = "max_age",
    ) -> None:
        self.secrets: list[Secret] = [secrets] if isinstance(secrets, (str, bytes)) else list(secrets)
        #: The core's lifecycle; wrong secrets, transport or cookie settings raise here.
        self.native = _native.WebConfig(
            self.secrets, transport=transport, name=cookie_name, path=path, domain=domain,
            http_only=http_only, secure=secure, same_site=same_site, partitioned=bool(partitioned),
            max_age_ms=_ms(max_age, max_age_name), rolling=bool(rolling),
            save_uninitialized=bool(save_uninitialized), drop_emptied=bool(drop_emptied),
        )
        self.manager: AnyManager = self._manager(manager, policy or {}, who, max_age_name)
        from . import aio

        #: The async manager, when the integration runs on one (store I/O is awaited).
        self.aio: Optional[aio.SessionManager] = (
            self.manager if isinstance(self.manager, aio.SessionManager) else None
        )
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.transport = transport
        self.rolling = rolling

    def _manager(self, manager: Optional[AnyManager], policy: dict[str, Any], who: str,
                 max_age_name: str) -> AnyManager:
        """``manager``, or one made from ``policy``; either way, one whose sessions live as
        long as their cookie (the core's one-lifetime rule: the timeouts ``policy`` leaves
        out follow the cookie's max age, and an idle timeout shorter than it is refused)."""
        from . import aio

        if manager is not None and policy:
            raise TypeError(
                f"{who}: {', '.join(sorted(policy))} would be ignored: policy options "
                "configure the SessionManager it makes, and a manager was given"
            )
        if manager is None:
            idle, absolute = self.native.server_timeouts()
            policy = dict(policy)
            policy.setdefault("idle_timeout", None if idle is None else timedelta(milliseconds=idle))
            policy.setdefault("absolute_timeout", None if absolute is None else timedelta(milliseconds=absolute))
            manager = aio.SessionManager(**policy) if _is_async_store(policy.get("store")) else SessionManager(**policy)
        try:
            idle_td = manager.idle_timeout
            self.native.check_timeouts(None if idle_td is None else idle_td // timedelta(milliseconds=1))
        except InvalidPolicy as e:
            raise InvalidPolicy(
                f"{who}: {e} (the cookie's max age is {max_age_name}; a browser-session cookie, "
                f"{max_age_name}=None, lets the manager's timeouts rule)"
            ) from None
        return manager

    @property
    def sync(self) -> SessionManager:
        """The synchronous manager (for calls that can't await)."""
        if not isinstance(self.manager, SessionManager):
            raise TypeError("this call needs a synchronous tenure.SessionManager")
        return self.manager

    def token(self, session_id: str) -> str:
        """A signed bearer token for `session_id`."""
        return self.native.token(session_id)


def _is_async_store(store: Any) -> bool:
    """Whether ``store`` needs ``tenure.aio`` (an asyncio Redis client, coroutine methods)."""
    redis = _redis_of(store)
    if redis is not None:
        return redis[2]
    return any(inspect.iscoroutinefunction(getattr(store, m, None)) for m in ("get", "insert", "replace", "delete", "ids"))


def _ms(seconds: Optional[float], name: str = "max_age") -> Optional[int]:
    # A negative, NaN or infinite max age is refused (at start-up, by name), never turned
    # into a header error on every response.
    return opt_ms(seconds, name)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``[1] != [True]`` here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return bool(a == b)


class RequestSession(Dict[str, Any]):
    """The session of one request: a ``dict`` (so ``JSONResponse({"session": request.session})``,
    ``json.dumps``, ``isinstance(s, dict)`` and FastAPI's encoders take it as Starlette's
    session, itself a dict) whose changes go to a tenure session. Reads of a request without
    a session see an empty dict; the first write creates a session (ids are minted only by
    the server, never taken from the client). A value tenure can't store is refused at the
    write (``InvalidType``/``InvalidValue``), and the dict is left as it was.

    Like the dict-based sessions it replaces, a list or dict read from it may be changed in
    place (``request.session["cart"].append(item)``, ``session.setdefault("seen", [])``):
    the dict holds one object per key for the whole request, and at the end of the request
    every such object handed out that differs from what the session holds is written back.

    ``accessed`` and ``modified`` are Starlette's and Flask's flags: ``modified`` is true once
    anything was written in this request (and stays true after the session is stored, as in
    Flask); setting it asks for the cookie to be sent again.
    """

    def __init__(self, cfg: WebConfig, session: Optional[Session], incoming: _native.Incoming) -> None:
        super().__init__()
        if session is not None:
            dict.update(self, session.to_dict())
        self._cfg = cfg
        self._s = session
        #: What the core read from the request (the id, where it came from, and why).
        self.incoming = incoming
        self.new = False
        # A new session whose id was handed out (token(), ensure()) is kept even if empty.
        self._keep = False
        self.accessed = False
        self.destroyed = False
        self.regenerated = False
        self._modified = False
        # With an async manager, store I/O can't happen in these synchronous methods: a
        # new session is a draft (stored when the response starts), and regenerate and
        # destroy are carried out then too (or at once with tenure.asgi's async helpers).
        self._draft = False
        self._regen = False
        self._destroy_id: Optional[str] = None
        # Keys whose list or dict was handed to the application (it may change them in place).
        self._handed: set[str] = set()

    # -- Starlette's Session API (request.session calls mark_accessed) ---------------------
    def mark_accessed(self) -> None:
        """The application looked at the session: the response varies on the credential."""
        self.accessed = True

    def mark_modified(self) -> None:
        """The session counts as changed: its cookie is sent again."""
        self.accessed = True
        self._modified = True

    # -- the dict ----------------------------------------------------------------------
    def _read(self) -> Optional[Session]:
        self.accessed = True
        return self._s

    def _write(self) -> Session:
        self.accessed = True
        if self._s is None:
            if self._cfg.aio is not None:
                self._s = self._cfg.aio.draft()
                self._draft = True
            else:
                self._s = self._cfg.sync.create()
            self.new = True
            self.destroyed = False
        return self._s

    def _reload(self) -> None:
        """Makes the dict what the session holds (after a change that cleared it)."""
        dict.clear(self)
        self._handed.clear()
        if self._s is not None:
            dict.update(self, self._s.to_dict())

    def ensure(self) -> Session:
        """The underlying tenure session, created now if the request has none. Its id is
        being used (``per_session``), so it is kept even if nothing is written to it."""
        self._keep = True
        return self._write()

    def _hand(self, key: str, value: Any) -> Any:
        if isinstance(value, (list, dict)):
            self._handed.add(key)
        return value

    def _hand_all(self) -> None:
        for key, value in dict.items(self):
            self._hand(key, value)

    def _flush(self) -> None:
        """Writes back the lists and dicts the application changed in place."""
        s, handed = self._s, self._handed
        self._handed = set()
        if s is None:
            return
        for key in handed:
            if dict.__contains__(self, key):
                obj = dict.__getitem__(self, key)
                if key not in s or not _same(obj, s[key]):
                    s[key] = obj
                    self._modified = True

    def __getitem__(self, key: str) -> Any:
        self._read()
        return self._hand(key, dict.__getitem__(self, key))

    def get(self, key: str, default: Any = None) -> Any:
        self._read()
        if not dict.__contains__(self, key):
            return default
        return self._hand(key, dict.__getitem__(self, key))

    def __setitem__(self, key: str, value: Any) -> None:
        s = self._write()
        s[key] = value  # checked first: a refused value changes nothing
        dict.__setitem__(self, key, value)
        self._modified = True
        self._hand(key, value)

    def __delitem__(self, key: str) -> None:
        s = self._read()
        if s is None or not dict.__contains__(self, key):
            raise KeyError(key)
        del s[key]
        dict.__delitem__(self, key)
        self._handed.discard(key)
        self._modified = True

    def __iter__(self) -> Iterator[str]:
        self._read()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._read()
        return dict.__len__(self)

    def __contains__(self, key: object) -> bool:
        self._read()
        return dict.__contains__(self, key)

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        self._read()
        return dict.keys(self)

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        self._read()
        self._hand_all()
        return dict.values(self)

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        # json.dumps and Starlette's JSONResponse read a dict subclass through items().
        self._read()
        self._hand_all()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        """A plain dict of the items (lists and dicts shared, as ``dict.copy`` does)."""
        self._read()
        self._hand_all()
        return dict(dict.items(self))

    def __reduce__(self) -> Any:
        # Pickled or deep-copied, a request session is the plain dict of its items.
        return (dict, (self.copy(),))

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__reduce__()

    def clear(self) -> None:
        s = self._read()
        if s is not None:
            s.clear()
        dict.clear(self)
        self._handed.clear()
        self._modified = True

    def update(self, *args: Any, **kwargs: Any) -> None:
        items: dict[Any, Any] = dict(*args, **kwargs)
        s = self._write()
        s.update(items)  # all or nothing
        dict.update(self, items)
        self._modified = True
        for key, value in items.items():
            self._handed.discard(key)
            self._hand(key, value)

    def __ior__(self, other: Any) -> RequestSession:  # type: ignore[override,misc]
        self.update(other)
        return self

    def pop(self, key: str, *default: Any) -> Any:
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        self._read()
        if not dict.__contains__(self, key):
            if default:
                return default[0]
            raise KeyError(key)
        value = dict.__getitem__(self, key)
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        self._read()
        if not dict.__len__(self):
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(dict.keys(self)))
        return key, self.pop(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._read()
        if not dict.__contains__(self, key):
            self[key] = default
        return self._hand(key, dict.__getitem__(self, key))

    def __repr__(self) -> str:
        return f"<tenure request session {dict.__repr__(self)}>"

    # -- tenure's extras -------------------------------------------------------------
    @property
    def id(self) -> Optional[str]:
        return None if self._s is None else self._s.id

    @property
    def session(self) -> Optional[Session]:
        """The underlying tenure session (None until one exists)."""
        return self._s

    @property
    def principal(self) -> Optional[str]:
        s = self._read()
        return None if s is None else s.principal

    @principal.setter
    def principal(self, value: Optional[str]) -> None:
        self.set_principal(value)

    def set_principal(self, principal: Optional[str], keep_data: bool = False) -> None:
        """Sets the user; a change of user clears the data unless ``keep_data``."""
        s = self._write()
        before = s.principal
        s.set_principal(principal, keep_data)
        self._modified = True
        if not keep_data and before is not None and before != principal:
            # The previous user's data is gone (and its lists and dicts not written back).
            self._reload()

    @property
    def modified(self) -> bool:
        """Whether anything was written in this request (or ``modified = True`` was set:
        the cookie is then sent again)."""
        return self._modified

    @modified.setter
    def modified(self, value: bool) -> None:
        self._modified = bool(value)

    def increment(self, key: str, by: int = 1) -> int:
        """Adds ``by`` to the int at ``key``; concurrent requests' increments add up."""
        n = self._write().increment(key, by)
        dict.__setitem__(self, key, n)
        self._handed.discard(key)
        self._modified = True
        return n

    def flash(self, category: str, message: str) -> None:
        self._write().flash(category, message)
        self._modified = True

    def take_flashes(self) -> list[tuple[str, str]]:
        s = self._read()
        flashes = [] if s is None else s.take_flashes()
        if flashes:
            self._modified = True
        return flashes

    def token(self) -> str:
        """A signed bearer token for this session (created if needed). With an async
        manager, a new session must be stored first: ``await tenure.asgi.ensure(request)``."""
        s = self._write()
        if self._draft or self._regen:
            raise RuntimeError(
                "the session's id is not final yet: call `await tenure.asgi.ensure(request)` "
                "(and `await tenure.asgi.aregenerate(request)` instead of regenerate) before token()"
            )
        self._keep = True
        return self._cfg.token(s.id)

    def regenerate(self, clear: bool = False) -> None:
        """A new id for this session (login, privilege change): the fixation defence.
        With an async manager the move happens when the response starts (or use
        ``await tenure.asgi.aregenerate(request)``)."""
        s = self._write()
        if self.new:
            if clear:
                s.clear()
        elif self._cfg.aio is not None:
            if clear:
                s.clear()
                s.take_flashes()
            self._regen = True
        else:
            self._flush()  # lists changed in place move with the data
            self._cfg.sync.regenerate(s, clear)
        if clear:
            self._reload()
        self.regenerated = True

    def destroy(self) -> None:
        """Ends the session; the response clears the cookie. With an async manager the
        stored session is destroyed when the response starts (or use
        ``await tenure.asgi.adestroy(request)``)."""
        self.accessed = True
        if self._s is not None and not self._draft:
            if self._cfg.aio is not None:
                self._destroy_id = self._s.id
            else:
                self._cfg.sync.destroy(self._s.id)
        self._s = None
        self._draft = self._regen = False
        dict.clear(self)
        self._handed.clear()
        self.new = False
        self.destroyed = True

    # -- with an async manager -----------------------------------------------------------
    async def astore(self) -> Session:
        """Stores a draft session now (so its id is final), and carries out a pending
        regenerate and destroy. Returns the session (created if the request had none)."""
        aio = self._cfg.aio
        s = self._write()
        self._keep = True
        if aio is None:
            return s
        if self._destroy_id is not None:
            gone, self._destroy_id = self._destroy_id, None
            await aio.destroy(gone)
        if self._draft:
            stored = await aio.create()
            old = s.id
            s._native.rebase(stored._native)
            self._draft = False
            aio.id_changed(old, s.id)  # per_session objects follow the draft's id
        if self._regen:
            self._regen = False
            await aio.regenerate(s)
        return s

    async def aregenerate(self, clear: bool = False) -> None:
        """``regenerate``, carried out now."""
        self.regenerate(clear)
        await self.astore()

    async def adestroy(self) -> None:
        """``destroy``, carried out now."""
        self.destroy()
        aio = self._cfg.aio
        if aio is not None and self._destroy_id is not None:
            gone, self._destroy_id = self._destroy_id, None
            await aio.destroy(gone)


def _find(cfg: WebConfig, cookie_header: Optional[str], authorization: Optional[str]) -> _native.Incoming:
    """Which id a request names, and why (the core reads both headers)."""
    return cfg.native.find(cookie_header, authorization)


class Sweeper:
    """The integrations' automatic sweep (a server-side session store that only grows is a
    leak): on a request, once ``interval`` seconds have passed since the last sweep *and* the
    manager's ``next_deadline`` has come, expired sessions are removed. One request at a time
    sweeps; the others go on. ``interval`` None (or 0) turns it off."""

    def __init__(self, manager: AnyManager, interval: Optional[float]) -> None:
        self.check(interval)
        self.manager = manager
        self.interval = float(interval) if interval else None
        #: When the next sweep is due (seconds since the epoch, on the manager's clock).
        self.due = manager.now() + self.interval if self.interval else float("inf")
        self._busy = threading.Lock()

    @staticmethod
    def check(interval: Optional[float]) -> None:
        """Refuses a ``sweep_interval`` that is not None or a non-negative number."""
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float))
                                     or interval != interval or interval < 0):
            raise InvalidPolicy(f"sweep_interval must be a non-negative number of seconds or None, not {interval!r}")

    def _schedule(self, now: float, deadline: Optional[float]) -> None:
        assert self.interval is not None
        # Never sooner than the interval; later if no session can expire before then (but
        # within ten intervals, for sessions made meanwhile with a shorter lifetime).
        later = now + 10 * self.interval
        self.due = max(now + self.interval, min(deadline if deadline is not None else later, later))

    def maybe(self) -> None:
        """Sweeps if due (synchronous manager)."""
        if self.manager.now() < self.due or not self._busy.acquire(blocking=False):
            return
        try:
            m = self.manager
            assert isinstance(m, SessionManager)
            m.sweep()
            self._schedule(m.now(), m.next_deadline())
        finally:
            self._busy.release()

    async def amaybe(self) -> None:
        """Sweeps if due (synchronous or asynchronous manager)."""
        m = self.manager
        if not isinstance(m, SessionManager):
            if m.now() < self.due or not self._busy.acquire(blocking=False):
                return
            try:
                await m.sweep()
                self._schedule(m.now(), await m.next_deadline())
            finally:
                self._busy.release()
        else:
            self.maybe()


def load(cfg: WebConfig, cookie_header: Optional[str], authorization: Optional[str]) -> RequestSession:
    """The session a request names, if it is valid and alive; otherwise an empty one. A
    tampered, unknown or expired id silently gets a fresh (lazy) session."""
    incoming = _find(cfg, cookie_header, authorization)
    sid = incoming.id
    session = cfg.sync.open(sid) if sid is not None else None
    return RequestSession(cfg, session, incoming)


async def aload(cfg: WebConfig, cookie_header: Optional[str], authorization: Optional[str]) -> RequestSession:
    """``load`` with an async manager: the store is awaited."""
    assert cfg.aio is not None
    incoming = _find(cfg, cookie_header, authorization)
    sid = incoming.id
    session = await cfg.aio.open(sid) if sid is not None else None
    return RequestSession(cfg, session, incoming)


def _begin(rs: RequestSession) -> Optional[Session]:
    """The session to store at the end of the request (None: there is none), with the
    lists and dicts changed in place written back."""
    if rs.session is None:
        return None
    rs._flush()
    return rs.session


def _stored(rs: RequestSession) -> str:
    """How a stored session ends, for the core."""
    return "created" if rs.new else "regenerated" if rs.regenerated else "kept"


def _respond(cfg: WebConfig, rs: RequestSession, ending: str, s: Optional[Session],
             max_age: Optional[float], refresh: bool) -> list[tuple[str, str]]:
    """The headers the core decides for this ending (Vary, Set-Cookie or the clearing one)."""
    h = cfg.native.respond_with_max_age(
        rs.incoming, ending, _ms(max_age), now_ms=round(cfg.manager.now() * 1000),
        id=None if s is None else s.id, accessed=rs.accessed, refresh=refresh,
    )
    headers: list[tuple[str, str]] = []
    if h.vary is not None:
        headers.append(("Vary", h.vary))
    if h.set_cookie is not None:
        headers.append(("Set-Cookie", h.set_cookie))
    return headers


def finish(cfg: WebConfig, rs: RequestSession, max_age: Optional[float],
           refresh: bool = False) -> list[tuple[str, str]]:
    """Commits the request's changes and returns the headers to add, before the response
    starts (``refresh``: the framework asks for the cookie again). A store failure raises
    here, so the framework answers 500 instead of a lie."""
    s = _begin(rs)
    ending = "destroyed" if rs.destroyed else "no_session"
    if s is not None:
        if rs.new and not rs._keep and not cfg.native.keep_new_session(s):
            # Written to, then emptied again: the core keeps no such session, and its id
            # was never handed out, so the one stored when it was first written goes.
            cfg.sync.destroy(s.id)
            ending, s = "no_session", None
        elif not rs.new and cfg.native.drops_emptied(s):
            # Emptied by the request (Starlette's and Flask's logout): it ends.
            cfg.sync.destroy(s.id)
            ending, s = "destroyed", None
        else:
            try:
                if s.modified:
                    cfg.sync.commit(s)
                ending = _stored(rs)
            except SessionGone:
                # Destroyed or expired meanwhile (e.g. "log out everywhere"): never resurrected.
                ending = "gone"
    return _respond(cfg, rs, ending, s, max_age, refresh)


async def afinish(cfg: WebConfig, rs: RequestSession, max_age: Optional[float],
                  refresh: bool = False) -> list[tuple[str, str]]:
    """``finish`` with an async manager: stores a new session (if the core keeps it),
    carries out a pending regenerate or destroy, and commits, awaiting the store."""
    aio = cfg.aio
    assert aio is not None
    if rs._destroy_id is not None:
        gone_id, rs._destroy_id = rs._destroy_id, None
        await aio.destroy(gone_id)
    s = _begin(rs)
    ending = "destroyed" if rs.destroyed else "no_session"
    if s is not None:
        if rs._draft and not rs._keep and not cfg.native.keep_new_session(s):
            ending, s = "no_session", None  # never stored
        elif not rs.new and cfg.native.drops_emptied(s):
            rs._regen = False
            await aio.destroy(s.id)
            ending, s = "destroyed", None
        else:
            try:
                await rs.astore()
                if s.modified:
                    await aio.commit(s)
                ending = _stored(rs)
            except SessionGone:
                ending = "gone"
    return _respond(cfg, rs, ending, s, max_age, refresh)
