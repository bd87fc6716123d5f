//! The per-request parts of `tenure::web` (the `channel` rules) for JavaScript: is the
//! request secure, does the middleware cover its path, is a changed session's cookie sent
//! again, may one session's cookie live this long, and the response for a request that came
//! secure or not. Translation only: every rule is the core's.

use crate::errors::{core_error, js_error};
use crate::options::opt;
use crate::web::{ending_of, ms, Incoming, WebConfig};
use tenure::web::{Channel, Outcome, Proxy};
use wasm_bindgen::prelude::*;

/// `null`/`undefined` → `None`, else a non-negative integer of ms named `what`.
fn opt_ms(v: &JsValue, what: &str) -> Result<Option<u64>, JsValue> {
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    let n = v.as_f64().ok_or_else(|| {
        js_error(
            "INVALID_VALUE",
            &format!("{what} must be a number of ms or null"),
        )
    })?;
    ms(n, what).map(Some)
}

/// Whether a request is secure, by express-session's rule. `request` is `{ tls,
/// forwardedProto, frameworkSecure }` (booleans, the `X-Forwarded-Proto` value or null);
/// `proxy` is `true` (trust `X-Forwarded-Proto`), `false` (only TLS to this server) or
/// `undefined` (the framework's `frameworkSecure`, Express's `req.secure`).
#[wasm_bindgen(js_name = isSecureRequest)]
pub fn is_secure_request(request: JsValue, proxy: JsValue) -> Result<bool, JsValue> {
    let flag = |k: &str| opt(&request, k).and_then(|v| v.as_bool());
    let proto = opt(&request, "forwardedProto").and_then(|v| v.as_string());
    let proxy = if proxy.is_undefined() || proxy.is_null() {
        Proxy::Framework
    } else {
        match proxy.as_bool() {
            Some(true) => Proxy::Trust,
            Some(false) => Proxy::Distrust,
            None => {
                return Err(js_error(
                    "INVALID_POLICY",
                    "proxy must be true, false or undefined",
                ))
            }
        }
    };
    let channel = Channel {
        tls: flag("tls") == Some(true),
        forwarded_proto: proto.as_deref(),
        framework_secure: flag("frameworkSecure"),
    };
    Ok(channel.is_secure(proxy))
}

#[wasm_bindgen]
impl WebConfig {
    /// Whether the middleware handles a request for this URL path (under the cookie's Path).
    #[wasm_bindgen(js_name = coversPath)]
    pub fn covers_path(&self, path: &str) -> bool {
        self.inner.covers_path(path)
    }

    /// Whether a kept session's cookie is sent again because the request changed it: only a
    /// cookie with a lifetime (`maxAge`, ms or null).
    pub fn refreshes(
        &self,
        changed: bool,
        #[wasm_bindgen(unchecked_param_type = "number | null")] max_age: JsValue,
    ) -> Result<bool, JsValue> {
        Ok(self.inner.refreshes(changed, opt_ms(&max_age, "maxAge")?))
    }

    /// Throws `TENURE_INVALID_VALUE` when a session's cookie lifetime (ms) outlives the
    /// manager's absolute timeout (ms, or null for none).
    #[wasm_bindgen(js_name = checkSessionAge)]
    pub fn check_session_age(
        &self,
        age: f64,
        #[wasm_bindgen(unchecked_param_type = "number | null")] absolute: JsValue,
    ) -> Result<(), JsValue> {
        let age = ms(age, "maxAge")?;
        self.inner
            .check_session_age(age, opt_ms(&absolute, "absoluteTimeout")?)
            .map_err(|e| core_error(&e))
    }

    /// `respondWithMaxAge` for a request that came `secure` or not; `autoSecure` makes the
    /// cookie Secure exactly when the request is. A Secure cookie is never sent over an
    /// insecure request (`setCookie` null).
    #[wasm_bindgen(js_name = respondOver)]
    pub fn respond_over(
        &self,
        incoming: &Incoming,
        outcome: JsValue,
        now: f64,
        #[wasm_bindgen(unchecked_param_type = "number | null")] max_age: JsValue,
        secure: bool,
        auto_secure: bool,
    ) -> Result<JsValue, JsValue> {
        let max_age = opt_ms(&max_age, "maxAge")?;
        self.answer(
            incoming,
            &outcome,
            now,
            Some(max_age),
            Some((secure, auto_secure)),
        )
    }

    /// The end of a request for an adapter, in one call that builds no object (per request,
    /// `respondOver`'s outcome and answer objects cost more than the decision):
    /// `respondOver` for `ending` ('no_session' | 'kept' | 'created' | 'regenerated' |
    /// 'destroyed' | 'gone') of session `id`, where a kept session's cookie is sent again
    /// when the request `changed` the session and the cookie has a lifetime (`refreshes`),
    /// or when the handler changed that lifetime (`lifetimeChanged`). `maxAge` is this
    /// response's cookie lifetime (ms, or null). Returns the `Set-Cookie` value to append
    /// (`Vary` is then appended too), `""` when only `Vary` is (the handler looked at the
    /// session), or `undefined` when the response gets neither. `Vary`'s value is `vary`.
    // One crossing per response: the arguments are what the outcome object held.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = respondHeaders)]
    pub fn respond_headers(
        &self,
        incoming: &Incoming,
        accessed: bool,
        ending: &str,
        id: Option<String>,
        changed: bool,
        lifetime_changed: bool,
        now: f64,
        max_age: Option<f64>,
        secure: bool,
        auto_secure: bool,
    ) -> Result<Option<String>, JsValue> {
        let now = ms(now, "now")?;
        let max_age = max_age.map(|n| ms(n, "maxAge")).transpose()?;
        let needs_id = matches!(ending, "kept" | "created" | "regenerated");
        let id = match id {
            Some(id) => id,
            None if needs_id => {
                return Err(js_error(
                    "INVALID_VALUE",
                    &format!(
                        "respondHeaders: the session's id is needed when ending is '{ending}'"
                    ),
                ))
            }
            None => String::new(),
        };
        let refresh = self.inner.refreshes(changed, max_age) || lifetime_changed;
        let out = Outcome {
            accessed,
            ending: ending_of(ending, &id, refresh)?,
        };
        let h = self.headers(
            incoming,
            &out,
            now,
            Some(max_age),
            Some((secure, auto_secure)),
        )?;
        Ok(match (h.vary, h.set_cookie) {
            (_, Some(cookie)) => Some(cookie),
            (Some(_), None) => Some(String::new()),
            (None, None) => None,
        })
    }

    /// The `Vary` value of this transport ('Cookie', 'Authorization' or
    /// 'Cookie, Authorization'), which `respondHeaders` asks for.
    #[wasm_bindgen(getter)]
    pub fn vary(&self) -> String {
        self.inner.transport().vary().to_owned()
    }
}
