//! # tenure
//!
//! One session-management core, written once: a `no_std` + `alloc` state machine with
//! idle and absolute expiry enforced on the server, commits that merge concurrent changes
//! instead of losing them, and signed cookies compatible with express-session. The same
//! core runs under JavaScript (wasm-bindgen) and Python (PyO3).
//!
//! ## What a session is
//!
//! A [`Session`] is a map of [`Value`]s (null, bool, i64, f64, string, bytes, list, map)
//! under a random id, with an optional principal (the user it belongs to), flash messages,
//! and two deadlines: an **idle** timeout (30 min by default, renewed by use) and an
//! **absolute** one (12 h by default, from creation, never renewed). It is stored as a
//! [`Record`] (a versioned JSON document, `docs/record-format.md`). A session past either
//! deadline does not exist: the server refuses it, whatever the client sends.
//!
//! ## The manager and its call order
//!
//! A [`SessionManager`] owns a [`Store`], a [`Clock`] and an [`Entropy`] source and does
//! nothing between calls: no thread, no timer, no I/O of its own. The host drives it:
//!
//! 1. per request, [`open`](SessionManager::open) (or [`create`](SessionManager::create)),
//!    change the session, [`commit`](SessionManager::commit) it;
//! 2. after calls, take what happened with [`drain_events`](SessionManager::drain_events);
//! 3. arm a timer at [`next_deadline`](SessionManager::next_deadline) and call
//!    [`sweep`](SessionManager::sweep) when it fires (optional for correctness: expiry is
//!    also enforced on every open and commit).
//!
//! ```
//! use tenure::{SessionManager, MemoryStore, ManualClock, SeededEntropy, Policy, Value};
//!
//! let clock = ManualClock::new(1_000);
//! let mut manager = SessionManager::new(
//!     MemoryStore::new(),
//!     clock.clone(),
//!     SeededEntropy::new(7),
//!     Policy::default(),
//! );
//! let mut session = manager.create(Some("alice"), None).unwrap();
//! session.set("views", 1).unwrap();
//! manager.commit(&mut session).unwrap();
//!
//! let id = session.id().to_owned();
//! let mut again = manager.open(&id).unwrap().unwrap();
//! assert_eq!(again.increment("views", 1).unwrap(), 2);
//!
//! // Thirty idle minutes later the session is gone, on the server.
//! clock.advance(30 * 60 * 1000);
//! assert!(manager.open(&id).unwrap().is_none());
//! ```
//!
//! [`AsyncSessionManager`] (feature `std`) is the same state machine over an awaited store
//! ([`AsyncStore`]); the JS and Python bindings drive it from their event loops.
//!
//! ## Choosing a store
//!
//! - [`MemoryStore`]: one process, indexed (by deadline, principal, recency); the default.
//! - [`FileStore`] (feature `std`): a folder of records, safe across processes on one host.
//! - [`redis`]: Redis or Valkey, sans I/O; the `tenure-redis` crate drives it with redis-rs.
//! - Your own: implement [`Store`] (records, with the atomic contract it documents), or the
//!   simpler [`ByteStore`] (bytes keyed by id) and wrap it in [`EncodedStore`].
//!
//! Every write is conditional (insert-if-absent, compare-and-set on a version), so several
//! managers may share a store without losing updates or resurrecting a destroyed session.
//!
//! ## HTTP
//!
//! [`web`] holds the request lifecycle every web adapter calls (which id a request carries,
//! which `Set-Cookie` and `Vary` headers the response needs), [`web::cookie`] the signed
//! cookies and headers and [`web::bearer`] the bearer tokens. `tenure-axum` is the tower
//! adapter built on it.
//!
//! ## Testing
//!
//! Time and randomness come in from outside, so a test controls both: [`ManualClock`]
//! moves only when told to (clones share one time, so keep one and fast-forward the
//! manager's), and [`SeededEntropy`] makes ids reproducible. No test needs to sleep.
//!
//! ## `no_std`
//!
//! The crate is `#![no_std]` with `alloc`. The default feature `std` adds [`SystemClock`],
//! [`OsEntropy`], [`FileStore`] and [`AsyncSessionManager`]; without it, supply a
//! [`Clock`] and an [`Entropy`] of your platform:
//!
//! ```toml
//! tenure = { version = "0.1", default-features = false }
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// The rooms: the data model and its encodings, storage, HTTP. The state machine (manager,
// session, policy, expiry, events, metrics, operations) sits at the top level. Every module
// is private: the public API is the list below, plus `web` (with `web::cookie`) and `redis`.
mod format;
mod store;
pub mod web;

#[cfg(feature = "std")]
mod async_manager;
mod clock;
mod entropy;
mod error;
mod event;
mod expiry;
mod id;
mod info;
mod manager;
mod metrics;
mod ops;
mod policy;
mod session;
mod stepper;
#[cfg(feature = "std")]
mod turns;

pub use store::redis;

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use async_manager::{
    AsyncByteStore, AsyncEncoded, AsyncSessionManager, AsyncStore, Offloaded, SharedStore,
};
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use clock::SystemClock;
pub use clock::{Clock, ManualClock, Millis};
/// The string type of ids, keys and string values: up to 24 bytes inline, no allocation.
pub use compact_str::CompactString;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use entropy::{BufferedOsEntropy, OsEntropy};
pub use entropy::{Entropy, SeededEntropy};
pub use error::{DecodeError, Error, ErrorCode, StoreError};
pub use event::{Event, EventLog};
pub use format::budget::{Budget, Exceeded};
pub use format::delta::Changes;
pub use format::limits::Limits;
pub use format::record::{stored_version, Flash, Record, FORMAT_VERSION};
pub use format::value::data::DataMap;
pub use format::value::Value;
pub use id::{MAX_ID_BYTES, MIN_ID_BYTES};
pub use info::SessionInfo;
pub use manager::SessionManager;
pub use metrics::Metrics;
pub use policy::{
    OnFull, Policy, PolicyBuilder, DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_ID_BYTES, DEFAULT_TOUCH_INTERVAL,
};
pub use session::Session;
pub use store::encoded::{ByteReply, ByteRequest, ByteStore, Due, EncodedStore};
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use store::file::FileStore;
pub use store::memory::MemoryStore;
pub use store::{Cas, Page, Reply, Request, Store};

/// Internals that the bindings (`tenure-wasm`, `tenure._native`), the adapters
/// (`tenure-axum`, `tenure-redis`), the fuzz targets and the benches share with the core.
///
/// **Not part of the API**: anything here may change or go in any release, without notice.
/// Applications use the items at the crate root and in [`web`] and [`redis`].
#[doc(hidden)]
pub mod __private {
    pub use crate::format::record::public_id;
    pub use crate::id::{generate, is_plausible};
    pub use crate::store::encoded::{BytePort, Encoded, MapByteStore, SyncBytePort};
    pub use crate::store::EitherStore;

    /// The operations, written once over a [`port::Port`].
    pub mod ops {
        pub use crate::ops::*;
    }
    /// Operations held over host event loops.
    pub mod stepper {
        pub use crate::stepper::*;
    }
    /// How operations reach a store.
    pub mod port {
        pub use crate::store::port::*;
    }
    /// The names and layout of the file store's index (shared with Node's FileStore).
    pub mod file_index {
        pub use crate::store::file_index::*;
    }
    /// The change log and its merge.
    pub mod delta {
        pub use crate::format::delta::*;
    }
    /// The option names of a policy, as every language checks them.
    pub mod policy {
        pub use crate::policy::*;
    }
    /// Deadlines.
    pub mod expiry {
        pub use crate::expiry::*;
    }
    /// The session counters.
    pub mod metrics {
        pub use crate::metrics::*;
    }
}
