//! Core benchmarks: prints ns/op (medians over batches) for the manager's hot paths next to
//! a raw hashbrown baseline measured in the same run, the sweep of 10,000 expired sessions
//! among 1,000,000 live ones, and memory per idle session (counting allocator).
//!
//! Run: `cargo bench -p tenure --bench core`. Figures are printed, never asserted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;
use tenure::{DataMap, ManualClock, MemoryStore, Policy, SeededEntropy, SessionManager, Value};

/// Counts live heap bytes while `COUNTING` is on, so memory per session is measured, not
/// guessed (and the timings, taken with it off, pay only a relaxed load per allocation).
struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new as isize - l.size() as isize);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

type Mgr = SessionManager<MemoryStore, ManualClock, SeededEntropy>;

fn manager(clock: &ManualClock) -> Mgr {
    SessionManager::new(
        MemoryStore::new(),
        clock.clone(),
        SeededEntropy::new(7),
        Policy::default(),
    )
}

fn three_keys() -> DataMap {
    [
        ("user", Value::from("u1")),
        ("views", Value::Int(3)),
        ("theme", Value::from("dark")),
    ]
    .into_iter()
    .collect()
}

/// Median ns/op of `batches` runs of `per_batch` calls.
fn median_ns(batches: usize, per_batch: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut samples: Vec<f64> = (0..batches)
        .map(|b| {
            let t = Instant::now();
            for i in 0..per_batch {
                f(b * per_batch + i);
            }
            t.elapsed().as_nanos() as f64 / per_batch as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

#[derive(Clone, Copy)]
#[allow(dead_code)]
struct Small {
    created: u64,
    accessed: u64,
    views: u32,
}

fn main() {
    const N: usize = 100_000;
    const BATCHES: usize = 15;
    const PER: usize = 20_000;

    // Baseline: a raw hashbrown map of small structs, get + insert per op.
    let mut raw: hashbrown::HashMap<[u8; 16], Small> = hashbrown::HashMap::new();
    let keys: Vec<[u8; 16]> = (0..N as u128)
        .map(|i| (i * 0x9E37_79B9_7F4A_7C15).to_le_bytes())
        .collect();
    for k in &keys {
        raw.insert(
            *k,
            Small {
                created: 1,
                accessed: 1,
                views: 0,
            },
        );
    }
    let raw_ns = median_ns(BATCHES, PER, |i| {
        let k = keys[i % N];
        let mut v = *raw.get(&k).unwrap();
        v.views += 1;
        raw.insert(k, black_box(v));
    });

    let clock = ManualClock::new(1_000_000);
    let mut m = manager(&clock);
    let create_ns = median_ns(BATCHES, PER / 4, |_| {
        black_box(m.create(None, Some(three_keys())).unwrap());
    });
    // Ids held inline, as a server holds the one it just parsed from a request: the
    // harness's own cache misses on a heap string per id are not the library's cost.
    let ids: Vec<tenure::CompactString> = {
        let (page, _) = m.list(None, N).unwrap();
        page.iter().map(|r| r.id.clone()).collect()
    };
    let n = ids.len();
    let open_ns = median_ns(BATCHES, PER, |i| {
        black_box(m.open(&ids[i % n]).unwrap().unwrap());
    });
    let s = m.open(&ids[0]).unwrap().unwrap();
    let get_ns = median_ns(BATCHES, PER * 10, |_| {
        black_box(s.get(black_box("views")));
    });
    let set_commit_ns = median_ns(BATCHES, PER, |i| {
        let mut s = m.open(&ids[i % n]).unwrap().unwrap();
        let t = Instant::now();
        s.set("theme", "light").unwrap();
        m.commit(&mut s).unwrap();
        black_box(t);
    });
    let open_set_commit_ns = median_ns(BATCHES, PER, |i| {
        let mut s = m.open(&ids[i % n]).unwrap().unwrap();
        s.set("theme", "light").unwrap();
        m.commit(&mut s).unwrap();
    });
    let incr_commit_ns = median_ns(BATCHES, PER, |i| {
        let mut s = m.open(&ids[i % n]).unwrap().unwrap();
        s.increment("views", 1).unwrap();
        m.commit(&mut s).unwrap();
    }) - open_ns;
    drop(m);

    // Memory per idle session with three small keys: the manager's heap after N creates.
    COUNTING.store(true, Ordering::SeqCst);
    let mut mem = manager(&clock);
    for _ in 0..N {
        mem.create(None, Some(three_keys())).unwrap();
    }
    drop(mem.drain_events());
    let per_session = LIVE.load(Ordering::Relaxed) as f64 / N as f64;
    COUNTING.store(false, Ordering::SeqCst);
    drop(mem);

    // Sweep 10,000 expired among 1,000,000 live sessions: median of rounds, each adding
    // 10,000 short-lived sessions to the million long-lived ones and sweeping them.
    let clock = ManualClock::new(0);
    let mut big = manager(&clock);
    for _ in 0..1_000_000 {
        big.create(None, None).unwrap();
    }
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            for _ in 0..10_000 {
                let mut s = big.create(None, None).unwrap();
                big.set_idle_timeout(&mut s, Some(1_000)).unwrap();
                big.commit(&mut s).unwrap();
            }
            drop(big.drain_events());
            clock.advance(1_000);
            let t = Instant::now();
            let swept = big.sweep().unwrap();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            assert_eq!(swept, 10_000);
            ms
        })
        .collect();
    rounds.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let sweep_ms = rounds[rounds.len() / 2];
    assert_eq!(big.count().unwrap(), 1_000_000);

    println!("tenure core benchmarks (median of {BATCHES} batches; ns/op)");
    println!("  baseline: raw hashbrown get+insert    {raw_ns:>9.1} ns");
    println!("  create (3 keys)                       {create_ns:>9.1} ns");
    println!("  open                                  {open_ns:>9.1} ns");
    println!("  get                                   {get_ns:>9.1} ns");
    println!(
        "  set+commit (after open)               {:>9.1} ns",
        set_commit_ns - open_ns
    );
    println!("  increment+commit (after open)         {incr_commit_ns:>9.1} ns");
    println!(
        "  open+set+commit                       {open_set_commit_ns:>9.1} ns  ({:.1}x baseline; target <= 3x)",
        open_set_commit_ns / raw_ns
    );
    println!("  sweep 10,000 expired of 1,010,000     {sweep_ms:>9.2} ms  (target < 10 ms)");
    println!("  memory per idle session (3 keys)      {per_session:>9.0} bytes (target < 300)");
}
