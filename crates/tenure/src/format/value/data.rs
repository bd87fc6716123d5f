//! `DataMap`: a session's top-level data, a map kept as one sorted vector.
//!
//! Sessions hold a handful of keys. A `BTreeMap` allocates a 632-byte node for even one
//! entry; an exactly-sized sorted slice with inline short keys holds three small entries in
//! 144 bytes, clones with one allocation and iterates in key order, which the deterministic
//! encoding needs anyway. Nested maps ([`Value::Map`]) use the same type.

use crate::format::value::Value;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use compact_str::CompactString;
use core::ops::Index;

/// String keys to [`Value`]s, kept in byte order of the keys.
///
/// The entries are one exactly-sized allocation and keys of up to 24 bytes are held inline,
/// so a session with a few small keys costs a few dozen bytes and clones with one allocation.
///
/// ```
/// use tenure::{DataMap, Value};
/// let mut d = DataMap::new();
/// d.insert("b", Value::Int(2));
/// d.insert("a", Value::Int(1));
/// assert_eq!(d.keys().collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(d["b"], Value::Int(2));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataMap {
    entries: Box<[(CompactString, Value)]>,
}

impl DataMap {
    /// An empty map (no allocation).
    pub fn new() -> Self {
        DataMap {
            entries: Box::default(),
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value at `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`, returning the previous value. Replacing a value allocates nothing.
    pub fn insert(
        &mut self,
        key: impl AsRef<str> + Into<CompactString>,
        value: Value,
    ) -> Option<Value> {
        match self.find(key.as_ref()) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                let mut v = core::mem::take(&mut self.entries).into_vec();
                v.reserve_exact(1);
                v.insert(i, (key.into(), value));
                self.entries = v.into_boxed_slice();
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        let mut v = core::mem::take(&mut self.entries).into_vec();
        let (_, value) = v.remove(i);
        self.entries = v.into_boxed_slice();
        Some(value)
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.entries = Box::default();
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &Value)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl Index<&str> for DataMap {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no key {key:?} in session data"),
        }
    }
}

impl<K: Into<CompactString>> FromIterator<(K, Value)> for DataMap {
    /// Later entries win over earlier ones with the same key.
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let entries = iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        match DataMap::sorted(entries, false) {
            Ok(map) | Err((map, _)) => map,
        }
    }
}

impl DataMap {
    /// The map of these entries, sorted by key. Of entries with equal keys the last wins,
    /// or, if `unique`, the first repeated key is the error (with the map as it would be).
    /// One function for both, so the sort is compiled once.
    pub(crate) fn sorted(
        mut v: Vec<(CompactString, Value)>,
        unique: bool,
    ) -> Result<DataMap, (DataMap, CompactString)> {
        // Stable sort, then keep the last of each run of equal keys.
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(CompactString, Value)> = Vec::with_capacity(v.len());
        let mut repeated = None;
        for e in v {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => {
                    if unique && repeated.is_none() {
                        repeated = Some(e.0.clone());
                    }
                    *last = e;
                }
                _ => out.push(e),
            }
        }
        let map = DataMap {
            entries: out.into_boxed_slice(),
        };
        match repeated {
            None => Ok(map),
            Some(key) => Err((map, key)),
        }
    }
}

impl IntoIterator for DataMap {
    type Item = (CompactString, Value);
    type IntoIter = alloc::vec::IntoIter<(CompactString, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_vec().into_iter()
    }
}

impl From<BTreeMap<String, Value>> for DataMap {
    fn from(m: BTreeMap<String, Value>) -> Self {
        // Already sorted and unique: no searching needed.
        DataMap {
            entries: m.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }
}

impl From<DataMap> for BTreeMap<String, Value> {
    fn from(m: DataMap) -> Self {
        m.into_iter().map(|(k, v)| (k.into(), v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut d = DataMap::new();
        assert_eq!(d.insert("é", Value::Int(1)), None);
        assert_eq!(d.insert("Z", Value::Int(2)), None);
        assert_eq!(d.insert("a", Value::Int(3)), None);
        assert_eq!(d.insert("a", Value::Int(4)), Some(Value::Int(3)));
        assert_eq!(d.keys().collect::<Vec<_>>(), ["Z", "a", "é"]);
        assert_eq!(d.remove("Z"), Some(Value::Int(2)));
        assert_eq!(d.remove("Z"), None);
        assert!(d.contains_key("a") && !d.contains_key("b"));
        let b: BTreeMap<String, Value> = d.clone().into();
        assert_eq!(DataMap::from(b), d);
        let collected: DataMap = [
            ("y".to_string(), Value::Null),
            ("x".to_string(), Value::Null),
            ("y".to_string(), Value::Int(1)),
        ]
        .into_iter()
        .collect();
        assert_eq!(collected.keys().collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(collected["y"], Value::Int(1));
    }
}
