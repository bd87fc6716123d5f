//! `_native.FileStore`: the core's [`tenure::FileStore`] (one file per session in a
//! folder, the layout Rust, Node and Python share) as a Python store object. Every call
//! releases the GIL while it does file I/O, so `asyncio.to_thread` and other threads run.

use crate::errors::to_py_err;
use crate::locks::guard;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::Mutex;
use tenure::{ByteStore, StoreError};

/// The byte-level store protocol over a folder: `get`, `insert`, `replace`, `delete`,
/// `ids`, and the index's `count`, `due`, `ids_of`, `unindex`. Calls on one object are serialized (within the process).
#[pyclass(frozen, module = "tenure._native")]
pub struct FileStore {
    inner: Mutex<tenure::FileStore>,
    dir: PathBuf,
}

impl FileStore {
    fn run<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut tenure::FileStore) -> Result<R, StoreError> + Send,
    ) -> PyResult<R> {
        py.detach(|| f(&mut guard(&self.inner)))
            .map_err(|e| to_py_err(py, &e.into()))
    }
}

#[pymethods]
impl FileStore {
    /// A store in the folder `path` (str or path-like), created if missing.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let dir = path.clone();
        let inner = py
            .detach(|| tenure::FileStore::new(&dir))
            .map_err(|e| to_py_err(py, &e.into()))?;
        Ok(FileStore {
            inner: Mutex::new(inner),
            dir: path,
        })
    }

    /// The folder.
    #[getter]
    fn path<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("pathlib")?.getattr("Path")?.call1((&self.dir,))
    }

    /// The encoded record stored under `id`, or None.
    fn get<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let got = self.run(py, |s| s.get(id))?;
        Ok(got.map(|b| PyBytes::new(py, &b)))
    }

    /// Stores `data` under `id` unless `id` is taken; whether it was written.
    fn insert(&self, py: Python<'_>, id: &str, data: &[u8]) -> PyResult<bool> {
        self.run(py, |s| s.insert(id, data))
    }

    /// Replaces the record under `id` only if its version is `expected`; never creates.
    fn replace(&self, py: Python<'_>, id: &str, data: &[u8], expected: u64) -> PyResult<bool> {
        self.run(py, |s| s.replace(id, data, expected))
    }

    /// Removes `id` (with `expected`: only if the stored version is `expected`).
    #[pyo3(signature = (id, expected=None))]
    fn delete(&self, py: Python<'_>, id: &str, expected: Option<u64>) -> PyResult<bool> {
        self.run(py, |s| s.delete(id, expected))
    }

    /// Every stored id, sorted.
    fn ids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.run(py, |s| s.ids())
    }

    /// How many records the folder holds, from its index (O(1): two file sizes).
    fn count(&self, py: Python<'_>) -> PyResult<Option<usize>> {
        self.run(py, |s| s.count())
    }

    /// Up to `limit` index entries `(deadline, id)` due by `through` (None: any), earliest
    /// first; they may name sessions gone or moved (the core checks each record).
    fn due(
        &self,
        py: Python<'_>,
        through: Option<u64>,
        limit: usize,
    ) -> PyResult<Option<Vec<(u64, String)>>> {
        self.run(py, |s| s.due(through, limit))
    }

    /// The ids the principal index files under `principal`.
    fn ids_of(&self, py: Python<'_>, principal: &str) -> PyResult<Option<Vec<String>>> {
        self.run(py, |s| s.ids_of(principal))
    }

    /// Removes a stale due entry; whether there was one.
    fn unindex(&self, py: Python<'_>, id: &str, deadline: u64) -> PyResult<bool> {
        self.run(py, |s| s.unindex(id, deadline))
    }

    fn __repr__(&self) -> String {
        format!("tenure.FileStore({:?})", self.dir.display().to_string())
    }
}
