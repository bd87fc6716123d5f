//! Signed cookie values in express-session's `cookie-signature` format:
//! `s:` + value + `.` + base64(HMAC-SHA256(secret, value)) without `=` padding.

use crate::error::Error;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The shortest secret the checked configuration ([`Secrets`]) accepts: 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

/// A secret to sign and verify with: raw bytes (`&[u8]`, keyed on every use) or a [`Key`]
/// (keyed once).
pub(crate) trait MacKey {
    /// HMAC-SHA256 of `value` under this secret.
    fn mac(&self, value: &str) -> [u8; 32];
}

impl<T: AsRef<[u8]> + ?Sized> MacKey for T {
    fn mac(&self, value: &str) -> [u8; 32] {
        Key::new(self.as_ref()).mac(value)
    }
}

/// A secret with its HMAC state keyed once, so each signature or check costs the message's
/// hashing only (keying is two of the four SHA-256 blocks a session id takes).
#[derive(Clone)]
pub(crate) struct Key(Hmac<Sha256>);

impl Key {
    /// Keys HMAC-SHA256 with `secret` (any length).
    pub(crate) fn new(secret: &[u8]) -> Self {
        // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        Key(mac)
    }
}

impl MacKey for Key {
    fn mac(&self, value: &str) -> [u8; 32] {
        let mut m = self.0.clone();
        m.update(value.as_bytes());
        m.finalize().into_bytes().into()
    }
}

/// Appends `<id>.<signature>` (the signature: base64, standard alphabet, of the HMAC, `=`
/// stripped): the signed form a cookie carries after `s:` and a bearer token is.
pub(crate) fn push_signed<K: MacKey + ?Sized>(out: &mut String, id: &str, secret: &K) {
    out.push_str(id);
    out.push('.');
    out.push_str(Signature::of(id, secret).as_str());
}

/// The signature of a value as text (base64, standard alphabet, unpadded), on the stack:
/// what [`push_signed`] appends, for a writer that escapes it as it goes.
pub(crate) struct Signature([u8; 43]);

impl Signature {
    /// HMAC-SHA256 of `id` under `secret`, encoded.
    pub(crate) fn of<K: MacKey + ?Sized>(id: &str, secret: &K) -> Self {
        let mut text = [0u8; 43];
        // 32 bytes encode to exactly 43 unpadded characters, so the slice always fits.
        let _ = STANDARD_NO_PAD.encode_slice(secret.mac(id), &mut text);
        Signature(text)
    }

    /// The 43 characters.
    pub(crate) fn as_str(&self) -> &str {
        // Base64 output is ASCII.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Signs `id` with `secret`: `s:<id>.<signature>` (not yet URI-encoded for a header).
/// Any secret is accepted here so published vectors can be checked; web integrations use
/// [`Secrets`], which refuses short ones.
pub fn sign(id: &str, secret: &[u8]) -> String {
    sign_with(id, secret)
}

pub(crate) fn sign_with<K: MacKey + ?Sized>(id: &str, secret: &K) -> String {
    // One allocation of the exact size: this runs for every cookie a response sets.
    let mut out = String::with_capacity(id.len() + 3 + 43);
    out.push_str("s:");
    push_signed(&mut out, id, secret);
    out
}

/// A verified value, and which secret verified it (0 is the newest, so anything else
/// means: re-sign with the newest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsigned {
    /// The value that was signed (the session id).
    pub id: String,
    /// The index in the secret list of the secret that matched.
    pub secret_index: usize,
}

/// Verifies a signed value against every secret (rotation: the first signs, all verify).
/// The value must start with `s:`; it is split at the last `.`. Signatures are compared in
/// constant time. `None` for anything that does not verify.
pub fn unsign(value: &str, secrets: &[&[u8]]) -> Option<Unsigned> {
    unsign_with(value, secrets)
}

pub(crate) fn unsign_with<K: MacKey>(value: &str, secrets: &[K]) -> Option<Unsigned> {
    verify(value.strip_prefix("s:")?, secrets)
}

/// Verifies `<id>.<signature>` (no `s:` prefix: the bearer-token form).
pub(crate) fn verify<K: MacKey>(signed: &str, secrets: &[K]) -> Option<Unsigned> {
    let dot = signed.rfind('.')?;
    let (id, sig) = (&signed[..dot], &signed[dot + 1..]);
    // Canonical unpadded base64 of exactly 32 bytes, or nothing: a changed byte anywhere
    // in the signature is a different (or invalid) encoding.
    let mut given = [0u8; 33];
    if sig.len() != 43 || STANDARD_NO_PAD.decode_slice(sig, &mut given).ok()? != 32 {
        return None;
    }
    let given = &given[..32];
    secrets.iter().enumerate().find_map(|(i, secret)| {
        bool::from(secret.mac(id).ct_eq(given)).then(|| Unsigned {
            id: id.into(),
            secret_index: i,
        })
    })
}

/// [`unsign`], returning just the id.
pub fn unsign_id(value: &str, secrets: &[&[u8]]) -> Option<String> {
    unsign(value, secrets).map(|u| u.id)
}

/// A checked list of secrets for web integrations: at least one, each at least
/// [`MIN_SECRET_BYTES`] long. The first signs; all verify.
#[derive(Clone)]
pub struct Secrets {
    keys: Vec<Key>,
}

impl core::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Secrets({} hidden)", self.keys.len())
    }
}

impl Secrets {
    /// Checks the list; `INVALID_POLICY` names the secret that is too short.
    pub fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Result<Self, Error> {
        let list: Vec<Vec<u8>> = secrets.into_iter().map(|s| s.as_ref().to_vec()).collect();
        if list.is_empty() {
            return Err(Error::InvalidPolicy(
                "at least one secret is required".into(),
            ));
        }
        for (i, s) in list.iter().enumerate() {
            if s.len() < MIN_SECRET_BYTES {
                return Err(Error::InvalidPolicy(format!(
                    "secret {i} is {} bytes; secrets must be at least {MIN_SECRET_BYTES} bytes",
                    s.len()
                )));
            }
        }
        // Only the keyed HMAC states are kept: no second copy of the raw secrets.
        let keys = list.iter().map(|s| Key::new(s)).collect();
        Ok(Secrets { keys })
    }

    /// Signs with the newest secret.
    pub fn sign(&self, id: &str) -> String {
        sign_with(id, &self.keys[0])
    }

    /// Verifies with every secret.
    pub fn unsign(&self, value: &str) -> Option<Unsigned> {
        unsign_with(value, &self.keys)
    }

    /// The secrets keyed for signing, newest first.
    pub(crate) fn keys(&self) -> &[Key] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    const VECTOR: &str = "s:apple.D8Y+pkTAmeR0PobOhY4G97PRW+j7bUnP/5m6/On1MCU";

    #[test]
    fn express_session_vector() {
        assert_eq!(sign("apple", b"keyboard cat"), VECTOR);
        assert_eq!(
            unsign_id(VECTOR, &[b"keyboard cat"]).as_deref(),
            Some("apple")
        );
        assert_eq!(unsign(VECTOR, &[b"nope"]), None);
        assert_eq!(
            unsign(&VECTOR[2..], &[b"keyboard cat"]),
            None,
            "the s: prefix is required"
        );
    }

    #[test]
    fn keyed_secrets_sign_and_verify_as_raw_ones_do() {
        let raw = b"keyboard cat keyboard cat keyboard cat";
        let old = b"an older secret, at least 32 bytes long";
        let secrets = Secrets::new([&raw[..], &old[..]]).unwrap();
        assert_eq!(secrets.sign("apple"), sign("apple", raw));
        let signed_old = sign("apple", old);
        assert_eq!(secrets.unsign(&signed_old).unwrap().secret_index, 1);
        assert_eq!(
            unsign(&signed_old, &[raw, old]),
            secrets.unsign(&signed_old)
        );
    }

    #[test]
    fn rotation_reports_the_matching_secret() {
        let old = sign("id.with.dots", b"old secret");
        let u = unsign(&old, &[b"new secret", b"old secret"]).unwrap();
        assert_eq!((u.id.as_str(), u.secret_index), ("id.with.dots", 1));
        let new = sign("x", b"new secret");
        assert_eq!(
            unsign(&new, &[b"new secret", b"old secret"])
                .unwrap()
                .secret_index,
            0
        );
    }

    #[test]
    fn ids_with_percent_and_slash_sign_and_verify() {
        for id in ["a%2Fb", "a/b", "100%", "s:nested.", ""] {
            let s = sign(id, b"k");
            assert_eq!(unsign_id(&s, &[b"k"]).as_deref(), Some(id));
        }
    }

    #[test]
    fn tampering_and_garbage_are_refused() {
        assert_eq!(unsign("s:apple.", &[b"keyboard cat"]), None);
        assert_eq!(unsign("s:apple", &[b"keyboard cat"]), None);
        assert_eq!(unsign("s:", &[b"keyboard cat"]), None);
        assert_eq!(
            unsign(&VECTOR.replace("apple", "applf"), &[b"keyboard cat"]),
            None
        );
        assert_eq!(
            unsign(&(VECTOR.to_string() + "="), &[b"keyboard cat"]),
            None
        );
        assert_eq!(unsign(VECTOR, &[]), None);
    }

    #[test]
    fn checked_secrets_refuse_short_ones() {
        let e = Secrets::new(["x".repeat(32), "short".to_string()]).unwrap_err();
        assert_eq!(e.code(), crate::error::ErrorCode::InvalidPolicy);
        assert!(alloc::format!("{e}").contains("secret 1 is 5 bytes"));
        assert!(Secrets::new(Vec::<String>::new()).is_err());
        let s = Secrets::new(["n".repeat(32), "o".repeat(40)]).unwrap();
        let old = sign("id", "o".repeat(40).as_bytes());
        assert_eq!(s.unsign(&old).unwrap().secret_index, 1);
        assert_eq!(s.unsign(&s.sign("id")).unwrap().secret_index, 0);
        assert_eq!(alloc::format!("{s:?}"), "Secrets(2 hidden)");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn sign_then_verify(id in ".{0,40}", secret in proptest::collection::vec(any::<u8>(), 0..64)) {
            let s = sign(&id, &secret);
            prop_assert_eq!(unsign_id(&s, &[&secret]), Some(id));
        }

        #[test]
        fn any_single_byte_change_is_refused(id in "[A-Za-z0-9_-]{1,30}", pos in any::<usize>(), b in any::<u8>()) {
            let s = sign(&id, b"secret");
            let mut bytes = s.clone().into_bytes();
            let i = pos % bytes.len();
            prop_assume!(bytes[i] != b);
            bytes[i] = b;
            if let Ok(changed) = String::from_utf8(bytes) {
                prop_assert_eq!(unsign(&changed, &[b"secret"]), None);
            }
        }

        #[test]
        fn unsign_never_panics(s in "\\PC{0,80}") {
            let _ = unsign(&s, &[b"k", b""]);
        }
    }
}
