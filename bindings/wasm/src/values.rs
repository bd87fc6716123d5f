//! JS values ⇄ tenure values, by hand: exact integers (BigInt beyond 2^53), Uint8Array for
//! bytes, plain objects and Maps for maps; everything else refused with the key and type.

use crate::errors::js_error;
use js_sys::{Array, BigInt, JsString, Object, Reflect, Uint8Array};
use tenure::{Budget, Exceeded, Value};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

// Everything the conversion asks of a value that may be a Proxy, or have getters, goes
// through these `catch` imports: a JS exception thrown through a Rust frame would skip its
// cleanup and leave the session or manager borrowed ("recursive use of an object") for
// good. A throw is turned into a TENURE_INVALID_VALUE naming the key instead.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub(crate) fn try_is_array(v: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    pub(crate) fn try_array_from(v: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Uint8Array, js_name = from)]
    fn try_u8_from(v: &JsValue) -> Result<Uint8Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = getPrototypeOf)]
    fn try_get_prototype_of(v: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn try_keys(v: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = String)]
    fn try_string(v: &JsValue) -> Result<JsValue, JsValue>;
}

/// `v instanceof C`, where `proto` is `C.prototype`, walked through `catch` imports: a
/// Proxy's `getPrototypeOf` trap that throws is an `Err`, not an exception through Rust
/// (the `instanceof` operator would call that trap with nothing to catch it).
pub(crate) fn try_instance_of(v: &JsValue, proto: &JsValue) -> Result<bool, JsValue> {
    if !v.is_object() && !v.is_function() {
        return Ok(false);
    }
    let mut at = try_get_prototype_of(v)?;
    // A prototype chain is finite, but a Proxy can answer a fresh object at every step.
    for _ in 0..64 {
        if at.is_null() {
            return Ok(false);
        }
        if at == *proto {
            return Ok(true);
        }
        at = try_get_prototype_of(&at)?;
    }
    Ok(false)
}

/// `Map.prototype`.
pub(crate) fn map_prototype() -> JsValue {
    Object::get_prototype_of(&js_sys::Map::new()).into()
}

/// `v`'s prototype, through a `catch` import.
#[cfg(feature = "redis")]
pub(crate) fn prototype_of(v: &JsValue) -> Result<JsValue, JsValue> {
    try_get_prototype_of(v)
}

/// The bytes of a `Uint8Array`, copied through a `catch` import: a Proxy over one passes
/// `instanceof` but may throw from any read (`length`, an index). `None` for anything else;
/// `Some(Err(e))` when reading it threw `e`.
pub(crate) fn bytes_of(v: &JsValue) -> Option<Result<Vec<u8>, JsValue>> {
    if !v.is_instance_of::<Uint8Array>() {
        return None;
    }
    // The copy is a genuine array of our own: reading it can't run anyone's code.
    Some(try_u8_from(v).map(|copy| copy.to_vec()))
}

/// A JS exception's message, without calling anything that could throw.
pub(crate) fn message_of(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| try_string(e).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "an exception".into())
}

/// The JS error `e` thrown while reading the value at `path`, as a TENURE_INVALID_VALUE.
fn threw(path: &str, e: JsValue) -> JsValue {
    let why = message_of(&e);
    js_error(
        "INVALID_VALUE",
        &format!("{path}: reading the value threw: {why}"),
    )
}

/// The Rust copy of a JS string, or TENURE_INVALID_VALUE naming `what` when it holds a lone
/// surrogate: wasm-bindgen would copy one as U+FFFD, so two different strings would become
/// the same key or value — a silent change of data. Only a copy that holds U+FFFD is checked
/// against the original (rare; a real U+FFFD in the input passes).
pub(crate) fn utf8(v: &JsValue, what: &dyn Fn() -> String) -> Result<Option<String>, JsValue> {
    let Some(s) = v.as_string() else {
        return Ok(None);
    };
    if s.contains('\u{FFFD}') && !v.unchecked_ref::<JsString>().is_valid_utf16() {
        // The string as JSON writes it (`"a\ud800"`), cut short: it names what was refused.
        let mut shown = js_sys::JSON::stringify(v)
            .ok()
            .and_then(|j| j.as_string())
            .unwrap_or_default();
        if let Some((cut, _)) = shown.char_indices().nth(40) {
            shown.truncate(cut);
            shown.push_str("…\"");
        }
        return Err(js_error(
            "INVALID_VALUE",
            &format!(
                "{} {shown}: a string with a lone surrogate (not valid Unicode) can't be stored",
                what()
            ),
        ));
    }
    Ok(Some(s))
}

/// A string argument, or TENURE_INVALID_VALUE naming `what` and the type it got (wasm-bindgen's
/// own `&str` glue reads any value as a string, and a non-string corrupts the call).
pub(crate) fn str_arg(v: &JsValue, what: &str) -> Result<String, JsValue> {
    utf8(v, &|| what.to_string())?.ok_or_else(|| {
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

/// A limit passed at `path`, as TENURE_LIMIT_EXCEEDED.
fn over(path: &str, e: Exceeded) -> JsValue {
    let hint = match e {
        Exceeded::Depth { .. } => "; is the value cyclic?",
        Exceeded::Bytes { .. } => "",
    };
    js_error("LIMIT_EXCEEDED", &format!("{path}: {e}{hint}"))
}

/// The common cases (a string, a finite number, a boolean, null) in as few calls into JS as
/// possible, charged to `budget`; `None` for everything else, which `to_value` converts (or
/// refuses). `path` names the value in errors (built only on failure).
pub fn primitive(
    v: &JsValue,
    budget: &mut Budget,
    path: &dyn Fn() -> String,
) -> Result<Option<Value>, JsValue> {
    if v.is_string() {
        // Measured before it is copied into wasm memory (which never shrinks): a UTF-8 copy
        // takes at least as many bytes as the string has UTF-16 units.
        let units = v.unchecked_ref::<JsString>().length() as usize;
        budget.string(units).map_err(|e| over(&path(), e))?;
        return Ok(utf8(v, path)?.map(|s| Value::Str(s.into())));
    }
    let p = if let Some(n) = v.as_f64() {
        if !n.is_finite() {
            return Ok(None);
        }
        if n.fract() == 0.0 && n.abs() <= MAX_SAFE {
            Value::Int(n as i64)
        } else {
            Value::Float(n)
        }
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if v.is_null() {
        Value::Null
    } else {
        return Ok(None);
    };
    budget.scalar(p.json_len()).map_err(|e| over(&path(), e))?;
    Ok(Some(p))
}

/// Where a value sits inside the one being converted (`session["cart"][2]["qty"]`), written
/// out only when a value is refused: a conversion that succeeds formats no path.
#[derive(Clone, Copy)]
enum At<'a> {
    Root(&'a str),
    Index(&'a At<'a>, usize),
    Key(&'a At<'a>, &'a str),
}

impl At<'_> {
    fn path(&self) -> String {
        match self {
            At::Root(p) => (*p).to_string(),
            At::Index(up, i) => format!("{}[{i}]", up.path()),
            At::Key(up, k) => format!("{}[{k:?}]", up.path()),
        }
    }
}

/// Converts `v` (found at `path`) into a tenure value within `budget`: the walk stops at the
/// first limit passed, so a refusal costs at most the limit, whatever the size of `v`.
pub fn to_value(v: &JsValue, path: &str, budget: &mut Budget) -> Result<Value, JsValue> {
    convert(v, &At::Root(path), budget, 0)
}

fn convert(v: &JsValue, at: &At<'_>, budget: &mut Budget, depth: usize) -> Result<Value, JsValue> {
    if let Some(p) = primitive(v, budget, &|| at.path())? {
        return Ok(p);
    }
    let scalar = |budget: &mut Budget, x: Value| -> Result<Value, JsValue> {
        budget
            .scalar(x.json_len())
            .map_err(|e| over(&at.path(), e))?;
        Ok(x)
    };
    if v.is_undefined() {
        return scalar(budget, Value::Null);
    }
    if let Some(n) = v.as_f64() {
        return Err(js_error(
            "INVALID_VALUE",
            &format!(
                "{}: {} is not a finite number",
                at.path(),
                crate::errors::js_number(n)
            ),
        ));
    }
    if v.is_bigint() {
        let big: BigInt = v.clone().unchecked_into();
        let s = big
            .to_string(10)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        let i = s.parse::<i64>().map_err(|_| {
            js_error(
                "LIMIT_EXCEEDED",
                &format!("{}: BigInt {s} does not fit in 64 bits (i64)", at.path()),
            )
        })?;
        return scalar(budget, Value::Int(i));
    }
    let threw_at = |e: JsValue| threw(&at.path(), e);
    let over_at = |e: Exceeded| over(&at.path(), e);
    if v.is_instance_of::<Uint8Array>() {
        // The length through a `catch` import (a Proxy may throw), paid for before the copy.
        let len = length_of(v, "length").map_err(threw_at)?;
        budget.bytes(len).map_err(over_at)?;
        let bytes = bytes_of(v).unwrap_or(Ok(Vec::new())).map_err(threw_at)?;
        budget
            .bytes(bytes.len().saturating_sub(len))
            .map_err(over_at)?;
        return Ok(Value::Bytes(bytes.into_boxed_slice()));
    }
    let is_array = try_is_array(v).map_err(threw_at)?;
    let is_map = !is_array && try_instance_of(v, &map_prototype()).map_err(threw_at)?;
    let plain = !is_array && !is_map && v.is_object() && !v.is_function() && {
        let proto = try_get_prototype_of(v).map_err(threw_at)?;
        let plain_proto: JsValue = Object::get_prototype_of(&Object::new().into()).into();
        proto.is_null() || proto == plain_proto
    };
    if is_array {
        // The length first (a Proxy's trap may lie or throw: caught), charged before any
        // item is read; then each index once, so a 10-million-element array is refused
        // without being copied, and a Proxy can't yield more items than it declared.
        let len = length_of(v, "length").map_err(threw_at)?;
        budget.container(depth, len).map_err(over_at)?;
        let mut out = Vec::with_capacity(len);
        for i in 0..len {
            let item = Reflect::get_u32(v, i as u32).map_err(threw_at)?;
            out.push(convert(&item, &At::Index(at, i), budget, depth + 1)?);
        }
        return Ok(Value::List(out.into_boxed_slice()));
    }
    if is_map {
        // A proxied Map throws reading its size (caught); a Map's entries are read only once
        // its size is paid for.
        let len = length_of(v, "size").map_err(threw_at)?;
        budget.container(depth, len).map_err(over_at)?;
        let entries = try_array_from(v).map_err(threw_at)?;
        let mut out = Vec::new();
        for entry in entries.iter() {
            let key = Reflect::get_u32(&entry, 0).map_err(threw_at)?;
            let value = Reflect::get_u32(&entry, 1).map_err(threw_at)?;
            let k = map_key(&key, at, budget)?.ok_or_else(|| {
                js_error(
                    "INVALID_VALUE",
                    &format!(
                        "{}: Map keys must be strings, not {}",
                        at.path(),
                        type_name(&key)
                    ),
                )
            })?;
            let c = convert(&value, &At::Key(at, &k), budget, depth + 1)?;
            out.push((k, c));
        }
        return Ok(Value::Map(out.into_iter().collect()));
    }
    if plain {
        let obj: &Object = v.unchecked_ref();
        let keys = try_keys(obj).map_err(threw_at)?;
        budget
            .container(depth, keys.length() as usize)
            .map_err(over_at)?;
        let mut out = Vec::new();
        for key in keys.iter() {
            let k = map_key(&key, at, budget)?.unwrap_or_default();
            let item = Reflect::get(v, &key).map_err(|e| threw(&At::Key(at, &k).path(), e))?;
            if item.is_undefined() {
                continue; // like JSON.stringify: undefined properties are absent
            }
            let c = convert(&item, &At::Key(at, &k), budget, depth + 1)?;
            out.push((k, c));
        }
        return Ok(Value::Map(out.into_iter().collect()));
    }
    Err(js_error(
        "INVALID_VALUE",
        &format!(
            "{}: a {} can't be stored (use null, boolean, number, BigInt, string, Uint8Array, Array or a plain object)",
            at.path(),
            type_name(v)
        ),
    ))
}

/// A map key charged to `budget` (`None` if it is not a string).
fn map_key(key: &JsValue, at: &At<'_>, budget: &mut Budget) -> Result<Option<String>, JsValue> {
    if !key.is_string() {
        return Ok(None);
    }
    let units = key.unchecked_ref::<JsString>().length() as usize;
    budget.key(units).map_err(|e| over(&at.path(), e))?;
    utf8(key, &|| format!("{}: a key", at.path()))
}

/// `v[name]` read as a length (an array's `length`, a Map's `size`), through a `catch`
/// import: a Proxy's trap may throw. Anything but a non-negative integer is an error.
pub(crate) fn length_of(v: &JsValue, name: &str) -> Result<usize, JsValue> {
    let n = Reflect::get(v, &JsValue::from_str(name))?;
    match n.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(n as usize),
        _ => Err(js_error(
            "INVALID_VALUE",
            &format!("{name} is not a valid length"),
        )),
    }
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
