//! The change log: what a request did to a session, as a value of its own.
//!
//! A [`Delta`] is applied to the *current* stored record at commit time, which is what makes
//! concurrent requests merge instead of overwrite: different keys both land, increments add
//! up, the same key is last-writer-wins. It encodes to JSON so that stores able to apply
//! changes natively (Redis, later) can receive it as is.

use crate::clock::Millis;
use crate::error::{decode_error, DecodeError, Error};
use crate::format::limits::Limits;
use crate::format::record::{Flash, Record};
use crate::format::value::Value;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// The longest flash category or message, in bytes.
pub const MAX_FLASH_FIELD_BYTES: usize = 4096;

/// One recorded operation on a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// `data[key] = value`.
    Set {
        /// The key.
        key: CompactString,
        /// The value.
        value: Value,
    },
    /// Removes `key` (whether or not this copy saw it).
    Delete {
        /// The key.
        key: CompactString,
    },
    /// Removes every data key (flash messages stay).
    Clear,
    /// Adds `by` to the integer at `key` (a missing key counts as 0).
    Increment {
        /// The key.
        key: CompactString,
        /// The amount, possibly negative.
        by: i64,
    },
    /// Appends a flash message.
    Flash {
        /// Category.
        category: String,
        /// Message.
        message: String,
    },
    /// Removes these flash messages (each once), leaving any added meanwhile.
    TakeFlashes {
        /// The messages that were shown.
        taken: Vec<Flash>,
    },
    /// Sets or clears the principal.
    SetPrincipal {
        /// The new principal.
        principal: Option<String>,
    },
    /// Sets this session's idle timeout (`None`: never idles out).
    SetIdle {
        /// The new idle timeout in ms.
        idle: Option<Millis>,
    },
}

/// The result of incrementing `current` by `by`: the one rule for `increment` everywhere.
pub fn incremented(key: &str, current: Option<&Value>, by: i64) -> Result<i64, Error> {
    let base = match current {
        None => 0,
        Some(Value::Int(i)) => *i,
        Some(other) => {
            return Err(Error::invalid(
                key,
                format!(
                    "cannot increment a {}; only integers count",
                    other.type_name()
                ),
            ))
        }
    };
    base.checked_add(by)
        .ok_or_else(|| Error::invalid(key, format!("{base} + {by} overflows a 64-bit integer")))
}

pub(crate) fn check_key(key: &str, limits: &Limits) -> Result<(), Error> {
    if key.len() > limits.max_key_bytes {
        return Err(Error::LimitExceeded {
            key: Some(truncated(key)),
            limit: "max_key_bytes",
            max: limits.max_key_bytes,
            actual: key.len(),
        });
    }
    Ok(())
}

/// Checks one data entry: the key's length, then the value (finite floats, depth). The one
/// rule for `set`, `update`, `create` and deltas from outside.
pub(crate) fn check_entry(key: &str, value: &Value, limits: &Limits) -> Result<(), Error> {
    check_key(key, limits)?;
    value.validate(key, limits)
}

/// A key short enough to quote in an error message.
fn truncated(key: &str) -> String {
    let mut end = key.len().min(40);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    if end < key.len() {
        format!("{}…", &key[..end])
    } else {
        key.to_string()
    }
}

pub(crate) fn check_flash(category: &str, message: &str) -> Result<(), Error> {
    for (name, s) in [("category", category), ("message", message)] {
        if s.len() > MAX_FLASH_FIELD_BYTES {
            return Err(Error::LimitExceeded {
                key: Some(format!("flash {name}")),
                limit: "max_flash_bytes",
                max: MAX_FLASH_FIELD_BYTES,
                actual: s.len(),
            });
        }
    }
    Ok(())
}

impl Op {
    /// Checks the operation's keys and values against `limits` (for deltas from outside).
    pub fn validate(&self, limits: &Limits) -> Result<(), Error> {
        match self {
            Op::Set { key, value } => check_entry(key, value, limits),
            Op::Delete { key } | Op::Increment { key, .. } => check_key(key, limits),
            Op::Flash { category, message } => check_flash(category, message),
            Op::SetPrincipal { principal: Some(p) } => {
                check_key(p, limits).map_err(|_| Error::LimitExceeded {
                    key: Some("principal".into()),
                    limit: "max_key_bytes",
                    max: limits.max_key_bytes,
                    actual: p.len(),
                })
            }
            Op::SetIdle { idle: Some(0) } => Err(Error::invalid("idle_timeout", "must be > 0")),
            _ => Ok(()),
        }
    }

    /// Applies this operation to `record`. Either it applies whole or it fails and
    /// `record` is untouched.
    pub fn apply_to(&self, record: &mut Record) -> Result<(), Error> {
        match self {
            Op::Set { key, value } => {
                record.data.insert(key.clone(), value.clone());
            }
            Op::Delete { key } => {
                record.data.remove(key);
            }
            Op::Clear => record.data.clear(),
            Op::Increment { key, by } => {
                let n = incremented(key, record.data.get(key), *by)?;
                record.data.insert(key.clone(), Value::Int(n));
            }
            Op::Flash { category, message } => {
                record.push_flash(Flash::new(category.clone(), message.clone()));
            }
            Op::TakeFlashes { taken } => {
                let mut flash = record.replace_flash(Vec::new());
                for t in taken {
                    if let Some(i) = flash.iter().position(|f| f == t) {
                        flash.remove(i);
                    }
                }
                record.replace_flash(flash);
            }
            Op::SetPrincipal { principal } => record.set_principal(principal.clone()),
            Op::SetIdle { idle } => record.set_idle(*idle),
        }
        Ok(())
    }
}

/// A session's change log: the operations since it was opened or last committed.
///
/// ```
/// use tenure::__private::delta::{Delta, Op};
/// use tenure::{Record, Limits, Value};
/// let mut stored = Record::new("AAAAAAAAAAAAAAAAAAAAAA", 0, None, None);
/// stored.data.insert("n", Value::Int(5));
/// let delta = Delta::from_ops(vec![Op::Increment { key: "n".into(), by: 2 }]);
/// let merged = delta.apply(&stored, &Limits::default()).unwrap();
/// assert_eq!(merged.data["n"], Value::Int(7));
/// let wire = delta.encode();
/// assert_eq!(Delta::decode(&wire, &Limits::default()).unwrap(), delta);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delta {
    ops: Vec<Op>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeltaWire<T> {
    v: u64,
    ops: T,
}

impl Delta {
    /// An empty log.
    pub fn new() -> Self {
        Delta::default()
    }

    /// A log of the given operations.
    pub fn from_ops(ops: Vec<Op>) -> Self {
        Delta { ops }
    }

    /// The operations, oldest first.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Records an operation.
    pub fn push(&mut self, op: Op) {
        // Consecutive increments of one key fold into one, so hot counters keep logs short.
        if let (Some(Op::Increment { key: k1, by: b1 }), Op::Increment { key: k2, by: b2 }) =
            (self.ops.last_mut(), &op)
        {
            if k1 == k2 {
                if let Some(sum) = b1.checked_add(*b2) {
                    *b1 = sum;
                    return;
                }
            }
        }
        self.ops.push(op);
    }

    pub(crate) fn clear(&mut self) {
        self.ops.clear();
    }

    /// What applying this log changes (see [`Changes`]).
    ///
    /// ```
    /// use tenure::__private::delta::{Delta, Op};
    /// use tenure::Value;
    /// let d = Delta::from_ops(vec![
    ///     Op::Set { key: "a".into(), value: Value::Int(1) },
    ///     Op::Increment { key: "a".into(), by: 1 },
    ///     Op::Delete { key: "b".into() },
    /// ]);
    /// let c = d.changes();
    /// assert_eq!(c.keys, ["a", "b"]);
    /// assert!(!c.cleared && !c.meta);
    /// ```
    pub fn changes(&self) -> Changes {
        let mut c = Changes::default();
        for op in &self.ops {
            match op {
                Op::Set { key, .. } | Op::Delete { key } | Op::Increment { key, .. } => {
                    if !c.keys.contains(key) {
                        c.keys.push(key.clone());
                    }
                }
                Op::Clear => {
                    c.cleared = true;
                    c.keys.clear();
                }
                Op::Flash { .. }
                | Op::TakeFlashes { .. }
                | Op::SetPrincipal { .. }
                | Op::SetIdle { .. } => c.meta = true,
            }
        }
        c
    }

    /// Applies every operation to a copy of `current` and checks the result against
    /// `limits`; `current` itself is never changed.
    pub fn apply(&self, current: &Record, limits: &Limits) -> Result<Record, Error> {
        let mut next = current.clone();
        for op in &self.ops {
            op.apply_to(&mut next)?;
        }
        next.check_payload(limits)?;
        Ok(next)
    }

    /// JSON form: `{"v":1,"ops":[{"op":"set","key":"k","value":1},…]}`.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&DeltaWire {
            v: 1,
            ops: &self.ops,
        })
        .unwrap_or_default()
    }

    /// Decodes and validates a delta from untrusted bytes.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Delta, Error> {
        let max = limits.max_record_bytes();
        if bytes.len() > max {
            return Err(DecodeError::TooLarge {
                max,
                actual: bytes.len(),
            }
            .into());
        }
        let wire: DeltaWire<Vec<Op>> = serde_json::from_slice(bytes).map_err(decode_error)?;
        if wire.v != 1 {
            return Err(DecodeError::UnknownVersion(wire.v).into());
        }
        for op in &wire.ops {
            op.validate(limits)?;
        }
        Ok(Delta { ops: wire.ops })
    }
}

/// What a [`Request::Replace`](crate::store::Request::Replace) changes relative to the stored version it expects: the data
/// keys written or removed, whether the data was cleared, whether the metadata (principal,
/// flash messages, idle timeout) or the access time (and so the deadline) changed. The
/// version always changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Data keys set, incremented or deleted (each once, in the order first changed).
    pub keys: Vec<CompactString>,
    /// Every data key was removed (before the keys above were written).
    pub cleared: bool,
    /// The principal, the flash messages or the idle timeout may have changed.
    pub meta: bool,
    /// The access time was raised (the deadline may have moved).
    pub touched: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn rec() -> Record {
        Record::new("AAAAAAAAAAAAAAAAAAAAAA", 0, None, None)
    }

    #[test]
    fn increment_rules() {
        assert_eq!(incremented("k", None, 3).unwrap(), 3);
        assert_eq!(incremented("k", Some(&Value::Int(-2)), 3).unwrap(), 1);
        let e = incremented("k", Some(&Value::Float(1.0)), 1).unwrap_err();
        assert!(format!("{e}").contains("float"));
        assert!(incremented("k", Some(&Value::Int(i64::MAX)), 1).is_err());
    }

    #[test]
    fn failed_apply_leaves_the_record_alone() {
        let mut r = rec();
        r.data.insert("s", Value::from("text"));
        let d = Delta::from_ops(vec![
            Op::Set {
                key: "a".into(),
                value: Value::Int(1),
            },
            Op::Increment {
                key: "s".into(),
                by: 1,
            },
        ]);
        assert!(d.apply(&r, &Limits::default()).is_err());
        assert_eq!(r.data.len(), 1);
    }

    #[test]
    fn take_flashes_removes_only_what_was_taken() {
        let mut r = rec();
        r.push_flash(Flash::new("info", "a"));
        r.push_flash(Flash::new("info", "b"));
        let d = Delta::from_ops(vec![Op::TakeFlashes {
            taken: vec![Flash::new("info", "a")],
        }]);
        let next = d.apply(&r, &Limits::default()).unwrap();
        assert_eq!(next.flash(), [Flash::new("info", "b")]);
    }

    #[test]
    fn increments_fold_and_encode() {
        let mut d = Delta::new();
        d.push(Op::Increment {
            key: "n".into(),
            by: 1,
        });
        d.push(Op::Increment {
            key: "n".into(),
            by: 2,
        });
        assert_eq!(d.ops().len(), 1);
        let json = String::from_utf8(d.encode()).unwrap();
        assert_eq!(
            json,
            r#"{"v":1,"ops":[{"op":"increment","key":"n","by":3}]}"#
        );
    }

    #[test]
    fn decode_validates() {
        let l = Limits::default();
        assert!(Delta::decode(
            br#"{"v":1,"ops":[{"op":"set","key":"k","value":{"$b":"AQ=="}}]}"#,
            &l
        )
        .is_ok());
        assert_eq!(
            Delta::decode(br#"{"v":2,"ops":[]}"#, &l)
                .unwrap_err()
                .code(),
            crate::error::ErrorCode::DecodeError
        );
        assert!(Delta::decode(br#"{"v":1,"ops":[{"op":"nope"}]}"#, &l).is_err());
        let long_key = format!(
            r#"{{"v":1,"ops":[{{"op":"delete","key":"{}"}}]}}"#,
            "k".repeat(300)
        );
        assert_eq!(
            Delta::decode(long_key.as_bytes(), &l).unwrap_err().code(),
            crate::error::ErrorCode::LimitExceeded
        );
    }
}
