//! Redis (or Valkey) as a store, sans I/O: the layout, the one Lua script and the
//! translation of the store contract into commands live here; a host's client only sends
//! the [`Command`]s and hands back the [`RedisReply`]s (see `docs/stores.md`, "Redis").
//!
//! - A session is one hash with a field per data key, so a commit sends only the keys it
//!   changed; every write is one script call that checks the version (and that the session
//!   still exists) first, so concurrent requests merge and a destroyed session stays gone.
//! - Redis expires sessions itself (`PEXPIRE` to the deadline, reckoned from the record's
//!   access time, so app clocks and test clocks need not agree with Redis's); the core
//!   still checks every read against its own clock.
//! - Indexes (every id, deadlines, each principal's ids) are separate keys, written before a
//!   session and pruned after it, so they may name a dead session but never miss a live one.
//!
//! Drivers: [`RedisPort`] over any [`CommandPort`] is a [`Port`](crate::store::port::Port), so the
//! async Rust driver, and the JS and Python steppers, run every operation on it.
//!
//! ```
//! use tenure::redis::{Command, CommandPort, RedisConfig, RedisPort, RedisReply};
//! use tenure::{Reply, Request};
//! use tenure::__private::port::{run_ready, Port};
//! use tenure::StoreError;
//!
//! /// Records what would be sent; answers every command with an empty list.
//! struct Recorder(Vec<Command>);
//! impl CommandPort for Recorder {
//!     async fn call(&mut self, batch: Vec<Command>) -> Result<Vec<RedisReply>, StoreError> {
//!         let n = batch.len();
//!         self.0.extend(batch);
//!         Ok(vec![RedisReply::List(vec![]); n])
//!     }
//! }
//! let config = RedisConfig::default();
//! let mut port = RedisPort::new(Recorder(Vec::new()), &config);
//! let reply = run_ready(port.call(Request::Get { id: "AAAAAAAAAAAAAAAAAAAAAA".into() }));
//! assert_eq!(reply.unwrap().unwrap(), Reply::Record(None));
//! ```

pub mod command;
pub mod layout;
mod port;

pub use command::{Command, CommandPort, RedisReply};
pub use layout::Layout;
pub use port::RedisPort;

use crate::clock::Millis;
use crate::error::Error;
use crate::format::limits::Limits;

/// The Lua script every write runs (modes `insert`, `replace`, `touch`, `remove`, `reap`).
pub const SCRIPT: &str = include_str!("script.lua");

/// The SHA-1 of [`SCRIPT`], as `EVALSHA` names it.
pub const SCRIPT_SHA1: &str = "0bbd73e060f342200f0e72204ac66b9876b96cbb";

/// How a deployment uses Redis: key prefix, decoding limits, expiry grace.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RedisConfig {
    layout: Layout,
    limits: Limits,
    grace: Millis,
}

impl RedisConfig {
    /// Keys under `prefix` (default `"tenure:"`); records decoded within `limits` (the
    /// policy's).
    pub fn new(prefix: &str, limits: Limits) -> Result<Self, Error> {
        Ok(RedisConfig {
            layout: Layout::new(prefix)?,
            limits,
            grace: 0,
        })
    }

    /// Lets Redis keep a session this long past its deadline (default 0), so that a sweep
    /// finds it first and reports its expiry as an event; the core never serves it.
    pub fn with_grace(mut self, grace: Millis) -> Self {
        self.grace = grace;
        self
    }

    /// The key names.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The decoding limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The expiry grace in ms.
    pub fn grace(&self) -> Millis {
        self.grace
    }
}
