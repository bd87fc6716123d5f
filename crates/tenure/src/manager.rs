//! The session manager: a sans-I/O state machine over a [`Store`], a [`Clock`] and an
//! [`Entropy`] source, enforcing a [`Policy`].

use crate::clock::Clock;
use crate::data::DataMap;
use crate::delta::{self, Op};
use crate::entropy::Entropy;
use crate::error::{Error, StoreError};
use crate::event::Event;
use crate::metrics::{Counters, Metrics};
use crate::policy::{OnFull, Policy};
use crate::record::Record;
use crate::session::Session;
use crate::store::Store;
use crate::{id, Millis};
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use compact_str::CompactString;

/// How many fresh ids `create` and `regenerate` try before giving up. With 128-bit ids a
/// second try is already astronomically unlikely; more than a few means a broken RNG.
const ID_ATTEMPTS: usize = 8;
/// Batch size for sweeps and full listings.
const BATCH: usize = 256;

/// Creates, opens, commits, regenerates, expires and destroys sessions.
///
/// Time comes from the clock on every call; nothing happens between calls. Call
/// [`sweep`](Self::sweep) when [`next_deadline`](Self::next_deadline) says so (or never:
/// expiry is also enforced lazily on every `open` and `commit`).
#[derive(Debug)]
pub struct SessionManager<S, C, E> {
    store: S,
    clock: C,
    entropy: E,
    policy: Policy,
    events: Vec<Event>,
    counters: Counters,
}

#[cfg(feature = "std")]
impl SessionManager<crate::MemoryStore, crate::SystemClock, crate::OsEntropy> {
    /// An in-memory manager on the system clock and the OS's randomness.
    ///
    /// ```
    /// let mut m = tenure::SessionManager::in_memory(tenure::Policy::default());
    /// let s = m.create(None, None).unwrap();
    /// assert!(m.open(s.id()).unwrap().is_some());
    /// ```
    pub fn in_memory(policy: Policy) -> Self {
        SessionManager::new(
            crate::MemoryStore::new(),
            crate::SystemClock,
            crate::OsEntropy,
            policy,
        )
    }
}

impl<S: Store, C: Clock, E: Entropy> SessionManager<S, C, E> {
    /// A manager over the given parts.
    pub fn new(mut store: S, clock: C, entropy: E, policy: Policy) -> Self {
        if policy.max_sessions().is_some() && policy.on_full() == OnFull::EvictLru {
            store.track_recency();
        }
        SessionManager {
            store,
            clock,
            entropy,
            policy,
            events: Vec::new(),
            counters: Counters::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (changes made behind the manager's back are the caller's risk).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The clock's current time.
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    fn gone(id: &str) -> Error {
        Error::SessionGone { id: id.to_string() }
    }

    fn fresh_id(&mut self) -> Result<CompactString, Error> {
        id::generate(&mut self.entropy, self.policy.id_bytes())
    }

    fn note_ended(&mut self, record: &Record, now: Millis) {
        self.counters.ended(now.saturating_sub(record.created));
    }

    fn expire(&mut self, id: &str, now: Millis) -> Result<(), Error> {
        if let Some(r) = self.store.remove(id)? {
            self.counters.expired_total += 1;
            self.note_ended(&r, now);
            self.events.push(Event::Expired { id: id.to_string() });
        }
        Ok(())
    }

    /// The current record of a live session, expiring it lazily if its time has come.
    fn load_live(&mut self, id: &str, now: Millis) -> Result<Option<Arc<Record>>, Error> {
        if !id::is_plausible(id) {
            return Ok(None);
        }
        self.load_minted(id, now)
    }

    /// [`load_live`](Self::load_live) for an id this manager minted (a session's own).
    fn load_minted(&mut self, id: &str, now: Millis) -> Result<Option<Arc<Record>>, Error> {
        match self.store.get(id)? {
            Some(r) if r.is_expired(now) => {
                self.expire(id, now)?;
                Ok(None)
            }
            other => Ok(other),
        }
    }

    /// Makes room for one more session, per `max_sessions` and `on_full`.
    fn make_room(&mut self, now: Millis) -> Result<(), Error> {
        let Some(max) = self.policy.max_sessions() else {
            return Ok(());
        };
        if self.store.len()? >= max {
            self.sweep()?;
        }
        while self.store.len()? >= max {
            match self.policy.on_full() {
                OnFull::Reject => {
                    self.counters.rejected_total += 1;
                    self.events.push(Event::Rejected);
                    return Err(Error::TooManySessions { max });
                }
                OnFull::EvictLru => {
                    let victim = self
                        .store
                        .least_recent()?
                        .ok_or_else(|| StoreError::new("store is full but lists no session"))?;
                    if let Some(r) = self.store.remove(&victim)? {
                        self.counters.evicted_total += 1;
                        self.note_ended(&r, now);
                        self.events.push(Event::Evicted { id: victim });
                    }
                }
            }
        }
        Ok(())
    }

    fn note_active(&mut self) -> Result<(), Error> {
        let n = self.store.len()?;
        self.counters.peak_active = self.counters.peak_active.max(n);
        Ok(())
    }

    /// Creates a session, optionally for `principal` and with initial `data`. Values are
    /// validated (by the rules of [`Session::set`]) before anything is stored. Fails with
    /// `TOO_MANY_SESSIONS` when full and the policy rejects.
    ///
    /// ```
    /// use tenure::{DataMap, Policy, SessionManager, Value};
    /// let mut m = SessionManager::in_memory(Policy::default());
    /// let data: DataMap = [("theme", Value::from("dark"))].into_iter().collect();
    /// let s = m.create(Some("alice"), Some(data)).unwrap();
    /// assert_eq!(s.get("theme"), Some(&Value::from("dark")));
    /// ```
    pub fn create(
        &mut self,
        principal: Option<&str>,
        data: Option<DataMap>,
    ) -> Result<Session, Error> {
        let now = self.clock.now();
        let limits = *self.policy.limits();
        // The record is built and checked once, in place: no scratch copies.
        let mut record = Record::new(
            CompactString::default(),
            now,
            self.policy.idle_timeout(),
            self.policy.absolute_timeout(),
        );
        if let Some(p) = principal {
            let op = Op::SetPrincipal {
                principal: Some(p.into()),
            };
            op.validate(&limits)?;
            record.set_principal(Some(p.into()));
        }
        if let Some(data) = data {
            for (k, v) in data.iter() {
                delta::check_entry(k, v, &limits)?;
            }
            record.data = data;
            record.check_payload(&limits)?;
        }
        record.version = 1;
        self.make_room(now)?;
        for _ in 0..ID_ATTEMPTS {
            record.id = self.fresh_id()?;
            let shared = Arc::new(record);
            if self.store.insert(shared.clone())? {
                self.counters.created_total += 1;
                self.note_active()?;
                self.events.push(Event::Created {
                    id: shared.id.to_string(),
                });
                return Ok(Session::from_shared(shared, limits));
            }
            // The store kept no reference on a collision: take the record back.
            record = Arc::try_unwrap(shared).unwrap_or_else(|r| (*r).clone());
        }
        Err(
            StoreError::new("could not mint an unused session id (is the entropy source broken?)")
                .into(),
        )
    }

    /// Opens a live session and touches it (persisting the touch once `touch_interval` has
    /// passed). Unknown, implausible or expired ids give `None`; an expired session is
    /// destroyed on the spot. Ids are never adopted: only `create` mints them.
    pub fn open(&mut self, id: &str) -> Result<Option<Session>, Error> {
        let now = self.clock.now();
        let Some(record) = self.load_live(id, now)? else {
            return Ok(None);
        };
        let record = if self.touch_due(record.accessed, now) {
            // Drop our snapshot first so the store can update its record in place.
            drop(record);
            match self.store.touch(id, now)? {
                Some(r) => r,
                None => return Ok(None),
            }
        } else {
            record
        };
        let mut s = Session::from_shared(record, *self.policy.limits());
        s.set_last_access(now.max(s.last_access()));
        Ok(Some(s))
    }

    /// Reads a live session without touching it.
    pub fn peek(&mut self, id: &str) -> Result<Option<Session>, Error> {
        let now = self.clock.now();
        Ok(self
            .load_live(id, now)?
            .map(|r| Session::from_shared(r, *self.policy.limits())))
    }

    /// Merges the session's change log onto the *current* stored record and stores the
    /// result; the session then shows the merged state. Fails with `SESSION_GONE` if the
    /// session was destroyed or expired meanwhile (it is never resurrected). On any error
    /// the store and the session's pending changes are as they were.
    pub fn commit(&mut self, session: &mut Session) -> Result<(), Error> {
        let now = self.clock.now();
        let current = self
            .load_minted(session.id(), now)?
            .ok_or_else(|| Self::gone(session.id()))?;
        let due = self.touch_due(current.accessed, now);
        if !session.is_modified() {
            let current = if due {
                drop(current);
                self.store
                    .touch(session.id(), now)?
                    .ok_or_else(|| Self::gone(session.id()))?
            } else {
                current
            };
            session.replace_record(current);
            return Ok(());
        }
        let version = current.version.saturating_add(1);
        let accessed = if due { now } else { current.accessed };
        if current.version == session.base_version() {
            // Nobody committed since this copy was read: the copy, which already holds its
            // own changes (checked against the limits as they were made), is the merge.
            let mut next = session.swap_record(current);
            let (old_version, old_accessed) = (next.version, next.accessed);
            {
                let r = Arc::make_mut(&mut next);
                r.version = version;
                r.accessed = accessed;
            }
            return match self.store.put(next.clone()) {
                Ok(()) => {
                    session.replace_record(next);
                    Ok(())
                }
                Err(e) => {
                    let r = Arc::make_mut(&mut next);
                    r.version = old_version;
                    r.accessed = old_accessed;
                    session.swap_record(next);
                    Err(e.into())
                }
            };
        }
        let mut next = session.changes().apply(&current, self.policy.limits())?;
        next.version = version;
        next.accessed = accessed;
        let next = Arc::new(next);
        self.store.put(next.clone())?;
        session.replace_record(next);
        Ok(())
    }

    fn touch_due(&self, accessed: Millis, now: Millis) -> bool {
        now >= accessed.saturating_add(self.policy.touch_interval()) && now > accessed
    }

    /// Moves the session to a fresh id (pending changes included), writing the new record
    /// before removing the old one: the session-fixation defence, for login and every
    /// privilege change. With `clear`, data and flash messages are dropped.
    pub fn regenerate(&mut self, session: &mut Session, clear: bool) -> Result<(), Error> {
        let now = self.clock.now();
        let old = session.id().to_string();
        let current = self.load_live(&old, now)?.ok_or_else(|| Self::gone(&old))?;
        let mut next = session.changes().apply(&current, self.policy.limits())?;
        if clear {
            next.data.clear();
            next.replace_flash(Vec::new());
        }
        next.version = current.version.saturating_add(1);
        next.accessed = current.accessed.max(now);
        drop(current);
        let mut inserted = None;
        for _ in 0..ID_ATTEMPTS {
            next.id = self.fresh_id()?;
            let shared = Arc::new(next.clone());
            if self.store.insert(shared.clone())? {
                inserted = Some(shared);
                break;
            }
        }
        let Some(next) = inserted else {
            return Err(StoreError::new("could not mint an unused session id").into());
        };
        if let Err(e) = self.store.remove(&old) {
            // Roll back so exactly one copy exists and the session is as it was. If the
            // store fails this removal too, the new copy stays behind under an id nobody
            // was given: unreachable, and removed by the sweep at its deadline.
            let _ = self.store.remove(&next.id);
            return Err(e.into());
        }
        self.events.push(Event::Regenerated {
            old,
            new: next.id.to_string(),
            cleared: clear,
        });
        session.replace_record(next);
        Ok(())
    }

    /// Destroys a session; `true` if it existed.
    pub fn destroy(&mut self, id: &str) -> Result<bool, Error> {
        if !id::is_plausible(id) {
            return Ok(false);
        }
        let now = self.clock.now();
        match self.store.remove(id)? {
            Some(r) => {
                self.counters.destroyed_total += 1;
                self.note_ended(&r, now);
                self.events.push(Event::Destroyed { id: id.to_string() });
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Destroys every session of `principal` except `except` ("log out everywhere else").
    /// Returns how many were destroyed.
    pub fn destroy_all_of(
        &mut self,
        principal: &str,
        except: Option<&str>,
    ) -> Result<usize, Error> {
        let mut n = 0;
        for id in self.store.ids_of(principal)? {
            if Some(id.as_str()) != except && self.destroy(&id)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The live sessions of `principal`, read without touching them.
    pub fn sessions_of(&mut self, principal: &str) -> Result<Vec<Arc<Record>>, Error> {
        let now = self.clock.now();
        let mut out = Vec::new();
        for id in self.store.ids_of(principal)? {
            if let Some(r) = self.load_live(&id, now)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// How many live sessions there are (sweeping the expired first).
    pub fn count(&mut self) -> Result<usize, Error> {
        self.sweep()?;
        Ok(self.store.len()?)
    }

    /// A page of up to `limit` live sessions from `cursor` (`None`: the start), read
    /// without touching, and the cursor of the next page (`None` at the end). The order is
    /// the store's; a session alive for the whole listing is listed exactly once.
    pub fn list(
        &mut self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Arc<Record>>, Option<String>), Error> {
        let now = self.clock.now();
        let (page, next) = self.store.page(cursor, limit.max(1))?;
        Ok((
            page.into_iter().filter(|r| !r.is_expired(now)).collect(),
            next,
        ))
    }

    /// Destroys every session; returns how many.
    pub fn destroy_all(&mut self) -> Result<usize, Error> {
        let mut n = 0;
        loop {
            let (page, _) = self.store.page(None, BATCH)?;
            if page.is_empty() {
                return Ok(n);
            }
            for r in page {
                if self.destroy(&r.id)? {
                    n += 1;
                } else {
                    // An id the manager would not mint: remove it without counting.
                    self.store.remove(&r.id)?;
                }
            }
        }
    }

    /// Sets this session's idle timeout (`None`: never idles out); stored on commit.
    pub fn set_idle_timeout(
        &mut self,
        session: &mut Session,
        ms: Option<Millis>,
    ) -> Result<(), Error> {
        if ms == Some(0) {
            return Err(Error::invalid(
                "idle_timeout",
                "must be > 0 ms (use None for never)",
            ));
        }
        session.set_idle(ms);
        Ok(())
    }

    /// Removes every session past its deadline, in O(expired · log n) on the memory
    /// store. Returns how many were removed.
    pub fn sweep(&mut self) -> Result<usize, Error> {
        let now = self.clock.now();
        let mut n = 0;
        loop {
            let batch = self.store.remove_expired(now, BATCH)?;
            let full = batch.len() == BATCH;
            for r in batch {
                self.counters.expired_total += 1;
                self.note_ended(&r, now);
                self.events.push(Event::Expired {
                    id: r.id.to_string(),
                });
                n += 1;
            }
            if !full {
                return Ok(n);
            }
        }
    }

    /// When the next session will expire, so a host knows when to call [`sweep`](Self::sweep).
    pub fn next_deadline(&mut self) -> Result<Option<Millis>, Error> {
        Ok(self.store.next_deadline()?)
    }

    /// Takes the events that happened since the last call.
    pub fn drain_events(&mut self) -> Vec<Event> {
        core::mem::take(&mut self.events)
    }

    /// The counters.
    pub fn metrics(&mut self) -> Result<Metrics, Error> {
        let active = self.store.len()?;
        Ok(self.counters.snapshot(active))
    }

    /// Every live session as one blob (see [`crate::export`]), so a process can restart
    /// without logging everyone out.
    pub fn export(&mut self) -> Result<Vec<u8>, Error> {
        let now = self.clock.now();
        let mut records = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) = self.store.page(cursor.as_deref(), BATCH)?;
            records.extend(page.into_iter().filter(|r| !r.is_expired(now)));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        records.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(crate::export::encode(&records))
    }

    /// Loads an [`export`](Self::export) blob; sessions already expired are dropped, the
    /// rest replace any record with the same id. Decoding and capacity are checked before
    /// anything is written. Returns how many sessions were imported.
    pub fn import(&mut self, blob: &[u8]) -> Result<usize, Error> {
        let now = self.clock.now();
        let records = crate::export::decode(blob, self.policy.limits())?;
        let live: Vec<Record> = records.into_iter().filter(|r| !r.is_expired(now)).collect();
        if let (Some(max), OnFull::Reject) = (self.policy.max_sessions(), self.policy.on_full()) {
            let mut new = 0;
            for r in &live {
                if self.store.get(&r.id)?.is_none() {
                    new += 1;
                }
            }
            if self.store.len()? + new > max {
                return Err(Error::TooManySessions { max });
            }
        }
        let n = live.len();
        for mut r in live {
            match self.store.get(&r.id)? {
                None => self.make_room(now)?,
                // Replacing a live record: a new version, so a copy read before the import
                // merges onto the imported state instead of taking its own for the merge.
                Some(existing) => r.version = existing.version.max(r.version).saturating_add(1),
            }
            self.store.put(Arc::new(r))?;
        }
        self.note_active()?;
        Ok(n)
    }
}
