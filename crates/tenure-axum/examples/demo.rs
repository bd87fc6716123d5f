//! The "35-sessions" sample API (mORMot2 / DMVC) on tenure, axum edition: the Rust twin of
//! js/examples/sessions/server.mjs and python/examples/sessions/server.py (docs/demo.md).
//!
//!     PORT=8080 STORE_DIR=/tmp/sessions TENURE_SECRET=... cargo run -p tenure-axum --example demo
//!     PORT=8080 REDIS_URL=redis://127.0.0.1/ TENURE_SECRET=... cargo run -p tenure-axum --example demo
//!
//! Two users, isolated session data, atomic counters, an admin list of active sessions and
//! a per-session shopping cart.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value as Json_};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tenure::web::cookie::{CookieOptions, Secrets};
use tenure::FileStore;
use tenure::{AsyncEncoded, AsyncSessionManager, AsyncStore, Offloaded, SharedStore};
use tenure::{
    BufferedOsEntropy, ErrorCode, Limits, MemoryStore, Policy, Reply, Request, StoreError,
    SystemClock,
};
use tenure_axum::{Session, SessionError, SessionLayer, Transport, WebConfig};

const USERS: [(&str, &str); 2] = [("user1", "pass1"), ("user2", "pass2")];
/// ListActiveSessions pages: the default and the largest page size.
const LIST_DEFAULT: usize = 100;
const LIST_MAX: usize = 1000;
const PRICES: [(&str, f64); 3] = [("item1", 10.50), ("item2", 25.00), ("item3", 15.75)];
const DEV_SECRET: &str = "tenure-demo-development-secret-change-me!";

/// Memory, a FileStore folder or a Redis shared with other processes (Node, Python, Rust).
enum DemoStore {
    Memory(SharedStore<MemoryStore>),
    Files(AsyncEncoded<Offloaded<FileStore>>),
    Redis(tenure_redis::RedisStore<redis::aio::ConnectionManager>),
}

impl AsyncStore for DemoStore {
    const CHANGES: bool = true;

    async fn call(&self, request: Request) -> Result<Reply, StoreError> {
        match self {
            DemoStore::Memory(s) => s.call(request).await,
            DemoStore::Files(s) => s.call(request).await,
            DemoStore::Redis(s) => s.call(request).await,
        }
    }
}

type Manager = AsyncSessionManager<DemoStore, SystemClock, BufferedOsEntropy>;

/// The sample's cart: one per session, living in this process (sicPerSession).
#[derive(Default)]
struct Cart {
    items: Vec<(String, i64)>,
}

fn price(item: &str) -> Option<f64> {
    PRICES.iter().find(|(i, _)| *i == item).map(|(_, p)| *p)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Cart {
    fn total(&self) -> f64 {
        round2(
            self.items
                .iter()
                .map(|(i, q)| price(i).unwrap_or(0.0) * *q as f64)
                .sum(),
        )
    }
    fn view(&self) -> Json_ {
        let items: Vec<Json_> = self
            .items
            .iter()
            .map(|(i, q)| {
                let p = price(i).unwrap_or(0.0);
                json!({"item_id": i, "quantity": q, "price": p, "subtotal": round2(p * *q as f64)})
            })
            .collect();
        json!({"items": items, "total": self.total(), "item_count": self.items.len()})
    }
}

#[derive(Clone)]
struct App {
    manager: Arc<Manager>,
    carts: Arc<Mutex<HashMap<String, Cart>>>,
}

/// `{"error": message}` with a status.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e.code() {
            Some(ErrorCode::InvalidValue | ErrorCode::LimitExceeded) => {
                ApiError(StatusCode::BAD_REQUEST, e.to_string())
            }
            Some(ErrorCode::SessionGone) => {
                ApiError(StatusCode::UNAUTHORIZED, "the session has ended".into())
            }
            _ => ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl From<tenure::Error> for ApiError {
    fn from(e: tenure::Error) -> Self {
        SessionError::from(e).into()
    }
}

fn err(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError(status, message.into())
}

type Body = Map<String, Json_>;

/// The largest request body read (the same in the three demos); a larger one is a 413.
const BODY_LIMIT: usize = 1024 * 1024;

fn body_of(raw: Result<Bytes, BytesRejection>) -> Result<Body, ApiError> {
    // Over BODY_LIMIT (DefaultBodyLimit) the body is refused unread: 413, in our JSON form.
    let raw = raw.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => err(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {BODY_LIMIT} bytes"),
        ),
        status => err(status, r.body_text()),
    })?;
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body::new());
    }
    match serde_json::from_slice::<Json_>(&raw) {
        Ok(Json_::Object(m)) => Ok(m),
        Ok(_) => Err(err(
            StatusCode::BAD_REQUEST,
            "the JSON body must be an object",
        )),
        Err(_) => Err(err(StatusCode::BAD_REQUEST, "malformed JSON body")),
    }
}

fn string_field<'a>(body: &'a Body, name: &str) -> Result<&'a str, ApiError> {
    match body.get(name) {
        None => Err(err(
            StatusCode::BAD_REQUEST,
            format!("missing field '{name}'"),
        )),
        Some(Json_::String(s)) => Ok(s),
        Some(_) => Err(err(
            StatusCode::BAD_REQUEST,
            format!("field '{name}' must be a string"),
        )),
    }
}

fn positive_int(body: &Body, name: &str) -> Result<i64, ApiError> {
    let bad = || {
        err(
            StatusCode::BAD_REQUEST,
            format!("field '{name}' must be a positive integer"),
        )
    };
    match body.get(name) {
        None => Err(err(
            StatusCode::BAD_REQUEST,
            format!("missing field '{name}'"),
        )),
        Some(Json_::Number(n)) => match n.as_i64() {
            Some(q) if q > 0 => Ok(q),
            _ => Err(bad()),
        },
        Some(_) => Err(bad()),
    }
}

fn current(s: &Session) -> Result<String, ApiError> {
    s.principal().ok_or_else(|| {
        err(
            StatusCode::UNAUTHORIZED,
            "authentication required: log in at /root/Auth",
        )
    })
}

async fn auth(
    State(app): State<App>,
    Query(q): Query<HashMap<String, String>>,
    s: Session,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Json_>, ApiError> {
    let b = body_of(raw)?;
    let user = b.get("UserName").and_then(Json_::as_str);
    let pass = b.get("PassWord").and_then(Json_::as_str);
    let known = USERS.iter().find(|(u, _)| Some(*u) == user);
    let query_ok = q
        .get("UserName")
        .is_none_or(|qu| qu.is_empty() || Some(qu.as_str()) == user);
    let (Some(user), Some((_, p))) = (user, known) else {
        return Err(err(StatusCode::UNAUTHORIZED, "wrong user name or password"));
    };
    if Some(*p) != pass || !query_ok {
        return Err(err(StatusCode::UNAUTHORIZED, "wrong user name or password"));
    }
    let old = s.id();
    // A login as someone else clears the previous user's data, and drops the cart below.
    let switched = s.principal().is_some_and(|p| p != user);
    s.set_principal(Some(user))?;
    s.regenerate(false).await?; // new id on login: the session-fixation defence
    let token = s.token().await?;
    // The cart follows its session to the new id (unless the user changed).
    if let (Some(old), Some(new)) = (old, s.id()) {
        let mut carts = app.carts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cart) = carts.remove(&old).filter(|_| !switched) {
            carts.insert(new, cart);
        }
    }
    Ok(Json(json!({"session": token, "user": user})))
}

async fn logout(State(app): State<App>, s: Session) -> Result<Json<Json_>, ApiError> {
    current(&s)?;
    if let Some(id) = s.id() {
        app.carts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
    s.destroy().await?;
    Ok(Json(json!({"logged_out": true})))
}

async fn call(
    State(app): State<App>,
    Path(call): Path<String>,
    s: Session,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<Json_>, ApiError> {
    let (api, method) = call.split_once('.').unwrap_or((call.as_str(), ""));
    if api != "SessionApi" && api != "CartApi" {
        return Err(err(StatusCode::NOT_FOUND, format!("unknown service {api}")));
    }
    let user = current(&s)?;
    let b = body_of(raw)?;
    let out = if api == "SessionApi" {
        session_api(&app, method, &s, &b, &user).await?
    } else {
        cart_api(&app, method, &s, &b)?
    };
    Ok(Json(out))
}

async fn session_api(
    app: &App,
    method: &str,
    s: &Session,
    b: &Body,
    user: &str,
) -> Result<Json_, ApiError> {
    Ok(match method {
        "SetValue" => {
            let key = string_field(b, "key")?;
            let value = b
                .get("value")
                .ok_or_else(|| err(StatusCode::BAD_REQUEST, "missing field 'value'"))?;
            s.insert(key, value)?;
            json!({"key": key, "value": value})
        }
        "GetValue" => {
            let key = string_field(b, "key")?;
            match s.get::<Json_>(key)? {
                Some(value) => json!({"key": key, "value": value}),
                None => {
                    return Err(err(
                        StatusCode::NOT_FOUND,
                        format!("no value for key '{key}'"),
                    ))
                }
            }
        }
        "ListKeys" => {
            let mut keys = s.keys();
            keys.sort();
            json!({"keys": keys})
        }
        "DeleteValue" => {
            let key = string_field(b, "key")?;
            json!({"key": key, "deleted": s.remove(key)?})
        }
        "ClearSession" => {
            s.clear();
            json!({"cleared": true})
        }
        "SessionInfo" => json!({
            "id": s.public_id(), "user": user, "created": s.created_at(),
            "last_access": s.last_access(), "expires_at": s.expires_at(),
        }),
        "ListActiveSessions" => {
            // One bounded page per call (at most LIST_MAX sessions read), never the store.
            let cursor = match b.get("cursor") {
                None | Some(Json_::Null) => None,
                Some(Json_::String(c)) => Some(c.as_str()),
                Some(_) => {
                    return Err(err(
                        StatusCode::BAD_REQUEST,
                        "field 'cursor' must be a string or null",
                    ))
                }
            };
            let limit = match b.get("limit") {
                None => LIST_DEFAULT,
                Some(v) => v
                    .as_u64()
                    .filter(|n| (1..=LIST_MAX as u64).contains(n))
                    .ok_or_else(|| {
                        err(
                            StatusCode::BAD_REQUEST,
                            format!("field 'limit' must be an integer from 1 to {LIST_MAX}"),
                        )
                    })? as usize,
            };
            let (page, next) = match app.manager.list(cursor, limit).await {
                Ok(p) => p,
                Err(e) if matches!(e.code(), ErrorCode::StoreError) => {
                    return Err(err(StatusCode::BAD_REQUEST, "invalid cursor"))
                }
                Err(e) => return Err(e.into()),
            };
            let sessions: Vec<_> = page
                .iter()
                .filter_map(|r| Some(json!({"user": r.principal.as_deref()?, "id": r.public_id})))
                .collect();
            json!({"count": sessions.len(), "sessions": sessions, "cursor": next})
        }
        "IncrementCounter" => {
            let key = string_field(b, "key")?;
            s.increment(key, 1)?;
            s.save().await?; // merged with concurrent requests: the answer is the stored value
            json!({"key": key, "value": s.get::<i64>(key)?})
        }
        _ => {
            return Err(err(
                StatusCode::NOT_FOUND,
                format!("unknown method SessionApi.{method}"),
            ))
        }
    })
}

fn cart_api(app: &App, method: &str, s: &Session, b: &Body) -> Result<Json_, ApiError> {
    let id = s
        .id()
        .ok_or_else(|| err(StatusCode::UNAUTHORIZED, "the session has ended"))?;
    let mut carts = app.carts.lock().unwrap_or_else(|e| e.into_inner());
    let cart = carts.entry(id).or_default();
    Ok(match method {
        "AddItem" => {
            let item = string_field(b, "itemId")?;
            let qty = positive_int(b, "quantity")?;
            if price(item).is_none() {
                return Err(err(StatusCode::NOT_FOUND, format!("unknown item '{item}'")));
            }
            match cart.items.iter_mut().find(|(i, _)| i == item) {
                Some((_, q)) => *q = q.saturating_add(qty),
                None => cart.items.push((item.to_string(), qty)),
            }
            cart.view()
        }
        "RemoveItem" => {
            let item = string_field(b, "itemId")?;
            let Some(pos) = cart.items.iter().position(|(i, _)| i == item) else {
                return Err(err(
                    StatusCode::NOT_FOUND,
                    format!("item '{item}' is not in the cart"),
                ));
            };
            cart.items.remove(pos);
            cart.view()
        }
        "GetCart" => cart.view(),
        "ClearCart" => {
            cart.items.clear();
            cart.view()
        }
        "GetTotal" => json!({"total": cart.total()}),
        _ => {
            return Err(err(
                StatusCode::NOT_FOUND,
                format!("unknown method CartApi.{method}"),
            ))
        }
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "8080".into())
        .parse()
        .map_err(|e| format!("PORT must be a port number: {e}"))?;
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let secret = std::env::var("TENURE_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let secret = secret.unwrap_or_else(|| {
        eprintln!("warning: TENURE_SECRET is not set; using the development secret");
        DEV_SECRET.into()
    });
    let env = |name| std::env::var(name).ok().filter(|s: &String| !s.is_empty());
    let store = match (env("REDIS_URL"), env("STORE_DIR")) {
        (Some(url), _) => {
            let client =
                redis::Client::open(url.as_str()).map_err(|e| format!("REDIS_URL {url}: {e}"))?;
            let conn = redis::aio::ConnectionManager::new(client)
                .await
                .map_err(|e| format!("REDIS_URL {url}: {e}"))?;
            let prefix = env("REDIS_PREFIX").unwrap_or_else(|| "tenure:".into());
            DemoStore::Redis(tenure_redis::RedisStore::new(
                conn,
                &prefix,
                &Limits::default(),
            )?)
        }
        (None, Some(dir)) => DemoStore::Files(AsyncEncoded::new(
            Offloaded::new(FileStore::new(&dir).map_err(|e| format!("STORE_DIR {dir}: {e}"))?),
            Limits::default(),
        )),
        (None, None) => DemoStore::Memory(SharedStore::new(MemoryStore::new())),
    };
    let manager = Arc::new(AsyncSessionManager::new(
        store,
        SystemClock,
        BufferedOsEntropy::new(),
        Policy::default(),
    ));
    // The demo runs over plain http on 127.0.0.1, as the Node and Python twins do.
    let cookie = CookieOptions {
        secure: false,
        ..CookieOptions::default()
    };
    let web = WebConfig::new(Secrets::new([secret])?, cookie, Transport::Both)?;
    let app = App {
        manager: manager.clone(),
        carts: Arc::default(),
    };

    // Expired sessions leave the store when their deadline passes, not only when touched.
    let sweeper = manager.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            if let Err(e) = sweeper.sweep().await {
                eprintln!("sweep: {e}");
            }
        }
    });

    let router = Router::new()
        .route("/root/Auth", post(auth))
        .route("/root/Logout", post(logout))
        .route("/root/{call}", post(call))
        .with_state(app)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SessionLayer::new(manager, web));
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!("tenure sessions demo (Rust) on http://{host}:{port}/root");
    println!(
        "  curl -X POST \"http://{host}:{port}/root/Auth?UserName=user1\" -H \"Content-Type: application/json\" -d '{{\"UserName\":\"user1\",\"PassWord\":\"pass1\"}}'"
    );
    axum::serve(listener, router).await?;
    Ok(())
}
