//! Secrets from Python (str or bytes, one or many).

use crate::errors::{core_err, raise};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use tenure::web::cookie;

pub(crate) fn secret_bytes(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
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

pub(crate) fn secret_list(secrets: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    if secrets.is_instance_of::<PyString>() || secrets.is_instance_of::<PyBytes>() {
        return Ok(vec![secret_bytes(secrets)?]);
    }
    secrets.try_iter()?.map(|s| secret_bytes(&s?)).collect()
}

/// Raises `InvalidPolicy` unless every secret is at least 32 bytes (and there is one).
#[pyfunction]
pub(crate) fn check_secrets(py: Python<'_>, secrets: &Bound<'_, PyAny>) -> PyResult<()> {
    cookie::Secrets::new(secret_list(secrets)?)
        .map(|_| ())
        .map_err(|e| core_err(py, e))
}
