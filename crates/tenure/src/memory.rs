//! The embedded default store: records held unencoded in a slab, found through a hashbrown
//! table, with the ordered indexes that keep sweep and eviction cheap.

use crate::error::StoreError;
use crate::record::Record;
use crate::store::{Page, Store};
use crate::Millis;
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

/// An in-memory [`Store`]. Sweep costs O(expired · log n): deadlines sit in an ordered
/// index of `(deadline, slot)` pairs, never found by scanning every session. Each session
/// is one shared record plus a few words of index.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    /// Records by slot; `None` slots are free and listed in `free`.
    slots: Vec<Option<Arc<Record>>>,
    free: Vec<u32>,
    /// Slot numbers, hashed by the id of the record in the slot.
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// (deadline, slot) for sessions that can expire.
    deadlines: BTreeSet<(Millis, u32)>,
    /// (accessed, slot): least recently used first.
    recency: BTreeSet<(Millis, u32)>,
    principals: HashMap<String, Vec<u32>>,
    len: usize,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    fn slot_of(&self, id: &str) -> Option<u32> {
        let slots = &self.slots;
        self.table
            .find(self.hash(id), |&s| {
                slots[s as usize].as_ref().is_some_and(|r| r.id == id)
            })
            .copied()
    }

    fn index(&mut self, slot: u32, r: &Record) {
        if let Some(d) = r.deadline() {
            self.deadlines.insert((d, slot));
        }
        self.recency.insert((r.accessed, slot));
        if let Some(p) = &r.principal {
            self.principals.entry(p.clone()).or_default().push(slot);
        }
    }

    fn unindex(&mut self, slot: u32, r: &Record) {
        if let Some(d) = r.deadline() {
            self.deadlines.remove(&(d, slot));
        }
        self.recency.remove(&(r.accessed, slot));
        if let Some(p) = &r.principal {
            if let Some(list) = self.principals.get_mut(p.as_str()) {
                list.retain(|&s| s != slot);
                if list.is_empty() {
                    self.principals.remove(p.as_str());
                }
            }
        }
    }

    /// Re-indexes only what changed between two versions of a record in one slot.
    fn reindex(&mut self, slot: u32, old: &Record, new: &Record) {
        if old.deadline() != new.deadline() {
            if let Some(d) = old.deadline() {
                self.deadlines.remove(&(d, slot));
            }
            if let Some(d) = new.deadline() {
                self.deadlines.insert((d, slot));
            }
        }
        if old.accessed != new.accessed {
            self.recency.remove(&(old.accessed, slot));
            self.recency.insert((new.accessed, slot));
        }
        if old.principal != new.principal {
            if let Some(p) = &old.principal {
                if let Some(list) = self.principals.get_mut(p.as_str()) {
                    list.retain(|&s| s != slot);
                    if list.is_empty() {
                        self.principals.remove(p.as_str());
                    }
                }
            }
            if let Some(p) = &new.principal {
                self.principals.entry(p.clone()).or_default().push(slot);
            }
        }
    }

    fn take_slot(&mut self, slot: u32) -> Option<Arc<Record>> {
        let r = self.slots.get_mut(slot as usize)?.take()?;
        let hash = self.hash(&r.id);
        if let Ok(entry) = self.table.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        self.unindex(slot, &r);
        self.free.push(slot);
        self.len -= 1;
        Some(r)
    }

    fn add(&mut self, record: Arc<Record>) {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        let hash = self.hash(&record.id);
        self.index(slot, &record);
        self.slots[slot as usize] = Some(record);
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.table.insert_unique(hash, slot, |&s| {
            hasher.hash_one(slots[s as usize].as_ref().map_or("", |r| r.id.as_str()))
        });
        self.len += 1;
    }
}

impl Store for MemoryStore {
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        Ok(self
            .slot_of(id)
            .and_then(|s| self.slots[s as usize].clone()))
    }

    fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError> {
        if self.slot_of(&record.id).is_some() {
            return Ok(false);
        }
        self.add(record);
        Ok(true)
    }

    fn put(&mut self, record: Arc<Record>) -> Result<(), StoreError> {
        match self.slot_of(&record.id) {
            Some(slot) => {
                let old = self.slots[slot as usize].replace(record.clone());
                if let Some(old) = old {
                    self.reindex(slot, &old, &record);
                }
            }
            None => self.add(record),
        }
        Ok(())
    }

    fn touch(&mut self, id: &str, accessed: Millis) -> Result<Option<Arc<Record>>, StoreError> {
        let Some(slot) = self.slot_of(id) else {
            return Ok(None);
        };
        let Some(mut r) = self.slots[slot as usize].take() else {
            return Ok(None);
        };
        let old = (r.deadline(), r.accessed);
        Arc::make_mut(&mut r).accessed = accessed;
        if old.0 != r.deadline() {
            if let Some(d) = old.0 {
                self.deadlines.remove(&(d, slot));
            }
            if let Some(d) = r.deadline() {
                self.deadlines.insert((d, slot));
            }
        }
        self.recency.remove(&(old.1, slot));
        self.recency.insert((accessed, slot));
        self.slots[slot as usize] = Some(r.clone());
        Ok(Some(r))
    }

    fn remove(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        Ok(self.slot_of(id).and_then(|s| self.take_slot(s)))
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        Ok(self.len)
    }

    fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        // The cursor is the next slot number: slots never move, so a record present for
        // the whole listing is seen exactly once.
        let start = match cursor {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .map_err(|_| StoreError::new("invalid list cursor"))?,
        };
        let mut out = Vec::new();
        let mut i = start;
        while i < self.slots.len() && out.len() < limit {
            if let Some(r) = &self.slots[i] {
                out.push(r.clone());
            }
            i += 1;
        }
        let next = (i < self.slots.len()).then(|| i.to_string());
        Ok((out, next))
    }

    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .principals
            .get(principal)
            .map(|slots| {
                slots
                    .iter()
                    .filter_map(|&s| self.slots[s as usize].as_ref().map(|r| r.id.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        let mut out = Vec::new();
        while out.len() < limit {
            match self.deadlines.first() {
                Some(&(d, slot)) if d <= now => {
                    // Removing the entry itself as well guarantees progress even if the
                    // index and the record ever disagreed.
                    self.deadlines.remove(&(d, slot));
                    if let Some(r) = self.take_slot(slot) {
                        out.push(r);
                    }
                }
                _ => break,
            }
        }
        Ok(out)
    }

    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        Ok(self.deadlines.first().map(|(d, _)| *d))
    }

    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        Ok(self
            .recency
            .first()
            .and_then(|&(_, s)| self.slots[s as usize].as_ref().map(|r| r.id.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, accessed: Millis, principal: Option<&str>) -> Arc<Record> {
        let mut r = Record::new(id.into(), 0, Some(100), None);
        r.accessed = accessed;
        r.principal = principal.map(Into::into);
        Arc::new(r)
    }

    #[test]
    fn indexes_follow_every_change() {
        let mut m = MemoryStore::new();
        let ids: Vec<String> = (0..50).map(|i| alloc::format!("{i:0>22}")).collect();
        for (i, id) in ids.iter().enumerate() {
            assert!(m.insert(rec(id, i as u64, Some("p"))).unwrap());
        }
        assert!(!m.insert(rec(&ids[0], 0, None)).unwrap());
        assert_eq!(m.len().unwrap(), 50);
        assert_eq!(m.least_recent().unwrap().as_deref(), Some(ids[0].as_str()));
        m.touch(&ids[0], 1_000).unwrap();
        assert_eq!(m.least_recent().unwrap().as_deref(), Some(ids[1].as_str()));
        assert_eq!(m.next_deadline().unwrap(), Some(101));
        m.put(rec(&ids[1], 500, Some("q"))).unwrap();
        assert_eq!(m.ids_of("q").unwrap(), [ids[1].clone()]);
        assert_eq!(m.ids_of("p").unwrap().len(), 49);
        let expired = m.remove_expired(110, 5).unwrap();
        assert_eq!(expired.len(), 5);
        assert_eq!(m.len().unwrap(), 45);
        for r in &expired {
            assert!(m.get(&r.id).unwrap().is_none());
        }
        // Freed slots are reused and the table still finds everyone.
        let fresh = "N".repeat(22);
        m.insert(rec(&fresh, 0, None)).unwrap();
        assert_eq!(m.get(&fresh).unwrap().unwrap().id, fresh);
        let mut seen = 0;
        let mut cursor = None;
        loop {
            let (page, next) = m.page(cursor.as_deref(), 7).unwrap();
            seen += page.len();
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, 46);
        assert!(m.remove(&fresh).unwrap().is_some());
        assert!(m.remove(&fresh).unwrap().is_none());
    }
}
