//! What happened to sessions, queued for the host to drain (and turn into callbacks).

use alloc::string::String;

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
