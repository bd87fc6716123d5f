//! JS values ⇄ tenure values, by hand: exact integers (BigInt beyond 2^53), Uint8Array for
//! bytes, plain objects and Maps for maps; everything else refused with the key and type.

use crate::errors::js_error;
use js_sys::{Array, BigInt, Object, Reflect, Uint8Array};
use std::collections::BTreeMap;
use tenure::Value;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

// Everything the conversion asks of a value that may be a Proxy, or have getters, goes
// through these `catch` imports: a JS exception thrown through a Rust frame would skip its
// cleanup and leave the session or manager borrowed ("recursive use of an object") for
// good. A throw is turned into a TENURE_INVALID_VALUE naming the key instead.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn try_is_array(v: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    fn try_array_from(v: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = getPrototypeOf)]
    fn try_get_prototype_of(v: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn try_keys(v: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = String)]
    fn try_string(v: &JsValue) -> Result<JsValue, JsValue>;
}

/// The JS error `e` thrown while reading the value at `path`, as a TENURE_INVALID_VALUE.
fn threw(path: &str, e: JsValue) -> JsValue {
    let why = Reflect::get(&e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| try_string(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "an exception".into());
    js_error(
        "INVALID_VALUE",
        &format!("{path}: reading the value threw: {why}"),
    )
}

/// A string argument, or TENURE_INVALID_VALUE naming `what` and the type it got (wasm-bindgen's
/// own `&str` glue reads any value as a string, and a non-string corrupts the call).
pub(crate) fn str_arg(v: &JsValue, what: &str) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| {
        js_error(
            "INVALID_VALUE",
            &format!("{what} must be a string, not {}", type_name(v)),
        )
    })
}

/// An optional string argument (`null`/`undefined`: none).
pub(crate) fn opt_str_arg(v: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if v.is_null() || v.is_undefined() {
        Ok(None)
    } else {
        str_arg(v, what).map(Some)
    }
}

const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

pub(crate) fn type_name(v: &JsValue) -> String {
    if v.is_function() {
        return "function".into();
    }
    if v.is_symbol() {
        return "symbol".into();
    }
    if v.is_object() {
        let ctor = Reflect::get(v, &"constructor".into())
            .ok()
            .and_then(|c| Reflect::get(&c, &"name".into()).ok())
            .and_then(|n| n.as_string());
        return ctor.unwrap_or_else(|| "object".into());
    }
    v.js_typeof().as_string().unwrap_or_else(|| "value".into())
}

/// The common cases (a string, a finite number, a boolean, null) in as few calls into JS as
/// possible; `None` for everything else, which `to_value` converts (or refuses).
pub fn primitive(v: &JsValue) -> Option<Value> {
    if let Some(s) = v.as_string() {
        return Some(Value::Str(s.into()));
    }
    if let Some(n) = v.as_f64() {
        if !n.is_finite() {
            return None;
        }
        if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
            return Some(Value::Int(n as i64));
        }
        return Some(Value::Float(n));
    }
    if let Some(b) = v.as_bool() {
        return Some(Value::Bool(b));
    }
    if v.is_null() {
        return Some(Value::Null);
    }
    None
}

/// Converts `v` (found at `path`) into a tenure value.
pub fn to_value(v: &JsValue, path: &str, max_depth: usize) -> Result<Value, JsValue> {
    convert(v, path, max_depth, 0)
}

fn convert(v: &JsValue, path: &str, max_depth: usize, depth: usize) -> Result<Value, JsValue> {
    if let Some(p) = primitive(v) {
        return Ok(p);
    }
    if v.is_null() || v.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        if !n.is_finite() {
            return Err(js_error(
                "INVALID_VALUE",
                &format!("{path}: {n} is not a finite number"),
            ));
        }
        if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
            return Ok(Value::Int(n as i64));
        }
        return Ok(Value::Float(n));
    }
    if v.is_bigint() {
        let big: BigInt = v.clone().unchecked_into();
        let s = big
            .to_string(10)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        return s.parse::<i64>().map(Value::Int).map_err(|_| {
            js_error(
                "LIMIT_EXCEEDED",
                &format!("{path}: BigInt {s} does not fit in 64 bits (i64)"),
            )
        });
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::Str(s.into()));
    }
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return Ok(Value::Bytes(bytes.to_vec().into_boxed_slice()));
    }
    let is_array = try_is_array(v).map_err(|e| threw(path, e))?;
    let is_map = v.is_instance_of::<js_sys::Map>();
    let plain = v.is_object() && !v.is_function() && {
        let proto = try_get_prototype_of(v).map_err(|e| threw(path, e))?;
        let plain_proto: JsValue = Object::get_prototype_of(&Object::new().into()).into();
        proto.is_null() || proto == plain_proto
    };
    if (is_array || is_map || plain) && depth >= max_depth {
        return Err(js_error(
            "LIMIT_EXCEEDED",
            &format!("{path}: nesting deeper than maxDepth ({max_depth}); is the value cyclic?"),
        ));
    }
    if is_array {
        // A copy made by Array.from: a Proxy's traps run (and may throw) here, once.
        let arr = try_array_from(v).map_err(|e| threw(path, e))?;
        let mut out = Vec::with_capacity(arr.length() as usize);
        for (i, item) in arr.iter().enumerate() {
            out.push(convert(
                &item,
                &format!("{path}[{i}]"),
                max_depth,
                depth + 1,
            )?);
        }
        return Ok(Value::List(out.into_boxed_slice()));
    }
    if is_map {
        // Array.from(map) lists its [key, value] entries (a proxied Map throws, caught).
        let entries = try_array_from(v).map_err(|e| threw(path, e))?;
        let mut out = BTreeMap::new();
        for entry in entries.iter() {
            let key = Reflect::get_u32(&entry, 0).map_err(|e| threw(path, e))?;
            let value = Reflect::get_u32(&entry, 1).map_err(|e| threw(path, e))?;
            let Some(k) = key.as_string() else {
                return Err(js_error(
                    "INVALID_VALUE",
                    &format!("{path}: Map keys must be strings, not {}", type_name(&key)),
                ));
            };
            let c = convert(&value, &format!("{path}[{k:?}]"), max_depth, depth + 1)?;
            out.insert(k, c);
        }
        return Ok(Value::Map(out.into()));
    }
    if plain {
        let mut out = BTreeMap::new();
        let obj: &Object = v.unchecked_ref();
        for key in try_keys(obj).map_err(|e| threw(path, e))?.iter() {
            let k = key.as_string().unwrap_or_default();
            let item = Reflect::get(v, &key).map_err(|e| threw(&format!("{path}[{k:?}]"), e))?;
            if item.is_undefined() {
                continue; // like JSON.stringify: undefined properties are absent
            }
            let c = match primitive(&item) {
                Some(c) => c,
                None => convert(&item, &format!("{path}[{k:?}]"), max_depth, depth + 1)?,
            };
            out.insert(k, c);
        }
        return Ok(Value::Map(out.into()));
    }
    Err(js_error(
        "INVALID_VALUE",
        &format!(
            "{path}: a {} can't be stored (use null, boolean, number, BigInt, string, Uint8Array, Array or a plain object)",
            type_name(v)
        ),
    ))
}

/// Converts a tenure value to a fresh JS value.
pub fn to_js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Int(i) if (*i as f64).abs() <= MAX_SAFE => JsValue::from_f64(*i as f64),
        Value::Int(i) => BigInt::from(*i).into(),
        Value::Float(f) => JsValue::from_f64(*f),
        Value::Str(s) => JsValue::from_str(s),
        Value::Bytes(b) => Uint8Array::from(&b[..]).into(),
        Value::List(items) => items.iter().map(to_js).collect::<Array>().into(),
        Value::Map(m) => {
            let o = Object::new();
            for (k, item) in m.iter() {
                let _ = Reflect::set(&o, &JsValue::from_str(k), &to_js(item));
            }
            o.into()
        }
    }
}
