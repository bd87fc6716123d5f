//! The session manager: a sans-I/O state machine over a [`Store`], a [`Clock`] and an
//! [`Entropy`] source, enforcing a [`Policy`].

use crate::clock::Clock;
use crate::clock::Millis;
use crate::entropy::Entropy;
use crate::error::Error;
use crate::event::{Event, EventLog};
use crate::format::value::data::DataMap;
use crate::info::SessionInfo;
use crate::metrics::{Counters, Metrics};
use crate::ops::{self, Cx, Effects};
use crate::policy::{OnFull, Policy};
use crate::session::Session;
use crate::store::port::{not_ready, run_ready, SyncPort};
use crate::store::Store;
use alloc::string::String;
use alloc::vec::Vec;

/// Creates, opens, commits, regenerates, expires and destroys sessions: the synchronous
/// driver of the session state machine, answering its storage requests from a [`Store`] at
/// once. ([`AsyncSessionManager`](crate::AsyncSessionManager) is the same over an awaited
/// store.)
///
/// # The call order
///
/// The manager is a state machine without a thread, a timer or I/O of its own: time comes
/// from the clock on every call and nothing happens between calls. Its host drives it:
///
/// 1. **Per request**: [`open`](Self::open) the id the request carried (`None` if unknown,
///    expired or destroyed), or [`create`](Self::create) a session; change it; then
///    [`commit`](Self::commit) it (or [`regenerate`](Self::regenerate) it at a privilege
///    change, or [`destroy`](Self::destroy) it). A commit merges with concurrent commits.
/// 2. **After every call, drain events**: [`drain_events`](Self::drain_events) hands over
///    what happened (created, expired, destroyed, evicted, …). At most
///    [`EventLog::DEFAULT_CAPACITY`] events wait (see
///    [`with_event_capacity`](Self::with_event_capacity)); past that the oldest are dropped
///    and counted in [`Metrics::events_dropped`], so a manager nobody drains stays bounded.
/// 3. **Sweep at the next deadline**: ask [`next_deadline`](Self::next_deadline) when the
///    next session expires, arm a timer for that instant and call [`sweep`](Self::sweep)
///    then (and ask again). Sweeping is optional for correctness: expiry is also enforced
///    on every `open` and `commit`; it frees memory and reports expiries as events.
///
/// ```
/// use tenure::{Event, ManualClock, MemoryStore, Policy, SeededEntropy, SessionManager};
///
/// let clock = ManualClock::new(0);
/// let mut m = SessionManager::new(MemoryStore::new(), clock.clone(), SeededEntropy::new(1),
///     Policy::default());
/// let mut s = m.create(None, None).unwrap();
/// s.set("cart", 3).unwrap();
/// m.commit(&mut s).unwrap();
/// assert!(matches!(m.drain_events()[..], [Event::Created { .. }]));
///
/// // The host's timer fires at the next deadline.
/// let at = m.next_deadline().unwrap().unwrap();
/// clock.set(at);
/// assert_eq!(m.sweep().unwrap(), 1);
/// assert!(matches!(m.drain_events()[..], [Event::Expired { .. }]));
/// ```
///
/// Every write to the store is conditional, so several managers (in several processes)
/// may share one store without losing updates.
#[derive(Debug)]
pub struct SessionManager<S, C, E> {
    store: S,
    clock: C,
    entropy: E,
    policy: Policy,
    events: EventLog,
    counters: Counters,
}

#[cfg(feature = "std")]
impl
    SessionManager<
        crate::store::memory::MemoryStore,
        crate::clock::SystemClock,
        crate::entropy::OsEntropy,
    >
{
    /// An in-memory manager on the system clock and the OS's randomness.
    ///
    /// ```
    /// let mut m = tenure::SessionManager::in_memory(tenure::Policy::default());
    /// let s = m.create(None, None).unwrap();
    /// assert!(m.open(s.id()).unwrap().is_some());
    /// ```
    pub fn in_memory(policy: Policy) -> Self {
        SessionManager::new(
            crate::store::memory::MemoryStore::new(),
            crate::clock::SystemClock,
            crate::entropy::OsEntropy,
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
            events: EventLog::default(),
            counters: Counters::default(),
        }
    }

    /// Keeps at most `capacity` undrained events (default [`EventLog::DEFAULT_CAPACITY`];
    /// 0 keeps none); the oldest are dropped past it and counted in
    /// [`Metrics::events_dropped`]. Size it to the largest burst between two drains (a
    /// sweep reports one event per expired session).
    ///
    /// ```
    /// let mut m = tenure::SessionManager::in_memory(tenure::Policy::default())
    ///     .with_event_capacity(1);
    /// m.create(None, None).unwrap();
    /// m.create(None, None).unwrap();
    /// assert_eq!(m.drain_events().len(), 1);
    /// assert_eq!(m.metrics().unwrap().events_dropped, 1);
    /// ```
    pub fn with_event_capacity(mut self, capacity: usize) -> Self {
        self.events.set_capacity(capacity);
        self
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

    #[doc(hidden)]
    /// A context for an operation run by another driver (an event loop's): the policy, the
    /// time now and an entropy source of its own. Fold its effects back with
    /// [`absorb`](Self::absorb).
    pub fn context<F: Entropy>(&self, entropy: F) -> Cx<F> {
        let effects = Effects {
            events: Vec::new(),
            counters: self.counters.for_operation(),
        };
        Cx::with_effects(self.policy, self.clock.now(), entropy, effects)
    }

    #[doc(hidden)]
    /// Folds the events and counters of an operation run elsewhere into this manager.
    pub fn absorb(&mut self, effects: Effects) {
        self.counters.absorb(&effects.counters);
        self.events.extend(effects.events);
    }

    /// Runs one operation to completion against the store, with this manager's context.
    #[inline(always)]
    fn drive<R>(
        &mut self,
        op: impl AsyncFnOnce(&mut Cx<&mut E>, &mut SyncPort<'_, S>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let effects = Effects {
            events: Vec::new(),
            counters: self.counters,
        };
        let mut cx = Cx::with_effects(self.policy, self.clock.now(), &mut self.entropy, effects);
        let mut port = SyncPort(&mut self.store);
        let out = run_ready(op(&mut cx, &mut port)).unwrap_or_else(|| Err(not_ready().into()));
        let effects = cx.into_effects();
        self.events.extend(effects.events);
        self.counters = effects.counters;
        out
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
        self.drive(async |cx, port| ops::create(cx, port, principal, data).await)
    }

    /// A new session that is not stored yet (see [`ops::draft`]); store it with
    /// [`insert_draft`](Self::insert_draft).
    ///
    /// ```
    /// let mut m = tenure::SessionManager::in_memory(tenure::Policy::default());
    /// let mut s = m.draft(None, None).unwrap();
    /// s.set("n", 1).unwrap();
    /// assert!(m.peek(s.id()).unwrap().is_none(), "a draft is not stored");
    /// m.insert_draft(&mut s).unwrap();
    /// assert_eq!(m.peek(s.id()).unwrap().unwrap().get("n"), Some(&tenure::Value::from(1)));
    /// assert!(!s.is_modified());
    /// assert!(m.insert_draft(&mut s).is_err(), "never overwrites");
    /// assert_eq!(m.metrics().unwrap().created_total, 1);
    /// ```
    pub fn draft(
        &mut self,
        principal: Option<&str>,
        data: Option<DataMap>,
    ) -> Result<Session, Error> {
        self.drive(async |cx, _| ops::draft(cx, principal, data))
    }

    /// Stores a [`draft`](Self::draft) as a new session (see [`ops::insert_draft`]).
    pub fn insert_draft(&mut self, session: &mut Session) -> Result<(), Error> {
        self.drive(async |cx, port| ops::insert_draft(cx, port, session).await)
    }

    /// Opens a live session and touches it (persisting the touch once `touch_interval` has
    /// passed). Unknown, implausible or expired ids give `None`; an expired session is
    /// destroyed on the spot. Ids are never adopted: only `create` mints them.
    pub fn open(&mut self, id: &str) -> Result<Option<Session>, Error> {
        self.drive(async |cx, port| ops::open(cx, port, id).await)
    }

    /// Reads a live session without touching it.
    pub fn peek(&mut self, id: &str) -> Result<Option<Session>, Error> {
        self.drive(async |cx, port| ops::peek(cx, port, id).await)
    }

    /// Merges the session's change log onto the *current* stored record and stores the
    /// result with a compare-and-set on its version, re-merging and retrying if another
    /// writer got there first; the session then shows the merged state. Fails with
    /// `SESSION_GONE` if the session was destroyed or expired meanwhile (it is never
    /// resurrected). On any error the store and the session's pending changes are as they
    /// were.
    pub fn commit(&mut self, session: &mut Session) -> Result<(), Error> {
        self.drive(async |cx, port| ops::commit(cx, port, session).await)
    }

    /// Moves the session to a fresh id (pending changes included), writing the new record
    /// before removing the old one: the session-fixation defence, for login and every
    /// privilege change. With `clear`, data and flash messages are dropped. The old record
    /// is removed only if nobody committed to it meanwhile (else the move starts over), so
    /// a concurrent commit is carried over, not lost.
    pub fn regenerate(&mut self, session: &mut Session, clear: bool) -> Result<(), Error> {
        self.drive(async |cx, port| ops::regenerate(cx, port, session, clear).await)
    }

    /// Destroys a session; `true` if it existed.
    pub fn destroy(&mut self, id: &str) -> Result<bool, Error> {
        self.drive(async |cx, port| ops::destroy(cx, port, id).await)
    }

    /// Destroys every session of `principal` except `except` ("log out everywhere else").
    /// Returns how many were destroyed.
    pub fn destroy_all_of(
        &mut self,
        principal: &str,
        except: Option<&str>,
    ) -> Result<usize, Error> {
        self.drive(async |cx, port| ops::destroy_all_of(cx, port, principal, except).await)
    }

    /// The live sessions of `principal`, read without touching them.
    pub fn sessions_of(&mut self, principal: &str) -> Result<Vec<SessionInfo>, Error> {
        self.drive(async |cx, port| ops::sessions_of(cx, port, principal).await)
    }

    /// How many live sessions there are (sweeping the expired first).
    pub fn count(&mut self) -> Result<usize, Error> {
        self.drive(async |cx, port| ops::count(cx, port).await)
    }

    /// A page of up to `limit` live sessions from `cursor` (`None`: the start), read
    /// without touching, and the cursor of the next page (`None` at the end). The order is
    /// the store's; a session alive for the whole listing is listed exactly once.
    pub fn list(
        &mut self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<SessionInfo>, Option<String>), Error> {
        self.drive(async |cx, port| ops::list(cx, port, cursor, limit).await)
    }

    /// Destroys every session; returns how many.
    pub fn destroy_all(&mut self) -> Result<usize, Error> {
        self.drive(async |cx, port| ops::destroy_all(cx, port).await)
    }

    /// Sets this session's idle timeout (`None`: never idles out); stored on commit.
    pub fn set_idle_timeout(
        &mut self,
        session: &mut Session,
        ms: Option<Millis>,
    ) -> Result<(), Error> {
        ops::set_idle_timeout(session, ms)
    }

    /// Removes every session past its deadline, in O(expired · log n) on the memory
    /// store. Returns how many were removed.
    pub fn sweep(&mut self) -> Result<usize, Error> {
        self.drive(async |cx, port| ops::sweep(cx, port).await)
    }

    /// When the next session will expire, so a host knows when to call [`sweep`](Self::sweep).
    pub fn next_deadline(&mut self) -> Result<Option<Millis>, Error> {
        self.drive(async |_, port| ops::next_deadline(port).await)
    }

    /// Takes the events that happened since the last call (at most the event capacity:
    /// the most recent ones).
    pub fn drain_events(&mut self) -> Vec<Event> {
        self.events.drain()
    }

    /// The counters.
    pub fn metrics(&mut self) -> Result<Metrics, Error> {
        let counters = self.counters;
        let mut m = self.drive(async |_, port| ops::metrics(&counters, port).await)?;
        m.events_dropped = self.events.dropped();
        Ok(m)
    }

    /// The counters with the given number of active sessions (for drivers that counted
    /// them themselves).
    pub fn metrics_with(&self, active: usize) -> Metrics {
        Metrics {
            events_dropped: self.events.dropped(),
            ..self.counters.snapshot(active)
        }
    }

    /// Every live session as one blob, `{"v":1,"sessions":[record,…]}` with each record in
    /// the v1 record format, so a process can restart without logging everyone out.
    pub fn export(&mut self) -> Result<Vec<u8>, Error> {
        self.drive(async |cx, port| ops::export(cx, port).await)
    }

    /// Loads an [`export`](Self::export) blob; sessions already expired are dropped, the
    /// rest replace any record with the same id. Decoding and capacity are checked before
    /// anything is written. Returns how many sessions were imported.
    pub fn import(&mut self, blob: &[u8]) -> Result<usize, Error> {
        self.drive(async |cx, port| ops::import(cx, port, blob).await)
    }
}
