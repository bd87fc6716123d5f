"""A pytest plugin that runs Flask's own session tests against ``tenure.flask``: every
Flask app gets a fresh ``tenure.flask.SessionInterface`` instead of Flask's
``SecureCookieSessionInterface``. Loaded with ``-p tenure_flask_shim`` by
``test_peer_suites.py``.

Two adaptations, nothing else:
- tenure refuses secrets shorter than 32 bytes (a documented difference), and Flask's tests
  use ``"test key"``, ``"0 key"``..., so the shim pads each short secret (deterministically,
  so rotation with ``SECRET_KEY_FALLBACKS`` still works);
- Flask 3.1's conftest reads ``_pytest.monkeypatch.notset``, which pytest 9 renamed
  ``NOTSET``: the old name is given back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import _pytest.monkeypatch
import flask
import pytest

import tenure.flask


def pad(secret: Any) -> Any:
    s = secret.decode() if isinstance(secret, bytes) else str(secret)
    return s if len(s.encode()) >= 32 else s + "-" * (32 - len(s.encode()))


if not hasattr(_pytest.monkeypatch, "notset"):
    _pytest.monkeypatch.notset = _pytest.monkeypatch.NOTSET  # type: ignore[attr-defined]


class SessionInterface(tenure.flask.SessionInterface):
    def _secrets(self, app: flask.Flask) -> list[Any]:
        return [pad(s) for s in super()._secrets(app)]


@pytest.fixture(autouse=True)
def _tenure_session_interface(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(flask.Flask, "session_interface", SessionInterface())
    yield
