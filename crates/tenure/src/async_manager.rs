//! The asynchronous driver (feature `std`): the operations of [`crate::ops`] over a store
//! whose calls are awaited, for tokio, async-std or any other executor.
//!
//! Methods take `&self`, so one manager is shared by every task (put it in an `Arc`); no
//! lock is held while a store call is awaited, so requests interleave freely and the atomic
//! store contract keeps them from losing updates.
//!
//! ```
//! use tenure::{AsyncSessionManager, SharedStore};
//! use tenure::{MemoryStore, ManualClock, OsEntropy, Policy};
//!
//! let m = AsyncSessionManager::new(
//!     SharedStore::new(MemoryStore::new()),
//!     ManualClock::new(0),
//!     OsEntropy,
//!     Policy::default(),
//! );
//! # let run = async {
//! let mut s = m.create(Some("ann"), None).await?;
//! s.increment("views", 1)?;
//! m.commit(&mut s).await?;
//! let again = m.open(s.id()).await?.unwrap();
//! assert_eq!(again.get("views"), Some(&tenure::Value::Int(1)));
//! # Ok::<(), tenure::Error>(())
//! # };
//! # tenure::__private::port::run_ready(run).unwrap().unwrap();
//! ```

use crate::clock::Clock;
use crate::clock::Millis;
use crate::entropy::Entropy;
use crate::error::{Error, StoreError};
use crate::event::{Event, EventLog};
use crate::format::limits::Limits;
use crate::format::value::data::DataMap;
use crate::info::SessionInfo;
use crate::metrics::{Counters, Metrics};
use crate::ops::{self, Cx, Effects};
use crate::policy::Policy;
use crate::session::Session;
use crate::store::encoded::{BytePort, ByteReply, ByteRequest, Encoded};
use crate::store::port::Port;
use crate::store::{Reply, Request, Store};
use crate::turns::Turns;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// A store whose calls are awaited: the [`Store`] contract as one method over
/// [`Request`]s. Implementations keep the same atomic guarantees (see [`Store`]).
pub trait AsyncStore: Send + Sync {
    /// Whether the store writes only what changed (see [`Port::CHANGES`]).
    const CHANGES: bool = false;

    /// Whether the store's count is cheap (see [`Store::counts_cheaply`]).
    fn counts_cheaply(&self) -> bool {
        true
    }

    /// Answers one request.
    fn call(&self, request: Request) -> impl Future<Output = Result<Reply, StoreError>> + Send;
}

/// A byte-level store whose calls are awaited (the protocol of
/// [`ByteStore`](crate::store::encoded::ByteStore), as values); wrap it in [`AsyncEncoded`].
pub trait AsyncByteStore: Send + Sync {
    /// Answers one byte-level request.
    fn call(
        &self,
        request: ByteRequest,
    ) -> impl Future<Output = Result<ByteReply, StoreError>> + Send;
}

/// A synchronous [`Store`] shared by tasks: each request is answered under a short lock,
/// never held across an await. Right for the [`MemoryStore`](crate::store::memory::MemoryStore); a store
/// doing blocking I/O blocks the task's thread for the length of the call.
#[derive(Debug, Default)]
pub struct SharedStore<S>(Mutex<S>);

impl<S: Store> SharedStore<S> {
    /// Shares `store`.
    pub fn new(store: S) -> Self {
        SharedStore(Mutex::new(store))
    }

    /// The store, locked (for inspection in tests).
    pub fn lock(&self) -> MutexGuard<'_, S> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Store + Send> AsyncStore for SharedStore<S> {
    fn counts_cheaply(&self) -> bool {
        self.lock().counts_cheaply()
    }
    fn call(&self, request: Request) -> impl Future<Output = Result<Reply, StoreError>> + Send {
        core::future::ready(self.lock().execute(request))
    }
}

/// The full store contract over an [`AsyncByteStore`] (the same [`Encoded`] logic the
/// synchronous host stores use).
#[derive(Debug)]
pub struct AsyncEncoded<B> {
    inner: B,
    limits: Limits,
}

impl<B: AsyncByteStore> AsyncEncoded<B> {
    /// Wraps `inner`, decoding records within `limits`.
    pub fn new(inner: B, limits: Limits) -> Self {
        AsyncEncoded { inner, limits }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

struct BytesOf<'a, B>(&'a B);

impl<B: AsyncByteStore> BytePort for BytesOf<'_, B> {
    fn call(
        &mut self,
        request: ByteRequest,
    ) -> impl Future<Output = Result<ByteReply, StoreError>> {
        self.0.call(request)
    }
}

impl<B: AsyncByteStore> AsyncStore for AsyncEncoded<B> {
    fn counts_cheaply(&self) -> bool {
        false
    }
    async fn call(&self, request: Request) -> Result<Reply, StoreError> {
        Encoded::new(BytesOf(&self.inner), self.limits)
            .call(request)
            .await
    }
}

struct PortOf<'a, S>(&'a S);

impl<S: AsyncStore> Port for PortOf<'_, S> {
    const CHANGES: bool = S::CHANGES;

    fn counts_cheaply(&self) -> bool {
        self.0.counts_cheaply()
    }

    fn call(&mut self, request: Request) -> impl Future<Output = Result<Reply, StoreError>> {
        self.0.call(request)
    }
}

/// The manager's entropy, lent to one operation at a time for the length of one fill.
struct Lent<'a, E>(&'a Mutex<E>);

impl<E: Entropy> Entropy for Lent<'_, E> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), &'static str> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .fill(buf)
    }
}

/// The asynchronous session manager: the same operations, names, events and metrics as
/// [`SessionManager`](crate::SessionManager), each an `async fn` on `&self`. Undrained
/// events are bounded the same way ([`with_event_capacity`](Self::with_event_capacity)).
#[derive(Debug)]
pub struct AsyncSessionManager<S, C, E> {
    store: S,
    clock: C,
    entropy: Mutex<E>,
    policy: Policy,
    state: Mutex<(EventLog, Counters)>,
    /// Whether `state`'s counters hold an absolute count of the store, readable without the
    /// lock: an operation that reads a session and changes no counter takes no shared lock
    /// (many requests at once share one manager; see `cx` and `absorb`).
    counted: AtomicBool,
    turns: Turns,
}

impl<S: AsyncStore, C: Clock, E: Entropy> AsyncSessionManager<S, C, E> {
    /// A manager over the given parts.
    pub fn new(store: S, clock: C, entropy: E, policy: Policy) -> Self {
        AsyncSessionManager {
            store,
            clock,
            entropy: Mutex::new(entropy),
            policy,
            state: Mutex::new((EventLog::default(), Counters::default())),
            counted: AtomicBool::new(false),
            turns: Turns::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock's current time.
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    fn cx(&self) -> Cx<Lent<'_, E>> {
        let effects = Effects {
            events: Vec::new(),
            counters: Counters::starting(self.counted.load(Ordering::Relaxed)),
        };
        Cx::with_effects(self.policy, self.clock.now(), Lent(&self.entropy), effects)
    }

    fn state(&self) -> MutexGuard<'_, (EventLog, Counters)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn absorb<T>(&self, cx: Cx<Lent<'_, E>>, out: T) -> T {
        let effects = cx.into_effects();
        if effects.events.is_empty() && effects.counters.unchanged() {
            return out;
        }
        let mut state = self.state();
        state.1.absorb(&effects.counters);
        state.0.extend(effects.events);
        if state.1.based {
            self.counted.store(true, Ordering::Relaxed);
        }
        out
    }

    /// See [`SessionManager::create`](crate::SessionManager::create).
    pub async fn create(
        &self,
        principal: Option<&str>,
        data: Option<DataMap>,
    ) -> Result<Session, Error> {
        let mut cx = self.cx();
        let out = ops::create(&mut cx, &mut PortOf(&self.store), principal, data).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::draft`](crate::SessionManager::draft): a new session with a
    /// fresh id, not stored yet (no I/O). An HTTP layer makes one when a handler first
    /// writes to a request without a session, and stores it with
    /// [`insert_draft`](Self::insert_draft) before the response goes out.
    pub fn draft(&self, principal: Option<&str>, data: Option<DataMap>) -> Result<Session, Error> {
        let mut cx = self.cx();
        let out = ops::draft(&mut cx, principal, data);
        self.absorb(cx, out)
    }

    /// See [`SessionManager::insert_draft`](crate::SessionManager::insert_draft): stores a
    /// draft, with every change made to it since, as a new session in one insert.
    pub async fn insert_draft(&self, session: &mut Session) -> Result<(), Error> {
        let mut cx = self.cx();
        let out = ops::insert_draft(&mut cx, &mut PortOf(&self.store), session).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::open`](crate::SessionManager::open).
    pub async fn open(&self, id: &str) -> Result<Option<Session>, Error> {
        let mut cx = self.cx();
        let out = ops::open(&mut cx, &mut PortOf(&self.store), id).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::peek`](crate::SessionManager::peek).
    pub async fn peek(&self, id: &str) -> Result<Option<Session>, Error> {
        let mut cx = self.cx();
        let out = ops::peek(&mut cx, &mut PortOf(&self.store), id).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::commit`](crate::SessionManager::commit).
    ///
    /// Commits of one session through one manager take turns: concurrent requests to one
    /// session queue here rather than racing each other at the store.
    pub async fn commit(&self, session: &mut Session) -> Result<(), Error> {
        let _turn = self.turns.take(session.id()).await;
        let mut cx = self.cx();
        let out = ops::commit(&mut cx, &mut PortOf(&self.store), session).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::regenerate`](crate::SessionManager::regenerate).
    pub async fn regenerate(&self, session: &mut Session, clear: bool) -> Result<(), Error> {
        let _turn = self.turns.take(session.id()).await;
        let mut cx = self.cx();
        let out = ops::regenerate(&mut cx, &mut PortOf(&self.store), session, clear).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::destroy`](crate::SessionManager::destroy).
    pub async fn destroy(&self, id: &str) -> Result<bool, Error> {
        let mut cx = self.cx();
        let out = ops::destroy(&mut cx, &mut PortOf(&self.store), id).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::destroy_all_of`](crate::SessionManager::destroy_all_of).
    pub async fn destroy_all_of(
        &self,
        principal: &str,
        except: Option<&str>,
    ) -> Result<usize, Error> {
        let mut cx = self.cx();
        let out = ops::destroy_all_of(&mut cx, &mut PortOf(&self.store), principal, except).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::sessions_of`](crate::SessionManager::sessions_of).
    pub async fn sessions_of(&self, principal: &str) -> Result<Vec<SessionInfo>, Error> {
        let mut cx = self.cx();
        let out = ops::sessions_of(&mut cx, &mut PortOf(&self.store), principal).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::count`](crate::SessionManager::count).
    pub async fn count(&self) -> Result<usize, Error> {
        let mut cx = self.cx();
        let out = ops::count(&mut cx, &mut PortOf(&self.store)).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::list`](crate::SessionManager::list).
    pub async fn list(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<SessionInfo>, Option<String>), Error> {
        let mut cx = self.cx();
        let out = ops::list(&mut cx, &mut PortOf(&self.store), cursor, limit).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::destroy_all`](crate::SessionManager::destroy_all).
    pub async fn destroy_all(&self) -> Result<usize, Error> {
        let mut cx = self.cx();
        let out = ops::destroy_all(&mut cx, &mut PortOf(&self.store)).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::sweep`](crate::SessionManager::sweep).
    pub async fn sweep(&self) -> Result<usize, Error> {
        let mut cx = self.cx();
        let out = ops::sweep(&mut cx, &mut PortOf(&self.store)).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::next_deadline`](crate::SessionManager::next_deadline).
    pub async fn next_deadline(&self) -> Result<Option<Millis>, Error> {
        ops::next_deadline(&mut PortOf(&self.store)).await
    }

    /// See [`SessionManager::set_idle_timeout`](crate::SessionManager::set_idle_timeout).
    pub fn set_idle_timeout(&self, session: &mut Session, ms: Option<Millis>) -> Result<(), Error> {
        ops::set_idle_timeout(session, ms)
    }

    /// Keeps at most `capacity` undrained events; see
    /// [`SessionManager::with_event_capacity`](crate::SessionManager::with_event_capacity).
    pub fn with_event_capacity(self, capacity: usize) -> Self {
        self.state().0.set_capacity(capacity);
        self
    }

    /// Takes the events that happened since the last call (at most the event capacity:
    /// the most recent ones).
    pub fn drain_events(&self) -> Vec<Event> {
        self.state().0.drain()
    }

    /// The counters.
    pub async fn metrics(&self) -> Result<Metrics, Error> {
        let active = ops::stored(&mut PortOf(&self.store)).await?;
        let state = self.state();
        Ok(Metrics {
            events_dropped: state.0.dropped(),
            ..state.1.snapshot(active)
        })
    }

    /// See [`SessionManager::export`](crate::SessionManager::export).
    pub async fn export(&self) -> Result<Vec<u8>, Error> {
        let mut cx = self.cx();
        let out = ops::export(&mut cx, &mut PortOf(&self.store)).await;
        self.absorb(cx, out)
    }

    /// See [`SessionManager::import`](crate::SessionManager::import).
    pub async fn import(&self, blob: &[u8]) -> Result<usize, Error> {
        let mut cx = self.cx();
        let out = ops::import(&mut cx, &mut PortOf(&self.store), blob).await;
        self.absorb(cx, out)
    }
}

/// A synchronous [`ByteStore`](crate::store::encoded::ByteStore) (a [`FileStore`](crate::store::file::FileStore))
/// for the async driver: each call runs on a thread of its own, so an executor's threads
/// never wait for file I/O. Calls are serialized per store, like the sync store's.
#[derive(Debug)]
pub struct Offloaded<B>(Arc<Mutex<B>>);

impl<B> Offloaded<B> {
    /// Wraps `store`.
    pub fn new(store: B) -> Self {
        Offloaded(Arc::new(Mutex::new(store)))
    }
}

type Slot = Arc<
    Mutex<(
        Option<Result<ByteReply, StoreError>>,
        Option<core::task::Waker>,
    )>,
>;

impl<B: crate::store::encoded::ByteStore + Send + 'static> AsyncByteStore for Offloaded<B> {
    fn call(
        &self,
        request: ByteRequest,
    ) -> impl Future<Output = Result<ByteReply, StoreError>> + Send {
        let store = self.0.clone();
        let slot: Slot = Arc::new(Mutex::new((None, None)));
        let mut request = Some(request);
        core::future::poll_fn(move |cx| {
            if let Some(request) = request.take() {
                let (store, done) = (store.clone(), slot.clone());
                let spawned = std::thread::Builder::new()
                    .name("tenure-store".into())
                    .spawn(move || {
                        let reply = store
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .execute(request);
                        let mut s = done.lock().unwrap_or_else(PoisonError::into_inner);
                        s.0 = Some(reply);
                        if let Some(w) = s.1.take() {
                            w.wake();
                        }
                    });
                if let Err(e) = spawned {
                    let msg = alloc::format!("cannot start a store thread: {e}");
                    return core::task::Poll::Ready(Err(StoreError::new(msg)));
                }
            }
            let mut s = slot.lock().unwrap_or_else(PoisonError::into_inner);
            match s.0.take() {
                Some(reply) => core::task::Poll::Ready(reply),
                None => {
                    s.1 = Some(cx.waker().clone());
                    core::task::Poll::Pending
                }
            }
        })
    }
}
