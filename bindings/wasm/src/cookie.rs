//! Signed cookies and the `Cookie`/`Set-Cookie` headers.

use crate::errors::core_error;
use crate::options::{opt, opt_uint};
use crate::secrets::{secret_list, unsigned, with_secrets};
use crate::web;
use js_sys::Array;
use tenure::web::cookie;
use wasm_bindgen::prelude::*;
/// `s:<id>.<signature>`, express-session compatible.
#[wasm_bindgen(js_name = signCookie)]
pub fn sign_cookie(id: &str, secret: JsValue) -> Result<String, JsValue> {
    let s = secret_list(&secret)?;
    Ok(cookie::sign(id, s.first().map_or(&[][..], Vec::as_slice)))
}

/// The id of a signed value, or null.
#[wasm_bindgen(js_name = unsignCookie)]
pub fn unsign_cookie(value: &str, secrets: JsValue) -> Result<Option<String>, JsValue> {
    with_secrets(&secrets, |s| cookie::unsign_id(value, s))
}

/// `[id, secretIndex]` of a signed value, or null.
#[wasm_bindgen(js_name = unsignCookieIndex)]
pub fn unsign_cookie_index(value: &str, secrets: JsValue) -> Result<JsValue, JsValue> {
    with_secrets(&secrets, |s| unsigned(cookie::unsign(value, s)))
}

/// `[[name, value], …]` of a Cookie header.
#[wasm_bindgen(js_name = parseCookieHeader)]
pub fn parse_cookie_header(header: &str) -> Array {
    cookie::parse_cookie_header(header)
        .into_iter()
        .map(|(n, v)| -> JsValue {
            [JsValue::from_str(n), JsValue::from_str(v)]
                .iter()
                .collect::<Array>()
                .into()
        })
        .collect()
}

/// `[id, secretIndex]` of the first cookie named `name` that verifies, or null.
#[wasm_bindgen(js_name = findSessionId)]
pub fn find_session_id(header: &str, name: &str, secrets: JsValue) -> Result<JsValue, JsValue> {
    with_secrets(&secrets, |s| {
        unsigned(cookie::find_session_id(header, name, s))
    })
}

#[wasm_bindgen(js_name = encodeUriComponent)]
pub fn encode_uri_component(s: &str) -> String {
    cookie::encode_uri_component(s)
}

/// A `Set-Cookie` value. Options: `name`, `path`, `domain`, `httpOnly`, `secure`,
/// `sameSite` ('lax' | 'strict' | 'none' | null), `partitioned`, `priority`, `maxAge` (ms),
/// `now` (ms), `clear` (the logout cookie). `value` must be cookie-safe already.
#[wasm_bindgen(js_name = buildSetCookie)]
pub fn build_set_cookie(value: &str, options: JsValue) -> Result<String, JsValue> {
    // The same reading of cookie options as WebConfig's (one place, strict).
    let o = web::cookie_options(&options)?;
    let flag = |k: &str, d: bool| opt(&options, k).and_then(|v| v.as_bool()).unwrap_or(d);
    let r = if flag("clear", false) {
        o.clear()
    } else {
        let max_age = opt_uint(&options, "maxAge")?.flatten();
        let now = opt_uint(&options, "now")?.flatten().unwrap_or(0);
        o.build(value, max_age, now)
    };
    r.map_err(|e| core_error(&e))
}
