//! Core errors as JS `Error`s with a stable `code` (`TENURE_` + the core's code).

use js_sys::{Error, Reflect};
use std::cell::RefCell;
use tenure::StoreError;
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

/// A number as JavaScript writes it (`1.5`, `Infinity`, `NaN`), for messages: the way a JS
/// user wrote it, and without Rust's float formatting, which was 6 KB of the browser module
/// for two error messages.
pub fn js_number(n: f64) -> String {
    js_sys::Number::from(n)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

/// A core error, with a JS store's own exception as `cause` when the error carries one.
pub fn core_error(e: &tenure::Error) -> JsValue {
    let err = js_error(e.code().as_str(), &e.to_string());
    if let Some(c) = js_cause(e) {
        let _ = Reflect::set(&err, &"cause".into(), &c);
    }
    err
}

thread_local! {
    /// The JS exceptions travelling inside store errors, by handle. A `JsValue` is not
    /// `Send`, which the core asks of a cause; wasm runs one thread, so the value waits
    /// here and the error carries a handle, which frees it when the error's last copy goes.
    /// A vector, not a map: a cause lives only as long as its error, so there are few, and
    /// a map type would be one more generic copy in the browser module (7.7 KB).
    static CAUSES: RefCell<(u32, Vec<(u32, JsValue)>)> = const { RefCell::new((0, Vec::new())) };
}

/// The handle of a JS exception held in [`CAUSES`]: the cause a `StoreError` carries.
struct JsCause(u32);

impl Drop for JsCause {
    fn drop(&mut self) {
        CAUSES.with(|c| c.borrow_mut().1.retain(|(h, _)| *h != self.0));
    }
}

/// A store error whose cause is the exception (or rejection reason) `error`.
pub fn store_error(message: String, error: JsValue) -> StoreError {
    let handle = CAUSES.with(|c| {
        let mut c = c.borrow_mut();
        let (next, map) = &mut *c;
        let h = *next;
        *next = next.wrapping_add(1);
        map.push((h, error));
        h
    });
    StoreError::with_cause(message, JsCause(handle))
}

/// The JS exception a core error carries, if a JS store failed.
fn js_cause(e: &tenure::Error) -> Option<JsValue> {
    let tenure::Error::Store(se) = e else {
        return None;
    };
    let h = se.cause::<JsCause>()?.0;
    CAUSES.with(|c| {
        c.borrow()
            .1
            .iter()
            .find(|(k, _)| *k == h)
            .map(|(_, v)| v.clone())
    })
}
