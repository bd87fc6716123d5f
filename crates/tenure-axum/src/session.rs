//! The request's session, as handlers see it.

use crate::convert;
use crate::error::SessionError;
use crate::Shared;
use axum_core::extract::FromRequestParts;
use http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tenure::web::{Ending, Incoming, Outcome, ResponseHeaders, Source};
use tenure::{Error, ErrorCode, Flash, Millis, Value};

#[derive(Default)]
struct State {
    session: Option<tenure::Session>,
    /// `session` was made here and is not stored yet: ids are minted only by the store's
    /// insert, so a new session is a draft until the end of the request (or `save`).
    draft: bool,
    /// A session was created in this request (draft or stored since).
    created: bool,
    accessed: bool,
    destroyed: bool,
    regenerated: bool,
}

pub(crate) struct Inner {
    pub(crate) shared: Arc<Shared>,
    /// The request's bearer token verified under an older secret only.
    stale_token: bool,
    state: Mutex<State>,
}

/// The session of one request: the axum extractor the [`SessionLayer`](crate::SessionLayer)
/// provides.
///
/// Reads and writes are synchronous and change only this request's copy; the layer stores
/// the changes after the handler returns and before the response's headers go out, merged
/// with what concurrent requests stored meanwhile (increments add up). A request without a
/// session reads as empty, and its first write makes a new one (ids are minted by the
/// server, never taken from the client). [`regenerate`](Session::regenerate),
/// [`destroy`](Session::destroy), [`save`](Session::save) and [`token`](Session::token)
/// reach the store at once.
///
/// Clones share the request's session.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.state_quiet();
        f.debug_struct("Session")
            .field("exists", &st.session.is_some())
            .field("new", &st.created)
            .finish()
    }
}

fn type_error(key: &str, message: impl std::fmt::Display) -> SessionError {
    SessionError::Type {
        key: key.to_string(),
        message: message.to_string(),
    }
}

impl Session {
    pub(crate) fn new(
        shared: Arc<Shared>,
        incoming: &Incoming,
        opened: Option<tenure::Session>,
    ) -> Self {
        let stale_token = opened.is_some()
            && incoming.stale_secret()
            && incoming.found.as_ref().map(|f| f.source) == Some(Source::Bearer);
        Session {
            inner: Arc::new(Inner {
                shared,
                stale_token,
                state: Mutex::new(State {
                    session: opened,
                    ..State::default()
                }),
            }),
        }
    }

    fn state_quiet(&self) -> MutexGuard<'_, State> {
        // A handler that panicked mid-change leaves a consistent session (every change is
        // all-or-nothing), so a poisoned lock is still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The state, noting that the handler looked at the session (`Vary`).
    fn state(&self) -> MutexGuard<'_, State> {
        let mut st = self.state_quiet();
        st.accessed = true;
        st
    }

    /// Runs `f` on the session, creating a draft first if the request has none. The draft
    /// has its final id already (drawn now, never shown before it is stored), so storing
    /// it is one insert of the record as the handler left it.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut tenure::Session) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut st = self.state();
        let st = &mut *st;
        let session = match st.session.take() {
            Some(s) => st.session.insert(s),
            None => {
                let draft = self.inner.shared.backend.draft()?;
                st.draft = true;
                st.created = true;
                st.destroyed = false;
                st.session.insert(draft)
            }
        };
        f(session)
    }

    fn read<T>(&self, f: impl FnOnce(&tenure::Session) -> T) -> Option<T> {
        self.state().session.as_ref().map(f)
    }

    /// The value at `key` as a `T`, or `None` if absent. A stored value that is not a `T`
    /// is an error naming the key.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        match self.get_value(key) {
            None => Ok(None),
            Some(v) => serde_json::from_value(convert::to_json(&v))
                .map(Some)
                .map_err(|e| type_error(key, e)),
        }
    }

    /// The raw session value at `key`.
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.read(|s| s.get(key).cloned()).flatten()
    }

    /// Stores `value` (anything `Serialize` whose JSON form the session can hold) at `key`.
    /// A value the session refuses (too big, too deep, an integer beyond i64) is an error
    /// naming the key, and nothing changes.
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), SessionError> {
        let json = serde_json::to_value(value).map_err(|e| type_error(key, e))?;
        let value = convert::to_value(json).map_err(|e| type_error(key, e))?;
        self.insert_value(key, value)
    }

    /// Stores a session value at `key`.
    pub fn insert_value(&self, key: &str, value: Value) -> Result<(), SessionError> {
        Ok(self.write(|s| s.set(key, value))?)
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&self, key: &str) -> Result<bool, SessionError> {
        let mut st = self.state();
        match st.session.as_mut() {
            Some(s) if s.contains(key) => Ok(s.delete(key)?.is_some()),
            _ => Ok(false),
        }
    }

    /// Whether `key` is set.
    pub fn contains(&self, key: &str) -> bool {
        self.read(|s| s.contains(key)).unwrap_or(false)
    }

    /// The keys, in byte order.
    pub fn keys(&self) -> Vec<String> {
        self.read(|s| s.keys().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.read(tenure::Session::len).unwrap_or(0)
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every key (the session itself lives on; see [`destroy`](Session::destroy)).
    pub fn clear(&self) {
        if let Some(s) = self.state().session.as_mut() {
            s.clear();
        }
    }

    /// Adds `by` to the integer at `key` (missing counts as 0) and returns this request's
    /// view of it. Concurrent requests' increments all add up in the store; call
    /// [`save`](Session::save) first to read the merged total.
    pub fn increment(&self, key: &str, by: i64) -> Result<i64, SessionError> {
        Ok(self.write(|s| s.increment(key, by))?)
    }

    /// Queues a message for a later request ([`take_flashes`](Session::take_flashes)).
    pub fn flash(&self, category: &str, message: &str) -> Result<(), SessionError> {
        Ok(self.write(|s| s.flash(category, message))?)
    }

    /// Takes the queued messages.
    pub fn take_flashes(&self) -> Vec<Flash> {
        self.state()
            .session
            .as_mut()
            .map(tenure::Session::take_flashes)
            .unwrap_or_default()
    }

    /// The user this session belongs to.
    pub fn principal(&self) -> Option<String> {
        self.read(|s| s.principal().map(str::to_string)).flatten()
    }

    /// Sets (or clears) the user this session belongs to. On login, call
    /// [`regenerate`](Session::regenerate) too. A change from one user to another (or to
    /// none) clears the data and flashes (see [`tenure::Session::set_principal`]).
    pub fn set_principal(&self, principal: Option<&str>) -> Result<(), SessionError> {
        Ok(self.write(|s| s.set_principal(principal))?)
    }

    /// Sets (or clears) the user and keeps the data even when the user changes.
    pub fn set_principal_keeping_data(&self, principal: Option<&str>) -> Result<(), SessionError> {
        Ok(self.write(|s| s.set_principal_keeping_data(principal))?)
    }

    /// Overrides this session's idle timeout (`None`: never idles out).
    pub fn set_idle_timeout(&self, ms: Option<Millis>) -> Result<(), SessionError> {
        let backend = self.inner.shared.backend.clone();
        Ok(self.write(|s| backend.set_idle_timeout(s, ms))?)
    }

    /// The session id, once the session is stored (`None` for no session, or a new one not
    /// stored yet: see [`save`](Session::save)). Treat it as a secret.
    pub fn id(&self) -> Option<String> {
        let st = self.state();
        match (&st.session, st.draft) {
            (Some(s), false) => Some(s.id().to_string()),
            _ => None,
        }
    }

    /// The session's public id: names it (in admin lists, logs) but opens nothing.
    pub fn public_id(&self) -> Option<String> {
        self.id().map(|id| tenure::__private::public_id(&id))
    }

    /// Whether the request's bearer token verified only under an older secret (rotation):
    /// hand the client a new [`token`](Session::token). Cookies are re-signed by the layer.
    pub fn stale_token(&self) -> bool {
        self.inner.stale_token
    }

    /// Whether the session was created in this request.
    pub fn is_new(&self) -> bool {
        self.state().created
    }

    /// When the session was created (ms since the epoch).
    pub fn created_at(&self) -> Option<Millis> {
        self.read(tenure::Session::created_at)
    }

    /// Its last recorded activity (ms since the epoch).
    pub fn last_access(&self) -> Option<Millis> {
        self.read(tenure::Session::last_access)
    }

    /// When it expires unless used again (ms since the epoch; `None`: never).
    pub fn expires_at(&self) -> Option<Millis> {
        self.read(tenure::Session::expires_at).flatten()
    }

    /// Stores the session now: a new one is inserted (and gets its id), changes are
    /// committed and merged. The answer then reflects concurrent requests (e.g. an
    /// increment's total). Without a session this does nothing.
    pub async fn save(&self) -> Result<(), SessionError> {
        let (snapshot, draft) = {
            let st = self.state();
            match &st.session {
                None => return Ok(()),
                Some(s) => (s.clone(), st.draft),
            }
        };
        let ops = snapshot.changes().ops().len();
        let stored = if draft {
            self.store_draft(snapshot).await?
        } else if snapshot.is_modified() {
            let mut s = snapshot;
            self.inner.shared.backend.commit(&mut s).await?;
            s
        } else {
            return Ok(());
        };
        self.adopt(stored, ops, draft)
    }

    /// Inserts a draft as a new session, with its data, principal, flashes and timeout:
    /// one insert of the record the handler built, under the id drawn for the draft.
    async fn store_draft(&self, mut draft: tenure::Session) -> Result<tenure::Session, Error> {
        self.inner.shared.backend.insert_draft(&mut draft).await?;
        Ok(draft)
    }

    /// Takes the outcome of an operation started from a snapshot holding `ops` changes,
    /// keeping what the handler changed meanwhile.
    fn adopt(
        &self,
        stored: tenure::Session,
        ops: usize,
        was_draft: bool,
    ) -> Result<(), SessionError> {
        let mut st = self.state();
        match st.session.as_mut() {
            Some(s) => s.adopt(stored, ops)?,
            // Destroyed meanwhile (another clone of this handle): leave it so.
            None => return Ok(()),
        }
        if was_draft {
            st.draft = false;
        }
        Ok(())
    }

    /// Moves the session to a new id, keeping its data unless `clear`: call it on login and
    /// on any privilege change (the session-fixation defence). The old id stops working at
    /// once; the response carries the new cookie. A request without a session gets a new
    /// one (stored at the end of the request, with whatever the handler puts in it).
    pub async fn regenerate(&self, clear: bool) -> Result<(), SessionError> {
        let snapshot = {
            let mut st = self.state();
            st.regenerated = true;
            let draft = st.draft;
            match &mut st.session {
                // A draft gets a fresh id when it is stored anyway.
                Some(s) if draft => {
                    if clear {
                        s.clear();
                        s.take_flashes();
                    }
                    return Ok(());
                }
                Some(s) => s.clone(),
                None => {
                    drop(st);
                    self.write(|_| Ok(()))?;
                    return Ok(());
                }
            }
        };
        let ops = snapshot.changes().ops().len();
        let mut s = snapshot;
        self.inner.shared.backend.regenerate(&mut s, clear).await?;
        self.adopt(s, ops, false)
    }

    /// Ends the session: it is removed from the store now, and the response clears the
    /// client's cookie.
    pub async fn destroy(&self) -> Result<(), SessionError> {
        let id = {
            let mut st = self.state();
            let stored = !st.draft;
            st.draft = false;
            st.destroyed = true;
            st.created = false;
            st.session
                .take()
                .filter(|_| stored)
                .map(|s| s.id().to_string())
        };
        if let Some(id) = id {
            self.inner.shared.backend.destroy(&id).await?;
        }
        Ok(())
    }

    /// A signed bearer token for this session (for `Authorization: Bearer`), storing a new
    /// session first so its id is final.
    pub async fn token(&self) -> Result<String, SessionError> {
        if self.id().is_none() {
            self.write(|_| Ok(()))?;
            self.save().await?;
        }
        let id = self.id().ok_or_else(|| {
            SessionError::Tenure(Error::SessionGone {
                id: "(a new session)".into(),
            })
        })?;
        Ok(self.inner.shared.web.token(&id))
    }

    /// The end of the request: stores what the handler did, then says which headers the
    /// response gets. Runs after the handler returns, before the headers go out.
    pub(crate) async fn finish(&self, incoming: &Incoming) -> Result<ResponseHeaders, Error> {
        let (session, draft, created, accessed, destroyed, regenerated) = {
            let mut st = self.state_quiet();
            (
                st.session.take(),
                st.draft,
                st.created,
                st.accessed,
                st.destroyed,
                st.regenerated,
            )
        };
        let web = &self.inner.shared.web;
        let backend = &self.inner.shared.backend;
        let stored: tenure::Session;
        // A stored session's last access is this request's time already (set when it was
        // opened, drafted or stored): no second reading of the clock for `Expires`.
        let mut at = None;
        let ending = match session {
            None if destroyed => Ending::Destroyed,
            None => Ending::NoSession,
            Some(s) if draft => {
                if web.keep_new_session(&s) {
                    stored = self.store_draft(s).await?;
                    at = Some(stored.last_access());
                    Ending::Created { id: stored.id() }
                } else {
                    Ending::NoSession
                }
            }
            Some(mut s) => {
                let gone = if s.is_modified() {
                    match backend.commit(&mut s).await {
                        Ok(()) => false,
                        Err(e) if e.code() == ErrorCode::SessionGone => true,
                        Err(e) => return Err(e),
                    }
                } else {
                    false
                };
                stored = s;
                at = Some(stored.last_access());
                match () {
                    _ if gone => Ending::Gone,
                    _ if created => Ending::Created { id: stored.id() },
                    _ if regenerated => Ending::Regenerated { id: stored.id() },
                    _ => Ending::Kept {
                        id: stored.id(),
                        refresh: false,
                    },
                }
            }
        };
        let now = at.unwrap_or_else(|| backend.now());
        let outcome = Outcome { accessed, ending };
        web.respond(incoming, &outcome, now)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(SessionError::MissingLayer)
    }
}
