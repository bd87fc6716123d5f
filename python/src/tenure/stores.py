"""Stores for ``SessionManager(store=...)``. Any object with the store protocol works:

- ``get(id) -> bytes | None``, ``set(id, data: bytes)``, ``delete(id) -> bool``,
  ``ids() -> list[str]`` (synchronous; the bytes are v1 records, decoded by the core as
  untrusted input).
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from typing import Optional, Union

from . import _native

_counter = itertools.count()


class FileStore:
    """One file per session in a folder, written atomically (temporary file + rename).

    The layout is shared with the Rust and Node ``FileStore``s (``docs/stores.md``):
    ``<dir>/<id>.json``; temporary files start with ``.`` and end with ``.tmp``; only names
    that are plausible session ids are ever read. A corrupt file makes ``open`` raise
    ``StoreError`` and is skipped by sweeps and listings.
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"], *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync

    def _file(self, id: str) -> Optional[Path]:
        return self.path / f"{id}.json" if _native.is_plausible_id(id) else None

    def get(self, id: str) -> Optional[bytes]:
        f = self._file(id)
        if f is None:
            return None
        try:
            return f.read_bytes()
        except FileNotFoundError:
            return None

    def set(self, id: str, data: bytes) -> None:
        f = self._file(id)
        if f is None:
            raise ValueError(f"{id!r} is not a session id")
        tmp = self.path / f".{id}.{os.getpid()}-{threading.get_ident()}-{next(_counter)}.tmp"
        try:
            with open(tmp, "wb") as out:
                out.write(data)
                if self.fsync:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(tmp, f)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def delete(self, id: str) -> bool:
        f = self._file(id)
        if f is None:
            return False
        try:
            f.unlink()
            return True
        except FileNotFoundError:
            return False

    def ids(self) -> list[str]:
        return sorted(
            p.name[:-5]
            for p in self.path.iterdir()
            if p.name.endswith(".json") and _native.is_plausible_id(p.name[:-5])
        )


class DictStore:
    """The store protocol over a dict (handy in tests, and a template for your own)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, id: str) -> Optional[bytes]:
        return self.data.get(id)

    def set(self, id: str, data: bytes) -> None:
        self.data[id] = bytes(data)

    def delete(self, id: str) -> bool:
        return self.data.pop(id, None) is not None

    def ids(self) -> list[str]:
        return list(self.data)
