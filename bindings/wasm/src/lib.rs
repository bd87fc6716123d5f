//! `tenure-wasm`: the core for JavaScript (Node and browsers) through wasm-bindgen. It
//! translates values and errors only; every rule lives in the core crate. The npm package's
//! JavaScript layer (`js/`) adds the idioms: option objects, events, stores, middleware.

mod errors;
mod host;
mod pending;
mod values;
mod web;
mod web_channel;

use errors::{core_error, js_error};
use host::{AnyClock, AnyStore, JsEntropy, JsStore};
use js_sys::{Array, Object, Reflect, Uint8Array};
use tenure::cookie;
use tenure::{EncodedStore, Event, Limits, MemoryStore, OnFull, Policy, Record};
use wasm_bindgen::prelude::*;

type Core = tenure::SessionManager<AnyStore, AnyClock, JsEntropy>;

fn opt(o: &JsValue, key: &str) -> Option<JsValue> {
    if !o.is_object() {
        return None;
    }
    Reflect::get(o, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined())
}

/// A non-negative integer option; `null` gives `Some(None)` ("never").
fn opt_uint(o: &JsValue, key: &str) -> Result<Option<Option<u64>>, JsValue> {
    match opt(o, key) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(Some(None)),
        Some(v) => match v.as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => {
                Ok(Some(Some(n as u64)))
            }
            _ => Err(js_error(
                "INVALID_POLICY",
                &format!("{key} must be a non-negative integer number of milliseconds (or null)"),
            )),
        },
    }
}

/// A clock that moves only when told to: share it with a manager and fast-forward time.
#[wasm_bindgen]
pub struct ManualClock {
    inner: tenure::ManualClock,
}

#[wasm_bindgen]
impl ManualClock {
    /// A clock standing at `ms` (default 0).
    #[wasm_bindgen(constructor)]
    pub fn new(ms: Option<f64>) -> Result<ManualClock, JsValue> {
        let ms = ms.unwrap_or(0.0);
        if !(ms >= 0.0 && ms.is_finite()) {
            return Err(js_error(
                "INVALID_VALUE",
                "a clock time must be a non-negative number of ms",
            ));
        }
        Ok(ManualClock {
            inner: tenure::ManualClock::new(ms as u64),
        })
    }
    /// Moves time forward by `ms`.
    pub fn advance(&self, ms: f64) -> Result<(), JsValue> {
        if !(ms >= 0.0 && ms.is_finite()) {
            return Err(js_error(
                "INVALID_VALUE",
                "advance takes a non-negative number of ms",
            ));
        }
        self.inner.advance(ms as u64);
        Ok(())
    }
    /// Sets the time.
    pub fn set(&self, ms: f64) -> Result<(), JsValue> {
        if !(ms >= 0.0 && ms.is_finite()) {
            return Err(js_error(
                "INVALID_VALUE",
                "set takes a non-negative number of ms",
            ));
        }
        self.inner.set(ms as u64);
        Ok(())
    }
    /// The current time in ms.
    pub fn now(&self) -> f64 {
        use tenure::Clock;
        self.inner.now() as f64
    }
    /// Another handle on the same time (what a manager keeps).
    pub fn share(&self) -> ManualClock {
        ManualClock {
            inner: self.inner.clone(),
        }
    }
}

/// A session as a request sees it.
#[wasm_bindgen]
pub struct Session {
    inner: tenure::Session,
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
        let Some(key) = key.as_string() else {
            return Err(js_error("INVALID_VALUE", "session keys must be strings"));
        };
        // Strings and finite numbers need no path (it names the key in errors only).
        let v = match values::primitive(&value) {
            Some(v) => v,
            None => values::to_value(
                &value,
                &format!("session[{key:?}]"),
                self.inner.limits().max_depth,
            )?,
        };
        self.inner.set(&key, v).map_err(|e| core_error(&e, None))
    }
    /// Removes `key`; whether this copy held it. Recorded either way, so it also removes a
    /// value set concurrently.
    pub fn delete(&mut self, key: JsValue) -> Result<bool, JsValue> {
        let key = values::str_arg(&key, "session keys")?;
        self.inner
            .delete(&key)
            .map(|v| v.is_some())
            .map_err(|e| core_error(&e, None))
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
        match values::to_value(&entries, "update", self.inner.limits().max_depth + 1)? {
            tenure::Value::Map(m) => self.inner.update(m).map_err(|e| core_error(&e, None)),
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
            match values::to_value(&by, "by", 1)? {
                tenure::Value::Int(i) => i,
                _ => {
                    return Err(js_error(
                        "INVALID_VALUE",
                        &format!("increment({key:?}): `by` must be an integer"),
                    ))
                }
            }
        };
        let n = self
            .inner
            .increment(key, by)
            .map_err(|e| core_error(&e, None))?;
        Ok(values::to_js(&tenure::Value::Int(n)))
    }
    pub fn flash(&mut self, category: JsValue, message: JsValue) -> Result<(), JsValue> {
        let category = values::str_arg(&category, "a flash category")?;
        let message = values::str_arg(&message, "a flash message")?;
        self.inner
            .flash(&category, &message)
            .map_err(|e| core_error(&e, None))
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
            .map_err(|e| core_error(&e, None))
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

fn info(r: &Record) -> JsValue {
    let o = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &v);
    };
    set("id", JsValue::from_str(&r.id));
    set("publicId", JsValue::from_str(&r.public_id()));
    set(
        "principal",
        r.principal().map_or(JsValue::NULL, JsValue::from_str),
    );
    set("created", JsValue::from_f64(r.created as f64));
    set("accessed", JsValue::from_f64(r.accessed as f64));
    set(
        "expiresAt",
        r.deadline()
            .map_or(JsValue::NULL, |d| JsValue::from_f64(d as f64)),
    );
    set("version", JsValue::from_f64(r.version as f64));
    o.into()
}

/// The session manager (the JS `SessionManager` wraps it).
#[wasm_bindgen]
pub struct Manager {
    core: Core,
    /// Set by `setRedis`: every `begin*` operation then runs over Redis.
    redis: Option<tenure::redis::RedisConfig>,
    /// Whether anyone listens (`setEvents(true)`, from `on()`): without listeners the
    /// events are dropped here after each operation instead of being handed to JS.
    events: bool,
}

impl Manager {
    /// The `data` argument of create: a plain object, or nothing.
    fn data_arg(&self, data: &JsValue) -> Result<Option<tenure::DataMap>, JsValue> {
        if data.is_null() || data.is_undefined() {
            return Ok(None);
        }
        match values::to_value(data, "data", self.core.policy().limits().max_depth + 1)? {
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

    fn run<R>(
        &mut self,
        f: impl FnOnce(&mut Core) -> Result<R, tenure::Error>,
    ) -> Result<R, JsValue> {
        let result = f(&mut self.core);
        self.settle_events();
        match result {
            Ok(r) => Ok(r),
            Err(e) => {
                let cause = host::take_error(self.core.store_mut());
                Err(core_error(&e, cause))
            }
        }
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
            let mut known: Vec<String> = tenure::policy::OPTIONS
                .iter()
                .map(|o| tenure::policy::camel_case(o))
                .collect();
            known.push("store".into());
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
                let key = key.as_string().unwrap_or_default();
                if opt(&options, &key).is_some() {
                    tenure::policy::check_option("SessionManager", &key, &known)
                        .map_err(|e| core_error(&e, None))?;
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
        let on_full = match opt(&options, "onFull")
            .and_then(|v| v.as_string())
            .as_deref()
        {
            None | Some("reject") => OnFull::Reject,
            Some("evictLru") | Some("evict_lru") | Some("evict") => OnFull::EvictLru,
            Some(other) => {
                return Err(js_error(
                    "INVALID_POLICY",
                    &format!("onFull must be 'reject' or 'evictLru', not {other:?}"),
                ))
            }
        };
        let mut b = Policy::builder()
            .on_full(on_full)
            .limits(limits)
            .id_bytes(num("idBytes", 16)?);
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
        let policy = b.build().map_err(|e| core_error(&e, None))?;
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
            redis: None,
            events: false,
        })
    }

    pub fn create(&mut self, principal: JsValue, data: JsValue) -> Result<Session, JsValue> {
        let principal = values::opt_str_arg(&principal, "principal")?;
        let data = self.data_arg(&data)?;
        self.run(|m| m.create(principal.as_deref(), data))
            .map(|inner| Session { inner })
    }
    /// `create` (or `draft`, with `draft: true`) with the data as JSON text: the JS layer
    /// sends a flat object of strings, numbers, booleans and nulls this way (one string
    /// across the boundary instead of a walk of the object from wasm). `undefined` when the
    /// text is not such an object (the caller then passes the object itself).
    #[wasm_bindgen(js_name = createJson)]
    pub fn create_json(
        &mut self,
        principal: Option<String>,
        json: &str,
        draft: bool,
    ) -> Result<Option<Session>, JsValue> {
        let limits = *self.core.policy().limits();
        let data = match tenure::Value::from_json(json.as_bytes(), &limits) {
            Ok(tenure::Value::Map(m)) => m,
            _ => return Ok(None),
        };
        let inner = if draft {
            self.run(|m| m.draft(principal.as_deref(), Some(data)))?
        } else {
            self.run(|m| m.create(principal.as_deref(), Some(data)))?
        };
        Ok(Some(Session { inner }))
    }
    /// A new session that is not stored yet (no I/O); store it with `insertDraft` (or
    /// `beginInsertDraft`).
    pub fn draft(&mut self, principal: JsValue, data: JsValue) -> Result<Session, JsValue> {
        let principal = values::opt_str_arg(&principal, "principal")?;
        let data = self.data_arg(&data)?;
        self.run(|m| m.draft(principal.as_deref(), data))
            .map(|inner| Session { inner })
    }
    #[wasm_bindgen(js_name = insertDraft)]
    pub fn insert_draft(&mut self, session: &mut Session) -> Result<(), JsValue> {
        self.run(|m| m.insert_draft(&mut session.inner))
    }
    pub fn open(&mut self, id: &str) -> Result<Option<Session>, JsValue> {
        Ok(self.run(|m| m.open(id))?.map(|inner| Session { inner }))
    }
    pub fn peek(&mut self, id: &str) -> Result<Option<Session>, JsValue> {
        Ok(self.run(|m| m.peek(id))?.map(|inner| Session { inner }))
    }
    pub fn commit(&mut self, session: &mut Session) -> Result<(), JsValue> {
        self.run(|m| m.commit(&mut session.inner))
    }
    pub fn regenerate(
        &mut self,
        session: &mut Session,
        clear: Option<bool>,
    ) -> Result<(), JsValue> {
        self.run(|m| m.regenerate(&mut session.inner, clear.unwrap_or(false)))
    }
    #[wasm_bindgen(js_name = setIdleTimeout)]
    pub fn set_idle_timeout(
        &mut self,
        session: &mut Session,
        ms: Option<f64>,
    ) -> Result<(), JsValue> {
        let ms = match ms {
            None => None,
            Some(n) if n > 0.0 && n.is_finite() => Some(n as u64),
            Some(_) => {
                return Err(js_error(
                    "INVALID_VALUE",
                    "idleTimeout must be a positive number of ms or null",
                ))
            }
        };
        self.run(|m| m.set_idle_timeout(&mut session.inner, ms))
    }
    pub fn destroy(&mut self, id: &str) -> Result<bool, JsValue> {
        self.run(|m| m.destroy(id))
    }
    #[wasm_bindgen(js_name = destroyAllOf)]
    pub fn destroy_all_of(
        &mut self,
        principal: JsValue,
        except: JsValue,
    ) -> Result<usize, JsValue> {
        let principal = values::str_arg(&principal, "principal")?;
        let except = values::opt_str_arg(&except, "except")?;
        self.run(|m| m.destroy_all_of(&principal, except.as_deref()))
    }
    #[wasm_bindgen(js_name = destroyAll)]
    pub fn destroy_all(&mut self) -> Result<usize, JsValue> {
        self.run(|m| m.destroy_all())
    }
    #[wasm_bindgen(js_name = sessionsOf)]
    pub fn sessions_of(&mut self, principal: JsValue) -> Result<Array, JsValue> {
        let principal = values::str_arg(&principal, "principal")?;
        Ok(self
            .run(|m| m.sessions_of(&principal))?
            .iter()
            .map(|r| info(r))
            .collect())
    }
    /// `[infos, nextCursor]`.
    pub fn list(&mut self, cursor: Option<String>, limit: Option<usize>) -> Result<Array, JsValue> {
        let (page, next) = self.run(|m| m.list(cursor.as_deref(), limit.unwrap_or(100)))?;
        let infos: Array = page.iter().map(|r| info(r)).collect();
        Ok([
            infos.into(),
            next.map_or(JsValue::NULL, |c| JsValue::from_str(&c)),
        ]
        .iter()
        .collect())
    }
    pub fn count(&mut self) -> Result<usize, JsValue> {
        self.run(|m| m.count())
    }
    pub fn sweep(&mut self) -> Result<usize, JsValue> {
        self.run(|m| m.sweep())
    }
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&mut self) -> Result<Option<f64>, JsValue> {
        Ok(self.run(|m| m.next_deadline())?.map(|d| d as f64))
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
        let x = self.run(|m| m.metrics())?;
        Ok(metrics_js(&x))
    }
    pub fn export(&mut self) -> Result<Uint8Array, JsValue> {
        Ok(Uint8Array::from(self.run(|m| m.export())?.as_slice()))
    }
    #[wasm_bindgen(js_name = "import")]
    pub fn import_(&mut self, data: &[u8]) -> Result<usize, JsValue> {
        self.run(|m| m.import(data))
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
                let (name, id, new, cleared) = match &e {
                    Event::Regenerated { old, new, cleared } => (
                        "regenerated",
                        Some(old.as_str()),
                        Some(new.as_str()),
                        *cleared,
                    ),
                    other => (other.name(), other.id(), None, false),
                };
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
fn metrics_js(x: &tenure::Metrics) -> JsValue {
    let o = Object::new();
    for (k, v) in [
        ("active", x.active as f64),
        ("peakActive", x.peak_active as f64),
        ("createdTotal", x.created_total as f64),
        ("expiredTotal", x.expired_total as f64),
        ("destroyedTotal", x.destroyed_total as f64),
        ("rejectedTotal", x.rejected_total as f64),
        ("evictedTotal", x.evicted_total as f64),
        ("maxAliveMs", x.max_alive_ms as f64),
        ("avgAliveMs", x.avg_alive_ms as f64),
    ] {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_f64(v));
    }
    o.into()
}

/// The `version` of an encoded record (Uint8Array or string), or null if it does not read
/// as a v1 record: what a host store compares for `replace` and `delete(id, expected)`.
#[wasm_bindgen(js_name = recordVersion)]
pub fn record_version(bytes: JsValue) -> Option<f64> {
    let v = if let Some(s) = bytes.as_string() {
        tenure::record::stored_version(s.as_bytes())
    } else if let Some(b) = bytes.dyn_ref::<Uint8Array>() {
        tenure::record::stored_version(&b.to_vec())
    } else {
        None
    };
    v.map(|n| n as f64)
}

fn secret_list(secrets: &JsValue) -> Result<Vec<Vec<u8>>, JsValue> {
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

fn with_secrets<R>(secrets: &JsValue, f: impl FnOnce(&[&[u8]]) -> R) -> Result<R, JsValue> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(f(&refs))
}

fn unsigned(u: Option<cookie::Unsigned>) -> JsValue {
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

/// `s:<id>.<signature>`, express-session compatible.
#[wasm_bindgen(js_name = signCookie)]
pub fn sign_cookie(id: &str, secret: JsValue) -> Result<String, JsValue> {
    let s = secret_list(&secret)?;
    Ok(cookie::sign(id, s.first().map_or(&[][..], Vec::as_slice)))
}

/// The id of a signed value, or null.
#[wasm_bindgen(js_name = unsignCookie)]
pub fn unsign_cookie(value: &str, secrets: JsValue) -> Result<Option<String>, JsValue> {
    with_secrets(&secrets, |s| cookie::unsign_id(value, s))
}

/// `[id, secretIndex]` of a signed value, or null.
#[wasm_bindgen(js_name = unsignCookieIndex)]
pub fn unsign_cookie_index(value: &str, secrets: JsValue) -> Result<JsValue, JsValue> {
    with_secrets(&secrets, |s| unsigned(cookie::unsign(value, s)))
}

/// Throws `TENURE_INVALID_POLICY` unless there is a secret and every one is ≥ 32 bytes.
#[wasm_bindgen(js_name = checkSecrets)]
pub fn check_secrets(secrets: JsValue) -> Result<(), JsValue> {
    cookie::Secrets::new(secret_list(&secrets)?)
        .map(|_| ())
        .map_err(|e| core_error(&e, None))
}

/// `[[name, value], …]` of a Cookie header.
#[wasm_bindgen(js_name = parseCookieHeader)]
pub fn parse_cookie_header(header: &str) -> Array {
    cookie::parse_cookie_header(header)
        .into_iter()
        .map(|(n, v)| -> JsValue {
            [JsValue::from_str(n), JsValue::from_str(v)]
                .iter()
                .collect::<Array>()
                .into()
        })
        .collect()
}

/// `[id, secretIndex]` of the first cookie named `name` that verifies, or null.
#[wasm_bindgen(js_name = findSessionId)]
pub fn find_session_id(header: &str, name: &str, secrets: JsValue) -> Result<JsValue, JsValue> {
    with_secrets(&secrets, |s| {
        unsigned(cookie::find_session_id(header, name, s))
    })
}

#[wasm_bindgen(js_name = encodeUriComponent)]
pub fn encode_uri_component(s: &str) -> String {
    cookie::encode_uri_component(s)
}

#[wasm_bindgen(js_name = isPlausibleId)]
pub fn is_plausible_id(id: &str) -> bool {
    tenure::id::is_plausible(id)
}

#[wasm_bindgen(js_name = parseBearer)]
pub fn parse_bearer(header: &str) -> Option<String> {
    tenure::bearer::parse_bearer(header).map(str::to_owned)
}

#[wasm_bindgen(js_name = signToken)]
pub fn sign_token(id: &str, secret: JsValue) -> Result<String, JsValue> {
    let s = secret_list(&secret)?;
    Ok(tenure::bearer::sign_token(
        id,
        s.first().map_or(&[][..], Vec::as_slice),
    ))
}

#[wasm_bindgen(js_name = unsignToken)]
pub fn unsign_token(token: &str, secrets: JsValue) -> Result<JsValue, JsValue> {
    with_secrets(&secrets, |s| {
        unsigned(tenure::bearer::unsign_token(token, s))
    })
}

/// A `Set-Cookie` value. Options: `name`, `path`, `domain`, `httpOnly`, `secure`,
/// `sameSite` ('lax' | 'strict' | 'none' | null), `partitioned`, `priority`, `maxAge` (ms),
/// `now` (ms), `clear` (the logout cookie). `value` must be cookie-safe already.
#[wasm_bindgen(js_name = buildSetCookie)]
pub fn build_set_cookie(value: &str, options: JsValue) -> Result<String, JsValue> {
    // The same reading of cookie options as WebConfig's (one place, strict).
    let o = web::cookie_options(&options)?;
    let flag = |k: &str, d: bool| opt(&options, k).and_then(|v| v.as_bool()).unwrap_or(d);
    let r = if flag("clear", false) {
        o.clear()
    } else {
        let max_age = opt_uint(&options, "maxAge")?.flatten();
        let now = opt_uint(&options, "now")?.flatten().unwrap_or(0);
        o.build(value, max_age, now)
    };
    r.map_err(|e| core_error(&e, None))
}
