//! Where sessions live: the atomic store contract (on [`Store`]) and the stores.

pub mod encoded;
#[cfg(feature = "std")]
pub mod file;
pub mod file_index;
pub mod memory;
pub mod port;
pub mod redis;

use crate::clock::Millis;
use crate::error::StoreError;
pub use crate::format::delta::Changes;
use crate::format::record::Record;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use compact_str::CompactString;

/// A page of records and the cursor for the next page (`None` at the end).
pub type Page = (Vec<Arc<Record>>, Option<String>);

/// The outcome of a compare-and-set ([`Store::replace`], [`Store::touch`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Cas {
    /// Written; the record as the store now holds it.
    Stored(Arc<Record>),
    /// Not written: the stored record has another version (it is returned), or there is
    /// none any more (`None`: destroyed or expired meanwhile).
    Conflict(Option<Arc<Record>>),
}

/// Storage of session records, keyed by id. All methods may fail with a [`StoreError`];
/// the manager then reports `STORE_ERROR` and leaves the session as it was.
///
/// Every write a store is asked to do is **conditional**, so that several processes (or
/// several requests interleaving in one event loop) can share one store without losing
/// updates or resurrecting a session:
///
/// - [`insert`](Store::insert) stores a record only if its id is free (create, regenerate);
/// - [`replace`](Store::replace) and [`touch`](Store::touch) compare-and-set on the stored
///   record's `version` (commit, touch); on a conflict the store hands back what it holds
///   now, and the core re-applies the session's change log to it and tries again;
/// - neither ever creates a record that is missing: a destroyed or expired session stays
///   gone whatever the interleaving;
/// - [`remove`](Store::remove) may be conditional on a version too (regenerate removes the
///   old id only if nobody committed to it meanwhile).
///
/// [`MemoryStore`](crate::MemoryStore) implements it natively with indexes. Hosts with their
/// own storage (a JS object, a Python object, a folder of files) implement the simpler
/// [`ByteStore`](crate::ByteStore) over encoded records, wrapped in
/// [`EncodedStore`](crate::EncodedStore). The same contract, as owned [`Request`]s and
/// [`Reply`]s, is what asynchronous drivers send.
///
/// Records travel as `Arc<Record>`: a store that keeps them in memory hands out shared
/// snapshots, and a session copies a record only when it first changes it.
///
/// `docs/stores.md` states the same contract for stores written in any language.
pub trait Store {
    /// The record with this id, if any.
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError>;

    /// Inserts `record` unless its id is taken; `false` on a collision (nothing written).
    fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError>;

    /// Replaces the record with `record.id` if, and only if, the stored one has version
    /// `expected`. A missing record is never created.
    fn replace(&mut self, record: Arc<Record>, expected: u64) -> Result<Cas, StoreError>;

    /// Raises the stored `accessed` time to `accessed` if the stored record has version
    /// `expected` (a touch changes nothing else, and does not bump the version).
    fn touch(&mut self, id: &str, accessed: Millis, expected: u64) -> Result<Cas, StoreError> {
        match self.get(id)? {
            Some(mut r) if r.version == expected => {
                if r.accessed >= accessed {
                    return Ok(Cas::Stored(r));
                }
                Arc::make_mut(&mut r).accessed = accessed;
                self.replace(r, expected)
            }
            other => Ok(Cas::Conflict(other)),
        }
    }

    /// Removes and returns the record with this id; with `expected`, only if the stored
    /// record has that version (otherwise nothing is removed and `None` is returned).
    fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError>;

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

    /// Whether [`Store::len`] is cheap (an O(1) counter), so the manager may ask for it
    /// after every `create` to keep `peak_active` exact. A store that counts by listing
    /// (a folder) says no: its peak is then noted whenever the count is read anyway
    /// (`count`, `metrics`, a policy with `max_sessions`). The default is yes.
    fn counts_cheaply(&self) -> bool {
        true
    }

    /// Answers one [`Request`]: the contract as a value, for drivers that pass requests
    /// around (every method above, one variant each).
    fn execute(&mut self, request: Request) -> Result<Reply, StoreError> {
        Ok(match request {
            Request::Get { id } => Reply::Record(self.get(&id)?),
            Request::Insert { record } => Reply::Inserted(self.insert(record)?),
            Request::Replace {
                record, expected, ..
            } => Reply::Cas(self.replace(record, expected)?),
            Request::Touch {
                id,
                accessed,
                expected,
                ..
            } => Reply::Cas(self.touch(&id, accessed, expected)?),
            Request::Remove { id, expected } => Reply::Record(self.remove(&id, expected)?),
            Request::Len => Reply::Len(self.len()?),
            Request::Page { cursor, limit } => Reply::Page(self.page(cursor.as_deref(), limit)?),
            Request::IdsOf { principal } => Reply::Ids(self.ids_of(&principal)?),
            Request::RemoveExpired { now, limit, .. } => {
                Reply::Records(self.remove_expired(now, limit)?)
            }
            Request::NextDeadline => Reply::Deadline(self.next_deadline()?),
            Request::LeastRecent => Reply::Id(self.least_recent()?),
        })
    }
}

/// One call of the [`Store`] contract, owned, so it can wait for asynchronous I/O.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// [`Store::get`].
    Get {
        /// The id.
        id: CompactString,
    },
    /// [`Store::insert`].
    Insert {
        /// The record to insert.
        record: Arc<Record>,
    },
    /// [`Store::replace`].
    Replace {
        /// The new record.
        record: Arc<Record>,
        /// The version the stored record must have.
        expected: u64,
        /// What changed since that version, for stores that write only what changed
        /// (Redis); `None` when the driver was not asked for it ([`Port::CHANGES`](crate::store::port::Port::CHANGES)):
        /// then the whole record is to be written.
        changes: Option<Changes>,
    },
    /// [`Store::touch`].
    Touch {
        /// The id.
        id: CompactString,
        /// The new access time.
        accessed: Millis,
        /// The version the stored record must have.
        expected: u64,
        /// The session's deadline once touched (for stores that expire records themselves).
        deadline: Option<Millis>,
    },
    /// [`Store::remove`].
    Remove {
        /// The id.
        id: CompactString,
        /// Remove only this version (`None`: whatever is stored).
        expected: Option<u64>,
    },
    /// [`Store::len`].
    Len,
    /// [`Store::page`].
    Page {
        /// Where to continue.
        cursor: Option<String>,
        /// At most this many records.
        limit: usize,
    },
    /// [`Store::ids_of`].
    IdsOf {
        /// The principal.
        principal: String,
    },
    /// [`Store::remove_expired`].
    RemoveExpired {
        /// The time to compare deadlines with.
        now: Millis,
        /// At most this many records.
        limit: usize,
        /// A hint for stores that find expired records by scanning ids in ascending order:
        /// the previous call of this sweep (same `now`) examined every id up to this one, the
        /// last it returned, so the scan may resume after it instead of re-reading the
        /// folder's live records batch after batch. Stores with a deadline index ignore it.
        after: Option<String>,
    },
    /// [`Store::next_deadline`].
    NextDeadline,
    /// [`Store::least_recent`].
    LeastRecent,
}

impl Request {
    /// The name of the request (the store method), for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Get { .. } => "get",
            Request::Insert { .. } => "insert",
            Request::Replace { .. } => "replace",
            Request::Touch { .. } => "touch",
            Request::Remove { .. } => "remove",
            Request::Len => "len",
            Request::Page { .. } => "page",
            Request::IdsOf { .. } => "ids_of",
            Request::RemoveExpired { .. } => "remove_expired",
            Request::NextDeadline => "next_deadline",
            Request::LeastRecent => "least_recent",
        }
    }
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// To `Get` and `Remove`.
    Record(Option<Arc<Record>>),
    /// To `Insert`.
    Inserted(bool),
    /// To `Replace` and `Touch`.
    Cas(Cas),
    /// To `Len`.
    Len(usize),
    /// To `Page`.
    Page(Page),
    /// To `IdsOf`.
    Ids(Vec<String>),
    /// To `RemoveExpired`.
    Records(Vec<Arc<Record>>),
    /// To `NextDeadline`.
    Deadline(Option<Millis>),
    /// To `LeastRecent`.
    Id(Option<String>),
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
    fn replace(&mut self, record: Arc<Record>, expected: u64) -> Result<Cas, StoreError> {
        either!(self, s => s.replace(record, expected))
    }
    fn touch(&mut self, id: &str, accessed: Millis, expected: u64) -> Result<Cas, StoreError> {
        either!(self, s => s.touch(id, accessed, expected))
    }
    fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        either!(self, s => s.remove(id, expected))
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
    fn counts_cheaply(&self) -> bool {
        either!(self, s => s.counts_cheaply())
    }
    fn execute(&mut self, request: Request) -> Result<Reply, StoreError> {
        either!(self, s => s.execute(request))
    }
}
