"""The core's request lifecycle (``tenure::web``) for an adapter of your own, in the Python
API's units: times are seconds since the epoch, cookie ages a ``timedelta`` or seconds.
``tenure.asgi`` and ``tenure.flask`` run on the same core code (``docs/python.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Optional, Union

from . import _native
from ._errors import InvalidValue
from ._native import Incoming, ResponseHeaders
from ._time import Duration, duration, opt_ms, to_ms

__all__ = ["WebConfig", "Incoming", "ResponseHeaders", "build_set_cookie"]

_Secrets = Union[str, bytes, Sequence[Union[str, bytes]]]
_CONFIGURED: Any = object()


def _now_ms(now: float) -> int:
    return to_ms(now, "now", InvalidValue)


class WebConfig:
    """An adapter's lifecycle settings: secrets (the first signs, all verify; each at least
    32 bytes), the transport, the cookie's attributes (defaults: name "sid", Path=/,
    HttpOnly, Secure, SameSite=Lax), the cookie's ``max_age`` (None: a browser-session
    cookie), ``rolling``, ``save_uninitialized`` and ``drop_emptied``. Wrong settings raise
    now (``InvalidPolicy``/``InvalidValue``)."""

    __slots__ = ("_native",)

    def __init__(
        self,
        secrets: _Secrets,
        *,
        transport: str = "cookie",
        name: str = "sid",
        path: Optional[str] = "/",
        domain: Optional[str] = None,
        http_only: bool = True,
        secure: bool = True,
        same_site: Optional[str] = "lax",
        partitioned: bool = False,
        priority: Optional[str] = None,
        max_age: Optional[Duration] = None,
        rolling: bool = False,
        save_uninitialized: bool = False,
        drop_emptied: bool = False,
    ) -> None:
        self._native = _native.WebConfig(
            secrets if isinstance(secrets, (str, bytes)) else list(secrets), transport=transport, name=name, path=path, domain=domain, http_only=http_only,
            secure=secure, same_site=same_site, partitioned=partitioned, priority=priority,
            max_age_ms=opt_ms(max_age, "max_age"), rolling=rolling,
            save_uninitialized=save_uninitialized, drop_emptied=drop_emptied,
        )

    @property
    def transport(self) -> str:
        """"cookie", "header" or "both"."""
        return self._native.transport

    @property
    def cookie_name(self) -> str:
        return self._native.cookie_name

    @property
    def max_age(self) -> Optional[timedelta]:
        """The cookie's max age (None: a browser-session cookie)."""
        return duration(self._native.max_age_ms)

    def server_timeouts(self) -> tuple[Optional[timedelta], Optional[timedelta]]:
        """The ``(idle, absolute)`` timeouts (None: never) that keep a session alive as long
        as its cookie: for a manager an adapter builds, under the options the application
        did not set itself (the core's one-lifetime rule)."""
        idle, absolute = self._native.server_timeouts()
        return duration(idle), duration(absolute)

    def check_timeouts(self, idle_timeout: Optional[Duration]) -> None:
        """Raises ``InvalidPolicy`` when a manager with this idle timeout (None: never)
        would end sessions while their cookie is still valid."""
        self._native.check_timeouts(opt_ms(idle_timeout, "idle_timeout"))

    def find(self, cookie_headers: Union[str, Sequence[str], None], authorization: Optional[str] = None) -> Incoming:
        """Which id a request names (``cookie_headers``: the ``Cookie`` header, a list of
        them, or None; ``authorization``: the ``Authorization`` header)."""
        if cookie_headers is not None and not isinstance(cookie_headers, str):
            cookie_headers = list(cookie_headers)
        return self._native.find(cookie_headers, authorization)

    def keep_new(self, initialized: bool) -> bool:
        """Whether a session created in the request is stored (it holds something, or
        ``save_uninitialized``)."""
        return self._native.keep_new(initialized)

    def keep_new_session(self, session: Any) -> bool:
        """``keep_new`` for a new ``tenure.Session``."""
        return self._native.keep_new_session(session)

    def drops_emptied(self, session: Any) -> bool:
        """With ``drop_emptied``: the opened ``session`` was emptied by the request, so it
        is destroyed (end the request as "destroyed")."""
        return self._native.drops_emptied(session)

    def token(self, id: str) -> str:
        """A bearer token for ``id``, signed with the newest secret."""
        return self._native.token(id)

    def set_cookie(self, id: str, now: float) -> str:
        """The ``Set-Cookie`` value carrying ``id`` (the configured max age from ``now``)."""
        return self._native.set_cookie(id, _now_ms(now))

    def clear_cookie(self) -> str:
        """The clearing ``Set-Cookie`` value (logout)."""
        return self._native.clear_cookie()

    def respond(self, incoming: Incoming, ending: str, *, now: float, id: Optional[str] = None,
                accessed: bool = False, refresh: bool = False,
                max_age: Any = _CONFIGURED) -> ResponseHeaders:
        """The headers the response gets. ``ending``: "no_session", "kept", "created",
        "regenerated", "destroyed" or "gone" (``id`` for the first three); ``accessed``: the
        handler looked at the session; ``refresh``: the application asked for the cookie
        again; ``now`` (seconds) dates the cookie's ``Expires``; ``max_age`` gives this
        response its own cookie lifetime (None: a browser-session cookie)."""
        kw: dict[str, Any] = {"now_ms": _now_ms(now), "id": id, "accessed": accessed, "refresh": refresh}
        if max_age is _CONFIGURED:
            return self._native.respond(incoming, ending, **kw)
        return self._native.respond_with_max_age(incoming, ending, opt_ms(max_age, "max_age"), **kw)

    def __repr__(self) -> str:
        return f"<tenure.WebConfig transport={self.transport!r} name={self.cookie_name!r}>"


def build_set_cookie(
    value: str,
    *,
    name: str = "sid",
    path: Optional[str] = "/",
    domain: Optional[str] = None,
    http_only: bool = True,
    secure: bool = True,
    same_site: Optional[str] = "lax",
    partitioned: bool = False,
    priority: Optional[str] = None,
    max_age: Optional[Duration] = None,
    now: float = 0.0,
    clear: bool = False,
) -> str:
    """A ``Set-Cookie`` value (the core's builder: prefixes checked, values that would break
    the header refused); ``max_age`` counted from ``now`` (seconds since the epoch);
    ``clear=True`` builds the clearing cookie."""
    return _native.build_set_cookie(
        value, name=name, path=path, domain=domain, http_only=http_only, secure=secure,
        same_site=same_site, partitioned=partitioned, priority=priority,
        max_age_ms=opt_ms(max_age, "max_age"), now_ms=_now_ms(now), clear=clear,
    )

