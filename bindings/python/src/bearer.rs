//! Bearer tokens (header transport).

use crate::secrets::{secret_bytes, secret_list};
use pyo3::prelude::*;

#[pyfunction]
pub(crate) fn parse_bearer(header: &str) -> Option<String> {
    tenure::web::bearer::parse_bearer(header).map(str::to_owned)
}

#[pyfunction]
pub(crate) fn sign_token(id: &str, secret: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(tenure::web::bearer::sign_token(id, &secret_bytes(secret)?))
}

#[pyfunction]
pub(crate) fn unsign_token(
    token: &str,
    secrets: &Bound<'_, PyAny>,
) -> PyResult<Option<(String, usize)>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(tenure::web::bearer::unsign_token(token, &refs).map(|u| (u.id, u.secret_index)))
}
