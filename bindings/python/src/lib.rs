//! `tenure._native`: the PyO3 module under the `tenure` Python package. It translates
//! values and errors only; every rule lives in the core crate.
//!
//! Locking: a manager and each session sit behind a `Mutex`. A lock is first tried with the
//! GIL held (the common, uncontended case); when that fails the GIL is released before
//! blocking, so a thread waiting for a lock never holds the GIL that the lock's holder may
//! need for a Python store.

mod errors;
mod file_store;
mod host;
mod pending;
mod values;
mod web;

use errors::{raise, to_py_err};
use host::{AnyClock, AnyStore, PyStore};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tenure::cookie;
use tenure::redis::RedisConfig;
use tenure::{Budget, EncodedStore, Event, Limits, MemoryStore, OnFull, OsEntropy, Policy, Record};

pub(crate) type Core = tenure::SessionManager<AnyStore, AnyClock, OsEntropy>;

pub(crate) fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic can't happen while a lock is held (no panicking code runs under it), but a
    // poisoned lock must not take the process down either.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` on the locked value, releasing the GIL first if the lock is contended.
pub(crate) fn with_lock<T: Send, R: Send>(
    py: Python<'_>,
    m: &Mutex<T>,
    f: impl FnOnce(&mut T) -> R + Send,
) -> R {
    match m.try_lock() {
        Ok(mut g) => f(&mut g),
        Err(_) => py.detach(|| f(&mut guard(m))),
    }
}

/// Runs `f` on two locked values (session, then manager), with the same GIL discipline.
fn with_locks<A: Send, B: Send, R: Send>(
    py: Python<'_>,
    a: &Mutex<A>,
    b: &Mutex<B>,
    f: impl FnOnce(&mut A, &mut B) -> R + Send,
) -> R {
    if let Ok(mut ga) = a.try_lock() {
        if let Ok(mut gb) = b.try_lock() {
            return f(&mut ga, &mut gb);
        }
    }
    py.detach(|| {
        let mut ga = guard(a);
        let mut gb = guard(b);
        f(&mut ga, &mut gb)
    })
}

/// A clock that moves only when told to (milliseconds; the Python layer speaks seconds).
#[pyclass(frozen, module = "tenure._native")]
struct ManualClock {
    inner: tenure::ManualClock,
}

#[pymethods]
impl ManualClock {
    #[new]
    fn new(start_ms: u64) -> Self {
        ManualClock {
            inner: tenure::ManualClock::new(start_ms),
        }
    }
    /// Moves the clock forward by `ms`.
    fn advance_ms(&self, ms: u64) {
        self.inner.advance(ms);
    }
    /// Sets the clock to `ms`.
    fn set_ms(&self, ms: u64) {
        self.inner.set(ms);
    }
    /// The clock's time in ms.
    fn now_ms(&self) -> u64 {
        use tenure::Clock;
        self.inner.now()
    }
}

/// A session as a request sees it.
#[pyclass(frozen, module = "tenure._native")]
pub(crate) struct Session {
    pub(crate) inner: Mutex<tenure::Session>,
    /// The policy's limits (fixed for the session's life), read without the lock.
    limits: tenure::Limits,
}

impl Session {
    pub(crate) fn wrap(s: tenure::Session) -> Self {
        Session {
            limits: *s.limits(),
            inner: Mutex::new(s),
        }
    }
}

pub(crate) fn core_err(py: Python<'_>, e: tenure::Error) -> PyErr {
    to_py_err(py, &e, None)
}

#[pymethods]
impl Session {
    /// The value at `key`; `KeyError` if absent.
    fn get_item<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key = str_key(key)?;
        let v = with_lock(py, &self.inner, |s| s.get(&key).cloned());
        match v {
            Some(v) => values::to_py(py, &v),
            None => Err(pyo3::exceptions::PyKeyError::new_err(key)),
        }
    }
    /// The value at `key`, or `default`.
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key = str_key(key)?;
        match with_lock(py, &self.inner, |s| s.get(&key).cloned()) {
            Some(v) => values::to_py(py, &v),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }
    /// Sets `key` (validated first; nothing changes on error).
    fn set(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let key = str_key(key)?;
        let v = values::to_value(value, "session", &key, &mut Budget::new(&self.limits))?;
        with_lock(py, &self.inner, |s| s.set(&key, v)).map_err(|e| core_err(py, e))
    }
    /// Removes `key`; `KeyError` if this copy doesn't hold it.
    fn delete(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let key = str_key(key)?;
        let r = with_lock(py, &self.inner, |s| {
            if s.contains(&key) {
                s.delete(&key).map(|_| true)
            } else {
                Ok(false)
            }
        });
        match r {
            Ok(true) => Ok(()),
            Ok(false) => Err(pyo3::exceptions::PyKeyError::new_err(key)),
            Err(e) => Err(core_err(py, e)),
        }
    }
    /// Removes `key` whether or not this copy saw it (also a concurrent write).
    fn discard(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = str_key(key)?;
        with_lock(py, &self.inner, |s| s.delete(&key).map(|v| v.is_some()))
            .map_err(|e| core_err(py, e))
    }
    fn contains(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> bool {
        match key.cast::<PyString>() {
            Ok(k) => match k.to_cow() {
                Ok(k) => with_lock(py, &self.inner, |s| s.contains(&k)),
                Err(_) => false,
            },
            Err(_) => false,
        }
    }
    fn keys(&self, py: Python<'_>) -> Vec<String> {
        with_lock(py, &self.inner, |s| s.keys().map(str::to_owned).collect())
    }
    fn len(&self, py: Python<'_>) -> usize {
        with_lock(py, &self.inner, |s| s.len())
    }
    fn clear(&self, py: Python<'_>) {
        with_lock(py, &self.inner, |s| s.clear());
    }
    /// Sets every item of a dict; all or nothing.
    fn update(&self, py: Python<'_>, items: &Bound<'_, PyDict>) -> PyResult<()> {
        // One budget for all of them: together they must fit in the session.
        let mut budget = Budget::new(&self.limits);
        let mut entries = Vec::with_capacity(items.len());
        for (k, v) in items.iter() {
            let key = str_key(&k)?;
            let v = values::to_value(&v, "session", &key, &mut budget)?;
            entries.push((key, v));
        }
        with_lock(py, &self.inner, |s| s.update(entries)).map_err(|e| core_err(py, e))
    }
    /// Adds `by` to the integer at `key` (missing counts as 0); returns the new value.
    #[pyo3(signature = (key, by=None))]
    fn increment(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        by: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<i64> {
        let key = str_key(key)?;
        let key = key.as_str();
        let by: i64 = match by {
            None => 1,
            Some(b) if b.is_instance_of::<pyo3::types::PyBool>() => {
                return Err(raise(
                    py,
                    "InvalidType",
                    &format!("increment({key:?}): `by` must be an int, not bool"),
                ))
            }
            Some(b) => b.extract().map_err(|_| {
                raise(
                    py,
                    "InvalidType",
                    &format!("increment({key:?}): `by` must be an int within i64"),
                )
            })?,
        };
        with_lock(py, &self.inner, |s| s.increment(key, by)).map_err(|e| core_err(py, e))
    }
    fn flash(
        &self,
        py: Python<'_>,
        category: &Bound<'_, PyAny>,
        message: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let category = text(category, "a flash category")?;
        let message = text(message, "a flash message")?;
        with_lock(py, &self.inner, |s| s.flash(&category, &message)).map_err(|e| core_err(py, e))
    }
    fn take_flashes(&self, py: Python<'_>) -> Vec<(String, String)> {
        with_lock(py, &self.inner, |s| {
            s.take_flashes()
                .into_iter()
                .map(|f| (f.category, f.message))
                .collect()
        })
    }
    #[pyo3(signature = (principal, keep_data=false))]
    fn set_principal(
        &self,
        py: Python<'_>,
        principal: Option<&Bound<'_, PyAny>>,
        keep_data: bool,
    ) -> PyResult<()> {
        let principal = opt_text(principal, "principal")?;
        with_lock(py, &self.inner, |s| {
            s.set_principal_with(principal.as_deref(), keep_data)
        })
        .map_err(|e| core_err(py, e))
    }
    /// Every item as a fresh dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        // A cheap copy of the data (inline keys and strings), so Python objects are built
        // without holding the session's lock.
        let data: tenure::DataMap = with_lock(py, &self.inner, |s| s.data().clone());
        let d = PyDict::new(py);
        for (k, v) in data.iter() {
            d.set_item(k, values::to_py(py, v)?)?;
        }
        Ok(d)
    }
    /// Becomes `onto` with every change of this session pending (see `pending::rebase`).
    fn rebase(&self, py: Python<'_>, onto: &Session) -> PyResult<()> {
        pending::rebase(py, self, onto)
    }
    #[getter]
    fn id(&self, py: Python<'_>) -> String {
        with_lock(py, &self.inner, |s| s.id().to_owned())
    }
    #[getter]
    fn public_id(&self, py: Python<'_>) -> String {
        with_lock(py, &self.inner, |s| s.public_id())
    }
    #[getter]
    fn principal(&self, py: Python<'_>) -> Option<String> {
        with_lock(py, &self.inner, |s| s.principal().map(str::to_owned))
    }
    #[getter]
    fn version(&self, py: Python<'_>) -> u64 {
        with_lock(py, &self.inner, |s| s.version())
    }
    #[getter]
    fn created_ms(&self, py: Python<'_>) -> u64 {
        with_lock(py, &self.inner, |s| s.created_at())
    }
    #[getter]
    fn last_access_ms(&self, py: Python<'_>) -> u64 {
        with_lock(py, &self.inner, |s| s.last_access())
    }
    #[getter]
    fn expires_at_ms(&self, py: Python<'_>) -> Option<u64> {
        with_lock(py, &self.inner, |s| s.expires_at())
    }
    #[getter]
    fn idle_timeout_ms(&self, py: Python<'_>) -> Option<u64> {
        with_lock(py, &self.inner, |s| s.idle_timeout())
    }
    #[getter]
    fn absolute_timeout_ms(&self, py: Python<'_>) -> Option<u64> {
        with_lock(py, &self.inner, |s| s.absolute_timeout())
    }
    #[getter]
    fn modified(&self, py: Python<'_>) -> bool {
        with_lock(py, &self.inner, |s| s.is_modified())
    }
}

/// A str argument (`what` names it in errors): `InvalidType` for another type,
/// `InvalidValue` for a lone surrogate (never Python's own `UnicodeEncodeError`).
fn text(v: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    match v.cast::<PyString>() {
        Ok(s) => values::utf8(v.py(), s, what),
        Err(_) => Err(raise(
            v.py(),
            "InvalidType",
            &format!("{what} must be str, not {}", v.get_type().name()?),
        )),
    }
}

/// An optional str argument (`None`: none).
fn opt_text(v: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<String>> {
    match v {
        Some(v) if !v.is_none() => text(v, what).map(Some),
        _ => Ok(None),
    }
}

fn str_key(key: &Bound<'_, PyAny>) -> PyResult<String> {
    match key.cast::<PyString>() {
        Ok(s) => values::utf8(key.py(), s, &format!("session key {}", s.repr()?)),
        Err(_) => Err(raise(
            key.py(),
            "InvalidType",
            &format!("session keys must be str, not {}", key.get_type().name()?),
        )),
    }
}

pub(crate) fn info<'py>(py: Python<'py>, r: &Record) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", r.id.as_str())?;
    d.set_item("public_id", r.public_id())?;
    d.set_item("principal", r.principal())?;
    d.set_item("created", r.created)?;
    d.set_item("accessed", r.accessed)?;
    d.set_item("expires_at", r.deadline())?;
    d.set_item("version", r.version)?;
    Ok(d)
}

/// The session manager (one per process, shared by every thread).
#[pyclass(frozen, module = "tenure._native")]
pub(crate) struct Manager {
    pub(crate) core: Mutex<Core>,
    /// The policy's limits, read without the lock.
    limits: tenure::Limits,
    /// Whether the Python layer collects events; when not, they are dropped under the lock
    /// instead of piling up in the core.
    pub(crate) listening: AtomicBool,
    /// Where sessions live when they are kept in Redis: then every operation is a
    /// `PendingOp` over Redis commands (the Python layer drives it, sync or async).
    pub(crate) redis: Option<RedisConfig>,
}

impl Manager {
    /// Runs `f` on the core and converts its error, chaining a store's own exception.
    fn run<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Core) -> Result<R, tenure::Error> + Send,
    ) -> PyResult<R> {
        self.local()?;
        let (r, cause) = with_lock(py, &self.core, |m| {
            let r = f(m);
            self.settle(m, r)
        });
        r.map_err(|e| to_py_err(py, &e, cause))
    }

    /// After an operation, under the lock: drops the events nobody listens to and takes a
    /// failed host store's own exception.
    fn settle<R>(
        &self,
        m: &mut Core,
        r: Result<R, tenure::Error>,
    ) -> (Result<R, tenure::Error>, Option<PyErr>) {
        if !self.listening.load(Ordering::Relaxed) {
            m.drain_events();
        }
        let cause = if r.is_err() {
            host::take_error(m.store_mut())
        } else {
            None
        };
        (r, cause)
    }

    /// Refuses a direct (synchronous, in-core) operation on a manager over Redis.
    fn local(&self) -> PyResult<()> {
        match self.redis {
            None => Ok(()),
            Some(_) => Err(pyo3::exceptions::PyRuntimeError::new_err(
                "this manager keeps its sessions in Redis: run operations with begin_*()",
            )),
        }
    }

    /// Initial session data from a dict, validated.
    pub(crate) fn data_map(
        &self,
        data: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Option<tenure::DataMap>> {
        let Some(d) = data else { return Ok(None) };
        let mut budget = Budget::new(&self.limits);
        let mut entries = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = str_key(&k)?;
            let v = values::to_value(&v, "data", &key, &mut budget)?;
            entries.push((key, v));
        }
        Ok(Some(entries.into_iter().collect()))
    }

    /// Like `run`, but always without the GIL: for work that grows with the store (sweep,
    /// count, export, import, listings), so other Python threads run meanwhile.
    fn run_long<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Core) -> Result<R, tenure::Error> + Send,
    ) -> PyResult<R> {
        self.local()?;
        let (r, cause) = py.detach(|| {
            let mut m = guard(&self.core);
            let r = f(&mut m);
            self.settle(&mut m, r)
        });
        r.map_err(|e| to_py_err(py, &e, cause))
    }
}

#[pymethods]
impl Manager {
    #[new]
    #[pyo3(signature = (*, idle_ms, absolute_ms, touch_ms=None, max_sessions=None, on_full="reject",
                        max_data_bytes=None, max_key_bytes=None, max_depth=None, id_bytes=16,
                        store=None, clock=None, redis_prefix=None, redis_grace_ms=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        idle_ms: Option<u64>,
        absolute_ms: Option<u64>,
        touch_ms: Option<u64>,
        max_sessions: Option<usize>,
        on_full: &str,
        max_data_bytes: Option<usize>,
        max_key_bytes: Option<usize>,
        max_depth: Option<usize>,
        id_bytes: usize,
        store: Option<Py<PyAny>>,
        clock: Option<PyRef<'_, ManualClock>>,
        redis_prefix: Option<String>,
        redis_grace_ms: u64,
    ) -> PyResult<Self> {
        let on_full = match on_full {
            "reject" => OnFull::Reject,
            "evict_lru" | "evict" => OnFull::EvictLru,
            other => {
                return Err(raise(
                    py,
                    "InvalidPolicy",
                    &format!("on_full must be 'reject' or 'evict_lru', not {other:?}"),
                ))
            }
        };
        let d = Limits::default();
        let limits = Limits {
            max_data_bytes: max_data_bytes.unwrap_or(d.max_data_bytes),
            max_key_bytes: max_key_bytes.unwrap_or(d.max_key_bytes),
            max_depth: max_depth.unwrap_or(d.max_depth),
        };
        let mut b = Policy::builder()
            .idle_timeout(idle_ms)
            .absolute_timeout(absolute_ms)
            .max_sessions(max_sessions)
            .on_full(on_full)
            .limits(limits)
            .id_bytes(id_bytes);
        if let Some(t) = touch_ms {
            b = b.touch_interval(t);
        }
        let policy = b.build().map_err(|e| core_err(py, e))?;
        let redis = match redis_prefix {
            None => None,
            Some(_) if store.is_some() => {
                return Err(raise(
                    py,
                    "InvalidPolicy",
                    "a manager keeps its sessions in a store or in Redis, not both",
                ))
            }
            Some(prefix) => Some(
                RedisConfig::new(&prefix, limits)
                    .map_err(|e| core_err(py, e))?
                    .with_grace(redis_grace_ms),
            ),
        };
        let store = match store {
            Some(obj) => AnyStore::Right(EncodedStore::new(PyStore::new(obj), limits)),
            None => AnyStore::Left(MemoryStore::new()),
        };
        let clock = match clock {
            Some(c) => AnyClock::Manual(c.inner.clone()),
            None => AnyClock::System(tenure::SystemClock),
        };
        Ok(Manager {
            core: Mutex::new(tenure::SessionManager::new(store, clock, OsEntropy, policy)),
            limits,
            listening: AtomicBool::new(false),
            redis,
        })
    }

    #[pyo3(signature = (principal=None, data=None))]
    fn create(
        &self,
        py: Python<'_>,
        principal: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Session> {
        let principal = opt_text(principal, "principal")?;
        let data = self.data_map(data)?;
        self.run(py, |m| m.create(principal.as_deref(), data))
            .map(Session::wrap)
    }

    fn open(&self, py: Python<'_>, id: &str) -> PyResult<Option<Session>> {
        Ok(self.run(py, |m| m.open(id))?.map(Session::wrap))
    }

    fn peek(&self, py: Python<'_>, id: &str) -> PyResult<Option<Session>> {
        Ok(self.run(py, |m| m.peek(id))?.map(Session::wrap))
    }

    fn commit(&self, py: Python<'_>, session: &Session) -> PyResult<()> {
        self.local()?;
        let (r, cause) = with_locks(py, &session.inner, &self.core, |s, m| {
            let r = m.commit(s);
            self.settle(m, r)
        });
        r.map_err(|e| to_py_err(py, &e, cause))
    }

    #[pyo3(signature = (session, clear=false))]
    fn regenerate(&self, py: Python<'_>, session: &Session, clear: bool) -> PyResult<()> {
        self.local()?;
        let (r, cause) = with_locks(py, &session.inner, &self.core, |s, m| {
            let r = m.regenerate(s, clear);
            self.settle(m, r)
        });
        r.map_err(|e| to_py_err(py, &e, cause))
    }

    #[pyo3(signature = (session, ms))]
    fn set_idle_timeout(&self, py: Python<'_>, session: &Session, ms: Option<u64>) -> PyResult<()> {
        with_locks(py, &session.inner, &self.core, |s, m| {
            m.set_idle_timeout(s, ms)
        })
        .map_err(|e| core_err(py, e))
    }

    fn destroy(&self, py: Python<'_>, id: &str) -> PyResult<bool> {
        self.run(py, |m| m.destroy(id))
    }

    #[pyo3(signature = (principal, except_id=None))]
    fn destroy_all_of(
        &self,
        py: Python<'_>,
        principal: &str,
        except_id: Option<String>,
    ) -> PyResult<usize> {
        self.run(py, |m| m.destroy_all_of(principal, except_id.as_deref()))
    }

    fn destroy_all(&self, py: Python<'_>) -> PyResult<usize> {
        self.run_long(py, |m| m.destroy_all())
    }

    fn sessions_of<'py>(&self, py: Python<'py>, principal: &str) -> PyResult<Bound<'py, PyList>> {
        let records = self.run(py, |m| m.sessions_of(principal))?;
        let list = PyList::empty(py);
        for r in &records {
            list.append(info(py, r)?)?;
        }
        Ok(list)
    }

    #[pyo3(signature = (cursor=None, limit=100))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        cursor: Option<String>,
        limit: usize,
    ) -> PyResult<(Bound<'py, PyList>, Option<String>)> {
        let (records, next) = self.run_long(py, |m| m.list(cursor.as_deref(), limit))?;
        let list = PyList::empty(py);
        for r in &records {
            list.append(info(py, r)?)?;
        }
        Ok((list, next))
    }

    fn count(&self, py: Python<'_>) -> PyResult<usize> {
        self.run_long(py, |m| m.count())
    }

    fn sweep(&self, py: Python<'_>) -> PyResult<usize> {
        self.run_long(py, |m| m.sweep())
    }

    fn next_deadline_ms(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.run(py, |m| m.next_deadline())
    }

    fn now_ms(&self, py: Python<'_>) -> u64 {
        with_lock(py, &self.core, |m| m.now())
    }

    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let x = self.run(py, |m| m.metrics())?;
        metrics_dict(py, &x)
    }

    fn export<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let blob = self.run_long(py, |m| m.export())?;
        Ok(PyBytes::new(py, &blob))
    }

    fn import_(&self, py: Python<'_>, data: &[u8]) -> PyResult<usize> {
        self.run_long(py, |m| m.import(data))
    }

    // -- operations for an event loop (see pending.rs): each returns a PendingOp -------

    #[pyo3(signature = (principal=None, data=None))]
    fn begin_create(
        slf: &Bound<'_, Self>,
        principal: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<pending::PendingOp> {
        let principal = opt_text(principal, "principal")?;
        let data = slf.get().data_map(data)?;
        Ok(pending::create(slf, principal, data))
    }
    /// A session not stored yet (see `pending::draft`).
    fn draft(slf: &Bound<'_, Self>) -> PyResult<Session> {
        pending::draft(slf)
    }
    fn begin_open(slf: &Bound<'_, Self>, id: String) -> pending::PendingOp {
        pending::open(slf, id)
    }
    fn begin_peek(slf: &Bound<'_, Self>, id: String) -> pending::PendingOp {
        pending::peek(slf, id)
    }
    fn begin_commit(slf: &Bound<'_, Self>, session: &Bound<'_, Session>) -> pending::PendingOp {
        pending::commit(slf, session, None)
    }
    #[pyo3(signature = (session, clear=false))]
    fn begin_regenerate(
        slf: &Bound<'_, Self>,
        session: &Bound<'_, Session>,
        clear: bool,
    ) -> pending::PendingOp {
        pending::commit(slf, session, Some(clear))
    }
    fn begin_destroy(slf: &Bound<'_, Self>, id: String) -> pending::PendingOp {
        pending::destroy(slf, id)
    }
    #[pyo3(signature = (principal, except_id=None))]
    fn begin_destroy_all_of(
        slf: &Bound<'_, Self>,
        principal: String,
        except_id: Option<String>,
    ) -> pending::PendingOp {
        pending::destroy_all_of(slf, principal, except_id)
    }
    fn begin_destroy_all(slf: &Bound<'_, Self>) -> pending::PendingOp {
        pending::destroy_all(slf)
    }
    fn begin_sessions_of(slf: &Bound<'_, Self>, principal: String) -> pending::PendingOp {
        pending::sessions_of(slf, principal)
    }
    fn begin_count(slf: &Bound<'_, Self>) -> pending::PendingOp {
        pending::count(slf)
    }
    #[pyo3(signature = (cursor=None, limit=100))]
    fn begin_list(
        slf: &Bound<'_, Self>,
        cursor: Option<String>,
        limit: usize,
    ) -> pending::PendingOp {
        pending::list(slf, cursor, limit)
    }
    fn begin_sweep(slf: &Bound<'_, Self>) -> pending::PendingOp {
        pending::sweep(slf)
    }
    fn begin_next_deadline_ms(slf: &Bound<'_, Self>) -> pending::PendingOp {
        pending::next_deadline(slf)
    }
    fn begin_metrics(slf: &Bound<'_, Self>) -> pending::PendingOp {
        pending::metrics(slf)
    }
    fn begin_export(slf: &Bound<'_, Self>) -> pending::PendingOp {
        pending::export(slf)
    }
    fn begin_import(slf: &Bound<'_, Self>, data: Vec<u8>) -> pending::PendingOp {
        pending::import(slf, data)
    }

    /// Keep events for `drain_events` (`True`) or drop them as they happen (`False`, the
    /// default, for a manager nobody listens to).
    fn set_listening(&self, on: bool) {
        self.listening.store(on, Ordering::Relaxed);
    }

    /// Events since the last call: `(name, id, new_id, cleared)` tuples.
    fn drain_events(&self, py: Python<'_>) -> Vec<(String, Option<String>, Option<String>, bool)> {
        with_lock(py, &self.core, |m| {
            m.drain_events()
                .into_iter()
                .map(|e| match e {
                    Event::Regenerated { old, new, cleared } => {
                        ("regenerated".into(), Some(old), Some(new), cleared)
                    }
                    other => (
                        other.name().into(),
                        other.id().map(str::to_owned),
                        None,
                        false,
                    ),
                })
                .collect()
        })
    }
}

/// The counters as the dict `metrics()` returns.
pub(crate) fn metrics_dict<'py>(
    py: Python<'py>,
    x: &tenure::Metrics,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("active", x.active)?;
    d.set_item("peak_active", x.peak_active)?;
    d.set_item("created_total", x.created_total)?;
    d.set_item("expired_total", x.expired_total)?;
    d.set_item("destroyed_total", x.destroyed_total)?;
    d.set_item("rejected_total", x.rejected_total)?;
    d.set_item("evicted_total", x.evicted_total)?;
    d.set_item("max_alive_ms", x.max_alive_ms)?;
    d.set_item("avg_alive_ms", x.avg_alive_ms)?;
    Ok(d)
}

fn secret_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Err(raise(
        obj.py(),
        "InvalidType",
        "a secret must be str or bytes",
    ))
}

fn secret_list(secrets: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    if secrets.is_instance_of::<PyString>() || secrets.is_instance_of::<PyBytes>() {
        return Ok(vec![secret_bytes(secrets)?]);
    }
    secrets.try_iter()?.map(|s| secret_bytes(&s?)).collect()
}

/// `s:<id>.<signature>`, express-session compatible.
#[pyfunction]
fn sign_cookie(id: &str, secret: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(cookie::sign(id, &secret_bytes(secret)?))
}

/// The id of a signed value, or `None`.
#[pyfunction]
fn unsign_cookie(value: &str, secrets: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(cookie::unsign_id(value, &refs))
}

/// `(id, secret_index)` of a signed value, or `None`.
#[pyfunction]
fn unsign_cookie_index(
    value: &str,
    secrets: &Bound<'_, PyAny>,
) -> PyResult<Option<(String, usize)>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(cookie::unsign(value, &refs).map(|u| (u.id, u.secret_index)))
}

/// Raises `InvalidPolicy` unless every secret is at least 32 bytes (and there is one).
#[pyfunction]
fn check_secrets(py: Python<'_>, secrets: &Bound<'_, PyAny>) -> PyResult<()> {
    cookie::Secrets::new(secret_list(secrets)?)
        .map(|_| ())
        .map_err(|e| core_err(py, e))
}

#[pyfunction]
fn parse_cookie_header(header: &str) -> Vec<(String, String)> {
    cookie::parse_cookie_header(header)
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// `(id, secret_index)` of the first cookie named `name` that verifies, or `None`.
#[pyfunction]
fn find_session_id(
    header: &str,
    name: &str,
    secrets: &Bound<'_, PyAny>,
) -> PyResult<Option<(String, usize)>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(cookie::find_session_id(header, name, &refs).map(|u| (u.id, u.secret_index)))
}

/// Whether `id` could be a session id tenure minted (length, alphabet).
#[pyfunction]
fn is_plausible_id(id: &str) -> bool {
    tenure::id::is_plausible(id)
}

#[pyfunction]
fn encode_uri_component(s: &str) -> String {
    cookie::encode_uri_component(s)
}

#[pyfunction]
fn parse_bearer(header: &str) -> Option<String> {
    tenure::bearer::parse_bearer(header).map(str::to_owned)
}

#[pyfunction]
fn sign_token(id: &str, secret: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(tenure::bearer::sign_token(id, &secret_bytes(secret)?))
}

#[pyfunction]
fn unsign_token(token: &str, secrets: &Bound<'_, PyAny>) -> PyResult<Option<(String, usize)>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(tenure::bearer::unsign_token(token, &refs).map(|u| (u.id, u.secret_index)))
}

/// A `Set-Cookie` value. `value` must already be cookie-safe (see `encode_uri_component`);
/// `clear=True` builds the logout cookie instead.
#[pyfunction]
#[pyo3(signature = (value, *, name="sid", path=Some("/"), domain=None, http_only=true, secure=true,
                    same_site=Some("lax"), partitioned=false, priority=None, max_age_ms=None, now_ms=0, clear=false))]
#[allow(clippy::too_many_arguments)]
fn build_set_cookie(
    py: Python<'_>,
    value: &str,
    name: &str,
    path: Option<&str>,
    domain: Option<&str>,
    http_only: bool,
    secure: bool,
    same_site: Option<&str>,
    partitioned: bool,
    priority: Option<&str>,
    max_age_ms: Option<u64>,
    now_ms: u64,
    clear: bool,
) -> PyResult<String> {
    let opts = web::cookie_options(
        py,
        name,
        path,
        domain,
        http_only,
        secure,
        same_site,
        partitioned,
        priority,
    )?;
    let r = if clear {
        opts.clear()
    } else {
        opts.build(value, max_age_ms, now_ms)
    };
    r.map_err(|e| core_err(py, e))
}

/// Decodes a v1 record (for tools and interop tests) into a dict; `DecodeError` on garbage.
#[pyfunction]
fn decode_record<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let r = Record::decode(data, &Limits::default()).map_err(|e| core_err(py, e.into()))?;
    let d = info(py, &r)?;
    let data = PyDict::new(py);
    for (k, v) in r.data.iter() {
        data.set_item(k, values::to_py(py, v)?)?;
    }
    d.set_item("data", data)?;
    d.set_item("idle", r.idle())?;
    d.set_item("absolute", r.absolute())?;
    Ok(d)
}

/// The native half of the `tenure` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The policy's defaults live in the core; the Python signatures show them from here.
    m.add("DEFAULT_IDLE_MS", tenure::policy::DEFAULT_IDLE_TIMEOUT)?;
    m.add(
        "DEFAULT_ABSOLUTE_MS",
        tenure::policy::DEFAULT_ABSOLUTE_TIMEOUT,
    )?;
    m.add_class::<Manager>()?;
    m.add_class::<Session>()?;
    m.add_class::<ManualClock>()?;
    m.add_class::<pending::PendingOp>()?;
    m.add_class::<file_store::FileStore>()?;
    web::register(m)?;
    m.add_function(wrap_pyfunction!(pending::record_version, m)?)?;
    m.add_function(wrap_pyfunction!(sign_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(unsign_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(unsign_cookie_index, m)?)?;
    m.add_function(wrap_pyfunction!(check_secrets, m)?)?;
    m.add_function(wrap_pyfunction!(parse_cookie_header, m)?)?;
    m.add_function(wrap_pyfunction!(find_session_id, m)?)?;
    m.add_function(wrap_pyfunction!(encode_uri_component, m)?)?;
    m.add_function(wrap_pyfunction!(is_plausible_id, m)?)?;
    m.add_function(wrap_pyfunction!(parse_bearer, m)?)?;
    m.add_function(wrap_pyfunction!(sign_token, m)?)?;
    m.add_function(wrap_pyfunction!(unsign_token, m)?)?;
    m.add_function(wrap_pyfunction!(build_set_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(decode_record, m)?)?;
    m.add("MIN_SECRET_BYTES", cookie::MIN_SECRET_BYTES)?;
    Ok(())
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>() {}
    is_send::<Core>();
    is_send::<Arc<Record>>();
}
