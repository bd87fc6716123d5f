//! The rules a manager enforces: timeouts, capacity, limits, id length. Built through
//! [`PolicyBuilder`], which refuses nonsense, so every `Policy` value is valid.

use crate::clock::Millis;
use crate::error::Error;
use crate::format::limits::{Limits, MAX_DEPTH_CEILING};
use crate::id::{MAX_ID_BYTES, MIN_ID_BYTES};
use alloc::format;

/// What `create` does when `max_sessions` is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnFull {
    /// Refuse with `TOO_MANY_SESSIONS` (and a `Rejected` event).
    #[default]
    Reject,
    /// Evict the least recently used session (with an `Evicted` event).
    EvictLru,
}

/// One spelling set for every language: `reject`, or `evict_lru` (also `evictLru`, the JS
/// spelling, and `evict`); anything else is `INVALID_POLICY` naming `on_full`.
///
/// ```
/// use tenure::OnFull;
/// assert_eq!("evictLru".parse::<OnFull>(), Ok(OnFull::EvictLru));
/// assert_eq!("evict_lru".parse::<OnFull>(), Ok(OnFull::EvictLru));
/// assert!("drop".parse::<OnFull>().is_err());
/// ```
impl core::str::FromStr for OnFull {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "reject" => Ok(OnFull::Reject),
            "evict_lru" | "evictLru" | "evict" => Ok(OnFull::EvictLru),
            other => Err(Error::InvalidPolicy(format!(
                "on_full must be 'reject' or 'evict_lru' ('evictLru'), not {other:?}"
            ))),
        }
    }
}

/// A validated policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    idle_timeout: Option<Millis>,
    absolute_timeout: Option<Millis>,
    touch_interval: Millis,
    max_sessions: Option<usize>,
    on_full: OnFull,
    limits: Limits,
    id_bytes: usize,
}

/// Default idle timeout: 30 minutes.
pub const DEFAULT_IDLE_TIMEOUT: Millis = 30 * 60 * 1000;
/// Default absolute timeout: 12 hours, the longest OWASP ASVS 4.0 (3.3.2, level 2) allows
/// before a user must authenticate again.
pub const DEFAULT_ABSOLUTE_TIMEOUT: Millis = 12 * 60 * 60 * 1000;
/// Default touch interval: 1 minute (or a quarter of a shorter idle timeout).
pub const DEFAULT_TOUCH_INTERVAL: Millis = 60 * 1000;
/// Default random bytes per session id: 16 (128 bits, OWASP's floor), the least allowed.
pub const DEFAULT_ID_BYTES: usize = MIN_ID_BYTES;

/// The one rule of every timeout a user sets (idle, absolute, a session's own idle): more
/// than 0 ms, or `None` for never. `Err` is the reason, for the caller's error (a policy's
/// is `INVALID_POLICY`, a session's `INVALID_VALUE`), which names the timeout.
pub(crate) fn check_timeout(ms: Option<Millis>) -> Result<(), &'static str> {
    match ms {
        Some(0) => Err("must be > 0 ms (use None for never)"),
        _ => Ok(()),
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::builder().build().expect("the defaults are valid")
    }
}

impl Policy {
    /// A builder starting from the defaults (30 min idle, 12 h absolute, unbounded count).
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder {
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            absolute_timeout: Some(DEFAULT_ABSOLUTE_TIMEOUT),
            touch_interval: None,
            max_sessions: None,
            on_full: OnFull::Reject,
            limits: Limits::default(),
            id_bytes: DEFAULT_ID_BYTES,
        }
    }
    /// Idle timeout (`None`: sessions never idle out).
    pub fn idle_timeout(&self) -> Option<Millis> {
        self.idle_timeout
    }
    /// Absolute timeout from creation (`None`: unbounded).
    pub fn absolute_timeout(&self) -> Option<Millis> {
        self.absolute_timeout
    }
    /// How long after the last persisted access an open persists a new one.
    pub fn touch_interval(&self) -> Millis {
        self.touch_interval
    }
    /// The most sessions at once (`None`: unbounded).
    pub fn max_sessions(&self) -> Option<usize> {
        self.max_sessions
    }
    /// What happens when `max_sessions` is reached.
    pub fn on_full(&self) -> OnFull {
        self.on_full
    }
    /// Size and depth limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
    /// Random bytes per session id.
    pub fn id_bytes(&self) -> usize {
        self.id_bytes
    }
}

/// Builds a [`Policy`]; `build` refuses nonsense with `INVALID_POLICY`.
///
/// ```
/// use tenure::Policy;
/// let p = Policy::builder().idle_timeout(Some(60_000)).absolute_timeout(None).build().unwrap();
/// assert_eq!(p.touch_interval(), 15_000);
/// assert!(Policy::builder().idle_timeout(Some(0)).build().is_err());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct PolicyBuilder {
    idle_timeout: Option<Millis>,
    absolute_timeout: Option<Millis>,
    touch_interval: Option<Millis>,
    max_sessions: Option<usize>,
    on_full: OnFull,
    limits: Limits,
    id_bytes: usize,
}

impl PolicyBuilder {
    /// Idle timeout in ms; `None` for never.
    pub fn idle_timeout(mut self, ms: Option<Millis>) -> Self {
        self.idle_timeout = ms;
        self
    }
    /// Absolute timeout in ms; `None` for never.
    pub fn absolute_timeout(mut self, ms: Option<Millis>) -> Self {
        self.absolute_timeout = ms;
        self
    }
    /// Touch interval in ms (default: min(1 min, idle / 4)). Must be below the idle timeout.
    pub fn touch_interval(mut self, ms: Millis) -> Self {
        self.touch_interval = Some(ms);
        self
    }
    /// The most sessions at once; `None` for unbounded.
    pub fn max_sessions(mut self, n: Option<usize>) -> Self {
        self.max_sessions = n;
        self
    }
    /// What to do when full.
    pub fn on_full(mut self, on_full: OnFull) -> Self {
        self.on_full = on_full;
        self
    }
    /// Size and depth limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Random bytes per id, 16 (128 bits) to 64.
    pub fn id_bytes(mut self, n: usize) -> Self {
        self.id_bytes = n;
        self
    }

    /// The policy, or `INVALID_POLICY` naming the setting that is wrong.
    pub fn build(self) -> Result<Policy, Error> {
        let bad = |why: alloc::string::String| Err(Error::InvalidPolicy(why));
        for (name, ms) in [
            ("idle_timeout", self.idle_timeout),
            ("absolute_timeout", self.absolute_timeout),
        ] {
            if let Err(why) = check_timeout(ms) {
                return bad(format!("{name} {why}"));
            }
        }
        if !(MIN_ID_BYTES..=MAX_ID_BYTES).contains(&self.id_bytes) {
            return bad(format!(
                "id_bytes must be between {MIN_ID_BYTES} and {MAX_ID_BYTES}, not {}",
                self.id_bytes
            ));
        }
        if self.max_sessions == Some(0) {
            return bad("max_sessions must be > 0 (use None for unbounded)".into());
        }
        let l = self.limits;
        if l.max_data_bytes < 2 || l.max_key_bytes == 0 {
            return bad("max_data_bytes must be >= 2 and max_key_bytes > 0".into());
        }
        if l.max_depth == 0 || l.max_depth > MAX_DEPTH_CEILING {
            return bad(format!(
                "max_depth must be between 1 and {MAX_DEPTH_CEILING}, not {}",
                l.max_depth
            ));
        }
        let touch_interval = match (self.touch_interval, self.idle_timeout) {
            (Some(t), Some(idle)) if t >= idle => {
                return bad(format!(
                    "touch_interval ({t} ms) must be shorter than idle_timeout ({idle} ms)"
                ))
            }
            (Some(t), _) => t,
            (None, Some(idle)) => DEFAULT_TOUCH_INTERVAL.min(idle / 4),
            (None, None) => DEFAULT_TOUCH_INTERVAL,
        };
        Ok(Policy {
            idle_timeout: self.idle_timeout,
            absolute_timeout: self.absolute_timeout,
            touch_interval,
            max_sessions: self.max_sessions,
            on_full: self.on_full,
            limits: self.limits,
            id_bytes: self.id_bytes,
        })
    }
}

/// The names of the policy's options, as the bindings spell them in snake_case (Python);
/// JS spells them in camelCase ([`camel_case`]). Bindings check their options against
/// these with [`check_option`], so a misspelled option is refused, never ignored.
pub const OPTIONS: [&str; 9] = [
    "idle_timeout",
    "absolute_timeout",
    "touch_interval",
    "max_sessions",
    "on_full",
    "max_data_bytes",
    "max_key_bytes",
    "max_depth",
    "id_bytes",
];

/// `snake_case` to `camelCase`.
pub fn camel_case(name: &str) -> alloc::string::String {
    let mut out = alloc::string::String::with_capacity(name.len());
    let mut up = false;
    for c in name.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Refuses an option name that is not in `known`, with an `INVALID_POLICY` error that
/// names it, says where (`context`, e.g. `SessionManager`) and suggests the closest known
/// name when one is close (a typo such as `idelTimeout`).
pub fn check_option(context: &str, name: &str, known: &[&str]) -> Result<(), Error> {
    if known.contains(&name) {
        return Ok(());
    }
    let closest = known
        .iter()
        .map(|k| {
            (
                distance(&name.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                *k,
            )
        })
        .min()
        .filter(|(d, _)| *d <= 3);
    let hint = match closest {
        Some((_, k)) => format!(" (did you mean {k}?)"),
        None => format!("; the options are {}", known.join(", ")),
    };
    Err(Error::InvalidPolicy(format!(
        "{context}: unknown option {name:?}{hint}"
    )))
}

/// Levenshtein distance (short option names only).
fn distance(a: &str, b: &str) -> usize {
    let b: alloc::vec::Vec<char> = b.chars().collect();
    let mut row: alloc::vec::Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_options_are_refused_by_name_with_a_hint() {
        let camel: alloc::vec::Vec<_> = OPTIONS.iter().map(|o| camel_case(o)).collect();
        let camel: alloc::vec::Vec<&str> = camel.iter().map(|s| s.as_str()).collect();
        assert!(camel.contains(&"idleTimeout") && camel.contains(&"maxDataBytes"));
        assert!(check_option("SessionManager", "idleTimeout", &camel).is_ok());
        let e = check_option("SessionManager", "idelTimeout", &camel).unwrap_err();
        assert_eq!(e.code().as_str(), "INVALID_POLICY");
        let msg = alloc::string::ToString::to_string(&e);
        assert!(
            msg.contains("\"idelTimeout\"") && msg.contains("did you mean idleTimeout?"),
            "{msg}"
        );
        let msg = alloc::string::ToString::to_string(
            &check_option("SessionManager", "colour", &camel).unwrap_err(),
        );
        assert!(
            msg.contains("the options are idleTimeout, absoluteTimeout"),
            "{msg}"
        );
    }

    #[test]
    fn nonsense_is_refused_by_name() {
        let cases = [
            (Policy::builder().idle_timeout(Some(0)), "idle_timeout"),
            (
                Policy::builder().absolute_timeout(Some(0)),
                "absolute_timeout",
            ),
            (Policy::builder().id_bytes(15), "id_bytes"),
            (Policy::builder().id_bytes(65), "id_bytes"),
            (Policy::builder().max_sessions(Some(0)), "max_sessions"),
            (
                Policy::builder().idle_timeout(Some(10)).touch_interval(10),
                "touch_interval",
            ),
            (
                Policy::builder().limits(Limits {
                    max_depth: 0,
                    ..Limits::default()
                }),
                "max_depth",
            ),
        ];
        for (b, name) in cases {
            let e = b.build().unwrap_err();
            assert_eq!(e.code(), crate::error::ErrorCode::InvalidPolicy);
            assert!(alloc::format!("{e}").contains(name), "{e}");
        }
    }

    #[test]
    fn defaults() {
        let p = Policy::default();
        assert_eq!(p.idle_timeout(), Some(DEFAULT_IDLE_TIMEOUT));
        assert_eq!(p.absolute_timeout(), Some(DEFAULT_ABSOLUTE_TIMEOUT));
        // ASVS 3.3.2 (level 2): re-authenticate at least every 12 hours.
        assert_eq!(DEFAULT_ABSOLUTE_TIMEOUT, 12 * 3_600_000);
        assert_eq!(p.touch_interval(), DEFAULT_TOUCH_INTERVAL);
        assert_eq!(p.id_bytes(), 16);
        let never = Policy::builder()
            .idle_timeout(None)
            .absolute_timeout(None)
            .build()
            .unwrap();
        assert_eq!(never.idle_timeout(), None);
    }
}
