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
use tenure::{Budget, Exceeded, Value};

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
    /// A limit passed while walking (depth, or the JSON size): `LimitExceeded`.
    Over(Exceeded),
    /// A str that is not valid Unicode (a lone surrogate): `InvalidValue`.
    Surrogate,
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
            Reason::Over(Exceeded::Depth { max }) => (
                "LimitExceeded",
                format!("{path}: max_depth exceeded (nesting deeper than {max})"),
            ),
            Reason::Over(e) => ("LimitExceeded", format!("{path}: {e}")),
            Reason::Surrogate => (
                "InvalidValue",
                format!("{path}: a str with a lone surrogate (not valid Unicode) can't be stored"),
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

/// A str as Rust's UTF-8, or `InvalidValue` naming `what` when it holds a lone surrogate
/// (Python would raise its own `UnicodeEncodeError`).
pub fn utf8(py: Python<'_>, s: &Bound<'_, PyString>, what: &str) -> PyResult<String> {
    s.to_cow().map(|c| c.into_owned()).map_err(|_| {
        raise(
            py,
            "InvalidValue",
            &format!("{what}: a str with a lone surrogate (not valid Unicode) can't be stored"),
        )
    })
}

/// Converts `obj`, the value for `key` of `container` (`session`, `data`: they name it in
/// error messages as `session["cart"]`), refusing what tenure can't hold with an exception
/// naming the path and the Python type. The walk charges `budget` as it goes, so a value
/// too large (or a structure of shared references that expands to one) is refused at the
/// limit, without being read or copied in full.
pub fn to_value(
    obj: &Bound<'_, PyAny>,
    container: &str,
    key: &str,
    budget: &mut Budget,
) -> PyResult<Value> {
    let mut ancestors = Vec::new();
    convert(obj, budget, &mut ancestors)
        .map_err(|r| r.into_py_err(obj.py(), &format!("{container}[{key:?}]")))
}

fn over(e: Exceeded) -> Refused {
    Refused::new(Reason::Over(e))
}

/// `ancestors` holds the addresses (Python's `id()`) of the containers being converted
/// around `obj`: meeting one again means a cycle. Its length is the current depth.
fn convert(
    obj: &Bound<'_, PyAny>,
    budget: &mut Budget,
    ancestors: &mut Vec<usize>,
) -> Result<Value, Refused> {
    if let Ok(s) = obj.cast::<PyString>() {
        // Measured before it is copied: its UTF-8 form has at least one byte per code point.
        budget.string(s.len()?).map_err(over)?;
        return match s.to_cow() {
            Ok(c) => Ok(Value::Str(c.as_ref().into())),
            Err(_) => Err(Refused::new(Reason::Surrogate)),
        };
    }
    let scalar = if obj.is_none() {
        Some(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        // bool before int: True is an int in Python.
        Some(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        match obj.extract::<i64>() {
            Ok(i) => Some(Value::Int(i)),
            Err(_) => return Err(Refused::new(Reason::TooBig(safe_repr(obj)))),
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(Refused::new(Reason::NotFinite(v)));
        }
        Some(Value::Float(v))
    } else {
        None
    };
    if let Some(v) = scalar {
        budget.scalar(v.json_len()).map_err(over)?;
        return Ok(v);
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        budget.bytes(b.as_bytes().len()).map_err(over)?;
        return Ok(Value::Bytes(b.as_bytes().into()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        budget.bytes(b.len()).map_err(over)?;
        return Ok(Value::Bytes(b.to_vec().into_boxed_slice()));
    }
    // The length through the C API (a subclass's own __len__ is not called).
    let (kind, len) = if let Ok(l) = obj.cast::<PyList>() {
        ("list", l.len())
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        ("tuple", t.len())
    } else if let Ok(d) = obj.cast::<PyDict>() {
        ("dict", d.len())
    } else {
        return Err(Refused::new(Reason::Type(type_name(obj))));
    };
    let addr = obj.as_ptr() as usize;
    if ancestors.contains(&addr) {
        return Err(Refused::new(Reason::Cycle(kind)));
    }
    // Paid for before a single item is read: a list of 10 million items stops here.
    budget.container(ancestors.len(), len).map_err(over)?;
    ancestors.push(addr);
    let out = convert_container(obj, budget, ancestors);
    ancestors.pop();
    out
}

fn convert_container(
    obj: &Bound<'_, PyAny>,
    budget: &mut Budget,
    ancestors: &mut Vec<usize>,
) -> Result<Value, Refused> {
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut out = BTreeMap::new();
        for (k, v) in d.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(Refused::new(Reason::KeyType(safe_repr(&k), type_name(&k))));
            };
            budget.key(key.len()?).map_err(over)?;
            let Ok(key) = key.to_cow() else {
                return Err(Refused::new(Reason::Surrogate).at(format!("[{}]", safe_repr(&k))));
            };
            let key = key.into_owned();
            match convert(&v, budget, ancestors) {
                Ok(child) => {
                    out.insert(key, child);
                }
                Err(r) => return Err(r.at(format!("[{key:?}]"))),
            }
        }
        return Ok(Value::Map(out.into()));
    }
    // The length was paid for (in `convert`); the items are read through the C API.
    let items: Vec<Bound<'_, PyAny>> = match obj.cast::<PyList>() {
        Ok(l) => l.iter().collect(),
        Err(_) => obj.cast::<PyTuple>().map_err(PyErr::from)?.iter().collect(),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match convert(item, budget, ancestors) {
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
