//! The request lifecycle of a web adapter, written once and without I/O: from a request's
//! headers to the session id to open, and from the request's outcome to the response
//! headers (`Set-Cookie`, a clearing cookie, `Vary`).
//!
//! An adapter (axum/tower, Express, ASGI, Flask) does only the I/O around it:
//!
//! 1. [`WebConfig::find`] with the request's `Cookie` and `Authorization` values says which
//!    id to open ([`Incoming`]), or none and why.
//! 2. The adapter opens that id with its manager (an unknown or expired id opens nothing),
//!    runs the handler, and stores what the handler did: a new session only if
//!    [`WebConfig::keep_new`] says so, a commit, a regenerate or a destroy.
//! 3. [`WebConfig::respond`] with the [`Outcome`] gives the headers to add
//!    ([`ResponseHeaders`]), before the response starts.
//!
//! ```
//! use tenure::web::cookie::{CookieOptions, Secrets};
//! use tenure::web::{Ending, Outcome, Transport, WebConfig};
//!
//! let web = WebConfig::new(
//!     Secrets::new(["a secret of at least thirty-two bytes!"]).unwrap(),
//!     CookieOptions::default(),
//!     Transport::Cookie,
//! )
//! .unwrap();
//! // A first visit: no cookie, nothing to open.
//! let incoming = web.find([], None);
//! assert!(incoming.id().is_none());
//! // The handler wrote to the session, so the adapter created one and stored it.
//! assert!(web.keep_new(true));
//! let outcome = Outcome { accessed: true, ending: Ending::Created { id: "AAAAAAAAAAAAAAAAAAAAAA" } };
//! let headers = web.respond(&incoming, &outcome, 0).unwrap();
//! assert!(headers.set_cookie.unwrap().starts_with("sid=s%3AAAAAAAAAAAAAAAAAAAAAAA."));
//! assert_eq!(headers.vary, Some("Cookie"));
//! // The next request carries the cookie back and finds the id.
//! let cookie = tenure::web::cookie::encode_uri_component(&tenure::web::cookie::sign(
//!     "AAAAAAAAAAAAAAAAAAAAAA",
//!     b"a secret of at least thirty-two bytes!",
//! ));
//! let incoming = web.find([format!("sid={cookie}").as_str()], None);
//! assert_eq!(incoming.id(), Some("AAAAAAAAAAAAAAAAAAAAAA"));
//! ```
//!
//! The rules, in one place (each pinned by a test below):
//!
//! - **Where the id comes from.** With header transport, an `Authorization: Bearer` token
//!   is tried first; with cookie transport, then the cookies named [`CookieOptions::name`]
//!   (the first that verifies wins: a forged cookie before a good one does not hide it).
//!   Another scheme (`Basic ...`) is not a tenure credential and is ignored.
//! - **Rotation.** Every secret verifies; the first signs. A session opened from a cookie
//!   signed with an older secret gets a cookie signed with the newest
//!   ([`SetCookieReason::Resigned`]). A bearer token can't be re-sent by the server:
//!   [`Incoming::stale_secret`] tells the application to hand out a new [`token`](WebConfig::token).
//! - **New sessions.** A session the request created is stored (and its cookie sent) only if
//!   it holds something (data, flashes or a principal), unless `save_uninitialized`.
//! - **Emptied sessions** (`drop_emptied`, as Starlette, starsessions and Flask do): a
//!   session the request opened and changed until it holds nothing is destroyed, and the
//!   response clears the cookie ([`WebConfig::drops_emptied`]); the usual logout there is
//!   `session.clear()`.
//! - **Set-Cookie** (cookie transport only): for a session created or regenerated in this
//!   request; for a kept session opened from a cookie if it was signed with an old secret,
//!   `rolling` is on, or the application asked for a refresh (a client that came with a
//!   bearer token is not handed a cookie it did not ask for); a clearing cookie when the
//!   session was destroyed, or found gone at commit (destroyed or expired meanwhile), and
//!   the request carried our cookie.
//! - **Vary**: when the handler looked at the session or a cookie is set, the response
//!   depends on the credential headers: `Cookie` (cookie transport), `Authorization`
//!   (header transport) or `Cookie, Authorization` (both), so caches don't serve one
//!   user's page to another.

mod channel;
pub use channel::{Channel, Proxy};

pub mod bearer;
pub mod cookie;

use crate::clock::Millis;
use crate::error::Error;
use alloc::format;
use alloc::string::String;
use cookie::{CookieOptions, Secrets};

/// Where a request may carry its session id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Transport {
    /// The signed session cookie (the default).
    #[default]
    Cookie,
    /// `Authorization: Bearer <token>` only; no cookie is ever read or set.
    Header,
    /// A bearer token first, then the cookie; cookies are set as with `Cookie`.
    Both,
}

impl Transport {
    /// `"cookie"`, `"header"` or `"both"`, as the JS and Python adapters spell it;
    /// anything else is `INVALID_POLICY` naming the value.
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "cookie" => Ok(Transport::Cookie),
            "header" => Ok(Transport::Header),
            "both" => Ok(Transport::Both),
            other => Err(Error::InvalidPolicy(format!(
                "transport must be 'cookie', 'header' or 'both', not {other:?}"
            ))),
        }
    }

    /// Whether cookies are read and set.
    pub fn cookies(self) -> bool {
        self != Transport::Header
    }

    /// Whether `Authorization: Bearer` is read.
    pub fn header(self) -> bool {
        self != Transport::Cookie
    }

    /// The `Vary` value for responses that depend on the session.
    pub fn vary(self) -> &'static str {
        match self {
            Transport::Cookie => "Cookie",
            Transport::Header => "Authorization",
            Transport::Both => "Cookie, Authorization",
        }
    }
}

/// Which credential a session id came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// An `Authorization: Bearer` token.
    Bearer,
    /// The session cookie.
    Cookie,
}

/// A verified session id from a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The session id to open.
    pub id: String,
    /// Where it came from.
    pub source: Source,
    /// Which secret verified it (0 is the newest).
    pub secret_index: usize,
}

/// Why a request names a session id, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// A bearer token verified.
    Bearer,
    /// A session cookie verified.
    Cookie,
    /// The request carries neither a bearer token nor our cookie.
    NoCredentials,
    /// It carries a credential, but nothing verified (tampered, signed with an unknown
    /// secret, or not a plausible session id). It gets a fresh session, as if it had none.
    Rejected {
        /// A bearer token was present and refused.
        bearer: bool,
        /// Our cookie was present and every copy of it was refused.
        cookie: bool,
    },
}

/// What [`WebConfig::find`] read from a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    /// The verified id to open, if any.
    pub found: Option<Found>,
    /// Whether the request carried a cookie with our name (valid or not): a logout then
    /// sends a clearing cookie.
    pub had_cookie: bool,
    /// Why `found` is what it is.
    pub why: Why,
}

impl Incoming {
    /// The id to open, if any.
    pub fn id(&self) -> Option<&str> {
        self.found.as_ref().map(|f| f.id.as_str())
    }

    /// Whether the id verified under an older secret only (rotation): the server re-signs
    /// a cookie by itself; a bearer client should be handed a new token.
    pub fn stale_secret(&self) -> bool {
        self.found.as_ref().is_some_and(|f| f.secret_index > 0)
    }
}

/// How the session stands when the handler is done and its changes are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending<'a> {
    /// No session: none was opened (no credential, or an unknown or expired id) and none
    /// was kept.
    NoSession,
    /// The session the request opened, still alive (changed and committed, or unchanged).
    Kept {
        /// Its id.
        id: &'a str,
        /// The application asked for the cookie to be sent again (Flask's
        /// `session.modified = True`, a changed cookie lifetime); with a cookie session it is.
        refresh: bool,
    },
    /// A session created (and stored) in this request.
    Created {
        /// Its id.
        id: &'a str,
    },
    /// The request moved its session to a new id (login, privilege change).
    Regenerated {
        /// The new id.
        id: &'a str,
    },
    /// The request destroyed its session (logout).
    Destroyed,
    /// The commit found the session destroyed or expired meanwhile (`SESSION_GONE`, e.g.
    /// "log out everywhere" from another request): it is not resurrected.
    Gone,
}

/// The outcome of a request, as the adapter saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome<'a> {
    /// Whether the handler looked at or changed the session (it then depends on the
    /// credential headers: `Vary`).
    pub accessed: bool,
    /// How the session stands.
    pub ending: Ending<'a>,
}

/// Why a `Set-Cookie` header is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCookieReason {
    /// A session created in this request.
    Created,
    /// A session moved to a new id.
    Regenerated,
    /// The cookie verified under an older secret: re-signed with the newest.
    Resigned,
    /// `rolling`, or a refresh the application asked for: the cookie's expiry starts over.
    Rolling,
    /// The session ended (destroyed or gone): the client forgets the cookie.
    Cleared,
}

/// The headers a response gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHeaders {
    /// A `Vary` value to append, if the response depends on the credential headers.
    pub vary: Option<&'static str>,
    /// A `Set-Cookie` value to append.
    pub set_cookie: Option<String>,
    /// Why `set_cookie` is there.
    pub reason: Option<SetCookieReason>,
}

/// The idle and absolute timeouts a session needs to live as long as its cookie
/// ([`WebConfig::server_timeouts`]); `None` is "never".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerTimeouts {
    /// The idle timeout.
    pub idle: Option<Millis>,
    /// The absolute timeout.
    pub absolute: Option<Millis>,
}

/// An adapter's settings: secrets, the cookie, the transport, and when cookies are sent.
#[derive(Clone, Debug)]
pub struct WebConfig {
    secrets: Secrets,
    cookie: CookieOptions,
    transport: Transport,
    max_age: Option<Millis>,
    rolling: bool,
    save_uninitialized: bool,
    drop_emptied: bool,
}

impl WebConfig {
    /// Settings with a browser-session cookie (no `Max-Age`), `rolling` and
    /// `save_uninitialized` off. The cookie options are checked now, so wrong settings fail
    /// at start-up rather than on the first response.
    pub fn new(
        secrets: Secrets,
        cookie: CookieOptions,
        transport: Transport,
    ) -> Result<Self, Error> {
        cookie.validate()?;
        Ok(WebConfig {
            secrets,
            cookie,
            transport,
            max_age: None,
            rolling: false,
            save_uninitialized: false,
            drop_emptied: false,
        })
    }

    /// The cookie's lifetime (`Max-Age` and `Expires`), or `None` for a browser-session
    /// cookie. The session's own timeouts still rule on the server.
    pub fn with_max_age(mut self, max_age: Option<Millis>) -> Self {
        self.max_age = max_age;
        self
    }

    /// Whether every response with a session (from a cookie) re-sends the cookie.
    pub fn with_rolling(mut self, rolling: bool) -> Self {
        self.rolling = rolling;
        self
    }

    /// Whether a session created but left empty is stored anyway (express-session's
    /// `saveUninitialized`).
    pub fn with_save_uninitialized(mut self, save: bool) -> Self {
        self.save_uninitialized = save;
        self
    }

    /// Whether a session the request opened and emptied ends (destroyed, its cookie
    /// cleared), as in Starlette, starsessions and Flask, where `session.clear()` is a
    /// logout. Off by default (express-session keeps an emptied session).
    pub fn with_drop_emptied(mut self, drop: bool) -> Self {
        self.drop_emptied = drop;
        self
    }

    /// Whether a session the request opened is to be destroyed rather than committed,
    /// with `drop_emptied`: it was changed in this request and now holds nothing (no data,
    /// no flash messages, no principal). The adapter then destroys it and answers with
    /// [`Ending::Destroyed`], which clears the cookie. A session that was already empty
    /// and left alone (stored with `save_uninitialized`) is kept.
    pub fn drops_emptied(&self, session: &crate::Session) -> bool {
        self.drop_emptied && session.is_modified() && !session.is_initialized()
    }

    /// The secrets (the first signs, all verify).
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The cookie options.
    pub fn cookie(&self) -> &CookieOptions {
        &self.cookie
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The cookie's max age.
    pub fn max_age(&self) -> Option<Millis> {
        self.max_age
    }

    /// The server timeouts that make a session live as long as its cookie: an adapter that
    /// builds its own manager uses these for every timeout the application did not set
    /// itself, so a cookie lifetime given through the peer library's option (express-session's
    /// `cookie.maxAge`, Starlette's `max_age`, Flask's `PERMANENT_SESSION_LIFETIME`) is not
    /// cut short by tenure's defaults.
    ///
    /// With a `Max-Age`, the idle timeout is that age (activity extends both, as a re-sent
    /// cookie does) and the absolute timeout is the longer of that age and
    /// [`DEFAULT_ABSOLUTE_TIMEOUT`](crate::policy::DEFAULT_ABSOLUTE_TIMEOUT), so a
    /// "remember me" cookie is honoured for its whole age. A browser-session cookie (no
    /// `Max-Age`) keeps the defaults.
    ///
    /// ```
    /// # use tenure::web::cookie::{CookieOptions, Secrets};
    /// # use tenure::web::{Transport, WebConfig};
    /// let web = WebConfig::new(
    ///     Secrets::new(["a secret of at least thirty-two bytes!"]).unwrap(),
    ///     CookieOptions::default(),
    ///     Transport::Cookie,
    /// ).unwrap();
    /// let day = 24 * 60 * 60 * 1000;
    /// let t = web.with_max_age(Some(30 * day)).server_timeouts();
    /// assert_eq!((t.idle, t.absolute), (Some(30 * day), Some(30 * day)));
    /// ```
    pub fn server_timeouts(&self) -> ServerTimeouts {
        use crate::policy::{DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
        match self.max_age {
            Some(age) if age > 0 => ServerTimeouts {
                idle: Some(age),
                absolute: Some(age.max(DEFAULT_ABSOLUTE_TIMEOUT)),
            },
            _ => ServerTimeouts {
                idle: Some(DEFAULT_IDLE_TIMEOUT),
                absolute: Some(DEFAULT_ABSOLUTE_TIMEOUT),
            },
        }
    }

    /// Refuses, at start-up, a manager whose timeouts would end sessions before their
    /// cookie does: with a cookie `Max-Age`, an idle timeout shorter than it would log
    /// an active-looking user out silently. The error names both values and the two ways
    /// out. A manager without timeouts, or a browser-session cookie, always passes.
    pub fn check_timeouts(&self, idle: Option<Millis>) -> Result<(), Error> {
        match (self.max_age, idle) {
            (Some(age), Some(idle)) if idle < age => Err(Error::InvalidPolicy(format!(
                "the cookie's max age ({age} ms) outlives the manager's idle timeout \
                 ({idle} ms): sessions would end while their cookie is still valid; \
                 give the manager an idle timeout of at least the max age, or a shorter \
                 max age"
            ))),
            _ => Ok(()),
        }
    }

    /// Reads a request's credentials: `cookie_headers` are the values of its `Cookie`
    /// headers in order (HTTP/2 may split them), `authorization` its `Authorization`
    /// value. Nothing here touches a store; the adapter opens [`Incoming::id`].
    pub fn find<'h>(
        &self,
        cookie_headers: impl IntoIterator<Item = &'h str>,
        authorization: Option<&str>,
    ) -> Incoming {
        let secrets = self.secrets.keys();
        let mut found = None;
        let mut bearer_refused = false;
        if self.transport.header() {
            // Another scheme (Basic, ...) is someone else's credential, not a refusal.
            if let Some(token) = authorization.and_then(bearer::parse_bearer) {
                match bearer::unsign_token_with(token, secrets) {
                    Some(u) => {
                        found = Some(Found {
                            id: u.id,
                            source: Source::Bearer,
                            secret_index: u.secret_index,
                        })
                    }
                    None => bearer_refused = true,
                }
            }
        }
        let mut had_cookie = false;
        if self.transport.cookies() {
            for header in cookie_headers.into_iter().take(cookie::MAX_COOKIE_HEADERS) {
                let verified = match found {
                    None => {
                        cookie::header::find_session_id_with(header, &self.cookie.name, secrets)
                    }
                    Some(_) => None,
                };
                // A verified cookie is one by that name; otherwise look for one (a
                // refused cookie makes the request "rejected", not merely cookieless).
                had_cookie = had_cookie
                    || verified.is_some()
                    || cookie::header::cookie_pairs(header).any(|(n, _)| n == self.cookie.name);
                if let Some(u) = verified {
                    found = Some(Found {
                        id: u.id,
                        source: Source::Cookie,
                        secret_index: u.secret_index,
                    });
                }
            }
        }
        let why = match &found {
            Some(f) if f.source == Source::Bearer => Why::Bearer,
            Some(_) => Why::Cookie,
            None if bearer_refused || had_cookie => Why::Rejected {
                bearer: bearer_refused,
                cookie: had_cookie,
            },
            None => Why::NoCredentials,
        };
        Incoming {
            found,
            had_cookie,
            why,
        }
    }

    /// Whether a session created in this request is stored: if it holds something
    /// (`initialized`: data, flashes or a principal), or always with `save_uninitialized`.
    /// A session that is not stored ends as [`Ending::NoSession`].
    pub fn keep_new(&self, initialized: bool) -> bool {
        initialized || self.save_uninitialized
    }

    /// [`keep_new`](WebConfig::keep_new) for a session created in this request:
    /// whether it is stored, by [`Session::is_initialized`](crate::session::Session::is_initialized)
    /// (data, flashes or a principal) or `save_uninitialized`.
    pub fn keep_new_session(&self, session: &crate::session::Session) -> bool {
        self.keep_new(session.is_initialized())
    }

    /// A bearer token for `id`, signed with the newest secret.
    pub fn token(&self, id: &str) -> String {
        bearer::sign_token_with(id, &self.secrets.keys()[0])
    }

    /// The `Set-Cookie` value carrying `id`, signed with the newest secret and URI-encoded
    /// (express-session's form), with the configured max age counted from `now`.
    pub fn set_cookie(&self, id: &str, now: Millis) -> Result<String, Error> {
        self.signed_cookie(id, self.max_age, now)
    }

    /// [`set_cookie`](WebConfig::set_cookie) with this response's own max age.
    fn signed_cookie(
        &self,
        id: &str,
        max_age: Option<Millis>,
        now: Millis,
    ) -> Result<String, Error> {
        self.cookie
            .build_signed_id(id, &self.secrets.keys()[0], max_age, now)
    }

    /// The clearing `Set-Cookie` value (logout): same name, path and domain, expired.
    pub fn clear_cookie(&self) -> Result<String, Error> {
        self.cookie.clear()
    }

    /// The headers to add to the response, once the session is stored (see the module's
    /// rules). `now` dates the cookie's `Expires`. Errors only if a cookie can't be built
    /// (an id that would break the header, or one too long), never for a request's input.
    pub fn respond(
        &self,
        incoming: &Incoming,
        outcome: &Outcome<'_>,
        now: Millis,
    ) -> Result<ResponseHeaders, Error> {
        self.respond_with_max_age(incoming, outcome, now, self.max_age)
    }

    /// [`respond`](WebConfig::respond) with this response's own cookie lifetime instead of
    /// the configured one (Flask's permanent sessions decide it per request).
    pub fn respond_with_max_age(
        &self,
        incoming: &Incoming,
        outcome: &Outcome<'_>,
        now: Millis,
        max_age: Option<Millis>,
    ) -> Result<ResponseHeaders, Error> {
        let from_cookie = |id: &str| {
            incoming
                .found
                .as_ref()
                .filter(|f| f.source == Source::Cookie && f.id == id)
        };
        let (reason, id) = match outcome.ending {
            _ if !self.transport.cookies() => (None, None),
            Ending::NoSession => (None, None),
            Ending::Created { id } => (Some(SetCookieReason::Created), Some(id)),
            Ending::Regenerated { id } => (Some(SetCookieReason::Regenerated), Some(id)),
            Ending::Kept { id, refresh } => match from_cookie(id) {
                Some(f) if f.secret_index > 0 => (Some(SetCookieReason::Resigned), Some(id)),
                Some(_) if self.rolling || refresh => (Some(SetCookieReason::Rolling), Some(id)),
                _ => (None, None),
            },
            Ending::Destroyed | Ending::Gone if incoming.had_cookie => {
                (Some(SetCookieReason::Cleared), None)
            }
            Ending::Destroyed | Ending::Gone => (None, None),
        };
        let set_cookie = match (reason, id) {
            (Some(_), Some(id)) => Some(self.signed_cookie(id, max_age, now)?),
            (Some(_), None) => Some(self.clear_cookie()?),
            _ => None,
        };
        let vary = (outcome.accessed || set_cookie.is_some()).then(|| self.transport.vary());
        Ok(ResponseHeaders {
            vary,
            set_cookie,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    const NEW: &str = "new-secret-new-secret-new-secret-new";
    const OLD: &str = "old-secret-old-secret-old-secret-old";
    const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
    const ID2: &str = "BBBBBBBBBBBBBBBBBBBBBB";

    fn web(transport: Transport) -> WebConfig {
        let cookie = CookieOptions {
            secure: false,
            ..CookieOptions::default()
        };
        WebConfig::new(Secrets::new([NEW, OLD]).unwrap(), cookie, transport).unwrap()
    }

    fn cookie_for(id: &str, secret: &str) -> String {
        format!(
            "sid={}",
            cookie::encode_uri_component(&cookie::sign(id, secret.as_bytes()))
        )
    }

    fn bearer_for(id: &str, secret: &str) -> String {
        format!("Bearer {}", bearer::sign_token(id, secret.as_bytes()))
    }

    fn kept(id: &str) -> Outcome<'_> {
        Outcome {
            accessed: true,
            ending: Ending::Kept { id, refresh: false },
        }
    }

    #[test]
    fn transport_names_and_bad_ones() {
        assert_eq!(Transport::parse("both").unwrap(), Transport::Both);
        assert_eq!(Transport::parse("header").unwrap(), Transport::Header);
        assert_eq!(Transport::parse("cookie").unwrap(), Transport::Cookie);
        let e = Transport::parse("Cookie ").unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::InvalidPolicy);
        assert!(e.to_string().contains("\"Cookie \""));
    }

    #[test]
    fn wrong_cookie_settings_fail_at_start_up() {
        let cookie = CookieOptions {
            name: "__Host-sid".into(),
            secure: false,
            ..CookieOptions::default()
        };
        let e =
            WebConfig::new(Secrets::new([NEW]).unwrap(), cookie, Transport::Cookie).unwrap_err();
        assert!(e.to_string().contains("__Host-"), "{e}");
    }

    #[test]
    fn only_the_first_cookie_headers_are_read() {
        let w = web(Transport::Cookie);
        let ours = cookie_for(ID, NEW);
        // An endless list of headers: the iterator is asked for MAX_COOKIE_HEADERS items.
        let mut asked = 0;
        let junk = core::iter::repeat_with(|| {
            asked += 1;
            "other=1"
        });
        assert!(w.find(junk, None).id().is_none());
        assert_eq!(asked, cookie::MAX_COOKIE_HEADERS);
        let mut headers = vec!["other=1"; cookie::MAX_COOKIE_HEADERS - 1];
        headers.push(&ours);
        assert_eq!(w.find(headers.iter().copied(), None).id(), Some(ID));
        headers.insert(0, "x=2");
        assert!(w.find(headers.iter().copied(), None).id().is_none());
    }

    #[test]
    fn no_credentials_open_nothing() {
        let w = web(Transport::Both);
        let i = w.find(["other=1"], Some("Basic dXNlcjpwdw=="));
        assert_eq!(i.found, None);
        assert_eq!(i.why, Why::NoCredentials);
        assert!(!i.had_cookie);
    }

    #[test]
    fn a_cookie_is_found_and_the_source_reported() {
        let w = web(Transport::Cookie);
        let c = cookie_for(ID, NEW);
        let i = w.find([c.as_str()], None);
        assert_eq!(
            i.found,
            Some(Found {
                id: ID.into(),
                source: Source::Cookie,
                secret_index: 0
            })
        );
        assert_eq!(i.why, Why::Cookie);
        assert!(i.had_cookie && !i.stale_secret());
    }

    #[test]
    fn split_cookie_headers_are_all_read() {
        let w = web(Transport::Cookie);
        let c = cookie_for(ID, NEW);
        let i = w.find(["a=1; sid=forged", c.as_str()], None);
        assert_eq!(i.id(), Some(ID));
    }

    #[test]
    fn tampered_cookies_are_rejected_not_opened() {
        let w = web(Transport::Cookie);
        let mut c = cookie_for(ID, NEW);
        c.replace_range(4..5, "B");
        let i = w.find([c.as_str()], None);
        assert_eq!(i.found, None);
        assert_eq!(
            i.why,
            Why::Rejected {
                bearer: false,
                cookie: true
            }
        );
        assert!(i.had_cookie);
        // Signed with a secret that is not configured.
        let c = cookie_for(ID, "some-other-secret-some-other-secret!");
        assert_eq!(w.find([c.as_str()], None).found, None);
    }

    #[test]
    fn bearer_first_then_cookie() {
        let w = web(Transport::Both);
        let c = cookie_for(ID2, NEW);
        let b = bearer_for(ID, NEW);
        let i = w.find([c.as_str()], Some(&b));
        assert_eq!(i.id(), Some(ID));
        assert_eq!(i.why, Why::Bearer);
        // The cookie is still noticed, so a logout clears it.
        assert!(i.had_cookie);
        // A refused token falls back to the cookie.
        let i = w.find([c.as_str()], Some("Bearer nope.nope"));
        assert_eq!((i.id(), i.why), (Some(ID2), Why::Cookie));
        let i = w.find([], Some("Bearer nope.nope"));
        assert_eq!(
            i.why,
            Why::Rejected {
                bearer: true,
                cookie: false
            }
        );
    }

    #[test]
    fn each_transport_reads_only_its_own_credential() {
        let c = cookie_for(ID, NEW);
        let b = bearer_for(ID2, NEW);
        let only_cookie = web(Transport::Cookie).find([c.as_str()], Some(&b));
        assert_eq!(only_cookie.id(), Some(ID));
        let only_header = web(Transport::Header).find([c.as_str()], Some(&b));
        assert_eq!(only_header.id(), Some(ID2));
        assert!(!only_header.had_cookie);
        assert_eq!(web(Transport::Header).find([c.as_str()], None).id(), None);
    }

    #[test]
    fn rotation_re_signs_a_cookie_with_the_newest_secret() {
        let w = web(Transport::Cookie);
        let c = cookie_for(ID, OLD);
        let i = w.find([c.as_str()], None);
        assert!(i.stale_secret());
        let h = w.respond(&i, &kept(ID), 5_000).unwrap();
        assert_eq!(h.reason, Some(SetCookieReason::Resigned));
        assert_eq!(h.set_cookie.unwrap(), w.set_cookie(ID, 5_000).unwrap());
        assert!(cookie_for(ID, NEW).starts_with("sid=s%3A"));
        // The same cookie under the newest secret needs nothing.
        let c = cookie_for(ID, NEW);
        let i = w.find([c.as_str()], None);
        let h = w.respond(&i, &kept(ID), 5_000).unwrap();
        assert_eq!((h.set_cookie, h.reason), (None, None));
    }

    #[test]
    fn a_stale_bearer_token_is_reported_but_gets_no_cookie() {
        let w = web(Transport::Both);
        let b = bearer_for(ID, OLD);
        let i = w.find([], Some(&b));
        assert!(i.stale_secret());
        let h = w.respond(&i, &kept(ID), 0).unwrap();
        assert_eq!(h.set_cookie, None);
        assert_eq!(h.vary, Some("Cookie, Authorization"));
    }

    #[test]
    fn created_and_regenerated_sessions_get_a_cookie() {
        let w = web(Transport::Both);
        let none = w.find([], None);
        for (ending, reason) in [
            (Ending::Created { id: ID }, SetCookieReason::Created),
            (Ending::Regenerated { id: ID }, SetCookieReason::Regenerated),
        ] {
            let out = Outcome {
                accessed: true,
                ending,
            };
            let h = w.respond(&none, &out, 0).unwrap();
            assert_eq!(h.reason, Some(reason));
            let value = h.set_cookie.unwrap();
            let signed = value
                .strip_prefix("sid=")
                .unwrap()
                .split(';')
                .next()
                .unwrap();
            let decoded = cookie::decode_uri_component(signed).unwrap();
            let u = w.secrets().unsign(&decoded).unwrap();
            assert_eq!((u.id.as_str(), u.secret_index), (ID, 0));
        }
    }

    #[test]
    fn header_transport_never_sets_cookies() {
        let w = web(Transport::Header);
        let i = w.find([], None);
        for ending in [
            Ending::Created { id: ID },
            Ending::Regenerated { id: ID },
            Ending::Destroyed,
            Ending::Gone,
        ] {
            let h = w
                .respond(
                    &i,
                    &Outcome {
                        accessed: true,
                        ending,
                    },
                    0,
                )
                .unwrap();
            assert_eq!(h.set_cookie, None, "{ending:?}");
            assert_eq!(h.vary, Some("Authorization"));
        }
    }

    #[test]
    fn only_initialized_new_sessions_are_kept_unless_configured() {
        let w = web(Transport::Cookie);
        assert!(w.keep_new(true));
        assert!(!w.keep_new(false));
        assert!(w.with_save_uninitialized(true).keep_new(false));
    }

    #[test]
    fn a_new_session_is_kept_if_it_holds_data_flashes_or_a_principal() {
        use crate::format::limits::Limits;
        use crate::format::record::Record;
        let w = web(Transport::Cookie);
        let fresh = || {
            crate::session::Session::from_record(Record::new(ID, 0, None, None), Limits::default())
        };
        let empty = fresh();
        assert!(!empty.is_initialized());
        assert!(!w.keep_new_session(&empty));
        assert!(w
            .clone()
            .with_save_uninitialized(true)
            .keep_new_session(&empty));
        let mut data = fresh();
        data.set("k", 1i64).unwrap();
        assert!(w.keep_new_session(&data));
        let mut flashed = fresh();
        flashed.flash("info", "hello").unwrap();
        assert!(w.keep_new_session(&flashed));
        let mut owned = fresh();
        owned.set_principal(Some("ann")).unwrap();
        assert!(w.keep_new_session(&owned));
        // Written, then emptied again: nothing to keep.
        let mut emptied = fresh();
        emptied.set("k", 1i64).unwrap();
        emptied.delete("k").unwrap();
        assert!(!w.keep_new_session(&emptied));
    }

    #[test]
    fn an_emptied_session_is_dropped_only_when_configured_and_changed() {
        use crate::{Limits, Record};
        let opened = || {
            let mut s =
                crate::Session::from_record(Record::new(ID, 0, None, None), Limits::default());
            s.set("k", 1i64).unwrap();
            // As if opened from the store: holding data, nothing changed in this request.
            crate::Session::from_record(s.record().clone(), Limits::default())
        };
        let keep = web(Transport::Cookie);
        let drop = keep.clone().with_drop_emptied(true);
        let mut cleared = opened();
        cleared.clear();
        assert!(drop.drops_emptied(&cleared));
        assert!(
            !keep.drops_emptied(&cleared),
            "off by default (express-session)"
        );
        // Still holding something: kept.
        let mut changed = opened();
        changed.set("j", 2i64).unwrap();
        assert!(!drop.drops_emptied(&changed));
        // Empty but untouched (stored with save_uninitialized): kept.
        let untouched =
            crate::Session::from_record(Record::new(ID, 0, None, None), Limits::default());
        assert!(!drop.drops_emptied(&untouched));
        // Emptied of data but owned by a principal: kept.
        let mut owned = opened();
        owned.set_principal(Some("ann")).unwrap();
        owned.delete("k").unwrap();
        assert!(!drop.drops_emptied(&owned));
    }

    #[test]
    fn logout_clears_the_cookie_the_client_holds() {
        let w = web(Transport::Both);
        let c = cookie_for(ID, NEW);
        let destroyed = Outcome {
            accessed: true,
            ending: Ending::Destroyed,
        };
        let h = w
            .respond(&w.find([c.as_str()], None), &destroyed, 0)
            .unwrap();
        assert_eq!(h.reason, Some(SetCookieReason::Cleared));
        let v = h.set_cookie.unwrap();
        assert!(v.starts_with("sid=;") && v.contains("Max-Age=0"), "{v}");
        // A bearer-only client holds no cookie: nothing to clear.
        let b = bearer_for(ID, NEW);
        let h = w.respond(&w.find([], Some(&b)), &destroyed, 0).unwrap();
        assert_eq!(h.set_cookie, None);
        // A tampered cookie is cleared too: the client should drop it.
        let h = w
            .respond(&w.find(["sid=junk"], None), &destroyed, 0)
            .unwrap();
        assert_eq!(h.reason, Some(SetCookieReason::Cleared));
    }

    #[test]
    fn a_session_gone_at_commit_is_forgotten_not_resurrected() {
        let w = web(Transport::Cookie);
        let c = cookie_for(ID, OLD);
        let gone = Outcome {
            accessed: true,
            ending: Ending::Gone,
        };
        let h = w.respond(&w.find([c.as_str()], None), &gone, 0).unwrap();
        assert_eq!(h.reason, Some(SetCookieReason::Cleared));
        assert_eq!(h.set_cookie.unwrap(), w.clear_cookie().unwrap());
    }

    #[test]
    fn rolling_refreshes_cookie_sessions_only() {
        let w = web(Transport::Both)
            .with_rolling(true)
            .with_max_age(Some(60_000));
        let c = cookie_for(ID, NEW);
        let h = w
            .respond(&w.find([c.as_str()], None), &kept(ID), 1_000)
            .unwrap();
        assert_eq!(h.reason, Some(SetCookieReason::Rolling));
        let v = h.set_cookie.unwrap();
        assert!(
            v.contains("Max-Age=60") && v.contains("Expires=Thu, 01 Jan 1970 00:01:01 GMT"),
            "{v}"
        );
        let b = bearer_for(ID, NEW);
        let h = w.respond(&w.find([], Some(&b)), &kept(ID), 1_000).unwrap();
        assert_eq!(h.set_cookie, None);
        // Without rolling, an unchanged session sends no cookie.
        let w = web(Transport::Cookie);
        let h = w
            .respond(&w.find([c.as_str()], None), &kept(ID), 0)
            .unwrap();
        assert_eq!(h.set_cookie, None);
    }

    #[test]
    fn a_refresh_asked_for_resends_the_cookie_with_its_own_lifetime() {
        let w = web(Transport::Cookie);
        let c = cookie_for(ID, NEW);
        let i = w.find([c.as_str()], None);
        let refresh = Outcome {
            accessed: true,
            ending: Ending::Kept {
                id: ID,
                refresh: true,
            },
        };
        let h = w.respond(&i, &refresh, 0).unwrap();
        assert_eq!(h.reason, Some(SetCookieReason::Rolling));
        assert!(!h.set_cookie.unwrap().contains("Max-Age"));
        let h = w
            .respond_with_max_age(&i, &refresh, 0, Some(3_600_000))
            .unwrap();
        let v = h.set_cookie.unwrap();
        assert!(
            v.contains("Max-Age=3600") && v.contains("Expires=Thu, 01 Jan 1970 01:00:00 GMT"),
            "{v}"
        );
        // A bearer client is still not handed a cookie.
        let b = bearer_for(ID, NEW);
        let h = w.respond(&w.find([], Some(&b)), &refresh, 0).unwrap();
        assert_eq!(h.set_cookie, None);
    }

    #[test]
    fn vary_follows_access_and_the_transport() {
        let cases: Vec<(Transport, &str)> = vec![
            (Transport::Cookie, "Cookie"),
            (Transport::Header, "Authorization"),
            (Transport::Both, "Cookie, Authorization"),
        ];
        for (t, vary) in cases {
            let w = web(t);
            let i = w.find([], None);
            let untouched = Outcome {
                accessed: false,
                ending: Ending::NoSession,
            };
            assert_eq!(w.respond(&i, &untouched, 0).unwrap().vary, None);
            let looked = Outcome {
                accessed: true,
                ending: Ending::NoSession,
            };
            assert_eq!(w.respond(&i, &looked, 0).unwrap().vary, Some(vary));
        }
        // A cookie set without the handler looking (re-signing) still varies.
        let w = web(Transport::Cookie);
        let c = cookie_for(ID, OLD);
        let quiet = Outcome {
            accessed: false,
            ending: Ending::Kept {
                id: ID,
                refresh: false,
            },
        };
        let h = w.respond(&w.find([c.as_str()], None), &quiet, 0).unwrap();
        assert_eq!(
            (h.vary, h.reason),
            (Some("Cookie"), Some(SetCookieReason::Resigned))
        );
    }

    #[test]
    fn tokens_verify_with_the_configured_secrets() {
        let w = web(Transport::Header);
        let t = w.token(ID);
        let i = w.find([], Some(&format!("bearer   {t}")));
        assert_eq!(i.id(), Some(ID));
        assert!(!i.stale_secret());
    }

    #[test]
    fn an_id_that_would_break_the_header_is_an_error_not_a_header() {
        let w = web(Transport::Cookie);
        let i = w.find([], None);
        let long = "A".repeat(5000);
        let out = Outcome {
            accessed: true,
            ending: Ending::Created { id: &long },
        };
        let e = w.respond(&i, &out, 0).unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::LimitExceeded);
    }

    #[test]
    fn a_cookie_lifetime_sets_the_server_timeouts_it_needs() {
        use crate::policy::{DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
        let day = 24 * 60 * 60 * 1000;
        let w = web(Transport::Cookie);
        // A browser-session cookie keeps the defaults.
        assert_eq!(
            w.server_timeouts(),
            ServerTimeouts {
                idle: Some(DEFAULT_IDLE_TIMEOUT),
                absolute: Some(DEFAULT_ABSOLUTE_TIMEOUT)
            }
        );
        // A 30-day "remember me" cookie is honoured for 30 days, idle or not.
        let month = w.clone().with_max_age(Some(30 * day));
        assert_eq!(
            month.server_timeouts(),
            ServerTimeouts {
                idle: Some(30 * day),
                absolute: Some(30 * day)
            }
        );
        // A short cookie shortens the idle timeout but never the ASVS absolute default.
        let short = w.clone().with_max_age(Some(60_000));
        assert_eq!(
            short.server_timeouts(),
            ServerTimeouts {
                idle: Some(60_000),
                absolute: Some(DEFAULT_ABSOLUTE_TIMEOUT)
            }
        );
    }

    #[test]
    fn a_manager_that_would_outlive_its_cookie_passes_and_one_that_would_not_is_refused() {
        let day = 24 * 60 * 60 * 1000;
        let w = web(Transport::Cookie).with_max_age(Some(30 * day));
        assert!(w.check_timeouts(None).is_ok());
        assert!(w.check_timeouts(Some(30 * day)).is_ok());
        let e = w.check_timeouts(Some(30 * 60 * 1000)).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidPolicy);
        let text = alloc::string::ToString::to_string(&e);
        assert!(
            text.contains("2592000000 ms") && text.contains("1800000 ms"),
            "{text}"
        );
        // A browser-session cookie never conflicts.
        assert!(web(Transport::Cookie).check_timeouts(Some(1)).is_ok());
    }
}
