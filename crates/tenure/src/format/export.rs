//! The export blob: every live session in one document, `{"v":1,"sessions":[record,…]}`,
//! each record in the v1 record format.

use crate::error::{decode_error, DecodeError, Error};
use crate::format::limits::Limits;
use crate::format::record::{Record, RecordSeed};
use alloc::vec::Vec;
use core::fmt;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Encodes records as an export blob.
pub fn encode(records: &[alloc::sync::Arc<Record>]) -> Vec<u8> {
    let mut out = Vec::from(&b"{\"v\":1,\"sessions\":["[..]);
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&r.encode());
    }
    out.extend_from_slice(b"]}");
    out
}

/// Decodes an export blob; each record is checked exactly as [`Record::decode`] checks it.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Vec<Record>, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let records = BlobSeed { limits: *limits }
        .deserialize(&mut de)
        .map_err(decode_error)?;
    de.end().map_err(decode_error)?;
    for r in &records {
        r.check(limits)?;
        let len = r.payload_len();
        if len > limits.max_data_bytes {
            return Err(DecodeError::TooLarge {
                max: limits.max_data_bytes,
                actual: len,
            }
            .into());
        }
    }
    Ok(records)
}

struct BlobSeed {
    limits: Limits,
}

impl<'de> DeserializeSeed<'de> for BlobSeed {
    type Value = Vec<Record>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BlobSeed {
    type Value = Vec<Record>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tenure export blob")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut version = None;
        let mut sessions = None;
        while let Some(k) = m.next_key::<alloc::string::String>()? {
            match k.as_str() {
                "v" if version.is_none() => version = Some(m.next_value::<u64>()?),
                "sessions" if sessions.is_none() => {
                    sessions = Some(m.next_value_seed(RecordsSeed {
                        limits: self.limits,
                    })?)
                }
                other => return Err(de::Error::unknown_field(other, &["v", "sessions"])),
            }
        }
        match version {
            Some(1) => {}
            Some(v) => {
                return Err(de::Error::custom(alloc::format!(
                    "unknown export version {v}"
                )))
            }
            None => return Err(de::Error::missing_field("v")),
        }
        sessions.ok_or_else(|| de::Error::missing_field("sessions"))
    }
}

struct RecordsSeed {
    limits: Limits,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed {
    type Value = Vec<Record>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed {
    type Value = Vec<Record>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of session records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(r) = seq.next_element_seed(RecordSeed {
            limits: self.limits,
        })? {
            out.push(r);
        }
        Ok(out)
    }
}
