//! The `FileStore` at 1,000 and 30,000 sessions, with its index and without it (the same
//! store with the index methods hidden, so the core reads every record, as it did before
//! the index existed), both measured in this run: create, count, next_deadline,
//! sessions_of and a sweep of 1 % expired sessions. Medians in ms, printed, never asserted.
//!
//! Run: `cargo bench -p tenure --bench file_store` (`TENURE_BENCH_SIZES=1000,30000`).

use std::path::{Path, PathBuf};
use std::time::Instant;
use tenure::FileStore;
use tenure::{
    ByteStore, EncodedStore, Limits, ManualClock, Policy, SeededEntropy, SessionManager, StoreError,
};

/// The store with its index hidden: the byte protocol only.
struct Unindexed(FileStore);

impl ByteStore for Unindexed {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
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
        self.0.ids()
    }
}

const MIN: u64 = 60_000;
const START: u64 = 1_700_000_000_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e3
}

/// Fills `dir` with `n` sessions (30 min idle; every 1000th of principal "ann").
fn fill(dir: &Path, n: usize) {
    let _ = std::fs::remove_dir_all(dir);
    let store = EncodedStore::new(FileStore::new(dir).unwrap(), Limits::default());
    let mut m = SessionManager::new(
        store,
        ManualClock::new(START),
        SeededEntropy::new(7),
        Policy::default(),
    );
    for i in 0..n {
        m.create((i % 1000 == 0).then_some("ann"), None).unwrap();
    }
}

struct Row {
    create: f64,
    count: f64,
    next_deadline: f64,
    sessions_of: f64,
    sweep: f64,
}

fn measure<B: ByteStore>(dir: &Path, n: usize, store: B) -> Row {
    let clock = ManualClock::new(START);
    let policy = Policy::builder().idle_timeout(Some(MIN)).build().unwrap();
    let mut m = SessionManager::new(
        EncodedStore::new(store, Limits::default()),
        clock.clone(),
        SeededEntropy::new(n as u64),
        policy,
    );
    let rounds = 5;
    let (mut create, mut count, mut next, mut of, mut sweep) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        // 1 % of the folder, with a one-minute idle timeout: due after the next advance.
        let due = n / 100;
        let t = Instant::now();
        for _ in 0..due {
            m.create(None, None).unwrap();
        }
        create.push(t.elapsed().as_secs_f64() * 1e3 / due as f64);
        count.push(ms(|| {
            m.store_mut().len().unwrap();
        }));
        next.push(ms(|| {
            m.next_deadline().unwrap();
        }));
        of.push(ms(|| {
            m.sessions_of("ann").unwrap();
        }));
        clock.advance(2 * MIN);
        let mut swept = 0;
        sweep.push(ms(|| swept = m.sweep().unwrap()));
        assert_eq!(swept, due, "{}", dir.display());
    }
    Row {
        create: median(create),
        count: median(count),
        next_deadline: median(next),
        sessions_of: median(of),
        sweep: median(sweep),
    }
}

use tenure::Store;

fn main() {
    let sizes: Vec<usize> = std::env::var("TENURE_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,30000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let base: PathBuf =
        std::env::temp_dir().join(format!("tenure-bench-files-{}", std::process::id()));
    println!("FileStore, medians of 5 rounds in ms (sweep: 1 % of the folder expired; create: per session)");
    println!("| files | operation | without index | with index | ratio |");
    println!("|---|---|---|---|---|");
    for n in sizes {
        let dir = base.join(n.to_string());
        let t = Instant::now();
        fill(&dir, n);
        let filled = t.elapsed().as_secs_f64();
        // A folder written before the index existed: indexed on first use, once.
        std::fs::remove_dir_all(dir.join(tenure::__private::file_index::DIR)).unwrap();
        let mut store = FileStore::new(&dir).unwrap();
        let build = ms(|| {
            store.count().unwrap();
        });
        let without = measure(&dir, n, Unindexed(FileStore::new(&dir).unwrap()));
        let with = measure(&dir, n, FileStore::new(&dir).unwrap());
        let rows = [
            ("create", without.create, with.create),
            ("count", without.count, with.count),
            ("next_deadline", without.next_deadline, with.next_deadline),
            (
                "sessions_of (n/1000 sessions)",
                without.sessions_of,
                with.sessions_of,
            ),
            ("sweep", without.sweep, with.sweep),
        ];
        for (name, a, b) in rows {
            println!("| {n} | {name} | {a:.3} | {b:.3} | {:.1}× |", a / b);
        }
        println!("| {n} | indexing an unindexed folder (once) | | {build:.1} | |");
        eprintln!("({n} files written in {filled:.1} s)");
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&base);
}
