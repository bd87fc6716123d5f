//! The `FileStore`'s index: a sweep, a count, `next_deadline` and `sessions_of` read only
//! what they need (never the whole folder), stale entries are pruned, and a folder written
//! before the index existed is indexed on first use.
#![cfg(feature = "std")]

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use tenure::__private::file_index;
use tenure::Due;
use tenure::FileStore;
use tenure::{
    ByteStore, Clock, EncodedStore, Limits, ManualClock, Millis, Policy, SeededEntropy,
    SessionManager, StoreError,
};

const MIN: u64 = 60_000;

/// What the manager asked of the folder.
#[derive(Default)]
struct Calls {
    gets: Cell<usize>,
    lists: Cell<usize>,
}

/// The FileStore, counting the reads of records and the listings of the whole folder.
struct Counting(FileStore, Rc<Calls>);

impl ByteStore for Counting {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.1.gets.set(self.1.gets.get() + 1);
        self.0.get(id)
    }
    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        self.0.insert(id, bytes)
    }
    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        self.0.replace(id, bytes, expected)
    }
    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        self.0.delete(id, expected)
    }
    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        self.1.lists.set(self.1.lists.get() + 1);
        self.0.ids()
    }
    fn count(&mut self) -> Result<Option<usize>, StoreError> {
        self.0.count()
    }
    fn due(
        &mut self,
        through: Option<Millis>,
        limit: usize,
    ) -> Result<Option<Vec<Due>>, StoreError> {
        self.0.due(through, limit)
    }
    fn ids_of(&mut self, principal: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.0.ids_of(principal)
    }
    fn unindex(&mut self, id: &str, deadline: Millis) -> Result<bool, StoreError> {
        self.0.unindex(id, deadline)
    }
}

type Mgr = SessionManager<EncodedStore<Counting>, ManualClock, SeededEntropy>;

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tenure-index-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn manager(dir: &Path, seed: u64) -> (Mgr, ManualClock, Rc<Calls>) {
    let calls = Rc::new(Calls::default());
    let store = EncodedStore::new(
        Counting(FileStore::new(dir).unwrap(), calls.clone()),
        Limits::default(),
    );
    let clock = ManualClock::new(1_700_000_000_000);
    let m = SessionManager::new(
        store,
        clock.clone(),
        SeededEntropy::new(seed),
        Policy::default(),
    );
    (m, clock, calls)
}

fn reset(calls: &Calls) {
    calls.gets.set(0);
    calls.lists.set(0);
}

/// Every due entry in the folder's index.
fn due_entries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let due = dir.join(file_index::DIR).join(file_index::DUE);
    for bucket in std::fs::read_dir(due).unwrap() {
        for e in std::fs::read_dir(bucket.unwrap().path()).unwrap() {
            out.push(e.unwrap().file_name().into_string().unwrap());
        }
    }
    out.sort();
    out
}

#[test]
fn sweep_count_and_lookups_read_only_what_they_need() {
    let dir = tempdir("reads");
    let (mut m, clock, calls) = manager(&dir, 1);
    let mut short = Vec::new();
    for i in 0..200 {
        let mut s = m
            .create(Some(if i % 50 == 0 { "ann" } else { "bob" }), None)
            .unwrap();
        if i % 10 == 0 {
            m.set_idle_timeout(&mut s, Some(5 * MIN)).unwrap();
            m.commit(&mut s).unwrap();
            short.push(s.id().to_string());
        }
    }
    reset(&calls);
    assert_eq!(m.count().unwrap(), 200);
    assert_eq!(m.next_deadline().unwrap(), Some(clock.now() + 5 * MIN));
    assert_eq!(m.sessions_of("ann").unwrap().len(), 4);
    assert_eq!(calls.lists.get(), 0, "nothing listed the folder");
    // Only ann's records were read (twice each: checked against the index, then loaded).
    assert_eq!(calls.gets.get(), 8);

    clock.advance(6 * MIN);
    reset(&calls);
    assert_eq!(m.sweep().unwrap(), 20);
    assert_eq!(calls.lists.get(), 0);
    assert!(calls.gets.get() <= 20, "{} records read", calls.gets.get());
    for id in &short {
        assert!(!dir.join(format!("{id}.json")).exists());
    }
    assert_eq!(m.count().unwrap(), 180);
    assert_eq!(
        due_entries(&dir).len(),
        180,
        "the swept sessions' entries are gone"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_moved_deadline_moves_its_entry() {
    let dir = tempdir("moved");
    let (mut m, clock, _) = manager(&dir, 2);
    let policy = Policy::builder().touch_interval(0).build().unwrap();
    let mut m2 = SessionManager::new(
        EncodedStore::new(FileStore::new(&dir).unwrap(), Limits::default()),
        clock.clone(),
        SeededEntropy::new(3),
        policy,
    );
    let s = m.create(None, None).unwrap();
    let first = due_entries(&dir);
    assert_eq!(first.len(), 1);
    clock.advance(10 * MIN);
    assert!(
        m2.open(s.id()).unwrap().is_some(),
        "a touch moves the deadline"
    );
    let second = due_entries(&dir);
    assert_eq!(second.len(), 1, "the old entry was removed after the write");
    assert_ne!(first, second);
    assert!(second[0].starts_with(&format!("{}.", clock.now() + 30 * MIN)));
    // An entry left behind (a crash between the write and the removal) is pruned by the
    // sweep that reaches it, and the session stays.
    let stale = dir
        .join(file_index::DIR)
        .join(file_index::due_entry(s.id(), Some(clock.now() - MIN)));
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, "").unwrap();
    assert_eq!(
        m.next_deadline().unwrap(),
        Some(clock.now() - MIN),
        "a lower bound"
    );
    assert_eq!(m.sweep().unwrap(), 0);
    assert!(!stale.exists());
    assert!(m.peek(s.id()).unwrap().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_without_an_index_is_indexed_on_first_use() {
    let dir = tempdir("old");
    let (mut m, clock, calls) = manager(&dir, 4);
    let mut ids = Vec::new();
    for _ in 0..30 {
        ids.push(m.create(Some("ann"), None).unwrap().id().to_string());
    }
    // As an older version left it: records only.
    std::fs::remove_dir_all(dir.join(file_index::DIR)).unwrap();
    let (mut fresh, _, _) = manager(&dir, 5);
    let extra = fresh.create(None, None).unwrap();
    assert_eq!(fresh.count().unwrap(), 31, "built once, then counted");
    assert!(dir.join(file_index::DIR).join(file_index::READY).exists());
    assert_eq!(due_entries(&dir).len(), 31);
    assert_eq!(fresh.sessions_of("ann").unwrap().len(), 30);
    // Counted once each, whoever indexed it: the build, or a write that found it unindexed.
    fresh.destroy(extra.id()).unwrap();
    assert_eq!(fresh.count().unwrap(), 30);
    clock.advance(31 * MIN);
    reset(&calls);
    assert_eq!(m.sweep().unwrap(), 30);
    assert_eq!(calls.lists.get(), 0);
    assert_eq!(m.count().unwrap(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
