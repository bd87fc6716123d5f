#![no_main]
//! The manager as a state machine: random operation sequences over a store that fails at
//! random calls, checked against the store's contents before and after every operation and
//! a reference model of the merge.
//!
//! Invariants checked after each operation:
//! - no panic;
//! - a failed operation leaves every record that survives it exactly as it was (a failed
//!   sweep or destroy_all_of may have removed some records, as a successful one would);
//! - a failed commit leaves the session copy's data and change log as they were;
//! - a record disappears only if it was expired, or the operation destroyed or moved it;
//! - a record appears only if the operation created it, or moved a session to it (a
//!   regenerate whose rollback itself failed may leave an unreachable copy behind);
//! - a successful commit stores exactly the model's merge of the copy's changes onto the
//!   record as it was, and the copy shows it; other records are unchanged;
//! - a successful open returns the live record's data and only touches `accessed`.
use libfuzzer_sys::fuzz_target;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use tenure::{
    Cas, Clock, ErrorCode, ManualClock, MemoryStore, Page, Policy, Record, SeededEntropy, Session,
    SessionManager, Store, StoreError, Value,
};

/// A memory store whose calls fail when the plan says so (before doing anything).
struct Flaky {
    inner: MemoryStore,
    plan: Rc<Cell<u64>>,
}

impl Flaky {
    fn fail(&self) -> Result<(), StoreError> {
        let p = self.plan.get();
        self.plan.set(p >> 1);
        if p & 1 == 1 {
            Err(StoreError::new("injected"))
        } else {
            Ok(())
        }
    }
}

impl Store for Flaky {
    fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        self.fail()?;
        self.inner.get(id)
    }
    fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError> {
        self.fail()?;
        self.inner.insert(record)
    }
    fn replace(&mut self, record: Arc<Record>, expected: u64) -> Result<Cas, StoreError> {
        self.fail()?;
        self.inner.replace(record, expected)
    }
    fn touch(&mut self, id: &str, accessed: u64, expected: u64) -> Result<Cas, StoreError> {
        self.fail()?;
        self.inner.touch(id, accessed, expected)
    }
    fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        self.fail()?;
        self.inner.remove(id, expected)
    }
    fn len(&mut self) -> Result<usize, StoreError> {
        self.fail()?;
        self.inner.len()
    }
    fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        self.fail()?;
        self.inner.page(cursor, limit)
    }
    fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        self.fail()?;
        self.inner.ids_of(principal)
    }
    fn remove_expired(&mut self, now: u64, limit: usize) -> Result<Vec<Arc<Record>>, StoreError> {
        self.fail()?;
        self.inner.remove_expired(now, limit)
    }
    fn next_deadline(&mut self) -> Result<Option<u64>, StoreError> {
        self.fail()?;
        self.inner.next_deadline()
    }
    fn least_recent(&mut self) -> Result<Option<String>, StoreError> {
        self.fail()?;
        self.inner.least_recent()
    }
}

/// The model's view of a data value: small ints and one string (which can't be incremented).
#[derive(Clone, Debug, PartialEq)]
enum MOp {
    Set(String, Value),
    Delete(String),
    Increment(String, i64),
    Clear,
    Principal(Option<String>),
}

/// The model's merge: applies `ops` to the data and principal of `record`; `None` if an
/// increment must fail (a non-integer or an overflow).
fn merge(record: &Record, ops: &[MOp]) -> Option<(BTreeMap<String, Value>, Option<String>)> {
    let mut data: BTreeMap<String, Value> = record
        .data
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut principal = record.principal().map(String::from);
    for op in ops {
        match op {
            MOp::Set(k, v) => {
                data.insert(k.clone(), v.clone());
            }
            MOp::Delete(k) => {
                data.remove(k);
            }
            MOp::Increment(k, by) => {
                let base = match data.get(k) {
                    None => 0,
                    Some(Value::Int(i)) => *i,
                    Some(_) => return None,
                };
                data.insert(k.clone(), Value::Int(base.checked_add(*by)?));
            }
            MOp::Clear => data.clear(),
            MOp::Principal(p) => principal = p.clone(),
        }
    }
    Some((data, principal))
}

fn data_of(record: &Record) -> BTreeMap<String, Value> {
    record
        .data
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn snapshot(store: &mut MemoryStore) -> BTreeMap<String, Arc<Record>> {
    let (records, next) = store.page(None, usize::MAX).expect("memory store pages");
    assert!(next.is_none());
    let snap: BTreeMap<_, _> = records.into_iter().map(|r| (r.id.to_string(), r)).collect();
    assert_eq!(
        snap.len(),
        store.len().unwrap(),
        "page lists every record once"
    );
    snap
}

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
}

const KEYS: [&str; 3] = ["a", "b", "c"];
const PRINCIPALS: [&str; 2] = ["ann", "bob"];

struct Copy {
    session: Session,
    ops: Vec<MOp>,
}

fuzz_target!(|input: &[u8]| {
    let mut bytes = Bytes(input);
    let plan = Rc::new(Cell::new(0u64));
    let clock = ManualClock::new(1_000);
    let policy = Policy::builder()
        .idle_timeout(Some(1_000))
        .absolute_timeout(Some(5_000))
        .touch_interval(100)
        .build()
        .unwrap();
    let store = Flaky {
        inner: MemoryStore::new(),
        plan: plan.clone(),
    };
    let mut m = SessionManager::new(store, clock.clone(), SeededEntropy::new(1), policy);
    let mut copies: Vec<Copy> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut steps = 0;

    while let Some(op) = bytes.byte() {
        steps += 1;
        if steps > 200 {
            break;
        }
        let arg = bytes.byte().unwrap_or(0);
        // The high bit of the op byte: this operation's store calls may fail.
        plan.set(if op & 0x80 != 0 {
            u64::from(bytes.byte().unwrap_or(0xff)) | (u64::from(bytes.byte().unwrap_or(0)) << 8)
        } else {
            0
        });
        let before = snapshot(&mut m.store_mut().inner);
        let now = clock.now();
        let pick = |n: usize| (arg as usize) % n.max(1);
        // What this operation may legitimately remove and add.
        let mut may_remove: Vec<String> = Vec::new();
        let mut may_add: Vec<String> = Vec::new();
        let mut may_touch: Option<String> = None;
        let mut committed: Option<(String, BTreeMap<String, Value>, Option<String>)> = None;
        let failed: bool;
        match op % 16 {
            0 | 1 => {
                let principal = (arg & 4 != 0).then(|| PRINCIPALS[usize::from(arg & 1)]);
                match m.create(principal, None) {
                    Ok(s) => {
                        may_add.push(s.id().to_string());
                        ids.push(s.id().to_string());
                        if copies.len() < 6 {
                            copies.push(Copy {
                                session: s,
                                ops: Vec::new(),
                            });
                        }
                        failed = false;
                    }
                    Err(e) => {
                        assert_eq!(e.code(), ErrorCode::StoreError, "{e}");
                        failed = true;
                    }
                }
            }
            2 | 3 => {
                // Open a known id (or a forged one) as another copy.
                let id = if arg & 0x40 != 0 || ids.is_empty() {
                    "AAAAAAAAAAAAAAAAAAAAAA".to_string()
                } else {
                    ids[pick(ids.len())].clone()
                };
                may_touch = Some(id.clone());
                match m.open(&id) {
                    Ok(Some(s)) => {
                        let r = before
                            .get(&id)
                            .expect("opened a record that was not stored");
                        assert!(!r.is_expired(now), "opened an expired session");
                        assert_eq!(data_of(s.record()), data_of(r));
                        assert_eq!(s.principal(), r.principal());
                        if copies.len() < 6 {
                            copies.push(Copy {
                                session: s,
                                ops: Vec::new(),
                            });
                        } else {
                            let i = pick(copies.len());
                            copies[i] = Copy {
                                session: s,
                                ops: Vec::new(),
                            };
                        }
                        failed = false;
                    }
                    Ok(None) => {
                        assert!(
                            before.get(&id).is_none_or(|r| r.is_expired(now)),
                            "a live session did not open"
                        );
                        may_remove.push(id);
                        failed = false;
                    }
                    Err(e) => {
                        assert_eq!(e.code(), ErrorCode::StoreError, "{e}");
                        may_remove.push(id);
                        failed = true;
                    }
                }
            }
            4..=8 if !copies.is_empty() => {
                // A change to one copy (no I/O).
                let i = pick(copies.len());
                let c = &mut copies[i];
                let key = KEYS[usize::from(op >> 4) % KEYS.len()];
                let mop = match op % 16 {
                    4 => {
                        let v = if arg & 0x20 != 0 {
                            Value::from("s")
                        } else {
                            Value::Int(i64::from(arg as i8) * (i64::MAX / 200))
                        };
                        c.session
                            .set(key, v.clone())
                            .map(|_| MOp::Set(key.into(), v))
                    }
                    5 => c.session.delete(key).map(|_| MOp::Delete(key.into())),
                    6 => {
                        let by = i64::from(arg as i8).wrapping_mul(i64::MAX / 100);
                        c.session
                            .increment(key, by)
                            .map(|_| MOp::Increment(key.into(), by))
                    }
                    7 => {
                        c.session.clear();
                        Ok(MOp::Clear)
                    }
                    _ => {
                        let p = (arg & 4 != 0).then(|| PRINCIPALS[usize::from(arg & 1)]);
                        c.session
                            .set_principal(p)
                            .map(|_| MOp::Principal(p.map(String::from)))
                    }
                };
                if let Ok(mop) = mop {
                    c.ops.push(mop);
                }
                failed = false;
            }
            9 | 10 if !copies.is_empty() => {
                let i = pick(copies.len());
                let c = &mut copies[i];
                let id = c.session.id().to_string();
                let data_before = data_of(c.session.record());
                let log_before = c.session.changes().clone();
                match m.commit(&mut c.session) {
                    Ok(()) => {
                        let r = before
                            .get(&id)
                            .expect("committed a session that was not stored");
                        assert!(!r.is_expired(now), "committed to an expired session");
                        let (data, principal) =
                            merge(r, &c.ops).expect("commit succeeded where the model fails");
                        assert_eq!(data_of(c.session.record()), data, "copy shows the merge");
                        assert!(!c.session.is_modified());
                        committed = Some((id.clone(), data, principal));
                        may_touch = Some(id);
                        c.ops.clear();
                        failed = false;
                    }
                    Err(e) => {
                        match e.code() {
                            ErrorCode::SessionGone => {
                                assert!(before.get(&id).is_none_or(|r| r.is_expired(now)));
                            }
                            ErrorCode::InvalidValue => {
                                let r = before.get(&id).expect("merge error without a record");
                                assert!(merge(r, &c.ops).is_none(), "merge refused: {e}");
                            }
                            ErrorCode::StoreError | ErrorCode::LimitExceeded => {}
                            other => panic!("commit failed with {other:?}: {e}"),
                        }
                        assert_eq!(data_of(c.session.record()), data_before, "copy changed");
                        assert_eq!(c.session.changes(), &log_before, "change log lost");
                        may_remove.push(id);
                        failed = true;
                    }
                }
            }
            11 if !copies.is_empty() => {
                let i = pick(copies.len());
                let c = &mut copies[i];
                let old = c.session.id().to_string();
                let clear = arg & 0x10 != 0;
                match m.regenerate(&mut c.session, clear) {
                    Ok(()) => {
                        let new = c.session.id().to_string();
                        assert_ne!(new, old);
                        let r = before.get(&old).expect("regenerated a missing session");
                        let (mut data, principal) =
                            merge(r, &c.ops).expect("regenerate succeeded where the model fails");
                        if clear {
                            data.clear();
                        }
                        assert_eq!(data_of(c.session.record()), data);
                        committed = Some((new.clone(), data, principal));
                        c.ops.clear();
                        may_remove.push(old);
                        may_add.push(new.clone());
                        ids.push(new);
                        failed = false;
                    }
                    Err(e) => {
                        assert_eq!(c.session.id(), old, "a failed regenerate moved the copy");
                        match e.code() {
                            ErrorCode::SessionGone => {
                                assert!(before.get(&old).is_none_or(|r| r.is_expired(now)));
                            }
                            ErrorCode::InvalidValue => {
                                let r = before.get(&old).expect("merge error without a record");
                                assert!(merge(r, &c.ops).is_none());
                            }
                            ErrorCode::StoreError | ErrorCode::LimitExceeded => {}
                            other => panic!("regenerate failed with {other:?}: {e}"),
                        }
                        may_remove.push(old);
                        failed = true;
                    }
                }
            }
            12 if !ids.is_empty() => {
                let id = ids[pick(ids.len())].clone();
                may_remove.push(id.clone());
                match m.destroy(&id) {
                    Ok(existed) => {
                        assert_eq!(existed, before.contains_key(&id));
                        failed = false;
                    }
                    Err(e) => {
                        assert_eq!(e.code(), ErrorCode::StoreError);
                        failed = true;
                    }
                }
            }
            13 => {
                let p = PRINCIPALS[usize::from(arg & 1)];
                let except =
                    (arg & 2 != 0 && !ids.is_empty()).then(|| ids[pick(ids.len())].clone());
                let targets: Vec<String> = before
                    .values()
                    .filter(|r| {
                        r.principal() == Some(p) && Some(r.id.as_str()) != except.as_deref()
                    })
                    .map(|r| r.id.to_string())
                    .collect();
                may_remove.extend(targets.iter().cloned());
                match m.destroy_all_of(p, except.as_deref()) {
                    Ok(n) => {
                        let after = snapshot(&mut m.store_mut().inner);
                        for t in &targets {
                            assert!(!after.contains_key(t), "destroy_all_of left {t}");
                        }
                        assert!(n <= targets.len());
                        failed = false;
                    }
                    Err(e) => {
                        assert_eq!(e.code(), ErrorCode::StoreError);
                        failed = true;
                    }
                }
            }
            14 => match m.sweep() {
                Ok(_) => {
                    let after = snapshot(&mut m.store_mut().inner);
                    for r in after.values() {
                        assert!(!r.is_expired(now), "sweep left an expired session");
                    }
                    failed = false;
                }
                Err(e) => {
                    assert_eq!(e.code(), ErrorCode::StoreError);
                    failed = true;
                }
            },
            _ => {
                clock.advance(u64::from(arg) * 20);
                failed = false;
            }
        }
        plan.set(0);

        // The store, before and after.
        let after = snapshot(&mut m.store_mut().inner);
        for (id, r) in &before {
            match after.get(id) {
                None => assert!(
                    r.is_expired(now) || may_remove.contains(id),
                    "op {op}: {id} vanished"
                ),
                Some(a) if !failed && committed.as_ref().is_some_and(|c| &c.0 == id) => {
                    // Checked against the model below; the rest of the record stays.
                    assert_eq!(
                        (a.created, a.idle(), a.absolute()),
                        (r.created, r.idle(), r.absolute())
                    );
                    assert!(
                        a.version >= r.version && a.accessed >= r.accessed && a.accessed <= now
                    );
                }
                Some(a) => {
                    if failed || may_touch.as_deref() != Some(id.as_str()) {
                        assert_eq!(a, r, "op {op} (failed: {failed}) changed {id}");
                    } else {
                        // Touched by an open: only `accessed` moves.
                        let mut t = (**r).clone();
                        t.accessed = a.accessed;
                        assert_eq!(a.as_ref(), &t, "op {op}: open changed more than accessed");
                        assert!(a.accessed >= r.accessed && a.accessed <= now);
                    }
                }
            }
        }
        if let Some((id, data, principal)) = &committed {
            if let Some(a) = after.get(id) {
                assert_eq!(
                    &data_of(a),
                    data,
                    "op {op}: stored merge differs from the model"
                );
                assert_eq!(a.principal(), principal.as_deref());
            } else {
                panic!("op {op}: committed {id} is not stored");
            }
        }
        for id in after.keys() {
            if !before.contains_key(id) {
                // A failed regenerate whose rollback failed too may leave an unreachable copy.
                assert!(
                    may_add.contains(id) || (failed && op % 16 == 11),
                    "op {op}: {id} appeared"
                );
            }
        }
    }
});
