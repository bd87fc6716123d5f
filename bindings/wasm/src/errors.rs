//! Core errors as JS `Error`s with a stable `code` (`TENURE_` + the core's code).

use js_sys::{Error, Reflect};
use wasm_bindgen::JsValue;

/// An `Error` with `code = "TENURE_" + code`.
pub fn js_error(code: &str, message: &str) -> JsValue {
    let e = Error::new(message);
    let _ = Reflect::set(
        &e,
        &"code".into(),
        &JsValue::from_str(&format!("TENURE_{code}")),
    );
    e.into()
}

/// A core error, with a JS store's own exception as `cause` when there is one.
pub fn core_error(e: &tenure::Error, cause: Option<JsValue>) -> JsValue {
    let err = js_error(e.code().as_str(), &e.to_string());
    if let Some(c) = cause {
        let _ = Reflect::set(&err, &"cause".into(), &c);
    }
    err
}
