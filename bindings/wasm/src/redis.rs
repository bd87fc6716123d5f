//! Redis mode of the asynchronous operations (the Node module only: feature `redis`):
//! `Manager.setRedis`, a batch of the core's commands as JS (`[[name, ...args], ...]`) and
//! a client's replies read back into [`RedisReply`]s. Translation only; the layout and
//! every command are the core's (`tenure::redis`). The browser module is built without
//! this feature: its `setRedis` refuses by name (see [`crate::pending`]).

use crate::errors::{core_error, js_error};
use crate::manager::Manager;
use crate::values::type_name;
use js_sys::{Array, Reflect};
use tenure::redis::{Command, RedisConfig, RedisReply};
use tenure::StoreError;
use wasm_bindgen::prelude::*;

/// `[[name, ...args], ...]`.
pub(crate) fn batch_js(batch: &[Command]) -> JsValue {
    batch
        .iter()
        .map(|c| -> JsValue {
            c.args()
                .iter()
                .map(|a| JsValue::from_str(a))
                .collect::<Array>()
                .into()
        })
        .collect::<Array>()
        .into()
}

/// How deep a Redis reply may nest (the core's commands nest two levels at most; this
/// also stops a self-referencing array).
const MAX_REPLY_DEPTH: usize = 8;

/// One Redis reply from JS: null → Nil, an integer → Int, a string (or UTF-8 bytes) → Text,
/// an array → List, an `Error` (or `{error: string}`) → Error. RESP3's shapes, as clients
/// hand them over, become RESP2's: a map (a `Map` or a plain object) the flat
/// `[field, value, ...]` list, a double that is not an integer its text.
fn redis_reply_from_js(v: &JsValue, at: &str, depth: usize) -> Result<RedisReply, StoreError> {
    let bad = |what: String| {
        StoreError::new(format!(
            "Redis reply {at} must be null, an integer, a string, an array or an Error, not {what}"
        ))
    };
    if v.is_null() {
        return Ok(RedisReply::Nil);
    }
    if let Some(t) = v.as_string() {
        return Ok(RedisReply::Text(t));
    }
    if let Some(n) = v.as_f64() {
        return Ok(if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 {
            RedisReply::Int(n as i64)
        } else if n.is_nan() {
            return Err(bad("NaN".into()));
        } else if n.is_infinite() {
            // A RESP3 double, as Redis writes it in RESP2.
            RedisReply::Text(if n > 0.0 { "inf" } else { "-inf" }.into())
        } else {
            RedisReply::Text(format!("{n}"))
        });
    }
    if v.is_bigint() {
        let text = js_sys::BigInt::from(v.clone())
            .to_string(10)
            .ok()
            .and_then(|t| t.as_string());
        return match text.as_deref().map(str::parse::<i64>) {
            Some(Ok(i)) => Ok(RedisReply::Int(i)),
            _ => Err(bad("a BigInt beyond 64 bits".into())),
        };
    }
    // What a client resolved with is read through `catch` imports (a Proxy may throw).
    let read = |e: JsValue| {
        StoreError::new(format!(
            "reading Redis reply {at} threw: {}",
            crate::values::message_of(&e)
        ))
    };
    if crate::values::try_is_array(v).map_err(read)? {
        if depth >= MAX_REPLY_DEPTH {
            return Err(StoreError::new(format!(
                "Redis reply {at} nests deeper than {MAX_REPLY_DEPTH} arrays"
            )));
        }
        return crate::values::try_array_from(v)
            .map_err(read)?
            .iter()
            .enumerate()
            .map(|(i, x)| redis_reply_from_js(&x, &format!("{at}[{i}]"), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(RedisReply::List);
    }
    if let Some(b) = crate::values::bytes_of(v) {
        return String::from_utf8(b.map_err(read)?)
            .map(RedisReply::Text)
            .map_err(|_| bad("bytes that are not UTF-8".into()));
    }
    let error_proto: JsValue = js_sys::Object::get_prototype_of(&js_sys::Error::new("")).into();
    if crate::values::try_instance_of(v, &error_proto).map_err(read)? {
        return Ok(RedisReply::Error(crate::values::message_of(v)));
    }
    if crate::values::try_instance_of(v, &crate::values::map_prototype()).map_err(read)? {
        // A RESP3 map: the flat `[field, value, ...]` list RESP2 sends. Read as
        // `Array.from(map)` (caught) rather than `map.forEach`, which a subclass or a
        // Proxy may make throw.
        if depth >= MAX_REPLY_DEPTH {
            return Err(StoreError::new(format!(
                "Redis reply {at} nests deeper than {MAX_REPLY_DEPTH} levels"
            )));
        }
        let entries = crate::values::try_array_from(v).map_err(read)?;
        let mut items = Vec::with_capacity(entries.length() as usize * 2);
        for (i, pair) in entries.iter().enumerate() {
            let pair = crate::values::try_array_from(&pair).map_err(read)?;
            items.push(redis_reply_from_js(
                &pair.get(0),
                &format!("{at}.key{i}"),
                depth + 1,
            )?);
            items.push(redis_reply_from_js(
                &pair.get(1),
                &format!("{at}.value{i}"),
                depth + 1,
            )?);
        }
        return Ok(RedisReply::List(items));
    }
    if is_plain_object(v).map_err(read)? {
        let entries = try_entries(v).map_err(read)?;
        if entries.length() == 1 {
            let only = Array::from(&entries.get(0));
            if only.get(0).as_string().as_deref() == Some("error") {
                if let Some(m) = only.get(1).as_string() {
                    return Ok(RedisReply::Error(m));
                }
            }
        }
        // A RESP3 map (as node-redis hands it over): the flat list RESP2 sends.
        if depth >= MAX_REPLY_DEPTH {
            return Err(StoreError::new(format!(
                "Redis reply {at} nests deeper than {MAX_REPLY_DEPTH} levels"
            )));
        }
        let mut items = Vec::with_capacity(entries.length() as usize * 2);
        for pair in entries.iter() {
            let pair = Array::from(&pair);
            let key = pair.get(0);
            items.push(RedisReply::Text(key.as_string().unwrap_or_default()));
            items.push(redis_reply_from_js(
                &pair.get(1),
                &format!("{at}.{}", key.as_string().unwrap_or_default()),
                depth + 1,
            )?);
        }
        return Ok(RedisReply::List(items));
    }
    Err(bad(if v.is_undefined() {
        "undefined".into()
    } else {
        format!("a {}", type_name(v))
    }))
}

/// Whether `v` is a plain object (`{}` or `Object.create(null)`), not a class instance;
/// read through `catch` imports (a Proxy's traps may throw).
fn is_plain_object(v: &JsValue) -> Result<bool, JsValue> {
    if !v.is_object() || v.is_function() {
        return Ok(false);
    }
    let proto = crate::values::prototype_of(v)?;
    Ok(proto.is_null()
        || crate::values::prototype_of(&proto)?.is_null()
            && Reflect::get(&proto, &JsValue::from_str("hasOwnProperty"))
                .is_ok_and(|f| f.is_function()))
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Object, js_name = entries)]
    fn try_entries(v: &JsValue) -> Result<Array, JsValue>;
}

/// The replies to a batch: an array, one per command (the core checks the count).
pub(crate) fn redis_replies_from_js(v: &JsValue) -> Result<Vec<RedisReply>, StoreError> {
    let read = |e: JsValue| {
        StoreError::new(format!(
            "reading the Redis replies threw: {}",
            crate::values::message_of(&e)
        ))
    };
    if !crate::values::try_is_array(v).map_err(read)? {
        return Err(StoreError::new(format!(
            "the Redis replies must be an array (one reply per command), not {}",
            if v.is_undefined() {
                "undefined".to_owned()
            } else {
                format!("a {}", type_name(v))
            }
        )));
    }
    crate::values::try_array_from(v)
        .map_err(read)?
        .iter()
        .enumerate()
        .map(|(i, x)| redis_reply_from_js(&x, &i.to_string(), 0))
        .collect()
}

#[wasm_bindgen]
impl Manager {
    /// Puts this manager in Redis mode: from now on every `begin*` operation runs over
    /// Redis, keys under `prefix` (default `"tenure:"`), Redis keeping a session `graceMs`
    /// (default 0) past its deadline. The prefix is checked by the core.
    #[wasm_bindgen(js_name = setRedis)]
    pub fn set_redis(&mut self, prefix: JsValue, grace_ms: JsValue) -> Result<(), JsValue> {
        let prefix = if prefix.is_undefined() || prefix.is_null() {
            "tenure:".to_owned()
        } else {
            prefix.as_string().ok_or_else(|| {
                js_error(
                    "INVALID_POLICY",
                    &format!(
                        "the Redis prefix must be a string, not a {}",
                        type_name(&prefix)
                    ),
                )
            })?
        };
        let grace = if grace_ms.is_undefined() || grace_ms.is_null() {
            0
        } else {
            grace_ms
                .as_f64()
                .and_then(crate::options::whole_ms)
                .ok_or_else(|| {
                    js_error(
                        "INVALID_POLICY",
                        "graceMs must be a non-negative integer number of milliseconds",
                    )
                })?
        };
        let config = RedisConfig::new(&prefix, *self.core.policy().limits())
            .map_err(|e| core_error(&e))?
            .with_grace(grace);
        self.redis = Some(config);
        Ok(())
    }

    /// The Redis key prefix, or null when the manager is not in Redis mode.
    #[wasm_bindgen(getter, js_name = redisPrefix)]
    pub fn redis_prefix(&self) -> Option<String> {
        self.redis.as_ref().map(|c| c.layout().prefix().to_owned())
    }
}
