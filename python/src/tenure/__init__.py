"""tenure: server-side sessions with idle and absolute timeouts enforced on the server,
merged concurrent commits, exact types and express-session-compatible signed cookies.

One Rust core shared with Node and Rust: a session written here can be read and changed
there, byte for byte. See ``docs/python.md``.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Iterator, MutableMapping
from datetime import datetime, timedelta
from typing import Any, Callable, Generic, Optional, TypeVar, Union

from . import _native
from ._errors import (
    DecodeError,
    EntropyError,
    InvalidPolicy,
    InvalidType,
    InvalidValue,
    LimitExceeded,
    SessionGone,
    StoreError,
    TenureError,
    TooManySessions,
)
from ._native import (
    Incoming,
    ResponseHeaders,
    record_version,
    check_secrets,
    decode_record,
    encode_uri_component,
    find_session_id,
    is_plausible_id,
    parse_bearer,
    parse_cookie_header,
    sign_cookie,
    sign_token,
    unsign_cookie,
    unsign_cookie_index,
    unsign_token,
)
from ._time import MAX_MS, Duration, opt_ms, seconds, to_ms
from .stores import FileStore
from .web import WebConfig, build_set_cookie

__all__ = [
    "SessionManager", "Session", "ManualClock", "PerSession", "FileStore",
    "TenureError", "SessionGone", "InvalidValue", "InvalidType", "LimitExceeded",
    "TooManySessions", "StoreError", "InvalidPolicy", "DecodeError", "EntropyError",
    "sign_cookie", "unsign_cookie", "unsign_cookie_index", "check_secrets",
    "parse_cookie_header", "find_session_id", "encode_uri_component", "parse_bearer",
    "sign_token", "unsign_token", "build_set_cookie", "decode_record", "is_plausible_id",
    "record_version", "WebConfig", "Incoming", "ResponseHeaders",
]

T = TypeVar("T")

_log = logging.getLogger("tenure")
def _info(native: dict[str, Any]) -> dict[str, Any]:
    """A listed session as Python sees it: the names and unit (seconds since the epoch) of
    ``Session``'s attributes (the core's ``created_at``/``last_access`` in ms)."""
    return {
        "id": native["id"], "public_id": native["public_id"], "principal": native["principal"],
        "created_at": native["created_at"] / 1000.0, "last_access": native["last_access"] / 1000.0,
        "expires_at": seconds(native["expires_at"]), "version": native["version"],
    }


def _infos(native: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_info(d) for d in native]


def _metrics(native: dict[str, int]) -> dict[str, Union[int, float]]:
    """The core's counters, with the two durations in seconds (``max_alive``,
    ``avg_alive``) like every other time of the Python API."""
    out: dict[str, Union[int, float]] = {k: v for k, v in native.items() if not k.endswith("_alive_ms")}
    out["max_alive"] = native["max_alive_ms"] / 1000.0
    out["avg_alive"] = native["avg_alive_ms"] / 1000.0
    return out


class ManualClock:
    """A clock that moves only when told to, so tests fast-forward instead of sleeping.
    Times are seconds since the epoch (floats), like ``time.time()``."""

    __slots__ = ("_native",)

    def __init__(self, start: Union[float, int, datetime] = 0.0) -> None:
        self._native = _native.ManualClock(self._to_ms(start))

    @staticmethod
    def _to_ms(t: Union[float, int, datetime]) -> int:
        if isinstance(t, datetime):
            t = t.timestamp()
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t < float("inf"):
            raise InvalidValue(f"a clock time must be non-negative seconds or a datetime, not {t!r}")
        ms = round(t * 1000)
        if ms > MAX_MS:
            raise InvalidValue(f"a clock time of {t!r} s is beyond the 64-bit millisecond range")
        return ms

    def advance(self, by: Duration) -> None:
        """Moves time forward by ``by`` (seconds or a timedelta)."""
        self._native.advance_ms(to_ms(by, "advance", InvalidValue))

    def set(self, t: Union[float, int, datetime]) -> None:
        """Sets the time (it may go backwards, to test clock skew)."""
        self._native.set_ms(self._to_ms(t))

    def now(self) -> float:
        """The current time in seconds."""
        return self._native.now_ms() / 1000.0


class Session(MutableMapping[str, Any]):
    """A session as a request sees it: a ``MutableMapping`` of exact types (str, int,
    float, bool, None, bytes, list, dict; tuples come back as lists), plus ``id``,
    ``principal``, ``increment``, ``flash`` and ``take_flashes``. Changes are applied at
    once to this copy and merged into the stored session by ``SessionManager.commit``."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.Session) -> None:
        self._native = native

    def __getitem__(self, key: str) -> Any:
        return self._native.get_item(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._native.set(key, value)

    def __delitem__(self, key: str) -> None:
        self._native.delete(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._native.keys())

    def __len__(self) -> int:
        return self._native.len()

    def __contains__(self, key: object) -> bool:
        return self._native.contains(key)

    def __repr__(self) -> str:
        return f"<tenure.Session {self.public_id} {self._native.to_dict()!r}>"

    def get(self, key: str, default: Any = None) -> Any:
        return self._native.get(key, default)

    def clear(self) -> None:
        self._native.clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Sets every item given; all or nothing."""
        items: dict[Any, Any] = dict(*args, **kwargs)
        self._native.update(items)

    def discard(self, key: str) -> bool:
        """Deletes ``key`` even if this copy didn't see it (a concurrent write too)."""
        return self._native.discard(key)

    def to_dict(self) -> dict[str, Any]:
        """A fresh dict of every item."""
        return self._native.to_dict()

    def increment(self, key: str, by: int = 1) -> int:
        """Adds ``by`` to the int at ``key`` (missing counts as 0) and returns the new
        value; concurrent increments add up at commit."""
        return self._native.increment(key, by)

    def flash(self, category: str, message: str) -> None:
        """Queues a message shown once by ``take_flashes``."""
        self._native.flash(category, message)

    def take_flashes(self) -> list[tuple[str, str]]:
        """The queued ``(category, message)`` pairs, oldest first; gone once committed."""
        return self._native.take_flashes()

    @property
    def id(self) -> str:
        """The session id: a secret bearer credential."""
        return self._native.id

    @property
    def public_id(self) -> str:
        """A handle safe to show in admin views (it can't be used as a session)."""
        return self._native.public_id

    @property
    def principal(self) -> Optional[str]:
        """The user this session belongs to."""
        return self._native.principal

    @principal.setter
    def principal(self, value: Optional[str]) -> None:
        """A change from one user to another (or to none) clears the data and flashes; an
        anonymous session keeps its data. ``set_principal(p, keep_data=True)`` keeps it."""
        self._native.set_principal(value)

    def set_principal(self, principal: Optional[str], keep_data: bool = False) -> None:
        """Sets the user; ``keep_data`` keeps the data even when the user changes."""
        self._native.set_principal(principal, keep_data)

    @property
    def version(self) -> int:
        return self._native.version

    @property
    def modified(self) -> bool:
        """Whether there are uncommitted changes."""
        return self._native.modified

    @property
    def created_at(self) -> float:
        return self._native.created_ms / 1000.0

    @property
    def last_access(self) -> float:
        return self._native.last_access_ms / 1000.0

    @property
    def expires_at(self) -> Optional[float]:
        """When the session dies if nothing else happens (seconds), or None for never."""
        return seconds(self._native.expires_at_ms)

    @property
    def idle_timeout(self) -> Optional[timedelta]:
        ms = self._native.idle_timeout_ms
        return None if ms is None else timedelta(milliseconds=ms)

    @property
    def absolute_timeout(self) -> Optional[timedelta]:
        ms = self._native.absolute_timeout_ms
        return None if ms is None else timedelta(milliseconds=ms)


_EVENTS = ("created", "expired", "destroyed", "regenerated", "evicted", "rejected")


#: The methods of the store protocol (see ``tenure.stores``).
_STORE_METHODS = ("get", "insert", "replace", "delete", "ids")


def _build_native(
    *,
    idle_timeout: Optional[Duration],
    absolute_timeout: Optional[Duration],
    touch_interval: Optional[Duration],
    max_sessions: Optional[int],
    on_full: str,
    max_data_bytes: Optional[int],
    max_key_bytes: Optional[int],
    max_depth: Optional[int],
    id_bytes: int,
    store: Any,
    clock: Optional[ManualClock],
    native_store: bool,
) -> _native.Manager:
    """Checks a manager's arguments and builds its native half (over ``store`` if
    ``native_store``, else over the core's memory store; over Redis if ``store`` is a
    ``tenure.redis`` store)."""
    redis = _redis_of(store)
    if redis is not None:
        prefix, grace_ms, is_async = redis
        if native_store and is_async:
            raise InvalidPolicy(
                f"{store!r} uses an asyncio Redis client: use it with tenure.aio.SessionManager "
                "(or give tenure.SessionManager a tenure.redis.RedisStore over redis.Redis)"
            )
        if not native_store and not is_async:
            raise InvalidPolicy(
                f"{store!r} uses a blocking Redis client: use it with tenure.SessionManager "
                "(or give tenure.aio.SessionManager a tenure.redis.AsyncRedisStore over redis.asyncio.Redis)"
            )
    elif store is not None:
        for method in _STORE_METHODS:
            if not callable(getattr(store, method, None)):
                raise InvalidPolicy(
                    f"store {store!r} lacks the method {method}() of the store protocol "
                    "(get, insert, replace, delete, ids; see tenure.stores)"
                )
        if native_store and any(inspect.iscoroutinefunction(getattr(store, m)) for m in _STORE_METHODS):
            raise InvalidPolicy(
                f"store {store!r} is asynchronous: use it with tenure.aio.SessionManager"
            )
    if clock is not None and not isinstance(clock, ManualClock):
        raise InvalidPolicy("clock must be a tenure.ManualClock (or None for the system clock)")
    for name, v in (("max_sessions", max_sessions), ("max_data_bytes", max_data_bytes),
                    ("max_key_bytes", max_key_bytes), ("max_depth", max_depth), ("id_bytes", id_bytes)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise InvalidPolicy(f"{name} must be a non-negative int, not {v!r}")
    return _native.Manager(
        idle_ms=opt_ms(idle_timeout, "idle_timeout"),
        absolute_ms=opt_ms(absolute_timeout, "absolute_timeout"),
        touch_ms=opt_ms(touch_interval, "touch_interval"),
        max_sessions=max_sessions,
        on_full=on_full,
        max_data_bytes=max_data_bytes,
        max_key_bytes=max_key_bytes,
        max_depth=max_depth,
        id_bytes=id_bytes,
        store=store if native_store and redis is None else None,
        clock=None if clock is None else clock._native,
        redis_prefix=None if redis is None else redis[0],
        redis_grace_ms=0 if redis is None else redis[1],
    )


def _redis_of(store: Any) -> Optional[tuple[str, int, bool]]:
    """``(prefix, grace_ms, is_async)`` of a ``tenure.redis`` store, else None."""
    info = getattr(store, "_tenure_redis", None) if store is not None else None
    if info is None:
        return None
    prefix, grace_ms, is_async = info
    return str(prefix), int(grace_ms), bool(is_async)


class _Events:
    """Events and ``per_session``, shared by ``SessionManager`` and
    ``tenure.aio.SessionManager``."""

    _native: _native.Manager
    _idle_ms: Optional[int]

    def _init_events(self) -> None:
        self._listeners: dict[str, list[Callable[..., Any]]] = {e: [] for e in _EVENTS}
        self._regen_hooks: list[Callable[[Any, Any, bool], Any]] = []
        # Until something listens, the core drops events itself and calls skip dispatching.
        self._listening = False

    def on(self, event: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Calls ``fn(id)`` on ``created``, ``expired``, ``destroyed``, ``evicted``;
        ``fn(old_id, new_id)`` on ``regenerated``; ``fn()`` on ``rejected``. Returns ``fn``.

        Listeners run in the thread whose call produced the event, after the operation
        (outside every lock, so they may use the manager). An exception from a listener is
        logged on the ``tenure`` logger and does not fail the operation, which has happened,
        nor keep other listeners from running."""
        if event not in self._listeners:
            raise InvalidValue(f"unknown event {event!r}; events are {', '.join(_EVENTS)}")
        self._listeners[event].append(fn)
        self._listen()
        return fn

    def on_regenerate(self, fn: Callable[[str, str, bool], Any]) -> Callable[[str, str, bool], Any]:
        """Calls ``fn(old_id, new_id, cleared)`` after each regeneration (``cleared``: the
        session's data was dropped), before the ``regenerated`` listeners; for state kept per
        session outside the store (``PerSession`` uses it). Returns ``fn``."""
        self._regen_hooks.append(fn)
        self._listen()
        return fn

    def id_changed(self, old_id: str, new_id: str) -> None:
        """For web adapters: a session drafted under ``old_id`` was stored under ``new_id``;
        what follows regenerations (``on_regenerate``) follows it, data kept."""
        for hook in self._regen_hooks:
            hook(old_id, new_id, False)

    @property
    def idle_timeout(self) -> Optional[timedelta]:
        """The idle timeout new sessions get (None: they never idle out)."""
        return None if self._idle_ms is None else timedelta(milliseconds=self._idle_ms)

    def _listen(self) -> None:
        if not self._listening:
            self._listening = True
            self._native.set_listening(True)

    def _dispatch(self) -> None:
        for name, sid, new, cleared in self._native.drain_events():
            if name == "regenerated":
                args: tuple[Any, ...] = (sid, new)
                for hook in self._regen_hooks:
                    hook(sid, new, cleared)
            else:
                args = () if name == "rejected" else (sid,)
            for fn in self._listeners[name]:
                try:
                    fn(*args)
                except Exception:
                    _log.exception("tenure: the %s listener %r raised", name, fn)

    def _call(self, f: Callable[..., T], *args: Any) -> T:
        if not self._listening:
            return f(*args)
        try:
            return f(*args)
        finally:
            self._dispatch()

    def per_session(self, factory: Callable[[], T]) -> PerSession[T]:
        """A live Python object per session (see ``PerSession``)."""
        return PerSession(self, factory)


class SessionManager(_Events):
    """Creates, opens, commits, regenerates, expires and destroys sessions. One per
    process, shared by every thread. Timeouts are ``timedelta``s or seconds; ``None``
    means never. ``store`` speaks the synchronous store protocol (``tenure.stores``);
    for an asynchronous store use ``tenure.aio.SessionManager``."""

    def __init__(
        self,
        *,
        idle_timeout: Optional[Duration] = timedelta(milliseconds=_native.DEFAULT_IDLE_MS),
        absolute_timeout: Optional[Duration] = timedelta(milliseconds=_native.DEFAULT_ABSOLUTE_MS),
        touch_interval: Optional[Duration] = None,
        max_sessions: Optional[int] = None,
        on_full: str = "reject",
        max_data_bytes: Optional[int] = None,
        max_key_bytes: Optional[int] = None,
        max_depth: Optional[int] = None,
        id_bytes: int = _native.DEFAULT_ID_BYTES,
        store: Any = None,
        clock: Optional[ManualClock] = None,
    ) -> None:
        self._native = _build_native(
            idle_timeout=idle_timeout, absolute_timeout=absolute_timeout,
            touch_interval=touch_interval, max_sessions=max_sessions, on_full=on_full,
            max_data_bytes=max_data_bytes, max_key_bytes=max_key_bytes, max_depth=max_depth,
            id_bytes=id_bytes, store=store, clock=clock, native_store=True,
        )
        self.clock = clock
        self.store = store
        #: The idle timeout in ms it was built with (None: never); web adapters check it
        #: against their cookie's lifetime.
        self._idle_ms = opt_ms(idle_timeout, "idle_timeout")
        self._init_events()
        # Over Redis, every operation is a native PendingOp whose command batches are sent
        # here with the blocking client (the rules stay in the core).
        self._redis = _redis_of(store) is not None
        # id -> [lock, users]: commits and regenerations of one id run one at a time.
        self._locks: dict[str, list[Any]] = {}
        self._locks_guard = threading.Lock()

    def _drive(self, op: _native.PendingOp) -> Any:
        """Sends the op's command batches to Redis until it is done. A client exception is
        handed to the op (which rolls back and raises ``StoreError`` from it)."""
        execute = self.store.execute
        try:
            request = op.step()
            while request is not None:
                try:
                    reply = execute(request)
                except Exception as e:
                    request = op.throw(e)
                    continue
                request = op.step(reply)
            return op.finish()
        finally:
            # An op belongs to its thread: a traceback through this frame (kept in some
            # reference cycle, collected by another thread) must not hold it.
            del op
            if self._listening:
                self._dispatch()

    def _drive_serial(self, id: str, op: _native.PendingOp) -> Any:
        """``_drive`` with the commits and regenerations of ``id`` one at a time in this
        process (they would only conflict and retry; the script keeps them correct)."""
        with self._locks_guard:
            entry = self._locks.get(id)
            if entry is None:
                entry = self._locks[id] = [threading.Lock(), 0]
            entry[1] += 1
        try:
            with entry[0]:
                return self._drive(op)
        finally:
            del op
            with self._locks_guard:
                entry[1] -= 1
                if entry[1] == 0 and self._locks.get(id) is entry:
                    del self._locks[id]

    # -- sessions -------------------------------------------------------------------
    def create(self, principal: Optional[str] = None, data: Optional[dict[str, Any]] = None) -> Session:
        """A new session (ids are only ever minted here)."""
        if self._redis:
            return Session(self._drive(self._native.begin_create(principal, data)))
        if not self._listening:
            return Session(self._native.create(principal, data))
        return Session(self._call(self._native.create, principal, data))

    def open(self, id: str) -> Optional[Session]:
        """The live session with this id, touched; None if unknown or expired."""
        if not isinstance(id, str):
            return None
        if self._redis:
            s = self._drive(self._native.begin_open(id))
        else:
            s = self._call(self._native.open, id)
        return None if s is None else Session(s)

    def peek(self, id: str) -> Optional[Session]:
        """Like ``open`` without touching."""
        if not isinstance(id, str):
            return None
        if self._redis:
            s = self._drive(self._native.begin_peek(id))
        else:
            s = self._call(self._native.peek, id)
        return None if s is None else Session(s)

    def commit(self, session: Session) -> None:
        """Merges the session's changes into the stored session (``SessionGone`` if it was
        destroyed or expired meanwhile)."""
        if self._redis:
            self._drive_serial(session.id, self._native.begin_commit(session._native))
            return
        self._call(self._native.commit, session._native)

    def regenerate(self, session: Session, clear: bool = False) -> None:
        """Moves the session to a new id (call it on login and privilege changes)."""
        if self._redis:
            self._drive_serial(session.id, self._native.begin_regenerate(session._native, clear))
            return
        self._call(self._native.regenerate, session._native, clear)

    def set_idle_timeout(self, session: Session, timeout: Optional[Duration]) -> None:
        """This session's own idle timeout (None: never), stored on commit."""
        self._native.set_idle_timeout(session._native, opt_ms(timeout, "idle_timeout"))

    def _op(self, name: str, *args: Any) -> Any:
        """The native operation ``name``: in the core, or over Redis as a PendingOp."""
        if self._redis:
            return self._drive(getattr(self._native, "begin_" + name.rstrip("_"))(*args))
        return self._call(getattr(self._native, name), *args)

    def destroy(self, id: str) -> bool:
        destroyed: bool = self._op("destroy", id)
        return destroyed

    def destroy_all_of(self, principal: str, except_id: Optional[str] = None) -> int:
        """Destroys every session of ``principal`` but ``except_id``; returns how many."""
        n: int = self._op("destroy_all_of", principal, except_id)
        return n

    def destroy_all(self) -> int:
        n: int = self._op("destroy_all")
        return n

    def sessions_of(self, principal: str) -> list[dict[str, Any]]:
        """Info dicts (id, public_id, principal, created_at, last_access, expires_at, version;
        times in seconds since the epoch) of the live sessions of ``principal``."""
        return _infos(self._op("sessions_of", principal))

    def list(self, cursor: Optional[str] = None, limit: int = 100) -> tuple[list[dict[str, Any]], Optional[str]]:
        """A page of live sessions (info dicts, as ``sessions_of``) and the cursor of the
        next page (None at the end)."""
        infos, cursor = self._op("list", cursor, limit)
        return _infos(infos), cursor

    def count(self) -> int:
        n: int = self._op("count")
        return n

    def sweep(self) -> int:
        """Removes expired sessions; returns how many."""
        n: int = self._op("sweep")
        return n

    def next_deadline(self) -> Optional[float]:
        """When the next session expires (seconds since the epoch), or None."""
        if self._redis:
            ms: Optional[int] = self._drive(self._native.begin_next_deadline_ms())
            return seconds(ms)
        return seconds(self._native.next_deadline_ms())

    def now(self) -> float:
        return self._native.now_ms() / 1000.0

    def metrics(self) -> dict[str, Union[int, float]]:
        """Counters (active, peak_active, created_total, expired_total, destroyed_total,
        rejected_total, evicted_total) and the longest and mean life of ended sessions in
        seconds (max_alive, avg_alive)."""
        if self._redis:
            return _metrics(self._drive(self._native.begin_metrics()))
        return _metrics(self._native.metrics())

    def export(self) -> bytes:
        """Every live session as one blob (survive a restart with ``import_``)."""
        if self._redis:
            blob: bytes = self._drive(self._native.begin_export())
            return blob
        return self._native.export()

    def import_(self, data: bytes) -> int:
        """Loads an ``export`` blob, dropping sessions already expired; returns how many."""
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidType(f"import_ takes bytes, not {type(data).__name__}")
        n: int = self._op("import_", bytes(data))
        return n


class PerSession(Generic[T]):
    """One live object per session (the shopping-cart pattern): created by ``factory`` on
    first use, dropped when the session expires, is destroyed or evicted, or is regenerated
    with ``clear=True``; kept across a plain regenerate. Objects live in this process."""

    def __init__(self, manager: _Events, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._objects: dict[str, T] = {}
        self._lock = threading.Lock()
        for event in ("expired", "destroyed", "evicted"):
            manager.on(event, self._drop)
        manager.on_regenerate(self._move)

    def _drop(self, sid: Optional[str]) -> None:
        with self._lock:
            if sid is not None:
                self._objects.pop(sid, None)

    def _move(self, old: Optional[str], new: Optional[str], cleared: bool) -> None:
        with self._lock:
            obj = self._objects.pop(old or "", None)
            if obj is not None and not cleared and new is not None:
                self._objects[new] = obj

    def get(self, session: Any) -> T:
        """The object of ``session``, created on first use. ``session`` is a ``Session``
        or a web request's session (``request.session``, Flask's ``session``): a request
        without a session yet gets one, so two anonymous visitors never share an object."""
        sid = getattr(session, "id", None)
        if sid is None:
            ensure = getattr(session, "ensure", None)
            if ensure is None:
                raise InvalidValue(f"per_session needs a session, not {type(session).__name__}")
            sid = ensure().id
        with self._lock:
            obj = self._objects.get(sid)
            if obj is None:
                obj = self._factory()
                self._objects[sid] = obj
            return obj

    __call__ = get

    def discard(self, session_id: str) -> None:
        self._drop(session_id)

    def __len__(self) -> int:
        return len(self._objects)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._objects

