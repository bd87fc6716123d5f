//! What happened to sessions, queued for the host to drain (and turn into callbacks).

use alloc::string::String;
use alloc::vec::Vec;

/// A lifecycle event. Drained with [`SessionManager::drain_events`](crate::SessionManager::drain_events).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A session was created.
    Created {
        /// Its id.
        id: String,
    },
    /// A session passed its deadline and was removed (on open, commit or sweep).
    Expired {
        /// Its id.
        id: String,
    },
    /// A session was destroyed on request.
    Destroyed {
        /// Its id.
        id: String,
    },
    /// A session moved to a new id.
    Regenerated {
        /// The old id (now gone).
        old: String,
        /// The new id.
        new: String,
        /// Whether its data was cleared.
        cleared: bool,
    },
    /// A session was evicted to make room (`OnFull::EvictLru`).
    Evicted {
        /// Its id.
        id: String,
    },
    /// A create was refused because the store was full (`OnFull::Reject`).
    Rejected,
}

impl Event {
    /// The event's name as the bindings use it: `"created"`, `"expired"`, …
    pub fn name(&self) -> &'static str {
        match self {
            Event::Created { .. } => "created",
            Event::Expired { .. } => "expired",
            Event::Destroyed { .. } => "destroyed",
            Event::Regenerated { .. } => "regenerated",
            Event::Evicted { .. } => "evicted",
            Event::Rejected => "rejected",
        }
    }

    /// The session id the event is about (the old id for `Regenerated`).
    pub fn id(&self) -> Option<&str> {
        match self {
            Event::Created { id }
            | Event::Expired { id }
            | Event::Destroyed { id }
            | Event::Evicted { id } => Some(id),
            Event::Regenerated { old, .. } => Some(old),
            Event::Rejected => None,
        }
    }

    /// The new id, for `Regenerated`.
    pub fn new_id(&self) -> Option<&str> {
        match self {
            Event::Regenerated { new, .. } => Some(new),
            _ => None,
        }
    }

    /// Whether the data was cleared (`Regenerated` only; `false` otherwise).
    pub fn cleared(&self) -> bool {
        matches!(self, Event::Regenerated { cleared: true, .. })
    }

    /// The event as the bindings hand it over: `(name, id, new_id, cleared)`, the one flat
    /// shape of every event.
    ///
    /// ```
    /// use tenure::Event;
    /// let e = Event::Regenerated { old: "a".into(), new: "b".into(), cleared: true };
    /// assert_eq!(e.parts(), ("regenerated", Some("a"), Some("b"), true));
    /// assert_eq!(Event::Rejected.parts(), ("rejected", None, None, false));
    /// ```
    pub fn parts(&self) -> (&'static str, Option<&str>, Option<&str>, bool) {
        (self.name(), self.id(), self.new_id(), self.cleared())
    }
}

/// The events a Rust manager keeps until the host drains them: at most `capacity`, the
/// oldest dropped (and counted) past that, so an application that never calls
/// `drain_events` holds a bounded queue instead of one event per session ever created.
///
/// Bounded rather than off by default: an application that drains after each call (or
/// after each sweep) keeps every event without configuring anything, and one that never
/// drains pays at most `capacity` events of memory. The JS and Python managers do not
/// use this queue: they hand each event to its listeners as the operation returns.
#[derive(Clone, Debug)]
pub struct EventLog {
    events: alloc::collections::VecDeque<Event>,
    capacity: usize,
    dropped: u64,
}

impl EventLog {
    /// The default capacity: a few hundred kilobytes of events at most.
    pub const DEFAULT_CAPACITY: usize = 4096;

    /// An empty log keeping at most `capacity` events (0: keep none, count every one as
    /// dropped).
    pub fn new(capacity: usize) -> Self {
        EventLog {
            events: alloc::collections::VecDeque::new(),
            capacity,
            dropped: 0,
        }
    }

    /// The most events kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Changes the capacity, dropping the oldest events beyond it.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.trim();
    }

    /// How many events were dropped, in total, because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many events are waiting.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Appends `events` in order, dropping the oldest past the capacity.
    pub fn extend(&mut self, events: impl IntoIterator<Item = Event>) {
        self.events.extend(events);
        self.trim();
    }

    /// Takes every waiting event, oldest first.
    pub fn drain(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    fn trim(&mut self) {
        let over = self.events.len().saturating_sub(self.capacity);
        if over > 0 {
            self.events.drain(..over);
            self.dropped += over as u64;
        }
    }
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::new(Self::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn created(n: usize) -> Event {
        Event::Created { id: format!("{n}") }
    }

    #[test]
    fn the_oldest_events_are_dropped_and_counted() {
        let mut log = EventLog::new(3);
        log.extend((0..5).map(created));
        assert_eq!(log.dropped(), 2);
        assert_eq!(log.drain(), [created(2), created(3), created(4)]);
        assert!(log.is_empty());
        log.extend([created(5)]);
        log.set_capacity(0);
        assert_eq!((log.len(), log.dropped()), (0, 3));
    }
}
