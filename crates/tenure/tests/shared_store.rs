//! Several managers (standing for several processes) and many interleaved async requests
//! sharing one store: the atomic contract loses no update and resurrects nothing.
#![cfg(feature = "std")]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tenure::__private::MapByteStore;
use tenure::{AsyncByteStore, AsyncEncoded, AsyncSessionManager, SharedStore};
use tenure::{
    ByteReply, ByteRequest, ByteStore, EncodedStore, ErrorCode, Limits, ManualClock, MemoryStore,
    OsEntropy, Policy, SeededEntropy, SessionManager, StoreError, Value,
};

/// One byte store shared by several sync managers, as a folder is by several processes.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<MapByteStore>>);

impl ByteStore for Shared {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.borrow_mut().get(id)
    }
    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        self.0.borrow_mut().insert(id, bytes)
    }
    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        self.0.borrow_mut().replace(id, bytes, expected)
    }
    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        self.0.borrow_mut().delete(id, expected)
    }
    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        self.0.borrow_mut().ids()
    }
}

type Sync = SessionManager<EncodedStore<Shared>, ManualClock, SeededEntropy>;

fn two_managers() -> (Sync, Sync, ManualClock) {
    let store = Shared::default();
    let clock = ManualClock::new(1_000);
    let m = |seed| {
        SessionManager::new(
            EncodedStore::new(store.clone(), Limits::default()),
            clock.clone(),
            SeededEntropy::new(seed),
            Policy::default(),
        )
    };
    (m(1), m(2), clock)
}

#[test]
fn interleaved_commits_from_two_managers_both_land() {
    let (mut a, mut b, clock) = two_managers();
    let mut s = a.create(None, None).unwrap();
    s.set("views", 0).unwrap();
    a.commit(&mut s).unwrap();
    let id = s.id().to_owned();
    for _ in 0..50 {
        let mut sa = a.open(&id).unwrap().unwrap();
        let mut sb = b.open(&id).unwrap().unwrap();
        sa.increment("views", 1).unwrap();
        sb.increment("views", 1).unwrap();
        sb.set("by_b", true).unwrap();
        sa.set("by_a", true).unwrap();
        // Both read the same version; the second commit conflicts, re-reads and re-merges.
        b.commit(&mut sb).unwrap();
        a.commit(&mut sa).unwrap();
        clock.advance(70_000); // past the touch interval, so touches race too
    }
    let s = a.peek(&id).unwrap().unwrap();
    assert_eq!(s.get("views"), Some(&Value::Int(100)));
    assert_eq!(s.get("by_a"), Some(&Value::Bool(true)));
    assert_eq!(s.get("by_b"), Some(&Value::Bool(true)));
}

#[test]
fn a_logout_in_one_manager_is_never_undone_by_another() {
    let (mut a, mut b, _) = two_managers();
    let mut s = a.create(Some("ann"), None).unwrap();
    a.commit(&mut s).unwrap();
    let id = s.id().to_owned();
    let mut stale = b.open(&id).unwrap().unwrap();
    stale.set("cart", "full").unwrap();
    assert!(a.destroy(&id).unwrap());
    let e = b.commit(&mut stale).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SessionGone);
    assert!(a.peek(&id).unwrap().is_none());
    assert!(b.store_mut().inner_mut().0.borrow().map.is_empty());
    // A regenerate racing a commit carries the commit over instead of dropping it.
    let mut s = a.create(None, None).unwrap();
    let mut other = b.open(s.id()).unwrap().unwrap();
    other.increment("n", 5).unwrap();
    b.commit(&mut other).unwrap();
    a.regenerate(&mut s, false).unwrap();
    assert_eq!(s.get("n"), Some(&Value::Int(5)));
    assert_eq!(a.count().unwrap(), 1);
}

/// A map store whose calls each wait a pseudo-random number of polls first.
struct Jittery {
    inner: Mutex<MapByteStore>,
    seed: Mutex<u64>,
}

impl Jittery {
    fn waits(&self) -> u32 {
        let mut s = self.seed.lock().unwrap();
        *s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*s >> 33) % 4) as u32
    }
}

impl AsyncByteStore for Jittery {
    fn call(
        &self,
        request: ByteRequest,
    ) -> impl Future<Output = Result<ByteReply, StoreError>> + Send {
        let mut waits = self.waits();
        let mut request = Some(request);
        std::future::poll_fn(move |_| {
            if waits > 0 {
                waits -= 1;
                return Poll::Pending;
            }
            let r = request.take().expect("polled after completion");
            Poll::Ready(self.inner.lock().unwrap().execute(r))
        })
    }
}

/// One request's future.
type Job<'a, T> = Pin<Box<dyn Future<Output = Result<T, tenure::Error>> + 'a>>;

/// Polls every future in turn until all are done: one thread, arbitrary interleavings.
fn run_all<'a, T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>) -> Vec<T> {
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let mut cx = Context::from_waker(Waker::noop());
    let mut left = futures.len();
    while left > 0 {
        for (i, f) in futures.iter_mut().enumerate() {
            if out[i].is_none() {
                if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                    out[i] = Some(v);
                    left -= 1;
                }
            }
        }
    }
    out.into_iter().map(Option::unwrap).collect()
}

fn jittery_manager() -> AsyncSessionManager<AsyncEncoded<Jittery>, ManualClock, SeededEntropy> {
    let store = Jittery {
        inner: Mutex::new(MapByteStore::default()),
        seed: Mutex::new(42),
    };
    AsyncSessionManager::new(
        AsyncEncoded::new(store, Limits::default()),
        ManualClock::new(5_000),
        SeededEntropy::new(3),
        Policy::default(),
    )
}

#[test]
fn two_hundred_interleaved_async_increments_all_count() {
    let m = jittery_manager();
    let id = run_all(vec![Box::pin(async {
        m.create(None, None).await.unwrap()
    })])[0]
        .id()
        .to_owned();
    let jobs: Vec<Job<'_, ()>> = (0..200)
        .map(|_| {
            let (m, id) = (&m, id.clone());
            Box::pin(async move {
                let mut s = m.open(&id).await.unwrap().unwrap();
                s.increment("n", 1).unwrap();
                m.commit(&mut s).await
            }) as Pin<Box<dyn Future<Output = _>>>
        })
        .collect();
    for r in run_all(jobs) {
        r.unwrap();
    }
    let s = run_all(vec![Box::pin(async {
        m.peek(&id).await.unwrap().unwrap()
    })]);
    assert_eq!(s[0].get("n"), Some(&Value::Int(200)));
}

#[test]
fn a_destroy_racing_async_commits_is_never_undone() {
    let m = jittery_manager();
    let id = run_all(vec![Box::pin(async {
        m.create(None, None).await.unwrap()
    })])[0]
        .id()
        .to_owned();
    let mut jobs: Vec<Job<'_, bool>> = (0..50)
        .map(|i| {
            let (m, id) = (&m, id.clone());
            Box::pin(async move {
                let Some(mut s) = m.open(&id).await? else {
                    return Ok(false);
                };
                s.set("k", i).unwrap();
                m.commit(&mut s).await.map(|_| true)
            }) as Pin<Box<dyn Future<Output = _>>>
        })
        .collect();
    jobs.insert(25, Box::pin(async { m.destroy(&id).await }));
    let results = run_all(jobs);
    assert!(
        results[25].as_ref().unwrap(),
        "the destroy found the session"
    );
    for r in &results {
        if let Err(e) = r {
            assert_eq!(e.code(), ErrorCode::SessionGone);
        }
    }
    assert!(run_all(vec![Box::pin(async { m.peek(&id).await.unwrap() })])[0].is_none());
    assert!(m.store().inner().inner.lock().unwrap().map.is_empty());
}

#[test]
fn the_async_manager_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let m = AsyncSessionManager::new(
        SharedStore::new(MemoryStore::new()),
        tenure::SystemClock,
        OsEntropy,
        Policy::default(),
    );
    let mut s = tenure::__private::port::run_ready(m.create(None, None))
        .unwrap()
        .unwrap();
    send(&m.open("x"));
    send(&m.commit(&mut s));
    let j = jittery_manager();
    send(&j.create(None, None));
    let shared = Arc::new(m);
    std::thread::spawn(move || {
        tenure::__private::port::run_ready(shared.count())
            .unwrap()
            .unwrap()
    })
    .join()
    .unwrap();
}

#[test]
fn an_async_draft_is_stored_once_with_everything_done_to_it() {
    let m = jittery_manager();
    let mut s = m.draft(None, None).unwrap();
    let id = s.id().to_owned();
    s.set("cart", Value::from(vec![Value::Int(1)])).unwrap();
    s.flash("info", "welcome").unwrap();
    s.set_principal(Some("ann")).unwrap();
    // Not stored until inserted.
    let peek = |m: &AsyncSessionManager<_, _, _>, id: String| {
        run_all(vec![Box::pin(async move { m.peek(&id).await.unwrap() })])
            .pop()
            .unwrap()
    };
    assert!(peek(&m, id.clone()).is_none());
    run_all(vec![Box::pin(async { m.insert_draft(&mut s).await })])
        .pop()
        .unwrap()
        .unwrap();
    let stored = peek(&m, id.clone()).expect("stored");
    assert_eq!(stored.get("cart"), Some(&Value::from(vec![Value::Int(1)])));
    assert_eq!(stored.principal(), Some("ann"));
    assert_eq!(stored.record().flash().len(), 1);
    let metrics = run_all(vec![Box::pin(async { m.metrics().await.unwrap() })]);
    assert_eq!(metrics[0].created_total, 1);
    // A second insert of the same id never overwrites the stored session.
    let mut again = s.clone();
    again.set("cart", Value::Null).unwrap();
    let e = run_all(vec![Box::pin(async { m.insert_draft(&mut again).await })])
        .pop()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::StoreError);
    assert_eq!(
        peek(&m, id).unwrap().get("cart"),
        Some(&Value::from(vec![Value::Int(1)]))
    );
}

#[test]
fn the_async_managers_undrained_events_are_bounded() {
    let m = AsyncSessionManager::new(
        SharedStore::new(MemoryStore::new()),
        ManualClock::new(0),
        SeededEntropy::new(5),
        Policy::default(),
    )
    .with_event_capacity(10);
    for _ in 0..50 {
        tenure::__private::port::run_ready(m.create(None, None))
            .unwrap()
            .unwrap();
    }
    let metrics = tenure::__private::port::run_ready(m.metrics())
        .unwrap()
        .unwrap();
    assert_eq!((metrics.active, metrics.events_dropped), (50, 40));
    assert_eq!(m.drain_events().len(), 10);
    assert!(m.drain_events().is_empty());
}
