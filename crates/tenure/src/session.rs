//! A session as a request sees it: the record it was opened with, its own changes on top,
//! and the change log that [`SessionManager::commit`](crate::SessionManager::commit) merges.

use crate::clock::Millis;
use crate::error::Error;
use crate::format::delta::{self, Delta, Op};
use crate::format::limits::Limits;
use crate::format::record::{Flash, Record};
use crate::format::value::{self, Value};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use compact_str::CompactString;

/// One session, opened or created by a [`SessionManager`](crate::SessionManager).
///
/// Every change is applied to this copy at once (so reads see it) and recorded in the
/// change log; nothing reaches the store until `commit`. A change that is refused leaves
/// both the data and the log as they were.
#[derive(Clone, Debug)]
pub struct Session {
    /// Shared with the store until the first change (copy on write).
    record: Arc<Record>,
    /// The stored version this copy started from: if the store still holds it at commit,
    /// this copy *is* the merge result and no re-application is needed.
    base_version: u64,
    last_access: Millis,
    changes: Delta,
    limits: Limits,
    /// Σ (entry length + 1 for its comma) over data entries: keeps size checks O(value).
    entries_len: usize,
    flash_len: usize,
    /// Whether the two lengths above are computed: opening is free of O(data) work, and
    /// the count happens on the first change.
    counted: bool,
}

fn entry_len(key: &str, value: &Value) -> usize {
    value::key_json_len(key) + 1 + value.json_len() + 1
}

impl Session {
    /// A session view of `record` with nothing changed yet.
    pub fn from_record(record: Record, limits: Limits) -> Self {
        Session::from_shared(Arc::new(record), limits)
    }

    pub(crate) fn from_shared(record: Arc<Record>, limits: Limits) -> Self {
        Session {
            last_access: record.accessed,
            base_version: record.version,
            record,
            changes: Delta::new(),
            limits,
            entries_len: 0,
            flash_len: 0,
            counted: false,
        }
    }

    fn recount(&mut self) {
        if !self.counted {
            self.entries_len = self.record.data.iter().map(|(k, v)| entry_len(k, v)).sum();
            self.flash_len = crate::format::record::flash_json_len(self.record.flash());
            self.counted = true;
        }
    }

    fn rec(&mut self) -> &mut Record {
        Arc::make_mut(&mut self.record)
    }

    /// The record this copy holds, shared (no copy of the data).
    pub(crate) fn shared_record(&self) -> &Arc<Record> {
        &self.record
    }

    pub(crate) fn base_version(&self) -> u64 {
        self.base_version
    }

    pub(crate) fn replace_record(&mut self, record: Arc<Record>) {
        self.last_access = self.last_access.max(record.accessed);
        self.base_version = record.version;
        self.record = record;
        self.changes.clear();
        self.counted = false;
    }

    /// Sets the version and access time of this copy's own record (for a commit that sends
    /// the copy itself); returns the previous pair so a refused write can restore it.
    pub(crate) fn stamp(&mut self, version: u64, accessed: Millis) -> (u64, Millis) {
        let r = self.rec();
        let old = (r.version, r.accessed);
        r.version = version;
        r.accessed = accessed;
        old
    }

    /// Another handle on this copy's record.
    pub(crate) fn shared(&self) -> Arc<Record> {
        self.record.clone()
    }

    /// Takes the outcome of a commit that was started from `snapshot` (a clone of this
    /// session made when the commit began): changes made here since then are kept, on top of
    /// the committed record. This is how an asynchronous driver hands back a commit while the
    /// application may have gone on changing the session.
    pub fn adopt(&mut self, committed: Session, committed_ops: usize) -> Result<(), Error> {
        let later: Vec<Op> = self
            .changes
            .ops()
            .iter()
            .skip(committed_ops)
            .cloned()
            .collect();
        if later.is_empty() {
            *self = Session {
                last_access: self.last_access.max(committed.last_access),
                ..committed
            };
            return Ok(());
        }
        let mut record = (*committed.record).clone();
        for op in &later {
            op.apply_to(&mut record)?;
        }
        let mut next = Session::from_record(record, self.limits);
        next.base_version = committed.base_version;
        next.last_access = self.last_access.max(committed.last_access);
        next.changes = Delta::from_ops(later);
        *self = next;
        Ok(())
    }

    pub(crate) fn set_last_access(&mut self, now: Millis) {
        self.last_access = now;
    }

    /// The session id. Treat it as a secret: it is the bearer's key to the session.
    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// A handle that identifies the session in admin views without granting access.
    pub fn public_id(&self) -> String {
        self.record.public_id()
    }

    /// Creation time (ms since the epoch).
    pub fn created_at(&self) -> Millis {
        self.record.created
    }

    /// The last activity this copy knows of (ms).
    pub fn last_access(&self) -> Millis {
        self.last_access
    }

    /// This session's idle timeout in ms (`None`: never idles out).
    pub fn idle_timeout(&self) -> Option<Millis> {
        self.record.idle()
    }

    /// This session's absolute lifetime in ms (`None`: unbounded).
    pub fn absolute_timeout(&self) -> Option<Millis> {
        self.record.absolute()
    }

    /// When the session dies if nothing else happens (ms), from this copy's point of view.
    pub fn expires_at(&self) -> Option<Millis> {
        crate::expiry::deadline(
            self.record.created,
            self.last_access,
            self.record.idle(),
            self.record.absolute(),
        )
    }

    /// The user this session belongs to, if any.
    pub fn principal(&self) -> Option<&str> {
        self.record.principal()
    }

    /// The stored version this copy is based on (bumped by every commit).
    pub fn version(&self) -> u64 {
        self.record.version
    }

    /// The data as this copy sees it.
    pub fn data(&self) -> &crate::format::value::data::DataMap {
        &self.record.data
    }

    /// The record as this copy sees it (stored state plus local changes).
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The change log since the session was opened or last committed.
    pub fn changes(&self) -> &Delta {
        &self.changes
    }

    /// Whether anything was changed since the session was opened or last committed.
    pub fn is_modified(&self) -> bool {
        !self.changes.is_empty()
    }

    /// The limits values are checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Bytes the data and flash messages take encoded (what `max_data_bytes` bounds).
    pub fn payload_len(&self) -> usize {
        if !self.counted {
            return self.record.payload_len();
        }
        let data = if self.record.data.is_empty() {
            2
        } else {
            1 + self.entries_len
        };
        data + self.flash_len
    }

    fn check_size(
        &self,
        entries_len: usize,
        flash_len: usize,
        key: Option<&str>,
    ) -> Result<(), Error> {
        let data = if entries_len == 0 { 2 } else { 1 + entries_len };
        let total = data + flash_len;
        if total > self.limits.max_data_bytes {
            return Err(Error::LimitExceeded {
                key: key.map(ToString::to_string),
                limit: "max_data_bytes",
                max: self.limits.max_data_bytes,
                actual: total,
            });
        }
        Ok(())
    }

    /// The value at `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.record.data.get(key)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.record.data.contains_key(key)
    }

    /// The keys, in byte order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.record.data.keys()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.record.data.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.record.data.is_empty()
    }

    /// Whether the session holds anything: data, pending flash messages or a principal.
    /// A web adapter stores a session created in a request only if it does (unless
    /// `save_uninitialized`, see [`crate::web::WebConfig::keep_new_session`]).
    pub fn is_initialized(&self) -> bool {
        !self.is_empty() || self.principal().is_some() || !self.record.flash().is_empty()
    }

    /// Sets `key` to `value`. Refused (naming the key) for NaN/infinite floats, nesting
    /// beyond `max_depth`, keys beyond `max_key_bytes`, or data beyond `max_data_bytes`.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) -> Result<(), Error> {
        self.recount();
        let value = value.into();
        delta::check_entry(key, &value, &self.limits)?;
        let old = self.record.data.get(key).map_or(0, |v| entry_len(key, v));
        let entries = self.entries_len - old + entry_len(key, &value);
        self.check_size(entries, self.flash_len, Some(key))?;
        self.entries_len = entries;
        self.rec().data.insert(key, value.clone());
        self.changes.push(Op::Set {
            key: key.into(),
            value,
        });
        Ok(())
    }

    /// Removes `key`, returning what this copy held. The removal is recorded even if this
    /// copy did not see the key, so it also removes a value set concurrently.
    pub fn delete(&mut self, key: &str) -> Result<Option<Value>, Error> {
        self.recount();
        delta::check_key(key, &self.limits)?;
        let old = self.rec().data.remove(key);
        if let Some(v) = &old {
            self.entries_len -= entry_len(key, v);
        }
        self.changes.push(Op::Delete { key: key.into() });
        Ok(old)
    }

    /// Removes every key (flash messages stay).
    pub fn clear(&mut self) {
        self.recount();
        self.rec().data.clear();
        self.entries_len = 0;
        self.changes.push(Op::Clear);
    }

    /// Sets every entry of `entries`; all or nothing.
    pub fn update<K: AsRef<str>, V: Into<Value>>(
        &mut self,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Result<(), Error> {
        self.recount();
        let entries: Vec<(CompactString, Value)> = entries
            .into_iter()
            .map(|(k, v)| (k.as_ref().into(), v.into()))
            .collect();
        let mut len = self.entries_len;
        let mut seen: BTreeMap<&str, &Value> = BTreeMap::new();
        for (k, v) in &entries {
            delta::check_entry(k, v, &self.limits)?;
            let prev = seen
                .get(k.as_str())
                .copied()
                .or_else(|| self.record.data.get(k));
            len = len - prev.map_or(0, |p| entry_len(k, p)) + entry_len(k, v);
            seen.insert(k, v);
        }
        self.check_size(len, self.flash_len, None)?;
        for (k, v) in entries {
            self.rec().data.insert(k.as_str(), v.clone());
            self.changes.push(Op::Set { key: k, value: v });
        }
        self.entries_len = len;
        Ok(())
    }

    /// Adds `by` to the integer at `key` and returns the new value; a missing key counts
    /// as 0. Fails, changing nothing, on a non-integer or on overflow. At commit the
    /// increment is re-applied to the stored value, so concurrent increments add up.
    pub fn increment(&mut self, key: &str, by: i64) -> Result<i64, Error> {
        self.recount();
        delta::check_key(key, &self.limits)?;
        let n = delta::incremented(key, self.record.data.get(key), by)?;
        let value = Value::Int(n);
        let old = self.record.data.get(key).map_or(0, |v| entry_len(key, v));
        let entries = self.entries_len - old + entry_len(key, &value);
        self.check_size(entries, self.flash_len, Some(key))?;
        self.entries_len = entries;
        self.rec().data.insert(key, value);
        self.changes.push(Op::Increment {
            key: key.into(),
            by,
        });
        Ok(n)
    }

    /// Queues a flash message, shown once by [`Session::take_flashes`].
    pub fn flash(&mut self, category: &str, message: &str) -> Result<(), Error> {
        self.recount();
        delta::check_flash(category, message)?;
        let f = Flash::new(category, message);
        let add = f.json_len() + usize::from(!self.record.flash().is_empty());
        self.check_size(self.entries_len, self.flash_len + add, None)?;
        self.flash_len += add;
        self.rec().push_flash(f);
        self.changes.push(Op::Flash {
            category: category.to_string(),
            message: message.to_string(),
        });
        Ok(())
    }

    /// The pending flash messages, oldest first; they are gone once committed.
    pub fn take_flashes(&mut self) -> Vec<Flash> {
        self.recount();
        if self.record.flash().is_empty() {
            return Vec::new();
        }
        let taken = self.rec().replace_flash(Vec::new());
        self.flash_len = 2;
        if !taken.is_empty() {
            self.changes.push(Op::TakeFlashes {
                taken: taken.clone(),
            });
        }
        taken
    }

    /// Sets or clears the user this session belongs to (indexed for `sessions_of`).
    /// Call [`SessionManager::regenerate`](crate::SessionManager::regenerate) on login too.
    ///
    /// When the session already belongs to someone else (a login as another user, or a
    /// logout through `set_principal(None)`), its data and flash messages are cleared in the
    /// same change, so one user never inherits another's data; an anonymous session keeps
    /// its data when a principal is first set (a visitor's cart survives the login). To
    /// keep the data on a change of principal, use [`Session::set_principal_keeping_data`].
    pub fn set_principal(&mut self, principal: Option<&str>) -> Result<(), Error> {
        self.set_principal_with(principal, false)
    }

    /// Sets or clears the principal and keeps the data whoever held the session before.
    pub fn set_principal_keeping_data(&mut self, principal: Option<&str>) -> Result<(), Error> {
        self.set_principal_with(principal, true)
    }

    /// [`Session::set_principal`] (`keep_data` false) or
    /// [`Session::set_principal_keeping_data`] (true).
    pub fn set_principal_with(
        &mut self,
        principal: Option<&str>,
        keep_data: bool,
    ) -> Result<(), Error> {
        let op = Op::SetPrincipal {
            principal: principal.map(ToString::to_string),
        };
        op.validate(&self.limits)?;
        let other = self.principal().is_some_and(|p| Some(p) != principal);
        if other && !keep_data {
            self.clear();
            self.take_flashes();
        }
        self.rec().set_principal(principal.map(ToString::to_string));
        self.changes.push(op);
        Ok(())
    }

    pub(crate) fn set_idle(&mut self, idle: Option<Millis>) {
        self.rec().set_idle(idle);
        self.changes.push(Op::SetIdle { idle });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn session(limits: Limits) -> Session {
        Session::from_record(Record::new("AAAAAAAAAAAAAAAAAAAAAA", 0, None, None), limits)
    }

    #[test]
    fn payload_tracking_matches_the_encoding() {
        let mut s = session(Limits::default());
        s.set("a", 1).unwrap();
        s.set("$b", vec![Value::from("x"), Value::from(vec![1u8, 2])])
            .unwrap();
        s.set("a", "longer").unwrap();
        s.increment("n", 41).unwrap();
        s.flash("info", "hello \"you\"").unwrap();
        s.flash("warn", "two").unwrap();
        assert_eq!(s.payload_len(), s.record().payload_len());
        s.delete("a").unwrap();
        s.take_flashes();
        assert_eq!(s.payload_len(), s.record().payload_len());
        s.clear();
        assert_eq!(s.payload_len(), s.record().payload_len());
    }

    #[test]
    fn refused_changes_change_nothing() {
        let limits = Limits {
            max_data_bytes: 40,
            ..Limits::default()
        };
        let mut s = session(limits);
        s.set("k", "v").unwrap();
        let before = (s.record().clone(), s.changes().clone());
        assert!(s.set("big", "x".repeat(64)).is_err());
        assert!(s.set("nan", f64::NAN).is_err());
        assert!(s.set(&"k".repeat(300), 1).is_err());
        assert!(s
            .update([("a", Value::Int(1)), ("b", Value::Float(f64::INFINITY))])
            .is_err());
        assert!(s.increment("k", 1).is_err());
        assert_eq!((s.record().clone(), s.changes().clone()), before);
    }

    #[test]
    fn increment_counts_from_zero_and_refuses_overflow() {
        let mut s = session(Limits::default());
        assert_eq!(s.increment("n", 5).unwrap(), 5);
        assert_eq!(s.increment("n", -7).unwrap(), -2);
        s.set("max", i64::MAX).unwrap();
        assert!(s.increment("max", 1).is_err());
        assert_eq!(s.get("max"), Some(&Value::Int(i64::MAX)));
    }
}
