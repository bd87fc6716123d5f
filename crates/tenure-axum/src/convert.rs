//! Typed values through serde: anything `Serialize` goes in as a [`tenure::Value`] (via
//! `serde_json::Value`), and comes out as any `Deserialize` type.

use tenure::{DataMap, Value};

/// A JSON value as a session value. Integers must fit an `i64` (the core's integer);
/// larger ones are refused rather than silently turned into floats.
pub(crate) fn to_value(json: serde_json::Value) -> Result<Value, String> {
    Ok(match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if n.is_u64() {
                return Err(format!(
                    "the integer {n} does not fit a 64-bit signed integer"
                ));
            } else {
                // serde_json numbers are finite.
                Value::Float(n.as_f64().unwrap_or_default())
            }
        }
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => Value::from(
            items
                .into_iter()
                .map(to_value)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        serde_json::Value::Object(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| Ok((k, to_value(v)?)))
                .collect::<Result<DataMap, String>>()?,
        ),
    })
}

/// A session value as JSON. Bytes become an array of numbers, which is what serde's
/// `Vec<u8>` reads back.
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Str(s) => serde_json::Value::String(s.to_string()),
        Value::Bytes(b) => serde_json::Value::from(b.to_vec()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_session_values() {
        let j = json!({"a": [1, -2, 2.5, "x", null, true], "b": {"$b": "looks like a tag"}});
        let v = to_value(j.clone()).unwrap();
        assert_eq!(to_json(&v), j);
        assert!(matches!(v, Value::Map(_)));
    }

    #[test]
    fn integers_beyond_i64_are_refused() {
        let e = to_value(json!(u64::MAX)).unwrap_err();
        assert!(e.contains("18446744073709551615"), "{e}");
        assert_eq!(to_value(json!(i64::MIN)).unwrap(), Value::Int(i64::MIN));
    }

    #[test]
    fn bytes_come_out_as_a_byte_vector() {
        let j = to_json(&Value::from(vec![1u8, 255]));
        let back: Vec<u8> = serde_json::from_value(j).unwrap();
        assert_eq!(back, vec![1, 255]);
    }
}
