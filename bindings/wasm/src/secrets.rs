//! Secrets from JS (strings or bytes) and the `[id, secretIndex]` pairs they verify.

use crate::errors::{core_error, js_error};
use js_sys::{Array, Uint8Array};
use tenure::web::cookie;
use wasm_bindgen::prelude::*;
pub(crate) fn secret_list(secrets: &JsValue) -> Result<Vec<Vec<u8>>, JsValue> {
    let one = |v: &JsValue| -> Result<Vec<u8>, JsValue> {
        if let Some(s) = v.as_string() {
            return Ok(s.into_bytes());
        }
        if let Some(b) = v.dyn_ref::<Uint8Array>() {
            return Ok(b.to_vec());
        }
        Err(js_error(
            "INVALID_VALUE",
            "a secret must be a string or a Uint8Array",
        ))
    };
    if Array::is_array(secrets) {
        Array::from(secrets).iter().map(|s| one(&s)).collect()
    } else {
        Ok(vec![one(secrets)?])
    }
}

pub(crate) fn with_secrets<R>(
    secrets: &JsValue,
    f: impl FnOnce(&[&[u8]]) -> R,
) -> Result<R, JsValue> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(f(&refs))
}

pub(crate) fn unsigned(u: Option<cookie::Unsigned>) -> JsValue {
    match u {
        None => JsValue::NULL,
        Some(u) => [
            JsValue::from_str(&u.id),
            JsValue::from_f64(u.secret_index as f64),
        ]
        .iter()
        .collect::<Array>()
        .into(),
    }
}

/// Throws `TENURE_INVALID_POLICY` unless there is a secret and every one is ≥ 32 bytes.
#[wasm_bindgen(js_name = checkSecrets)]
pub fn check_secrets(secrets: JsValue) -> Result<(), JsValue> {
    cookie::Secrets::new(secret_list(&secrets)?)
        .map(|_| ())
        .map_err(|e| core_error(&e))
}
