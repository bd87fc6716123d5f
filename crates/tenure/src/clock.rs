//! Where "now" comes from. The core never reads a clock on its own.

/// Milliseconds since the Unix epoch, the one unit of time in tenure.
pub type Millis = u64;

/// A source of the current time in milliseconds since the Unix epoch.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Millis;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Millis {
        (**self).now()
    }
}

#[cfg(target_has_atomic = "64")]
mod manual {
    use super::Clock;
    use super::Millis;
    use alloc::sync::Arc;
    use core::sync::atomic::{AtomicU64, Ordering};

    /// A clock that only moves when told to. Clones share one time, so a test can keep a
    /// clone and fast-forward the manager's clock without sleeping.
    ///
    /// ```
    /// use tenure::{Clock, ManualClock};
    /// let clock = ManualClock::new(5);
    /// let handle = clock.clone();
    /// handle.advance(10);
    /// assert_eq!(clock.now(), 15);
    /// ```
    #[derive(Clone, Debug, Default)]
    pub struct ManualClock(Arc<AtomicU64>);

    impl ManualClock {
        /// A clock standing at `ms`.
        pub fn new(ms: Millis) -> Self {
            ManualClock(Arc::new(AtomicU64::new(ms)))
        }
        /// Moves time forward by `ms` (saturating).
        pub fn advance(&self, ms: Millis) {
            let _ = self
                .0
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                    Some(t.saturating_add(ms))
                });
        }
        /// Sets the time to `ms` (it may go backwards, to test clock skew).
        pub fn set(&self, ms: Millis) {
            self.0.store(ms, Ordering::SeqCst);
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Millis {
            self.0.load(Ordering::SeqCst)
        }
    }
}

#[cfg(not(target_has_atomic = "64"))]
mod manual {
    use super::Clock;
    use super::Millis;
    use alloc::rc::Rc;
    use core::cell::Cell;

    /// A clock that only moves when told to. Clones share one time. (On targets without
    /// 64-bit atomics it is not `Send`.)
    #[derive(Clone, Debug, Default)]
    pub struct ManualClock(Rc<Cell<Millis>>);

    impl ManualClock {
        /// A clock standing at `ms`.
        pub fn new(ms: Millis) -> Self {
            ManualClock(Rc::new(Cell::new(ms)))
        }
        /// Moves time forward by `ms` (saturating).
        pub fn advance(&self, ms: Millis) {
            self.0.set(self.0.get().saturating_add(ms));
        }
        /// Sets the time to `ms`.
        pub fn set(&self, ms: Millis) {
            self.0.set(ms);
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Millis {
            self.0.get()
        }
    }
}

pub use manual::ManualClock;

/// The operating system's wall clock (feature `std`).
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

#[cfg(feature = "std")]
impl Clock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_and_saturates() {
        let c = ManualClock::new(u64::MAX - 1);
        let d = c.clone();
        d.advance(10);
        assert_eq!(c.now(), u64::MAX);
        c.set(3);
        assert_eq!(d.now(), 3);
    }
}
