//! tenure-redis against a real redis-server (started by the test) through redis-rs.

#[path = "../../tenure/tests/support/redis.rs"]
mod redis_support;

use redis::aio::ConnectionManager;
use redis_support::RedisServer;
use std::sync::Arc;
use tenure::redis::RedisReply;
use tenure::AsyncSessionManager;
use tenure::{ErrorCode, ManualClock, Policy, SeededEntropy, Value};
use tenure_redis::RedisStore;

type Mgr = AsyncSessionManager<RedisStore<ConnectionManager>, ManualClock, SeededEntropy>;

async fn manager(port: u16, clock: &ManualClock, seed: u64) -> Mgr {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let conn = ConnectionManager::new(client).await.unwrap();
    let store = RedisStore::new(conn, "tenure:", Policy::default().limits()).unwrap();
    AsyncSessionManager::new(
        store,
        clock.clone(),
        SeededEntropy::new(seed),
        Policy::default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_the_same_bytes_as_the_core_golden_file() {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_700_000_000_000);
    let m = manager(server.port, &clock, 7).await;
    let mut s = m.create(Some("ann"), None).await.unwrap();
    s.set("name", "Ann").unwrap();
    s.set(
        "cart",
        Value::List(vec![Value::Int(1), Value::Float(2.5)].into()),
    )
    .unwrap();
    s.increment("views", 3).unwrap();
    s.flash("info", "welcome").unwrap();
    m.commit(&mut s).await.unwrap();
    let golden: serde_json_lite::Doc = serde_json_lite::read();
    assert_eq!(golden.id, s.id());
    let mut r = server.client();
    let RedisReply::List(items) = r.cmd(&["HGETALL", &format!("tenure:s:{{{}}}", s.id())]) else {
        panic!("no hash")
    };
    let mut got: Vec<(String, String)> = items
        .chunks(2)
        .map(|p| match p {
            [RedisReply::Text(f), RedisReply::Text(v)] => (f.clone(), v.clone()),
            _ => panic!("odd hash"),
        })
        .collect();
    got.sort();
    assert_eq!(got, golden.fields);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_on_several_managers_lose_no_increment() {
    let server = RedisServer::start();
    let clock = ManualClock::new(1_000_000);
    let first = manager(server.port, &clock, 1).await;
    let id = first.create(None, None).await.unwrap().id().to_string();
    let mut tasks = Vec::new();
    for m in 0..3 {
        let m = Arc::new(manager(server.port, &clock, 10 + m).await);
        for _ in 0..100 {
            let (m, id) = (m.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let mut s = m.open(&id).await.unwrap().unwrap();
                s.increment("n", 1).unwrap();
                m.commit(&mut s).await.unwrap();
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = first.open(&id).await.unwrap().unwrap();
    assert_eq!(s.get("n"), Some(&Value::Int(300)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_redis_is_used_again_and_a_down_one_is_a_store_error() {
    let server = RedisServer::start();
    let port = server.port;
    let clock = ManualClock::new(1_000_000);
    let m = manager(port, &clock, 2).await;
    let mut s = m.create(None, None).await.unwrap();
    drop(server);
    s.set("a", 1).unwrap();
    let e = m.commit(&mut s).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::StoreError);
    let _server = RedisServer::start_on(port);
    // The connection manager reconnects; the script is loaded again by the core.
    let mut ok = None;
    for _ in 0..50 {
        match m.create(None, None).await {
            Ok(s) => {
                ok = Some(s);
                break;
            }
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::StoreError);
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    let mut n = ok.expect("service resumed once Redis was back");
    n.increment("n", 2).unwrap();
    m.commit(&mut n).await.unwrap();
    assert_eq!(
        m.open(n.id()).await.unwrap().unwrap().get("n"),
        Some(&Value::Int(2))
    );
}

/// The golden file's two fields, read without a JSON dependency of this crate's own.
mod serde_json_lite {
    pub struct Doc {
        pub id: String,
        pub fields: Vec<(String, String)>,
    }

    pub fn read() -> Doc {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/golden/redis/session.json"
        );
        let v: tenure::Value =
            tenure::Value::from_json(&std::fs::read(path).unwrap(), &tenure::Limits::default())
                .unwrap();
        let tenure::Value::Map(m) = v else {
            panic!("golden is not an object")
        };
        let text = |v: &tenure::Value| v.as_str().unwrap().to_string();
        let id = text(m.get("id").unwrap());
        let tenure::Value::List(fields) = m.get("fields").unwrap() else {
            panic!()
        };
        let fields = fields
            .iter()
            .map(|p| match p {
                tenure::Value::List(p) => (text(&p[0]), text(&p[1])),
                _ => panic!("odd field"),
            })
            .collect();
        Doc { id, fields }
    }
}
