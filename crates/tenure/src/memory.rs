//! The embedded default store: records held unencoded in a hashbrown map, with the
//! indexes that keep sweep, eviction and per-user lookups cheap.

use crate::error::StoreError;
use crate::record::Record;
use crate::store::Store;
use crate::Millis;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Bound;
use hashbrown::HashMap;

/// An in-memory [`Store`]. Sweep costs O(expired · log n): deadlines are kept in an
/// ordered index, never found by scanning every session.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    records: HashMap<String, Record>,
    /// (deadline, id) for sessions that can expire.
    deadlines: BTreeSet<(Millis, String)>,
    /// (accessed, id): least recently used first.
    recency: BTreeSet<(Millis, String)>,
    /// Ids in order, for cursor listing.
    order: BTreeSet<String>,
    principals: BTreeMap<String, BTreeSet<String>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn unindex(&mut self, r: &Record) {
        if let Some(d) = r.deadline() {
            self.deadlines.remove(&(d, r.id.clone()));
        }
        self.recency.remove(&(r.accessed, r.id.clone()));
        self.order.remove(&r.id);
        if let Some(p) = &r.principal {
            if let Some(set) = self.principals.get_mut(p) {
                set.remove(&r.id);
                if set.is_empty() {
                    self.principals.remove(p);
                }
            }
        }
    }

    fn index(&mut self, r: &Record) {
        if let Some(d) = r.deadline() {
            self.deadlines.insert((d, r.id.clone()));
        }
        self.recency.insert((r.accessed, r.id.clone()));
        self.order.insert(r.id.clone());
        if let Some(p) = &r.principal {
            self.principals
                .entry(p.clone())
                .or_default()
                .insert(r.id.clone());
        }
    }
}

impl Store for MemoryStore {
    fn get(&mut self, id: &str) -> Result<Option<Record>, StoreError> {
        Ok(self.records.get(id).cloned())
    }

    fn insert(&mut self, record: Record) -> Result<bool, StoreError> {
        if self.records.contains_key(&record.id) {
            return Ok(false);
        }
        self.index(&record);
        self.records.insert(record.id.clone(), record);
        Ok(true)
    }

    fn put(&mut self, record: Record) -> Result<(), StoreError> {
        if let Some(old) = self.records.remove(&record.id) {
            self.unindex(&old);
        }
        self.index(&record);
        self.records.insert(record.id.clone(), record);
        Ok(())
    }

    fn touch(&mut self, id: &str, accessed: Millis) -> Result<bool, StoreError> {
        let Some(old) = self.records.get(id) else {
            return Ok(false);
        };
        let (old_deadline, old_accessed) = (old.deadline(), old.accessed);
        if let Some(d) = old_deadline {
            self.deadlines.remove(&(d, id.into()));
        }
        self.recency.remove(&(old_accessed, id.into()));
        let r = self.records.get_mut(id).expect("present: checked above");
        r.accessed = accessed;
        if let Some(d) = r.deadline() {
            self.deadlines.insert((d, id.into()));
        }
        self.recency.insert((accessed, id.into()));
        Ok(true)
    }

    fn remove(&mut self, id: &str) -> Result<Option<Record>, StoreError> {
        let old = self.records.remove(id);
        if let Some(r) = &old {
            self.unindex(r);
        }
        Ok(old)
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        Ok(self.records.len())
    }

    fn ids(&mut self, after: Option<&str>, limit: usize) -> Result<Vec<String>, StoreError> {
        let lower = match after {
            Some(a) => Bound::Excluded(String::from(a)),
            None => Bound::Unbounded,
        };
        Ok(self
            .order
            .range((lower, Bound::Unbounded))
            .take(limit)
            .cloned()
            .collect())
    }

    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .principals
            .get(principal)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default())
    }

    fn due(&mut self, now: Millis, limit: usize) -> Result<Vec<String>, StoreError> {
        Ok(self
            .deadlines
            .iter()
            .take_while(|(d, _)| *d <= now)
            .take(limit)
            .map(|(_, id)| id.clone())
            .collect())
    }

    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        Ok(self.deadlines.first().map(|(d, _)| *d))
    }

    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        Ok(self.recency.first().map(|(_, id)| id.clone()))
    }
}
