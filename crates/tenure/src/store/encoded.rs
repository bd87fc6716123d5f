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

    /// How many records are stored, if the store keeps an index that knows without
    /// listing (the default: `None`, and the core counts [`ids`](Self::ids)).
    fn count(&mut self) -> Result<Option<usize>, StoreError> {
        Ok(None)
    }

    /// Up to `limit` index entries as `(deadline, id)`: with `through`, any entries with a
    /// deadline at or before it (a sweep's, in no particular order); without, the earliest
    /// entries, earliest first (for `next_deadline` and eviction). `None` if the store keeps
    /// no deadline index (the default: the core then reads every record). An entry may name a session that is
    /// gone or whose deadline moved (the core checks the record and calls
    /// [`unindex`](Self::unindex)), but a live session is never missing.
    fn due(
        &mut self,
        through: Option<Millis>,
        limit: usize,
    ) -> Result<Option<Vec<Due>>, StoreError> {
        let _ = (through, limit);
        Ok(None)
    }

    /// The ids the store's principal index files under `principal` (they may include
    /// sessions now gone or of another principal: the core checks each record), or
    /// `None` without such an index (the default).
    fn ids_of(&mut self, principal: &str) -> Result<Option<Vec<String>>, StoreError> {
        let _ = principal;
        Ok(None)
    }

    /// Removes the due entry `(deadline, id)`, which the core found stale (the session is
    /// gone, or its deadline moved); `true` if there was one. Only ever asked for a deadline
    /// already past, so a session alive now cannot lose its entry to it.
    fn unindex(&mut self, id: &str, deadline: Millis) -> Result<bool, StoreError> {
        let _ = (id, deadline);
        Ok(false)
    }

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
            ByteRequest::Count => ByteReply::Count(self.count()?),
            ByteRequest::Due { through, limit } => ByteReply::Due(self.due(through, limit)?),
            ByteRequest::IdsOf { principal } => ByteReply::IdsOf(self.ids_of(&principal)?),
            ByteRequest::Unindex { id, deadline } => ByteReply::Done(self.unindex(&id, deadline)?),
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
    /// `count()` (optional: a store without an index answers `None`).
    Count,
    /// `due(through, limit)` (optional).
    Due {
        /// Entries due at or before this time (`None`: any).
        through: Option<Millis>,
        /// At most this many.
        limit: usize,
    },
    /// `ids_of(principal)` (optional).
    IdsOf {
        /// The principal.
        principal: String,
    },
    /// `unindex(id, deadline)` (optional).
    Unindex {
        /// The id.
        id: CompactString,
        /// The deadline the stale entry is filed under.
        deadline: Millis,
    },
}

/// A deadline index entry: `(deadline, id)`.
pub type Due = (Millis, String);

impl ByteRequest {
    /// The protocol method's name.
    pub fn name(&self) -> &'static str {
        match self {
            ByteRequest::Get { .. } => "get",
            ByteRequest::Insert { .. } => "insert",
            ByteRequest::Replace { .. } => "replace",
            ByteRequest::Delete { .. } => "delete",
            ByteRequest::Ids => "ids",
            ByteRequest::Count => "count",
            ByteRequest::Due { .. } => "due",
            ByteRequest::IdsOf { .. } => "ids_of",
            ByteRequest::Unindex { .. } => "unindex",
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
    /// To `count`: `None` without an index.
    Count(Option<usize>),
    /// To `due`: `None` without an index.
    Due(Option<Vec<Due>>),
    /// To `ids_of`: `None` without an index.
    IdsOf(Option<Vec<String>>),
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

    async fn count(&mut self) -> Result<usize, StoreError> {
        match self.port.call(ByteRequest::Count).await? {
            ByteReply::Count(Some(n)) => Ok(n),
            ByteReply::Count(None) => Ok(self.ids().await?.len()),
            _ => Err(mismatch("count")),
        }
    }

    /// The store's due entries, or `None` if it keeps no deadline index.
    async fn due(
        &mut self,
        through: Option<Millis>,
        limit: usize,
    ) -> Result<Option<Vec<Due>>, StoreError> {
        match self.port.call(ByteRequest::Due { through, limit }).await? {
            ByteReply::Due(d) => Ok(d),
            _ => Err(mismatch("due")),
        }
    }

    async fn unindex(&mut self, id: &str, deadline: Millis) -> Result<bool, StoreError> {
        self.done(ByteRequest::Unindex {
            id: id.into(),
            deadline,
        })
        .await
    }

    /// The ids of `principal`'s sessions: from the store's principal index if it has one
    /// (each record checked), else from every record.
    async fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        let request = ByteRequest::IdsOf {
            principal: principal.into(),
        };
        let candidates = match self.port.call(request).await? {
            ByteReply::IdsOf(c) => c,
            _ => return Err(mismatch("ids_of")),
        };
        let mut ids: Vec<String> = match candidates {
            Some(candidates) => {
                let mut ids = Vec::new();
                for id in candidates {
                    let Some(bytes) = self.get_bytes(&id).await? else {
                        continue;
                    };
                    if decode(&id, &bytes, &self.limits)
                        .is_ok_and(|r| r.principal() == Some(principal))
                    {
                        ids.push(id);
                    }
                }
                ids
            }
            None => self
                .scan()
                .await?
                .into_iter()
                .filter(|r| r.principal() == Some(principal))
                .map(|r| r.id.into())
                .collect(),
        };
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Removes up to `limit` expired records: through the store's deadline index if it
    /// has one (reading only the entries due, pruning those that are stale), else by
    /// reading the records in id order.
    async fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        let mut out = Vec::new();
        // Entries looked at by this call: one whose removal lost a race stays listed. A
        // sorted vector, not a set type: one generic copy less in the browser module.
        let mut seen: Vec<Due> = Vec::new();
        while out.len() < limit {
            let Some(entries) = self.due(Some(now), limit + seen.len()).await? else {
                return self.remove_expired_by_scan(now, limit, after).await;
            };
            let fresh: Vec<Due> = entries
                .into_iter()
                .filter(|e| seen.binary_search(e).is_err())
                .collect();
            if fresh.is_empty() {
                break;
            }
            for (deadline, id) in fresh {
                if out.len() == limit {
                    break;
                }
                let entry = (deadline, id.clone());
                if let Err(at) = seen.binary_search(&entry) {
                    seen.insert(at, entry);
                }
                let record = match self.get_bytes(&id).await? {
                    Some(bytes) => decode(&id, &bytes, &self.limits).ok(),
                    None => None,
                };
                match record {
                    Some(r) if r.is_expired(now) => out.extend(self.reap(r).await?),
                    // Its deadline moved on (the entry is past, the session is not).
                    Some(r) if r.deadline() == Some(deadline) => {}
                    // Gone, corrupt (never swept: left for a human), or moved: the entry is
                    // stale, and past, so no live session can depend on it.
                    _ => {
                        self.unindex(&id, deadline).await?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// The earliest deadline: the first due entry if the store keeps a deadline index (a
    /// lower bound: the session may have been active since), else from every record.
    async fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        match self.due(None, 1).await? {
            Some(entries) => Ok(entries.first().map(|e| e.0)),
            None => Ok(self.scan().await?.iter().filter_map(Record::deadline).min()),
        }
    }

    /// The session to evict: with a deadline index, the stored session closest to its
    /// deadline (for sessions of one idle timeout, the least recently active); else the
    /// least recently accessed of every record.
    async fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        let mut skipped = 0;
        loop {
            let want = 16 + skipped;
            let Some(entries) = self.due(None, want).await? else {
                break;
            };
            let n = entries.len();
            // Entries of sessions that are gone are skipped, not pruned: one may belong to
            // an insert in progress in another process.
            for (_, id) in entries.into_iter().skip(skipped) {
                if self.get_bytes(&id).await?.is_some() {
                    return Ok(Some(id));
                }
                skipped += 1;
            }
            if n < want {
                break;
            }
        }
        Ok(self
            .scan()
            .await?
            .into_iter()
            .min_by(|a, b| a.accessed.cmp(&b.accessed).then_with(|| a.id.cmp(&b.id)))
            .map(|r| r.id.into()))
    }

    /// Reads records one at a time, in id order from after `after` (where the previous
    /// batch of this sweep stopped), and stops at `limit` removals: a sweep reads each
    /// record once, instead of every record once per batch.
    async fn remove_expired_by_scan(
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
            if r.is_expired(now) {
                out.extend(self.reap(r).await?);
            }
        }
        Ok(out)
    }

    /// Removes an expired record a sweep read, only at the version it read: a record
    /// another process touched since stays. The record, if it was removed.
    async fn reap(&mut self, r: Record) -> Result<Option<Arc<Record>>, StoreError> {
        let removed = self
            .done(ByteRequest::Delete {
                id: r.id.clone(),
                expected: Some(r.version),
            })
            .await?;
        Ok(removed.then(|| Arc::new(r)))
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
            Request::Len => Reply::Len(self.count().await?),
            Request::Page { cursor, limit } => {
                Reply::Page(self.page(cursor.as_deref(), limit).await?)
            }
            Request::IdsOf { principal } => Reply::Ids(self.ids_of(&principal).await?),
            Request::RemoveExpired { now, limit, after } => {
                Reply::Records(self.remove_expired(now, limit, after.as_deref()).await?)
            }
            Request::NextDeadline => Reply::Deadline(self.next_deadline().await?),
            Request::LeastRecent => Reply::Id(self.least_recent().await?),
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
        expect_reply!(self.run(Request::Len), Reply::Len(n) => n, "len")
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
