//! `DataMap`: a session's top-level data, a map kept as one sorted vector.
//!
//! Sessions hold a handful of keys. A `BTreeMap` allocates a 632-byte node for even one
//! entry; a sorted vector holds three small entries in under 200 bytes, clones with one
//! allocation and iterates in key order, which the deterministic encoding needs anyway.

use crate::value::Value;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Index;

/// String keys to [`Value`]s, kept in byte order of the keys.
///
/// ```
/// use tenure::{DataMap, Value};
/// let mut d = DataMap::new();
/// d.insert("b".into(), Value::Int(2));
/// d.insert("a".into(), Value::Int(1));
/// assert_eq!(d.keys().collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(d["b"], Value::Int(2));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataMap {
    entries: Vec<(String, Value)>,
}

impl DataMap {
    /// An empty map (no allocation).
    pub const fn new() -> Self {
        DataMap {
            entries: Vec::new(),
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

    /// Sets `key`, returning the previous value.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        match self.find(key) {
            Ok(i) => Some(self.entries.remove(i).1),
            Err(_) => None,
        }
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &Value)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Releases spare capacity (stores call this on records they keep).
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
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

impl FromIterator<(String, Value)> for DataMap {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut m = DataMap::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl IntoIterator for DataMap {
    type Item = (String, Value);
    type IntoIter = alloc::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl From<BTreeMap<String, Value>> for DataMap {
    fn from(m: BTreeMap<String, Value>) -> Self {
        // Already sorted and unique: no searching needed.
        DataMap {
            entries: m.into_iter().collect(),
        }
    }
}

impl From<DataMap> for BTreeMap<String, Value> {
    fn from(m: DataMap) -> Self {
        m.entries.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut d = DataMap::new();
        assert_eq!(d.insert("é".into(), Value::Int(1)), None);
        assert_eq!(d.insert("Z".into(), Value::Int(2)), None);
        assert_eq!(d.insert("a".into(), Value::Int(3)), None);
        assert_eq!(d.insert("a".into(), Value::Int(4)), Some(Value::Int(3)));
        assert_eq!(d.keys().collect::<Vec<_>>(), ["Z", "a", "é"]);
        assert_eq!(d.remove("Z"), Some(Value::Int(2)));
        assert_eq!(d.remove("Z"), None);
        assert!(d.contains_key("a") && !d.contains_key("b"));
        let b: BTreeMap<String, Value> = d.clone().into();
        assert_eq!(DataMap::from(b), d);
        let collected: DataMap = [
            ("y".to_string(), Value::Null),
            ("x".to_string(), Value::Null),
        ]
        .into_iter()
        .collect();
        assert_eq!(collected.keys().collect::<Vec<_>>(), ["x", "y"]);
    }
}
