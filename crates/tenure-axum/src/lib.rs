//! # tenure-axum
//!
//! Server-side sessions for axum (and any tower service) on tenure's async driver: a
//! [`SessionLayer`] and a [`Session`] extractor with typed values through serde,
//! `increment`, `flash`, `regenerate`, `destroy` and a principal; cookie and
//! `Authorization: Bearer` transport; secret rotation. Every decision about the request
//! (which id to open, whether to re-sign, which `Set-Cookie` and `Vary` to send) is taken by
//! the core's [`tenure::web`] module, the same one every tenure adapter follows.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{routing::get, Router};
//! use tenure::{AsyncSessionManager, SharedStore};
//! use tenure::{BufferedOsEntropy, MemoryStore, Policy, SystemClock};
//! use tenure_axum::{Session, SessionLayer};
//!
//! async fn count(session: Session) -> Result<String, tenure_axum::SessionError> {
//!     let n = session.increment("views", 1)?;
//!     Ok(format!("{n} views"))
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = Arc::new(AsyncSessionManager::new(
//!     SharedStore::new(MemoryStore::new()), SystemClock, BufferedOsEntropy::new(),
//!     Policy::default()));
//! let app = Router::new()
//!     .route("/", get(count))
//!     .layer(SessionLayer::from_secret(manager, "a secret of at least thirty-two bytes")?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! The session is stored after the handler returns and **before** the response's headers
//! go out; a store failure then becomes a `500 Internal Server Error` response (logged to
//! stderr), never a panic and never a response claiming a change that was not stored.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod convert;
mod error;
mod session;

pub use error::SessionError;
pub use session::Session;
/// The core's lifecycle settings (secrets, cookie, transport), re-exported.
pub use tenure::web::{Transport, WebConfig};
/// Sessions in Redis or Valkey (feature `redis`): `redis::RedisStore` over a redis-rs
/// connection, shared with tenure's Node and Python adapters (see the `tenure-redis` crate).
#[cfg(feature = "redis")]
pub use tenure_redis as redis;

use backend::Backend;
use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE, VARY};
use http::{HeaderValue, Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tenure::web::cookie::{CookieOptions, Secrets};
use tenure::{AsyncSessionManager, AsyncStore};
use tenure::{Clock, Entropy};

/// The tower layer that gives every request its [`Session`].
#[derive(Clone)]
pub struct SessionLayer {
    shared: Arc<Shared>,
}

/// What every request of one layer shares, behind one `Arc` (one reference count to move
/// per request, on a cache line that all worker threads touch).
pub(crate) struct Shared {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) web: WebConfig,
}

impl std::fmt::Debug for SessionLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionLayer")
            .field("web", &self.shared.web)
            .finish_non_exhaustive()
    }
}

impl SessionLayer {
    /// Sessions from `manager` (shared: keep your own `Arc` for admin calls such as `list`),
    /// read and written as `web` says.
    pub fn new<S, C, E>(manager: Arc<AsyncSessionManager<S, C, E>>, web: WebConfig) -> Self
    where
        S: AsyncStore + 'static,
        C: Clock + Send + Sync + 'static,
        E: Entropy + Send + 'static,
    {
        SessionLayer {
            shared: Arc::new(Shared {
                backend: manager,
                web,
            }),
        }
    }

    /// Cookie transport with the default cookie (`sid`, `Path=/`, `HttpOnly`, `Secure`,
    /// `SameSite=Lax`) and one secret (at least 32 bytes; `INVALID_POLICY` otherwise).
    pub fn from_secret<S, C, E>(
        manager: Arc<AsyncSessionManager<S, C, E>>,
        secret: impl AsRef<[u8]>,
    ) -> Result<Self, tenure::Error>
    where
        S: AsyncStore + 'static,
        C: Clock + Send + Sync + 'static,
        E: Entropy + Send + 'static,
    {
        let web = WebConfig::new(
            Secrets::new([secret])?,
            CookieOptions::default(),
            Transport::Cookie,
        )?;
        Ok(SessionLayer::new(manager, web))
    }

    /// The lifecycle settings.
    pub fn config(&self) -> &WebConfig {
        &self.shared.web
    }
}

impl<I> tower_layer::Layer<I> for SessionLayer {
    type Service = SessionService<I>;

    fn layer(&self, inner: I) -> Self::Service {
        SessionService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`SessionLayer`] wraps around an inner one.
#[derive(Clone, Debug)]
pub struct SessionService<I> {
    inner: I,
    layer: SessionLayer,
}

/// A response that says only that the server failed; the cause goes to stderr.
fn failure<B: From<String>>(context: &str, e: &dyn std::fmt::Display) -> Response<B> {
    failure_with(StatusCode::INTERNAL_SERVER_ERROR, context, e)
}

/// The failure of a session operation: `503 Service Unavailable` when the session table is
/// full (`max_sessions` with `on_full = reject`: come back later), `500` for the rest.
fn session_failure<B: From<String>>(context: &str, e: &tenure::Error) -> Response<B> {
    let status = match e.code() {
        tenure::ErrorCode::TooManySessions => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    failure_with(status, context, e)
}

fn failure_with<B: From<String>>(
    status: StatusCode,
    context: &str,
    e: &dyn std::fmt::Display,
) -> Response<B> {
    eprintln!("tenure-axum: {context}: {e}");
    let text = status.canonical_reason().unwrap_or("Error").to_string();
    let mut res = Response::new(B::from(text));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

impl<I, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for SessionService<I>
where
    I: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    I::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = I::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was made ready is the one that serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.layer.shared.clone();
        Box::pin(async move {
            let web = &shared.web;
            let headers = req.headers();
            let cookies = headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok());
            let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
            let incoming = web.find(cookies, authorization);
            // An unknown or expired id opens nothing: the request goes on without a session.
            let opened = match incoming.id() {
                Some(id) => match shared.backend.open(id).await {
                    Ok(s) => s,
                    Err(e) => return Ok(session_failure("opening the session", &e)),
                },
                None => None,
            };
            let session = Session::new(shared.clone(), &incoming, opened);
            req.extensions_mut().insert(session.clone());
            let mut res = inner.call(req).await?;
            match session.finish(&incoming).await {
                Ok(add) => {
                    let h = res.headers_mut();
                    if let Some(vary) = add.vary {
                        h.append(VARY, HeaderValue::from_static(vary));
                    }
                    if let Some(cookie) = add.set_cookie {
                        match HeaderValue::try_from(cookie) {
                            Ok(v) => {
                                h.append(SET_COOKIE, v);
                            }
                            Err(e) => return Ok(failure("the Set-Cookie header", &e)),
                        }
                    }
                    Ok(res)
                }
                Err(e) => Ok(session_failure("storing the session", &e)),
            }
        })
    }
}
