//! The Redis layout and script against a real redis-server (started by the test): the
//! layout pinned by a golden file, only changed keys sent, the script's SHA, NOSCRIPT
//! recovery, concurrent writers from several connections, logout races, Redis's own
//! expiry, and Redis going away and coming back.
#![cfg(feature = "std")]

#[path = "support/redis.rs"]
mod redis_support;

use redis_support::{RedisServer, Resp};
use std::sync::Mutex;
use tenure::__private::port::{run_ready, Port};
use tenure::redis::{
    Command, CommandPort, RedisConfig, RedisPort, RedisReply, SCRIPT, SCRIPT_SHA1,
};
use tenure::{AsyncSessionManager, AsyncStore};
use tenure::{ErrorCode, ManualClock, Policy, Reply, Request, SeededEntropy, StoreError, Value};

/// The core's Redis port over a blocking connection, recording what it sends.
struct Store {
    conn: Mutex<Option<Resp>>,
    port: u16,
    config: RedisConfig,
    sent: Mutex<Vec<Command>>,
}

impl Store {
    fn new(port: u16, prefix: &str) -> Store {
        Store {
            conn: Mutex::new(Resp::connect(port).ok()),
            port,
            config: RedisConfig::new(prefix, Default::default()).unwrap(),
            sent: Mutex::new(Vec::new()),
        }
    }
}

struct Conn<'a>(&'a Store);

impl CommandPort for Conn<'_> {
    async fn call(&mut self, batch: Vec<Command>) -> Result<Vec<RedisReply>, StoreError> {
        self.0.sent.lock().unwrap().extend(batch.iter().cloned());
        let mut conn = self.0.conn.lock().unwrap();
        if conn.is_none() {
            // Reconnect, as a real client does, once Redis is back.
            *conn = Resp::connect(self.0.port).ok();
        }
        let Some(c) = conn.as_mut() else {
            return Err(StoreError::new("redis: connection refused"));
        };
        let out = c.call(batch);
        if out.is_err() {
            *conn = None;
        }
        out
    }
}

impl AsyncStore for Store {
    const CHANGES: bool = true;
    async fn call(&self, request: Request) -> Result<Reply, StoreError> {
        RedisPort::new(Conn(self), &self.config).call(request).await
    }
}

type Mgr = AsyncSessionManager<Store, ManualClock, SeededEntropy>;

fn manager(port: u16, prefix: &str, clock: &ManualClock, seed: u64) -> Mgr {
    AsyncSessionManager::new(
        Store::new(port, prefix),
        clock.clone(),
        SeededEntropy::new(seed),
        Policy::default(),
    )
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    run_ready(f).expect("the blocking test store answers at once")
}

fn hash(r: &mut Resp, key: &str) -> Vec<(String, String)> {
    let RedisReply::List(items) = r.cmd(&["HGETALL", key]) else {
        panic!("HGETALL answered oddly")
    };
    let mut pairs: Vec<(String, String)> = items
        .chunks(2)
        .map(|p| match p {
            [RedisReply::Text(f), RedisReply::Text(v)] => (f.clone(), v.clone()),
            _ => panic!("odd hash"),
        })
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn the_layout_matches_the_golden_file_and_the_script_sha_is_redis_own() {
    let server = RedisServer::start();
    let mut r = server.client();
    assert_eq!(
        r.cmd(&["SCRIPT", "LOAD", SCRIPT]),
        RedisReply::Text(SCRIPT_SHA1.into())
    );
    let clock = ManualClock::new(1_700_000_000_000);
    let m = manager(server.port, "tenure:", &clock, 7);
    let mut s = run(m.create(Some("ann"), None)).unwrap();
    s.set("name", "Ann").unwrap();
    s.set(
        "cart",
        Value::List(vec![Value::Int(1), Value::Float(2.5)].into()),
    )
    .unwrap();
    s.increment("views", 3).unwrap();
    s.flash("info", "welcome").unwrap();
    run(m.commit(&mut s)).unwrap();
    let key = format!("tenure:s:{{{}}}", s.id());
    let got = hash(&mut r, &key);
    let golden_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/golden/redis/session.json"
    );
    let golden: serde_json::Value =
        serde_json::from_slice(&std::fs::read(golden_path).unwrap()).unwrap();
    let want: Vec<(String, String)> = golden["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
        .collect();
    if std::env::var_os("TENURE_BLESS").is_some() {
        let fields: Vec<[&str; 2]> = got.iter().map(|(f, v)| [f.as_str(), v.as_str()]).collect();
        let doc = serde_json::json!({ "id": s.id(), "fields": fields });
        std::fs::write(
            golden_path,
            serde_json::to_string_pretty(&doc).unwrap() + "\n",
        )
        .unwrap();
        return;
    }
    assert_eq!(golden["id"].as_str().unwrap(), s.id());
    assert_eq!(
        got, want,
        "the hash differs from tests/golden/redis/session.json"
    );
    // The indexes name it.
    assert_eq!(
        r.cmd(&["ZSCORE", "tenure:{index}:ids", s.id()]),
        RedisReply::Text("0".into())
    );
    assert_eq!(
        r.cmd(&["SISMEMBER", "tenure:{index}:p:ann", s.id()]),
        RedisReply::Int(1)
    );
    // Redis expires it itself at its deadline (30 min idle by default).
    let RedisReply::Int(ttl) = r.cmd(&["PTTL", &key]) else {
        panic!()
    };
    assert!((1_790_000..=1_800_000).contains(&ttl), "PTTL {ttl}");
}

#[test]
fn a_commit_sends_only_the_keys_it_changed_in_one_script_call() {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_000_000);
    let m = manager(server.port, "t:", &clock, 1);
    let mut s = run(m.create(None, None)).unwrap();
    for i in 0..10 {
        s.set(&format!("k{i}"), "x".repeat(100)).unwrap();
    }
    run(m.commit(&mut s)).unwrap();
    m.store().sent.lock().unwrap().clear();
    let mut s = run(m.open(s.id())).unwrap().unwrap();
    s.set("k3", "changed").unwrap();
    run(m.commit(&mut s)).unwrap();
    let sent = m.store().sent.lock().unwrap().clone();
    // One round trip to open, one to commit: the script checks the version it was read at.
    let names: Vec<&str> = sent.iter().map(Command::name).collect();
    assert_eq!(names, ["HGETALL", "EVALSHA"], "{sent:?}");
    let args = sent[1].args().join(" ");
    assert!(args.contains("d:k3 \"changed\""), "{args}");
    assert!(!args.contains("d:k4"), "an unchanged key was sent: {args}");
    assert!(
        sent[1].wire_len() < 250,
        "{} bytes: {args}",
        sent[1].wire_len()
    );
    let mut r = server.client();
    let stored = hash(&mut r, &format!("t:s:{{{}}}", s.id()));
    assert_eq!(
        stored.iter().filter(|(f, _)| f.starts_with("d:")).count(),
        10
    );
    // An unchanged session sends nothing but its read.
    m.store().sent.lock().unwrap().clear();
    let mut s = run(m.open(s.id())).unwrap().unwrap();
    run(m.commit(&mut s)).unwrap();
    let names: Vec<String> = m
        .store()
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(names, ["HGETALL", "HGETALL"]);
}

#[test]
fn a_forgotten_script_is_sent_again() {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_000_000);
    let m = manager(server.port, "t:", &clock, 2);
    let mut s = run(m.create(None, None)).unwrap();
    let mut r = server.client();
    assert_eq!(r.cmd(&["SCRIPT", "FLUSH"]), RedisReply::Text("OK".into()));
    s.increment("n", 1).unwrap();
    run(m.commit(&mut s)).unwrap();
    let again = run(m.open(s.id())).unwrap().unwrap();
    assert_eq!(again.get("n"), Some(&Value::Int(1)));
}

#[test]
fn writers_on_separate_connections_lose_no_increment_and_a_logout_stays() {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_000_000);
    let m = manager(server.port, "t:", &clock, 3);
    let s = run(m.create(None, None)).unwrap();
    let id = s.id().to_string();
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let (id, clock, port) = (id.clone(), clock.clone(), server.port);
            std::thread::spawn(move || {
                let m = manager(port, "t:", &clock, 10 + t);
                for _ in 0..50 {
                    let mut s = run(m.open(&id)).unwrap().unwrap();
                    s.increment("n", 1).unwrap();
                    run(m.commit(&mut s)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = run(m.open(&id)).unwrap().unwrap();
    assert_eq!(s.get("n"), Some(&Value::Int(300)));

    // A logout racing writers: once destroyed, no commit brings the session back.
    let mut writers: Vec<_> = (0..4).map(|_| run(m.open(&id)).unwrap().unwrap()).collect();
    assert!(run(m.destroy(&id)).unwrap());
    for w in &mut writers {
        w.increment("n", 1).unwrap();
        let e = run(m.commit(w)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::SessionGone);
    }
    assert!(run(m.open(&id)).unwrap().is_none());
    let mut r = server.client();
    assert_eq!(
        r.cmd(&["EXISTS", &format!("t:s:{{{id}}}")]),
        RedisReply::Int(0)
    );
    assert_eq!(r.cmd(&["ZCARD", "t:{index}:ids"]), RedisReply::Int(0));
}

#[test]
fn sessions_redis_expired_leave_the_indexes_at_the_next_sweep() {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_000_000);
    let m = manager(server.port, "t:", &clock, 4);
    let a = run(m.create(Some("ann"), None)).unwrap();
    let b = run(m.create(Some("ann"), None)).unwrap();
    let mut r = server.client();
    // Redis drops one by itself (its TTL ran out).
    r.cmd(&["DEL", &format!("t:s:{{{}}}", a.id())]);
    assert_eq!(
        run(m.count()).unwrap(),
        2,
        "not yet pruned: nothing was due"
    );
    let ids: Vec<String> = run(m.sessions_of("ann"))
        .unwrap()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(ids, [b.id().to_string()]);
    assert_eq!(r.cmd(&["SCARD", "t:{index}:p:ann"]), RedisReply::Int(1));
    clock.advance(31 * 60 * 1000);
    assert_eq!(
        run(m.sweep()).unwrap(),
        1,
        "b is reaped with its record; a was gone"
    );
    assert_eq!(r.cmd(&["ZCARD", "t:{index}:ids"]), RedisReply::Int(0));
    assert_eq!(r.cmd(&["ZCARD", "t:{index}:due"]), RedisReply::Int(0));
    assert_eq!(r.cmd(&["EXISTS", "t:{index}:p:ann"]), RedisReply::Int(0));
}

#[test]
fn redis_down_is_a_store_error_and_service_resumes_when_it_returns() {
    let server = RedisServer::start();
    let port = server.port;
    let clock = ManualClock::new(1_000_000);
    let m = manager(port, "t:", &clock, 5);
    let mut s = run(m.create(None, None)).unwrap();
    s.set("a", 1).unwrap();
    run(m.commit(&mut s)).unwrap();
    drop(server);
    let e = run(m.open(s.id())).unwrap_err();
    assert_eq!(e.code(), ErrorCode::StoreError);
    s.set("b", 2).unwrap();
    let e = run(m.commit(&mut s)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::StoreError);
    assert_eq!(
        s.get("b"),
        Some(&Value::Int(2)),
        "the session keeps its change"
    );
    assert_eq!(
        run(m.create(None, None)).unwrap_err().code(),
        ErrorCode::StoreError
    );
    // Back (empty: no persistence here), the same manager serves again; the old session
    // is gone with the data, and a new one works, script reloaded.
    let _server = RedisServer::start_on(port);
    assert!(run(m.open(s.id())).unwrap().is_none());
    let mut n = run(m.create(None, None)).unwrap();
    n.increment("n", 1).unwrap();
    run(m.commit(&mut n)).unwrap();
    assert_eq!(
        run(m.open(n.id())).unwrap().unwrap().get("n"),
        Some(&Value::Int(1))
    );
}

/// Answers every batch with one canned reply per command.
struct Canned(RedisReply);

impl CommandPort for Canned {
    async fn call(&mut self, batch: Vec<Command>) -> Result<Vec<RedisReply>, StoreError> {
        Ok(vec![self.0.clone(); batch.len()])
    }
}

#[test]
fn withscores_reads_alike_in_resp2_and_resp3() {
    let text = |s: &str| RedisReply::Text(s.into());
    let resp2 = RedisReply::List(vec![text("AAAAAAAAAAAAAAAAAAAAAA"), text("1700000000000")]);
    let resp3 = RedisReply::List(vec![RedisReply::List(vec![
        text("AAAAAAAAAAAAAAAAAAAAAA"),
        text("1700000000000"),
    ])]);
    let config = RedisConfig::default();
    for reply in [resp2, resp3] {
        let mut port = RedisPort::new(Canned(reply.clone()), &config);
        let got = run_ready(port.call(Request::NextDeadline))
            .unwrap()
            .unwrap();
        assert_eq!(got, Reply::Deadline(Some(1_700_000_000_000)), "{reply:?}");
        let got = run_ready(port.call(Request::LeastRecent)).unwrap().unwrap();
        assert_eq!(
            got,
            Reply::Id(Some("AAAAAAAAAAAAAAAAAAAAAA".into())),
            "{reply:?}"
        );
    }
}
