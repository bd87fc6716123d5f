//! # tenure
//!
//! One session-management core, written once: a `no_std` + `alloc` state machine with
//! idle and absolute expiry enforced on the server, commits that merge concurrent changes
//! instead of losing them, and signed cookies compatible with express-session.
//!
//! Time, randomness and storage come in from outside ([`Clock`], [`Entropy`], [`Store`]),
//! so every behaviour is deterministic under test with [`ManualClock`] and
//! [`SeededEntropy`].
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
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// The rooms: the data model and its encodings, storage, HTTP. The state machine (manager,
// session, policy, expiry, events, metrics, operations) sits at the top level.
pub mod format;
pub mod store;
pub mod web;

#[cfg(feature = "std")]
pub mod async_manager;
pub mod clock;
pub mod entropy;
pub mod error;
pub mod event;
pub mod expiry;
pub mod id;
pub mod manager;
pub mod metrics;
pub mod ops;
pub mod policy;
pub mod session;
pub mod stepper;
#[cfg(feature = "std")]
mod turns;

// The modules' paths before the rooms (kept until the curated API replaces them).
pub use format::value::data;
pub use format::{delta, export, limits, record, value};
#[cfg(feature = "std")]
pub use store::file;
pub use store::{encoded, file_index, memory, port, redis};
pub use web::{bearer, cookie};

#[cfg(feature = "std")]
pub use clock::SystemClock;
pub use clock::{Clock, ManualClock, Millis};
/// The string type of ids, keys and string values: up to 24 bytes inline, no allocation.
pub use compact_str::CompactString;
pub use data::DataMap;
pub use delta::{Delta, Op};
pub use encoded::{
    BytePort, ByteReply, ByteRequest, ByteStore, Encoded, EncodedStore, MapByteStore,
};
#[cfg(feature = "std")]
pub use entropy::{BufferedOsEntropy, OsEntropy};
pub use entropy::{Entropy, SeededEntropy};
pub use error::{DecodeError, Error, ErrorCode, StoreError};
pub use event::{Event, EventLog};
pub use limits::Limits;
pub use manager::SessionManager;
pub use memory::MemoryStore;
pub use metrics::Metrics;
pub use policy::{OnFull, Policy, PolicyBuilder};
pub use port::Port;
pub use record::{Flash, Record};
pub use session::Session;
pub use store::{Cas, EitherStore, Page, Reply, Request, Store};
pub use value::Value;
