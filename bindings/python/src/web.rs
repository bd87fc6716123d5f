//! `tenure::web` for Python: the request lifecycle (which id a request names, whether a
//! new session is stored, which `Set-Cookie`/`Vary` the response gets) as
//! `tenure._native.WebConfig`. Translation only: every rule is the core's.

use crate::errors::core_err;
use crate::errors::raise;
use crate::locks::with_lock;
use crate::secrets::secret_list;
use crate::session::Session;
use pyo3::prelude::*;
use pyo3::types::PyString;
use tenure::web::cookie::{CookieOptions, Priority, SameSite, Secrets};
use tenure::web::{self, Ending, Outcome, SetCookieReason, Source, Transport, Why};

/// `repr` of an optional str, as Python writes it.
fn py_str(v: Option<&str>) -> String {
    v.map_or_else(|| "None".to_string(), |s| format!("{s:?}"))
}

/// An adapter's lifecycle settings.
#[pyclass(frozen, module = "tenure._native")]
pub(crate) struct WebConfig {
    inner: web::WebConfig,
}

/// What `WebConfig.find` read from a request.
#[pyclass(frozen, module = "tenure._native")]
pub(crate) struct Incoming {
    inner: web::Incoming,
}

/// The headers a response gets.
#[pyclass(frozen, module = "tenure._native")]
pub(crate) struct ResponseHeaders {
    #[pyo3(get)]
    vary: Option<&'static str>,
    #[pyo3(get)]
    set_cookie: Option<String>,
    #[pyo3(get)]
    reason: Option<&'static str>,
}

#[pymethods]
impl ResponseHeaders {
    fn __repr__(&self) -> String {
        format!(
            "ResponseHeaders(vary={}, set_cookie={}, reason={})",
            py_str(self.vary),
            py_str(self.set_cookie.as_deref()),
            py_str(self.reason)
        )
    }
}

#[pymethods]
impl Incoming {
    /// The verified id to open, or None.
    #[getter]
    fn id(&self) -> Option<String> {
        self.inner.id().map(str::to_owned)
    }
    /// "cookie" or "bearer", or None.
    #[getter]
    fn source(&self) -> Option<&'static str> {
        self.inner.found.as_ref().map(|f| match f.source {
            Source::Cookie => "cookie",
            Source::Bearer => "bearer",
        })
    }
    /// Which secret verified the id (0 is the newest), or None.
    #[getter]
    fn secret_index(&self) -> Option<usize> {
        self.inner.found.as_ref().map(|f| f.secret_index)
    }
    /// Whether the request carried a cookie with our name (valid or not).
    #[getter]
    fn had_cookie(&self) -> bool {
        self.inner.had_cookie
    }
    /// "bearer", "cookie", "no_credentials" or "rejected".
    #[getter]
    fn why(&self) -> &'static str {
        match self.inner.why {
            Why::Bearer => "bearer",
            Why::Cookie => "cookie",
            Why::NoCredentials => "no_credentials",
            Why::Rejected { .. } => "rejected",
        }
    }
    /// A bearer token was present and refused.
    #[getter]
    fn rejected_bearer(&self) -> bool {
        matches!(self.inner.why, Why::Rejected { bearer: true, .. })
    }
    /// Our cookie was present and every copy of it was refused.
    #[getter]
    fn rejected_cookie(&self) -> bool {
        matches!(self.inner.why, Why::Rejected { cookie: true, .. })
    }
    /// The id verified under an older secret only.
    #[getter]
    fn stale_secret(&self) -> bool {
        self.inner.stale_secret()
    }
    fn __repr__(&self) -> String {
        format!(
            "Incoming(id={}, source={}, secret_index={}, had_cookie={}, why={})",
            py_str(self.inner.id()),
            py_str(self.source()),
            self.secret_index()
                .map_or_else(|| "None".to_string(), |i| i.to_string()),
            if self.had_cookie() { "True" } else { "False" },
            py_str(Some(self.why()))
        )
    }
}

fn reason_name(r: SetCookieReason) -> &'static str {
    match r {
        SetCookieReason::Created => "created",
        SetCookieReason::Regenerated => "regenerated",
        SetCookieReason::Resigned => "resigned",
        SetCookieReason::Rolling => "rolling",
        SetCookieReason::Cleared => "cleared",
    }
}

const ENDINGS: &str = "'no_session', 'kept', 'created', 'regenerated', 'destroyed' or 'gone'";

fn outcome<'a>(
    py: Python<'_>,
    ending: &str,
    id: Option<&'a str>,
    accessed: bool,
    refresh: bool,
) -> PyResult<Outcome<'a>> {
    let need = |id: Option<&'a str>| {
        id.ok_or_else(|| {
            raise(
                py,
                "InvalidValue",
                &format!("id= is required (the session's id) when ending is {ending:?}"),
            )
        })
    };
    let ending = match ending {
        "no_session" => Ending::NoSession,
        "kept" => Ending::Kept {
            id: need(id)?,
            refresh,
        },
        "created" => Ending::Created { id: need(id)? },
        "regenerated" => Ending::Regenerated { id: need(id)? },
        "destroyed" => Ending::Destroyed,
        "gone" => Ending::Gone,
        other => {
            return Err(raise(
                py,
                "InvalidValue",
                &format!("ending must be {ENDINGS}, not {other:?}"),
            ))
        }
    };
    Ok(Outcome { accessed, ending })
}

impl WebConfig {
    #[allow(clippy::too_many_arguments)]
    fn answer(
        &self,
        py: Python<'_>,
        incoming: &Incoming,
        ending: &str,
        id: Option<&str>,
        accessed: bool,
        refresh: bool,
        now_ms: u64,
        max_age: Option<Option<u64>>,
    ) -> PyResult<ResponseHeaders> {
        let out = outcome(py, ending, id, accessed, refresh)?;
        let h = match max_age {
            None => self.inner.respond(&incoming.inner, &out, now_ms),
            Some(m) => self
                .inner
                .respond_with_max_age(&incoming.inner, &out, now_ms, m),
        }
        .map_err(|e| core_err(py, e))?;
        Ok(ResponseHeaders {
            vary: h.vary,
            set_cookie: h.set_cookie,
            reason: h.reason.map(reason_name),
        })
    }
}

#[pymethods]
impl WebConfig {
    /// Secrets (the first signs, all verify; each at least 32 bytes), the transport, the
    /// cookie's attributes (defaults: name "sid", Path=/, HttpOnly, Secure, SameSite=Lax),
    /// the cookie's max age in ms (None: a browser-session cookie), `rolling` and
    /// `save_uninitialized`. Wrong settings raise now (`InvalidPolicy`/`InvalidValue`).
    #[new]
    #[pyo3(signature = (secrets, *, transport="cookie", name="sid", path=Some("/"), domain=None,
                        http_only=true, secure=true, same_site=Some("lax"), partitioned=false,
                        priority=None, max_age_ms=None, rolling=false, save_uninitialized=false,
                        drop_emptied=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        secrets: &Bound<'_, PyAny>,
        transport: &str,
        name: &str,
        path: Option<&str>,
        domain: Option<&str>,
        http_only: bool,
        secure: bool,
        same_site: Option<&str>,
        partitioned: bool,
        priority: Option<&str>,
        max_age_ms: Option<u64>,
        rolling: bool,
        save_uninitialized: bool,
        drop_emptied: bool,
    ) -> PyResult<Self> {
        let secrets = Secrets::new(secret_list(secrets)?).map_err(|e| core_err(py, e))?;
        let transport = Transport::parse(transport).map_err(|e| core_err(py, e))?;
        let cookie = cookie_options(
            py,
            name,
            path,
            domain,
            http_only,
            secure,
            same_site,
            partitioned,
            priority,
        )?;
        let inner = web::WebConfig::new(secrets, cookie, transport)
            .map_err(|e| core_err(py, e))?
            .with_max_age(max_age_ms)
            .with_rolling(rolling)
            .with_save_uninitialized(save_uninitialized)
            .with_drop_emptied(drop_emptied);
        Ok(WebConfig { inner })
    }

    /// "cookie", "header" or "both".
    #[getter]
    fn transport(&self) -> &'static str {
        match self.inner.transport() {
            Transport::Cookie => "cookie",
            Transport::Header => "header",
            Transport::Both => "both",
        }
    }

    /// The cookie's name.
    #[getter]
    fn cookie_name(&self) -> String {
        self.inner.cookie().name.clone()
    }

    /// The configured cookie max age in ms (None: a browser-session cookie).
    #[getter]
    fn max_age_ms(&self) -> Option<u64> {
        self.inner.max_age()
    }

    /// The server timeouts in ms, `(idle, absolute)` (None for never), that keep a session
    /// alive as long as its cookie: for a manager built by an adapter, under the options the
    /// application did not set itself (the core's one-lifetime rule).
    fn server_timeouts(&self) -> (Option<u64>, Option<u64>) {
        let t = self.inner.server_timeouts();
        (t.idle, t.absolute)
    }

    /// Raises `InvalidPolicy` when a manager with this idle timeout (ms, None for never)
    /// would end sessions while their cookie is still valid.
    #[pyo3(signature = (idle_ms))]
    fn check_timeouts(&self, py: Python<'_>, idle_ms: Option<u64>) -> PyResult<()> {
        self.inner
            .check_timeouts(idle_ms)
            .map_err(|e| core_err(py, e))
    }

    /// Which id a request names: `cookie_headers` is the `Cookie` header (a str, a list of
    /// them, or None), `authorization` the `Authorization` header (or None).
    #[pyo3(signature = (cookie_headers, authorization=None))]
    fn find(
        &self,
        py: Python<'_>,
        cookie_headers: Option<&Bound<'_, PyAny>>,
        authorization: Option<&str>,
    ) -> PyResult<Incoming> {
        let bad = || {
            raise(
                py,
                "InvalidType",
                "cookie_headers must be a str, a list of str, or None",
            )
        };
        let cookies: Vec<String> = match cookie_headers {
            None => Vec::new(),
            Some(h) if h.is_instance_of::<PyString>() => vec![h.extract().map_err(|_| bad())?],
            // No more items than the core looks at: an endless iterable ends there.
            Some(h) => match h.try_iter() {
                Err(_) => return Err(bad()),
                Ok(it) => it
                    .take(tenure::web::cookie::MAX_COOKIE_HEADERS)
                    .map(|v| v.and_then(|v| v.extract::<String>()).map_err(|_| bad()))
                    .collect::<PyResult<_>>()?,
            },
        };
        Ok(Incoming {
            inner: self
                .inner
                .find(cookies.iter().map(String::as_str), authorization),
        })
    }

    /// Whether a session created in this request is stored, given whether it holds
    /// anything, or always with `save_uninitialized`.
    fn keep_new(&self, initialized: bool) -> bool {
        self.inner.keep_new(initialized)
    }

    /// `keep_new` for a new session (a `tenure.Session` or its native one): it holds data,
    /// flash messages or a principal.
    fn keep_new_session(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let native = native_session(py, session, "keep_new_session")?;
        Ok(with_lock(py, &native.get().inner, |s| {
            self.inner.keep_new_session(s)
        }))
    }

    /// Whether a session the request opened is destroyed instead of committed: with
    /// `drop_emptied`, it was changed and now holds nothing (the response then clears the
    /// cookie: end the request as "destroyed").
    fn drops_emptied(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<bool> {
        let native = native_session(py, session, "drops_emptied")?;
        Ok(with_lock(py, &native.get().inner, |s| {
            self.inner.drops_emptied(s)
        }))
    }

    /// A bearer token for `id`, signed with the newest secret.
    fn token(&self, id: &str) -> String {
        self.inner.token(id)
    }

    /// The `Set-Cookie` value carrying `id` (newest secret, configured max age from `now_ms`).
    fn set_cookie(&self, py: Python<'_>, id: &str, now_ms: u64) -> PyResult<String> {
        self.inner
            .set_cookie(id, now_ms)
            .map_err(|e| core_err(py, e))
    }

    /// The clearing `Set-Cookie` value (logout).
    fn clear_cookie(&self, py: Python<'_>) -> PyResult<String> {
        self.inner.clear_cookie().map_err(|e| core_err(py, e))
    }

    /// The headers the response gets. `ending`: "no_session", "kept", "created",
    /// "regenerated", "destroyed" or "gone" (`id` for the first three); `accessed`: the
    /// handler looked at the session; `refresh`: the application asked for the cookie
    /// again; `now_ms` dates the cookie's `Expires`.
    #[pyo3(signature = (incoming, ending, *, now_ms, id=None, accessed=false, refresh=false))]
    #[allow(clippy::too_many_arguments)]
    fn respond(
        &self,
        py: Python<'_>,
        incoming: &Incoming,
        ending: &str,
        now_ms: u64,
        id: Option<&str>,
        accessed: bool,
        refresh: bool,
    ) -> PyResult<ResponseHeaders> {
        self.answer(py, incoming, ending, id, accessed, refresh, now_ms, None)
    }

    /// `respond` with this response's own cookie max age (ms, or None for a
    /// browser-session cookie) instead of the configured one.
    #[pyo3(signature = (incoming, ending, max_age_ms, *, now_ms, id=None, accessed=false, refresh=false))]
    #[allow(clippy::too_many_arguments)]
    fn respond_with_max_age(
        &self,
        py: Python<'_>,
        incoming: &Incoming,
        ending: &str,
        max_age_ms: Option<u64>,
        now_ms: u64,
        id: Option<&str>,
        accessed: bool,
        refresh: bool,
    ) -> PyResult<ResponseHeaders> {
        self.answer(
            py,
            incoming,
            ending,
            id,
            accessed,
            refresh,
            now_ms,
            Some(max_age_ms),
        )
    }
}

/// The native session of a `tenure.Session` (or the native one itself).
fn native_session<'py>(
    py: Python<'py>,
    session: &Bound<'py, PyAny>,
    method: &str,
) -> PyResult<Bound<'py, Session>> {
    match session.cast::<Session>() {
        Ok(s) => Ok(s.clone()),
        Err(_) => session
            .getattr("_native")
            .ok()
            .and_then(|n| n.cast_into::<Session>().ok())
            .ok_or_else(|| {
                raise(
                    py,
                    "InvalidType",
                    &format!(
                        "{method} takes a tenure.Session, not {}",
                        session
                            .get_type()
                            .name()
                            .map_or_else(|_| "?".into(), |n| n.to_string())
                    ),
                )
            }),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<WebConfig>()?;
    m.add_class::<Incoming>()?;
    m.add_class::<ResponseHeaders>()?;
    Ok(())
}

/// Cookie options from Python arguments, strings checked by the core's parsers (the one
/// reading shared by `WebConfig` and `build_set_cookie`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn cookie_options(
    py: Python<'_>,
    name: &str,
    path: Option<&str>,
    domain: Option<&str>,
    http_only: bool,
    secure: bool,
    same_site: Option<&str>,
    partitioned: bool,
    priority: Option<&str>,
) -> PyResult<CookieOptions> {
    let same_site: Option<SameSite> = same_site
        .map(str::parse)
        .transpose()
        .map_err(|e| core_err(py, e))?;
    let priority: Option<Priority> = priority
        .map(str::parse)
        .transpose()
        .map_err(|e| core_err(py, e))?;
    Ok(CookieOptions {
        name: name.into(),
        path: path.map(Into::into),
        domain: domain.map(Into::into),
        http_only,
        secure,
        same_site,
        partitioned,
        priority,
    })
}
