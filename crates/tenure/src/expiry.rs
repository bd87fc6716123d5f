//! When a session dies: the idle and absolute bounds, and nothing else.

use crate::clock::Millis;

/// The deadline `min(accessed + idle, created + absolute)`; either bound may be absent
/// (never). Saturates instead of overflowing.
///
/// ```
/// use tenure::__private::expiry::deadline;
/// assert_eq!(deadline(0, 100, Some(50), Some(1_000)), Some(150));
/// assert_eq!(deadline(0, 100, None, Some(120)), Some(120));
/// assert_eq!(deadline(0, 100, None, None), None);
/// ```
pub fn deadline(
    created: Millis,
    accessed: Millis,
    idle: Option<Millis>,
    absolute: Option<Millis>,
) -> Option<Millis> {
    let idle_end = idle.map(|i| accessed.saturating_add(i));
    let absolute_end = absolute.map(|a| created.saturating_add(a));
    match (idle_end, absolute_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A session is dead *at* its deadline: alive while `now < deadline`.
pub fn is_expired(deadline: Option<Millis>, now: Millis) -> bool {
    deadline.is_some_and(|d| now >= d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_at_the_deadline_is_dead() {
        let d = deadline(0, 0, Some(10), None);
        assert!(!is_expired(d, 9));
        assert!(is_expired(d, 10));
        assert!(is_expired(d, 11));
        assert!(!is_expired(None, u64::MAX));
        assert_eq!(
            deadline(u64::MAX - 1, u64::MAX - 1, Some(10), Some(10)),
            Some(u64::MAX)
        );
    }
}
