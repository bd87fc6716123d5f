//! Reading the `Cookie:` request header (RFC 6265 §5.4, tolerant of what browsers and
//! proxies actually send, and bounded so hostile headers cost little).

use super::sign::{unsign_with, MacKey, Unsigned};
use super::uri::decode_uri_component;
use alloc::vec::Vec;

/// Only this many bytes of a `Cookie:` header are looked at.
pub const MAX_COOKIE_HEADER_BYTES: usize = 8192;
/// Only this many name=value pairs are looked at.
pub const MAX_COOKIE_PAIRS: usize = 64;
/// The most `Cookie` headers of one request looked at (a client sends one; the rest of a
/// hostile list is never read, so its length costs nothing).
pub const MAX_COOKIE_HEADERS: usize = 16;

/// Splits a `Cookie:` header into `(name, value)` pairs, in order, duplicates kept. Spaces
/// around names and values are trimmed, a value in double quotes loses them, pairs without
/// `=` or with an empty name are skipped. Bounded by [`MAX_COOKIE_HEADER_BYTES`] and
/// [`MAX_COOKIE_PAIRS`].
///
/// ```
/// let pairs = tenure::web::cookie::parse_cookie_header(r#"a=1; junk; b = "two" ;a=3"#);
/// assert_eq!(pairs, vec![("a", "1"), ("b", "two"), ("a", "3")]);
/// ```
pub fn parse_cookie_header(header: &str) -> Vec<(&str, &str)> {
    cookie_pairs(header).collect()
}

/// [`parse_cookie_header`]'s pairs, one at a time: a reader looking for one cookie stops at
/// it without collecting the rest.
pub(crate) fn cookie_pairs(header: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut end = header.len().min(MAX_COOKIE_HEADER_BYTES);
    while !header.is_char_boundary(end) {
        end -= 1;
    }
    header[..end]
        .split(';')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim_matches(|c| c == ' ' || c == '\t');
            if name.is_empty() {
                return None;
            }
            let value = value.trim_matches(|c| c == ' ' || c == '\t');
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((name, value))
        })
        .take(MAX_COOKIE_PAIRS)
}

/// The session id in a `Cookie:` header: of the cookies named `name`, in order, the first
/// whose (URI-decoded) value is a signed value that verifies with one of `secrets` and
/// holds a plausible session id.
///
/// ```
/// use tenure::web::cookie::{find_session_id, sign, encode_uri_component};
/// let header = format!("sid=forged; sid={}", encode_uri_component(&sign("AAAAAAAAAAAAAAAAAAAAAA", b"k")));
/// assert_eq!(find_session_id(&header, "sid", &[b"k"]).unwrap().id, "AAAAAAAAAAAAAAAAAAAAAA");
/// ```
pub fn find_session_id(header: &str, name: &str, secrets: &[&[u8]]) -> Option<Unsigned> {
    find_session_id_with(header, name, secrets)
}

pub(crate) fn find_session_id_with<K: MacKey>(
    header: &str,
    name: &str,
    secrets: &[K],
) -> Option<Unsigned> {
    cookie_pairs(header)
        .filter(|(n, _)| *n == name)
        .find_map(|(_, raw)| {
            let value = decode_uri_component(raw).unwrap_or_else(|| raw.into());
            unsign_with(&value, secrets).filter(|u| crate::id::is_plausible(&u.id))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::cookie::{encode_uri_component, sign};
    use alloc::format;
    use alloc::string::String;
    use proptest::prelude::*;

    const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn tolerant_parsing() {
        assert_eq!(parse_cookie_header(""), Vec::<(&str, &str)>::new());
        assert_eq!(
            parse_cookie_header("=x; ;a=; b=c=d"),
            alloc::vec![("a", ""), ("b", "c=d")]
        );
        assert_eq!(
            parse_cookie_header("\ta\t=\t\"\"\t"),
            alloc::vec![("a", "")]
        );
        assert_eq!(
            parse_cookie_header("a=\"unterminated"),
            alloc::vec![("a", "\"unterminated")]
        );
    }

    #[test]
    fn bounds() {
        let many: String = (0..200).map(|i| format!("c{i}=v; ")).collect();
        assert_eq!(parse_cookie_header(&many).len(), MAX_COOKIE_PAIRS);
        let huge = format!("{}; sid=late", "x=".repeat(10_000));
        assert!(parse_cookie_header(&huge).iter().all(|(n, _)| *n != "sid"));
        let multibyte = "é".repeat(5000);
        let _ = parse_cookie_header(&multibyte);
    }

    #[test]
    fn the_first_cookie_that_verifies_wins() {
        let good = encode_uri_component(&sign(ID, b"new"));
        let old = encode_uri_component(&sign(&"B".repeat(22), b"old"));
        let header = format!("sid=s%3Aforged.AAAA; other=1; sid={old}; sid={good}");
        let u = find_session_id(&header, "sid", &[b"new", b"old"]).unwrap();
        assert_eq!((u.id, u.secret_index), ("B".repeat(22), 1));
        assert_eq!(find_session_id(&header, "sid", &[b"new"]).unwrap().id, ID);
        assert!(find_session_id(&header, "nope", &[b"new"]).is_none());
        // Unencoded values are accepted too; signed-but-implausible ids are not.
        let raw = format!("sid={}", sign(ID, b"k"));
        assert!(find_session_id(&raw, "sid", &[b"k"]).is_some());
        let implausible = format!("sid={}", encode_uri_component(&sign("../x", b"k")));
        assert!(find_session_id(&implausible, "sid", &[b"k"]).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics_and_stays_bounded(h in "\\PC{0,300}") {
            let pairs = parse_cookie_header(&h);
            prop_assert!(pairs.len() <= MAX_COOKIE_PAIRS);
            let _ = find_session_id(&h, "sid", &[b"k"]);
        }
    }
}
