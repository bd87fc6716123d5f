//! `Manager`: the session manager (one per process, shared by every thread).

use crate::clock::ManualClock;
use crate::errors::{core_err, raise, to_py_err};
use crate::host::{AnyClock, AnyStore, PyStore};
use crate::locks::{guard, with_lock, with_locks};
use crate::pending;
use crate::session::{opt_text, str_key, Session};
use crate::values;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tenure::redis::RedisConfig;
use tenure::{
    Budget, EncodedStore, Limits, MemoryStore, OnFull, OsEntropy, Policy, Record, SessionInfo,
};

pub(crate) type Core = tenure::SessionManager<AnyStore, AnyClock, OsEntropy>;

/// Listed sessions as a list of dicts.
pub(crate) fn infos<'py>(py: Python<'py>, rs: &[SessionInfo]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for r in rs {
        list.append(info(py, r)?)?;
    }
    Ok(list)
}

/// A listed session as a dict: the core's fields.
pub(crate) fn info<'py>(py: Python<'py>, i: &SessionInfo) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, v) in i.fields() {
        d.set_item(name, values::to_py(py, &v)?)?;
    }
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
        let r = with_lock(py, &self.core, |m| {
            let r = f(m);
            self.settle(m, r)
        });
        r.map_err(|e| to_py_err(py, &e))
    }

    /// After an operation, under the lock: drops the events nobody listens to.
    fn settle<R>(&self, m: &mut Core, r: Result<R, tenure::Error>) -> Result<R, tenure::Error> {
        if !self.listening.load(Ordering::Relaxed) {
            m.drain_events();
        }
        r
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
        let r = py.detach(|| {
            let mut m = guard(&self.core);
            let r = f(&mut m);
            self.settle(&mut m, r)
        });
        r.map_err(|e| to_py_err(py, &e))
    }
}

#[pymethods]
impl Manager {
    #[new]
    #[pyo3(signature = (*, idle_ms, absolute_ms, touch_ms=None, max_sessions=None, on_full="reject",
                        max_data_bytes=None, max_key_bytes=None, max_depth=None, id_bytes=None,
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
        id_bytes: Option<usize>,
        store: Option<Py<PyAny>>,
        clock: Option<PyRef<'_, ManualClock>>,
        redis_prefix: Option<String>,
        redis_grace_ms: u64,
    ) -> PyResult<Self> {
        let on_full: OnFull = on_full.parse().map_err(|e| core_err(py, e))?;
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
            .id_bytes(id_bytes.unwrap_or(tenure::DEFAULT_ID_BYTES));
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
        let r = with_locks(py, &session.inner, &self.core, |s, m| {
            let r = m.commit(s);
            self.settle(m, r)
        });
        r.map_err(|e| to_py_err(py, &e))
    }

    #[pyo3(signature = (session, clear=false))]
    fn regenerate(&self, py: Python<'_>, session: &Session, clear: bool) -> PyResult<()> {
        self.local()?;
        let r = with_locks(py, &session.inner, &self.core, |s, m| {
            let r = m.regenerate(s, clear);
            self.settle(m, r)
        });
        r.map_err(|e| to_py_err(py, &e))
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
        infos(py, &self.run(py, |m| m.sessions_of(principal))?)
    }

    #[pyo3(signature = (cursor=None, limit=100))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        cursor: Option<String>,
        limit: usize,
    ) -> PyResult<(Bound<'py, PyList>, Option<String>)> {
        let (page, next) = self.run_long(py, |m| m.list(cursor.as_deref(), limit))?;
        Ok((infos(py, &page)?, next))
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
                .map(|e| {
                    let (name, id, new, cleared) = e.parts();
                    (
                        name.into(),
                        id.map(Into::into),
                        new.map(Into::into),
                        cleared,
                    )
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
    for (name, v) in x.fields() {
        d.set_item(name, v)?;
    }
    Ok(d)
}

// Compile-time: the core manager and shared records move between threads (the manager
// sits behind a Mutex shared by every Python thread, and operations run without the GIL).
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Core>();
    is_send::<Arc<Record>>();
};
