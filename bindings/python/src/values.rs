//! Python values ⇄ tenure values, exactly: str, int (i64), float (finite), bool, None,
//! bytes, list, dict with str keys. Tuples become lists; bytearray becomes bytes; subclasses
//! of these types are stored as their base type.
//!
//! The conversion allocates nothing for error reporting while it succeeds: the path of a
//! refused value (`session["cart"][2]["qty"]`) is assembled only on the way out of a failure.

use crate::errors::raise;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use std::collections::BTreeMap;
use tenure::Value;

/// Why a value was refused.
enum Reason {
    /// An int outside i64 (its repr): `LimitExceeded`, a `ValueError`.
    TooBig(String),
    /// NaN or an infinity: `InvalidValue`, a `ValueError`.
    NotFinite(f64),
    /// A type tenure can't hold (its name): `InvalidType`, a `TypeError`.
    Type(String),
    /// A dict key that is not a str (repr, type name): `InvalidType`.
    KeyType(String, String),
    /// Nesting beyond `max_depth`: `LimitExceeded`.
    TooDeep(usize),
    /// A container that contains itself: `InvalidValue`.
    Cycle(&'static str),
    /// Python itself failed (e.g. a str with lone surrogates): passed through.
    Py(PyErr),
}

/// A refusal and the path to the refused value, innermost segment first.
struct Refused {
    reason: Reason,
    path: Vec<String>,
}

impl From<PyErr> for Refused {
    fn from(e: PyErr) -> Self {
        Refused {
            reason: Reason::Py(e),
            path: Vec::new(),
        }
    }
}

impl Refused {
    fn new(reason: Reason) -> Self {
        Refused {
            reason,
            path: Vec::new(),
        }
    }

    fn at(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }

    fn into_py_err(self, py: Python<'_>, root: &str) -> PyErr {
        let mut path = String::from(root);
        for seg in self.path.iter().rev() {
            path.push_str(seg);
        }
        let (class, message) = match self.reason {
            Reason::Py(e) => return e,
            Reason::TooBig(repr) => (
                "LimitExceeded",
                format!("{path}: int {repr} does not fit in 64 bits (i64)"),
            ),
            Reason::NotFinite(v) => {
                // As Python writes them.
                let repr = if v.is_nan() {
                    "nan"
                } else if v > 0.0 {
                    "inf"
                } else {
                    "-inf"
                };
                (
                    "InvalidValue",
                    format!("{path}: float {repr} is not finite (NaN and infinities can't be stored)"),
                )
            }
            Reason::Type(t) => (
                "InvalidType",
                format!(
                    "{path}: {t} values can't be stored (use str, int, float, bool, None, bytes, list or dict)"
                ),
            ),
            Reason::KeyType(repr, t) => (
                "InvalidType",
                format!("{path}: dict key {repr} is a {t}, not a str"),
            ),
            Reason::TooDeep(max) => (
                "LimitExceeded",
                format!("{path}: max_depth exceeded (nesting deeper than {max})"),
            ),
            Reason::Cycle(t) => (
                "InvalidValue",
                format!("{path}: cyclic structure (this {t} contains itself)"),
            ),
        };
        raise(py, class, &message)
    }
}

/// `repr(obj)` for an error message, without running a subclass's own `__repr__` for ints
/// (`int.__repr__` is called) and never failing: an object whose `__repr__` raises is shown
/// as `<type object>`, so the error is ours, not the object's. Found by the Hypothesis tests.
fn safe_repr(obj: &Bound<'_, PyAny>) -> String {
    let py = obj.py();
    let r = if obj.is_instance_of::<PyInt>() {
        py.get_type::<PyInt>()
            .getattr("__repr__")
            .and_then(|f| f.call1((obj,)))
            .and_then(|r| r.extract::<String>())
    } else {
        obj.repr().and_then(|r| r.extract::<String>())
    };
    r.unwrap_or_else(|_| format!("<{} object>", type_name(obj)))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Converts `obj`, the value for `key` of `container` (`session`, `data`: they name it in
/// error messages as `session["cart"]`), refusing what tenure can't hold with an exception
/// naming the path and the Python type.
pub fn to_value(
    obj: &Bound<'_, PyAny>,
    container: &str,
    key: &str,
    max_depth: usize,
) -> PyResult<Value> {
    let mut ancestors = Vec::new();
    convert(obj, max_depth, &mut ancestors)
        .map_err(|r| r.into_py_err(obj.py(), &format!("{container}[{key:?}]")))
}

/// `ancestors` holds the addresses (Python's `id()`) of the containers being converted
/// around `obj`: meeting one again means a cycle. Its length is the current depth.
fn convert(
    obj: &Bound<'_, PyAny>,
    max_depth: usize,
    ancestors: &mut Vec<usize>,
) -> Result<Value, Refused> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: True is an int in Python.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return match obj.extract::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => Err(Refused::new(Reason::TooBig(safe_repr(obj)))),
        };
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(Refused::new(Reason::NotFinite(v)));
        }
        return Ok(Value::Float(v));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::Str(s.to_cow()?.as_ref().into()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().into()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Value::Bytes(b.to_vec().into_boxed_slice()));
    }
    let kind = if obj.is_instance_of::<PyList>() {
        "list"
    } else if obj.is_instance_of::<PyTuple>() {
        "tuple"
    } else if obj.is_instance_of::<PyDict>() {
        "dict"
    } else {
        return Err(Refused::new(Reason::Type(type_name(obj))));
    };
    let addr = obj.as_ptr() as usize;
    if ancestors.contains(&addr) {
        return Err(Refused::new(Reason::Cycle(kind)));
    }
    if ancestors.len() >= max_depth {
        return Err(Refused::new(Reason::TooDeep(max_depth)));
    }
    ancestors.push(addr);
    let out = convert_container(obj, max_depth, ancestors);
    ancestors.pop();
    out
}

fn convert_container(
    obj: &Bound<'_, PyAny>,
    max_depth: usize,
    ancestors: &mut Vec<usize>,
) -> Result<Value, Refused> {
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut out = BTreeMap::new();
        for (k, v) in d.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(Refused::new(Reason::KeyType(safe_repr(&k), type_name(&k))));
            };
            let key = key.to_cow()?.into_owned();
            match convert(&v, max_depth, ancestors) {
                Ok(child) => {
                    out.insert(key, child);
                }
                Err(r) => return Err(r.at(format!("[{key:?}]"))),
            }
        }
        return Ok(Value::Map(out.into()));
    }
    let items: Vec<Bound<'_, PyAny>> = match obj.cast::<PyList>() {
        Ok(l) => l.iter().collect(),
        Err(_) => obj.cast::<PyTuple>().map_err(PyErr::from)?.iter().collect(),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match convert(item, max_depth, ancestors) {
            Ok(v) => out.push(v),
            Err(r) => return Err(r.at(format!("[{i}]"))),
        }
    }
    Ok(Value::List(out.into_boxed_slice()))
}

/// Converts a tenure value to a fresh Python object.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Map(m) => {
            let d = PyDict::new(py);
            for (k, item) in m.iter() {
                d.set_item(k, to_py(py, item)?)?;
            }
            d.into_any()
        }
    })
}
