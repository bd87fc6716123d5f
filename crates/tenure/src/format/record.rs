//! The stored form of a session: a versioned JSON document that any language can read.
//!
//! ```text
//! {"v":1,"id":"…","created":ms,"accessed":ms,"idle":ms|null,"absolute":ms|null,
//!  "principal":"…"|null,"version":n,"data":{…},"flash":[["category","message"],…]}
//! ```
//! Fields are always written in this order, data keys in byte order, so the same session
//! encodes to the same bytes in every language. See `docs/record-format.md`.

use crate::clock::Millis;
use crate::error::DecodeError;
use crate::format::limits::Limits;
use crate::format::value::data::DataMap;
use crate::format::value::{self, DataSeed};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use compact_str::CompactString;
use core::fmt;
use core::num::NonZeroU64;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, SerializeTuple};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The record format version this build writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// One flash message: shown once, then gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// A category such as `"info"` or `"error"`.
    pub category: String,
    /// The message.
    pub message: String,
}

impl Flash {
    /// A flash message.
    pub fn new(category: impl Into<String>, message: impl Into<String>) -> Self {
        Flash {
            category: category.into(),
            message: message.into(),
        }
    }

    pub(crate) fn json_len(&self) -> usize {
        value::str_json_len(&self.category) + value::str_json_len(&self.message) + 3
    }
}

impl Serialize for Flash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.category)?;
        t.serialize_element(&self.message)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for Flash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (category, message) = <(String, String)>::deserialize(d)?;
        Ok(Flash { category, message })
    }
}

/// A session as stored: metadata plus data, without the pending change log.
///
/// Laid out to be small, because a store holds one per session: the id is held inline, the
/// timeouts are non-zero integers, and the principal and flash messages, which most
/// sessions lack, live behind one optional box.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The session id (base64url).
    pub id: CompactString,
    /// Creation time (ms).
    pub created: Millis,
    /// Last persisted activity (ms).
    pub accessed: Millis,
    /// Bumped on every commit.
    pub version: u64,
    idle: Option<NonZeroU64>,
    absolute: Option<NonZeroU64>,
    /// The session data.
    pub data: DataMap,
    /// Principal and flash messages; `None` when there are neither (kept normalized, so
    /// equal records compare equal).
    extra: Option<Box<Extra>>,
}

#[derive(Clone, Debug, PartialEq, Default)]
struct Extra {
    principal: Option<String>,
    flash: Vec<Flash>,
}

/// A timeout as stored: zero is not a timeout, and is kept as the shortest one (1 ms), so
/// it can never be mistaken for "never".
fn timeout(ms: Option<Millis>) -> Option<NonZeroU64> {
    ms.map(|t| NonZeroU64::new(t).unwrap_or(NonZeroU64::MIN))
}

impl Record {
    /// What a store reports for a record it removed but could not read (corrupt bytes):
    /// its id, and a creation time of [`Millis::MAX`], "unknown", so that the lifetime
    /// metrics leave it out instead of counting it alive since the epoch.
    pub(crate) fn unreadable(id: &str) -> Self {
        Record::new(id, Millis::MAX, None, None)
    }

    /// Whether this is a placeholder for an unreadable record (see `unreadable`).
    pub(crate) fn is_unreadable(&self) -> bool {
        self.created == Millis::MAX
    }

    /// An empty record. A timeout of `Some(0)` is stored as 1 ms (policies refuse zero).
    pub fn new(
        id: impl Into<CompactString>,
        now: Millis,
        idle: Option<Millis>,
        absolute: Option<Millis>,
    ) -> Self {
        Record {
            id: id.into(),
            created: now,
            accessed: now,
            version: 0,
            idle: timeout(idle),
            absolute: timeout(absolute),
            data: DataMap::new(),
            extra: None,
        }
    }

    /// Idle timeout in ms for this session; `None` = never idles out.
    pub fn idle(&self) -> Option<Millis> {
        self.idle.map(NonZeroU64::get)
    }

    /// Sets the idle timeout (`Some(0)` is stored as 1 ms).
    pub fn set_idle(&mut self, ms: Option<Millis>) {
        self.idle = timeout(ms);
    }

    /// Absolute lifetime in ms from `created`; `None` = no absolute bound.
    pub fn absolute(&self) -> Option<Millis> {
        self.absolute.map(NonZeroU64::get)
    }

    /// Sets the absolute lifetime (`Some(0)` is stored as 1 ms).
    pub fn set_absolute(&mut self, ms: Option<Millis>) {
        self.absolute = timeout(ms);
    }

    /// The user this session belongs to, if any (indexed by stores).
    pub fn principal(&self) -> Option<&str> {
        self.extra.as_ref()?.principal.as_deref()
    }

    /// Sets or clears the principal.
    pub fn set_principal(&mut self, principal: Option<String>) {
        self.extra_mut(|e| e.principal = principal);
    }

    /// Pending flash messages, oldest first.
    pub fn flash(&self) -> &[Flash] {
        self.extra.as_ref().map_or(&[], |e| &e.flash)
    }

    /// Appends a flash message.
    pub fn push_flash(&mut self, flash: Flash) {
        self.extra_mut(|e| e.flash.push(flash));
    }

    /// Replaces the flash messages, returning the previous ones.
    pub fn replace_flash(&mut self, flash: Vec<Flash>) -> Vec<Flash> {
        let mut old = Vec::new();
        self.extra_mut(|e| old = core::mem::replace(&mut e.flash, flash));
        old
    }

    fn extra_mut(&mut self, f: impl FnOnce(&mut Extra)) {
        let mut e = self.extra.take().unwrap_or_default();
        f(&mut e);
        if e.principal.is_some() || !e.flash.is_empty() {
            self.extra = Some(e);
        }
    }

    /// When this session dies: `min(accessed + idle, created + absolute)`; `None` = never.
    pub fn deadline(&self) -> Option<Millis> {
        crate::expiry::deadline(self.created, self.accessed, self.idle(), self.absolute())
    }

    /// Whether the session is dead at `now` (a session is dead *at* its deadline).
    pub fn is_expired(&self, now: Millis) -> bool {
        crate::expiry::is_expired(self.deadline(), now)
    }

    /// A public handle for this session, safe to show in admin lists: the first 16 bytes
    /// of SHA-256 of the id, base64url. It identifies a session but cannot be used as one.
    pub fn public_id(&self) -> String {
        public_id(&self.id)
    }

    /// Bytes the data and flash messages take when encoded (what `max_data_bytes` bounds).
    pub fn payload_len(&self) -> usize {
        data_json_len(&self.data) + flash_json_len(self.flash())
    }

    /// Refuses a record whose data and flash messages pass `max_data_bytes`.
    pub(crate) fn check_payload(&self, limits: &Limits) -> Result<(), crate::error::Error> {
        let len = self.payload_len();
        if len > limits.max_data_bytes {
            return Err(crate::error::Error::LimitExceeded {
                key: None,
                limit: "max_data_bytes",
                max: limits.max_data_bytes,
                actual: len,
            });
        }
        Ok(())
    }

    /// The v1 JSON encoding. Deterministic: the same record gives the same bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes untrusted bytes: size and depth limits, unknown versions and garbage give a
    /// [`DecodeError`], never a panic.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Record, DecodeError> {
        let max = limits.max_record_bytes();
        if bytes.len() > max {
            return Err(DecodeError::TooLarge {
                max,
                actual: bytes.len(),
            });
        }
        check_version(bytes)?;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let record = RecordSeed { limits: *limits }
            .deserialize(&mut de)
            .map_err(|e| match crate::error::decode_error(e) {
                DecodeError::TooDeep { .. } => DecodeError::TooDeep {
                    max: limits.max_depth,
                },
                other => other,
            })?;
        de.end().map_err(crate::error::decode_error)?;
        record.check(limits)?;
        Ok(record)
    }

    /// Checks what the JSON shape alone can't: a plausible id, key and principal lengths.
    pub fn check(&self, limits: &Limits) -> Result<(), DecodeError> {
        if !crate::id::is_plausible(&self.id) {
            return Err(DecodeError::Malformed(
                "id is not a tenure session id".into(),
            ));
        }
        if self
            .principal()
            .is_some_and(|p| p.len() > limits.max_key_bytes)
        {
            return Err(DecodeError::Malformed(
                "principal longer than max_key_bytes".into(),
            ));
        }
        if let Some(k) = self.data.keys().find(|k| k.len() > limits.max_key_bytes) {
            return Err(DecodeError::Malformed(alloc::format!(
                "data key of {} bytes is longer than max_key_bytes",
                k.len()
            )));
        }
        Ok(())
    }
}

/// The public handle of a session id; see [`Record::public_id`].
pub fn public_id(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

pub(crate) fn data_json_len(data: &DataMap) -> usize {
    2 + data
        .iter()
        .map(|(k, v)| value::key_json_len(k) + 1 + v.json_len())
        .sum::<usize>()
        + data.len().saturating_sub(1)
}

pub(crate) fn flash_json_len(flash: &[Flash]) -> usize {
    2 + flash.iter().map(Flash::json_len).sum::<usize>() + flash.len().saturating_sub(1)
}

/// The `version` of an encoded record, read without decoding the rest: what a byte store
/// compares for [`ByteStore::replace`](crate::store::encoded::ByteStore::replace). `None` for bytes that are
/// not a v1 record with a version.
///
/// ```
/// let r = tenure::Record::new("AAAAAAAAAAAAAAAAAAAAAA", 0, None, None);
/// assert_eq!(tenure::stored_version(&r.encode()), Some(0));
/// assert_eq!(tenure::stored_version(b"{broken"), None);
/// ```
pub fn stored_version(bytes: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Head {
        v: u64,
        version: u64,
    }
    match serde_json::from_slice::<Head>(bytes) {
        Ok(h) if h.v == FORMAT_VERSION => Some(h.version),
        _ => None,
    }
}

/// Reads only `v` first, so an unknown version is reported as such, not as a shape error.
fn check_version(bytes: &[u8]) -> Result<(), DecodeError> {
    #[derive(Deserialize)]
    struct Version {
        v: Option<u64>,
    }
    let head: Version = serde_json::from_slice(bytes).map_err(crate::error::decode_error)?;
    match head.v {
        Some(FORMAT_VERSION) => Ok(()),
        Some(other) => Err(DecodeError::UnknownVersion(other)),
        None => Err(DecodeError::Malformed("missing field `v`".into())),
    }
}

struct DataRef<'a>(&'a DataMap);

impl Serialize for DataRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        value::serialize_map(self.0.iter(), s)
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Record", 10)?;
        st.serialize_field("v", &FORMAT_VERSION)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("created", &self.created)?;
        st.serialize_field("accessed", &self.accessed)?;
        st.serialize_field("idle", &self.idle)?;
        st.serialize_field("absolute", &self.absolute)?;
        st.serialize_field("principal", &self.principal())?;
        st.serialize_field("version", &self.version)?;
        st.serialize_field("data", &DataRef(&self.data))?;
        st.serialize_field("flash", self.flash())?;
        st.end()
    }
}

const FIELDS: &[&str] = &[
    "v",
    "id",
    "created",
    "accessed",
    "idle",
    "absolute",
    "principal",
    "version",
    "data",
    "flash",
];

/// Decodes a record with the given limits on its data.
#[derive(Clone, Copy)]
pub(crate) struct RecordSeed {
    pub(crate) limits: Limits,
}

impl<'de> DeserializeSeed<'de> for RecordSeed {
    type Value = Record;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        d.deserialize_struct("Record", FIELDS, self)
    }
}

impl<'de> Visitor<'de> for RecordSeed {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tenure session record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Record, A::Error> {
        let mut v: Option<u64> = None;
        let mut id: Option<CompactString> = None;
        let mut created: Option<Millis> = None;
        let mut accessed: Option<Millis> = None;
        let mut idle: Option<Option<NonZeroU64>> = None;
        let mut absolute: Option<Option<NonZeroU64>> = None;
        let mut principal: Option<Option<String>> = None;
        let mut version: Option<u64> = None;
        let mut data: Option<DataMap> = None;
        let mut flash: Option<Vec<Flash>> = None;
        fn once<E: de::Error, T>(slot: &mut Option<T>, v: T, name: &'static str) -> Result<(), E> {
            if slot.is_some() {
                return Err(E::duplicate_field(name));
            }
            *slot = Some(v);
            Ok(())
        }
        while let Some(key) = m.next_key::<String>()? {
            match key.as_str() {
                "v" => once(&mut v, m.next_value()?, "v")?,
                "id" => once(&mut id, m.next_value()?, "id")?,
                "created" => once(&mut created, m.next_value()?, "created")?,
                "accessed" => once(&mut accessed, m.next_value()?, "accessed")?,
                "idle" => once(&mut idle, m.next_value()?, "idle")?,
                "absolute" => once(&mut absolute, m.next_value()?, "absolute")?,
                "principal" => once(&mut principal, m.next_value()?, "principal")?,
                "version" => once(&mut version, m.next_value()?, "version")?,
                "data" => {
                    let seed = DataSeed {
                        max_depth: self.limits.max_depth,
                    };
                    once(&mut data, m.next_value_seed(seed)?, "data")?
                }
                "flash" => once(&mut flash, m.next_value_seed(FlashSeed)?, "flash")?,
                other => {
                    let _: IgnoredAny = m.next_value()?;
                    return Err(de::Error::unknown_field(other, FIELDS));
                }
            }
        }
        if v != Some(FORMAT_VERSION) {
            return Err(de::Error::custom("unsupported record version"));
        }
        let mut r = Record {
            id: id.ok_or_else(|| de::Error::missing_field("id"))?,
            created: created.ok_or_else(|| de::Error::missing_field("created"))?,
            accessed: accessed.ok_or_else(|| de::Error::missing_field("accessed"))?,
            idle: idle.ok_or_else(|| de::Error::missing_field("idle"))?,
            absolute: absolute.ok_or_else(|| de::Error::missing_field("absolute"))?,
            version: version.ok_or_else(|| de::Error::missing_field("version"))?,
            data: data.ok_or_else(|| de::Error::missing_field("data"))?,
            extra: None,
        };
        r.set_principal(principal.ok_or_else(|| de::Error::missing_field("principal"))?);
        r.replace_flash(flash.unwrap_or_default());
        Ok(r)
    }
}

/// Reads the flash list (a list of `[category, message]` pairs).
struct FlashSeed;

impl<'de> DeserializeSeed<'de> for FlashSeed {
    type Value = Vec<Flash>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Flash>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FlashSeed {
    type Value = Vec<Flash>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of [category, message] pairs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Flash>, A::Error> {
        let mut out = Vec::new();
        while let Some(f) = seq.next_element::<Flash>()? {
            out.push(f);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::value::Value;
    use alloc::string::ToString;
    use alloc::vec;
    use proptest::prelude::*;

    const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    fn sample() -> Record {
        let mut r = Record::new(ID, 1_000, Some(1_800_000), Some(86_400_000));
        r.set_principal(Some("alice".into()));
        r.version = 3;
        r.data.insert("views", Value::Int(2));
        r.data.insert("blob", Value::from(vec![1u8, 2, 3]));
        r.push_flash(Flash::new("info", "hi"));
        r
    }

    #[test]
    fn encodes_in_the_documented_order() {
        let json = String::from_utf8(sample().encode()).unwrap();
        assert_eq!(
            json,
            r#"{"v":1,"id":"AAAAAAAAAAAAAAAAAAAAAA","created":1000,"accessed":1000,"idle":1800000,"absolute":86400000,"principal":"alice","version":3,"data":{"blob":{"$b":"AQID"},"views":2},"flash":[["info","hi"]]}"#
        );
        assert_eq!(
            Record::decode(json.as_bytes(), &Limits::default()).unwrap(),
            sample()
        );
    }

    #[test]
    fn payload_len_matches_encoding() {
        let r = sample();
        let data = serde_json::to_vec(&DataRef(&r.data)).unwrap().len();
        let flash = serde_json::to_vec(r.flash()).unwrap().len();
        assert_eq!(r.payload_len(), data + flash);
    }

    #[test]
    fn hostile_records_give_typed_errors() {
        let l = Limits::default();
        let good = String::from_utf8(sample().encode()).unwrap();
        assert_eq!(
            Record::decode(good.replace("\"v\":1", "\"v\":2").as_bytes(), &l),
            Err(DecodeError::UnknownVersion(2))
        );
        for bad in [
            "",
            "null",
            "[]",
            "{}",
            r#"{"v":1}"#,
            "{\"v\":1,\"id\":\"x\"",
            &good.replace("\"flash\"", "\"extra\""),
            &good.replace(ID, "../../etc/passwd"),
            &good.replace("\"created\":1000", "\"created\":-1"),
            &good.replace("\"version\":3", "\"version\":3,\"version\":4"),
            &good.replace("\"idle\":1800000", "\"idle\":0"),
            &good.replace("\"absolute\":86400000", "\"absolute\":0"),
        ] {
            assert!(
                matches!(
                    Record::decode(bad.as_bytes(), &l),
                    Err(DecodeError::Malformed(_))
                ),
                "{bad}"
            );
        }
        let huge = alloc::vec![b' '; l.max_record_bytes() + 1];
        assert!(matches!(
            Record::decode(&huge, &l),
            Err(DecodeError::TooLarge { .. })
        ));
        let deep = good.replace(
            "\"views\":2",
            &("\"views\":".to_string() + &"[".repeat(200) + &"]".repeat(200)),
        );
        assert!(matches!(
            Record::decode(deep.as_bytes(), &l),
            Err(DecodeError::TooDeep { .. })
        ));
    }

    #[test]
    fn stays_small_and_normalized() {
        // What a store pays per session before data: keep it from growing unnoticed.
        assert_eq!(core::mem::size_of::<Record>(), 88);
        let mut r = sample();
        r.set_principal(None);
        r.replace_flash(Vec::new());
        assert!(r.extra.is_none());
        let mut zero = Record::new(ID, 0, Some(0), None);
        assert_eq!(zero.idle(), Some(1));
        zero.set_idle(None);
        assert_eq!(zero.idle(), None);
    }

    #[test]
    fn public_id_is_stable_and_not_the_id() {
        let p = public_id(ID);
        assert_eq!(p.len(), 22);
        assert_ne!(p, ID);
        assert_eq!(p, public_id(ID));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Record::decode(&bytes, &Limits::default());
        }

        #[test]
        fn mutated_records_never_panic(pos in any::<usize>(), byte in any::<u8>()) {
            let mut enc = sample().encode();
            let i = pos % enc.len();
            enc[i] = byte;
            let _ = Record::decode(&enc, &Limits::default());
        }
    }
}
