//! What Python plugs in: a store object with `get/insert/replace/delete/ids`, and a clock.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyString};
use tenure::__private::EitherStore;
use tenure::Due;
use tenure::{ByteStore, Clock, EncodedStore, MemoryStore, Millis, StoreError};

/// A Python object speaking the store protocol, seen as a [`ByteStore`]. The exception a
/// method raises travels inside the store error, to become the `__cause__` of the
/// `StoreError`.
pub struct PyStore {
    obj: Py<PyAny>,
}

impl PyStore {
    pub fn new(obj: Py<PyAny>) -> Self {
        PyStore { obj }
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
                Err(StoreError::with_cause(msg, e))
            }
        })
    }
}

impl ByteStore for PyStore {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.call("get", |o| {
            bytes_reply("get", &o.call_method1("get", (id,))?)
        })?
        .map_err(StoreError::new)
    }

    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        self.call("insert", |o| {
            let py = o.py();
            bool_reply(
                "insert",
                &o.call_method1("insert", (id, PyBytes::new(py, bytes)))?,
            )
        })?
        .map_err(StoreError::new)
    }

    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        self.call("replace", |o| {
            let py = o.py();
            let args = (id, PyBytes::new(py, bytes), expected);
            bool_reply("replace", &o.call_method1("replace", args)?)
        })?
        .map_err(StoreError::new)
    }

    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        self.call("delete", |o| {
            bool_reply("delete", &o.call_method1("delete", (id, expected))?)
        })?
        .map_err(StoreError::new)
    }

    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        self.call("ids", |o| ids_reply(&o.call_method0("ids")?))
    }

    // The index methods are optional: a store without them answers None (the core then
    // reads every record).
    fn count(&mut self) -> Result<Option<usize>, StoreError> {
        self.call("count", |o| match optional(o, "count")? {
            Some(f) => count_reply(&f.call0()?),
            None => Ok(None),
        })
    }

    fn due(
        &mut self,
        through: Option<Millis>,
        limit: usize,
    ) -> Result<Option<Vec<Due>>, StoreError> {
        self.call("due", |o| match optional(o, "due")? {
            Some(f) => due_reply(&f.call1((through, limit))?),
            None => Ok(None),
        })
    }

    fn ids_of(&mut self, principal: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.call("ids_of", |o| match optional(o, "ids_of")? {
            Some(f) => maybe_ids_reply(&f.call1((principal,))?),
            None => Ok(None),
        })
    }

    fn unindex(&mut self, id: &str, deadline: Millis) -> Result<bool, StoreError> {
        self.call("unindex", |o| match optional(o, "unindex")? {
            Some(f) => bool_reply("unindex", &f.call1((id, deadline))?),
            None => Ok(Ok(false)),
        })?
        .map_err(StoreError::new)
    }
}

/// The store's method `name`, if it has one.
fn optional<'py>(o: &Bound<'py, PyAny>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    let f = o.getattr_opt(name)?;
    Ok(f.filter(|f| f.is_callable()))
}

/// A store's answer to `count`: an int, or None (no index).
pub fn count_reply(v: &Bound<'_, PyAny>) -> PyResult<Option<usize>> {
    v.extract()
}

/// A store's answer to `due`: an iterable of `(deadline, id)`, or None (no index).
pub fn due_reply(v: &Bound<'_, PyAny>) -> PyResult<Option<Vec<Due>>> {
    if v.is_none() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for item in v.try_iter()? {
        out.push(item?.extract::<(Millis, String)>()?);
    }
    Ok(Some(out))
}

/// A store's answer to `ids_of`: an iterable of str, or None (no index).
pub fn maybe_ids_reply(v: &Bound<'_, PyAny>) -> PyResult<Option<Vec<String>>> {
    if v.is_none() {
        return Ok(None);
    }
    ids_reply(v).map(Some)
}

/// A hint for a store that handed back an awaitable to a synchronous caller.
fn awaitable_hint(v: &Bound<'_, PyAny>) -> &'static str {
    if v.hasattr("__await__").unwrap_or(false) {
        " (an async store needs tenure.aio.SessionManager)"
    } else {
        ""
    }
}

/// A store's answer to `get`: bytes (or str, as UTF-8) or None. `Err(PyErr)` is an
/// exception the store's object raised; `Ok(Err(msg))` an answer of the wrong type.
pub fn bytes_reply(what: &str, v: &Bound<'_, PyAny>) -> PyResult<Result<Option<Vec<u8>>, String>> {
    if v.is_none() {
        return Ok(Ok(None));
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(Ok(Some(b.as_bytes().to_vec())));
    }
    if let Ok(b) = v.cast::<PyByteArray>() {
        return Ok(Ok(Some(b.to_vec())));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Ok(Some(s.to_cow()?.as_bytes().to_vec())));
    }
    Ok(Err(format!(
        "store.{what} returned a {}, not bytes or None{}",
        v.get_type().name()?,
        awaitable_hint(v)
    )))
}

/// A store's answer to `insert`, `replace` or `delete`: exactly True or False.
pub fn bool_reply(what: &str, v: &Bound<'_, PyAny>) -> PyResult<Result<bool, String>> {
    match v.cast::<PyBool>() {
        Ok(b) => Ok(Ok(b.is_true())),
        Err(_) => Ok(Err(format!(
            "store.{what} returned {}, not True or False{}",
            v.repr()?,
            awaitable_hint(v)
        ))),
    }
}

/// A store's answer to `ids`: an iterable of str.
pub fn ids_reply(v: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let mut out = Vec::new();
    for item in v.try_iter()? {
        out.push(item?.extract::<String>()?);
    }
    Ok(out)
}

/// The store a manager runs on: the core's memory store, or the host's.
pub type AnyStore = EitherStore<MemoryStore, EncodedStore<PyStore>>;

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
