//! Host stores over encoded records: the bridge that lets JS and Python keep sessions
//! wherever they like (an object, a folder, localStorage, a database) while the rules stay
//! here.
//!
//! A host implements five calls over bytes ([`ByteStore`], or [`BytePort`] when its calls
//! are asynchronous); [`Encoded`] turns them into the full [`Store`] contract once, for
//! every driver: records are encoded with the v1 format on the way in and decoded (as
//! untrusted input) on the way out.

use crate::clock::Millis;
use crate::error::StoreError;
use crate::format::limits::Limits;
use crate::format::record::Record;
use crate::store::port::{mismatch, not_ready, run_ready, Port};
use crate::store::{Cas, Page, Reply, Request, Store};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use compact_str::CompactString;
use core::future::Future;

/// The store protocol a host implements: bytes in, bytes out, keyed by session id. The
/// writes are conditional (see `docs/stores.md`), which is what keeps several processes
/// sharing one store from losing updates.
pub trait ByteStore {
    /// The encoded record stored under `id`.
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores `bytes` under `id` unless `id` is taken; `false` (nothing written) if it is.
    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError>;
    /// Replaces what is stored under `id` with `bytes` if, and only if, the stored record's
    /// `version` is `expected` (see [`stored_version`](crate::format::record::stored_version)),
    /// atomically with respect to every other writer. `false` if not written; never creates.
    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError>;
    /// Removes `id` (with `expected`: only if the stored version is `expected`); `true` if
    /// something was removed.
    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError>;
    /// Every stored id.
    fn ids(&mut self) -> Result<Vec<String>, StoreError>;

    /// Answers one [`ByteRequest`].
    fn execute(&mut self, request: ByteRequest) -> Result<ByteReply, StoreError> {
        Ok(match request {
            ByteRequest::Get { id } => ByteReply::Bytes(self.get(&id)?),
            ByteRequest::Insert { id, bytes } => ByteReply::Done(self.insert(&id, &bytes)?),
            ByteRequest::Replace {
                id,
                bytes,
                expected,
            } => ByteReply::Done(self.replace(&id, &bytes, expected)?),
            ByteRequest::Delete { id, expected } => ByteReply::Done(self.delete(&id, expected)?),
            ByteRequest::Ids => ByteReply::Ids(self.ids()?),
        })
    }
}

/// One call of the [`ByteStore`] protocol, owned (what a JS or Python driver performs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ByteRequest {
    /// `get(id)`.
    Get {
        /// The id.
        id: CompactString,
    },
    /// `insert(id, bytes)`.
    Insert {
        /// The id.
        id: CompactString,
        /// The encoded record.
        bytes: Vec<u8>,
    },
    /// `replace(id, bytes, expected)`.
    Replace {
        /// The id.
        id: CompactString,
        /// The encoded record.
        bytes: Vec<u8>,
        /// The version the stored record must have.
        expected: u64,
    },
    /// `delete(id, expected)`.
    Delete {
        /// The id.
        id: CompactString,
        /// Delete only this version.
        expected: Option<u64>,
    },
    /// `ids()`.
    Ids,
}

impl ByteRequest {
    /// The protocol method's name.
    pub fn name(&self) -> &'static str {
        match self {
            ByteRequest::Get { .. } => "get",
            ByteRequest::Insert { .. } => "insert",
            ByteRequest::Replace { .. } => "replace",
            ByteRequest::Delete { .. } => "delete",
            ByteRequest::Ids => "ids",
        }
    }
}

/// The answer to a [`ByteRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ByteReply {
    /// To `get`: the bytes, if any.
    Bytes(Option<Vec<u8>>),
    /// To `insert`, `replace`, `delete`: whether it happened.
    Done(bool),
    /// To `ids`.
    Ids(Vec<String>),
}

/// Where [`Encoded`] sends byte-level requests (a host's store, possibly asynchronous).
pub trait BytePort {
    /// Answers one byte-level request.
    fn call(&mut self, request: ByteRequest)
        -> impl Future<Output = Result<ByteReply, StoreError>>;
}

/// A [`BytePort`] over a synchronous [`ByteStore`].
#[derive(Debug)]
pub struct SyncBytePort<'a, B>(pub &'a mut B);

impl<B: ByteStore> BytePort for SyncBytePort<'_, B> {
    fn call(
        &mut self,
        request: ByteRequest,
    ) -> impl Future<Output = Result<ByteReply, StoreError>> {
        core::future::ready(self.0.execute(request))
    }
}

/// The full store contract over a byte-level port: the one place where records meet a
/// host store's bytes, for the sync and the async drivers alike.
///
/// Without indexes of its own, `remove_expired`, `ids_of`, `next_deadline` and
/// `least_recent` read every record: O(n). A corrupt record is reported by `get` as a
/// `STORE_ERROR` and skipped by those scans, never a crash.
#[derive(Debug)]
pub struct Encoded<P> {
    port: P,
    limits: Limits,
}

fn decode(id: &str, bytes: &[u8], limits: &Limits) -> Result<Record, StoreError> {
    let r = Record::decode(bytes, limits)
        .map_err(|e| StoreError::new(format!("corrupt record {id}: {e}")))?;
    if r.id != id {
        return Err(StoreError::new(format!(
            "record stored under {id} has id {}",
            r.id
        )));
    }
    Ok(r)
}

impl<P: BytePort> Encoded<P> {
    /// The contract over `port`, decoding records within `limits`.
    pub fn new(port: P, limits: Limits) -> Self {
        Encoded { port, limits }
    }

    async fn get_bytes(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self.port.call(ByteRequest::Get { id: id.into() }).await? {
            ByteReply::Bytes(b) => Ok(b),
            _ => Err(mismatch("get")),
        }
    }

    async fn done(&mut self, request: ByteRequest) -> Result<bool, StoreError> {
        let name = request.name();
        match self.port.call(request).await? {
            ByteReply::Done(b) => Ok(b),
            _ => Err(mismatch(name)),
        }
    }

    async fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        match self.port.call(ByteRequest::Ids).await? {
            ByteReply::Ids(ids) => Ok(ids),
            _ => Err(mismatch("ids")),
        }
    }

    async fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        match self.get_bytes(id).await? {
            Some(bytes) => decode(id, &bytes, &self.limits).map(|r| Some(Arc::new(r))),
            None => Ok(None),
        }
    }

    /// Every record that decodes; corrupt ones are skipped.
    async fn scan(&mut self) -> Result<Vec<Record>, StoreError> {
        let ids = self.ids().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(bytes) = self.get_bytes(&id).await? {
                if let Ok(r) = decode(&id, &bytes, &self.limits) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    async fn conflict(&mut self, id: &str) -> Result<Cas, StoreError> {
        Ok(Cas::Conflict(self.get(id).await?))
    }

    async fn replace(&mut self, record: Arc<Record>, expected: u64) -> Result<Cas, StoreError> {
        let request = ByteRequest::Replace {
            id: record.id.clone(),
            bytes: record.encode(),
            expected,
        };
        if self.done(request).await? {
            Ok(Cas::Stored(record))
        } else {
            self.conflict(&record.id).await
        }
    }

    async fn touch(
        &mut self,
        id: &str,
        accessed: Millis,
        expected: u64,
    ) -> Result<Cas, StoreError> {
        match self.get(id).await? {
            Some(mut r) if r.version == expected => {
                if r.accessed >= accessed {
                    return Ok(Cas::Stored(r));
                }
                Arc::make_mut(&mut r).accessed = accessed;
                self.replace(r, expected).await
            }
            other => Ok(Cas::Conflict(other)),
        }
    }

    async fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        let Some(bytes) = self.get_bytes(id).await? else {
            return Ok(None);
        };
        let old = decode(id, &bytes, &self.limits).ok();
        if let (Some(want), Some(old)) = (expected, &old) {
            if old.version != want {
                return Ok(None);
            }
        }
        let removed = self
            .done(ByteRequest::Delete {
                id: id.into(),
                expected,
            })
            .await?;
        if !removed {
            return Ok(None);
        }
        // A corrupt record is still removed; it reports as unreadable (lifetime unknown).
        Ok(Some(Arc::new(
            old.unwrap_or_else(|| Record::unreadable(id)),
        )))
    }

    async fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        // The cursor is the last id returned; ids are listed in ascending order.
        let mut ids = self.ids().await?;
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
            if let Some(bytes) = self.get_bytes(&id).await? {
                if let Ok(r) = decode(&id, &bytes, &self.limits) {
                    out.push(Arc::new(r));
                }
            }
            last = Some(id);
        }
        Ok((out, if more { last } else { None }))
    }

    /// Reads records one at a time, in id order from after `after` (where the previous
    /// batch of this sweep stopped), and stops at `limit` removals: a sweep reads each
    /// record once, instead of every record once per batch.
    async fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        let mut ids = self.ids().await?;
        ids.sort_unstable();
        let start = after.map_or(0, |a| ids.partition_point(|id| id.as_str() <= a));
        let mut out = Vec::new();
        for id in &ids[start..] {
            if out.len() == limit {
                break;
            }
            let Some(bytes) = self.get_bytes(id).await? else {
                continue;
            };
            let Ok(r) = decode(id, &bytes, &self.limits) else {
                continue;
            };
            if !r.is_expired(now) {
                continue;
            }
            // Conditional: a record another process touched since the scan stays.
            let removed = self
                .done(ByteRequest::Delete {
                    id: r.id.clone(),
                    expected: Some(r.version),
                })
                .await?;
            if removed {
                out.push(Arc::new(r));
            }
        }
        Ok(out)
    }
}

impl<P: BytePort> Port for Encoded<P> {
    /// Counting lists every id (a folder): not done on every create.
    fn counts_cheaply(&self) -> bool {
        false
    }

    async fn call(&mut self, request: Request) -> Result<Reply, StoreError> {
        Ok(match request {
            Request::Get { id } => Reply::Record(self.get(&id).await?),
            Request::Insert { record } => {
                let request = ByteRequest::Insert {
                    id: record.id.clone(),
                    bytes: record.encode(),
                };
                Reply::Inserted(self.done(request).await?)
            }
            Request::Replace {
                record, expected, ..
            } => Reply::Cas(self.replace(record, expected).await?),
            Request::Touch {
                id,
                accessed,
                expected,
                ..
            } => Reply::Cas(self.touch(&id, accessed, expected).await?),
            Request::Remove { id, expected } => Reply::Record(self.remove(&id, expected).await?),
            Request::Len => Reply::Len(self.ids().await?.len()),
            Request::Page { cursor, limit } => {
                Reply::Page(self.page(cursor.as_deref(), limit).await?)
            }
            Request::IdsOf { principal } => {
                let mut ids: Vec<String> = self
                    .scan()
                    .await?
                    .into_iter()
                    .filter(|r| r.principal() == Some(principal.as_str()))
                    .map(|r| r.id.into())
                    .collect();
                ids.sort_unstable();
                Reply::Ids(ids)
            }
            Request::RemoveExpired { now, limit, after } => {
                Reply::Records(self.remove_expired(now, limit, after.as_deref()).await?)
            }
            Request::NextDeadline => {
                Reply::Deadline(self.scan().await?.iter().filter_map(Record::deadline).min())
            }
            Request::LeastRecent => Reply::Id(
                self.scan()
                    .await?
                    .into_iter()
                    .min_by(|a, b| a.accessed.cmp(&b.accessed).then_with(|| a.id.cmp(&b.id)))
                    .map(|r| r.id.into()),
            ),
        })
    }
}

/// A synchronous [`Store`] over a [`ByteStore`] (the sync manager's host stores).
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

    fn run(&mut self, request: Request) -> Result<Reply, StoreError> {
        let mut encoded = Encoded::new(SyncBytePort(&mut self.inner), self.limits);
        run_ready(encoded.call(request)).unwrap_or_else(|| Err(not_ready()))
    }
}

macro_rules! expect_reply {
    ($reply:expr, $pat:pat => $v:expr, $name:literal) => {
        match $reply? {
            $pat => Ok($v),
            _ => Err(mismatch($name)),
        }
    };
}

impl<B: ByteStore> Store for EncodedStore<B> {
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        expect_reply!(self.run(Request::Get { id: id.into() }), Reply::Record(r) => r, "get")
    }
    fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError> {
        expect_reply!(self.run(Request::Insert { record }), Reply::Inserted(b) => b, "insert")
    }
    fn replace(&mut self, record: Arc<Record>, expected: u64) -> Result<Cas, StoreError> {
        let request = Request::Replace {
            record,
            expected,
            changes: None,
        };
        expect_reply!(self.run(request), Reply::Cas(c) => c, "replace")
    }
    fn touch(&mut self, id: &str, accessed: Millis, expected: u64) -> Result<Cas, StoreError> {
        let request = Request::Touch {
            id: id.into(),
            accessed,
            expected,
            deadline: None,
        };
        expect_reply!(self.run(request), Reply::Cas(c) => c, "touch")
    }
    fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        let request = Request::Remove {
            id: id.into(),
            expected,
        };
        expect_reply!(self.run(request), Reply::Record(r) => r, "remove")
    }
    fn len(&mut self) -> Result<usize, StoreError> {
        Ok(self.inner.ids()?.len())
    }
    fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        let request = Request::Page {
            cursor: cursor.map(String::from),
            limit,
        };
        expect_reply!(self.run(request), Reply::Page(p) => p, "page")
    }
    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        let request = Request::IdsOf {
            principal: principal.into(),
        };
        expect_reply!(self.run(request), Reply::Ids(ids) => ids, "ids_of")
    }
    fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        let request = Request::RemoveExpired {
            now,
            limit,
            after: None,
        };
        expect_reply!(self.run(request), Reply::Records(r) => r, "remove_expired")
    }
    fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        expect_reply!(self.run(Request::NextDeadline), Reply::Deadline(d) => d, "next_deadline")
    }
    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        expect_reply!(self.run(Request::LeastRecent), Reply::Id(id) => id, "least_recent")
    }
    fn counts_cheaply(&self) -> bool {
        false
    }
    /// Every request through the encoded contract (which reads the sweep's `after` hint).
    fn execute(&mut self, request: Request) -> Result<Reply, StoreError> {
        self.run(request)
    }
}

/// A [`ByteStore`] in a map: the reference host store (single process), used in tests.
#[derive(Debug, Default, Clone)]
pub struct MapByteStore {
    /// The stored bytes by id.
    pub map: alloc::collections::BTreeMap<String, Vec<u8>>,
}

impl MapByteStore {
    fn version(&self, id: &str) -> Option<u64> {
        self.map
            .get(id)
            .and_then(|b| crate::format::record::stored_version(b))
    }
}

impl ByteStore for MapByteStore {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map.get(id).cloned())
    }
    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        if self.map.contains_key(id) {
            return Ok(false);
        }
        self.map.insert(id.into(), bytes.to_vec());
        Ok(true)
    }
    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        if self.version(id) != Some(expected) {
            return Ok(false);
        }
        self.map.insert(id.into(), bytes.to_vec());
        Ok(true)
    }
    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        if expected.is_some() && self.version(id) != expected {
            return Ok(false);
        }
        Ok(self.map.remove(id).is_some())
    }
    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self.map.keys().cloned().collect())
    }
}
