//! What a listing tells of a session ([`SessionInfo`]): who, since when, until when; never
//! its data.

use crate::clock::Millis;
use crate::format::record::Record;
use crate::format::value::Value;
use alloc::string::String;
use compact_str::CompactString;

/// One session as `list` and `sessions_of` report it (an admin page, "your other
/// devices"): its identity and times, without its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id (a credential: show [`public_id`](Self::public_id) instead).
    pub id: CompactString,
    /// A public handle, safe to show: see [`Record::public_id`].
    pub public_id: String,
    /// Whom the session belongs to.
    pub principal: Option<String>,
    /// When it was created (ms since the epoch), as [`Session::created_at`](crate::Session::created_at).
    pub created_at: Millis,
    /// When it was last used, as [`Session::last_access`](crate::Session::last_access).
    pub last_access: Millis,
    /// When it expires unless used again (`None`: never).
    pub expires_at: Option<Millis>,
    /// Its stored version (raised by every write).
    pub version: u64,
}

impl SessionInfo {
    /// The names of the fields, in [`fields`](Self::fields) order (snake_case; the JS
    /// binding camel-cases them).
    pub const NAMES: [&'static str; 7] = [
        "id",
        "public_id",
        "principal",
        "created_at",
        "last_access",
        "expires_at",
        "version",
    ];

    /// Every field with its name, as a [`Value`]: the one shape every binding hands over.
    ///
    /// ```
    /// use tenure::{Record, SessionInfo, Value};
    /// let info = SessionInfo::from(&Record::new("AAAAAAAAAAAAAAAAAAAAAA", 5, Some(10), None));
    /// let fields = info.fields();
    /// assert_eq!(fields[3], ("created_at", Value::Int(5)));
    /// assert_eq!(fields[5], ("expires_at", Value::Int(15)));
    /// assert_eq!(fields[2], ("principal", Value::Null));
    /// ```
    pub fn fields(&self) -> [(&'static str, Value); 7] {
        // Times and versions stay far below 2^63 (ms since 1970; one per write).
        let int = |n: u64| Value::Int(n as i64);
        let values = [
            Value::Str(self.id.clone()),
            Value::Str(self.public_id.as_str().into()),
            self.principal
                .as_deref()
                .map_or(Value::Null, |p| Value::Str(p.into())),
            int(self.created_at),
            int(self.last_access),
            self.expires_at.map_or(Value::Null, int),
            int(self.version),
        ];
        let mut out: [(&'static str, Value); 7] = Default::default();
        for (slot, (name, value)) in out.iter_mut().zip(Self::NAMES.into_iter().zip(values)) {
            *slot = (name, value);
        }
        out
    }
}

impl From<&Record> for SessionInfo {
    fn from(r: &Record) -> Self {
        SessionInfo {
            id: r.id.clone(),
            public_id: r.public_id(),
            principal: r.principal().map(Into::into),
            created_at: r.created,
            last_access: r.accessed,
            expires_at: r.deadline(),
            version: r.version,
        }
    }
}
