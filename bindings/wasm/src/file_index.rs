//! The file store's index layout, for Node's `FileStore` (js/src/file-store.cjs): the
//! names come from the core ([`tenure::__private::file_index`]), so a Node process and a Rust or
//! Python one lay out one folder's index alike.

use js_sys::{Array, Object, Reflect, Uint8Array};
use tenure::__private::file_index as index;
use wasm_bindgen::prelude::*;

fn set(o: &Object, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// The fixed names: `{ dir, due, added, removed, ready }`.
#[wasm_bindgen(js_name = fileIndexLayout)]
pub fn file_index_layout() -> JsValue {
    let o = Object::new();
    for (k, v) in [
        ("dir", index::DIR),
        ("due", index::DUE),
        ("added", index::ADDED),
        ("removed", index::REMOVED),
        ("ready", index::READY),
    ] {
        set(&o, k, &JsValue::from_str(v));
    }
    o.into()
}

/// The entries of the encoded record `bytes` stored under `id`, as paths relative to the
/// index folder: `{ due, principal }` (principal may be null), or null for bytes that are
/// not a v1 record.
#[wasm_bindgen(js_name = fileIndexEntries)]
pub fn file_index_entries(id: &str, bytes: &Uint8Array) -> JsValue {
    match index::entries_of_bytes(id, &bytes.to_vec()) {
        Some(e) => {
            let o = Object::new();
            set(&o, "due", &JsValue::from_str(&e.due));
            set(
                &o,
                "principal",
                &e.principal.map_or(JsValue::NULL, |p| JsValue::from_str(&p)),
            );
            o.into()
        }
        None => JsValue::NULL,
    }
}

/// The due entry of `id` filed under `deadline`.
#[wasm_bindgen(js_name = fileDueEntry)]
pub fn file_due_entry(id: &str, deadline: f64) -> String {
    index::due_entry(id, Some(deadline as u64))
}

/// The folder of `principal`'s entries.
#[wasm_bindgen(js_name = filePrincipalSet)]
pub fn file_principal_set(principal: &str) -> String {
    index::principal_set(principal)
}

/// Of the bucket names listed in `due/`, those that may hold entries due by `through`
/// (null: any), earliest first.
#[wasm_bindgen(js_name = fileDueBuckets)]
pub fn file_due_buckets(names: Vec<String>, through: Option<f64>) -> Vec<String> {
    index::due_buckets(names.iter().map(String::as_str), through.map(|t| t as u64))
}

/// Of the entry names listed in one bucket, those due by `through` (null: all), earliest
/// first, as `[deadline, id]` pairs.
#[wasm_bindgen(js_name = fileDueIn)]
pub fn file_due_in(names: Vec<String>, through: Option<f64>) -> Array {
    index::due_in(names.iter().map(String::as_str), through.map(|t| t as u64))
        .into_iter()
        .map(|(d, id)| -> JsValue {
            Array::of2(&JsValue::from_f64(d as f64), &JsValue::from_str(&id)).into()
        })
        .collect()
}

/// One entry name listed in a bucket read back as `[deadline, id]`, or null if it is not
/// one (a sweep reads a bucket entry by entry, only as far as it needs).
#[wasm_bindgen(js_name = fileParseDue)]
pub fn file_parse_due(name: &str) -> Option<Array> {
    index::parse_due(name)
        .map(|(d, id)| Array::of2(&JsValue::from_f64(d as f64), &JsValue::from_str(id)))
}
