//! Where sessions live: the `Store` trait the manager drives.
//!
//! [`MemoryStore`](crate::MemoryStore) implements it natively with indexes. Hosts with their
//! own storage (a JS object, a Python object, a folder of files) implement the simpler
//! [`ByteStore`](crate::ByteStore) over encoded records and wrap it in
//! [`EncodedStore`](crate::EncodedStore).
//!
//! Records travel as `Arc<Record>`: a store that keeps them in memory hands out shared
//! snapshots, and a session copies a record only when it first changes it.

use crate::error::StoreError;
use crate::record::Record;
use crate::Millis;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// A page of records and the cursor for the next page (`None` at the end).
pub type Page = (Vec<Arc<Record>>, Option<String>);

/// Storage of session records, keyed by id. All methods may fail with a [`StoreError`];
/// the manager then reports `STORE_ERROR` and leaves the session as it was.
pub trait Store {
    /// The record with this id, if any.
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError>;

    /// Inserts `record` unless its id is taken; `false` on a collision.
    fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError>;

    /// Creates or replaces the record with `record.id`.
    fn put(&mut self, record: Arc<Record>) -> Result<(), StoreError>;

    /// Persists a new `accessed` time and returns the updated record (`None` if gone).
    fn touch(&mut self, id: &str, accessed: Millis) -> Result<Option<Arc<Record>>, StoreError> {
        match self.get(id)? {
            Some(mut r) => {
                Arc::make_mut(&mut r).accessed = accessed;
                self.put(r.clone())?;
                Ok(Some(r))
            }
            None => Ok(None),
        }
    }

    /// Removes and returns the record with this id.
    fn remove(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError>;

    /// How many records are stored.
    fn len(&mut self) -> Result<usize, StoreError>;

    /// Whether no record is stored.
    fn is_empty(&mut self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Up to `limit` records from `cursor` (`None`: the start), in an order of the store's
    /// choosing, with the cursor of the next page. A record present for the whole listing
    /// is returned exactly once.
    fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError>;

    /// The ids of sessions whose principal is `principal`.
    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError>;

    /// Removes and returns up to `limit` records whose deadline is at or before `now`.
    fn remove_expired(&mut self, now: Millis, limit: usize)
        -> Result<Vec<Arc<Record>>, StoreError>;

    /// The earliest deadline of any stored session.
    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError>;

    /// The id of the least recently accessed session (for eviction).
    fn least_recent(&mut self) -> Result<Option<String>, StoreError>;

    /// Called once by a manager whose policy evicts the least recently used session, so a
    /// store can keep a recency index only when it is needed. The default does nothing.
    fn track_recency(&mut self) {}
}

/// One of two stores, chosen at run time (a binding's "memory unless the host gave a store").
#[derive(Debug)]
pub enum EitherStore<A, B> {
    /// The first kind.
    Left(A),
    /// The second kind.
    Right(B),
}

macro_rules! either {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            EitherStore::Left($s) => $e,
            EitherStore::Right($s) => $e,
        }
    };
}

impl<A: Store, B: Store> Store for EitherStore<A, B> {
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        either!(self, s => s.get(id))
    }
    fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError> {
        either!(self, s => s.insert(record))
    }
    fn put(&mut self, record: Arc<Record>) -> Result<(), StoreError> {
        either!(self, s => s.put(record))
    }
    fn touch(&mut self, id: &str, accessed: Millis) -> Result<Option<Arc<Record>>, StoreError> {
        either!(self, s => s.touch(id, accessed))
    }
    fn remove(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        either!(self, s => s.remove(id))
    }
    fn len(&mut self) -> Result<usize, StoreError> {
        either!(self, s => s.len())
    }
    fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        either!(self, s => s.page(cursor, limit))
    }
    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        either!(self, s => s.ids_of(principal))
    }
    fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        either!(self, s => s.remove_expired(now, limit))
    }
    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        either!(self, s => s.next_deadline())
    }
    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        either!(self, s => s.least_recent())
    }
    fn track_recency(&mut self) {
        either!(self, s => s.track_recency())
    }
}
