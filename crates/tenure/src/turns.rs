//! Turns per session (feature `std`): the asynchronous driver lets one write of a session at
//! a time go to the store, per manager, so that many concurrent requests to one session in
//! one process queue up instead of racing each other's compare-and-set round trips (they
//! would all merge correctly, but under heavy contention one could lose its race often
//! enough to give up). Writers in other processes are still merged by the store contract.

use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;
use core::task::{Poll, Waker};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

#[derive(Debug, Default)]
struct Turn {
    held: bool,
    waiting: Vec<Waker>,
}

/// The turns of every session with a write in flight.
#[derive(Debug, Default)]
pub(crate) struct Turns(Mutex<HashMap<String, Turn>>);

/// A session's turn, given back when dropped (also when the write future is dropped).
pub(crate) struct Held<'a> {
    turns: &'a Turns,
    id: String,
}

impl Turns {
    /// Waits for session `id`'s turn.
    pub(crate) fn take<'a>(&'a self, id: &str) -> impl Future<Output = Held<'a>> + Send + 'a {
        let id = String::from(id);
        core::future::poll_fn(move |cx| {
            let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let turn = map.entry(id.clone()).or_default();
            if turn.held {
                turn.waiting.push(cx.waker().clone());
                return Poll::Pending;
            }
            turn.held = true;
            Poll::Ready(Held {
                turns: self,
                id: id.clone(),
            })
        })
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut map = self.turns.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(turn) = map.remove(&self.id) {
            // Every waiter is woken (one that was dropped meanwhile cannot swallow the
            // wake-up); the first to be polled takes the turn, the others wait again.
            drop(map);
            for w in turn.waiting {
                w.wake();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;
    use core::pin::pin;
    use core::sync::atomic::{AtomicBool, Ordering};
    use core::task::Context;
    use std::task::Wake;

    struct Flag(AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_waiter_dropped_in_line_does_not_keep_the_next_one_waiting() {
        let turns = Turns::default();
        let noop = &mut Context::from_waker(Waker::noop());
        let mut first = pin!(turns.take("s"));
        let Poll::Ready(held) = first.as_mut().poll(noop) else {
            panic!("a free turn is taken at once")
        };
        let mut dropped = alloc::boxed::Box::pin(turns.take("s"));
        assert!(dropped.as_mut().poll(noop).is_pending());
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut next = pin!(turns.take("s"));
        assert!(next
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        // Another session is not held up.
        assert!(pin!(turns.take("other")).poll(noop).is_ready());
        drop(dropped);
        drop(held);
        assert!(flag.0.load(Ordering::SeqCst), "the next waiter was woken");
        assert!(next.as_mut().poll(noop).is_ready());
    }
}
