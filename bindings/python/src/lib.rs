//! `tenure._native`: the PyO3 module under the `tenure` Python package. It translates
//! values and errors only; every rule lives in the core crate.
//!
//! Locking: a manager and each session sit behind a `Mutex`. A lock is first tried with the
//! GIL held (the common, uncontended case); when that fails the GIL is released before
//! blocking, so a thread waiting for a lock never holds the GIL that the lock's holder may
//! need for a Python store.

#![warn(missing_docs)]

mod bearer;
mod clock;
mod cookie;
mod errors;
mod file_store;
mod host;
mod locks;
mod manager;
mod pending;
mod record;
mod secrets;
mod session;
mod values;
mod web;

use pyo3::prelude::*;

/// The native half of the `tenure` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The policy's defaults live in the core; the Python signatures show them from here.
    m.add("DEFAULT_IDLE_MS", tenure::DEFAULT_IDLE_TIMEOUT)?;
    m.add("DEFAULT_ABSOLUTE_MS", tenure::DEFAULT_ABSOLUTE_TIMEOUT)?;
    m.add("DEFAULT_TOUCH_MS", tenure::DEFAULT_TOUCH_INTERVAL)?;
    m.add("DEFAULT_ID_BYTES", tenure::DEFAULT_ID_BYTES)?;
    m.add_class::<manager::Manager>()?;
    m.add_class::<session::Session>()?;
    m.add_class::<clock::ManualClock>()?;
    m.add_class::<pending::PendingOp>()?;
    m.add_class::<file_store::FileStore>()?;
    web::register(m)?;
    m.add_function(wrap_pyfunction!(pending::record_version, m)?)?;
    m.add_function(wrap_pyfunction!(cookie::sign_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(cookie::unsign_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(cookie::unsign_cookie_index, m)?)?;
    m.add_function(wrap_pyfunction!(secrets::check_secrets, m)?)?;
    m.add_function(wrap_pyfunction!(cookie::parse_cookie_header, m)?)?;
    m.add_function(wrap_pyfunction!(cookie::find_session_id, m)?)?;
    m.add_function(wrap_pyfunction!(cookie::encode_uri_component, m)?)?;
    m.add_function(wrap_pyfunction!(record::is_plausible_id, m)?)?;
    m.add_function(wrap_pyfunction!(bearer::parse_bearer, m)?)?;
    m.add_function(wrap_pyfunction!(bearer::sign_token, m)?)?;
    m.add_function(wrap_pyfunction!(bearer::unsign_token, m)?)?;
    m.add_function(wrap_pyfunction!(cookie::build_set_cookie, m)?)?;
    m.add_function(wrap_pyfunction!(record::decode_record, m)?)?;
    m.add("MIN_SECRET_BYTES", tenure::web::cookie::MIN_SECRET_BYTES)?;
    Ok(())
}
