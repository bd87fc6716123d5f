//! What a host store needs to read of records and ids.

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
/// The `version` of an encoded record (Uint8Array or string), or null if it does not read
/// as a v1 record: what a host store compares for `replace` and `delete(id, expected)`.
#[wasm_bindgen(js_name = recordVersion)]
pub fn record_version(bytes: JsValue) -> Option<f64> {
    let v = if let Some(s) = bytes.as_string() {
        tenure::stored_version(s.as_bytes())
    } else if let Some(b) = bytes.dyn_ref::<Uint8Array>() {
        tenure::stored_version(&b.to_vec())
    } else {
        None
    };
    v.map(|n| n as f64)
}

#[wasm_bindgen(js_name = isPlausibleId)]
pub fn is_plausible_id(id: &str) -> bool {
    tenure::__private::is_plausible(id)
}
