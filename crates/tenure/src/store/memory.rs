//! The embedded default store: records held unencoded in a slab, found through a hashbrown
//! table, with the ordered indexes that keep sweep and eviction cheap.

use crate::clock::Millis;
use crate::error::StoreError;
use crate::format::record::Record;
use crate::store::{Cas, Page, Store};
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::BuildHasher;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

/// An index key: a time and a slot, packed into 12 bytes (a `(u64, u32)` tuple takes 16),
/// ordered by time, then slot. Index entries are a sizeable part of what an idle session
/// costs, so they are kept small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct At([u32; 3]);

impl At {
    fn new(ms: Millis, slot: u32) -> Self {
        At([(ms >> 32) as u32, ms as u32, slot])
    }
    fn ms(self) -> Millis {
        (u64::from(self.0[0]) << 32) | u64::from(self.0[1])
    }
    fn slot(self) -> u32 {
        self.0[2]
    }
}

/// An in-memory [`Store`]. Sweep costs O(expired · log n): deadlines sit in an ordered
/// index of `(deadline, slot)` pairs, never found by scanning every session. Each session
/// is one shared record plus a few words of index; the recency index that LRU eviction
/// needs is kept only once the manager asks for it ([`Store::track_recency`]).
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    /// Records by slot; `None` slots are free and listed in `free`.
    slots: Vec<Option<Arc<Record>>>,
    free: Vec<u32>,
    /// Slot numbers, hashed by the id of the record in the slot.
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// (deadline, slot) for sessions that can expire.
    deadlines: BTreeSet<At>,
    /// (accessed, slot), least recently used first; only when eviction needs it.
    recency: Option<BTreeSet<At>>,
    /// The slots of each principal's sessions, in no particular order.
    principals: HashMap<String, Vec<u32>>,
    /// By slot: where the slot sits in its principal's list, so that removing one of a
    /// principal's many sessions is O(1) (a swap-remove), not a scan of the list.
    principal_pos: Vec<u32>,
    len: usize,
    /// The slot the last lookup found (a hint, always checked against the id).
    last: u32,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    fn slot_of(&mut self, id: &str) -> Option<u32> {
        // A request opens and then commits one session: the second lookup of the same id
        // is answered by the slot found last, confirmed by comparing the (inline) id.
        let last = self.last as usize;
        if self
            .slots
            .get(last)
            .and_then(Option::as_ref)
            .is_some_and(|r| r.id == id)
        {
            return Some(self.last);
        }
        let slots = &self.slots;
        let found = self
            .table
            .find(self.hash(id), |&s| {
                slots[s as usize].as_ref().is_some_and(|r| r.id == id)
            })
            .copied();
        if let Some(s) = found {
            self.last = s;
        }
        found
    }

    fn index(&mut self, slot: u32, r: &Record) {
        if let Some(d) = r.deadline() {
            self.deadlines.insert(At::new(d, slot));
        }
        if let Some(recency) = &mut self.recency {
            recency.insert(At::new(r.accessed, slot));
        }
        if let Some(p) = r.principal() {
            self.list_principal(p, slot);
        }
    }

    fn unindex(&mut self, slot: u32, r: &Record) {
        if let Some(d) = r.deadline() {
            self.deadlines.remove(&At::new(d, slot));
        }
        if let Some(recency) = &mut self.recency {
            recency.remove(&At::new(r.accessed, slot));
        }
        if let Some(p) = r.principal() {
            self.unlist_principal(p, slot);
        }
    }

    /// Re-indexes only what changed between two versions of a record in one slot.
    fn reindex(&mut self, slot: u32, old: &Record, new: &Record) {
        self.redate(
            slot,
            old.deadline(),
            new.deadline(),
            old.accessed,
            new.accessed,
        );
        if old.principal() != new.principal() {
            if let Some(p) = old.principal() {
                self.unlist_principal(p, slot);
            }
            if let Some(p) = new.principal() {
                self.list_principal(p, slot);
            }
        }
    }

    fn list_principal(&mut self, principal: &str, slot: u32) {
        let list = match self.principals.get_mut(principal) {
            Some(list) => list,
            None => self.principals.entry(principal.into()).or_default(),
        };
        let at = list.len() as u32;
        list.push(slot);
        let i = slot as usize;
        if self.principal_pos.len() <= i {
            self.principal_pos.resize(i + 1, 0);
        }
        self.principal_pos[i] = at;
    }

    fn unlist_principal(&mut self, principal: &str, slot: u32) {
        let Some(list) = self.principals.get_mut(principal) else {
            return;
        };
        let at = self
            .principal_pos
            .get(slot as usize)
            .map_or(0, |&a| a as usize);
        // The position is a hint checked against the list; a scan is only the fallback.
        let at = if list.get(at) == Some(&slot) {
            Some(at)
        } else {
            list.iter().position(|&s| s == slot)
        };
        if let Some(at) = at {
            list.swap_remove(at);
            if let Some(&moved) = list.get(at) {
                self.principal_pos[moved as usize] = at as u32;
            }
        }
        if list.is_empty() {
            self.principals.remove(principal);
        }
    }

    /// Moves a slot's index entries from its old deadline and access time to the new ones.
    fn redate(
        &mut self,
        slot: u32,
        old_deadline: Option<Millis>,
        new_deadline: Option<Millis>,
        old_accessed: Millis,
        new_accessed: Millis,
    ) {
        if old_deadline != new_deadline {
            if let Some(d) = old_deadline {
                self.deadlines.remove(&At::new(d, slot));
            }
            if let Some(d) = new_deadline {
                self.deadlines.insert(At::new(d, slot));
            }
        }
        if let Some(recency) = &mut self.recency {
            if old_accessed != new_accessed {
                recency.remove(&At::new(old_accessed, slot));
                recency.insert(At::new(new_accessed, slot));
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

    fn replace(&mut self, record: Arc<Record>, expected: u64) -> Result<Cas, StoreError> {
        let Some(slot) = self.slot_of(&record.id) else {
            return Ok(Cas::Conflict(None));
        };
        let held = &mut self.slots[slot as usize];
        match held {
            Some(old) if old.version == expected => {
                let old = core::mem::replace(old, record.clone());
                self.reindex(slot, &old, &record);
                Ok(Cas::Stored(record))
            }
            other => Ok(Cas::Conflict(other.clone())),
        }
    }

    fn touch(&mut self, id: &str, accessed: Millis, expected: u64) -> Result<Cas, StoreError> {
        let Some(slot) = self.slot_of(id) else {
            return Ok(Cas::Conflict(None));
        };
        let Some(mut r) = self.slots[slot as usize].take() else {
            return Ok(Cas::Conflict(None));
        };
        if r.version != expected || r.accessed >= accessed {
            self.slots[slot as usize] = Some(r.clone());
            return Ok(if r.version == expected {
                Cas::Stored(r)
            } else {
                Cas::Conflict(Some(r))
            });
        }
        // In place: the caller dropped its snapshot, so this is usually not a copy.
        let old = (r.deadline(), r.accessed);
        Arc::make_mut(&mut r).accessed = accessed;
        self.redate(slot, old.0, r.deadline(), old.1, accessed);
        self.slots[slot as usize] = Some(r.clone());
        Ok(Cas::Stored(r))
    }

    fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        let Some(slot) = self.slot_of(id) else {
            return Ok(None);
        };
        if let Some(want) = expected {
            if self.slots[slot as usize]
                .as_ref()
                .is_none_or(|r| r.version != want)
            {
                return Ok(None);
            }
        }
        Ok(self.take_slot(slot))
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
                    .filter_map(|&s| self.slots[s as usize].as_ref().map(|r| r.id.to_string()))
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
            match self.deadlines.first().copied() {
                Some(at) if at.ms() <= now => {
                    // Removing the entry itself as well guarantees progress even if the
                    // index and the record ever disagreed.
                    self.deadlines.remove(&at);
                    if let Some(r) = self.take_slot(at.slot()) {
                        out.push(r);
                    }
                }
                _ => break,
            }
        }
        Ok(out)
    }

    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        Ok(self.deadlines.first().map(|at| at.ms()))
    }

    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        self.track_recency();
        Ok(self
            .recency
            .as_ref()
            .and_then(BTreeSet::first)
            .and_then(|at| self.slots[at.slot() as usize].as_ref())
            .map(|r| r.id.to_string()))
    }

    fn track_recency(&mut self) {
        if self.recency.is_none() {
            let index = self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.as_ref().map(|r| At::new(r.accessed, i as u32)))
                .collect();
            self.recency = Some(index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, accessed: Millis, principal: Option<&str>) -> Arc<Record> {
        let mut r = Record::new(id, 0, Some(100), None);
        r.accessed = accessed;
        r.set_principal(principal.map(Into::into));
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
        let v = m.get(&ids[0]).unwrap().unwrap().version;
        assert!(matches!(
            m.touch(&ids[0], 1_000, v).unwrap(),
            Cas::Stored(_)
        ));
        assert_eq!(m.least_recent().unwrap().as_deref(), Some(ids[1].as_str()));
        assert_eq!(m.next_deadline().unwrap(), Some(101));
        let v = m.get(&ids[1]).unwrap().unwrap().version;
        // A compare-and-set against another version changes nothing and hands back the
        // stored record; a missing record is never created.
        let held = m.replace(rec(&ids[1], 500, Some("q")), v + 1).unwrap();
        assert_eq!(held, Cas::Conflict(m.get(&ids[1]).unwrap()));
        assert!(matches!(
            m.touch(&ids[1], 9_000, v + 1).unwrap(),
            Cas::Conflict(Some(_))
        ));
        assert_eq!(m.ids_of("q").unwrap().len(), 0);
        let ghost = "G".repeat(22);
        assert_eq!(
            m.replace(rec(&ghost, 1, None), 0).unwrap(),
            Cas::Conflict(None)
        );
        assert!(m.get(&ghost).unwrap().is_none());
        assert!(matches!(
            m.replace(rec(&ids[1], 500, Some("q")), v).unwrap(),
            Cas::Stored(_)
        ));
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
        let v = m.get(&fresh).unwrap().unwrap().version;
        assert!(m.remove(&fresh, Some(v + 1)).unwrap().is_none());
        assert!(m.remove(&fresh, Some(v)).unwrap().is_some());
        assert!(m.remove(&fresh, None).unwrap().is_none());
    }

    /// Sweeping or removing n sessions of one principal costs O(n log n), not O(n²): the
    /// principal index used to scan the principal's whole list on every removal.
    #[test]
    #[cfg(feature = "std")]
    fn one_principal_with_many_sessions_sweeps_in_linear_time() {
        fn fill(n: usize) -> MemoryStore {
            let mut m = MemoryStore::new();
            for i in 0..n {
                let mut r = Record::new(alloc::format!("{i:0>22}"), 0, Some(100), None);
                r.set_principal(Some("alice".into()));
                m.insert(Arc::new(r)).unwrap();
            }
            m
        }
        let time = |n: usize| {
            let mut m = fill(n);
            let t = std::time::Instant::now();
            let mut swept = 0;
            loop {
                let batch = m.remove_expired(1_000, 256).unwrap().len();
                swept += batch;
                if batch < 256 {
                    break;
                }
            }
            let took = t.elapsed();
            assert_eq!(swept, n);
            assert_eq!(m.len().unwrap(), 0);
            assert!(m.ids_of("alice").unwrap().is_empty());
            took
        };
        let small = time(100_000);
        let large = time(200_000);
        std::println!("sweep of 100k sessions of one principal: {small:?}; of 200k: {large:?}");
        // Quadratic was 2·10^10 list steps at 200k (minutes in a debug build); linear is
        // well under a second. Generous bounds, so a slow machine does not fail it.
        assert!(
            large.as_secs_f64() < 5.0,
            "200k-session sweep took {large:?}"
        );
        assert!(
            large.as_secs_f64() < 6.0 * small.as_secs_f64() + 0.5,
            "not linear: {small:?} for 100k, {large:?} for 200k"
        );

        // Removing some in between keeps every index right.
        let mut m = fill(1_000);
        for i in (0..1_000).step_by(3) {
            assert!(m
                .remove(&alloc::format!("{i:0>22}"), None)
                .unwrap()
                .is_some());
        }
        let mut left = m.ids_of("alice").unwrap();
        left.sort_unstable();
        let want: Vec<String> = (0..1_000)
            .filter(|i| i % 3 != 0)
            .map(|i| alloc::format!("{i:0>22}"))
            .collect();
        assert_eq!(left, want);
    }
}
