//! What a session costs per request inside the server, without sockets: the same axum apps
//! as `compare` (axum + tenure, axum + tower-sessions' MemoryStore, and axum with no session
//! layer), each request handed straight to the router on one thread. The HTTP benchmark's
//! figures include the client, the kernel and hyper, which dwarf the session layer; this one
//! shows the layer's own cost. Printed, not asserted: nanoseconds per request, medians of
//! alternating rounds, and the session layer's cost above the bare router.
//!
//!     cargo bench -p tenure-axum --bench overhead      (or `make bench`)
//!
//! Environment: TENURE_BENCH_ROUNDS (default 7), TENURE_BENCH_REQUESTS per round and route
//! (default 50000). `overhead <app> <route>` runs one app and route only (for profilers).

mod apps;

use axum::body::Body;
use axum::Router;
use http::Request;
use std::time::Instant;
use tower_service::Service;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn request(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path).header("host", "127.0.0.1");
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    r.body(Body::empty()).expect("request")
}

/// The `name=value` of a response's `Set-Cookie`.
fn cookie_of(res: &http::Response<Body>) -> Option<String> {
    res.headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
}

/// A session for `app` with its counter at 1, as the cookie to send.
async fn first_cookie(app: &Router) -> Option<String> {
    let res = app
        .clone()
        .call(request("/increment", None))
        .await
        .expect("infallible");
    cookie_of(&res)
}

/// Nanoseconds per request for `n` requests to `path`.
async fn per_request(app: &Router, path: &str, cookie: Option<&str>, n: u64) -> f64 {
    let mut svc = app.clone();
    let start = Instant::now();
    for _ in 0..n {
        let res = svc.call(request(path, cookie)).await.expect("infallible");
        assert_eq!(res.status(), 200, "{path}");
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

const ROUTES: [&str; 3] = ["/read", "/increment", "/new"];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds = env("TENURE_BENCH_ROUNDS", 7).max(1);
    let n = env("TENURE_BENCH_REQUESTS", 50_000).max(1);
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let named: Vec<(&str, Router)> = vec![
        ("tenure", apps::tenure()),
        ("tower-sessions", apps::tower_sessions()),
        ("no session", apps::bare()),
    ];
    if let [which, route] = &args[..] {
        // One app, one route, for a profiler.
        let (_, app) = named
            .iter()
            .find(|(name, _)| name == which)
            .expect("an app: tenure, tower-sessions or \"no session\"");
        let cookie = first_cookie(app).await;
        let cookie = if route == "/new" { None } else { cookie };
        if std::env::var("SHOW").is_ok() {
            let res = app
                .clone()
                .call(request(route, cookie.as_deref()))
                .await
                .unwrap();
            println!("{:?}", res.headers());
        }
        let ns = per_request(app, route, cookie.as_deref(), n).await;
        println!("{which} {route}: {ns:.0} ns per request");
        return;
    }
    let mut cookies = Vec::new();
    for (_, app) in &named {
        cookies.push(first_cookie(app).await);
    }
    // ns[app][route] over the rounds.
    let mut ns = vec![vec![Vec::new(); ROUTES.len()]; named.len()];
    for round in 0..rounds {
        for (r, route) in ROUTES.iter().enumerate() {
            // Alternate which app goes first, so drift in the machine falls on all alike.
            let mut order: Vec<usize> = (0..named.len()).collect();
            order.rotate_left(round as usize % named.len());
            for a in order {
                let cookie = if *route == "/new" {
                    None
                } else {
                    cookies[a].as_deref()
                };
                ns[a][r].push(per_request(&named[a].1, route, cookie, n).await);
            }
        }
    }
    println!(
        "in-process cost per request (no sockets; one thread; {rounds} rounds of {n} requests per route; medians)"
    );
    println!(
        "{:<16}{:>14}{:>14}{:>14}",
        "", "read ns", "increment ns", "new ns"
    );
    for (a, (name, _)) in named.iter().enumerate() {
        print!("{name:<16}");
        for route in &ns[a] {
            print!("{:>14.0}", median(route.clone()));
        }
        println!();
    }
    // The layer's own cost: each round's time minus the bare router's in the same round.
    print!("{:<16}", "layer cost ratio");
    for (r, bare) in ns[2].iter().enumerate() {
        let over =
            |a: usize| -> Vec<f64> { ns[a][r].iter().zip(bare).map(|(x, b)| x - b).collect() };
        let ratio: Vec<f64> = over(0).iter().zip(over(1)).map(|(t, s)| t / s).collect();
        print!("{:>14}", format!("{:.2}x", median(ratio)));
    }
    println!("   (tenure's layer cost / tower-sessions', per round; below 1 is cheaper)");
}
