"""``tenure.flask.SessionInterface``: Flask's ``session`` as a server-side tenure session.

    app.session_interface = tenure.flask.SessionInterface()   # uses app.secret_key
    session["user"] = "ann"; tenure.flask.regenerate()          # on login
    tenure.flask.destroy()                                      # on logout

Cookie settings come from Flask's config (``SESSION_COOKIE_NAME``, ``_PATH``, ``_DOMAIN``,
``_SECURE``, ``_HTTPONLY``, ``_SAMESITE``); ``session.permanent`` gives the cookie
``PERMANENT_SESSION_LIFETIME`` as its max age. ``SECRET_KEY_FALLBACKS`` rotate secrets.

Unlike Flask's own cookie session, the cookie is ``Secure`` and ``SameSite=Lax`` by default
(OWASP ASVS 3.4.1, 3.4.3): Flask's defaults (``SESSION_COOKIE_SECURE = False``,
``SESSION_COOKIE_SAMESITE = None``) are not read as a choice. ``SESSION_COOKIE_SECURE = True``
and a ``SESSION_COOKIE_SAMESITE`` value are honoured; to send the cookie over plain http (local
development) pass ``secure=False``, and ``same_site=None`` to leave the attribute out.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Flask, Request, Response
from flask import session as _flask_session
from flask.sessions import SessionInterface as _FlaskInterface
from flask.sessions import SessionMixin

from . import SessionManager, _opt_ms
from ._web import RequestSession, Sweeper, WebConfig, finish, load

__all__ = ["SessionInterface", "TenureFlaskSession", "regenerate", "destroy"]


_UNSET: Any = object()


class TenureFlaskSession(RequestSession, SessionMixin):
    """Flask's ``session`` object: a tenure request session with Flask's attributes."""


class SessionInterface(_FlaskInterface):
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
        self.manager = manager if manager is not None else SessionManager(**policy)
        if not isinstance(self.manager, SessionManager):
            raise TypeError(
                "tenure.flask needs a synchronous tenure.SessionManager (Flask's session "
                f"interface is synchronous), not {type(self.manager).__module__}.{type(self.manager).__name__}"
            )
        self.secret = secret
        self.transport = transport
        self.rolling = rolling
        self.save_uninitialized = save_uninitialized
        self.secure = secure
        self.same_site = same_site
        #: Removes expired sessions now and then (every ``sweep_interval`` seconds at most,
        #: and only once one can have expired); None turns it off.
        self.sweeper = Sweeper(self.manager, sweep_interval)
        self._configs: dict[int, WebConfig] = {}

    def _config(self, app: Flask) -> WebConfig:
        cfg = self._configs.get(id(app))
        if cfg is None:
            # Checked once per app (not on every response): a negative lifetime is refused.
            _opt_ms(app.permanent_session_lifetime, "PERMANENT_SESSION_LIFETIME")
            fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
            secrets = self.secret or [app.secret_key, *fallbacks]
            if isinstance(secrets, list):
                secrets = [s for s in secrets if s]
            cfg = WebConfig(
                self.manager, secrets,
                cookie_name=self.get_cookie_name(app),
                path=self.get_cookie_path(app),
                domain=self.get_cookie_domain(app),
                # Secure unless turned off here; Flask's default False is not a choice.
                secure=self.secure if self.secure is not None else True,
                http_only=self.get_cookie_httponly(app),
                same_site=(
                    self.same_site if self.same_site is not _UNSET
                    else self.get_cookie_samesite(app) or "lax"
                ),
                transport=self.transport,
                rolling=self.rolling,
                save_uninitialized=self.save_uninitialized,
            )
            self._configs[id(app)] = cfg
        return cfg

    def open_session(self, app: Flask, request: Request) -> TenureFlaskSession:
        cfg = self._config(app)
        self.sweeper.maybe()
        base = load(cfg, request.headers.get("Cookie"), request.headers.get("Authorization"))
        return TenureFlaskSession(cfg, base.session, base.incoming)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, TenureFlaskSession)
        cfg = self._config(app)
        permanent = session.session is not None and bool(session.session.get("_permanent"))
        max_age = app.permanent_session_lifetime.total_seconds() if permanent else None
        for name, value in finish(cfg, session, max_age):
            if name == "Vary":
                for header in value.split(","):
                    response.vary.add(header.strip())
            else:
                response.headers.add(name, value)

    def is_null_session(self, obj: object) -> bool:
        return False


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
