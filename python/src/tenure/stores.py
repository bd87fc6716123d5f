"""Stores for ``SessionManager(store=...)`` and ``tenure.aio.SessionManager(store=...)``.

Any object with the store protocol works. Records are opaque bytes (v1 records, decoded
by the core as untrusted input); every write is conditional, which is what lets several
processes share one store without losing updates or resurrecting a destroyed session:

- ``get(id) -> bytes | None``
- ``insert(id, data) -> bool``: store ``data`` only if ``id`` is absent;
- ``replace(id, data, expected) -> bool``: store ``data`` only if the stored record's
  version (``tenure.record_version(stored)``) is ``expected``; never creates;
- ``delete(id, expected=None) -> bool``: remove ``id`` (with ``expected``: only if the
  stored version is ``expected``); whether something was removed;
- ``ids() -> list[str]``.

``insert``, ``replace`` and ``delete`` return exactly ``True`` or ``False``. For
``tenure.SessionManager`` the methods are plain functions; for ``tenure.aio.SessionManager``
they may be coroutine functions (see ``AsyncDictStore`` and ``AsyncFileStore``). Each call
must be atomic with respect to every other writer of the same store.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
from typing import Optional, Union

from . import _native

#: One file per session in a folder (the Rust core's ``FileStore``; see ``docs/stores.md``).
#: ``FileStore(path)``: ``<path>/<id>.json`` holds the v1 record; writes go to a temporary
#: file renamed over the record. The GIL is released during file I/O.
FileStore = _native.FileStore

__all__ = ["FileStore", "DictStore", "AsyncFileStore", "AsyncDictStore", "record_version"]


def record_version(data: bytes) -> Optional[int]:
    """The ``version`` of an encoded record, or None if ``data`` is not a v1 record."""
    return _native.record_version(bytes(data))


class DictStore:
    """The store protocol over a dict (handy in tests, and a template for your own).
    Each method runs without yielding, so it is atomic within one process."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def _version(self, id: str) -> Optional[int]:
        stored = self.data.get(id)
        return None if stored is None else _native.record_version(stored)

    def get(self, id: str) -> Optional[bytes]:
        return self.data.get(id)

    def insert(self, id: str, data: bytes) -> bool:
        if id in self.data:
            return False
        self.data[id] = bytes(data)
        return True

    def replace(self, id: str, data: bytes, expected: int) -> bool:
        if id not in self.data or self._version(id) != expected:
            return False
        self.data[id] = bytes(data)
        return True

    def delete(self, id: str, expected: Optional[int] = None) -> bool:
        if id not in self.data or (expected is not None and self._version(id) != expected):
            return False
        del self.data[id]
        return True

    def ids(self) -> list[str]:
        return list(self.data)


class AsyncDictStore:
    """The store protocol over a dict with coroutine methods: for tests, and a template for
    an asynchronous store. Each method awaits ``delay()`` (if given) before it acts, then
    checks and writes without yielding, so every call stays atomic on one event loop."""

    def __init__(self, delay: Optional[float] = None) -> None:
        self.sync = DictStore()
        self.delay = delay

    @property
    def data(self) -> dict[str, bytes]:
        return self.sync.data

    async def _pause(self) -> None:
        if self.delay is not None:
            await asyncio.sleep(self.delay)
        else:
            await asyncio.sleep(0)

    async def get(self, id: str) -> Optional[bytes]:
        await self._pause()
        return self.sync.get(id)

    async def insert(self, id: str, data: bytes) -> bool:
        await self._pause()
        return self.sync.insert(id, data)

    async def replace(self, id: str, data: bytes, expected: int) -> bool:
        await self._pause()
        return self.sync.replace(id, data, expected)

    async def delete(self, id: str, expected: Optional[int] = None) -> bool:
        await self._pause()
        return self.sync.delete(id, expected)

    async def ids(self) -> list[str]:
        await self._pause()
        return self.sync.ids()


class AsyncFileStore:
    """``FileStore`` for the event loop: the same folder layout (interchangeable with
    ``FileStore``, and with the Rust and Node stores), each call run in a worker thread
    with ``asyncio.to_thread`` so file I/O never blocks the loop."""

    def __init__(self, path: Union[str, "os.PathLike[str]"]) -> None:
        self.files = FileStore(path)

    @property
    def path(self) -> pathlib.Path:
        return self.files.path

    async def get(self, id: str) -> Optional[bytes]:
        return await asyncio.to_thread(self.files.get, id)

    async def insert(self, id: str, data: bytes) -> bool:
        return await asyncio.to_thread(self.files.insert, id, data)

    async def replace(self, id: str, data: bytes, expected: int) -> bool:
        return await asyncio.to_thread(self.files.replace, id, data, expected)

    async def delete(self, id: str, expected: Optional[int] = None) -> bool:
        return await asyncio.to_thread(self.files.delete, id, expected)

    async def ids(self) -> list[str]:
        return await asyncio.to_thread(self.files.ids)

    # The folder's index (see docs/stores.md): what lets a sweep, a count and
    # ``sessions_of`` read only what they need.
    async def count(self) -> Optional[int]:
        return await asyncio.to_thread(self.files.count)

    async def due(self, through: Optional[int], limit: int) -> Optional[list[tuple[int, str]]]:
        return await asyncio.to_thread(self.files.due, through, limit)

    async def ids_of(self, principal: str) -> Optional[list[str]]:
        return await asyncio.to_thread(self.files.ids_of, principal)

    async def unindex(self, id: str, deadline: int) -> bool:
        return await asyncio.to_thread(self.files.unindex, id, deadline)
