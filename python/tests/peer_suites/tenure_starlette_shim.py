"""A pytest plugin that runs Starlette's own session tests against ``tenure.asgi``: it
swaps ``starlette.middleware.sessions.SessionMiddleware`` for tenure's before the test
module imports it. Loaded with ``-p tenure_starlette_shim`` by ``test_peer_suites.py``.

Two adaptations, both to known, documented differences and nothing else:
- tenure refuses secrets shorter than 32 bytes; Starlette's tests use ``"example"``, so
  the shim pads a short secret (deterministically) to 32 bytes.
- Starlette 1.10's test helpers import ``httpx2``; where only ``httpx`` is installed (the
  client Starlette's TestClient still uses) it stands in for it.
"""

from __future__ import annotations

import sys
from typing import Any

try:
    import httpx2  # noqa: F401
except ImportError:
    import httpx

    sys.modules["httpx2"] = httpx

import starlette.middleware.sessions

import tenure.asgi


def pad(secret: Any) -> Any:
    """A short test secret made long enough for tenure (the same one every time)."""
    s = str(secret)
    return s if len(s.encode()) >= 32 else s + "-" * (32 - len(s.encode()))


class SessionMiddleware(tenure.asgi.SessionMiddleware):
    def __init__(self, app: Any, secret_key: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(app, pad(secret_key), *args, **kwargs)


starlette.middleware.sessions.SessionMiddleware = SessionMiddleware  # type: ignore[misc,assignment]
