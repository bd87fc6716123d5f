//! `tenure::web` for JavaScript: the request lifecycle (which id a request names, whether a
//! new session is stored, which `Set-Cookie`/`Vary` the response gets) as the `WebConfig`
//! class. Translation only: every rule is the core's.

use crate::errors::{core_error, js_error};
use crate::options::{opt, opt_uint};
use crate::secrets::secret_list;
use crate::session::Session;
use js_sys::{Object, Reflect};
use tenure::web::cookie::{CookieOptions, Priority, SameSite, Secrets};
use tenure::web::{self, Ending, Outcome, SetCookieReason, Source, Transport, Why};
use wasm_bindgen::prelude::*;

/// A core error about an option, naming the option as JS spells it (the core names it in
/// snake_case).
fn as_option(e: tenure::Error, js_name: &str) -> JsValue {
    match e {
        tenure::Error::InvalidValue { reason, .. } => core_error(&tenure::Error::InvalidValue {
            key: js_name.into(),
            reason,
        }),
        other => core_error(&other),
    }
}

/// Cookie options from a JS object: `name`, `path` (null: none), `domain`, `httpOnly`,
/// `secure`, `sameSite` ('lax' | 'strict' | 'none' | null | false), `partitioned`,
/// `priority` ('low' | 'medium' | 'high'). Missing keys take the core's defaults.
pub(crate) fn cookie_options(options: &JsValue) -> Result<CookieOptions, JsValue> {
    let d = CookieOptions::default();
    let string = |k: &str| -> Result<Option<String>, JsValue> {
        match opt(options, k) {
            None => Ok(None),
            Some(v) if v.is_null() => Ok(None),
            Some(v) => v
                .as_string()
                .map(Some)
                .ok_or_else(|| js_error("INVALID_VALUE", &format!("cookie {k} must be a string"))),
        }
    };
    let flag = |k: &str, default: bool| -> Result<bool, JsValue> {
        match opt(options, k) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| js_error("INVALID_VALUE", &format!("cookie {k} must be a boolean"))),
        }
    };
    let same_site = match opt(options, "sameSite") {
        None => d.same_site,
        Some(v) if v.is_null() || v.as_bool() == Some(false) => None,
        Some(v) => match v.as_string() {
            Some(s) => Some(
                s.parse::<SameSite>()
                    .map_err(|e| as_option(e, "sameSite"))?,
            ),
            None => {
                return Err(js_error(
                    "INVALID_VALUE",
                    "sameSite must be 'lax', 'strict', 'none' or null",
                ))
            }
        },
    };
    let priority = match string("priority")? {
        None => None,
        Some(p) => Some(
            p.parse::<Priority>()
                .map_err(|e| as_option(e, "priority"))?,
        ),
    };
    let path = match opt(options, "path") {
        None => d.path,
        Some(v) if v.is_null() => None,
        Some(_) => string("path")?,
    };
    Ok(CookieOptions {
        name: string("name")?.unwrap_or(d.name),
        path,
        domain: string("domain")?,
        http_only: flag("httpOnly", d.http_only)?,
        secure: flag("secure", d.secure)?,
        same_site,
        partitioned: flag("partitioned", d.partitioned)?,
        priority,
    })
}

pub(crate) fn ms(v: f64, what: &str) -> Result<u64, JsValue> {
    crate::options::whole_ms(v).ok_or_else(|| {
        js_error(
            "INVALID_VALUE",
            &format!(
                "{what} must be a non-negative integer number of ms, not {}",
                crate::errors::js_number(v)
            ),
        )
    })
}

fn set(o: &Object, key: &str, v: JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(key), &v);
}

fn opt_str(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

/// An adapter's lifecycle settings: `new WebConfig({ secrets, transport, cookie, maxAge,
/// rolling, saveUninitialized })`.
#[wasm_bindgen]
pub struct WebConfig {
    pub(crate) inner: web::WebConfig,
}

/// What `WebConfig.find` read from a request.
#[wasm_bindgen]
pub struct Incoming {
    pub(crate) inner: web::Incoming,
}

#[wasm_bindgen]
impl Incoming {
    /// The verified id to open, or null.
    #[wasm_bindgen(getter, unchecked_return_type = "string | null")]
    pub fn id(&self) -> JsValue {
        opt_str(self.inner.id())
    }
    /// 'cookie' or 'bearer' (where the id came from), or null.
    #[wasm_bindgen(getter, unchecked_return_type = "'cookie' | 'bearer' | null")]
    pub fn source(&self) -> JsValue {
        opt_str(self.inner.found.as_ref().map(|f| match f.source {
            Source::Cookie => "cookie",
            Source::Bearer => "bearer",
        }))
    }
    /// Which secret verified the id (0 is the newest), or null.
    #[wasm_bindgen(getter, js_name = secretIndex, unchecked_return_type = "number | null")]
    pub fn secret_index(&self) -> JsValue {
        self.inner
            .found
            .as_ref()
            .map_or(JsValue::NULL, |f| JsValue::from_f64(f.secret_index as f64))
    }
    /// Whether the request carried a cookie with our name (valid or not).
    #[wasm_bindgen(getter, js_name = hadCookie)]
    pub fn had_cookie(&self) -> bool {
        self.inner.had_cookie
    }
    /// 'bearer', 'cookie', 'no_credentials' or 'rejected'.
    #[wasm_bindgen(getter)]
    pub fn why(&self) -> String {
        match self.inner.why {
            Why::Bearer => "bearer",
            Why::Cookie => "cookie",
            Why::NoCredentials => "no_credentials",
            Why::Rejected { .. } => "rejected",
        }
        .to_owned()
    }
    /// A bearer token was present and refused.
    #[wasm_bindgen(getter, js_name = rejectedBearer)]
    pub fn rejected_bearer(&self) -> bool {
        matches!(self.inner.why, Why::Rejected { bearer: true, .. })
    }
    /// Our cookie was present and every copy of it was refused.
    #[wasm_bindgen(getter, js_name = rejectedCookie)]
    pub fn rejected_cookie(&self) -> bool {
        matches!(self.inner.why, Why::Rejected { cookie: true, .. })
    }
    /// The id verified under an older secret only: a cookie is re-signed by `respond`; a
    /// bearer client should be handed a new token.
    #[wasm_bindgen(getter, js_name = staleSecret)]
    pub fn stale_secret(&self) -> bool {
        self.inner.stale_secret()
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

/// An ending by its name (`'no_session'`, `'kept'`, ...) for session `id` (ignored by the
/// endings without one); `refresh` is a kept session's.
pub(crate) fn ending_of<'a>(name: &str, id: &'a str, refresh: bool) -> Result<Ending<'a>, JsValue> {
    Ok(match name {
        "no_session" => Ending::NoSession,
        "kept" => Ending::Kept { id, refresh },
        "created" => Ending::Created { id },
        "regenerated" => Ending::Regenerated { id },
        "destroyed" => Ending::Destroyed,
        "gone" => Ending::Gone,
        other => {
            return Err(js_error(
                "INVALID_VALUE",
                &format!(
                    "outcome.ending must be 'no_session', 'kept', 'created', 'regenerated', 'destroyed' or 'gone', not {other:?}"
                ),
            ))
        }
    })
}

/// `{ accessed, ending, id, refresh }` → the core's outcome (the id is borrowed from `id`).
fn outcome<'a>(o: &JsValue, id: &'a mut String) -> Result<Outcome<'a>, JsValue> {
    if !o.is_object() {
        return Err(js_error(
            "INVALID_VALUE",
            "outcome must be an object { accessed, ending, id?, refresh? }",
        ));
    }
    let flag = |k: &str| -> Result<bool, JsValue> {
        match opt(o, k) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| {
                js_error("INVALID_VALUE", &format!("outcome.{k} must be a boolean"))
            }),
        }
    };
    let accessed = flag("accessed")?;
    let refresh = flag("refresh")?;
    let ending = opt(o, "ending").and_then(|v| v.as_string()).ok_or_else(|| {
        js_error(
            "INVALID_VALUE",
            "outcome.ending must be 'no_session', 'kept', 'created', 'regenerated', 'destroyed' or 'gone'",
        )
    })?;
    let needs_id = matches!(ending.as_str(), "kept" | "created" | "regenerated");
    if needs_id {
        *id = opt(o, "id").and_then(|v| v.as_string()).ok_or_else(|| {
            js_error(
                "INVALID_VALUE",
                &format!(
                    "outcome.id must be the session's id (a string) when ending is '{ending}'"
                ),
            )
        })?;
    }
    let ending = ending_of(&ending, id.as_str(), refresh)?;
    Ok(Outcome { accessed, ending })
}

#[wasm_bindgen]
impl WebConfig {
    /// Options: `secrets` (a string, a Uint8Array or an array of them: the first signs, all
    /// verify; each ≥ 32 bytes), `transport` ('cookie' | 'header' | 'both'), `cookie`
    /// (see `buildSetCookie`), `maxAge` (ms or null: a browser-session cookie), `rolling`,
    /// `saveUninitialized`. Wrong settings throw now (`TENURE_INVALID_POLICY` /
    /// `TENURE_INVALID_VALUE`, naming the option).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<WebConfig, JsValue> {
        if !options.is_object() {
            return Err(js_error(
                "INVALID_POLICY",
                "WebConfig takes an options object { secrets, transport, cookie, maxAge, rolling, saveUninitialized }",
            ));
        }
        let secrets = opt(&options, "secrets").ok_or_else(|| {
            js_error(
                "INVALID_POLICY",
                "WebConfig needs secrets (a string or a list)",
            )
        })?;
        let secrets = Secrets::new(secret_list(&secrets)?).map_err(|e| core_error(&e))?;
        let transport = match opt(&options, "transport") {
            None => Transport::Cookie,
            Some(v) => match v.as_string() {
                Some(s) => Transport::parse(&s).map_err(|e| core_error(&e))?,
                None => {
                    return Err(js_error(
                        "INVALID_POLICY",
                        "transport must be 'cookie', 'header' or 'both'",
                    ))
                }
            },
        };
        let cookie = match opt(&options, "cookie") {
            None => CookieOptions::default(),
            Some(c) if c.is_object() => cookie_options(&c)?,
            Some(_) => return Err(js_error("INVALID_POLICY", "cookie must be an object")),
        };
        let flag = |k: &str| -> Result<bool, JsValue> {
            match opt(&options, k) {
                None => Ok(false),
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| js_error("INVALID_POLICY", &format!("{k} must be a boolean"))),
            }
        };
        let inner = web::WebConfig::new(secrets, cookie, transport)
            .map_err(|e| core_error(&e))?
            .with_max_age(opt_uint(&options, "maxAge")?.flatten())
            .with_rolling(flag("rolling")?)
            .with_save_uninitialized(flag("saveUninitialized")?);
        Ok(WebConfig { inner })
    }

    /// 'cookie', 'header' or 'both'.
    #[wasm_bindgen(getter)]
    pub fn transport(&self) -> String {
        match self.inner.transport() {
            Transport::Cookie => "cookie",
            Transport::Header => "header",
            Transport::Both => "both",
        }
        .to_owned()
    }

    /// The server timeouts (ms, null for never) that keep a session alive as long as its
    /// cookie: `{ idleTimeout, absoluteTimeout }`, for a manager built by an adapter, under
    /// the options the application did not set itself (the core's one-lifetime rule).
    #[wasm_bindgen(
        js_name = serverTimeouts,
        unchecked_return_type = "{ idleTimeout: number | null; absoluteTimeout: number | null }"
    )]
    pub fn server_timeouts(&self) -> JsValue {
        let t = self.inner.server_timeouts();
        let out = js_sys::Object::new();
        let num = |v: Option<u64>| v.map_or(JsValue::NULL, |n| JsValue::from_f64(n as f64));
        // Setting a data property on a fresh plain object cannot throw.
        let _ = js_sys::Reflect::set(&out, &"idleTimeout".into(), &num(t.idle));
        let _ = js_sys::Reflect::set(&out, &"absoluteTimeout".into(), &num(t.absolute));
        out.into()
    }

    /// Throws `TENURE_INVALID_POLICY` when a manager with this idle timeout (ms, or null
    /// for never) would end sessions while their cookie is still valid.
    #[wasm_bindgen(js_name = checkTimeouts)]
    pub fn check_timeouts(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | null")] idle: JsValue,
    ) -> Result<(), JsValue> {
        let idle = if idle.is_null() || idle.is_undefined() {
            None
        } else {
            let ms = idle.as_f64().and_then(crate::options::whole_ms);
            Some(ms.ok_or_else(|| {
                js_error(
                    "INVALID_POLICY",
                    "checkTimeouts takes an idle timeout in ms (a non-negative integer) or null",
                )
            })?)
        };
        self.inner.check_timeouts(idle).map_err(|e| core_error(&e))
    }

    /// The cookie's name.
    #[wasm_bindgen(getter, js_name = cookieName)]
    pub fn cookie_name(&self) -> String {
        self.inner.cookie().name.clone()
    }

    /// Which id a request names: `cookieHeaders` is the `Cookie` header (a string, an
    /// array of them, or null), `authorization` the `Authorization` header (or null).
    pub fn find(
        &self,
        cookie_headers: JsValue,
        authorization: JsValue,
    ) -> Result<Incoming, JsValue> {
        let bad_cookie = || {
            js_error(
                "INVALID_VALUE",
                "cookieHeaders must be a string, an array of strings, or null",
            )
        };
        let cookies: Vec<String> = if cookie_headers.is_null() || cookie_headers.is_undefined() {
            Vec::new()
        } else if let Some(s) = cookie_headers.as_string() {
            vec![s]
        } else if crate::values::try_is_array(&cookie_headers).map_err(|_| bad_cookie())? {
            // Through `catch` imports (a Proxy may throw), and no more items than the core
            // looks at: a huge or lying array costs nothing more.
            let len =
                crate::values::length_of(&cookie_headers, "length").map_err(|_| bad_cookie())?;
            (0..len.min(tenure::web::cookie::MAX_COOKIE_HEADERS))
                .map(|i| {
                    Reflect::get_u32(&cookie_headers, i as u32)
                        .ok()
                        .and_then(|v| v.as_string())
                        .ok_or_else(bad_cookie)
                })
                .collect::<Result<_, _>>()?
        } else {
            return Err(bad_cookie());
        };
        let auth = if authorization.is_null() || authorization.is_undefined() {
            None
        } else {
            Some(authorization.as_string().ok_or_else(|| {
                js_error("INVALID_VALUE", "authorization must be a string or null")
            })?)
        };
        Ok(Incoming {
            inner: self
                .inner
                .find(cookies.iter().map(String::as_str), auth.as_deref()),
        })
    }

    /// Whether a session created in this request is stored, given whether it holds
    /// anything (`initialized`), or always with `saveUninitialized`.
    #[wasm_bindgen(js_name = keepNew)]
    pub fn keep_new(&self, initialized: bool) -> bool {
        self.inner.keep_new(initialized)
    }

    /// `keepNew` for a new session: it holds data, flash messages or a principal.
    #[wasm_bindgen(js_name = keepNewSession)]
    pub fn keep_new_session(&self, session: &Session) -> bool {
        self.inner.keep_new_session(&session.inner)
    }

    /// A bearer token for `id`, signed with the newest secret.
    pub fn token(&self, id: &str) -> String {
        self.inner.token(id)
    }

    /// The `Set-Cookie` value carrying `id` (newest secret, configured max age from `now`).
    #[wasm_bindgen(js_name = setCookie)]
    pub fn set_cookie(&self, id: &str, now: f64) -> Result<String, JsValue> {
        self.inner
            .set_cookie(id, ms(now, "now")?)
            .map_err(|e| core_error(&e))
    }

    /// The clearing `Set-Cookie` value (logout).
    #[wasm_bindgen(js_name = clearCookie)]
    pub fn clear_cookie(&self) -> Result<String, JsValue> {
        self.inner.clear_cookie().map_err(|e| core_error(&e))
    }

    /// The headers the response gets, `{ vary, setCookie, reason }` (each a string or
    /// null), for `outcome` = `{ accessed, ending, id?, refresh? }`; `now` (ms) dates the
    /// cookie's `Expires`.
    pub fn respond(
        &self,
        incoming: &Incoming,
        outcome: JsValue,
        now: f64,
    ) -> Result<JsValue, JsValue> {
        self.answer(incoming, &outcome, now, None, None)
    }

    /// `respond` with this response's own cookie lifetime (ms, or null for a
    /// browser-session cookie) instead of the configured `maxAge`.
    #[wasm_bindgen(js_name = respondWithMaxAge)]
    pub fn respond_with_max_age(
        &self,
        incoming: &Incoming,
        outcome: JsValue,
        now: f64,
        max_age: JsValue,
    ) -> Result<JsValue, JsValue> {
        let max_age = if max_age.is_null() || max_age.is_undefined() {
            None
        } else {
            let n = max_age.as_f64().ok_or_else(|| {
                js_error("INVALID_VALUE", "maxAge must be a number of ms or null")
            })?;
            Some(ms(n, "maxAge")?)
        };
        self.answer(incoming, &outcome, now, Some(max_age), None)
    }
}

impl WebConfig {
    /// The core's headers for `out`: `max_age` replaces the configured cookie lifetime,
    /// `over` is (the request is secure, `secure: 'auto'`), for `respondOver`.
    pub(crate) fn headers(
        &self,
        incoming: &Incoming,
        out: &Outcome<'_>,
        now: u64,
        max_age: Option<Option<u64>>,
        over: Option<(bool, bool)>,
    ) -> Result<web::ResponseHeaders, JsValue> {
        match (max_age, over) {
            (m, Some((secure, auto))) => self.inner.respond_over(
                &incoming.inner,
                out,
                now,
                m.unwrap_or(self.inner.max_age()),
                secure,
                auto,
            ),
            (None, None) => self.inner.respond(&incoming.inner, out, now),
            (Some(m), None) => self
                .inner
                .respond_with_max_age(&incoming.inner, out, now, m),
        }
        .map_err(|e| core_error(&e))
    }

    /// `headers` for an outcome object, as `{ vary, setCookie, reason }`.
    pub(crate) fn answer(
        &self,
        incoming: &Incoming,
        outcome_js: &JsValue,
        now: f64,
        max_age: Option<Option<u64>>,
        over: Option<(bool, bool)>,
    ) -> Result<JsValue, JsValue> {
        let now = ms(now, "now")?;
        let mut id = String::new();
        let out = outcome(outcome_js, &mut id)?;
        let h = self.headers(incoming, &out, now, max_age, over)?;
        let o = Object::new();
        set(&o, "vary", opt_str(h.vary));
        set(&o, "setCookie", opt_str(h.set_cookie.as_deref()));
        set(&o, "reason", opt_str(h.reason.map(reason_name)));
        Ok(o.into())
    }
}
