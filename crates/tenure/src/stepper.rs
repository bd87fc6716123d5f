//! Driving an operation from a host's event loop, one storage request at a time.
//!
//! A [`Stepper`] holds an operation from [`crate::ops`] running over an [`Encoded`] store
//! whose byte-level requests come out of [`Stepper::resume`] as values. The host performs
//! each [`ByteRequest`] with its own store (awaiting a Promise in JS, a coroutine in Python)
//! and resumes the stepper with the answer, until the operation is [`Step::Done`]. Nothing
//! is borrowed between steps, so any number of operations may be in flight at once.
//!
//! ```
//! use tenure::__private::stepper::{Step, Stepper};
//! use tenure::__private::{ops, MapByteStore};
//! use tenure::{ByteStore, Limits, Policy, SeededEntropy};
//!
//! let mut host = MapByteStore::default(); // stands for a store across an event loop
//! let mut cx = ops::Cx::new(Policy::default(), 1_000, SeededEntropy::new(1));
//! let mut op = Stepper::new(Limits::default(), |mut port| async move {
//!     let s = ops::create(&mut cx, &mut port, Some("ann"), None).await;
//!     (s, cx.into_effects())
//! });
//! let mut reply = None;
//! let (session, effects) = loop {
//!     match op.resume(reply.take()) {
//!         Step::Io(request) => reply = Some(host.execute(request)),
//!         Step::Done(out) => break out,
//!         Step::Spent => unreachable!(),
//!     }
//! };
//! let session = session.unwrap();
//! assert_eq!(session.principal(), Some("ann"));
//! assert!(host.map.contains_key(session.id()));
//! assert_eq!(effects.events().len(), 1);
//! ```

use crate::error::StoreError;
use crate::format::limits::Limits;
use crate::store::encoded::{BytePort, ByteReply, ByteRequest, Encoded};
use crate::store::redis::{Command, CommandPort, RedisConfig, RedisPort, RedisReply};
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

/// Where a request waits for its answer.
#[derive(Debug, Default)]
enum Exchange<Q, A> {
    #[default]
    Empty,
    Asked(Q),
    Answered(Result<A, StoreError>),
}

/// The port of a stepped operation: a request (`Q`, a [`ByteRequest`] or a batch of Redis
/// [`Command`]s) is parked until the host answers it (`A`).
#[derive(Debug)]
pub struct ChannelPort<Q = ByteRequest, A = ByteReply> {
    exchange: Rc<RefCell<Exchange<Q, A>>>,
}

impl<Q, A> ChannelPort<Q, A> {
    fn ask(&mut self, request: Q) -> impl Future<Output = Result<A, StoreError>> {
        *self.exchange.borrow_mut() = Exchange::Asked(request);
        let exchange = self.exchange.clone();
        core::future::poll_fn(move |_| {
            let mut slot = exchange.borrow_mut();
            match core::mem::take(&mut *slot) {
                Exchange::Answered(reply) => Poll::Ready(reply),
                other => {
                    *slot = other;
                    Poll::Pending
                }
            }
        })
    }
}

impl BytePort for ChannelPort {
    fn call(
        &mut self,
        request: ByteRequest,
    ) -> impl Future<Output = Result<ByteReply, StoreError>> {
        self.ask(request)
    }
}

impl CommandPort for ChannelPort<Vec<Command>, Vec<RedisReply>> {
    fn call(
        &mut self,
        batch: Vec<Command>,
    ) -> impl Future<Output = Result<Vec<RedisReply>, StoreError>> {
        self.ask(batch)
    }
}

/// What a stepped operation needs next.
#[derive(Debug)]
pub enum Step<T, Q = ByteRequest> {
    /// Perform this request on the host's store, then `resume` with the answer.
    Io(Q),
    /// The operation is over; this is its outcome.
    Done(T),
    /// The operation was already over (or resumed without the answer it waits for).
    Spent,
}

/// An operation in flight, advanced by the host one storage request at a time: over a
/// byte store by default, or over Redis ([`Stepper::redis`]: each request is a batch of
/// commands to send as one pipeline, answered with their replies).
pub struct Stepper<T, Q = ByteRequest, A = ByteReply> {
    future: Option<Pin<Box<dyn Future<Output = T>>>>,
    exchange: Rc<RefCell<Exchange<Q, A>>>,
}

/// A [`Stepper`] over Redis.
pub type RedisStepper<T> = Stepper<T, Vec<Command>, Vec<RedisReply>>;

/// The port a [`RedisStepper`]'s operation runs on.
pub type RedisChannel = RedisPort<ChannelPort<Vec<Command>, Vec<RedisReply>>, RedisConfig>;

impl<T, Q, A> core::fmt::Debug for Stepper<T, Q, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Stepper")
            .field("done", &self.future.is_none())
            .finish()
    }
}

impl<T> Stepper<T> {
    /// Starts `op` over a store whose records are decoded within `limits` (the op owns
    /// the store adapter it is given); nothing runs until the first [`resume`](Self::resume).
    pub fn new<F>(limits: Limits, op: impl FnOnce(Encoded<ChannelPort>) -> F) -> Self
    where
        F: Future<Output = T> + 'static,
    {
        Stepper::over(|port| op(Encoded::new(port, limits)))
    }
}

impl<T> RedisStepper<T> {
    /// Starts `op` over Redis as `config` lays it out: every request the op makes is
    /// stepped out as the batch of commands that performs it.
    pub fn redis<F>(config: RedisConfig, op: impl FnOnce(RedisChannel) -> F) -> Self
    where
        F: Future<Output = T> + 'static,
    {
        Stepper::over(|port| op(RedisPort::new(port, config)))
    }
}

impl<T, Q: 'static, A: 'static> Stepper<T, Q, A> {
    /// Starts `op` with the raw channel port: for a driver that wraps the port in its own
    /// [`Port`](crate::port::Port) type (the wasm binding runs its synchronous and stepped
    /// operations over one port type, so each operation is compiled once).
    pub fn over<F>(op: impl FnOnce(ChannelPort<Q, A>) -> F) -> Self
    where
        F: Future<Output = T> + 'static,
    {
        let exchange = Rc::new(RefCell::new(Exchange::Empty));
        let port = ChannelPort {
            exchange: exchange.clone(),
        };
        Stepper {
            future: Some(Box::pin(op(port))),
            exchange,
        }
    }

    /// Advances the operation: with the answer to the request it last asked for (`None`
    /// on the first call), until it asks for another or is done.
    pub fn resume(&mut self, reply: Option<Result<A, StoreError>>) -> Step<T, Q> {
        let Some(future) = self.future.as_mut() else {
            return Step::Spent;
        };
        if let Some(reply) = reply {
            *self.exchange.borrow_mut() = Exchange::Answered(reply);
        }
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(out) => {
                self.future = None;
                Step::Done(out)
            }
            Poll::Pending => match core::mem::take(&mut *self.exchange.borrow_mut()) {
                Exchange::Asked(request) => Step::Io(request),
                // Pending without a request: it was resumed without the answer it awaits.
                _ => Step::Spent,
            },
        }
    }

    /// Whether the operation is over.
    pub fn is_done(&self) -> bool {
        self.future.is_none()
    }
}
