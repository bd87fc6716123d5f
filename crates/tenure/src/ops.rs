//! The manager's operations, written once as `async` code over a [`Port`].
//!
//! Each operation asks its port for storage I/O and resumes with the answer; it holds no
//! borrow of a manager while it waits. What it needs from the manager comes in a [`Cx`]
//! (the policy, the time, an entropy source) and what it did goes out in the `Cx`'s
//! [`Effects`] (events and counters), which the driver folds back into its manager. The
//! synchronous [`SessionManager`](crate::SessionManager), the Rust async driver and the JS
//! and Python event-loop drivers all run these same functions: one code path decides.
//!
//! Every write is conditional (see [`crate::store`]): on a conflict an operation re-reads,
//! re-applies the session's change log and tries again, at most [`CAS_ATTEMPTS`] times.

use crate::clock::Millis;
use crate::entropy::Entropy;
use crate::error::{Error, StoreError};
use crate::event::Event;
use crate::format::delta::{self, Delta, Op};
use crate::format::record::Record;
use crate::format::value::data::DataMap;
use crate::info::SessionInfo;
use crate::metrics::{Counters, Metrics};
use crate::policy::{check_timeout, OnFull, Policy};
use crate::session::Session;
use crate::store::port::{mismatch, Port};
use crate::store::{Cas, Changes, Page, Reply, Request};
use crate::{expiry, id};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use compact_str::CompactString;

/// How many fresh ids `create` and `regenerate` try before giving up. With 128-bit ids a
/// second try is already astronomically unlikely; more than a few means a broken RNG.
const ID_ATTEMPTS: usize = 8;
/// Batch size for sweeps and full listings.
const BATCH: usize = 256;
/// How many times a conditional write is retried after a conflict. Each conflict means
/// another writer succeeded, so the store as a whole always progresses; the bound only
/// keeps one unlucky request from spinning forever under extreme contention. It is high
/// because optimistic writes are not fair: a process whose writes reach the store a little
/// later than its peers' (a slower client, a busier event loop) loses every race it enters
/// while they keep writing, so under a burst it may need as many attempts as the others have
/// writes queued (seen: five Node clients racing 300 increments to one Redis session).
pub const CAS_ATTEMPTS: usize = 1024;

/// What an operation did besides its result: events and counter changes, folded into the
/// manager by the driver once the operation is over.
#[derive(Debug, Default)]
pub struct Effects {
    pub(crate) events: Vec<Event>,
    pub(crate) counters: Counters,
}

impl Effects {
    /// The events, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// What an operation needs from its manager, owned, so the operation can outlive any
/// borrow of it while it waits for I/O.
#[derive(Debug)]
pub struct Cx<E> {
    policy: Policy,
    now: Millis,
    entropy: E,
    effects: Effects,
}

impl<E: Entropy> Cx<E> {
    /// A context at time `now`.
    pub fn new(policy: Policy, now: Millis, entropy: E) -> Self {
        Cx {
            policy,
            now,
            entropy,
            effects: Effects::default(),
        }
    }

    /// A context that appends to `effects` (the sync driver lends its own).
    pub(crate) fn with_effects(policy: Policy, now: Millis, entropy: E, effects: Effects) -> Self {
        Cx {
            policy,
            now,
            entropy,
            effects,
        }
    }

    /// The effects of the operations run in this context.
    pub fn into_effects(self) -> Effects {
        self.effects
    }

    fn gone(id: &str) -> Error {
        Error::SessionGone { id: id.to_string() }
    }

    fn fresh_id(&mut self) -> Result<CompactString, Error> {
        id::generate(&mut self.entropy, self.policy.id_bytes())
    }

    fn ended(&mut self, record: &Record) {
        // An unreadable record's lifetime is unknown: it ends, but its age is not counted.
        let alive = (!record.is_unreadable()).then(|| self.now.saturating_sub(record.created));
        self.effects.counters.ended(alive);
    }

    fn touch_due(&self, accessed: Millis) -> bool {
        self.now >= accessed.saturating_add(self.policy.touch_interval()) && self.now > accessed
    }

    fn note_active(&mut self, n: usize) {
        self.effects.counters.counted(n);
    }
}

/// Typed requests over a port.
struct Io<'p, P>(&'p mut P);

macro_rules! ask {
    ($io:expr, $request:expr, $pat:pat => $v:expr) => {{
        let request = $request;
        let name = request.name();
        match $io.0.call(request).await? {
            $pat => Ok::<_, StoreError>($v),
            _ => Err(mismatch(name)),
        }
    }};
}

impl<P: Port> Io<'_, P> {
    async fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        ask!(self, Request::Get { id: id.into() }, Reply::Record(r) => r)
    }
    async fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError> {
        ask!(self, Request::Insert { record }, Reply::Inserted(b) => b)
    }
    /// Replaces the record at version `expected`; `changes` is the log that made `record`
    /// from it and whether its access time was raised (`None`: unknown, the whole record is
    /// new), passed on to ports that want it.
    async fn replace(
        &mut self,
        record: Arc<Record>,
        expected: u64,
        changes: Option<(&Delta, bool)>,
    ) -> Result<Cas, StoreError> {
        let changes = match changes {
            Some((delta, touched)) if P::CHANGES => Some(Changes {
                touched,
                ..delta.changes()
            }),
            _ => None,
        };
        let request = Request::Replace {
            record,
            expected,
            changes,
        };
        ask!(self, request, Reply::Cas(c) => c)
    }
    /// Touches `stored` (the record at the version it holds) at `now`. The caller drops its
    /// own copy first, so a memory store can update the record in place.
    fn touch_request(stored: &Record, now: Millis) -> Request {
        Request::Touch {
            id: stored.id.clone(),
            accessed: now,
            expected: stored.version,
            deadline: expiry::deadline(stored.created, now, stored.idle(), stored.absolute()),
        }
    }
    async fn touch(&mut self, request: Request) -> Result<Cas, StoreError> {
        ask!(self, request, Reply::Cas(c) => c)
    }
    async fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        let request = Request::Remove {
            id: id.into(),
            expected,
        };
        ask!(self, request, Reply::Record(r) => r)
    }
    async fn len(&mut self) -> Result<usize, StoreError> {
        ask!(self, Request::Len, Reply::Len(n) => n)
    }
    async fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        let request = Request::Page {
            cursor: cursor.map(String::from),
            limit,
        };
        ask!(self, request, Reply::Page(p) => p)
    }
    async fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        let request = Request::IdsOf {
            principal: principal.into(),
        };
        ask!(self, request, Reply::Ids(ids) => ids)
    }
    async fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
        after: Option<String>,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        ask!(self, Request::RemoveExpired { now, limit, after }, Reply::Records(r) => r)
    }
    async fn next_deadline(&mut self) -> Result<Option<Millis>, StoreError> {
        ask!(self, Request::NextDeadline, Reply::Deadline(d) => d)
    }
    async fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        ask!(self, Request::LeastRecent, Reply::Id(id) => id)
    }
}

async fn expire<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    io: &mut Io<'_, P>,
    id: &str,
) -> Result<(), Error> {
    if let Some(r) = io.remove(id, None).await? {
        cx.effects.counters.expired_total += 1;
        cx.ended(&r);
        cx.effects
            .events
            .push(Event::Expired { id: id.to_string() });
    }
    Ok(())
}

/// `Some(record)` if `record` is live, else expires it.
async fn live<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    io: &mut Io<'_, P>,
    record: Option<Arc<Record>>,
) -> Result<Option<Arc<Record>>, Error> {
    match record {
        Some(r) if r.is_expired(cx.now) => {
            expire(cx, io, &r.id).await?;
            Ok(None)
        }
        other => Ok(other),
    }
}

/// The current record of a live session, expiring it lazily if its time has come. Ids
/// this manager would not mint are not even looked up, unless `minted` (a session's own).
async fn load_live<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    io: &mut Io<'_, P>,
    id: &str,
    minted: bool,
) -> Result<Option<Arc<Record>>, Error> {
    if !minted && !id::is_plausible(id) {
        return Ok(None);
    }
    let r = io.get(id).await?;
    live(cx, io, r).await
}

/// Makes room for one more session, per `max_sessions` and `on_full`; the count it read
/// (before the new session), if the policy made it count.
async fn make_room<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    io: &mut Io<'_, P>,
) -> Result<Option<usize>, Error> {
    let Some(max) = cx.policy.max_sessions() else {
        return Ok(None);
    };
    let mut n = io.len().await?;
    if n >= max {
        sweep_io(cx, io).await?;
        n = io.len().await?;
    }
    while n >= max {
        match cx.policy.on_full() {
            OnFull::Reject => {
                cx.effects.counters.rejected_total += 1;
                cx.effects.events.push(Event::Rejected);
                return Err(Error::TooManySessions { max });
            }
            OnFull::EvictLru => {
                let victim = io
                    .least_recent()
                    .await?
                    .ok_or_else(|| StoreError::new("store is full but lists no session"))?;
                if let Some(r) = io.remove(&victim, None).await? {
                    cx.effects.counters.evicted_total += 1;
                    cx.ended(&r);
                    cx.effects.events.push(Event::Evicted { id: victim });
                }
                n = io.len().await?;
            }
        }
    }
    Ok(Some(n))
}

/// Notes the count after a create for `peak_active`: from the count `make_room` read, or
/// asked of a store that counts cheaply. A store that counts by listing a folder is asked
/// once; after that the manager keeps the count itself (creates and ends), re-read whenever
/// the count is read anyway (`count`, `metrics`, `max_sessions`).
async fn note_created<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    io: &mut Io<'_, P>,
    before: Option<usize>,
) {
    match before {
        Some(n) => cx.note_active(n + 1),
        None if io.0.counts_cheaply() || cx.effects.counters.needs_count() => {
            // Best effort: the session is stored by now, so a store that fails to count must
            // not turn the create into an error (the caller would never learn the id of a
            // session that exists). Found by the `manager_model` fuzz target.
            match io.len().await {
                Ok(n) => cx.note_active(n),
                Err(_) => cx.effects.counters.added(),
            }
        }
        None => cx.effects.counters.added(),
    }
}

/// The record of a new session (no id yet), checked against the policy's limits.
fn new_record<E: Entropy>(
    cx: &Cx<E>,
    principal: Option<&str>,
    data: Option<DataMap>,
) -> Result<Record, Error> {
    let limits = *cx.policy.limits();
    // The record is built and checked once, in place: no scratch copies.
    let mut record = Record::new(
        CompactString::default(),
        cx.now,
        cx.policy.idle_timeout(),
        cx.policy.absolute_timeout(),
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
    Ok(record)
}

/// Creates a session (see [`SessionManager::create`](crate::SessionManager::create)).
pub async fn create<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    principal: Option<&str>,
    data: Option<DataMap>,
) -> Result<Session, Error> {
    let io = &mut Io(port);
    let limits = *cx.policy.limits();
    let mut record = new_record(cx, principal, data)?;
    let before = make_room(cx, io).await?;
    for _ in 0..ID_ATTEMPTS {
        record.id = cx.fresh_id()?;
        let shared = Arc::new(record);
        if io.insert(shared.clone()).await? {
            cx.effects.counters.created_total += 1;
            note_created(cx, io, before).await;
            cx.effects.events.push(Event::Created {
                id: shared.id.as_str().into(),
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

/// A new session with a fresh id that is not stored yet: no I/O. Store it with
/// [`insert_draft`] (an HTTP middleware on an asynchronous store makes one when a handler
/// first writes to a request without a session, and stores it before the response goes
/// out). Until then it exists only in the caller's hands.
pub fn draft<E: Entropy>(
    cx: &mut Cx<E>,
    principal: Option<&str>,
    data: Option<DataMap>,
) -> Result<Session, Error> {
    let mut record = new_record(cx, principal, data)?;
    record.id = cx.fresh_id()?;
    Ok(Session::from_record(record, *cx.policy.limits()))
}

/// Stores a [`draft`] (with every change made to it since) as a new session, counted and
/// reported like [`create`]. Its id is never overwritten: if it is taken (or the draft's
/// lifetime is over) nothing is stored and the session is unchanged.
pub async fn insert_draft<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    session: &mut Session,
) -> Result<(), Error> {
    let io = &mut Io(port);
    if session.record().is_expired(cx.now) {
        return Err(Cx::<E>::gone(session.id()));
    }
    // The store shares the draft's record (copy on write, as `create` shares its own);
    // a copy is made only to move its access time up to now.
    let shared = if session.record().accessed >= cx.now {
        session.shared_record().clone()
    } else {
        let mut record = session.record().clone();
        record.accessed = cx.now;
        Arc::new(record)
    };
    let before = make_room(cx, io).await?;
    if !io.insert(shared.clone()).await? {
        return Err(
            StoreError::new("the draft's session id is already taken; nothing was stored").into(),
        );
    }
    cx.effects.counters.created_total += 1;
    note_created(cx, io, before).await;
    cx.effects.events.push(Event::Created {
        id: shared.id.as_str().into(),
    });
    session.replace_record(shared);
    Ok(())
}

/// Opens and touches a live session (see [`SessionManager::open`](crate::SessionManager::open)).
pub async fn open<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    id: &str,
) -> Result<Option<Session>, Error> {
    let io = &mut Io(port);
    let Some(mut record) = load_live(cx, io, id, false).await? else {
        return Ok(None);
    };
    for _ in 0..CAS_ATTEMPTS {
        if !cx.touch_due(record.accessed) {
            break;
        }
        let request = Io::<P>::touch_request(&record, cx.now);
        // Drop our snapshot first so a memory store can update its record in place.
        drop(record);
        match io.touch(request).await? {
            Cas::Stored(r) => {
                record = r;
                break;
            }
            Cas::Conflict(current) => match live(cx, io, current).await? {
                Some(r) => record = r,
                None => return Ok(None),
            },
        }
    }
    // A touch that kept conflicting is skipped: another writer just stored the session,
    // which is activity too.
    let mut s = Session::from_shared(record, *cx.policy.limits());
    s.set_last_access(cx.now.max(s.last_access()));
    Ok(Some(s))
}

/// Sets the session's idle timeout (`None`: never idles out), stored on commit; no I/O.
/// The policy's timeout rule (`policy::check_timeout`), for every driver.
pub fn set_idle_timeout(session: &mut Session, ms: Option<Millis>) -> Result<(), Error> {
    check_timeout(ms).map_err(|why| Error::invalid("idle_timeout", why))?;
    session.set_idle(ms);
    Ok(())
}

/// Reads a live session without touching it.
pub async fn peek<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    id: &str,
) -> Result<Option<Session>, Error> {
    let io = &mut Io(port);
    Ok(load_live(cx, io, id, false)
        .await?
        .map(|r| Session::from_shared(r, *cx.policy.limits())))
}

/// Merges the session's change log onto the current stored record, conditionally, retrying
/// on conflicts (see [`SessionManager::commit`](crate::SessionManager::commit)).
pub async fn commit<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    session: &mut Session,
) -> Result<(), Error> {
    let io = &mut Io(port);
    // A store that writes only what changed (Redis) is asked at once to write at the
    // version this copy was read at: one round trip, not a read and a write. Fields it is
    // not sent keep their stored values (a touch by another process stays), and a refusal
    // hands back the current record, as a read would. A copy already dead by its own
    // deadline is checked against the store first (another process may have kept it alive).
    let write_first = P::CHANGES && session.is_modified() && !session.record().is_expired(cx.now);
    let mut current = if write_first {
        None
    } else {
        Some(
            load_live(cx, io, session.id(), true)
                .await?
                .ok_or_else(|| Cx::<E>::gone(session.id()))?,
        )
    };
    for _ in 0..CAS_ATTEMPTS {
        let (expected, stored_access) = match &current {
            Some(c) => (c.version, c.accessed),
            None => (session.base_version(), session.record().accessed),
        };
        let due = cx.touch_due(stored_access);
        let cas = if !session.is_modified() {
            let Some(current) = current else {
                return Err(Cx::<E>::gone(session.id()));
            };
            if !due {
                session.replace_record(current);
                return Ok(());
            }
            let request = Io::<P>::touch_request(&current, cx.now);
            drop(current);
            io.touch(request).await?
        } else {
            let version = expected.saturating_add(1);
            let accessed = if due { cx.now } else { stored_access };
            match current {
                Some(current) if expected != session.base_version() => {
                    let mut next = session.changes().apply(&current, cx.policy.limits())?;
                    next.version = version;
                    next.accessed = accessed;
                    drop(current);
                    io.replace(Arc::new(next), expected, Some((session.changes(), due)))
                        .await?
                }
                current => {
                    // Nobody committed since this copy was read: the copy, which already
                    // holds its own changes (checked against the limits as they were
                    // made), is the merge. It is stamped in place and restored if the
                    // write is refused.
                    drop(current);
                    let old = session.stamp(version, accessed);
                    let changes = (session.changes(), due);
                    match io.replace(session.shared(), expected, Some(changes)).await {
                        Ok(cas) => {
                            if matches!(cas, Cas::Conflict(_)) {
                                session.stamp(old.0, old.1);
                            }
                            cas
                        }
                        Err(e) => {
                            session.stamp(old.0, old.1);
                            return Err(e.into());
                        }
                    }
                }
            }
        };
        match cas {
            Cas::Stored(r) => {
                session.replace_record(r);
                return Ok(());
            }
            Cas::Conflict(now_stored) => match live(cx, io, now_stored).await? {
                Some(r) => current = Some(r),
                None => return Err(Cx::<E>::gone(session.id())),
            },
        }
    }
    Err(StoreError::new(format!(
        "commit of session {}: the stored record kept changing under {CAS_ATTEMPTS} attempts; nothing was written",
        session.id()
    ))
    .into())
}

/// Moves the session to a fresh id (see
/// [`SessionManager::regenerate`](crate::SessionManager::regenerate)).
pub async fn regenerate<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    session: &mut Session,
    clear: bool,
) -> Result<(), Error> {
    let io = &mut Io(port);
    let old = session.id().to_string();
    for _ in 0..CAS_ATTEMPTS {
        let current = load_live(cx, io, &old, true)
            .await?
            .ok_or_else(|| Cx::<E>::gone(&old))?;
        let mut next = session.changes().apply(&current, cx.policy.limits())?;
        // A login as another user (set_principal before regenerate) cleared the data: the
        // event says so too, so that per-session objects (a cart) are dropped with it.
        let switched = current.principal().is_some()
            && current.principal() != next.principal()
            && session
                .changes()
                .ops()
                .iter()
                .any(|op| matches!(op, Op::Clear));
        let cleared = clear || switched;
        if clear {
            next.data.clear();
            next.replace_flash(Vec::new());
        }
        let expected = current.version;
        next.version = expected.saturating_add(1);
        next.accessed = current.accessed.max(cx.now);
        drop(current);
        let mut inserted = None;
        for _ in 0..ID_ATTEMPTS {
            next.id = cx.fresh_id()?;
            let shared = Arc::new(next.clone());
            if io.insert(shared.clone()).await? {
                inserted = Some(shared);
                break;
            }
        }
        let Some(next) = inserted else {
            return Err(StoreError::new("could not mint an unused session id").into());
        };
        // The old id goes only if nobody committed to it since it was read; otherwise the
        // new copy is withdrawn and the move starts over from what is stored now.
        match io.remove(&old, Some(expected)).await {
            Ok(Some(_)) => {
                cx.effects.events.push(Event::Regenerated {
                    old,
                    new: next.id.as_str().into(),
                    cleared,
                });
                session.replace_record(next);
                return Ok(());
            }
            Ok(None) => {
                io.remove(&next.id, None).await?;
            }
            Err(e) => {
                // Roll back so exactly one copy exists and the session is as it was. If the
                // store fails this removal too, the new copy stays behind under an id nobody
                // was given: unreachable, and removed by the sweep at its deadline.
                let _ = io.remove(&next.id, None).await;
                return Err(e.into());
            }
        }
    }
    Err(StoreError::new(format!(
        "regenerate of session {old}: the stored record kept changing under {CAS_ATTEMPTS} attempts"
    ))
    .into())
}

async fn destroy_io<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    io: &mut Io<'_, P>,
    id: &str,
) -> Result<bool, Error> {
    if !id::is_plausible(id) {
        return Ok(false);
    }
    match io.remove(id, None).await? {
        Some(r) => {
            cx.effects.counters.destroyed_total += 1;
            cx.ended(&r);
            cx.effects
                .events
                .push(Event::Destroyed { id: id.to_string() });
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Destroys a session; `true` if it existed. Unconditional: a logout wins over every
/// concurrent write, which then fails with `SESSION_GONE`.
pub async fn destroy<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    id: &str,
) -> Result<bool, Error> {
    destroy_io(cx, &mut Io(port), id).await
}

/// Destroys every session of `principal` except `except`; how many were destroyed.
pub async fn destroy_all_of<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    principal: &str,
    except: Option<&str>,
) -> Result<usize, Error> {
    let io = &mut Io(port);
    let mut n = 0;
    for id in io.ids_of(principal).await? {
        if Some(id.as_str()) != except && destroy_io(cx, io, &id).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// The live sessions of `principal`, read without touching them.
pub async fn sessions_of<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    principal: &str,
) -> Result<Vec<SessionInfo>, Error> {
    let io = &mut Io(port);
    let mut out = Vec::new();
    for id in io.ids_of(principal).await? {
        if let Some(r) = load_live(cx, io, &id, false).await? {
            out.push(SessionInfo::from(&*r));
        }
    }
    Ok(out)
}

async fn sweep_io<E: Entropy, P: Port>(cx: &mut Cx<E>, io: &mut Io<'_, P>) -> Result<usize, Error> {
    let mut n = 0;
    let mut after: Option<String> = None;
    loop {
        let batch = io.remove_expired(cx.now, BATCH, after.take()).await?;
        let full = batch.len() == BATCH;
        after = batch.last().map(|r| r.id.to_string());
        for r in batch {
            cx.effects.counters.expired_total += 1;
            cx.ended(&r);
            cx.effects.events.push(Event::Expired {
                id: r.id.as_str().into(),
            });
            n += 1;
        }
        if !full {
            return Ok(n);
        }
    }
}

/// Removes every session past its deadline; how many.
pub async fn sweep<E: Entropy, P: Port>(cx: &mut Cx<E>, port: &mut P) -> Result<usize, Error> {
    sweep_io(cx, &mut Io(port)).await
}

/// How many live sessions there are (sweeping the expired first).
pub async fn count<E: Entropy, P: Port>(cx: &mut Cx<E>, port: &mut P) -> Result<usize, Error> {
    let io = &mut Io(port);
    sweep_io(cx, io).await?;
    let n = io.len().await?;
    cx.note_active(n);
    Ok(n)
}

/// A page of live sessions and the cursor of the next page.
pub async fn list<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    cursor: Option<&str>,
    limit: usize,
) -> Result<(Vec<SessionInfo>, Option<String>), Error> {
    let (page, next) = Io(port).page(cursor, limit.max(1)).await?;
    Ok((
        page.iter()
            .filter(|r| !r.is_expired(cx.now))
            .map(|r| SessionInfo::from(&**r))
            .collect(),
        next,
    ))
}

/// Destroys every session; how many.
pub async fn destroy_all<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
) -> Result<usize, Error> {
    let io = &mut Io(port);
    let mut n = 0;
    loop {
        let (page, _) = io.page(None, BATCH).await?;
        if page.is_empty() {
            return Ok(n);
        }
        for r in page {
            if destroy_io(cx, io, &r.id).await? {
                n += 1;
            } else {
                // An id the manager would not mint: remove it without counting.
                io.remove(&r.id, None).await?;
            }
        }
    }
}

/// When the next session will expire.
pub async fn next_deadline<P: Port>(port: &mut P) -> Result<Option<Millis>, Error> {
    Ok(Io(port).next_deadline().await?)
}

/// How many sessions are stored (expired ones not yet swept included).
pub async fn stored<P: Port>(port: &mut P) -> Result<usize, Error> {
    Ok(Io(port).len().await?)
}

/// The manager's counters with the store's current size.
pub async fn metrics<P: Port>(counters: &Counters, port: &mut P) -> Result<Metrics, Error> {
    let active = Io(port).len().await?;
    Ok(counters.snapshot(active))
}

/// Every live session as one blob (see `format::export`).
pub async fn export<E: Entropy, P: Port>(cx: &mut Cx<E>, port: &mut P) -> Result<Vec<u8>, Error> {
    let io = &mut Io(port);
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (page, next) = io.page(cursor.as_deref(), BATCH).await?;
        records.extend(page.into_iter().filter(|r| !r.is_expired(cx.now)));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    records.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(crate::format::export::encode(&records))
}

/// Loads an export blob (see [`SessionManager::import`](crate::SessionManager::import)).
pub async fn import<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    port: &mut P,
    blob: &[u8],
) -> Result<usize, Error> {
    let io = &mut Io(port);
    let records = crate::format::export::decode(blob, cx.policy.limits())?;
    let live: Vec<Record> = records
        .into_iter()
        .filter(|r| !r.is_expired(cx.now))
        .collect();
    if let (Some(max), OnFull::Reject) = (cx.policy.max_sessions(), cx.policy.on_full()) {
        let mut new = 0;
        for r in &live {
            if io.get(&r.id).await?.is_none() {
                new += 1;
            }
        }
        if io.len().await? + new > max {
            return Err(Error::TooManySessions { max });
        }
    }
    let n = live.len();
    for r in live {
        import_one(cx, io, r).await?;
    }
    let n_stored = io.len().await?;
    cx.note_active(n_stored);
    Ok(n)
}

async fn import_one<E: Entropy, P: Port>(
    cx: &mut Cx<E>,
    io: &mut Io<'_, P>,
    mut r: Record,
) -> Result<(), Error> {
    let imported = r.version;
    for _ in 0..CAS_ATTEMPTS {
        match io.get(&r.id).await? {
            None => {
                make_room(cx, io).await?;
                r.version = imported;
                if io.insert(Arc::new(r.clone())).await? {
                    return Ok(());
                }
            }
            Some(existing) => {
                // Replacing a live record: a new version, so a copy read before the import
                // merges onto the imported state instead of taking its own for the merge.
                let expected = existing.version;
                r.version = expected.max(imported).saturating_add(1);
                if let Cas::Stored(_) = io.replace(Arc::new(r.clone()), expected, None).await? {
                    return Ok(());
                }
            }
        }
    }
    Err(StoreError::new(format!(
        "import of session {}: the stored record kept changing under {CAS_ATTEMPTS} attempts",
        r.id
    ))
    .into())
}
