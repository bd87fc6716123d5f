//! Errors, each with a stable code shared by every language.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use core::any::Any;
use core::fmt;

/// The stable code of an [`Error`], identical in Rust, JavaScript (`TENURE_` + code) and Python.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The session was destroyed or expired before the operation.
    SessionGone,
    /// A value, key or argument was refused (type, NaN, non-integer increment, overflow…).
    InvalidValue,
    /// A size or depth limit would be passed.
    LimitExceeded,
    /// `max_sessions` is reached and the policy says reject.
    TooManySessions,
    /// The store failed; the session is unchanged.
    StoreError,
    /// The policy is nonsense (zero timeout, short ids, …).
    InvalidPolicy,
    /// A record, delta or export blob could not be decoded.
    DecodeError,
    /// The entropy source failed to produce random bytes.
    EntropyError,
}

impl ErrorCode {
    /// The code as the upper-case string every language uses, e.g. `"SESSION_GONE"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::SessionGone => "SESSION_GONE",
            ErrorCode::InvalidValue => "INVALID_VALUE",
            ErrorCode::LimitExceeded => "LIMIT_EXCEEDED",
            ErrorCode::TooManySessions => "TOO_MANY_SESSIONS",
            ErrorCode::StoreError => "STORE_ERROR",
            ErrorCode::InvalidPolicy => "INVALID_POLICY",
            ErrorCode::DecodeError => "DECODE_ERROR",
            ErrorCode::EntropyError => "ENTROPY_ERROR",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why decoding a record, delta or export blob failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input is longer than the limit allows.
    TooLarge {
        /// The limit in bytes.
        max: usize,
        /// The input's length.
        actual: usize,
    },
    /// Nesting is deeper than the limit allows.
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The `v` field names a format version this build does not know.
    UnknownVersion(u64),
    /// The input is not valid JSON, or not of the expected shape.
    Malformed(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge { max, actual } => {
                write!(
                    f,
                    "input of {actual} bytes exceeds the limit of {max} bytes"
                )
            }
            DecodeError::TooDeep { max } => write!(f, "nesting deeper than the limit of {max}"),
            DecodeError::UnknownVersion(v) => write!(f, "unknown record format version {v}"),
            DecodeError::Malformed(why) => write!(f, "malformed input: {why}"),
        }
    }
}

/// A store's failure, carried through unchanged so the host sees its own cause.
///
/// A host store (a JS object, a Python object, a Redis client) attaches the exception it
/// caught with [`with_cause`](Self::with_cause); the error travels through the manager
/// inside [`Error::Store`], and the host takes it back out with [`cause`](Self::cause)
/// (the bindings make it the JS `err.cause` and the Python `__cause__`). No side channel,
/// so an operation's error always carries the cause of its own failure.
#[derive(Clone)]
pub struct StoreError {
    /// What failed, in the store's words.
    pub message: String,
    cause: Option<Arc<dyn Any + Send + Sync>>,
}

impl StoreError {
    /// A store error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
            cause: None,
        }
    }

    /// A store error carrying the host's own error (any `'static + Send + Sync` value).
    pub fn with_cause(message: impl Into<String>, cause: impl Any + Send + Sync) -> Self {
        StoreError {
            message: message.into(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// The host's error, if it is a `T` (what [`with_cause`](Self::with_cause) was given).
    pub fn cause<T: Any>(&self) -> Option<&T> {
        self.cause.as_deref()?.downcast_ref()
    }
}

// Two store errors are equal when they say the same thing; a host's error object has no
// equality of its own.
impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}
impl Eq for StoreError {}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreError")
            .field("message", &self.message)
            .field("cause", &self.cause.as_ref().map(|_| "..."))
            .finish()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "store error: {}", self.message)
    }
}

impl From<DecodeError> for StoreError {
    fn from(e: DecodeError) -> Self {
        StoreError::new(alloc::format!("corrupt record: {e}"))
    }
}

/// Every error tenure reports. A failed operation leaves the stored session as it was.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// The session was destroyed or expired; it is never resurrected.
    SessionGone {
        /// The session's id.
        id: String,
    },
    /// A value or argument was refused.
    InvalidValue {
        /// The data key (or argument name) concerned.
        key: String,
        /// Why, naming the type or rule.
        reason: String,
    },
    /// A limit would be passed.
    LimitExceeded {
        /// The data key concerned, when there is one.
        key: Option<String>,
        /// The limit's name, e.g. `max_data_bytes`.
        limit: &'static str,
        /// The limit's value.
        max: usize,
        /// The value that would have resulted.
        actual: usize,
    },
    /// `max_sessions` is reached and the policy says reject.
    TooManySessions {
        /// The configured maximum.
        max: usize,
    },
    /// The store failed.
    Store(StoreError),
    /// The policy was refused.
    InvalidPolicy(String),
    /// Decoding failed.
    Decode(DecodeError),
    /// The entropy source failed.
    Entropy(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::SessionGone { .. } => ErrorCode::SessionGone,
            Error::InvalidValue { .. } => ErrorCode::InvalidValue,
            Error::LimitExceeded { .. } => ErrorCode::LimitExceeded,
            Error::TooManySessions { .. } => ErrorCode::TooManySessions,
            Error::Store(_) => ErrorCode::StoreError,
            Error::InvalidPolicy(_) => ErrorCode::InvalidPolicy,
            Error::Decode(_) => ErrorCode::DecodeError,
            Error::Entropy(_) => ErrorCode::EntropyError,
        }
    }

    pub(crate) fn invalid(key: &str, reason: impl Into<String>) -> Self {
        Error::InvalidValue {
            key: key.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SessionGone { id } => {
                write!(f, "session {id} was destroyed or expired")
            }
            Error::InvalidValue { key, reason } => write!(f, "invalid value for {key:?}: {reason}"),
            Error::LimitExceeded {
                key,
                limit,
                max,
                actual,
            } => {
                if let Some(k) = key {
                    write!(f, "{k:?}: ")?;
                }
                write!(f, "{limit} exceeded ({actual} > {max})")
            }
            Error::TooManySessions { max } => {
                write!(f, "too many sessions: max_sessions is {max}")
            }
            Error::Store(e) => e.fmt(f),
            Error::InvalidPolicy(why) => write!(f, "invalid policy: {why}"),
            Error::Decode(e) => write!(f, "decode error: {e}"),
            Error::Entropy(why) => write!(f, "entropy source failed: {why}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}
#[cfg(feature = "std")]
impl std::error::Error for StoreError {}
#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

/// Maps a serde_json error onto the typed decode error (depth errors kept distinct).
pub(crate) fn decode_error(e: serde_json::Error) -> DecodeError {
    let msg = e.to_string();
    if msg.contains("max_depth") || msg.contains("recursion limit") {
        // serde_json's own guard (128) or ours: either way the input nests too deep.
        DecodeError::TooDeep {
            max: crate::format::limits::Limits::default().max_depth,
        }
    } else {
        DecodeError::Malformed(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn a_store_error_carries_the_hosts_error_back() {
        #[derive(Debug, PartialEq)]
        struct HostError(u32);
        let e = StoreError::with_cause("disk full", HostError(28));
        assert_eq!(e.cause::<HostError>(), Some(&HostError(28)));
        assert_eq!(
            e.cause::<u32>(),
            None,
            "a cause of another type is not found"
        );
        let cloned = Error::Store(e.clone());
        match cloned {
            Error::Store(c) => assert_eq!(c.cause::<HostError>(), Some(&HostError(28))),
            other => panic!("{other:?}"),
        }
        assert_eq!(e, StoreError::new("disk full"), "equality is the message's");
        assert_eq!(StoreError::new("x").cause::<HostError>(), None);
    }

    #[test]
    fn codes_are_stable_strings() {
        assert_eq!(ErrorCode::SessionGone.as_str(), "SESSION_GONE");
        let e = Error::invalid("views", "NaN is not a finite number");
        assert_eq!(e.code(), ErrorCode::InvalidValue);
        assert!(e.to_string().contains("views"));
        let e = Error::LimitExceeded {
            key: Some("k".into()),
            limit: "max_key_bytes",
            max: 3,
            actual: 5,
        };
        assert_eq!(e.to_string(), "\"k\": max_key_bytes exceeded (5 > 3)");
    }
}
