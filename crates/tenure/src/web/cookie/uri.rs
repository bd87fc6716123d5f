//! `encodeURIComponent` / `decodeURIComponent`, as the cookie packages of Node apply them
//! to cookie values (signatures contain `+` and `/`).

use alloc::string::String;
use alloc::vec::Vec;

/// JavaScript's `encodeURIComponent` leaves these bytes alone: one bit each, so the check
/// is a shift and a mask (this runs over every cookie a response sets).
const UNRESERVED: [u64; 4] = {
    let mut set = [0u64; 4];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            )
        {
            set[b / 64] |= 1 << (b % 64);
        }
        b += 1;
    }
    set
};

fn unreserved(b: u8) -> bool {
    UNRESERVED[usize::from(b >> 6)] & (1 << (b & 63)) != 0
}

/// Percent-encodes every byte outside JavaScript's `encodeURIComponent` set.
///
/// ```
/// assert_eq!(tenure::web::cookie::encode_uri_component("s:a+b/c"), "s%3Aa%2Bb%2Fc");
/// ```
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_encoded(&mut out, s);
    out
}

/// Appends `s` percent-encoded as [`encode_uri_component`] does.
pub(crate) fn push_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Runs of unreserved bytes are copied whole: a non-empty run is ASCII, so it starts and
    // ends on a character boundary. A signed cookie value has three or four escapes.
    let mut run = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if !unreserved(b) {
            if run < i {
                out.push_str(&s[run..i]);
            }
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
            run = i + 1;
        }
    }
    out.push_str(&s[run..]);
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
pub fn decode_uri_component(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.into());
    }
    // Runs between escapes are copied whole: a signed cookie is mostly plain characters.
    let mut out = Vec::with_capacity(s.len());
    let mut parts = s.split('%');
    out.extend_from_slice(parts.next().unwrap_or("").as_bytes());
    for part in parts {
        let hex = part.as_bytes().get(..2)?;
        let hi = (hex[0] as char).to_digit(16)?;
        let lo = (hex[1] as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
        out.extend_from_slice(&part.as_bytes()[2..]);
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vectors() {
        assert_eq!(
            encode_uri_component("s:apple.D8Y+pkTAmeR0PobOhY4G97PRW+j7bUnP/5m6/On1MCU"),
            "s%3Aapple.D8Y%2BpkTAmeR0PobOhY4G97PRW%2Bj7bUnP%2F5m6%2FOn1MCU"
        );
        assert_eq!(encode_uri_component("100% é"), "100%25%20%C3%A9");
        assert_eq!(
            decode_uri_component("100%25%20%C3%A9").as_deref(),
            Some("100% é")
        );
        assert_eq!(decode_uri_component("%"), None);
        assert_eq!(decode_uri_component("%zz"), None);
        assert_eq!(decode_uri_component("%C3"), None);
        assert_eq!(decode_uri_component("%e2%82%ac").as_deref(), Some("€"));
    }

    #[test]
    fn the_unreserved_set_is_exactly_encode_uri_components() {
        // ECMA-262's uriUnreserved: alphanumerics and - _ . ! ~ * ' ( ); every other byte,
        // including all of 128..=255, is escaped.
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b);
            assert_eq!(unreserved(b), expected, "byte 0x{b:02x}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(s in "\\PC{0,40}") {
            prop_assert_eq!(decode_uri_component(&encode_uri_component(&s)), Some(s));
        }
    }
}
