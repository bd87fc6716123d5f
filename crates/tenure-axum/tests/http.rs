//! The layer over real HTTP: a server on 127.0.0.1 and a hyper client connection.

mod common;

use axum::routing::{get, post};
use axum::Router;
use common::{get as fetch, serve, Conn};
use http::Method;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tenure::web::cookie::{decode_uri_component, CookieOptions, Secrets};
use tenure::{AsyncSessionManager, AsyncStore, SharedStore};
use tenure::{ManualClock, MemoryStore, OsEntropy, Policy, Reply, Request, StoreError};
use tenure_axum::{Session, SessionError, SessionLayer, Transport, WebConfig};

const NEW: &str = "the-new-secret-the-new-secret-the-new";
const OLD: &str = "the-old-secret-the-old-secret-the-old";
const MINUTE: u64 = 60_000;

/// A memory store that fails every call while `failing` is set.
#[derive(Default)]
struct Flaky {
    inner: SharedStore<MemoryStore>,
    failing: AtomicBool,
}

impl AsyncStore for Flaky {
    async fn call(&self, request: Request) -> Result<Reply, StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::new("the disk is on fire"));
        }
        self.inner.call(request).await
    }
}

type Manager = AsyncSessionManager<Flaky, ManualClock, OsEntropy>;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Profile {
    name: String,
    langs: Vec<String>,
    age: u32,
}

async fn count(s: Session) -> Result<String, SessionError> {
    Ok(s.increment("n", 1)?.to_string())
}

async fn read(s: Session) -> Result<String, SessionError> {
    Ok(s.get::<i64>("n")?.unwrap_or(0).to_string())
}

async fn login(s: Session) -> Result<String, SessionError> {
    s.regenerate(false).await?;
    s.set_principal(Some("ann"))?;
    s.token().await
}

async fn logout(s: Session) -> Result<&'static str, SessionError> {
    s.destroy().await?;
    Ok("bye")
}

async fn nothing() -> &'static str {
    "static"
}

async fn profile(s: Session) -> Result<String, SessionError> {
    let p = Profile {
        name: "Zoë".into(),
        langs: vec!["en".into(), "fr".into()],
        age: 41,
    };
    s.insert("profile", &p)?;
    s.flash("info", "saved")?;
    let back: Profile = s.get("profile")?.expect("just set");
    assert_eq!(back, p);
    // A value of another type is an error naming the key, not a panic.
    let wrong = s.get::<Vec<bool>>("profile").unwrap_err();
    assert!(wrong.to_string().contains("\"profile\""), "{wrong}");
    Ok(serde_json::to_string(&back).unwrap())
}

async fn flashes(s: Session) -> String {
    let f = s.take_flashes();
    format!(
        "{:?}",
        f.iter()
            .map(|f| (&f.category, &f.message))
            .collect::<Vec<_>>()
    )
}

fn app(manager: Arc<Manager>, web: WebConfig) -> Router {
    Router::new()
        .route("/count", get(count))
        .route("/read", get(read))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/nothing", get(nothing))
        .route("/profile", get(profile))
        .route("/flashes", get(flashes))
        .route(
            "/stale",
            get(|s: Session| async move { s.stale_token().to_string() }),
        )
        .layer(SessionLayer::new(manager, web))
}

fn manager(clock: &ManualClock) -> Arc<Manager> {
    Arc::new(AsyncSessionManager::new(
        Flaky::default(),
        clock.clone(),
        OsEntropy,
        Policy::default(),
    ))
}

fn web(secrets: &[&str], transport: Transport) -> WebConfig {
    let cookie = CookieOptions {
        secure: false,
        ..CookieOptions::default()
    };
    WebConfig::new(
        Secrets::new(secrets.iter().copied()).unwrap(),
        cookie,
        transport,
    )
    .unwrap()
}

/// The id inside a `sid=<signed>` cookie, verified with `secrets`.
fn id_in(cookie: &str, secrets: &[&[u8]]) -> Option<String> {
    let raw = cookie.strip_prefix("sid=")?;
    tenure::web::cookie::unsign_id(&decode_uri_component(raw)?, secrets)
}

async fn cookie_server() -> (std::net::SocketAddr, Arc<Manager>, ManualClock) {
    let clock = ManualClock::new(1_700_000_000_000);
    let m = manager(&clock);
    let addr = serve(app(m.clone(), web(&[NEW], Transport::Cookie))).await;
    (addr, m, clock)
}

#[tokio::test]
async fn a_cookie_carries_the_session_and_bad_ones_get_a_fresh_one() {
    let (addr, _, clock) = cookie_server().await;
    let first = fetch(addr, "/count", &[]).await;
    assert_eq!((first.status.as_u16(), first.body.as_str()), (200, "1"));
    let cookie = first.cookie().expect("a new session sets a cookie");
    let id = id_in(&cookie, &[NEW.as_bytes()]).expect("signed with the secret");
    let set = first.set_cookie().unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"));

    let second = fetch(addr, "/count", &[("cookie", &cookie)]).await;
    assert_eq!(second.body, "2");
    assert_eq!(second.cookie(), None, "an unchanged cookie is not re-sent");

    // Tampered: one character of the signature changed.
    let mut tampered = cookie.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let r = fetch(addr, "/count", &[("cookie", &tampered)]).await;
    assert_eq!(r.body, "1");
    let fresh = id_in(&r.cookie().unwrap(), &[NEW.as_bytes()]).unwrap();
    assert_ne!(fresh, id);

    // Unknown: well signed, but no such session. Its id is never adopted.
    let unknown_id = "UUUUUUUUUUUUUUUUUUUUUU";
    let unknown = format!(
        "sid={}",
        tenure::web::cookie::encode_uri_component(&tenure::web::cookie::sign(
            unknown_id,
            NEW.as_bytes()
        ))
    );
    let r = fetch(addr, "/count", &[("cookie", &unknown)]).await;
    assert_eq!(r.body, "1");
    let minted = id_in(&r.cookie().unwrap(), &[NEW.as_bytes()]).unwrap();
    assert_ne!(minted, unknown_id);

    // Expired: thirty idle minutes on the manager's clock.
    assert_eq!(fetch(addr, "/read", &[("cookie", &cookie)]).await.body, "2");
    clock.advance(30 * MINUTE);
    let r = fetch(addr, "/count", &[("cookie", &cookie)]).await;
    assert_eq!(r.body, "1", "an expired session starts over");
    assert_ne!(id_in(&r.cookie().unwrap(), &[NEW.as_bytes()]).unwrap(), id);
}

#[tokio::test]
async fn a_rotated_secret_still_verifies_and_the_cookie_is_re_signed() {
    let clock = ManualClock::new(0);
    let m = manager(&clock);
    let before = serve(app(m.clone(), web(&[OLD], Transport::Cookie))).await;
    let after = serve(app(m.clone(), web(&[NEW, OLD], Transport::Cookie))).await;
    let r = fetch(before, "/count", &[]).await;
    let old_cookie = r.cookie().unwrap();
    let id = id_in(&old_cookie, &[OLD.as_bytes()]).unwrap();

    let r = fetch(after, "/count", &[("cookie", &old_cookie)]).await;
    assert_eq!(r.body, "2", "the old secret still verifies");
    let resigned = r.cookie().expect("re-signed with the newest secret");
    assert_eq!(
        id_in(&resigned, &[NEW.as_bytes()]).as_deref(),
        Some(id.as_str())
    );
    assert_eq!(id_in(&resigned, &[OLD.as_bytes()]), None);
    // Under the newest secret nothing more needs sending.
    let r = fetch(after, "/count", &[("cookie", &resigned)]).await;
    assert_eq!((r.body.as_str(), r.cookie()), ("3", None));
    // A server that dropped the old secret no longer accepts the old cookie.
    let only_new = serve(app(m, web(&[NEW], Transport::Cookie))).await;
    assert_eq!(
        fetch(only_new, "/count", &[("cookie", &old_cookie)])
            .await
            .body,
        "1"
    );
}

#[tokio::test]
async fn login_regenerates_and_logout_clears_the_cookie() {
    let (addr, m, _) = cookie_server().await;
    let r = fetch(addr, "/count", &[]).await;
    let anon = r.cookie().unwrap();
    let anon_id = id_in(&anon, &[NEW.as_bytes()]).unwrap();
    let mut c = Conn::open(addr).await;
    let r = c.send(Method::POST, "/login", &[("cookie", &anon)]).await;
    assert_eq!(r.status, 200);
    let logged = r.cookie().expect("a new id after login");
    let new_id = id_in(&logged, &[NEW.as_bytes()]).unwrap();
    assert_ne!(new_id, anon_id, "session fixation: the id changes on login");
    assert!(
        m.peek(&anon_id).await.unwrap().is_none(),
        "the old id is gone"
    );
    let s = m.peek(&new_id).await.unwrap().unwrap();
    assert_eq!(s.principal(), Some("ann"));
    assert_eq!(
        s.get("n"),
        Some(&tenure::Value::Int(1)),
        "data kept across login"
    );

    let r = c
        .send(Method::POST, "/logout", &[("cookie", &logged)])
        .await;
    assert_eq!(r.status, 200);
    let cleared = r.set_cookie().expect("a clearing cookie").to_string();
    assert!(
        cleared.starts_with("sid=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(m.peek(&new_id).await.unwrap().is_none());
    let r = c.send(Method::GET, "/read", &[("cookie", &logged)]).await;
    assert_eq!(r.body, "0");
    // A logout without a cookie has nothing to clear.
    let r = fetch(addr, "/logout", &[]).await;
    assert_eq!(r.status, 405, "GET is not a route");
    let r = Conn::open(addr)
        .await
        .send(Method::POST, "/logout", &[])
        .await;
    assert_eq!((r.status.as_u16(), r.set_cookie()), (200, None));
}

#[tokio::test]
async fn vary_is_sent_when_the_response_depends_on_the_session() {
    let (addr, _, _) = cookie_server().await;
    let r = fetch(addr, "/count", &[]).await;
    assert_eq!(r.vary(), Some("Cookie"));
    let r = fetch(addr, "/read", &[]).await;
    assert_eq!(
        r.vary(),
        Some("Cookie"),
        "a read of an absent session still varies"
    );
    assert_eq!(r.cookie(), None, "nothing written, nothing stored");
    let r = fetch(addr, "/nothing", &[]).await;
    assert_eq!(r.vary(), None);
}

#[tokio::test]
async fn fifty_concurrent_increments_to_one_session_all_count() {
    let (addr, m, _) = cookie_server().await;
    let cookie = fetch(addr, "/count", &[]).await.cookie().unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cookie = cookie.clone();
            tokio::spawn(async move {
                let r = fetch(addr, "/count", &[("cookie", &cookie)]).await;
                assert_eq!(r.status, 200);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        fetch(addr, "/read", &[("cookie", &cookie)]).await.body,
        "51"
    );
    let id = id_in(&cookie, &[NEW.as_bytes()]).unwrap();
    let s = m.peek(&id).await.unwrap().unwrap();
    assert_eq!(s.get("n"), Some(&tenure::Value::Int(51)));
}

#[tokio::test]
async fn a_store_failure_is_a_500_not_a_panic_nor_a_lie() {
    let (addr, m, _) = cookie_server().await;
    let cookie = fetch(addr, "/count", &[]).await.cookie().unwrap();
    m.store().failing.store(true, Ordering::SeqCst);
    // Opening fails.
    let r = fetch(addr, "/count", &[("cookie", &cookie)]).await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_str()),
        (500, "Internal Server Error")
    );
    assert_eq!(r.cookie(), None);
    // Creating fails (no cookie: the handler runs, the store refuses at the end).
    let r = fetch(addr, "/count", &[]).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.cookie(),
        None,
        "no cookie for a session that was never stored"
    );
    // The server lives on, and nothing was half-written.
    m.store().failing.store(false, Ordering::SeqCst);
    assert_eq!(fetch(addr, "/read", &[("cookie", &cookie)]).await.body, "1");
    assert_eq!(m.count().await.unwrap(), 1);
}

#[tokio::test]
async fn a_full_session_table_is_a_503_and_the_kept_sessions_go_on() {
    let clock = ManualClock::new(1_700_000_000_000);
    let policy = Policy::builder()
        .max_sessions(Some(1))
        .on_full(tenure::OnFull::Reject)
        .build()
        .unwrap();
    let m = Arc::new(AsyncSessionManager::new(
        Flaky::default(),
        clock.clone(),
        OsEntropy,
        policy,
    ));
    let addr = serve(app(m.clone(), web(&[NEW], Transport::Cookie))).await;
    let first = fetch(addr, "/count", &[]).await;
    assert_eq!(first.status, 200);
    let cookie = first.cookie().unwrap();
    let second = fetch(addr, "/count", &[]).await;
    assert_eq!(
        (second.status.as_u16(), second.body.as_str()),
        (503, "Service Unavailable")
    );
    assert_eq!(second.cookie(), None);
    assert_eq!(
        fetch(addr, "/count", &[("cookie", &cookie)]).await.body,
        "2"
    );
}

#[tokio::test]
async fn a_commit_that_fails_after_the_handler_is_a_500() {
    let clock = ManualClock::new(0);
    let m = manager(&clock);
    let flag = m.clone();
    let app = Router::new()
        .route(
            "/count-then-fail",
            get(move |s: Session| {
                let m = flag.clone();
                async move {
                    let n = s.increment("n", 1).unwrap();
                    // The store breaks while the handler runs: the commit after it fails.
                    m.store().failing.store(true, Ordering::SeqCst);
                    n.to_string()
                }
            }),
        )
        .route("/read", get(read))
        .layer(SessionLayer::new(m.clone(), web(&[NEW], Transport::Cookie)));
    let addr = serve(app).await;
    let r = fetch(addr, "/count-then-fail", &[]).await;
    assert_eq!(
        r.status, 500,
        "the handler's 200 is replaced: its change was not stored"
    );
    m.store().failing.store(false, Ordering::SeqCst);
    assert_eq!(m.count().await.unwrap(), 0);
}

#[tokio::test]
async fn bearer_transport_reads_tokens_and_never_sets_cookies() {
    let clock = ManualClock::new(0);
    let m = manager(&clock);
    let addr = serve(app(m.clone(), web(&[NEW, OLD], Transport::Header))).await;
    let mut c = Conn::open(addr).await;
    let r = c.send(Method::POST, "/login", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.set_cookie(), None);
    assert_eq!(r.vary(), Some("Authorization"));
    let token = r.body;
    let auth = format!("Bearer {token}");
    for n in 1..=3 {
        let r = c
            .send(Method::GET, "/count", &[("authorization", &auth)])
            .await;
        assert_eq!(r.body, n.to_string());
        assert_eq!(r.set_cookie(), None);
    }
    // A cookie is not a credential under header transport.
    let id = token.split('.').next().unwrap();
    let cookie = format!(
        "sid={}",
        tenure::web::cookie::encode_uri_component(&tenure::web::cookie::sign(id, NEW.as_bytes()))
    );
    assert_eq!(
        c.send(Method::GET, "/read", &[("cookie", &cookie)])
            .await
            .body,
        "0"
    );
    // A forged token opens nothing; a token signed with the old secret still works.
    let forged = format!("Bearer {id}.AAAA");
    assert_eq!(
        c.send(Method::GET, "/read", &[("authorization", &forged)])
            .await
            .body,
        "0"
    );
    let old = format!(
        "Bearer {}",
        tenure::web::bearer::sign_token(id, OLD.as_bytes())
    );
    assert_eq!(
        c.send(Method::GET, "/read", &[("authorization", &old)])
            .await
            .body,
        "3"
    );
    // Logout by token.
    let r = c
        .send(Method::POST, "/logout", &[("authorization", &auth)])
        .await;
    assert_eq!((r.status.as_u16(), r.set_cookie()), (200, None));
    assert_eq!(m.count().await.unwrap(), 0);
}

#[tokio::test]
async fn both_transports_prefer_the_token_and_set_a_cookie_on_login() {
    let clock = ManualClock::new(0);
    let m = manager(&clock);
    let addr = serve(app(m.clone(), web(&[NEW], Transport::Both))).await;
    let mut c = Conn::open(addr).await;
    let r = c.send(Method::POST, "/login", &[]).await;
    let cookie = r.cookie().expect("cookie transport is on");
    assert_eq!(r.vary(), Some("Cookie, Authorization"));
    let auth = format!("Bearer {}", r.body);
    assert_eq!(
        c.send(Method::GET, "/count", &[("cookie", &cookie)])
            .await
            .body,
        "1"
    );
    assert_eq!(
        c.send(Method::GET, "/count", &[("authorization", &auth)])
            .await
            .body,
        "2"
    );
    // Another session's cookie alongside the token: the token wins.
    let other = fetch(addr, "/count", &[]).await.cookie().unwrap();
    let r = c
        .send(
            Method::GET,
            "/count",
            &[("authorization", &auth), ("cookie", &other)],
        )
        .await;
    assert_eq!(r.body, "3");
}

#[tokio::test]
async fn typed_values_and_flashes_round_trip() {
    let (addr, m, _) = cookie_server().await;
    let r = fetch(addr, "/profile", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, r#"{"name":"Zoë","langs":["en","fr"],"age":41}"#);
    let cookie = r.cookie().unwrap();
    let id = id_in(&cookie, &[NEW.as_bytes()]).unwrap();
    let stored = m.peek(&id).await.unwrap().unwrap();
    let tenure::Value::Map(map) = stored.get("profile").unwrap() else {
        panic!("a struct is stored as a map");
    };
    assert_eq!(map.get("age"), Some(&tenure::Value::Int(41)));
    assert_eq!(map.get("name").and_then(tenure::Value::as_str), Some("Zoë"));
    assert_eq!(map.len(), 3);
    let r = fetch(addr, "/flashes", &[("cookie", &cookie)]).await;
    assert_eq!(r.body, r#"[("info", "saved")]"#);
    let r = fetch(addr, "/flashes", &[("cookie", &cookie)]).await;
    assert_eq!(r.body, "[]", "flashes are taken once");
}

#[tokio::test]
async fn a_handler_without_the_layer_gets_a_clear_500() {
    let app = Router::new().route("/count", get(count));
    let addr = serve(app).await;
    let r = fetch(addr, "/count", &[]).await;
    assert_eq!(r.status, 500);
}

#[tokio::test]
async fn a_session_ended_elsewhere_mid_request_is_not_resurrected() {
    let clock = ManualClock::new(0);
    let m = manager(&clock);
    let other = m.clone();
    let app = Router::new()
        .route("/count", get(count))
        .route(
            "/count-while-logged-out",
            get(move |s: Session| {
                let m = other.clone();
                async move {
                    s.increment("n", 1).unwrap();
                    // "Log out everywhere" from another request, before this one commits.
                    let id = s.id().unwrap();
                    assert!(m.destroy(&id).await.unwrap());
                    "counted"
                }
            }),
        )
        .layer(SessionLayer::new(m.clone(), web(&[NEW], Transport::Cookie)));
    let addr = serve(app).await;
    let cookie = fetch(addr, "/count", &[]).await.cookie().unwrap();
    let r = fetch(addr, "/count-while-logged-out", &[("cookie", &cookie)]).await;
    assert_eq!(r.status, 200);
    let cleared = r.set_cookie().expect("the client forgets the cookie");
    assert!(cleared.starts_with("sid=;"), "{cleared}");
    assert_eq!(
        m.count().await.unwrap(),
        0,
        "the commit did not bring it back"
    );
}

#[tokio::test]
async fn a_file_store_folder_serves_two_layers_like_two_processes() {
    use tenure::FileStore;
    use tenure::{AsyncEncoded, Offloaded};
    let dir = std::env::temp_dir().join(format!(
        "tenure-axum-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let server = || {
        let store = AsyncEncoded::new(
            Offloaded::new(FileStore::new(&dir).unwrap()),
            tenure::Limits::default(),
        );
        let m = Arc::new(AsyncSessionManager::new(
            store,
            tenure::SystemClock,
            OsEntropy,
            Policy::default(),
        ));
        Router::new()
            .route("/count", get(count))
            .route("/read", get(read))
            .layer(SessionLayer::new(m, web(&[NEW], Transport::Cookie)))
    };
    let (a, b) = (serve(server()).await, serve(server()).await);
    let cookie = fetch(a, "/count", &[]).await.cookie().unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let cookie = cookie.clone();
            let addr = if i % 2 == 0 { a } else { b };
            tokio::spawn(async move { fetch(addr, "/count", &[("cookie", &cookie)]).await.status })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(fetch(b, "/read", &[("cookie", &cookie)]).await.body, "21");
    assert_eq!(fetch(a, "/read", &[("cookie", &cookie)]).await.body, "21");
    std::fs::remove_dir_all(&dir).unwrap();
}
