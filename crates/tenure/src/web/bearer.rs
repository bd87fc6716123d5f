//! `Authorization: Bearer` tokens. A tenure bearer token is the signed value without the
//! cookie's `s:` prefix, `<id>.<signature>`, which stays within RFC 6750's token68 alphabet.

use crate::web::cookie::sign::MacKey;
use crate::web::cookie::Unsigned;
use alloc::string::String;

/// The longest Authorization header value looked at.
pub const MAX_AUTHORIZATION_BYTES: usize = 4096;

/// The token of an `Authorization: Bearer <token>` header value (scheme case-insensitive,
/// token68 characters only), or `None`.
///
/// ```
/// assert_eq!(tenure::web::bearer::parse_bearer("Bearer abc.DEF+/="), Some("abc.DEF+/="));
/// assert_eq!(tenure::web::bearer::parse_bearer("Basic abc"), None);
/// ```
pub fn parse_bearer(header: &str) -> Option<&str> {
    if header.len() > MAX_AUTHORIZATION_BYTES {
        return None;
    }
    let header = header.trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let ok = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    ok.then_some(token)
}

/// Signs `id` as a bearer token: `<id>.<signature>`.
pub fn sign_token(id: &str, secret: &[u8]) -> String {
    sign_token_with(id, secret)
}

pub(crate) fn sign_token_with<K: MacKey + ?Sized>(id: &str, secret: &K) -> String {
    let mut out = String::with_capacity(id.len() + 1 + 43);
    crate::web::cookie::sign::push_signed(&mut out, id, secret);
    out
}

/// Verifies a bearer token against every secret; the id must be a plausible session id.
pub fn unsign_token(token: &str, secrets: &[&[u8]]) -> Option<Unsigned> {
    unsign_token_with(token, secrets)
}

pub(crate) fn unsign_token_with<K: MacKey>(token: &str, secrets: &[K]) -> Option<Unsigned> {
    crate::web::cookie::sign::verify(token, secrets).filter(|u| crate::id::is_plausible(&u.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use proptest::prelude::*;

    #[test]
    fn parsing() {
        assert_eq!(parse_bearer("bearer   tok"), Some("tok"));
        assert_eq!(parse_bearer("BEARER tok=="), Some("tok=="));
        assert_eq!(parse_bearer("Bearer"), None);
        assert_eq!(parse_bearer("Bearer "), None);
        assert_eq!(parse_bearer("Bearer a b"), None);
        assert_eq!(parse_bearer("Bearer s:a"), None);
        assert_eq!(parse_bearer("Bearer ==="), None);
        assert_eq!(parse_bearer(&format!("Bearer {}", "a".repeat(5000))), None);
    }

    #[test]
    fn tokens_sign_and_verify() {
        let id = "AAAAAAAAAAAAAAAAAAAAAA";
        let t = sign_token(id, b"secret");
        assert_eq!(parse_bearer(&format!("Bearer {t}")), Some(t.as_str()));
        let u = unsign_token(&t, &[b"other", b"secret"]).unwrap();
        assert_eq!((u.id.as_str(), u.secret_index), (id, 1));
        assert!(unsign_token(&t.replace('A', "B"), &[b"secret"]).is_none());
        assert!(unsign_token(&sign_token("short", b"secret"), &[b"secret"]).is_none());
    }

    proptest! {
        /// A token is a cookie's signed value without `s:`: one signing, both forms, and
        /// each verifies as the other.
        #[test]
        fn a_token_is_the_cookie_value_without_its_prefix(id in "[A-Za-z0-9_-]{22}", secret in proptest::collection::vec(any::<u8>(), 1..64)) {
            let token = sign_token(&id, &secret);
            let cookie = crate::web::cookie::sign(&id, &secret);
            prop_assert_eq!(cookie.strip_prefix("s:"), Some(token.as_str()));
            let u = crate::web::cookie::unsign(&format!("s:{token}"), &[&secret]).unwrap();
            prop_assert_eq!(u.id, id);
        }

        #[test]
        fn never_panics(h in "\\PC{0,100}") {
            let _ = parse_bearer(&h);
            let _ = unsign_token(&h, &[b"k"]);
        }
    }
}
