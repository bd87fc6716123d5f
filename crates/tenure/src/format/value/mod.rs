//! Session values: the eight types every language can hold exactly, and their JSON form.
//!
//! Bytes travel as a tagged map `{"$b":"<base64>"}`; a user's own map key that starts with
//! `$` is escaped by doubling the `$`, so a map that merely looks like a tag round-trips too.

use crate::error::{DecodeError, Error};
pub mod data;

use crate::format::limits::Limits;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use compact_str::CompactString;
use core::fmt;
use data::DataMap;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The key of the bytes tag in the JSON form.
pub const BYTES_TAG: &str = "$b";

/// A session value: null, bool, i64, finite f64, string, bytes, list or string-keyed map.
///
/// ```
/// use tenure::Value;
/// let v: Value = vec![Value::from(1), Value::from("two"), Value::from(3.5)].into();
/// assert_eq!(v.to_json(), br#"[1,"two",3.5]"#);
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// JSON `null`, Python `None`, JS `null`.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A finite 64-bit float (NaN and infinities are refused).
    Float(f64),
    /// A UTF-8 string (up to 24 bytes held inline, without an allocation).
    Str(CompactString),
    /// Raw bytes.
    Bytes(Box<[u8]>),
    /// An ordered list.
    List(Box<[Value]>),
    /// A map with string keys, kept in byte order of the keys so encodings are deterministic.
    Map(DataMap),
}

impl Value {
    /// The type's name as errors report it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// Nesting depth: 0 for a scalar, 1 + the deepest child for a list or map.
    pub fn depth(&self) -> usize {
        if !matches!(self, Value::List(_) | Value::Map(_)) {
            return 0;
        }
        // Iterative so that a hostile, very deep value cannot overflow the stack here.
        let mut max = 0;
        let mut stack: Vec<(&Value, usize)> = vec![(self, 0)];
        while let Some((v, d)) = stack.pop() {
            match v {
                Value::List(items) => {
                    max = max.max(d + 1);
                    stack.extend(items.iter().map(|c| (c, d + 1)));
                }
                Value::Map(m) => {
                    max = max.max(d + 1);
                    stack.extend(m.values().map(|c| (c, d + 1)));
                }
                _ => {}
            }
        }
        max
    }

    /// Checks that a value may be stored under `key`: finite floats only, nesting within
    /// `limits.max_depth`. Errors name the key and, for floats, the path inside it.
    pub fn validate(&self, key: &str, limits: &Limits) -> Result<(), Error> {
        let depth = self.depth();
        if depth > limits.max_depth {
            return Err(Error::LimitExceeded {
                key: Some(key.to_string()),
                limit: "max_depth",
                max: limits.max_depth,
                actual: depth,
            });
        }
        match self {
            Value::Float(f) if f.is_finite() => return Ok(()),
            Value::List(_) | Value::Map(_) | Value::Float(_) => {}
            _ => return Ok(()),
        }
        let mut stack: Vec<&Value> = vec![self];
        while let Some(v) = stack.pop() {
            match v {
                Value::Float(f) if !f.is_finite() => {
                    let what = if f.is_nan() { "NaN" } else { "an infinity" };
                    return Err(Error::invalid(
                        key,
                        format!("float {what} is not a finite number"),
                    ));
                }
                Value::List(items) => stack.extend(items.iter()),
                Value::Map(m) => stack.extend(m.values()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The length in bytes of this value's JSON form, computed without building it
    /// (floats aside).
    pub fn json_len(&self) -> usize {
        match self {
            Value::Null => 4,
            Value::Bool(true) => 4,
            Value::Bool(false) => 5,
            Value::Int(i) => int_len(*i),
            Value::Float(f) => serde_json::to_vec(f).map(|v| v.len()).unwrap_or(4),
            Value::Str(s) => str_json_len(s),
            Value::Bytes(b) => 9 + b.len().div_ceil(3) * 4,
            Value::List(items) => {
                2 + items.iter().map(Value::json_len).sum::<usize>() + items.len().saturating_sub(1)
            }
            Value::Map(m) => {
                2 + m
                    .iter()
                    .map(|(k, v)| key_json_len(k) + 1 + v.json_len())
                    .sum::<usize>()
                    + m.len().saturating_sub(1)
            }
        }
    }

    /// The JSON form (tagged bytes, escaped `$` keys). Deterministic: maps in key order.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a JSON form produced by [`Value::to_json`] (or by a person), within `limits`.
    pub fn from_json(bytes: &[u8], limits: &Limits) -> Result<Value, DecodeError> {
        if bytes.len() > limits.max_record_bytes() {
            return Err(DecodeError::TooLarge {
                max: limits.max_record_bytes(),
                actual: bytes.len(),
            });
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let v = ValueSeed::new(limits.max_depth)
            .deserialize(&mut de)
            .map_err(crate::error::decode_error)?;
        de.end().map_err(crate::error::decode_error)?;
        Ok(v)
    }

    /// The integer inside, if this is an `Int`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The string inside, if this is a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

fn int_len(i: i64) -> usize {
    let mut n = i.unsigned_abs();
    let mut len = usize::from(i < 0) + 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// JSON length of a string as serde_json writes it (only `"`, `\` and controls escaped).
pub(crate) fn str_json_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\x08' | b'\x0c' | b'\n' | b'\r' | b'\t' => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// JSON length of a map key, counting the escape of a leading `$`.
pub(crate) fn key_json_len(k: &str) -> usize {
    str_json_len(k) + usize::from(k.starts_with('$'))
}

/// A user map key as written: a leading `$` is doubled so it can't be taken for a tag.
struct EscapedKey<'a>(&'a str);

impl Serialize for EscapedKey<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.starts_with('$') {
            let mut k = String::with_capacity(self.0.len() + 1);
            k.push('$');
            k.push_str(self.0);
            s.serialize_str(&k)
        } else {
            s.serialize_str(self.0)
        }
    }
}

/// Serializes a string-keyed map of values with escaped keys (used for `data` too).
pub(crate) fn serialize_map<'a, S: Serializer>(
    m: impl ExactSizeIterator<Item = (&'a str, &'a Value)>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(m.len()))?;
    for (k, v) in m {
        map.serialize_entry(&EscapedKey(k), v)?;
    }
    map.end()
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(v) => s.serialize_str(v),
            Value::Bytes(b) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(BYTES_TAG, &STANDARD.encode(b))?;
                map.end()
            }
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(m) => serialize_map(m.iter(), s),
        }
    }
}

/// Deserializes a [`Value`] while counting depth, so hostile input fails early and cleanly.
#[derive(Clone, Copy, Debug)]
pub struct ValueSeed {
    remaining: usize,
}

impl ValueSeed {
    /// A seed that accepts at most `max_depth` levels of nesting.
    pub fn new(max_depth: usize) -> Self {
        ValueSeed {
            remaining: max_depth,
        }
    }

    fn child<E: de::Error>(self) -> Result<Self, E> {
        match self.remaining.checked_sub(1) {
            Some(remaining) => Ok(ValueSeed { remaining }),
            None => Err(E::custom("nesting deeper than max_depth")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tenure value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        i64::try_from(v)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("integer {v} is beyond i64")))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        if v.is_finite() {
            Ok(Value::Float(v))
        } else {
            Err(E::custom("float is not finite"))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let child = self.child()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(child)? {
            items.push(item);
        }
        Ok(Value::List(items.into_boxed_slice()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let child = self.child()?;
        let mut raw: Vec<(String, Value)> = Vec::new();
        while let Some(k) = access.next_key::<String>()? {
            let v = access.next_value_seed(child)?;
            raw.push((k, v));
        }
        untag_map(raw).map_err(de::Error::custom)
    }
}

/// Turns a map as read from JSON into a value: the bytes tag, or a map with keys unescaped.
fn untag_map(raw: Vec<(String, Value)>) -> Result<Value, String> {
    if raw.len() == 1 && raw[0].0 == BYTES_TAG {
        return match &raw[0].1 {
            Value::Str(b64) => STANDARD
                .decode(b64.as_bytes())
                .map(|b| Value::Bytes(b.into_boxed_slice()))
                .map_err(|e| format!("bad base64 in bytes tag: {e}")),
            other => Err(format!(
                "bytes tag holds a {}, not a string",
                other.type_name()
            )),
        };
    }
    Ok(Value::Map(unescape_keys(raw)?))
}

/// Unescapes `$$…` keys and refuses unknown `$` tags and duplicate keys.
pub(crate) fn unescape_keys(raw: Vec<(String, Value)>) -> Result<DataMap, String> {
    let mut entries = Vec::with_capacity(raw.len());
    for (k, v) in raw {
        let key = match k.strip_prefix('$') {
            Some(rest) if rest.starts_with('$') => CompactString::from(rest),
            Some(_) => {
                return Err(format!(
                    "unknown tag {k:?} (user keys starting with $ are written $$)"
                ))
            }
            None => CompactString::from(k),
        };
        entries.push((key, v));
    }
    DataMap::sorted(entries, true).map_err(|(_, key)| format!("duplicate key {key:?}"))
}

/// Reads a data map (values depth-limited, keys unescaped).
#[derive(Clone, Copy)]
pub(crate) struct DataSeed {
    pub(crate) max_depth: usize,
}

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = crate::format::value::data::DataMap;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed {
    type Value = crate::format::value::data::DataMap;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of session data")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let seed = ValueSeed::new(self.max_depth);
        let mut raw = Vec::new();
        while let Some(k) = access.next_key::<String>()? {
            raw.push((k, access.next_value_seed(seed)?));
        }
        unescape_keys(raw).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Deserializes with the default depth limit.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        ValueSeed::new(Limits::default().max_depth).deserialize(d)
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::Int(i64::from(v)) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(f64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Str(v.into())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Str(v.into())
    }
}
impl From<CompactString> for Value {
    fn from(v: CompactString) -> Value {
        Value::Str(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v.into_boxed_slice())
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Bytes(v.into())
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Value {
        Value::List(v.into_boxed_slice())
    }
}
impl From<BTreeMap<String, Value>> for Value {
    fn from(v: BTreeMap<String, Value>) -> Value {
        Value::Map(v.into())
    }
}
impl From<DataMap> for Value {
    fn from(v: DataMap) -> Value {
        Value::Map(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn bytes_and_dollar_keys_round_trip() {
        let mut m = BTreeMap::new();
        m.insert("$b".to_string(), Value::from("not bytes"));
        m.insert("$$x".to_string(), Value::from(vec![0u8, 255, 7]));
        m.insert("plain".to_string(), Value::Null);
        let v = Value::from(m);
        let json = v.to_json();
        assert_eq!(
            core::str::from_utf8(&json).unwrap(),
            r#"{"$$$x":{"$b":"AP8H"},"$$b":"not bytes","plain":null}"#
        );
        assert_eq!(Value::from_json(&json, &limits()).unwrap(), v);
    }

    #[test]
    fn a_value_is_three_words() {
        // Short strings inline, containers boxed: 24 bytes, so small sessions stay small.
        assert_eq!(core::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn hostile_json_gives_typed_errors() {
        let l = limits();
        assert!(Value::from_json(br#"{"$x":1}"#, &l).is_err());
        assert!(Value::from_json(br#"{"$b":1}"#, &l).is_err());
        assert!(Value::from_json(br#"{"$b":"!!"}"#, &l).is_err());
        assert!(Value::from_json(br#"{"a":1,"a":2}"#, &l).is_err());
        assert!(Value::from_json(b"18446744073709551615", &l).is_err());
        assert!(Value::from_json(b"[1,", &l).is_err());
        let deep = "[".repeat(l.max_depth + 1) + &"]".repeat(l.max_depth + 1);
        assert!(Value::from_json(deep.as_bytes(), &l).is_err());
        let ok = "[".repeat(l.max_depth) + &"]".repeat(l.max_depth);
        assert_eq!(
            Value::from_json(ok.as_bytes(), &l).unwrap().depth(),
            l.max_depth
        );
        let huge = "[".repeat(100_000);
        assert!(Value::from_json(huge.as_bytes(), &l).is_err());
    }

    #[test]
    fn validate_names_key_and_reason() {
        let l = limits();
        let e = Value::from(vec![Value::Float(f64::NAN)])
            .validate("score", &l)
            .unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::InvalidValue);
        assert!(alloc::format!("{e}").contains("score") && alloc::format!("{e}").contains("NaN"));
        let mut v = Value::Null;
        for _ in 0..=l.max_depth {
            v = Value::from(vec![v]);
        }
        assert!(matches!(
            v.validate("deep", &l),
            Err(Error::LimitExceeded {
                limit: "max_depth",
                ..
            })
        ));
    }

    pub(crate) fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::Float),
            ".{0,30}".prop_map(Value::from),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map("[$a-z\u{e9}\u{1F600}\"\\\\]{0,6}", inner, 0..6)
                    .prop_map(Value::from),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn json_round_trips_and_len_is_exact(v in arb_value()) {
            let json = v.to_json();
            prop_assert_eq!(json.len(), v.json_len());
            prop_assert_eq!(Value::from_json(&json, &limits()).unwrap(), v);
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Value::from_json(&bytes, &limits());
        }
    }
}
