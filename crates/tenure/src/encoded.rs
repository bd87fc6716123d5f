//! Host stores over encoded records: the bridge that lets JS and Python keep sessions
//! wherever they like (an object, a folder, localStorage) while the rules stay here.

use crate::error::StoreError;
use crate::limits::Limits;
use crate::record::Record;
use crate::store::{Page, Store};
use crate::Millis;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// The store protocol a host implements: bytes in, bytes out, keyed by session id.
pub trait ByteStore {
    /// The encoded record stored under `id`.
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores `bytes` under `id`, replacing what was there.
    fn set(&mut self, id: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// Removes `id`; `true` if it was there.
    fn delete(&mut self, id: &str) -> Result<bool, StoreError>;
    /// Every stored id.
    fn ids(&mut self) -> Result<Vec<String>, StoreError>;
}

/// A [`Store`] over a [`ByteStore`]: records are encoded with the v1 format on the way in
/// and decoded (as untrusted input) on the way out.
///
/// Without indexes of its own, `due`, `ids_of`, `next_deadline` and `least_recent` read
/// every record: O(n). A corrupt record is reported by `get` as a `STORE_ERROR` and skipped
/// by those scans, never a crash.
#[derive(Debug)]
pub struct EncodedStore<B> {
    inner: B,
    limits: Limits,
}

impl<B: ByteStore> EncodedStore<B> {
    /// Wraps `inner`, decoding records within `limits`.
    pub fn new(inner: B, limits: Limits) -> Self {
        EncodedStore { inner, limits }
    }

    /// The wrapped byte store.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The wrapped byte store, mutably.
    pub fn inner_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    fn decode(&self, id: &str, bytes: &[u8]) -> Result<Record, StoreError> {
        let r = Record::decode(bytes, &self.limits)
            .map_err(|e| StoreError::new(format!("corrupt record {id}: {e}")))?;
        if r.id != id {
            return Err(StoreError::new(format!(
                "record stored under {id} has id {}",
                r.id
            )));
        }
        Ok(r)
    }

    /// Every record that decodes; corrupt ones are skipped.
    fn scan(&mut self) -> Result<Vec<Record>, StoreError> {
        let ids = self.inner.ids()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(bytes) = self.inner.get(&id)? {
                if let Ok(r) = self.decode(&id, &bytes) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }
}

impl<B: ByteStore> Store for EncodedStore<B> {
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        match self.inner.get(id)? {
            Some(bytes) => self.decode(id, &bytes).map(|r| Some(Arc::new(r))),
            None => Ok(None),
        }
    }

    fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError> {
        if self.inner.get(&record.id)?.is_some() {
            return Ok(false);
        }
        self.inner.set(&record.id, &record.encode())?;
        Ok(true)
    }

    fn put(&mut self, record: Arc<Record>) -> Result<(), StoreError> {
        self.inner.set(&record.id, &record.encode())
    }

    fn remove(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        let old = match self.inner.get(id)? {
            Some(bytes) => self.decode(id, &bytes).ok(),
            None => return Ok(None),
        };
        self.inner.delete(id)?;
        // A corrupt record is still removed; it reports as an unknown (epoch) record.
        Ok(Some(Arc::new(
            old.unwrap_or_else(|| Record::new(id, 0, None, None)),
        )))
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        Ok(self.inner.ids()?.len())
    }

    fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        // The cursor is the last id returned; ids are listed in ascending order.
        let mut ids = self.inner.ids()?;
        ids.sort_unstable();
        let mut out = Vec::new();
        let mut last: Option<String> = None;
        let mut more = false;
        for id in ids
            .into_iter()
            .filter(|id| cursor.is_none_or(|c| id.as_str() > c))
        {
            if out.len() == limit {
                more = true;
                break;
            }
            if let Some(bytes) = self.inner.get(&id)? {
                if let Ok(r) = self.decode(&id, &bytes) {
                    out.push(Arc::new(r));
                }
            }
            last = Some(id);
        }
        Ok((out, if more { last } else { None }))
    }

    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        let mut ids: Vec<String> = self
            .scan()?
            .into_iter()
            .filter(|r| r.principal() == Some(principal))
            .map(|r| r.id.into())
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        let mut out = Vec::new();
        for r in self
            .scan()?
            .into_iter()
            .filter(|r| r.is_expired(now))
            .take(limit)
        {
            self.inner.delete(&r.id)?;
            out.push(Arc::new(r));
        }
        Ok(out)
    }

    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        Ok(self.scan()?.iter().filter_map(Record::deadline).min())
    }

    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        Ok(self
            .scan()?
            .into_iter()
            .min_by(|a, b| a.accessed.cmp(&b.accessed).then_with(|| a.id.cmp(&b.id)))
            .map(|r| r.id.into()))
    }
}

/// A [`ByteStore`] in a map: the reference host store, used in tests.
#[derive(Debug, Default, Clone)]
pub struct MapByteStore {
    /// The stored bytes by id.
    pub map: alloc::collections::BTreeMap<String, Vec<u8>>,
}

impl ByteStore for MapByteStore {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map.get(id).cloned())
    }
    fn set(&mut self, id: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.map.insert(id.into(), bytes.to_vec());
        Ok(())
    }
    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self.map.remove(id).is_some())
    }
    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self.map.keys().cloned().collect())
    }
}
