//! `Session`: a session as a request sees it.

use crate::errors::{core_err, raise};
use crate::locks::with_lock;
use crate::pending;
use crate::values;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::sync::Mutex;

/// A session as a request sees it.
#[pyclass(frozen, module = "tenure._native")]
pub(crate) struct Session {
    pub(crate) inner: Mutex<tenure::Session>,
    /// The policy's `max_depth` (fixed for the session's life), read without the lock.
    max_depth: usize,
}

impl Session {
    pub(crate) fn wrap(s: tenure::Session) -> Self {
        Session {
            max_depth: s.limits().max_depth,
            inner: Mutex::new(s),
        }
    }
}

#[pymethods]
impl Session {
    /// The value at `key`; `KeyError` if absent.
    fn get_item<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        let v = with_lock(py, &self.inner, |s| s.get(key).cloned());
        match v {
            Some(v) => values::to_py(py, &v),
            None => Err(pyo3::exceptions::PyKeyError::new_err(key.to_owned())),
        }
    }
    /// The value at `key`, or `default`.
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match with_lock(py, &self.inner, |s| s.get(key).cloned()) {
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
        let v = values::to_value(value, "session", &key, self.max_depth)?;
        with_lock(py, &self.inner, |s| s.set(&key, v)).map_err(|e| core_err(py, e))
    }
    /// Removes `key`; `KeyError` if this copy doesn't hold it.
    fn delete(&self, py: Python<'_>, key: &str) -> PyResult<()> {
        let r = with_lock(py, &self.inner, |s| {
            if s.contains(key) {
                s.delete(key).map(|_| true)
            } else {
                Ok(false)
            }
        });
        match r {
            Ok(true) => Ok(()),
            Ok(false) => Err(pyo3::exceptions::PyKeyError::new_err(key.to_owned())),
            Err(e) => Err(core_err(py, e)),
        }
    }
    /// Removes `key` whether or not this copy saw it (also a concurrent write).
    fn discard(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        with_lock(py, &self.inner, |s| s.delete(key).map(|v| v.is_some()))
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
        let mut entries = Vec::with_capacity(items.len());
        for (k, v) in items.iter() {
            let key = str_key(&k)?;
            let v = values::to_value(&v, "session", &key, self.max_depth)?;
            entries.push((key, v));
        }
        with_lock(py, &self.inner, |s| s.update(entries)).map_err(|e| core_err(py, e))
    }
    /// Adds `by` to the integer at `key` (missing counts as 0); returns the new value.
    #[pyo3(signature = (key, by=None))]
    fn increment(&self, py: Python<'_>, key: &str, by: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
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
    fn flash(&self, py: Python<'_>, category: &str, message: &str) -> PyResult<()> {
        with_lock(py, &self.inner, |s| s.flash(category, message)).map_err(|e| core_err(py, e))
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
        principal: Option<String>,
        keep_data: bool,
    ) -> PyResult<()> {
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

pub(crate) fn str_key(key: &Bound<'_, PyAny>) -> PyResult<String> {
    match key.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(raise(
            key.py(),
            "InvalidType",
            &format!("session keys must be str, not {}", key.get_type().name()?),
        )),
    }
}
