//! Reading option objects: one property at a time, `undefined` as absent.

use crate::errors::js_error;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
pub(crate) fn opt(o: &JsValue, key: &str) -> Option<JsValue> {
    if !o.is_object() {
        return None;
    }
    Reflect::get(o, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined())
}

/// A JS number that is a whole count of milliseconds: a non-negative integer within
/// `Number.MAX_SAFE_INTEGER` (beyond it a number is not exact). The one reading of every
/// millisecond argument and option.
pub(crate) fn whole_ms(n: f64) -> Option<u64> {
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0).then_some(n as u64)
}

/// A non-negative integer option; `null` gives `Some(None)` ("never").
pub(crate) fn opt_uint(o: &JsValue, key: &str) -> Result<Option<Option<u64>>, JsValue> {
    match opt(o, key) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(Some(None)),
        Some(v) => match v.as_f64().and_then(whole_ms) {
            Some(ms) => Ok(Some(Some(ms))),
            None => Err(js_error(
                "INVALID_POLICY",
                &format!("{key} must be a non-negative integer number of milliseconds (or null)"),
            )),
        },
    }
}
