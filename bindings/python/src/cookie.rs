//! Signed cookies and the `Cookie`/`Set-Cookie` headers.

use crate::errors::core_err;
use crate::secrets::{secret_bytes, secret_list};
use crate::web;
use pyo3::prelude::*;
use tenure::web::cookie;

/// `s:<id>.<signature>`, express-session compatible.
#[pyfunction]
pub(crate) fn sign_cookie(id: &str, secret: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(cookie::sign(id, &secret_bytes(secret)?))
}

/// The id of a signed value, or `None`.
#[pyfunction]
pub(crate) fn unsign_cookie(value: &str, secrets: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(cookie::unsign_id(value, &refs))
}

/// `(id, secret_index)` of a signed value, or `None`.
#[pyfunction]
pub(crate) fn unsign_cookie_index(
    value: &str,
    secrets: &Bound<'_, PyAny>,
) -> PyResult<Option<(String, usize)>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(cookie::unsign(value, &refs).map(|u| (u.id, u.secret_index)))
}

#[pyfunction]
pub(crate) fn parse_cookie_header(header: &str) -> Vec<(String, String)> {
    cookie::parse_cookie_header(header)
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// `(id, secret_index)` of the first cookie named `name` that verifies, or `None`.
#[pyfunction]
pub(crate) fn find_session_id(
    header: &str,
    name: &str,
    secrets: &Bound<'_, PyAny>,
) -> PyResult<Option<(String, usize)>> {
    let list = secret_list(secrets)?;
    let refs: Vec<&[u8]> = list.iter().map(Vec::as_slice).collect();
    Ok(cookie::find_session_id(header, name, &refs).map(|u| (u.id, u.secret_index)))
}

#[pyfunction]
pub(crate) fn encode_uri_component(s: &str) -> String {
    cookie::encode_uri_component(s)
}

/// A `Set-Cookie` value. `value` must already be cookie-safe (see `encode_uri_component`);
/// `clear=True` builds the logout cookie instead.
#[pyfunction]
#[pyo3(signature = (value, *, name="sid", path=Some("/"), domain=None, http_only=true, secure=true,
                    same_site=Some("lax"), partitioned=false, priority=None, max_age_ms=None, now_ms=0, clear=false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_set_cookie(
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
