//! The `Set-Cookie` builder: attributes with safe defaults, prefix rules enforced, and
//! nothing that could break the header let through.

use crate::clock::Millis;
use crate::error::Error;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::str::FromStr;

/// The longest `Set-Cookie` value built (browsers drop larger cookies).
pub const MAX_SET_COOKIE_BYTES: usize = 4096;

/// The `SameSite` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only with same-site requests.
    Strict,
    /// Also sent with top-level navigations (the default).
    Lax,
    /// Sent with cross-site requests too; requires `Secure`.
    None,
}

/// One spelling set for every language: `lax`, `strict` or `none`, in any case; anything
/// else is `INVALID_VALUE` naming `same_site` and the accepted values.
///
/// ```
/// use tenure::web::cookie::SameSite;
/// assert_eq!("Strict".parse::<SameSite>(), Ok(SameSite::Strict));
/// assert!("auto".parse::<SameSite>().is_err());
/// ```
impl FromStr for SameSite {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        parse_named(
            "same_site",
            s,
            [
                ("lax", SameSite::Lax),
                ("strict", SameSite::Strict),
                ("none", SameSite::None),
            ],
        )
    }
}

/// One spelling set for every language: `low`, `medium` or `high`, in any case; anything
/// else is `INVALID_VALUE` naming `priority` and the accepted values.
///
/// ```
/// use tenure::web::cookie::Priority;
/// assert_eq!("HIGH".parse::<Priority>(), Ok(Priority::High));
/// assert!("".parse::<Priority>().is_err());
/// ```
impl FromStr for Priority {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        parse_named(
            "priority",
            s,
            [
                ("low", Priority::Low),
                ("medium", Priority::Medium),
                ("high", Priority::High),
            ],
        )
    }
}

/// The value whose name is `s` (in any case), or an error naming the option and the names.
fn parse_named<T: Copy, const N: usize>(
    option: &str,
    s: &str,
    names: [(&str, T); N],
) -> Result<T, Error> {
    names
        .iter()
        .find_map(|&(name, v)| s.eq_ignore_ascii_case(name).then_some(v))
        .ok_or_else(|| {
            let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
            Error::invalid(
                option,
                format!("must be one of {}, not {s:?}", list.join(", ")),
            )
        })
}

/// The `Priority` attribute (Chromium).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// `Priority=Low`.
    Low,
    /// `Priority=Medium`.
    Medium,
    /// `Priority=High`.
    High,
}

/// How the session cookie is written. Defaults: name `sid`, `Path=/`, `HttpOnly`, `Secure`,
/// `SameSite=Lax`.
///
/// ```
/// use tenure::web::cookie::CookieOptions;
/// let header = CookieOptions::default().build("abc", Some(60_000), 0).unwrap();
/// assert_eq!(header, "sid=abc; Max-Age=60; Path=/; Expires=Thu, 01 Jan 1970 00:01:00 GMT; HttpOnly; SameSite=Lax; Secure");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieOptions {
    /// Cookie name (an RFC 7230 token).
    pub name: String,
    /// `Path`; `None` omits it.
    pub path: Option<String>,
    /// `Domain`; `None` (host-only) is the safe default.
    pub domain: Option<String>,
    /// `HttpOnly`: not readable from JavaScript.
    pub http_only: bool,
    /// `Secure`: HTTPS only.
    pub secure: bool,
    /// `SameSite`; `None` omits the attribute.
    pub same_site: Option<SameSite>,
    /// `Partitioned` (CHIPS); requires `Secure`.
    pub partitioned: bool,
    /// `Priority`.
    pub priority: Option<Priority>,
}

impl Default for CookieOptions {
    fn default() -> Self {
        CookieOptions {
            name: "sid".into(),
            path: Some("/".into()),
            domain: None,
            http_only: true,
            secure: true,
            same_site: Some(SameSite::Lax),
            partitioned: false,
            priority: None,
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 6265 cookie-octet: printable ASCII except space, `"`, `,`, `;` and `\`.
fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

fn bad(key: &str, reason: impl Into<String>) -> Error {
    Error::invalid(key, reason)
}

impl CookieOptions {
    /// Checks the options on their own: name, attribute values, prefix and SameSite rules.
    pub fn validate(&self) -> Result<(), Error> {
        if self.name.is_empty() || !self.name.bytes().all(is_tchar) {
            return Err(bad(
                "name",
                format!("{:?} is not a valid cookie name", self.name),
            ));
        }
        if let Some(path) = &self.path {
            if path.is_empty() || !path.bytes().all(|b| (0x20..0x7F).contains(&b) && b != b';') {
                return Err(bad("path", format!("{path:?} would break the header")));
            }
        }
        if let Some(domain) = &self.domain {
            let ok = !domain.is_empty()
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
            if !ok {
                return Err(bad("domain", format!("{domain:?} is not a domain name")));
            }
        }
        let prefixed = |p: &str| {
            self.name
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        };
        if prefixed("__host-")
            && !(self.secure && self.path.as_deref() == Some("/") && self.domain.is_none())
        {
            return Err(bad(
                "name",
                "a __Host- cookie requires Secure, Path=/ and no Domain",
            ));
        }
        if prefixed("__secure-") && !self.secure {
            return Err(bad("name", "a __Secure- cookie requires Secure"));
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(bad("same_site", "SameSite=None requires Secure"));
        }
        if self.partitioned && !self.secure {
            return Err(bad("partitioned", "Partitioned requires Secure"));
        }
        Ok(())
    }

    /// `Set-Cookie` for `value` (already encoded: cookie-octets only). With `max_age_ms`,
    /// both `Max-Age` (whole seconds) and `Expires` (`now_ms + max_age_ms`) are written;
    /// without, it is a browser-session cookie.
    pub fn build(
        &self,
        value: &str,
        max_age_ms: Option<Millis>,
        now_ms: Millis,
    ) -> Result<String, Error> {
        self.validate()?;
        if let Some(b) = value.bytes().find(|&b| !is_cookie_octet(b)) {
            return Err(bad(
                "value",
                format!("byte 0x{b:02x} is not allowed in a cookie value (encode it first)"),
            ));
        }
        let mut out = self.start(value.len());
        out.push_str(value);
        self.finish(out, max_age_ms, now_ms)
    }

    /// The `Set-Cookie` for a session id: `s:<id>.<signature>` signed with `key` and
    /// URI-encoded (express-session's form), then the attributes, written into one
    /// allocation. For options already checked ([`WebConfig::new`](crate::web::WebConfig::new)
    /// validates them); the encoded value holds cookie octets only.
    pub(crate) fn build_signed_id<K: super::sign::MacKey + ?Sized>(
        &self,
        id: &str,
        key: &K,
        max_age_ms: Option<Millis>,
        now_ms: Millis,
    ) -> Result<String, Error> {
        let signature = super::sign::Signature::of(id, key);
        let mut out = self.start(id.len() + 4 + 1 + 52);
        out.push_str("s%3A");
        super::uri::push_encoded(&mut out, id);
        out.push('.');
        super::uri::push_encoded(&mut out, signature.as_str());
        self.finish(out, max_age_ms, now_ms)
    }

    /// `name=`, in a buffer sized for the value and the usual attributes (well under 100
    /// bytes), so a header is one allocation.
    fn start(&self, value_len: usize) -> String {
        let mut out = String::with_capacity(self.name.len() + value_len + 96);
        out.push_str(&self.name);
        out.push('=');
        out
    }

    /// Appends the attributes to `name=value` and checks the length.
    fn finish(
        &self,
        mut out: String,
        max_age_ms: Option<Millis>,
        now_ms: Millis,
    ) -> Result<String, Error> {
        if let Some(ms) = max_age_ms {
            out.push_str("; Max-Age=");
            super::date::push_digits(&mut out, ms / 1000, 1);
        }
        if let Some(domain) = &self.domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if let Some(path) = &self.path {
            out.push_str("; Path=");
            out.push_str(path);
        }
        if let Some(ms) = max_age_ms {
            out.push_str("; Expires=");
            super::date::push_imf_fixdate(&mut out, now_ms.saturating_add(ms));
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if self.partitioned {
            out.push_str("; Partitioned");
        }
        if let Some(p) = self.priority {
            out.push_str(match p {
                Priority::Low => "; Priority=Low",
                Priority::Medium => "; Priority=Medium",
                Priority::High => "; Priority=High",
            });
        }
        if let Some(s) = self.same_site {
            out.push_str(match s {
                SameSite::Strict => "; SameSite=Strict",
                SameSite::Lax => "; SameSite=Lax",
                SameSite::None => "; SameSite=None",
            });
        }
        if self.secure {
            out.push_str("; Secure");
        }
        if out.len() > MAX_SET_COOKIE_BYTES {
            return Err(Error::LimitExceeded {
                key: Some("set_cookie".to_string()),
                limit: "max_set_cookie_bytes",
                max: MAX_SET_COOKIE_BYTES,
                actual: out.len(),
            });
        }
        Ok(out)
    }

    /// `Set-Cookie` carrying `id` signed with `secret`, URI-encoded as express-session does.
    pub fn build_signed(
        &self,
        id: &str,
        secret: &[u8],
        max_age_ms: Option<Millis>,
        now_ms: Millis,
    ) -> Result<String, Error> {
        self.validate()?;
        self.build_signed_id(id, secret, max_age_ms, now_ms)
    }

    /// A `Set-Cookie` that deletes the cookie (logout): same name, path and domain, empty
    /// value, `Max-Age=0` and an `Expires` in 1970.
    pub fn clear(&self) -> Result<String, Error> {
        // Max-Age=0 for current browsers, an Expires at the epoch for old ones.
        self.build("", Some(0), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use proptest::prelude::*;

    #[test]
    fn every_attribute() {
        let o = CookieOptions {
            name: "__Host-sid".into(),
            partitioned: true,
            priority: Some(Priority::High),
            same_site: Some(SameSite::None),
            ..CookieOptions::default()
        };
        assert_eq!(
            o.build("v", Some(1_500), 784_111_777_000).unwrap(),
            "__Host-sid=v; Max-Age=1; Path=/; Expires=Sun, 06 Nov 1994 08:49:38 GMT; HttpOnly; Partitioned; Priority=High; SameSite=None; Secure"
        );
        let plain = CookieOptions {
            secure: false,
            http_only: false,
            same_site: None,
            path: None,
            domain: Some("example.com".into()),
            ..CookieOptions::default()
        };
        assert_eq!(
            plain.build("v", None, 0).unwrap(),
            "sid=v; Domain=example.com"
        );
    }

    #[test]
    fn clearing_cookie() {
        assert_eq!(
            CookieOptions::default().clear().unwrap(),
            "sid=; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax; Secure"
        );
    }

    #[test]
    fn signed_values_are_uri_encoded() {
        let h = CookieOptions::default()
            .build_signed("apple", b"keyboard cat", None, 0)
            .unwrap();
        assert!(h.starts_with("sid=s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU;"));
    }

    #[test]
    fn rule_breakers_are_refused_by_name() {
        let d = CookieOptions::default;
        let cases: [(CookieOptions, &str, &str); 9] = [
            (
                CookieOptions {
                    name: "a b".into(),
                    ..d()
                },
                "v",
                "name",
            ),
            (
                CookieOptions {
                    name: "".into(),
                    ..d()
                },
                "v",
                "name",
            ),
            (d(), "a;b", "value"),
            (d(), "é", "value"),
            (d(), "a,b", "value"),
            (
                CookieOptions {
                    path: Some("/x;Domain=evil".into()),
                    ..d()
                },
                "v",
                "path",
            ),
            (
                CookieOptions {
                    name: "__Host-x".into(),
                    domain: Some("a.com".into()),
                    ..d()
                },
                "v",
                "name",
            ),
            (
                CookieOptions {
                    name: "__Secure-x".into(),
                    secure: false,
                    ..d()
                },
                "v",
                "name",
            ),
            (
                CookieOptions {
                    secure: false,
                    same_site: Some(SameSite::None),
                    ..d()
                },
                "v",
                "same_site",
            ),
        ];
        for (o, value, key) in cases {
            match o.build(value, None, 0) {
                Err(Error::InvalidValue { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: {other:?}"),
            }
        }
        let e = d().build(&"x".repeat(4100), None, 0).unwrap_err();
        assert_eq!(e.code(), ErrorCode::LimitExceeded);
        assert!(CookieOptions {
            partitioned: true,
            secure: false,
            ..d()
        }
        .validate()
        .is_err());
        assert!(CookieOptions {
            name: "__host-x".into(),
            path: Some("/a".into()),
            ..d()
        }
        .validate()
        .is_err());
    }

    proptest! {
        #[test]
        fn the_one_pass_signed_header_is_sign_encode_build(
            id in "\\PC{0,40}",
            secret in proptest::collection::vec(any::<u8>(), 0..64),
            max_age in proptest::option::of(0u64..=400 * 86_400_000),
            now in 0u64..=8_000_000_000_000,
        ) {
            // What responses write in one buffer against the three steps it stands for.
            let o = CookieOptions { domain: Some("example.com".into()), ..CookieOptions::default() };
            let value = crate::web::cookie::encode_uri_component(&crate::web::cookie::sign(&id, &secret));
            prop_assert_eq!(
                o.build_signed(&id, &secret, max_age, now),
                o.build(&value, max_age, now)
            );
        }

        #[test]
        fn build_then_parse_returns_the_value(value in "[!#-+\\--:<-\\[\\]-~]{0,60}") {
            let header = CookieOptions::default().build(&value, Some(1000), 0).unwrap();
            let (pair, _) = header.split_once(';').unwrap();
            let parsed = crate::web::cookie::parse_cookie_header(pair);
            prop_assert_eq!(parsed, alloc::vec![("sid", value.as_str())]);
        }
    }
}
