"""``tenure.flask.SessionInterface``: Flask's ``session`` as a server-side tenure session.

    app.session_interface = tenure.flask.SessionInterface()   # uses app.secret_key
    session["user"] = "ann"; tenure.flask.regenerate()          # on login
    session.clear()   # or tenure.flask.destroy(): on logout (the stored session ends)

Flask's config is read on every request, as Flask does (``SECRET_KEY`` and
``SECRET_KEY_FALLBACKS``, ``SESSION_COOKIE_NAME``/``_PATH``/``_DOMAIN``/``_SECURE``/
``_HTTPONLY``/``_SAMESITE``/``_PARTITIONED``, ``SESSION_REFRESH_EACH_REQUEST``,
``PERMANENT_SESSION_LIFETIME``); ``session.permanent`` gives the cookie
``PERMANENT_SESSION_LIFETIME`` as its max age, and the server keeps sessions that long.
``session`` is a ``dict`` with Flask's ``new``, ``accessed``, ``modified`` and ``permanent``;
without a secret key it is Flask's read-only null session.

Unlike Flask's own cookie session, the cookie is ``Secure`` and ``SameSite=Lax`` by default
(OWASP ASVS 3.4.1, 3.4.3): Flask's defaults (``SESSION_COOKIE_SECURE = False``,
``SESSION_COOKIE_SAMESITE = None``) are not read as a choice. ``SESSION_COOKIE_SECURE = True``
and a ``SESSION_COOKIE_SAMESITE`` value are honoured; to send the cookie over plain http (local
development) pass ``secure=False``, and ``same_site=None`` to leave the attribute out.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, Optional

from flask import Flask, Request, Response
from flask import session as _flask_session
from flask.sessions import SessionInterface as _FlaskInterface
from flask.sessions import SessionMixin

from . import SessionManager
from ._web import RequestSession, Sweeper, WebConfig, finish, load

__all__ = ["SessionInterface", "TenureFlaskSession", "regenerate", "destroy"]


_UNSET: Any = object()


class TenureFlaskSession(RequestSession, SessionMixin):
    """Flask's ``session`` object: a tenure request session with Flask's attributes."""


class SessionInterface(_FlaskInterface):
    """Flask's session interface over a tenure manager. Flask's config is read on every
    request, as Flask does (``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``, the cookie's name,
    domain, path, ``HttpOnly``, ``SameSite``, ``Partitioned``, ``SESSION_REFRESH_EACH_REQUEST``,
    ``PERMANENT_SESSION_LIFETIME``); without a secret key the session is Flask's read-only
    null session (writing to it raises Flask's error).

    Without ``manager``, the one it makes (at the first request, from that app's config)
    keeps sessions as long as ``PERMANENT_SESSION_LIFETIME``, the time Flask accepts a
    session cookie for, unless ``idle_timeout``/``absolute_timeout`` are given; a manager
    (or idle timeout) shorter than it is refused (``InvalidPolicy``)."""

    def __init__(
        self,
        manager: Optional[SessionManager] = None,
        *,
        secret: Any = None,
        transport: str = "cookie",
        rolling: bool = False,
        save_uninitialized: bool = False,
        secure: Optional[bool] = None,
        same_site: Any = _UNSET,
        sweep_interval: Optional[float] = 60.0,
        **policy: Any,
    ) -> None:
        if manager is not None and policy:
            raise TypeError(
                f"tenure.flask.SessionInterface: {', '.join(sorted(policy))} would be ignored: "
                "policy options configure the SessionManager it makes, and a manager was given"
            )
        if manager is not None and not isinstance(manager, SessionManager):
            raise TypeError(
                "tenure.flask needs a synchronous tenure.SessionManager (Flask's session "
                f"interface is synchronous), not {type(manager).__module__}.{type(manager).__name__}"
            )
        if policy:
            SessionManager(**policy)  # a misspelled or wrong option fails now, not at the first request
        self._manager = manager
        self._policy = policy
        self.secret = secret
        self.transport = transport
        self.rolling = rolling
        self.save_uninitialized = save_uninitialized
        self.secure = secure
        self.same_site = same_site
        self.sweep_interval = sweep_interval
        Sweeper.check(sweep_interval)
        self._sweeper: Optional[Sweeper] = None
        self._configs: dict[tuple[Any, ...], WebConfig] = {}
        self._lock = threading.Lock()

    @property
    def manager(self) -> SessionManager:
        """The manager: the one given, or the one made at the first request."""
        if self._manager is None:
            raise RuntimeError("tenure.flask.SessionInterface makes its manager at the first request "
                               "(from PERMANENT_SESSION_LIFETIME); pass manager= to have it sooner")
        return self._manager

    @property
    def sweeper(self) -> Sweeper:
        """Removes expired sessions now and then (every ``sweep_interval`` seconds at most,
        and only once one can have expired); ``sweep_interval=None`` turns it off."""
        if self._sweeper is None:
            self._sweeper = Sweeper(self.manager, self.sweep_interval)
        return self._sweeper

    def _secrets(self, app: Flask) -> list[Any]:
        if self.secret:
            return self.secret if isinstance(self.secret, list) else [self.secret]
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
        return [s for s in [app.secret_key, *fallbacks] if s]

    def _config(self, app: Flask) -> WebConfig:
        """The lifecycle settings of this request, from the app's config as it is now
        (checked by the core once per distinct config)."""
        lifetime = app.permanent_session_lifetime
        same_site = (self.same_site if self.same_site is not _UNSET
                     else self.get_cookie_samesite(app) or "lax")
        key = (tuple(self._secrets(app)), self.get_cookie_name(app), self.get_cookie_path(app),
               self.get_cookie_domain(app), self.secure if self.secure is not None else True,
               self.get_cookie_httponly(app), same_site, self.get_cookie_partitioned(app), lifetime)
        cfg = self._configs.get(key)
        if cfg is not None:
            return cfg
        with self._lock:
            cfg = WebConfig(
                self._manager, list(key[0]), cookie_name=key[1], path=key[2], domain=key[3],
                # Secure unless turned off here; Flask's default False is not a choice.
                secure=key[4], http_only=key[5], same_site=key[6], partitioned=key[7],
                # Flask accepts a session cookie for PERMANENT_SESSION_LIFETIME (permanent or
                # not): the server keeps sessions that long (the core's one-lifetime rule).
                max_age=lifetime.total_seconds() if isinstance(lifetime, timedelta) else lifetime,
                transport=self.transport, rolling=self.rolling,
                save_uninitialized=self.save_uninitialized, drop_emptied=True,
                policy=None if self._manager is not None else self._policy,
                who="tenure.flask.SessionInterface", max_age_name="PERMANENT_SESSION_LIFETIME",
            )
            manager = cfg.manager
            assert isinstance(manager, SessionManager)
            self._manager = manager
            if len(self._configs) >= 64:  # a config that changes on every request
                self._configs.clear()
            self._configs[key] = cfg
        return cfg

    def open_session(self, app: Flask, request: Request) -> Optional[TenureFlaskSession]:
        if not self._secrets(app):
            return None  # Flask's null session: reads see nothing, writes raise Flask's error
        cfg = self._config(app)
        self.sweeper.maybe()
        base = load(cfg, request.headers.get("Cookie"), request.headers.get("Authorization"))
        return TenureFlaskSession(cfg, base.session, base.incoming)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, TenureFlaskSession)
        cfg = session._cfg
        # Read without marking the session accessed (that is the handler's business).
        permanent = bool(dict.get(session, "_permanent", False))
        max_age = app.permanent_session_lifetime.total_seconds() if permanent else None
        # Flask's should_set_cookie: a changed session, or a permanent one with
        # SESSION_REFRESH_EACH_REQUEST, sends its cookie again.
        refresh = session.modified or (permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"]))
        for name, value in finish(cfg, session, max_age, refresh=refresh):
            if name == "Vary":
                for header in value.split(","):
                    response.vary.add(header.strip())
            else:
                response.headers.add(name, value)


def _current() -> TenureFlaskSession:
    s = _flask_session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(s, TenureFlaskSession):
        raise RuntimeError("app.session_interface is not tenure.flask.SessionInterface")
    return s


def regenerate(clear: bool = False) -> None:
    """Moves the current session to a new id (login, privilege change)."""
    _current().regenerate(clear)


def destroy() -> None:
    """Destroys the current session; the response clears the cookie."""
    _current().destroy()
