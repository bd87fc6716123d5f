//! The lock discipline: try with the GIL held, release it before blocking.

use pyo3::prelude::*;
use std::sync::{Mutex, MutexGuard};

pub(crate) fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic can't happen while a lock is held (no panicking code runs under it), but a
    // poisoned lock must not take the process down either.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` on the locked value, releasing the GIL first if the lock is contended.
pub(crate) fn with_lock<T: Send, R: Send>(
    py: Python<'_>,
    m: &Mutex<T>,
    f: impl FnOnce(&mut T) -> R + Send,
) -> R {
    match m.try_lock() {
        Ok(mut g) => f(&mut g),
        Err(_) => py.detach(|| f(&mut guard(m))),
    }
}

/// Runs `f` on two locked values (session, then manager), with the same GIL discipline.
pub(crate) fn with_locks<A: Send, B: Send, R: Send>(
    py: Python<'_>,
    a: &Mutex<A>,
    b: &Mutex<B>,
    f: impl FnOnce(&mut A, &mut B) -> R + Send,
) -> R {
    if let Ok(mut ga) = a.try_lock() {
        if let Ok(mut gb) = b.try_lock() {
            return f(&mut ga, &mut gb);
        }
    }
    py.detach(|| {
        let mut ga = guard(a);
        let mut gb = guard(b);
        f(&mut ga, &mut gb)
    })
}
