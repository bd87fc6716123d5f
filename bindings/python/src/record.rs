//! Records and ids as tools and host stores read them.

use crate::errors::core_err;
use crate::manager::info;
use crate::values;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tenure::{Limits, Record, SessionInfo};

/// Whether `id` could be a session id tenure minted (length, alphabet).
#[pyfunction]
pub(crate) fn is_plausible_id(id: &str) -> bool {
    tenure::__private::is_plausible(id)
}

/// Decodes a v1 record (for tools and interop tests) into a dict; `DecodeError` on garbage.
#[pyfunction]
pub(crate) fn decode_record<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let r = Record::decode(data, &Limits::default()).map_err(|e| core_err(py, e.into()))?;
    let d = info(py, &SessionInfo::from(&r))?;
    let data = PyDict::new(py);
    for (k, v) in r.data.iter() {
        data.set_item(k, values::to_py(py, v)?)?;
    }
    d.set_item("data", data)?;
    d.set_item("idle", r.idle())?;
    d.set_item("absolute", r.absolute())?;
    Ok(d)
}
