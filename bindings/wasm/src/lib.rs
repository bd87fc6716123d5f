//! `tenure-wasm`: the core for JavaScript (Node and browsers) through wasm-bindgen. It
//! translates values and errors only; every rule lives in the core crate. The npm package's
//! JavaScript layer (`js/`) adds the idioms: option objects, events, stores, middleware.

#![warn(missing_docs)]

mod bearer;
mod clock;
mod cookie;
mod errors;
#[cfg(feature = "file-store")]
mod file_index;
mod host;
mod manager;
mod options;
mod pending;
mod port;
mod record;
#[cfg(feature = "redis")]
mod redis;
mod secrets;
mod session;
mod values;
mod web;
mod web_channel;
