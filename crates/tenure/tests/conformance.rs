//! Runs every scenario of tests/conformance/scenarios against the core: the same files the
//! Node and Python runners execute (format: tests/conformance/README.md).
#![cfg(feature = "std")]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value as J};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use tenure::web::cookie;
use tenure::{
    Limits, ManualClock, MemoryStore, OnFull, Policy, SeededEntropy, Session, SessionManager, Value,
};

use tenure::__private::EitherStore;
use tenure::FileStore;
use tenure::{AsyncByteStore, AsyncEncoded, AsyncSessionManager, Offloaded, SharedStore};
use tenure::{
    ByteReply, ByteRequest, ByteStore, DataMap, EncodedStore, Error, Metrics, StoreError,
};

/// Where a scenario runs: the sync or the async driver, on the memory or the file store.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    SyncMemory,
    SyncFile,
    AsyncMemory,
    AsyncFile,
    AsyncFileOffloaded,
    /// A real redis-server, through the core's Redis layout and script.
    AsyncRedis,
}

#[path = "support/redis.rs"]
mod redis_support;

/// The core's Redis port over the test's own blocking RESP client.
struct RespStore {
    conn: std::sync::Mutex<redis_support::Resp>,
    config: tenure::redis::RedisConfig,
}

struct Locked<'a>(&'a std::sync::Mutex<redis_support::Resp>);

impl tenure::redis::CommandPort for Locked<'_> {
    async fn call(
        &mut self,
        batch: Vec<tenure::redis::Command>,
    ) -> Result<Vec<tenure::redis::RedisReply>, StoreError> {
        self.0.lock().unwrap().call(batch)
    }
}

/// The port of the redis-server the Redis test started (it stops it when done); each
/// scenario runs under a prefix of its own.
static REDIS_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// A file store whose every call makes its caller wait once (returns `Pending` first), so
/// the async driver really suspends between requests.
struct Yielding(std::sync::Mutex<FileStore>);

impl AsyncByteStore for Yielding {
    fn call(
        &self,
        request: ByteRequest,
    ) -> impl std::future::Future<Output = Result<ByteReply, StoreError>> + Send {
        let mut waited = false;
        let mut request = Some(request);
        std::future::poll_fn(move |cx| {
            if !waited {
                waited = true;
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            let r = request.take().expect("polled after completion");
            std::task::Poll::Ready(self.0.lock().unwrap().execute(r))
        })
    }
}

type SyncStore = EitherStore<MemoryStore, EncodedStore<FileStore>>;
type AsyncStore = EitherAsync;

/// The async stores a scenario may run on.
enum EitherAsync {
    Memory(SharedStore<MemoryStore>),
    File(AsyncEncoded<Yielding>),
    /// The file store with each call on a thread of its own.
    Offloaded(AsyncEncoded<Offloaded<FileStore>>),
}

impl tenure::AsyncStore for RespStore {
    const CHANGES: bool = true;

    async fn call(&self, request: tenure::Request) -> Result<tenure::Reply, StoreError> {
        tenure::__private::port::Port::call(
            &mut tenure::redis::RedisPort::new(Locked(&self.conn), &self.config),
            request,
        )
        .await
    }
}

impl tenure::AsyncStore for EitherAsync {
    async fn call(&self, request: tenure::Request) -> Result<tenure::Reply, StoreError> {
        match self {
            EitherAsync::Memory(s) => s.call(request).await,
            EitherAsync::File(s) => s.call(request).await,
            EitherAsync::Offloaded(s) => s.call(request).await,
        }
    }
}

/// Polls a future to completion on this thread (the yielding store wakes itself).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

enum Mgr {
    Sync(SessionManager<SyncStore, ManualClock, SeededEntropy>),
    Async(AsyncSessionManager<AsyncStore, ManualClock, SeededEntropy>),
    Redis(AsyncSessionManager<RespStore, ManualClock, SeededEntropy>),
}

macro_rules! both {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            Mgr::Sync($m) => $e,
            Mgr::Async($m) => block_on(async { $e.await }),
            Mgr::Redis($m) => block_on(async { $e.await }),
        }
    };
}

impl Mgr {
    fn new(kind: Kind, clock: ManualClock, seed: u64, policy: Policy) -> Mgr {
        let dir = || {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let d = std::env::temp_dir().join(format!("tenure-conf-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            FileStore::new(&d).unwrap()
        };
        let limits = *policy.limits();
        match kind {
            Kind::SyncMemory => Mgr::Sync(SessionManager::new(
                EitherStore::Left(MemoryStore::new()),
                clock,
                SeededEntropy::new(seed),
                policy,
            )),
            Kind::SyncFile => Mgr::Sync(SessionManager::new(
                EitherStore::Right(EncodedStore::new(dir(), limits)),
                clock,
                SeededEntropy::new(seed),
                policy,
            )),
            Kind::AsyncMemory => Mgr::Async(AsyncSessionManager::new(
                EitherAsync::Memory(SharedStore::new(MemoryStore::new())),
                clock,
                SeededEntropy::new(seed),
                policy,
            )),
            Kind::AsyncFileOffloaded => Mgr::Async(AsyncSessionManager::new(
                EitherAsync::Offloaded(AsyncEncoded::new(Offloaded::new(dir()), limits)),
                clock,
                SeededEntropy::new(seed),
                policy,
            )),
            Kind::AsyncRedis => {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let prefix = format!("conf{n}:");
                let config = tenure::redis::RedisConfig::new(&prefix, limits).unwrap();
                Mgr::Redis(AsyncSessionManager::new(
                    RespStore {
                        conn: std::sync::Mutex::new(
                            redis_support::Resp::connect(
                                REDIS_PORT.load(std::sync::atomic::Ordering::Relaxed),
                            )
                            .unwrap(),
                        ),
                        config,
                    },
                    clock,
                    SeededEntropy::new(seed),
                    policy,
                ))
            }
            Kind::AsyncFile => Mgr::Async(AsyncSessionManager::new(
                EitherAsync::File(AsyncEncoded::new(
                    Yielding(std::sync::Mutex::new(dir())),
                    limits,
                )),
                clock,
                SeededEntropy::new(seed),
                policy,
            )),
        }
    }
    fn create(&mut self, p: Option<&str>, d: Option<DataMap>) -> Result<Session, Error> {
        both!(self, m => m.create(p, d))
    }
    fn open(&mut self, id: &str) -> Result<Option<Session>, Error> {
        both!(self, m => m.open(id))
    }
    fn peek(&mut self, id: &str) -> Result<Option<Session>, Error> {
        both!(self, m => m.peek(id))
    }
    fn set_idle_timeout(&mut self, s: &mut Session, ms: Option<u64>) -> Result<(), Error> {
        match self {
            Mgr::Sync(m) => m.set_idle_timeout(s, ms),
            Mgr::Async(m) => m.set_idle_timeout(s, ms),
            Mgr::Redis(m) => m.set_idle_timeout(s, ms),
        }
    }
    fn commit(&mut self, s: &mut Session) -> Result<(), Error> {
        both!(self, m => m.commit(s))
    }
    fn regenerate(&mut self, s: &mut Session, clear: bool) -> Result<(), Error> {
        both!(self, m => m.regenerate(s, clear))
    }
    fn destroy(&mut self, id: &str) -> Result<bool, Error> {
        both!(self, m => m.destroy(id))
    }
    fn destroy_all_of(&mut self, p: &str, except: Option<&str>) -> Result<usize, Error> {
        both!(self, m => m.destroy_all_of(p, except))
    }
    fn sessions_of(&mut self, p: &str) -> Result<Vec<tenure::SessionInfo>, Error> {
        both!(self, m => m.sessions_of(p))
    }
    fn count(&mut self) -> Result<usize, Error> {
        both!(self, m => m.count())
    }
    fn sweep(&mut self) -> Result<usize, Error> {
        both!(self, m => m.sweep())
    }
    fn next_deadline(&mut self) -> Result<Option<u64>, Error> {
        both!(self, m => m.next_deadline())
    }
    fn metrics(&mut self) -> Result<Metrics, Error> {
        both!(self, m => m.metrics())
    }
    fn export(&mut self) -> Result<Vec<u8>, Error> {
        both!(self, m => m.export())
    }
    fn import(&mut self, blob: &[u8]) -> Result<usize, Error> {
        both!(self, m => m.import(blob))
    }
}

fn policy(p: &J) -> Result<Policy, tenure::Error> {
    let mut b = Policy::builder();
    let ms = |k: &str| p.get(k).map(|v| v.as_u64());
    if let Some(v) = ms("idle_timeout") {
        b = b.idle_timeout(v);
    }
    if let Some(v) = ms("absolute_timeout") {
        b = b.absolute_timeout(v);
    }
    if let Some(Some(v)) = ms("touch_interval") {
        b = b.touch_interval(v);
    }
    if let Some(v) = ms("max_sessions") {
        b = b.max_sessions(v.map(|n| n as usize));
    }
    if p.get("on_full").and_then(J::as_str) == Some("evict_lru") {
        b = b.on_full(OnFull::EvictLru);
    }
    let d = Limits::default();
    let lim = |k: &str, dflt: usize| p.get(k).and_then(J::as_u64).map_or(dflt, |v| v as usize);
    b = b.limits(Limits {
        max_data_bytes: lim("max_data_bytes", d.max_data_bytes),
        max_key_bytes: lim("max_key_bytes", d.max_key_bytes),
        max_depth: lim("max_depth", d.max_depth),
    });
    if let Some(n) = p.get("id_bytes").and_then(J::as_u64) {
        b = b.id_bytes(n as usize);
    }
    b.build()
}

/// Scenario JSON (with `$f`, `$i`, `$b`, `$k` tags) to a tenure value.
fn to_value(j: &J) -> Value {
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap()),
        },
        J::String(s) => Value::from(s.as_str()),
        J::Array(a) => Value::List(a.iter().map(to_value).collect()),
        J::Object(o) => {
            if let (1, Some(v)) = (o.len(), o.get("$f")) {
                return Value::Float(match v {
                    J::String(s) if s == "NaN" => f64::NAN,
                    J::String(s) if s == "inf" => f64::INFINITY,
                    J::String(s) if s == "-inf" => f64::NEG_INFINITY,
                    other => other.as_f64().unwrap(),
                });
            }
            if let (1, Some(J::String(s))) = (o.len(), o.get("$i")) {
                return Value::Int(s.parse().unwrap());
            }
            if let (1, Some(J::String(s))) = (o.len(), o.get("$b")) {
                return Value::from(STANDARD.decode(s).unwrap());
            }
            let inner = match (o.len(), o.get("$k")) {
                (1, Some(J::Object(k))) => k,
                _ => o,
            };
            Value::Map(
                inner
                    .iter()
                    .map(|(k, v)| (k.clone(), to_value(v)))
                    .collect(),
            )
        }
    }
}

fn err_code(e: &tenure::Error) -> J {
    json!({ "error": e.code().as_str() })
}

struct Run {
    m: Mgr,
    kind: Kind,
    clock: ManualClock,
    start: u64,
    policy: Policy,
    handles: HashMap<String, Session>,
    ids: HashMap<String, String>,
}

impl Run {
    fn id(&self, step: &J) -> String {
        if let Some(l) = step.get("id_literal").and_then(J::as_str) {
            return l.to_owned();
        }
        let name = step["id"].as_str().unwrap();
        self.ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no id named {name}"))
    }

    fn bind(&mut self, step: &J, s: Option<Session>) -> J {
        match s {
            Some(s) => {
                if let Some(name) = step.get("as").and_then(J::as_str) {
                    self.ids.insert(name.into(), s.id().into());
                    self.handles.insert(name.into(), s);
                }
                json!("found")
            }
            None => json!("absent"),
        }
    }

    fn offset(&self, t: Option<u64>) -> J {
        t.map_or(J::Null, |t| json!(t - self.start))
    }

    /// Runs one step; `Ok(result)` or the error as `{"error": code}`; `Err` for a bad step.
    fn step(&mut self, step: &J) -> J {
        let op = step["do"].as_str().unwrap();
        let key = || step["key"].as_str().unwrap().to_owned();
        let sess = step
            .get("session")
            .and_then(J::as_str)
            .unwrap_or("")
            .to_owned();
        macro_rules! h {
            () => {
                self.handles
                    .get_mut(&sess)
                    .unwrap_or_else(|| panic!("no session {sess}"))
            };
        }
        let unit = |r: Result<(), tenure::Error>| r.map_or_else(|e| err_code(&e), |_| J::Null);
        match op {
            "advance" => {
                self.clock.advance(step["ms"].as_u64().unwrap());
                J::Null
            }
            "set_time" => {
                self.clock.set(self.start + step["ms"].as_u64().unwrap());
                J::Null
            }
            "create" => {
                let data = step.get("data").map(|d| match to_value(d) {
                    Value::Map(m) => m,
                    _ => panic!("data must be a map"),
                });
                let principal = step.get("principal").and_then(J::as_str);
                match self.m.create(principal, data) {
                    Ok(s) => {
                        self.bind(step, Some(s));
                        J::Null
                    }
                    Err(e) => err_code(&e),
                }
            }
            "open" | "peek" => {
                let id = self.id(step);
                let r = if op == "open" {
                    self.m.open(&id)
                } else {
                    self.m.peek(&id)
                };
                match r {
                    Ok(s) => self.bind(step, s),
                    Err(e) => err_code(&e),
                }
            }
            "get" => match h!().get(&key()) {
                Some(v) => to_json(v),
                None => json!({ "absent": true }),
            },
            "set" => {
                let v = to_value(&step["value"]);
                unit(h!().set(&key(), v))
            }
            "delete" => h!()
                .delete(&key())
                .map_or_else(|e| err_code(&e), |_| J::Null),
            "has" => json!(h!().contains(&key())),
            "keys" => json!(h!().keys().collect::<Vec<_>>()),
            "len" => json!(h!().len()),
            "clear" => {
                h!().clear();
                J::Null
            }
            "update" => {
                let Value::Map(m) = to_value(&step["data"]) else {
                    panic!("update takes a map")
                };
                unit(h!().update(m))
            }
            "increment" => {
                let by = step.get("by").and_then(J::as_i64).unwrap_or(1);
                h!().increment(&key(), by)
                    .map_or_else(|e| err_code(&e), |n| json!(n))
            }
            "flash" => {
                let (c, m) = (
                    step["category"].as_str().unwrap(),
                    step["message"].as_str().unwrap(),
                );
                unit(h!().flash(c, m))
            }
            "take_flashes" => {
                json!(h!()
                    .take_flashes()
                    .into_iter()
                    .map(|f| vec![f.category, f.message])
                    .collect::<Vec<_>>())
            }
            "set_principal" => {
                let p = step["principal"].as_str();
                unit(h!().set_principal(p))
            }
            "set_idle_timeout" => {
                let ms = step["ms"].as_u64();
                let mut s = self.handles.remove(&sess).unwrap();
                let r = self.m.set_idle_timeout(&mut s, ms);
                self.handles.insert(sess, s);
                unit(r)
            }
            "info" => {
                let s = &self.handles[&sess];
                json!({
                    "principal": s.principal(), "version": s.version(),
                    "created": s.created_at() - self.start, "last_access": s.last_access() - self.start,
                    "expires_at": self.offset(s.expires_at()), "idle_timeout": s.idle_timeout(),
                    "absolute_timeout": s.absolute_timeout(),
                })
            }
            "commit" | "regenerate" => {
                let mut s = self.handles.remove(&sess).unwrap();
                let r = if op == "commit" {
                    self.m.commit(&mut s)
                } else {
                    self.m.regenerate(
                        &mut s,
                        step.get("clear").and_then(J::as_bool).unwrap_or(false),
                    )
                };
                self.ids.insert(sess.clone(), s.id().into());
                self.handles.insert(sess, s);
                unit(r)
            }
            "remember" => {
                let id = self.handles[&sess].id().to_owned();
                self.ids.insert(step["as"].as_str().unwrap().into(), id);
                J::Null
            }
            "destroy" => {
                let id = self.id(step);
                self.m
                    .destroy(&id)
                    .map_or_else(|e| err_code(&e), |b| json!(b))
            }
            "destroy_all_of" => {
                let except = step
                    .get("except")
                    .and_then(J::as_str)
                    .map(|n| self.ids[n].clone());
                let p = step["principal"].as_str().unwrap();
                self.m
                    .destroy_all_of(p, except.as_deref())
                    .map_or_else(|e| err_code(&e), |n| json!(n))
            }
            "sessions_of" => json!(self
                .m
                .sessions_of(step["principal"].as_str().unwrap())
                .unwrap()
                .len()),
            "count" => json!(self.m.count().unwrap()),
            "sweep" => json!(self.m.sweep().unwrap()),
            "next_deadline" => {
                let d = self.m.next_deadline().unwrap();
                self.offset(d)
            }
            "metrics" => {
                let x = self.m.metrics().unwrap();
                json!({
                    "active": x.active, "peak_active": x.peak_active, "created_total": x.created_total,
                    "expired_total": x.expired_total, "destroyed_total": x.destroyed_total,
                    "rejected_total": x.rejected_total, "evicted_total": x.evicted_total,
                    "max_alive_ms": x.max_alive_ms, "avg_alive_ms": x.avg_alive_ms,
                })
            }
            "restart" => {
                let blob = self.m.export().unwrap();
                self.m = Mgr::new(self.kind, self.clock.clone(), 99, self.policy);
                self.m
                    .import(&blob)
                    .map_or_else(|e| err_code(&e), |n| json!(n))
            }
            "sign" => json!(cookie::sign(
                step["id"].as_str().unwrap(),
                step["secret"].as_str().unwrap().as_bytes()
            )),
            "unsign" | "parse_cookie" => {
                let secrets: Vec<&[u8]> = step["secrets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().as_bytes())
                    .collect();
                let id = if op == "unsign" {
                    cookie::unsign_id(step["value"].as_str().unwrap(), &secrets)
                } else {
                    cookie::find_session_id(
                        step["header"].as_str().unwrap(),
                        step["name"].as_str().unwrap(),
                        &secrets,
                    )
                    .map(|u| u.id)
                };
                json!(id)
            }
            other => panic!("unknown step {other}"),
        }
    }
}

/// A tenure value as scenario JSON (tags where plain JSON would be ambiguous).
fn to_json(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) if i.unsigned_abs() <= (1 << 53) => json!(i),
        Value::Int(i) => json!({ "$i": i.to_string() }),
        Value::Float(f) if f.fract() == 0.0 => json!({ "$f": f }),
        Value::Float(f) => json!(f),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => json!({ "$b": STANDARD.encode(b) }),
        Value::List(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => {
            let o: serde_json::Map<String, J> =
                m.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect();
            if m.keys().any(|k| k.starts_with('$')) {
                json!({ "$k": o })
            } else {
                J::Object(o)
            }
        }
    }
}

/// Expected and actual agree: objects compare only the keys the expectation lists for
/// `info` and `metrics`; floats compare through their tags.
fn matches(op: &str, expected: &J, actual: &J) -> bool {
    if matches!(op, "info" | "metrics") {
        let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
            return false;
        };
        return e.iter().all(|(k, v)| a.get(k) == Some(v));
    }
    if let (J::Object(e), Some(f)) = (expected, expected.get("$f")) {
        if e.len() == 1 {
            return actual.get("$f").and_then(J::as_f64) == f.as_f64();
        }
    }
    match (expected, actual) {
        (J::Number(e), J::Number(a)) => e.as_f64() == a.as_f64() && e.is_i64() == a.is_i64(),
        (J::Array(e), J::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches("", x, y))
        }
        (J::Object(e), J::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| matches("", v, av)))
        }
        _ => expected == actual,
    }
}

fn run_file(kind: Kind, name: &str, doc: &J) -> Result<(), String> {
    let p = doc.get("policy").cloned().unwrap_or(json!({}));
    let policy = policy(&p);
    if let Some(code) = doc.get("policy_error").and_then(J::as_str) {
        return match policy {
            Err(e) if e.code().as_str() == code => Ok(()),
            other => Err(format!("expected policy error {code}, got {other:?}")),
        };
    }
    let policy = policy.map_err(|e| format!("policy refused: {e}"))?;
    let start = doc.get("start").and_then(J::as_u64).unwrap_or(1_000_000);
    let clock = ManualClock::new(start);
    let m = Mgr::new(kind, clock.clone(), 7, policy);
    let mut run = Run {
        m,
        kind,
        clock,
        start,
        policy,
        handles: HashMap::new(),
        ids: HashMap::new(),
    };
    for (i, step) in doc["steps"].as_array().unwrap().iter().enumerate() {
        let op = step["do"].as_str().unwrap();
        let got = run.step(step);
        match step.get("expect") {
            Some(exp) if !matches(op, exp, &got) => {
                return Err(format!("{name} step {i} ({op}): expected {exp}, got {got}"))
            }
            None if got.get("error").is_some() => {
                return Err(format!("{name} step {i} ({op}): unexpected {got}"))
            }
            _ => {}
        }
    }
    Ok(())
}

fn every_scenario_passes(kind: Kind) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "expected at least 40 scenarios, found {}",
        files.len()
    );
    let mut failures = BTreeMap::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let doc: J = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        if let Err(e) = run_file(kind, &name, &doc) {
            failures.insert(name, e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed on {kind:?}:\n{}",
        failures.len(),
        failures.values().cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn every_scenario_passes_in_rust() {
    every_scenario_passes(Kind::SyncMemory);
}

#[test]
fn every_scenario_passes_on_the_file_store() {
    every_scenario_passes(Kind::SyncFile);
}

#[test]
fn every_scenario_passes_through_the_async_driver() {
    every_scenario_passes(Kind::AsyncMemory);
}

#[test]
fn every_scenario_passes_through_the_async_driver_on_the_file_store() {
    every_scenario_passes(Kind::AsyncFile);
}

#[test]
fn every_scenario_passes_through_the_async_driver_on_the_offloaded_file_store() {
    every_scenario_passes(Kind::AsyncFileOffloaded);
}

#[test]
fn every_scenario_passes_on_redis() {
    let server = redis_support::RedisServer::start();
    REDIS_PORT.store(server.port, std::sync::atomic::Ordering::Relaxed);
    every_scenario_passes(Kind::AsyncRedis);
}
