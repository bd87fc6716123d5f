//! axum + tenure against axum + tower-sessions (its MemoryStore), same machine, same run:
//! requests per second on a read, an increment and a new-session route over 50 kept-alive
//! connections, and increments lost when those 50 connections all bump one session.
//! Printed, not asserted: medians of several rounds, and the ratios.
//!
//!     cargo bench -p tenure-axum --bench compare       (or `make bench`)
//!
//! Environment: TENURE_BENCH_ROUNDS (default 9), TENURE_BENCH_MS per round (default 700),
//! TENURE_BENCH_CONNS (default 50).

mod apps;
#[path = "../tests/common/mod.rs"]
mod common;

use common::{serve, Conn};
use http::Method;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Requests per second over `conns` connections for `ms`, each sending `cookie` (if any).
/// Every answer must be a 200.
async fn rate(
    addr: SocketAddr,
    path: &'static str,
    cookie: Option<String>,
    conns: u64,
    ms: u64,
) -> (f64, u64) {
    let deadline = Instant::now() + Duration::from_millis(ms);
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let cookie = cookie.clone();
            tokio::spawn(async move {
                let mut c = Conn::open(addr).await;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let headers: Vec<(&str, &str)> =
                        cookie.iter().map(|c| ("cookie", c.as_str())).collect();
                    let r = c.send(Method::GET, path, &headers).await;
                    assert_eq!(r.status, 200, "{path}: {}", r.body);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client task");
    }
    (total as f64 / start.elapsed().as_secs_f64(), total)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[derive(Default)]
struct Rates {
    read: Vec<f64>,
    increment: Vec<f64>,
    new: Vec<f64>,
    lost: Vec<u64>,
}

/// One round on one app: read, increment (and what it lost), new session.
async fn round(addr: SocketAddr, ms: u64, conns: u64, into: &mut Rates) {
    let mut c = Conn::open(addr).await;
    // A fresh session per round: its counter starts at 1.
    let first = c.send(Method::GET, "/increment", &[]).await;
    let cookie = first.cookie().expect("a session cookie");
    into.read
        .push(rate(addr, "/read", Some(cookie.clone()), conns, ms).await.0);
    let (r, sent) = rate(addr, "/increment", Some(cookie.clone()), conns, ms).await;
    into.increment.push(r);
    let stored: u64 = c
        .send(Method::GET, "/read", &[("cookie", &cookie)])
        .await
        .body
        .parse()
        .expect("a count");
    into.lost.push((sent + 1).saturating_sub(stored));
    into.new.push(rate(addr, "/new", None, conns, ms).await.0);
}

fn print(name: &str, r: &Rates) {
    println!(
        "{name:<16} read {:>8.0} req/s   increment {:>8.0} req/s   new session {:>8.0} req/s   lost increments per round {:?}",
        median(r.read.clone()),
        median(r.increment.clone()),
        median(r.new.clone()),
        r.lost
    );
}

/// The median of the per-round ratios (rounds alternate, so each ratio compares two
/// measurements taken moments apart) and the ratio of the medians.
fn ratios(t: &[f64], ts: &[f64]) -> String {
    let per_round = median(t.iter().zip(ts).map(|(a, b)| a / b).collect());
    let of_medians = median(t.to_vec()) / median(ts.to_vec());
    format!("{per_round:.2}x (of medians {of_medians:.2}x)")
}

fn main() {
    let rounds = env("TENURE_BENCH_ROUNDS", 9).max(1);
    let ms = env("TENURE_BENCH_MS", 700).max(50);
    let conns = env("TENURE_BENCH_CONNS", 50).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "axum + tenure vs axum + tower-sessions (MemoryStore): {conns} connections, {rounds} rounds of {ms} ms per route, {} worker threads; medians",
        std::thread::available_parallelism().map(usize::from).unwrap_or(1)
    );
    rt.block_on(async {
        let tenure = serve(apps::tenure()).await;
        let tower = serve(apps::tower_sessions()).await;
        let (mut t, mut ts) = (Rates::default(), Rates::default());
        // Rounds alternate between the two (and which goes first), so load from elsewhere
        // on the machine falls on both alike.
        // One unmeasured round each first: connections, allocator and caches warmed alike.
        round(tenure, ms / 4, conns, &mut Rates::default()).await;
        round(tower, ms / 4, conns, &mut Rates::default()).await;
        for i in 0..rounds {
            if i % 2 == 0 {
                round(tenure, ms, conns, &mut t).await;
                round(tower, ms, conns, &mut ts).await;
            } else {
                round(tower, ms, conns, &mut ts).await;
                round(tenure, ms, conns, &mut t).await;
            }
        }
        print("tenure", &t);
        print("tower-sessions", &ts);
        println!(
            "tenure / tower-sessions, median of per-round ratios: read {}   increment {}   new session {}   lost increments: tenure {} vs tower-sessions {} (total over {rounds} rounds)",
            ratios(&t.read, &ts.read),
            ratios(&t.increment, &ts.increment),
            ratios(&t.new, &ts.new),
            t.lost.iter().sum::<u64>(),
            ts.lost.iter().sum::<u64>(),
        );
    });
}
