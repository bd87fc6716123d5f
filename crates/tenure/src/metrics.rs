//! Manager counters, modelled on Tomcat's session manager attributes.

use crate::Millis;

/// A snapshot of a manager's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Sessions in the store now.
    pub active: usize,
    /// The most sessions seen at once by this manager.
    pub peak_active: usize,
    /// Sessions created.
    pub created_total: u64,
    /// Sessions removed for passing their deadline.
    pub expired_total: u64,
    /// Sessions destroyed on request.
    pub destroyed_total: u64,
    /// Creates refused because the store was full.
    pub rejected_total: u64,
    /// Sessions evicted to make room.
    pub evicted_total: u64,
    /// The longest lifetime of an ended session (ms).
    pub max_alive_ms: Millis,
    /// The mean lifetime of ended sessions (ms).
    pub avg_alive_ms: Millis,
}

/// Running totals behind [`Metrics`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    pub peak_active: usize,
    pub created_total: u64,
    pub expired_total: u64,
    pub destroyed_total: u64,
    pub rejected_total: u64,
    pub evicted_total: u64,
    pub ended: u64,
    pub alive_sum: u128,
    pub max_alive_ms: Millis,
}

impl Counters {
    pub fn ended(&mut self, alive: Millis) {
        self.ended += 1;
        self.alive_sum += u128::from(alive);
        self.max_alive_ms = self.max_alive_ms.max(alive);
    }

    pub fn snapshot(&self, active: usize) -> Metrics {
        Metrics {
            active,
            peak_active: self.peak_active.max(active),
            created_total: self.created_total,
            expired_total: self.expired_total,
            destroyed_total: self.destroyed_total,
            rejected_total: self.rejected_total,
            evicted_total: self.evicted_total,
            max_alive_ms: self.max_alive_ms,
            avg_alive_ms: self
                .alive_sum
                .checked_div(u128::from(self.ended))
                .map_or(0, |v| v as Millis),
        }
    }
}
