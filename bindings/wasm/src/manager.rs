//! `Manager`: the synchronous session manager the JS `SessionManager` wraps.

use crate::clock::ManualClock;
use crate::errors::{core_error, js_error};
use crate::host::{AnyClock, AnyStore, JsEntropy, JsStore};
use crate::options::{opt, opt_uint};
use crate::port::AnyPort;
use crate::session::Session;
use crate::values;
use js_sys::{Array, Object, Reflect, Uint8Array};
use tenure::__private::ops::{self, Cx};
use tenure::__private::port::run_ready;
use tenure::{Budget, EncodedStore, Limits, MemoryStore, OnFull, Policy, SessionInfo};
use wasm_bindgen::prelude::*;
pub(crate) type Core = tenure::SessionManager<AnyStore, AnyClock, JsEntropy>;

/// A listed session as a plain object: the core's fields, camelCased.
pub(crate) fn info(i: &SessionInfo) -> JsValue {
    let o = Object::new();
    for (name, v) in i.fields() {
        let k = tenure::__private::policy::camel_case(name);
        let _ = Reflect::set(&o, &JsValue::from_str(&k), &values::to_js(&v));
    }
    o.into()
}

/// The session manager (the JS `SessionManager` wraps it).
#[wasm_bindgen]
pub struct Manager {
    pub(crate) core: Core,
    /// Set by `setRedis`: every `begin*` operation then runs over Redis.
    #[cfg(feature = "redis")]
    pub(crate) redis: Option<tenure::redis::RedisConfig>,
    /// Whether anyone listens (`setEvents(true)`, from `on()`): without listeners the
    /// events are dropped here after each operation instead of being handed to JS.
    pub(crate) events: bool,
}

impl Manager {
    /// The `data` argument of create: a plain object, or nothing.
    pub(crate) fn data_arg(&self, data: &JsValue) -> Result<Option<tenure::DataMap>, JsValue> {
        if data.is_null() || data.is_undefined() {
            return Ok(None);
        }
        let limits = self.core.policy().limits();
        let mut budget = Budget::with(limits.max_data_bytes, limits.max_depth + 1);
        match values::to_value(data, "data", &mut budget)? {
            tenure::Value::Map(m) => Ok(Some(m)),
            _ => Err(js_error("INVALID_VALUE", "data must be a plain object")),
        }
    }

    /// Drops the events nobody listens to (they would pile up otherwise).
    pub(crate) fn settle_events(&mut self) {
        if !self.events {
            drop(self.core.drain_events());
        }
    }

    /// Runs one of the core's operations to completion on the manager's own store, over the
    /// same port type as the stepped operations (`port.rs`: one compiled copy of each).
    fn run<R>(
        &mut self,
        op: impl AsyncFnOnce(&mut Cx<JsEntropy>, &mut AnyPort<'_>) -> Result<R, tenure::Error>,
    ) -> Result<R, JsValue> {
        let mut cx = self.core.context(JsEntropy);
        let limits = *self.core.policy().limits();
        let result = {
            let mut port = AnyPort::sync(self.core.store_mut(), limits);
            run_ready(op(&mut cx, &mut port)).unwrap_or_else(|| {
                Err(tenure::StoreError::new("a synchronous store did not answer at once").into())
            })
        };
        self.core.absorb(cx.into_effects());
        self.settle_events();
        result.map_err(|e| core_error(&e))
    }
}

#[wasm_bindgen]
impl Manager {
    /// Options (all optional; times in ms, `null` = never): `idleTimeout`, `absoluteTimeout`,
    /// `touchInterval`, `maxSessions`, `onFull` ('reject' | 'evictLru'), `maxDataBytes`,
    /// `maxKeyBytes`, `maxDepth`, `idBytes`, `store` (an object with get/set/delete/ids),
    /// `clock` (a ManualClock).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, clock: Option<ManualClock>) -> Result<Manager, JsValue> {
        // A misspelled option is refused, never ignored; the names are the core's.
        if options.is_object() {
            let mut known: Vec<String> = tenure::__private::policy::OPTIONS
                .iter()
                .map(|o| tenure::__private::policy::camel_case(o))
                .collect();
            known.push("store".into());
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
                let key = key.as_string().unwrap_or_default();
                if opt(&options, &key).is_some() {
                    tenure::__private::policy::check_option("SessionManager", &key, &known)
                        .map_err(|e| core_error(&e))?;
                }
            }
        }
        let d = Limits::default();
        let num = |k: &str, default: usize| -> Result<usize, JsValue> {
            Ok(opt_uint(&options, k)?
                .flatten()
                .map_or(default, |v| v as usize))
        };
        let limits = Limits {
            max_data_bytes: num("maxDataBytes", d.max_data_bytes)?,
            max_key_bytes: num("maxKeyBytes", d.max_key_bytes)?,
            max_depth: num("maxDepth", d.max_depth)?,
        };
        let on_full = match opt(&options, "onFull").and_then(|v| v.as_string()) {
            None => OnFull::default(),
            Some(s) => s.parse().map_err(|e| core_error(&e))?,
        };
        let mut b = Policy::builder()
            .on_full(on_full)
            .limits(limits)
            .id_bytes(num("idBytes", tenure::DEFAULT_ID_BYTES)?);
        if let Some(v) = opt_uint(&options, "idleTimeout")? {
            b = b.idle_timeout(v);
        }
        if let Some(v) = opt_uint(&options, "absoluteTimeout")? {
            b = b.absolute_timeout(v);
        }
        if let Some(Some(v)) = opt_uint(&options, "touchInterval")? {
            b = b.touch_interval(v);
        }
        if let Some(v) = opt_uint(&options, "maxSessions")? {
            b = b.max_sessions(v.map(|n| n as usize));
        }
        let policy = b.build().map_err(|e| core_error(&e))?;
        let store = match opt(&options, "store").filter(|s| !s.is_null()) {
            Some(obj) => AnyStore::Right(EncodedStore::new(JsStore::new(obj), limits)),
            None => AnyStore::Left(MemoryStore::new()),
        };
        let clock = match clock {
            Some(c) => AnyClock::Manual(c.inner.clone()),
            None => AnyClock::Date,
        };
        Ok(Manager {
            core: tenure::SessionManager::new(store, clock, JsEntropy, policy),
            #[cfg(feature = "redis")]
            redis: None,
            events: false,
        })
    }

    pub fn create(&mut self, principal: JsValue, data: JsValue) -> Result<Session, JsValue> {
        let principal = values::opt_str_arg(&principal, "principal")?;
        let data = self.data_arg(&data)?;
        self.run(async |cx, p| ops::create(cx, p, principal.as_deref(), data).await)
            .map(|inner| Session { inner })
    }
    /// `create` (or `draft`, with `draft: true`) with the data as JSON text: the JS layer
    /// sends a flat object of strings, numbers, booleans and nulls this way (one string
    /// across the boundary instead of a walk of the object from wasm). `undefined` when the
    /// text is not such an object (the caller then passes the object itself).
    #[wasm_bindgen(js_name = createJson)]
    pub fn create_json(
        &mut self,
        principal: JsValue,
        json: &str,
        draft: bool,
    ) -> Result<Option<Session>, JsValue> {
        let principal = values::opt_str_arg(&principal, "principal")?;
        let limits = *self.core.policy().limits();
        let data = match tenure::Value::from_json(json.as_bytes(), &limits) {
            Ok(tenure::Value::Map(m)) => m,
            _ => return Ok(None),
        };
        let inner = if draft {
            self.run(async |cx, _| ops::draft(cx, principal.as_deref(), Some(data)))?
        } else {
            self.run(async |cx, p| ops::create(cx, p, principal.as_deref(), Some(data)).await)?
        };
        Ok(Some(Session { inner }))
    }
    /// A new session that is not stored yet (no I/O); store it with `insertDraft` (or
    /// `beginInsertDraft`).
    pub fn draft(&mut self, principal: JsValue, data: JsValue) -> Result<Session, JsValue> {
        let principal = values::opt_str_arg(&principal, "principal")?;
        let data = self.data_arg(&data)?;
        self.run(async |cx, _| ops::draft(cx, principal.as_deref(), data))
            .map(|inner| Session { inner })
    }
    #[wasm_bindgen(js_name = insertDraft)]
    pub fn insert_draft(&mut self, session: &mut Session) -> Result<(), JsValue> {
        self.run(async |cx, p| ops::insert_draft(cx, p, &mut session.inner).await)
    }
    pub fn open(&mut self, id: &str) -> Result<Option<Session>, JsValue> {
        Ok(self
            .run(async |cx, p| ops::open(cx, p, id).await)?
            .map(|inner| Session { inner }))
    }
    pub fn peek(&mut self, id: &str) -> Result<Option<Session>, JsValue> {
        Ok(self
            .run(async |cx, p| ops::peek(cx, p, id).await)?
            .map(|inner| Session { inner }))
    }
    pub fn commit(&mut self, session: &mut Session) -> Result<(), JsValue> {
        self.run(async |cx, p| ops::commit(cx, p, &mut session.inner).await)
    }
    pub fn regenerate(
        &mut self,
        session: &mut Session,
        clear: Option<bool>,
    ) -> Result<(), JsValue> {
        self.run(async |cx, p| {
            ops::regenerate(cx, p, &mut session.inner, clear.unwrap_or(false)).await
        })
    }
    #[wasm_bindgen(js_name = setIdleTimeout)]
    pub fn set_idle_timeout(
        &mut self,
        session: &mut Session,
        ms: Option<f64>,
    ) -> Result<(), JsValue> {
        let ms = match ms {
            None => None,
            // The type only: the rule (> 0) is the core's.
            Some(n) if n >= 0.0 && n.is_finite() => Some(n as u64),
            Some(_) => {
                return Err(js_error(
                    "INVALID_VALUE",
                    "idleTimeout must be a number of ms or null",
                ))
            }
        };
        self.run(async |_, _| ops::set_idle_timeout(&mut session.inner, ms))
    }
    pub fn destroy(&mut self, id: &str) -> Result<bool, JsValue> {
        self.run(async |cx, p| ops::destroy(cx, p, id).await)
    }
    #[wasm_bindgen(js_name = destroyAllOf)]
    pub fn destroy_all_of(
        &mut self,
        principal: JsValue,
        except: JsValue,
    ) -> Result<usize, JsValue> {
        let principal = values::str_arg(&principal, "principal")?;
        let except = values::opt_str_arg(&except, "except")?;
        self.run(async |cx, p| ops::destroy_all_of(cx, p, &principal, except.as_deref()).await)
    }
    #[wasm_bindgen(js_name = destroyAll)]
    pub fn destroy_all(&mut self) -> Result<usize, JsValue> {
        self.run(async |cx, p| ops::destroy_all(cx, p).await)
    }
    #[wasm_bindgen(js_name = sessionsOf)]
    pub fn sessions_of(&mut self, principal: JsValue) -> Result<Array, JsValue> {
        let principal = values::str_arg(&principal, "principal")?;
        Ok(self
            .run(async |cx, p| ops::sessions_of(cx, p, &principal).await)?
            .iter()
            .map(info)
            .collect())
    }
    /// `[infos, nextCursor]`.
    pub fn list(&mut self, cursor: Option<String>, limit: Option<usize>) -> Result<Array, JsValue> {
        let (page, next) = self
            .run(async |cx, p| ops::list(cx, p, cursor.as_deref(), limit.unwrap_or(100)).await)?;
        let infos: Array = page.iter().map(info).collect();
        Ok([
            infos.into(),
            next.map_or(JsValue::NULL, |c| JsValue::from_str(&c)),
        ]
        .iter()
        .collect())
    }
    pub fn count(&mut self) -> Result<usize, JsValue> {
        self.run(async |cx, p| ops::count(cx, p).await)
    }
    pub fn sweep(&mut self) -> Result<usize, JsValue> {
        self.run(async |cx, p| ops::sweep(cx, p).await)
    }
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&mut self) -> Result<Option<f64>, JsValue> {
        Ok(self
            .run(async |_, p| ops::next_deadline(p).await)?
            .map(|d| d as f64))
    }
    pub fn now(&self) -> f64 {
        self.core.now() as f64
    }
    /// The policy's idle timeout in ms (undefined: never).
    #[wasm_bindgen(getter, js_name = idleTimeout)]
    pub fn idle_timeout(&self) -> Option<f64> {
        self.core.policy().idle_timeout().map(|t| t as f64)
    }
    /// The policy's absolute timeout in ms (undefined: never).
    #[wasm_bindgen(getter, js_name = absoluteTimeout)]
    pub fn absolute_timeout(&self) -> Option<f64> {
        self.core.policy().absolute_timeout().map(|t| t as f64)
    }
    pub fn metrics(&mut self) -> Result<JsValue, JsValue> {
        let active = self.run(async |_, p| ops::stored(p).await)?;
        Ok(metrics_js(&self.core.metrics_with(active)))
    }
    pub fn export(&mut self) -> Result<Uint8Array, JsValue> {
        Ok(Uint8Array::from(
            self.run(async |cx, p| ops::export(cx, p).await)?.as_slice(),
        ))
    }
    #[wasm_bindgen(js_name = "import")]
    pub fn import_(&mut self, data: &[u8]) -> Result<usize, JsValue> {
        self.run(async |cx, p| ops::import(cx, p, data).await)
    }
    /// Keeps events for `drainEvents` (`true`, once a listener is registered) or drops
    /// them after each operation (`false`, the default).
    #[wasm_bindgen(js_name = setEvents)]
    pub fn set_events(&mut self, on: bool) {
        self.events = on;
    }
    /// Events since the last call: `[name, id, newId, cleared]` arrays.
    #[wasm_bindgen(js_name = drainEvents)]
    pub fn drain_events(&mut self) -> Array {
        self.core
            .drain_events()
            .into_iter()
            .map(|e| -> JsValue {
                let (name, id, new, cleared) = e.parts();
                let s = |v: Option<&str>| v.map_or(JsValue::NULL, JsValue::from_str);
                [
                    JsValue::from_str(name),
                    s(id),
                    s(new),
                    JsValue::from_bool(cleared),
                ]
                .iter()
                .collect::<Array>()
                .into()
            })
            .collect()
    }
}

/// Metrics as a plain object with camelCase keys.
pub(crate) fn metrics_js(x: &tenure::Metrics) -> JsValue {
    let o = Object::new();
    for (name, v) in x.fields() {
        let k = tenure::__private::policy::camel_case(name);
        let _ = Reflect::set(&o, &JsValue::from_str(&k), &JsValue::from_f64(v as f64));
    }
    o.into()
}
