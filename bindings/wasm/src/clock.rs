//! `ManualClock`: the core's test clock, shared with a manager.

use crate::errors::js_error;
use wasm_bindgen::prelude::*;
/// A clock that moves only when told to: share it with a manager and fast-forward time.
#[wasm_bindgen]
pub struct ManualClock {
    pub(crate) inner: tenure::ManualClock,
}

#[wasm_bindgen]
impl ManualClock {
    /// A clock standing at `ms` (default 0).
    #[wasm_bindgen(constructor)]
    pub fn new(ms: Option<f64>) -> Result<ManualClock, JsValue> {
        let ms = ms.unwrap_or(0.0);
        if !(ms >= 0.0 && ms.is_finite()) {
            return Err(js_error(
                "INVALID_VALUE",
                "a clock time must be a non-negative number of ms",
            ));
        }
        Ok(ManualClock {
            inner: tenure::ManualClock::new(ms as u64),
        })
    }
    /// Moves time forward by `ms`.
    pub fn advance(&self, ms: f64) -> Result<(), JsValue> {
        if !(ms >= 0.0 && ms.is_finite()) {
            return Err(js_error(
                "INVALID_VALUE",
                "advance takes a non-negative number of ms",
            ));
        }
        self.inner.advance(ms as u64);
        Ok(())
    }
    /// Sets the time.
    pub fn set(&self, ms: f64) -> Result<(), JsValue> {
        if !(ms >= 0.0 && ms.is_finite()) {
            return Err(js_error(
                "INVALID_VALUE",
                "set takes a non-negative number of ms",
            ));
        }
        self.inner.set(ms as u64);
        Ok(())
    }
    /// The current time in ms.
    pub fn now(&self) -> f64 {
        use tenure::Clock;
        self.inner.now() as f64
    }
    /// Another handle on the same time (what a manager keeps).
    pub fn share(&self) -> ManualClock {
        ManualClock {
            inner: self.inner.clone(),
        }
    }
}
