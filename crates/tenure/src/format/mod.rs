//! The data model and its encodings: values, a session's data, the stored record, the
//! deltas a commit merges, the export blob and the decoding limits.

pub mod delta;
pub mod export;
pub mod limits;
pub mod record;
pub mod value;
