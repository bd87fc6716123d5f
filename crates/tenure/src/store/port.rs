//! How operations reach a store: the [`Port`] an operation sends its [`Request`]s through.
//!
//! The manager's operations (open, commit, create, …) are written once, in
//! [`crate::ops`], as `async` code generic over a `Port`. That is what makes them sans-I/O:
//! an operation holds no borrow of the manager while it waits, and the driver decides how a
//! request is answered:
//!
//! - the synchronous [`SessionManager`](crate::SessionManager) answers from a [`Store`] at
//!   once ([`SyncPort`]), so every operation completes in one poll;
//! - the Rust async driver awaits an asynchronous store;
//! - the JS and Python bindings hand each request to their event loop through a
//!   [`Stepper`](crate::stepper::Stepper) and resume the operation with the answer.

use crate::error::StoreError;
use crate::store::{Reply, Request, Store};
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

/// Where an operation sends its storage requests.
pub trait Port {
    /// Whether this port's store writes only what changed, and so wants the
    /// [`Changes`](crate::store::Changes) of every replace (computing them costs a little,
    /// so other stores are not given them).
    const CHANGES: bool = false;

    /// Whether the store's count is cheap (see [`Store::counts_cheaply`]).
    fn counts_cheaply(&self) -> bool {
        true
    }

    /// Answers one request (asynchronously, if the store needs I/O).
    fn call(&mut self, request: Request) -> impl Future<Output = Result<Reply, StoreError>>;
}

/// A [`Port`] over a synchronous [`Store`]: every request is answered at once.
#[derive(Debug)]
pub struct SyncPort<'a, S>(pub &'a mut S);

impl<S: Store> Port for SyncPort<'_, S> {
    fn counts_cheaply(&self) -> bool {
        self.0.counts_cheaply()
    }
    fn call(&mut self, request: Request) -> impl Future<Output = Result<Reply, StoreError>> {
        core::future::ready(self.0.execute(request))
    }
}

/// Runs a future that never waits (one over [`SyncPort`]s): `None` if it did wait, which
/// means it was given a port that is not synchronous.
#[inline(always)]
pub fn run_ready<F: Future>(future: F) -> Option<F::Output> {
    let future = pin!(future);
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// The error of an operation that waited on a port promised to be synchronous.
pub(crate) fn not_ready() -> StoreError {
    StoreError::new("a synchronous store did not answer at once")
}

/// The error of a store that answered a request with the wrong kind of reply.
pub(crate) fn mismatch(request: &'static str) -> StoreError {
    StoreError::new(alloc::format!(
        "the store answered {request} with the wrong kind of reply"
    ))
}
