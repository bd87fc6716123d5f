//! The apps both benchmarks serve: the same three routes (read, increment, new session) on
//! axum with tenure, with tower-sessions' MemoryStore, and with no session layer.

use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tenure::web::cookie::{CookieOptions, Secrets};
use tenure::{AsyncSessionManager, SharedStore};
use tenure::{BufferedOsEntropy, MemoryStore, Policy, SystemClock};
use tenure_axum::{SessionLayer, Transport, WebConfig};

pub fn tenure() -> Router {
    use tenure_axum::Session;
    let manager = Arc::new(AsyncSessionManager::new(
        SharedStore::new(MemoryStore::new()),
        SystemClock,
        BufferedOsEntropy::new(),
        Policy::default(),
    ));
    let cookie = CookieOptions {
        secure: false,
        ..CookieOptions::default()
    };
    let secrets = Secrets::new(["bench-secret-bench-secret-bench-secret"]).unwrap();
    let web = WebConfig::new(secrets, cookie, Transport::Cookie).unwrap();
    Router::new()
        .route(
            "/read",
            get(|s: Session| async move { s.get::<i64>("n").ok().flatten().unwrap_or(0).to_string() }),
        )
        .route(
            "/increment",
            get(|s: Session| async move {
                s.increment("n", 1).map(|n| n.to_string()).map_err(|e| e.to_string())
            }),
        )
        .route(
            "/new",
            get(|s: Session| async move {
                s.insert("n", 0).map_err(|e| e.to_string())?;
                Ok::<_, String>("new")
            }),
        )
        .layer(SessionLayer::new(manager, web))
}

pub fn tower_sessions() -> Router {
    use tower_sessions::{MemoryStore, Session, SessionManagerLayer};
    Router::new()
        .route(
            "/read",
            get(|s: Session| async move {
                s.get::<i64>("n")
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or(0)
                    .to_string()
            }),
        )
        .route(
            "/increment",
            get(|s: Session| async move {
                // tower-sessions has no increment: read, add, write (what its examples do).
                let n = s
                    .get::<i64>("n")
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or(0)
                    + 1;
                s.insert("n", n).await.map_err(|e| e.to_string())?;
                Ok::<_, String>(n.to_string())
            }),
        )
        .route(
            "/new",
            get(|s: Session| async move {
                s.insert("n", 0).await.map_err(|e| e.to_string())?;
                Ok::<_, String>("new")
            }),
        )
        .layer(SessionManagerLayer::new(MemoryStore::default()).with_secure(false))
}

/// The same routes with no session at all: the router's own cost.
#[allow(dead_code)] // only `overhead` subtracts it
pub fn bare() -> Router {
    Router::new()
        .route("/read", get(|| async { "0" }))
        .route("/increment", get(|| async { "1" }))
        .route("/new", get(|| async { "new" }))
}
