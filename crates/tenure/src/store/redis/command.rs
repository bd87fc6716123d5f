//! Commands for Redis and its replies, as plain values: what a host's client sends and
//! hands back. The core builds every command; a host only carries them.

use crate::error::StoreError;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;

/// One Redis command: its name and arguments, all text (ids, keys and JSON are UTF-8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command(pub Vec<String>);

impl Command {
    /// The command's name (`"HGETALL"`, `"EVALSHA"`, …).
    pub fn name(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }

    /// Its name and arguments.
    pub fn args(&self) -> &[String] {
        &self.0
    }

    /// Bytes this command puts on the wire in RESP (what a request costs Redis).
    pub fn wire_len(&self) -> usize {
        fn digits(mut n: usize) -> usize {
            let mut d = 1;
            while n >= 10 {
                n /= 10;
                d += 1;
            }
            d
        }
        3 + digits(self.0.len())
            + self
                .0
                .iter()
                .map(|a| 5 + digits(a.len()) + a.len())
                .sum::<usize>()
    }
}

/// What Redis answered to one command (RESP2's shapes; a host converts its client's).
#[derive(Clone, Debug, PartialEq)]
pub enum RedisReply {
    /// A null (bulk or array).
    Nil,
    /// An integer.
    Int(i64),
    /// A bulk string or a status such as `OK`.
    Text(String),
    /// An array.
    List(Vec<RedisReply>),
    /// An error reply, e.g. `NOSCRIPT No matching script` (the command failed, the
    /// connection is fine).
    Error(String),
}

/// Where a Redis-backed operation sends its commands: a batch goes out as one pipeline
/// (one round trip) and comes back as one reply per command, in order. A transport
/// failure (Redis down, a timeout) is an `Err`; an error reply to one command is a
/// [`RedisReply::Error`] in its place.
pub trait CommandPort {
    /// Sends `batch` and returns the replies.
    fn call(
        &mut self,
        batch: Vec<Command>,
    ) -> impl Future<Output = Result<Vec<RedisReply>, StoreError>>;
}
