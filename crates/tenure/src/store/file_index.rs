//! The file store's index, as names: decided here once, for the Rust [`FileStore`] and for
//! Node's (which asks these functions through the wasm), so every process writing one
//! folder lays the index out alike. The protocol that maintains it is in `docs/stores.md`
//! ("The file index").
//!
//! Under `<dir>/.index/`:
//!
//! - `due/<bucket>/<deadline>.<id>`: an empty file per session, in the bucket of its
//!   deadline (the minute, [`BUCKET_MS`]); `due/never/<id>` for a session without one. A
//!   sweep lists only the buckets at or before now, and reads only the entries whose
//!   deadline (in their name) has passed.
//! - `by/<principal hash>/<id>`: an empty file per session of a principal.
//! - `added` and `removed`: one byte appended per session stored and per session removed,
//!   so the count is the difference of two file sizes.
//! - `ready-1`: present once every record of the folder has its entries (a folder written
//!   before the index existed is indexed on first use).
//!
//! Entries are written before the record they index and removed after it, so an entry may
//! name a dead session (readers check the record) but a live session always has its entry.
//!
//! [`FileStore`]: https://docs.rs/tenure/latest/tenure/file/struct.FileStore.html

use crate::clock::Millis;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The index's folder, inside the store's.
pub const DIR: &str = ".index";
/// The width of a deadline bucket: a sweep lists one folder per minute that has deadlines.
pub const BUCKET_MS: Millis = 60_000;
/// The bucket of sessions without a deadline.
pub const NEVER: &str = "never";
/// The folder of deadline buckets.
pub const DUE: &str = "due";
/// The folder of principal sets.
pub const BY: &str = "by";
/// One byte per session stored.
pub const ADDED: &str = "added";
/// One byte per session removed.
pub const REMOVED: &str = "removed";
/// Present once the whole folder is indexed (the `1` is the layout's version).
pub const READY: &str = "ready-1";

/// The index entries of one record, as paths relative to [`DIR`] (`/`-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entries {
    /// `due/<bucket>/<deadline>.<id>` or `due/never/<id>`.
    pub due: String,
    /// `by/<hash>/<id>`, if the session has a principal.
    pub principal: Option<String>,
}

/// The entries of session `id` with this deadline and principal.
pub fn entries(id: &str, deadline: Option<Millis>, principal: Option<&str>) -> Entries {
    Entries {
        due: due_entry(id, deadline),
        principal: principal.map(|p| format!("{}/{id}", principal_set(p))),
    }
}

/// The due entry of session `id` with this deadline.
pub fn due_entry(id: &str, deadline: Option<Millis>) -> String {
    match deadline {
        Some(d) => format!("{DUE}/{}/{d}.{id}", d / BUCKET_MS),
        None => format!("{DUE}/{NEVER}/{id}"),
    }
}

/// The folder holding `principal`'s sessions: `by/` and the first 16 bytes of the SHA-256
/// of the principal in hex (any string makes a safe, bounded file name; a collision only
/// costs a read, since readers check each record's principal).
pub fn principal_set(principal: &str) -> String {
    let hash = Sha256::digest(principal.as_bytes());
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{BY}/{hex}")
}

/// The entries of an encoded record stored under `id`, read from the record's head; `None`
/// if the bytes are not a v1 record (a corrupt record is not indexed).
pub fn entries_of_bytes(id: &str, bytes: &[u8]) -> Option<Entries> {
    #[derive(Deserialize)]
    struct Head {
        v: u64,
        created: Millis,
        accessed: Millis,
        idle: Option<Millis>,
        absolute: Option<Millis>,
        principal: Option<String>,
    }
    let h: Head = serde_json::from_slice(bytes).ok()?;
    if h.v != crate::format::record::FORMAT_VERSION {
        return None;
    }
    // As the record stores them: a zero timeout is the shortest one, 1 ms.
    let (idle, absolute) = (h.idle.map(|t| t.max(1)), h.absolute.map(|t| t.max(1)));
    let deadline = crate::expiry::deadline(h.created, h.accessed, idle, absolute);
    Some(entries(id, deadline, h.principal.as_deref()))
}

/// The names of the buckets (listed from `due/`) that may hold entries due by `through`
/// (`None`: every bucket but `never`), earliest first; other names are ignored.
pub fn due_buckets<'a>(
    names: impl IntoIterator<Item = &'a str>,
    through: Option<Millis>,
) -> Vec<String> {
    let mut buckets: Vec<(Millis, &str)> = names
        .into_iter()
        .filter_map(|n| Some((canonical_number(n)?, n)))
        .filter(|(b, _)| through.is_none_or(|t| *b <= t / BUCKET_MS))
        .collect();
    buckets.sort_unstable();
    buckets.into_iter().map(|(_, n)| n.into()).collect()
}

/// A due entry's name (`<deadline>.<id>`, listed from a bucket) read back, if it is one.
pub fn parse_due(name: &str) -> Option<(Millis, &str)> {
    let (deadline, id) = name.split_once('.')?;
    Some((canonical_number(deadline)?, id)).filter(|(_, id)| crate::id::is_plausible(id))
}

/// The entries of one bucket's listing due by `through` (`None`: all), earliest first.
pub fn due_in<'a>(
    names: impl IntoIterator<Item = &'a str>,
    through: Option<Millis>,
) -> Vec<(Millis, String)> {
    let mut due: Vec<(Millis, String)> = names
        .into_iter()
        .filter_map(parse_due)
        .filter(|(d, _)| through.is_none_or(|t| *d <= t))
        .map(|(d, id)| (d, id.into()))
        .collect();
    due.sort_unstable();
    due
}

/// A decimal number as this module writes them (no sign, no leading zero).
fn canonical_number(s: &str) -> Option<Millis> {
    let ok = !s.is_empty()
        && s.len() <= 20
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, Record};

    const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn entries_follow_the_record() {
        let mut r = Record::new(ID, 120_000, Some(30_000), Some(600_000));
        r.set_principal(Some("ann".into()));
        let e = entries_of_bytes(ID, &r.encode()).unwrap();
        assert_eq!(e.due, format!("due/2/150000.{ID}"));
        assert_eq!(e.principal, Some(format!("{}/{ID}", principal_set("ann"))));
        assert_eq!(principal_set("ann").len(), 3 + 32);
        assert_ne!(principal_set("ann"), principal_set("bob"));
        assert_eq!(
            entries_of_bytes(ID, &r.encode()),
            Some(entries(ID, r.deadline(), r.principal()))
        );
        let forever = Record::new(ID, 0, None, None);
        assert_eq!(
            entries_of_bytes(ID, &forever.encode()).unwrap().due,
            format!("due/never/{ID}")
        );
        assert_eq!(entries_of_bytes(ID, b"{broken"), None);
        assert_eq!(entries_of_bytes(ID, br#"{"v":2}"#), None);
        let _ = Limits::default();
    }

    #[test]
    fn only_buckets_and_entries_due_are_listed() {
        let names = ["3", "never", "1", "10", "01", "x", "2"];
        assert_eq!(due_buckets(names, Some(2 * BUCKET_MS + 5)), ["1", "2"]);
        assert_eq!(due_buckets(names, None), ["1", "2", "3", "10"]);
        let e1 = format!("120001.{ID}");
        let e2 = format!("120000.{}", "B".repeat(22));
        let listing = [
            e1.as_str(),
            e2.as_str(),
            "junk",
            "5.notanid",
            "007.AAAAAAAAAAAAAAAAAAAAAA",
        ];
        assert_eq!(due_in(listing, Some(120_000)), [(120_000, "B".repeat(22))]);
        assert_eq!(due_in(listing, None).len(), 2);
        assert_eq!(parse_due(&e1), Some((120_001, ID)));
    }
}
