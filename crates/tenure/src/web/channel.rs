//! The per-request parts of the lifecycle that express-session decides from the request
//! itself: whether it came over TLS (directly or through a trusted proxy), whether the
//! session middleware covers its path, the cookie's `Secure` flag under `secure: 'auto'`,
//! when a changed session's cookie is sent again, and how long one session's cookie may
//! live ("remember me") on a manager with an absolute timeout.

use super::{Incoming, Outcome, ResponseHeaders, WebConfig};
use crate::clock::Millis;
use crate::error::Error;
use alloc::format;

/// Whom to believe about the request's scheme (express-session's `proxy` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Proxy {
    /// Believe the first `X-Forwarded-Proto` value (`proxy: true`).
    Trust,
    /// Only a TLS connection to this server counts (`proxy: false`).
    Distrust,
    /// Ask the framework (Express's `req.secure`, which follows its `trust proxy`
    /// setting): `proxy` left unset.
    #[default]
    Framework,
}

/// How a request reached the server, as the adapter sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel<'a> {
    /// The connection to this server is TLS.
    pub tls: bool,
    /// The `X-Forwarded-Proto` header, if any.
    pub forwarded_proto: Option<&'a str>,
    /// The framework's own verdict (Express's `req.secure`), if it has one.
    pub framework_secure: Option<bool>,
}

impl Channel<'_> {
    /// Whether the request is secure, by express-session's rule: a TLS connection always
    /// is; otherwise, `Trust` reads the first `X-Forwarded-Proto` value (`https`, any case),
    /// `Framework` takes the framework's word, `Distrust` says no.
    pub fn is_secure(&self, proxy: Proxy) -> bool {
        if self.tls {
            return true;
        }
        match proxy {
            Proxy::Distrust => false,
            Proxy::Framework => self.framework_secure == Some(true),
            Proxy::Trust => self
                .forwarded_proto
                .and_then(|h| h.split(',').next())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")),
        }
    }
}

impl WebConfig {
    /// Whether the middleware handles a request for `path` (the URL's path, without the
    /// query): only paths under the cookie's `Path`, since a browser sends the cookie
    /// nowhere else. A cookie without `Path` covers every path.
    pub fn covers_path(&self, path: &str) -> bool {
        path.starts_with(self.cookie().path.as_deref().unwrap_or("/"))
    }

    /// Whether a kept session's cookie is sent again because the request changed the
    /// session: only a cookie with a lifetime (`max_age`) has an expiry to push forward.
    pub fn refreshes(&self, changed: bool, max_age: Option<Millis>) -> bool {
        changed && max_age.is_some()
    }

    /// Refuses a per-session cookie lifetime ("remember me": `req.session.cookie.maxAge`)
    /// that the manager's absolute timeout would cut short: the user would be logged out
    /// while the cookie still looks valid. The error names both values.
    pub fn check_session_age(&self, age: Millis, absolute: Option<Millis>) -> Result<(), Error> {
        match absolute {
            Some(abs) if age > abs => Err(Error::InvalidValue {
                key: "cookie.maxAge".into(),
                reason: format!(
                    "{age} ms outlives the manager's absolute timeout ({abs} ms): \
                 the session would end while its cookie is still valid; give the manager \
                 an absoluteTimeout of at least {age} ms (or null)"
                ),
            }),
            _ => Ok(()),
        }
    }

    /// [`respond_with_max_age`](WebConfig::respond_with_max_age) for a request that came
    /// `secure` or not. With `auto_secure` (express-session's `secure: 'auto'`) the
    /// cookie is `Secure` exactly when the request is; a `Secure` cookie is never sent
    /// over an insecure request (the browser would drop it, and the id would travel in
    /// clear): `set_cookie` is then `None`.
    pub fn respond_over(
        &self,
        incoming: &Incoming,
        outcome: &Outcome<'_>,
        now: Millis,
        max_age: Option<Millis>,
        secure: bool,
        auto_secure: bool,
    ) -> Result<ResponseHeaders, Error> {
        let wants_secure = if auto_secure {
            secure
        } else {
            self.cookie().secure
        };
        if wants_secure && !secure {
            let mut h = self.respond_with_max_age(incoming, outcome, now, max_age)?;
            h.set_cookie = None;
            h.reason = None;
            return Ok(h);
        }
        if wants_secure == self.cookie().secure {
            return self.respond_with_max_age(incoming, outcome, now, max_age);
        }
        // `secure: 'auto'` over plain HTTP: the same decision with a non-Secure cookie.
        let mut plain = self.clone();
        plain.cookie.secure = wants_secure;
        plain.cookie.validate()?;
        plain.respond_with_max_age(incoming, outcome, now, max_age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::cookie::{CookieOptions, Secrets};
    use crate::web::{Ending, Transport};
    use alloc::string::ToString;

    const SECRET: &str = "a secret of at least thirty-two bytes!";
    const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    fn web(path: Option<&str>) -> WebConfig {
        let cookie = CookieOptions {
            path: path.map(Into::into),
            ..CookieOptions::default()
        };
        WebConfig::new(Secrets::new([SECRET]).unwrap(), cookie, Transport::Cookie).unwrap()
    }

    fn created() -> Outcome<'static> {
        Outcome {
            accessed: true,
            ending: Ending::Created { id: ID },
        }
    }

    #[test]
    fn secure_requests_by_proxy_setting() {
        let via = |tls, proto: Option<&'static str>, fw| Channel {
            tls,
            forwarded_proto: proto,
            framework_secure: fw,
        };
        assert!(via(true, None, None).is_secure(Proxy::Distrust));
        assert!(via(false, Some("https"), None).is_secure(Proxy::Trust));
        assert!(via(false, Some("HTTPS , http"), None).is_secure(Proxy::Trust));
        assert!(!via(false, Some("http,https"), None).is_secure(Proxy::Trust));
        assert!(!via(false, None, None).is_secure(Proxy::Trust));
        assert!(!via(false, Some("https"), Some(true)).is_secure(Proxy::Distrust));
        assert!(via(false, Some("http"), Some(true)).is_secure(Proxy::Framework));
        assert!(!via(false, Some("https"), None).is_secure(Proxy::Framework));
    }

    #[test]
    fn paths_under_the_cookie_path_only() {
        let w = web(Some("/foo/bar"));
        assert!(w.covers_path("/foo/bar") && w.covers_path("/foo/bar/baz"));
        assert!(!w.covers_path("/") && !w.covers_path("/foo/foo/bar"));
        assert!(web(None).covers_path("/anything"));
    }

    #[test]
    fn changed_sessions_refresh_only_cookies_with_a_lifetime() {
        let w = web(None);
        assert!(w.refreshes(true, Some(1000)));
        assert!(!w.refreshes(true, None) && !w.refreshes(false, Some(1000)));
    }

    #[test]
    fn a_remember_me_longer_than_the_absolute_timeout_is_refused() {
        let w = web(None);
        assert!(w.check_session_age(1000, Some(1000)).is_ok());
        assert!(w.check_session_age(1000, None).is_ok());
        let e = w.check_session_age(2000, Some(1000)).unwrap_err();
        assert!(
            e.to_string().contains("2000") && e.to_string().contains("1000"),
            "{e}"
        );
    }

    #[test]
    fn secure_cookies_never_go_over_plain_http() {
        let w = web(None); // Secure by default
        let i = w.find([], None);
        let h = w
            .respond_over(&i, &created(), 0, None, false, false)
            .unwrap();
        assert_eq!(h.set_cookie, None);
        assert_eq!(h.vary, Some("Cookie"));
        let h = w
            .respond_over(&i, &created(), 0, None, true, false)
            .unwrap();
        assert!(h.set_cookie.unwrap().contains("; Secure"));
    }

    #[test]
    fn auto_secure_follows_the_request() {
        let w = web(None);
        let i = w.find([], None);
        let plain = w
            .respond_over(&i, &created(), 0, None, false, true)
            .unwrap();
        let c = plain.set_cookie.unwrap();
        assert!(!c.contains("Secure"), "{c}");
        let tls = w.respond_over(&i, &created(), 0, None, true, true).unwrap();
        assert!(tls.set_cookie.unwrap().contains("; Secure"));
    }
}
