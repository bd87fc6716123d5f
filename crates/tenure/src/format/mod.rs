//! The data model and its encodings: values, a session's data, the stored record, the
//! deltas a commit merges, the export blob, the decoding limits and the budget a binding
//! charges while converting a host value.

pub mod budget;
pub mod delta;
pub mod export;
pub mod limits;
pub mod record;
pub mod value;
