//! Where sessions live: the `Store` trait the manager drives.
//!
//! [`MemoryStore`](crate::MemoryStore) implements it natively with indexes. Hosts with their
//! own storage (a JS object, a Python object, a folder of files) implement the simpler
//! [`ByteStore`](crate::ByteStore) over encoded records and wrap it in
//! [`EncodedStore`](crate::EncodedStore).

use crate::error::StoreError;
use crate::record::Record;
use crate::Millis;
use alloc::string::String;
use alloc::vec::Vec;

/// Storage of session records, keyed by id. All methods may fail with a [`StoreError`];
/// the manager then reports `STORE_ERROR` and leaves the session as it was.
pub trait Store {
    /// The record with this id, if any.
    fn get(&mut self, id: &str) -> Result<Option<Record>, StoreError>;

    /// Inserts `record` unless its id is taken; `false` on a collision.
    fn insert(&mut self, record: Record) -> Result<bool, StoreError>;

    /// Creates or replaces the record with `record.id`.
    fn put(&mut self, record: Record) -> Result<(), StoreError>;

    /// Persists a new `accessed` time; `false` if the record is gone.
    fn touch(&mut self, id: &str, accessed: Millis) -> Result<bool, StoreError> {
        match self.get(id)? {
            Some(mut r) => {
                r.accessed = accessed;
                self.put(r)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Removes and returns the record with this id.
    fn remove(&mut self, id: &str) -> Result<Option<Record>, StoreError>;

    /// How many records are stored.
    fn len(&mut self) -> Result<usize, StoreError>;

    /// Whether no record is stored.
    fn is_empty(&mut self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Up to `limit` ids in ascending order, starting after `after` (a cursor).
    fn ids(&mut self, after: Option<&str>, limit: usize) -> Result<Vec<String>, StoreError>;

    /// The ids of sessions whose principal is `principal`.
    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError>;

    /// Up to `limit` ids whose deadline is at or before `now` (candidates: the manager
    /// re-checks each against the current record before removing it).
    fn due(&mut self, now: Millis, limit: usize) -> Result<Vec<String>, StoreError>;

    /// The earliest deadline of any stored session.
    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError>;

    /// The id of the least recently accessed session (for eviction).
    fn least_recent(&mut self) -> Result<Option<String>, StoreError>;
}
