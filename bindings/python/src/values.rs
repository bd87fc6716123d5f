//! Python values ⇄ tenure values, exactly: str, int (i64), float (finite), bool, None,
//! bytes, list, dict with str keys. Tuples become lists; bytearray becomes bytes.

use crate::errors::raise;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use std::collections::BTreeMap;
use tenure::Value;

/// Converts `obj`, found at `path` (for error messages), refusing what tenure can't hold.
pub fn to_value(obj: &Bound<'_, PyAny>, path: &str, max_depth: usize) -> PyResult<Value> {
    convert(obj, path, max_depth, 0)
}

fn convert(obj: &Bound<'_, PyAny>, path: &str, max_depth: usize, depth: usize) -> PyResult<Value> {
    let py = obj.py();
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
            Err(_) => Err(raise(
                py,
                "LimitExceeded",
                &format!("{path}: int {} does not fit in 64 bits (i64)", obj.repr()?),
            )),
        };
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(raise(
                py,
                "InvalidValue",
                &format!("{path}: float {v} is not finite"),
            ));
        }
        return Ok(Value::Float(v));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::Str(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Value::Bytes(b.to_vec()));
    }
    let container = obj.is_instance_of::<PyList>()
        || obj.is_instance_of::<PyTuple>()
        || obj.is_instance_of::<PyDict>();
    if container && depth >= max_depth {
        return Err(raise(
            py,
            "LimitExceeded",
            &format!(
                "{path}: nesting deeper than max_depth ({max_depth}); is the structure cyclic?"
            ),
        ));
    }
    let items: Option<Vec<Bound<'_, PyAny>>> = if let Ok(l) = obj.cast::<PyList>() {
        Some(l.iter().collect())
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        Some(t.iter().collect())
    } else {
        None
    };
    if let Some(items) = items {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(convert(
                item,
                &format!("{path}[{i}]"),
                max_depth,
                depth + 1,
            )?);
        }
        return Ok(Value::List(out));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut out = BTreeMap::new();
        for (k, v) in d.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(raise(
                    py,
                    "InvalidType",
                    &format!(
                        "{path}: dict key {} is a {}, not a str",
                        k.repr()?,
                        k.get_type().name()?
                    ),
                ));
            };
            let key = key.to_cow()?.into_owned();
            let child = convert(&v, &format!("{path}[{key:?}]"), max_depth, depth + 1)?;
            out.insert(key, child);
        }
        return Ok(Value::Map(out));
    }
    Err(raise(
        py,
        "InvalidType",
        &format!(
            "{path}: {} values can't be stored (use str, int, float, bool, None, bytes, list or dict)",
            obj.get_type().name()?
        ),
    ))
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
            for (k, item) in m {
                d.set_item(k, to_py(py, item)?)?;
            }
            d.into_any()
        }
    })
}
