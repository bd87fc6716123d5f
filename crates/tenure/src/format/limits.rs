//! Size and depth limits, checked when a value is set and when a record is decoded.

/// Bounds on what one session may hold. Checked at `set` time (so a refused value never
/// reaches the log) and again when untrusted bytes are decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes the session's encoded `data` (plus its flash messages) may take.
    pub max_data_bytes: usize,
    /// The longest top-level key (and principal) in bytes.
    pub max_key_bytes: usize,
    /// The deepest nesting of lists and maps inside one value.
    pub max_depth: usize,
}

/// Room in a record for everything that is not data (id, times, principal, field names).
pub const RECORD_OVERHEAD_BYTES: usize = 4096;

/// The deepest `max_depth` a policy may ask for: serde_json's own recursion guard is 128.
pub const MAX_DEPTH_CEILING: usize = 100;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_data_bytes: 256 * 1024,
            max_key_bytes: 256,
            max_depth: 32,
        }
    }
}

impl Limits {
    /// The largest encoded record accepted by the decoder.
    pub fn max_record_bytes(&self) -> usize {
        self.max_data_bytes
            .saturating_add(self.max_key_bytes)
            .saturating_add(RECORD_OVERHEAD_BYTES)
    }
}
