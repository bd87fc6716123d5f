//! `ManualClock`: the core's test clock, shared with a manager.

use pyo3::prelude::*;

/// A clock that moves only when told to (milliseconds; the Python layer speaks seconds).
#[pyclass(frozen, module = "tenure._native")]
pub(crate) struct ManualClock {
    pub(crate) inner: tenure::ManualClock,
}

#[pymethods]
impl ManualClock {
    #[new]
    fn new(start_ms: u64) -> Self {
        ManualClock {
            inner: tenure::ManualClock::new(start_ms),
        }
    }
    /// Moves the clock forward by `ms`.
    fn advance_ms(&self, ms: u64) {
        self.inner.advance(ms);
    }
    /// Sets the clock to `ms`.
    fn set_ms(&self, ms: u64) {
        self.inner.set(ms);
    }
    /// The clock's time in ms.
    fn now_ms(&self) -> u64 {
        use tenure::Clock;
        self.inner.now()
    }
}
