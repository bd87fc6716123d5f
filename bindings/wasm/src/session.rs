//! `Session`: a session as a request sees it.

use crate::errors::{core_error, js_error};
use crate::values;
use js_sys::{Array, Object, Reflect};
use tenure::Budget;
use wasm_bindgen::prelude::*;
/// A session as a request sees it.
#[wasm_bindgen]
pub struct Session {
    pub(crate) inner: tenure::Session,
}

#[wasm_bindgen]
impl Session {
    /// The value at `key` (`undefined` if absent).
    pub fn get(&self, key: JsValue) -> Result<JsValue, JsValue> {
        let key = values::str_arg(&key, "session keys")?;
        Ok(self
            .inner
            .get(&key)
            .map_or(JsValue::UNDEFINED, values::to_js))
    }
    /// Sets `key`; refused values change nothing.
    pub fn set(&mut self, key: JsValue, value: JsValue) -> Result<(), JsValue> {
        let Some(key) = values::utf8(&key, &|| "session key".into())? else {
            return Err(js_error("INVALID_VALUE", "session keys must be strings"));
        };
        // Strings and finite numbers need no path (it names the key in errors only).
        let mut budget = Budget::new(self.inner.limits());
        let path = || format!("session[{key:?}]");
        let v = match values::primitive(&value, &mut budget, &path)? {
            Some(v) => v,
            None => values::to_value(&value, &path(), &mut budget)?,
        };
        self.inner.set(&key, v).map_err(|e| core_error(&e))
    }
    /// Removes `key`; whether this copy held it. Recorded either way, so it also removes a
    /// value set concurrently.
    pub fn delete(&mut self, key: JsValue) -> Result<bool, JsValue> {
        let key = values::str_arg(&key, "session keys")?;
        self.inner
            .delete(&key)
            .map(|v| v.is_some())
            .map_err(|e| core_error(&e))
    }
    pub fn has(&self, key: JsValue) -> Result<bool, JsValue> {
        Ok(self.inner.contains(&values::str_arg(&key, "session keys")?))
    }
    pub fn keys(&self) -> Array {
        self.inner.keys().map(JsValue::from_str).collect()
    }
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }
    pub fn clear(&mut self) {
        self.inner.clear();
    }
    /// Sets every property of a plain object; all or nothing.
    pub fn update(&mut self, entries: JsValue) -> Result<(), JsValue> {
        let limits = self.inner.limits();
        let mut budget = Budget::with(limits.max_data_bytes, limits.max_depth + 1);
        match values::to_value(&entries, "update", &mut budget)? {
            tenure::Value::Map(m) => self.inner.update(m).map_err(|e| core_error(&e)),
            _ => Err(js_error("INVALID_VALUE", "update takes a plain object")),
        }
    }
    /// Adds `by` (default 1) to the integer at `key` and returns the new value.
    pub fn increment(&mut self, key: JsValue, by: JsValue) -> Result<JsValue, JsValue> {
        let key = values::str_arg(&key, "session keys")?;
        let key = key.as_str();
        let by = if by.is_undefined() {
            1
        } else {
            // A number or a BigInt: a container is never walked (`by` is not a value to store).
            let scalar = if by.is_object() {
                None
            } else {
                Some(values::to_value(&by, "by", &mut Budget::with(64, 0))?)
            };
            match scalar {
                Some(tenure::Value::Int(i)) => i,
                _ => {
                    return Err(js_error(
                        "INVALID_VALUE",
                        &format!("increment({key:?}): `by` must be an integer"),
                    ))
                }
            }
        };
        let n = self.inner.increment(key, by).map_err(|e| core_error(&e))?;
        Ok(values::to_js(&tenure::Value::Int(n)))
    }
    pub fn flash(&mut self, category: JsValue, message: JsValue) -> Result<(), JsValue> {
        let category = values::str_arg(&category, "a flash category")?;
        let message = values::str_arg(&message, "a flash message")?;
        self.inner
            .flash(&category, &message)
            .map_err(|e| core_error(&e))
    }
    /// `[category, message]` pairs, oldest first.
    #[wasm_bindgen(js_name = takeFlashes)]
    pub fn take_flashes(&mut self) -> Array {
        self.inner
            .take_flashes()
            .into_iter()
            .map(|f| -> JsValue {
                [
                    JsValue::from_str(&f.category),
                    JsValue::from_str(&f.message),
                ]
                .iter()
                .collect::<Array>()
                .into()
            })
            .collect()
    }
    #[wasm_bindgen(js_name = setPrincipal)]
    pub fn set_principal(
        &mut self,
        principal: JsValue,
        keep_data: Option<bool>,
    ) -> Result<(), JsValue> {
        let principal = values::opt_str_arg(&principal, "principal")?;
        self.inner
            .set_principal_with(principal.as_deref(), keep_data.unwrap_or(false))
            .map_err(|e| core_error(&e))
    }
    /// Every item as a plain object.
    #[wasm_bindgen(js_name = toObject)]
    pub fn to_object(&self) -> JsValue {
        let o = Object::new();
        for (k, v) in self.inner.data().iter() {
            let _ = Reflect::set(&o, &JsValue::from_str(k), &values::to_js(v));
        }
        o.into()
    }
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_owned()
    }
    #[wasm_bindgen(getter, js_name = publicId)]
    pub fn public_id(&self) -> String {
        self.inner.public_id()
    }
    #[wasm_bindgen(getter)]
    pub fn principal(&self) -> Option<String> {
        self.inner.principal().map(str::to_owned)
    }
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.inner.version() as f64
    }
    #[wasm_bindgen(getter, js_name = createdAt)]
    pub fn created_at(&self) -> f64 {
        self.inner.created_at() as f64
    }
    #[wasm_bindgen(getter, js_name = lastAccess)]
    pub fn last_access(&self) -> f64 {
        self.inner.last_access() as f64
    }
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.inner.expires_at().map(|t| t as f64)
    }
    /// This session's idle timeout in ms (undefined: never idles out).
    #[wasm_bindgen(getter, js_name = idleTimeout)]
    pub fn idle_timeout(&self) -> Option<f64> {
        self.inner.idle_timeout().map(|t| t as f64)
    }
    /// This session's absolute lifetime in ms (undefined: unbounded).
    #[wasm_bindgen(getter, js_name = absoluteTimeout)]
    pub fn absolute_timeout(&self) -> Option<f64> {
        self.inner.absolute_timeout().map(|t| t as f64)
    }
    #[wasm_bindgen(getter)]
    pub fn modified(&self) -> bool {
        self.inner.is_modified()
    }
}
