//! Where a session lives in Redis, and as what: key names and hash fields (layout 1).
//!
//! ```text
//! <prefix>s:{<id>}          hash   v, created, accessed, version, [idle], [absolute],
//!                                  [deadline], [principal], [flash], d:<key> per data key
//! <prefix>{index}:ids       zset   every session id, score 0 (listed in id order)
//! <prefix>{index}:due       zset   every session id, scored no later than its deadline
//! <prefix>{index}:p:<name>  set    the ids of a principal's sessions (a superset)
//! ```
//! Numbers are decimal text, data values and flash messages the JSON of the record format,
//! so a field holds the same bytes whichever language wrote it. The session's keys share a
//! hash slot (`{<id>}`), as do the index keys (`{index}`), for Redis Cluster.

use crate::clock::Millis;
use crate::error::{Error, StoreError};
use crate::format::limits::Limits;
use crate::format::record::{Flash, Record, FORMAT_VERSION};
use crate::format::value::data::DataMap;
use crate::format::value::Value;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use compact_str::CompactString;

/// The field holding data key `key`.
pub(crate) fn data_field(key: &str) -> String {
    let mut f = String::with_capacity(key.len() + 2);
    f.push_str("d:");
    f.push_str(key);
    f
}

/// The key names of one deployment (one prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    prefix: CompactString,
}

/// The longest key prefix.
pub const MAX_PREFIX_BYTES: usize = 64;

impl Layout {
    /// Keys under `prefix` (e.g. `"tenure:"`, or `"myapp:sessions:"` to share one Redis
    /// between apps). Braces are refused: they would change Redis Cluster's hash slots.
    pub fn new(prefix: &str) -> Result<Self, Error> {
        if prefix.len() > MAX_PREFIX_BYTES {
            return Err(Error::LimitExceeded {
                key: Some("prefix".into()),
                limit: "max_prefix_bytes",
                max: MAX_PREFIX_BYTES,
                actual: prefix.len(),
            });
        }
        if let Some(c) = prefix
            .chars()
            .find(|c| matches!(c, '{' | '}') || c.is_control() || c.is_whitespace())
        {
            return Err(Error::invalid(
                "prefix",
                format!("{c:?} is not allowed in a Redis key prefix (braces, spaces and control characters are refused)"),
            ));
        }
        Ok(Layout {
            prefix: prefix.into(),
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The hash of session `id`.
    pub fn session(&self, id: &str) -> String {
        format!("{}s:{{{id}}}", self.prefix)
    }

    /// The sorted set of every session id (score 0: listed in id order).
    pub fn ids(&self) -> String {
        format!("{}{{index}}:ids", self.prefix)
    }

    /// The sorted set of every session id scored with a time at or before its deadline.
    pub fn due(&self) -> String {
        format!("{}{{index}}:due", self.prefix)
    }

    /// The set of the ids of `principal`'s sessions (it may hold ids of sessions that are
    /// gone or changed principal; readers check).
    pub fn principal(&self, principal: &str) -> String {
        format!("{}{{index}}:p:{principal}", self.prefix)
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            prefix: "tenure:".into(),
        }
    }
}

/// The `due` score of a record: its deadline, or `+inf` when it never expires.
pub(crate) fn due_score(deadline: Option<Millis>) -> String {
    deadline.map_or_else(|| "+inf".into(), |d| d.to_string())
}

/// Field/value pairs for the metadata that may be absent (`None`: delete the field).
pub(crate) fn optional_meta(record: &Record) -> [(&'static str, Option<String>); 5] {
    let flash = record.flash();
    [
        ("idle", record.idle().map(|t| t.to_string())),
        ("absolute", record.absolute().map(|t| t.to_string())),
        ("deadline", record.deadline().map(|t| t.to_string())),
        ("principal", record.principal().map(String::from)),
        (
            "flash",
            (!flash.is_empty())
                .then(|| String::from_utf8(serde_json::to_vec(flash).unwrap_or_default()))
                .and_then(Result::ok),
        ),
    ]
}

/// Every field of `record`, in layout order (what a new session's hash holds).
///
/// ```
/// use tenure::redis::layout::fields;
/// use tenure::{Record, Value};
/// let mut r = Record::new("AAAAAAAAAAAAAAAAAAAAAA", 1_000, Some(60_000), None);
/// r.version = 1;
/// r.data.insert("n", Value::Int(1));
/// let f = fields(&r);
/// assert_eq!(f[..4], [("v".into(), "1".into()), ("created".into(), "1000".into()),
///                     ("accessed".into(), "1000".into()), ("version".into(), "1".into())]);
/// assert!(f.contains(&("deadline".into(), "61000".into())));
/// assert_eq!(f.last(), Some(&("d:n".into(), "1".into())));
/// ```
pub fn fields(record: &Record) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(8 + record.data.len());
    out.push(("v".into(), FORMAT_VERSION.to_string()));
    out.push(("created".into(), record.created.to_string()));
    out.push(("accessed".into(), record.accessed.to_string()));
    out.push(("version".into(), record.version.to_string()));
    for (name, value) in optional_meta(record) {
        if let Some(v) = value {
            out.push((name.into(), v));
        }
    }
    for (k, v) in record.data.iter() {
        out.push((data_field(k), value_text(v)));
    }
    out
}

/// A data value as stored in its field: its JSON.
pub(crate) fn value_text(v: &Value) -> String {
    // Value's JSON is UTF-8 by construction.
    String::from_utf8(v.to_json()).unwrap_or_default()
}

fn corrupt(id: &str, why: impl core::fmt::Display) -> StoreError {
    StoreError::new(format!("corrupt session {id} in Redis: {why}"))
}

fn number(id: &str, field: &str, text: &str) -> Result<Millis, StoreError> {
    text.parse()
        .map_err(|_| corrupt(id, format_args!("field {field} is not a number: {text:?}")))
}

/// Decodes the hash of session `id` (field/value pairs as `HGETALL` lists them), as
/// untrusted input: every value within `limits`, unknown fields refused.
pub fn decode(id: &str, pairs: &[(String, String)], limits: &Limits) -> Result<Record, StoreError> {
    let mut record = Record::new(id, 0, None, None);
    let (mut v, mut created, mut accessed, mut version) = (None, None, None, None);
    let mut data = DataMap::new();
    let mut total = 0usize;
    for (field, text) in pairs {
        total = total.saturating_add(field.len() + text.len());
        if total > limits.max_record_bytes() {
            return Err(corrupt(
                id,
                format_args!("larger than {} bytes", limits.max_record_bytes()),
            ));
        }
        match field.as_str() {
            "v" => v = Some(number(id, field, text)?),
            "created" => created = Some(number(id, field, text)?),
            "accessed" => accessed = Some(number(id, field, text)?),
            "version" => version = Some(number(id, field, text)?),
            "idle" => record.set_idle(Some(number(id, field, text)?)),
            "absolute" => record.set_absolute(Some(number(id, field, text)?)),
            "deadline" => {
                number(id, field, text)?;
            }
            "principal" => record.set_principal(Some(text.clone())),
            "flash" => {
                let flash: Vec<Flash> = serde_json::from_str(text)
                    .map_err(|e| corrupt(id, format_args!("field flash: {e}")))?;
                record.replace_flash(flash);
            }
            f => match f.strip_prefix("d:") {
                Some(key) => {
                    let value = Value::from_json(text.as_bytes(), limits)
                        .map_err(|e| corrupt(id, format_args!("field {f}: {e}")))?;
                    data.insert(CompactString::from(key), value);
                }
                None => return Err(corrupt(id, format_args!("unknown field {f:?}"))),
            },
        }
    }
    match v {
        Some(FORMAT_VERSION) => {}
        Some(other) => return Err(corrupt(id, format_args!("unknown layout version {other}"))),
        None => return Err(corrupt(id, "no layout version (field v)")),
    }
    let missing = |name| corrupt(id, format_args!("field {name} is missing"));
    record.created = created.ok_or_else(|| missing("created"))?;
    record.accessed = accessed.ok_or_else(|| missing("accessed"))?;
    record.version = version.ok_or_else(|| missing("version"))?;
    record.data = data;
    record.check(limits).map_err(|e| corrupt(id, e))?;
    record.check_payload(limits).map_err(|e| corrupt(id, e))?;
    Ok(record)
}
