"""``tenure.aio``: the session manager for asyncio, over an asynchronous store.

    manager = tenure.aio.SessionManager(store=tenure.stores.AsyncFileStore("/var/sessions"))
    s = await manager.create(principal="ann")
    s["cart"] = [1, 2]
    await manager.commit(s)

Same constructor, method names, events, errors and ``per_session`` as
``tenure.SessionManager``; the operations are coroutines. The store's methods (``get``,
``insert``, ``replace``, ``delete``, ``ids``; see ``tenure.stores``) may be coroutine
functions or plain functions: what they return is awaited only if it is awaitable.
Without a store, sessions live in the core's memory store and every call completes at
once.

Each operation runs in the Rust core as a state machine (``_native.PendingOp``) that asks
for one storage request at a time; nothing is locked while the store works, so any number
of operations interleave on one event loop. They stay correct because every write is
conditional (compare-and-set on the record's version, insert only if absent): a commit
that lost a race re-reads, re-applies its change log and tries again; a destroyed session
is never resurrected. Commits and regenerations of one session id through one manager run
one at a time (a per-id ``asyncio.Lock``), so a burst of requests on one session does not
spin on conflicts; the conditional writes keep several processes correct.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Optional, Union, cast

from . import _native
from . import (
    ManualClock,
    PerSession,
    Session,
    _build_native,
    _Events,
    _infos,
    _metrics,
    _redis_of,
)
from ._errors import InvalidType
from ._time import Duration, opt_ms, seconds

__all__ = ["SessionManager", "PerSession", "Session"]


class SessionManager(_Events):
    """``tenure.SessionManager`` for asyncio (see the module documentation)."""

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
        # The native manager keeps the policy, clock, counters and events; with a store,
        # its own (memory) store is unused and every request goes to `store` from here.
        self._native = _build_native(
            idle_timeout=idle_timeout, absolute_timeout=absolute_timeout,
            touch_interval=touch_interval, max_sessions=max_sessions, on_full=on_full,
            max_data_bytes=max_data_bytes, max_key_bytes=max_key_bytes, max_depth=max_depth,
            id_bytes=id_bytes, store=store, clock=clock, native_store=False,
        )
        self.clock = clock
        self.store = store
        #: The idle timeout in ms it was built with (None: never); web adapters check it
        #: against their cookie's lifetime.
        self._idle_ms = opt_ms(idle_timeout, "idle_timeout")
        self._init_events()
        self._redis = _redis_of(store) is not None
        # id -> [lock, users]: commits and regenerations of one id run one at a time.
        self._locks: dict[str, list[Any]] = {}

    # -- driving -----------------------------------------------------------------------
    async def _drive(self, op: _native.PendingOp) -> Any:
        """Performs the op's storage requests on the store until it is done. A store
        exception is handed to the op (which rolls back and raises ``StoreError`` from
        it); a ``BaseException`` such as cancellation abandons the op at once."""
        store = self.store
        try:
            request = op.step()
            while request is not None:
                try:
                    if self._redis:  # a batch of commands for one pipeline
                        reply = store.execute(request)
                    else:
                        call = cast(tuple[Any, ...], request)  # ("get", id), ("insert", id, data)...
                        # The index methods (count, due, ids_of, unindex) are optional:
                        # a store without one answers None.
                        method = getattr(store, call[0], None)
                        reply = method(*call[1:]) if callable(method) else None
                    if inspect.isawaitable(reply):
                        reply = await reply
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

    @asynccontextmanager
    async def _serial(self, id: str) -> AsyncIterator[None]:
        entry = self._locks.get(id)
        if entry is None:
            entry = self._locks[id] = [asyncio.Lock(), 0]
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0 and self._locks.get(id) is entry:
                del self._locks[id]

    # -- sessions ----------------------------------------------------------------------
    def draft(self) -> Session:
        """A new session that is not stored yet (no I/O): a web adapter makes one when a
        handler first writes, and stores it at the end of the request."""
        return Session(self._native.draft())

    async def create(self, principal: Optional[str] = None, data: Optional[dict[str, Any]] = None) -> Session:
        """A new session (ids are only ever minted here)."""
        if self.store is None:
            return Session(self._call(self._native.create, principal, data))
        native: _native.Session = await self._drive(self._native.begin_create(principal, data))
        return Session(native)

    async def open(self, id: str) -> Optional[Session]:
        """The live session with this id, touched; None if unknown or expired."""
        if not isinstance(id, str):
            return None
        if self.store is None:
            s = self._call(self._native.open, id)
        else:
            s = await self._drive(self._native.begin_open(id))
        return None if s is None else Session(s)

    async def peek(self, id: str) -> Optional[Session]:
        """Like ``open`` without touching."""
        if not isinstance(id, str):
            return None
        if self.store is None:
            s = self._call(self._native.peek, id)
        else:
            s = await self._drive(self._native.begin_peek(id))
        return None if s is None else Session(s)

    async def commit(self, session: Session) -> None:
        """Merges the session's changes into the stored session (``SessionGone`` if it was
        destroyed or expired meanwhile). The session may be changed while the commit is
        under way: those later changes stay pending."""
        if self.store is None:
            self._call(self._native.commit, session._native)
            return
        async with self._serial(session.id):
            await self._drive(self._native.begin_commit(session._native))

    async def regenerate(self, session: Session, clear: bool = False) -> None:
        """Moves the session to a new id (call it on login and privilege changes)."""
        if self.store is None:
            self._call(self._native.regenerate, session._native, clear)
            return
        async with self._serial(session.id):
            await self._drive(self._native.begin_regenerate(session._native, clear))

    async def set_idle_timeout(self, session: Session, timeout: Optional[Duration]) -> None:
        """This session's own idle timeout (None: never), stored on commit."""
        self._native.set_idle_timeout(session._native, opt_ms(timeout, "idle_timeout"))

    async def destroy(self, id: str) -> bool:
        if self.store is None:
            return self._call(self._native.destroy, id)
        destroyed: bool = await self._drive(self._native.begin_destroy(id))
        return destroyed

    async def destroy_all_of(self, principal: str, except_id: Optional[str] = None) -> int:
        """Destroys every session of ``principal`` but ``except_id``; returns how many."""
        if self.store is None:
            return self._call(self._native.destroy_all_of, principal, except_id)
        n: int = await self._drive(self._native.begin_destroy_all_of(principal, except_id))
        return n

    async def destroy_all(self) -> int:
        if self.store is None:
            return self._call(self._native.destroy_all)
        n: int = await self._drive(self._native.begin_destroy_all())
        return n

    async def sessions_of(self, principal: str) -> list[dict[str, Any]]:
        """Info dicts (id, public_id, principal, created_at, last_access, expires_at, version;
        times in seconds since the epoch) of the live sessions of ``principal``."""
        if self.store is None:
            return _infos(self._call(self._native.sessions_of, principal))
        return _infos(await self._drive(self._native.begin_sessions_of(principal)))

    async def list(self, cursor: Optional[str] = None, limit: int = 100) -> tuple[list[dict[str, Any]], Optional[str]]:
        """A page of live sessions (info dicts, as ``sessions_of``) and the cursor of the
        next page (None at the end)."""
        if self.store is None:
            infos, after = self._call(self._native.list, cursor, limit)
        else:
            infos, after = await self._drive(self._native.begin_list(cursor, limit))
        return _infos(infos), after

    async def count(self) -> int:
        if self.store is None:
            return self._call(self._native.count)
        n: int = await self._drive(self._native.begin_count())
        return n

    async def sweep(self) -> int:
        """Removes expired sessions; returns how many."""
        if self.store is None:
            return self._call(self._native.sweep)
        n: int = await self._drive(self._native.begin_sweep())
        return n

    async def next_deadline(self) -> Optional[float]:
        """When the next session expires (seconds since the epoch), or None."""
        if self.store is None:
            return seconds(self._native.next_deadline_ms())
        ms: Optional[int] = await self._drive(self._native.begin_next_deadline_ms())
        return seconds(ms)

    def now(self) -> float:
        return self._native.now_ms() / 1000.0

    async def metrics(self) -> dict[str, Union[int, float]]:
        """As ``tenure.SessionManager.metrics`` (durations in seconds)."""
        if self.store is None:
            return _metrics(self._native.metrics())
        return _metrics(await self._drive(self._native.begin_metrics()))

    async def export(self) -> bytes:
        """Every live session as one blob (survive a restart with ``import_``)."""
        if self.store is None:
            return self._native.export()
        blob: bytes = await self._drive(self._native.begin_export())
        return blob

    async def import_(self, data: bytes) -> int:
        """Loads an ``export`` blob, dropping sessions already expired; returns how many."""
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidType(f"import_ takes bytes, not {type(data).__name__}")
        if self.store is None:
            return self._call(self._native.import_, bytes(data))
        n: int = await self._drive(self._native.begin_import(bytes(data)))
        return n
