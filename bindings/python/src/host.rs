//! What Python plugs in: a store object with `get/set/delete/ids`, and a clock.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::sync::Arc;
use tenure::store::Page;
use tenure::{ByteStore, Clock, EncodedStore, MemoryStore, Millis, Record, Store, StoreError};

/// A Python object speaking the store protocol, seen as a [`ByteStore`]. The exception a
/// method raised is kept so it can become the `__cause__` of the `StoreError`.
pub struct PyStore {
    obj: Py<PyAny>,
    pub last_error: Option<PyErr>,
}

impl PyStore {
    pub fn new(obj: Py<PyAny>) -> Self {
        PyStore {
            obj,
            last_error: None,
        }
    }

    fn call<T>(
        &mut self,
        what: &str,
        f: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>,
    ) -> Result<T, StoreError> {
        Python::attach(|py| match f(self.obj.bind(py)) {
            Ok(v) => Ok(v),
            Err(e) => {
                let msg = format!("store.{what} raised {}", e.value(py));
                self.last_error = Some(e);
                Err(StoreError::new(msg))
            }
        })
    }
}

impl ByteStore for PyStore {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let got = self.call("get", |o| {
            let v = o.call_method1("get", (id,))?;
            if v.is_none() {
                return Ok(Ok(None));
            }
            if let Ok(b) = v.cast::<PyBytes>() {
                return Ok(Ok(Some(b.as_bytes().to_vec())));
            }
            if let Ok(s) = v.cast::<PyString>() {
                return Ok(Ok(Some(s.to_cow()?.as_bytes().to_vec())));
            }
            Ok(Err(format!(
                "store.get returned a {}, not bytes",
                v.get_type().name()?
            )))
        })?;
        got.map_err(StoreError::new)
    }

    fn set(&mut self, id: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.call("set", |o| {
            let py = o.py();
            o.call_method1("set", (id, PyBytes::new(py, bytes)))?;
            Ok(())
        })
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        self.call("delete", |o| o.call_method1("delete", (id,))?.is_truthy())
    }

    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        self.call("ids", |o| {
            let mut out = Vec::new();
            for item in o.call_method0("ids")?.try_iter()? {
                out.push(item?.extract::<String>()?);
            }
            Ok(out)
        })
    }
}

/// The store a manager runs on.
pub enum AnyStore {
    Memory(MemoryStore),
    Host(EncodedStore<PyStore>),
}

impl AnyStore {
    /// The exception a host store raised last, if any.
    pub fn take_error(&mut self) -> Option<PyErr> {
        match self {
            AnyStore::Memory(_) => None,
            AnyStore::Host(s) => s.inner_mut().last_error.take(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Memory($s) => $e,
            AnyStore::Host($s) => $e,
        }
    };
}

impl Store for AnyStore {
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        delegate!(self, s => s.get(id))
    }
    fn insert(&mut self, r: Arc<Record>) -> Result<bool, StoreError> {
        delegate!(self, s => s.insert(r))
    }
    fn put(&mut self, r: Arc<Record>) -> Result<(), StoreError> {
        delegate!(self, s => s.put(r))
    }
    fn touch(&mut self, id: &str, at: Millis) -> Result<Option<Arc<Record>>, StoreError> {
        delegate!(self, s => s.touch(id, at))
    }
    fn remove(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        delegate!(self, s => s.remove(id))
    }
    fn len(&mut self) -> Result<usize, StoreError> {
        delegate!(self, s => s.len())
    }
    fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        delegate!(self, s => s.page(cursor, limit))
    }
    fn ids_of(&mut self, p: &str) -> Result<Vec<String>, StoreError> {
        delegate!(self, s => s.ids_of(p))
    }
    fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        delegate!(self, s => s.remove_expired(now, limit))
    }
    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        delegate!(self, s => s.next_deadline())
    }
    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        delegate!(self, s => s.least_recent())
    }
}

/// The clock a manager runs on.
pub enum AnyClock {
    System(tenure::SystemClock),
    Manual(tenure::ManualClock),
}

impl Clock for AnyClock {
    fn now(&self) -> Millis {
        match self {
            AnyClock::System(c) => c.now(),
            AnyClock::Manual(c) => c.now(),
        }
    }
}
