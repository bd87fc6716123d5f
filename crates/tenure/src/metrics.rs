//! Manager counters, modelled on Tomcat's session manager attributes.

use crate::clock::Millis;

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
    /// Events a Rust manager dropped because its [`EventLog`](crate::EventLog) was full
    /// (nobody drained it). Always 0 in JS and Python, which queue no events.
    pub events_dropped: u64,
}

impl Metrics {
    /// The names of the counters every language reports, in [`fields`](Self::fields) order
    /// (snake_case; the JS binding camel-cases them). `events_dropped` is not among them: it
    /// is a Rust manager's alone (JS and Python queue no events).
    pub const NAMES: [&'static str; 9] = [
        "active",
        "peak_active",
        "created_total",
        "expired_total",
        "destroyed_total",
        "rejected_total",
        "evicted_total",
        "max_alive_ms",
        "avg_alive_ms",
    ];

    /// Every counter with its name: the one shape of the metrics every binding hands over.
    ///
    /// ```
    /// let m = tenure::Metrics { active: 2, ..Default::default() };
    /// assert_eq!(m.fields()[0], ("active", 2));
    /// assert_eq!(m.fields().len(), tenure::Metrics::NAMES.len());
    /// ```
    pub fn fields(&self) -> [(&'static str, u64); 9] {
        let v = [
            self.active as u64,
            self.peak_active as u64,
            self.created_total,
            self.expired_total,
            self.destroyed_total,
            self.rejected_total,
            self.evicted_total,
            self.max_alive_ms,
            self.avg_alive_ms,
        ];
        let mut out = [("", 0); 9];
        for (i, (name, value)) in Self::NAMES.iter().zip(v).enumerate() {
            out[i] = (name, value);
        }
        out
    }
}

/// Running totals behind [`Metrics`] (opaque: drivers carry them between managers and
/// operations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub(crate) peak_active: usize,
    pub(crate) created_total: u64,
    pub(crate) expired_total: u64,
    pub(crate) destroyed_total: u64,
    pub(crate) rejected_total: u64,
    pub(crate) evicted_total: u64,
    pub(crate) ended: u64,
    pub(crate) alive_sum: u128,
    pub(crate) max_alive_ms: Millis,
    /// Sessions believed stored, kept by counting creates and ends between reads of the
    /// store's count (so a store that counts by listing a folder is not listed on every
    /// create): an absolute count once `based`, else the change since the operation began.
    pub(crate) estimate: i64,
    /// Whether `estimate` is absolute (a count was read).
    pub(crate) based: bool,
    /// Whether the manager this operation runs for holds an absolute estimate already.
    pub(crate) known: bool,
}

impl Counters {
    /// The counters an operation run elsewhere starts from (to be [`absorb`](Self::absorb)ed
    /// back): all zero, knowing whether this manager has counted its store.
    pub fn for_operation(&self) -> Counters {
        Counters::starting(self.based)
    }

    /// All zero, for an operation of a manager that has (`known`) or has not counted its
    /// store yet: what [`for_operation`](Self::for_operation) gives, for a driver that keeps
    /// that one flag outside its lock.
    pub fn starting(known: bool) -> Counters {
        Counters {
            known,
            ..Counters::default()
        }
    }

    /// Whether an operation's counters (from [`for_operation`](Self::for_operation)) are as
    /// they started: nothing to [`absorb`](Self::absorb), so a shared manager need not take
    /// its lock for them.
    pub fn unchanged(&self) -> bool {
        *self == Counters::starting(self.known)
    }

    /// Adds the counts of an operation run elsewhere (its `peak_active` is a high-water mark).
    pub fn absorb(&mut self, other: &Counters) {
        if other.based {
            self.estimate = other.estimate;
            self.based = true;
        } else {
            self.estimate += other.estimate;
        }
        if self.based {
            self.peak_active = self.peak_active.max(self.estimate.max(0) as usize);
        }
        self.peak_active = self.peak_active.max(other.peak_active);
        self.created_total += other.created_total;
        self.expired_total += other.expired_total;
        self.destroyed_total += other.destroyed_total;
        self.rejected_total += other.rejected_total;
        self.evicted_total += other.evicted_total;
        self.ended += other.ended;
        self.alive_sum += other.alive_sum;
        self.max_alive_ms = self.max_alive_ms.max(other.max_alive_ms);
    }

    /// The store's count was read: `n` sessions.
    pub(crate) fn counted(&mut self, n: usize) {
        self.estimate = n as i64;
        self.based = true;
        self.peak_active = self.peak_active.max(n);
    }

    /// One session more was stored.
    pub(crate) fn added(&mut self) {
        self.estimate += 1;
        if self.based {
            self.peak_active = self.peak_active.max(self.estimate.max(0) as usize);
        }
    }

    /// Whether neither this operation nor its manager has read the store's count yet.
    pub(crate) fn needs_count(&self) -> bool {
        !self.based && !self.known
    }

    /// One session ended, `alive` ms after its creation (`None`: unknown, so it does not
    /// count toward the lifetimes).
    pub(crate) fn ended(&mut self, alive: Option<Millis>) {
        self.estimate -= 1;
        if let Some(alive) = alive {
            self.ended += 1;
            self.alive_sum += u128::from(alive);
            self.max_alive_ms = self.max_alive_ms.max(alive);
        }
    }

    /// The metrics, with `active` sessions in the store now.
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
            events_dropped: 0,
        }
    }
}
