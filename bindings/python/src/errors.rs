//! tenure errors as the exception classes of `tenure._errors` (all under `TenureError`,
//! each with a stable `.code`).

use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use tenure::{Error, ErrorCode};

/// An exception of class `name` from `tenure._errors` with `message`.
pub fn raise(py: Python<'_>, name: &str, message: &str) -> PyErr {
    let make = || -> PyResult<PyErr> {
        let cls = py.import("tenure._errors")?.getattr(name)?;
        Ok(PyErr::from_value(cls.call1((message,))?))
    };
    make().unwrap_or_else(|e| PyRuntimeError::new_err(format!("{message} (and {e})")))
}

/// The class name for a core error code.
fn class_of(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::SessionGone => "SessionGone",
        ErrorCode::InvalidValue => "InvalidValue",
        ErrorCode::LimitExceeded => "LimitExceeded",
        ErrorCode::TooManySessions => "TooManySessions",
        ErrorCode::StoreError => "StoreError",
        ErrorCode::InvalidPolicy => "InvalidPolicy",
        ErrorCode::DecodeError => "DecodeError",
        ErrorCode::EntropyError => "EntropyError",
    }
}

/// Converts a core error, chaining as `__cause__` the exception a host store raised (which
/// the store error carries). A cause that is not an `Exception` (`KeyboardInterrupt`,
/// `SystemExit`) is raised as itself: the core has already rolled back, and an interrupt
/// must stay an interrupt.
pub fn to_py_err(py: Python<'_>, e: &Error) -> PyErr {
    let cause = match e {
        Error::Store(se) => se.cause::<PyErr>().map(|c| c.clone_ref(py)),
        _ => None,
    };
    let cause = match cause {
        Some(c) if !c.is_instance_of::<PyException>(py) => return c,
        other => other,
    };
    let err = raise(py, class_of(e.code()), &e.to_string());
    if cause.is_some() {
        err.set_cause(py, cause);
    }
    err
}

pub(crate) fn core_err(py: Python<'_>, e: tenure::Error) -> PyErr {
    to_py_err(py, &e)
}
