//! Redis (or Valkey) as the store of tenure's [`AsyncSessionManager`], through the
//! [redis-rs](https://docs.rs/redis) async client you already use.
//!
//! This crate only carries commands: the layout, the script and every rule are the core's
//! ([`tenure::redis`]), so a session written here is byte-for-byte the one Node and Python
//! write, and they can share it.
//!
//! ```no_run
//! use tenure::AsyncSessionManager;
//! use tenure::{OsEntropy, Policy, SystemClock};
//! use tenure_redis::RedisStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = redis::Client::open("redis://127.0.0.1/")?;
//! let conn = redis::aio::ConnectionManager::new(client).await?; // reconnects by itself
//! let store = RedisStore::new(conn, "myapp:", Policy::default().limits())?;
//! let sessions = AsyncSessionManager::new(store, SystemClock, OsEntropy, Policy::default());
//! let mut s = sessions.create(Some("ann"), None).await?;
//! s.increment("visits", 1)?;
//! sessions.commit(&mut s).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use redis::aio::ConnectionLike;
use redis::Value;
use tenure::__private::port::Port;
use tenure::redis::{Command, CommandPort, RedisConfig, RedisPort, RedisReply};
use tenure::AsyncStore;
use tenure::{Error, Limits, Millis, Reply, Request, StoreError};

/// A session store in Redis for [`AsyncSessionManager`](tenure::AsyncSessionManager),
/// over any redis-rs async connection that can be cloned cheaply (`ConnectionManager`,
/// which reconnects after Redis restarts, or `MultiplexedConnection`).
#[derive(Clone)]
pub struct RedisStore<C> {
    conn: C,
    config: RedisConfig,
}

impl<C> core::fmt::Debug for RedisStore<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisStore")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<C: ConnectionLike + Clone + Send + Sync> RedisStore<C> {
    /// Sessions under key `prefix` (e.g. `"tenure:"`), decoded within `limits` (the
    /// policy's). A prefix with braces, spaces or control characters is refused.
    pub fn new(conn: C, prefix: &str, limits: &Limits) -> Result<Self, Error> {
        Ok(RedisStore {
            conn,
            config: RedisConfig::new(prefix, *limits)?,
        })
    }

    /// Lets Redis keep a session `grace` ms past its deadline, so a sweep reaches it first
    /// and reports its expiry as an event (tenure never serves it after its deadline).
    pub fn with_grace(mut self, grace: Millis) -> Self {
        self.config = self.config.with_grace(grace);
        self
    }

    /// The layout and limits in use.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }
}

/// One operation's line to Redis: each batch goes out as one pipeline.
struct Pipe<C>(C);

fn reply(v: Value) -> RedisReply {
    match v {
        Value::Nil => RedisReply::Nil,
        Value::Int(i) => RedisReply::Int(i),
        Value::BulkString(b) => RedisReply::Text(String::from_utf8_lossy(&b).into_owned()),
        Value::SimpleString(s) => RedisReply::Text(s),
        Value::Okay => RedisReply::Text("OK".into()),
        Value::Array(items) | Value::Set(items) => {
            RedisReply::List(items.into_iter().map(reply).collect())
        }
        Value::Map(pairs) => RedisReply::List(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [reply(k), reply(v)])
                .collect(),
        ),
        Value::Double(d) => RedisReply::Text(d.to_string()),
        Value::Boolean(b) => RedisReply::Int(i64::from(b)),
        Value::VerbatimString { text, .. } => RedisReply::Text(text),
        Value::ServerError(e) => RedisReply::Error(match e.details() {
            Some(d) => format!("{} {d}", e.code()),
            None => e.code().to_string(),
        }),
        other => RedisReply::Error(format!("unexpected reply {other:?}")),
    }
}

impl<C: ConnectionLike + Send> CommandPort for Pipe<C> {
    async fn call(&mut self, batch: Vec<Command>) -> Result<Vec<RedisReply>, StoreError> {
        let mut pipe = redis::pipe();
        // Error replies come back in their places (NOSCRIPT is the core's to handle).
        pipe.ignore_errors();
        for c in &batch {
            let mut cmd = redis::cmd(c.name());
            for a in &c.args()[1..] {
                cmd.arg(a.as_str());
            }
            pipe.add_command(cmd);
        }
        let values: Vec<Value> = pipe
            .query_async(&mut self.0)
            .await
            .map_err(|e| StoreError::new(format!("redis: {e}")))?;
        Ok(values.into_iter().map(reply).collect())
    }
}

impl<C: ConnectionLike + Clone + Send + Sync> AsyncStore for RedisStore<C> {
    const CHANGES: bool = true;

    /// A count is a ZCARD round trip: not paid on every create.
    fn counts_cheaply(&self) -> bool {
        false
    }

    async fn call(&self, request: Request) -> Result<Reply, StoreError> {
        RedisPort::new(Pipe(self.conn.clone()), &self.config)
            .call(request)
            .await
    }
}
