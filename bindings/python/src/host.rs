//! What Python plugs in: a store object with `get/insert/replace/delete/ids`, and a clock.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use tenure::store::EitherStore;
use tenure::{ByteStore, Clock, EncodedStore, MemoryStore, Millis, StoreError};

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

    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        self.call("insert", |o| {
            let py = o.py();
            o.call_method1("insert", (id, PyBytes::new(py, bytes)))?
                .is_truthy()
        })
    }

    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        self.call("replace", |o| {
            let py = o.py();
            o.call_method1("replace", (id, PyBytes::new(py, bytes), expected))?
                .is_truthy()
        })
    }

    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        self.call("delete", |o| {
            o.call_method1("delete", (id, expected))?.is_truthy()
        })
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

/// The store a manager runs on: the core's memory store, or the host's.
pub type AnyStore = EitherStore<MemoryStore, EncodedStore<PyStore>>;

/// The exception a host store raised last, if any.
pub fn take_error(store: &mut AnyStore) -> Option<PyErr> {
    match store {
        EitherStore::Left(_) => None,
        EitherStore::Right(s) => s.inner_mut().last_error.take(),
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
