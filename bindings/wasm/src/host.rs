//! What JavaScript plugs in: a store object (`get/insert/replace/delete/ids`, synchronous),
//! the clock
//! and the platform's randomness.

use js_sys::{Array, Function, Reflect, Uint8Array};
use tenure::__private::EitherStore;
use tenure::Due;
use tenure::{ByteStore, Clock, EncodedStore, Entropy, MemoryStore, Millis, StoreError};
use wasm_bindgen::{JsCast, JsValue};

/// A JS object speaking the store protocol. The exception a method throws travels inside
/// the store error, to become the `cause` of the `TENURE_STORE_ERROR`.
pub struct JsStore {
    obj: JsValue,
}

impl JsStore {
    pub fn new(obj: JsValue) -> Self {
        JsStore { obj }
    }

    /// Calls `method` if the store has it (the index methods are optional).
    fn call_optional(&self, method: &str, args: &[JsValue]) -> Result<Option<JsValue>, StoreError> {
        let has = Reflect::get(&self.obj, &JsValue::from_str(method))
            .ok()
            .is_some_and(|f| f.is_function());
        if has {
            self.call(method, args).map(Some)
        } else {
            Ok(None)
        }
    }

    fn call(&self, method: &str, args: &[JsValue]) -> Result<JsValue, StoreError> {
        let f = Reflect::get(&self.obj, &JsValue::from_str(method))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| StoreError::new(format!("the store has no {method}() method")))?;
        let args: Array = args.iter().collect();
        f.apply(&self.obj, &args).map_err(|e| {
            // Whatever was thrown (a Proxy, a revoked one) is read through `catch` imports.
            let msg = crate::values::message_of(&e);
            crate::errors::store_error(format!("store.{method} threw: {msg}"), e)
        })
    }
}

impl JsStore {
    /// Reading what `method` returned threw `e`: a store error with `e` as its cause.
    fn threw(&mut self, method: &str, e: JsValue) -> StoreError {
        let msg = crate::values::message_of(&e);
        crate::errors::store_error(
            format!("reading what store.{method} returned threw: {msg}"),
            e,
        )
    }
}

impl ByteStore for JsStore {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let v = self.call("get", &[JsValue::from_str(id)])?;
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        if let Some(b) = crate::values::bytes_of(&v) {
            return b.map(Some).map_err(|e| self.threw("get", e));
        }
        if let Some(s) = v.as_string() {
            return Ok(Some(s.into_bytes()));
        }
        Err(StoreError::new(
            "store.get returned neither a Uint8Array, a string nor null",
        ))
    }

    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        let v = self.call(
            "insert",
            &[JsValue::from_str(id), Uint8Array::from(bytes).into()],
        )?;
        Ok(v.is_truthy())
    }

    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        let v = self.call(
            "replace",
            &[
                JsValue::from_str(id),
                Uint8Array::from(bytes).into(),
                JsValue::from_f64(expected as f64),
            ],
        )?;
        Ok(v.is_truthy())
    }

    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        let expected = expected.map_or(JsValue::UNDEFINED, |v| JsValue::from_f64(v as f64));
        Ok(self
            .call("delete", &[JsValue::from_str(id), expected])?
            .is_truthy())
    }

    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        let v = self.call("ids", &[])?;
        // What the store returned may be a Proxy: inspected through `catch` imports only.
        if !crate::values::try_is_array(&v).map_err(|e| self.threw("ids", e))? {
            return Err(StoreError::new("store.ids must return an array of strings"));
        }
        Ok(crate::values::try_array_from(&v)
            .map_err(|e| self.threw("ids", e))?
            .iter()
            .filter_map(|x| x.as_string())
            .collect())
    }

    // The index (optional; see docs/stores.md): `count()`, `due(through, limit)`,
    // `idsOf(principal)`, `unindex(id, deadline)`. Without them the core reads every record.
    fn count(&mut self) -> Result<Option<usize>, StoreError> {
        match self.call_optional("count", &[])? {
            Some(v) => count_from_js(&v),
            None => Ok(None),
        }
    }

    fn due(
        &mut self,
        through: Option<Millis>,
        limit: usize,
    ) -> Result<Option<Vec<Due>>, StoreError> {
        let through = through.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64));
        match self.call_optional("due", &[through, JsValue::from_f64(limit as f64)])? {
            Some(v) => due_from_js(&v),
            None => Ok(None),
        }
    }

    fn ids_of(&mut self, principal: &str) -> Result<Option<Vec<String>>, StoreError> {
        match self.call_optional("idsOf", &[JsValue::from_str(principal)])? {
            Some(v) => ids_of_from_js(&v),
            None => Ok(None),
        }
    }

    fn unindex(&mut self, id: &str, deadline: Millis) -> Result<bool, StoreError> {
        let args = [JsValue::from_str(id), JsValue::from_f64(deadline as f64)];
        Ok(self
            .call_optional("unindex", &args)?
            .is_some_and(|v| v.is_truthy()))
    }
}

/// A store's answer to `count()`: a whole number, or null (no index).
pub fn count_from_js(v: &JsValue) -> Result<Option<usize>, StoreError> {
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(Some(n as usize)),
        _ => Err(StoreError::new(
            "store.count must return a whole number or null",
        )),
    }
}

/// A store's answer to `due()`: an array of `[deadline, id]`, or null (no index).
pub fn due_from_js(v: &JsValue) -> Result<Option<Vec<Due>>, StoreError> {
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    let bad = || StoreError::new("store.due must return an array of [deadline, id] pairs or null");
    if !Array::is_array(v) {
        return Err(bad());
    }
    Array::from(v)
        .iter()
        .map(|pair| {
            let pair = pair.dyn_into::<Array>().map_err(|_| bad())?;
            let d = pair.get(0).as_f64().filter(|d| *d >= 0.0).ok_or_else(bad)?;
            let id = pair.get(1).as_string().ok_or_else(bad)?;
            Ok((d as Millis, id))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A store's answer to `idsOf()`: an array of strings, or null (no index).
pub fn ids_of_from_js(v: &JsValue) -> Result<Option<Vec<String>>, StoreError> {
    if v.is_null() || v.is_undefined() {
        return Ok(None);
    }
    if !Array::is_array(v) {
        return Err(StoreError::new(
            "store.idsOf must return an array of strings or null",
        ));
    }
    Array::from(v)
        .iter()
        .map(|x| {
            x.as_string()
                .ok_or_else(|| StoreError::new("store.idsOf must return an array of strings"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The store a manager runs on: the core's memory store, or the host's.
pub type AnyStore = EitherStore<MemoryStore, EncodedStore<JsStore>>;

/// `Date.now()` or a manual clock.
pub enum AnyClock {
    Date,
    Manual(tenure::ManualClock),
}

impl Clock for AnyClock {
    fn now(&self) -> Millis {
        match self {
            AnyClock::Date => js_sys::Date::now() as Millis,
            AnyClock::Manual(c) => c.now(),
        }
    }
}

/// `crypto.getRandomValues` through getrandom, drawn 512 bytes at a time: one call into JS
/// per 32 session ids instead of one per id (a call costs ~1 µs in Node). Bytes handed out
/// are zeroed in the pool, so each is used once.
pub struct JsEntropy;

const POOL: usize = 512;

struct Pool {
    bytes: [u8; POOL],
    used: usize,
}

thread_local! {
    static ENTROPY: core::cell::RefCell<Pool> = const {
        core::cell::RefCell::new(Pool { bytes: [0; POOL], used: POOL })
    };
}

impl Entropy for JsEntropy {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), &'static str> {
        if buf.len() > POOL / 4 {
            return getrandom::fill(buf).map_err(|_| "crypto.getRandomValues failed");
        }
        ENTROPY.with(|pool| {
            let mut pool = pool.borrow_mut();
            if POOL - pool.used < buf.len() {
                getrandom::fill(&mut pool.bytes).map_err(|_| "crypto.getRandomValues failed")?;
                pool.used = 0;
            }
            let start = pool.used;
            let end = start + buf.len();
            buf.copy_from_slice(&pool.bytes[start..end]);
            pool.bytes[start..end].fill(0);
            pool.used = end;
            Ok(())
        })
    }
}
