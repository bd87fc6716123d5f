//! Session ids: random bytes from the injected [`Entropy`], base64url without padding.

use crate::entropy::Entropy;
use crate::error::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use compact_str::CompactString;

/// The fewest random bytes an id may have (128 bits).
pub const MIN_ID_BYTES: usize = 16;
/// The most random bytes an id may have.
pub const MAX_ID_BYTES: usize = 64;

/// The length in characters of an id of `bytes` random bytes.
pub const fn encoded_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// A fresh id of `bytes` random bytes (clamped to 16..=64).
pub fn generate(entropy: &mut dyn Entropy, bytes: usize) -> Result<CompactString, Error> {
    let n = bytes.clamp(MIN_ID_BYTES, MAX_ID_BYTES);
    // On the stack: a default id (22 characters) is then built without any allocation.
    let mut raw = [0u8; MAX_ID_BYTES];
    entropy
        .fill(&mut raw[..n])
        .map_err(|e| Error::Entropy(e.into()))?;
    let mut text = [0u8; encoded_len(MAX_ID_BYTES)];
    let len = URL_SAFE_NO_PAD
        .encode_slice(&raw[..n], &mut text)
        .map_err(|_| Error::Entropy("id buffer too small".into()))?;
    let id =
        core::str::from_utf8(&text[..len]).map_err(|_| Error::Entropy("id is not ASCII".into()))?;
    Ok(CompactString::from(id))
}

/// A cheap check that rejects ids tenure could never have minted (length, alphabet),
/// before any store is asked.
///
/// ```
/// assert!(tenure::__private::is_plausible("AAAAAAAAAAAAAAAAAAAAAA"));
/// assert!(!tenure::__private::is_plausible("../etc/passwd"));
/// ```
pub fn is_plausible(id: &str) -> bool {
    let len = id.len();
    // Branch-free over the characters: random ids make a per-character branch mispredict.
    len >= encoded_len(MIN_ID_BYTES)
        && len <= encoded_len(MAX_ID_BYTES)
        && len % 4 != 1
        && id
            .bytes()
            .fold(true, |ok, b| ok & BASE64URL[usize::from(b)])
}

/// Which bytes are base64url characters.
const BASE64URL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entropy::SeededEntropy;

    #[test]
    fn ids_have_the_right_shape() {
        let mut e = SeededEntropy::new(3);
        let id = generate(&mut e, 16).unwrap();
        assert_eq!(id.len(), 22);
        assert!(is_plausible(&id));
        let long = generate(&mut e, 64).unwrap();
        assert_eq!(long.len(), 86);
        assert!(is_plausible(&long));
        assert_ne!(generate(&mut e, 16).unwrap(), id);
    }

    #[test]
    fn implausible_ids_are_rejected() {
        assert!(!is_plausible(""));
        assert!(!is_plausible("short"));
        assert!(!is_plausible("AAAAAAAAAAAAAAAAAAAAA=")); // padding
        assert!(!is_plausible("AAAAAAAAAAAAAAAAAAAA+/")); // std alphabet
        assert!(!is_plausible(&"A".repeat(87)));
    }
}
