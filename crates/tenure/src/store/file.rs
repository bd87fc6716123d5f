//! `FileStore`: one file per session in a folder (feature `std`), safe for several
//! processes (Rust, Node, Python) sharing one folder.
//!
//! The layout and the lock protocol are specified in `docs/stores.md` ("The file layout");
//! `js/src/file-store.cjs` implements the same protocol, so both can write one folder:
//!
//! - `<dir>/<id>.json` holds the v1 record. A write goes to `<dir>/.<id>.<pid>-<n>.tmp`
//!   (mode 0600, fsynced) and is renamed over the record, so a reader never sees half a
//!   record; `get` and `ids` take no lock.
//! - `insert`, `replace` and `delete` hold `<dir>/<id>.lock` (created `O_CREAT|O_EXCL`, mode
//!   0600) while they read the record, check their condition and rename or unlink. The lock
//!   holds one line, `tenure-lock 1 <pid> <nonce> <unix ms> <pid namespace>`, so that a
//!   waiter can tell a stale lock (dead holder, or older than [`STALE_AFTER`]) from a live one
//!   and break it, and a holder releases only a lock that is still its own.
//!
//! - `<dir>/.index/` indexes the records by deadline and principal and counts them (see
//!   [`crate::file_index`] for its names): entries are written under the session's lock,
//!   before the record, and removed after it, so a sweep, a count, `sessions_of` and
//!   `next_deadline` read only what they need instead of every record. A folder written
//!   before the index existed is indexed on first use.
//!
//! Only names that are plausible session ids are ever turned into paths.

use crate::clock::Millis;
use crate::error::StoreError;
use crate::format::record::stored_version;
use crate::id;
use crate::store::encoded::{ByteStore, Due};
use crate::store::file_index::{self as index, Entries};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A lock older than this is stale whoever holds it: holders hold for milliseconds, so this
/// only matters for a holder that hangs, or a dead one whose pid was reused.
pub const STALE_AFTER: Duration = Duration::from_secs(10);
/// How long a writer waits for a lock by default before failing. Longer than
/// [`STALE_AFTER`], so a waiter outlasts a hung holder and breaks its lock.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(20);
/// A temporary (or broken-lock) file older than this belongs to a writer that crashed;
/// `ids` removes it.
pub const LEFTOVER_AFTER: Duration = Duration::from_secs(60);

/// Per process; with the pid it makes temporary names unique on this host.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A [`ByteStore`] over a folder; wrap it in [`EncodedStore`](crate::EncodedStore).
///
/// ```
/// use tenure::{FileStore, EncodedStore, Limits, ManualClock, OsEntropy, Policy, SessionManager};
/// let dir = std::env::temp_dir().join(format!("tenure-doc-{}", std::process::id()));
/// let store = EncodedStore::new(FileStore::new(&dir).unwrap(), Limits::default());
/// let mut m = SessionManager::new(store, ManualClock::new(0), OsEntropy, Policy::default());
/// let s = m.create(None, None).unwrap();
/// assert!(dir.join(format!("{}.json", s.id())).exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    lock_wait: Duration,
}

impl FileStore {
    /// A store in `dir`, created (mode 0700) if missing.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| io_err("cannot create", &dir, e))?;
        Ok(FileStore {
            dir,
            lock_wait: DEFAULT_LOCK_WAIT,
        })
    }

    /// Waits at most `wait` for a session's lock before a write fails (default 20 s, longer
    /// than the 10 s after which a lock is stale, so a waiter outlasts a hung holder).
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn check(id: &str) -> Result<(), StoreError> {
        if id::is_plausible(id) {
            Ok(())
        } else {
            Err(StoreError::new(format!("{id:?} is not a session id")))
        }
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The path of `id`'s lock file (for tests and tools; see `docs/stores.md`).
    pub fn lock_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.lock"))
    }

    fn unique(&self, id: &str, ext: &str) -> PathBuf {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join(format!(".{id}.{}-{n}.{ext}", std::process::id()))
    }

    /// Runs `f` holding `id`'s lock; `f` returns what to do with the record file. The
    /// index follows: entries of a record written are added before it, and the entries
    /// it no longer has (or a removed record had) are removed after it.
    fn locked<'a>(
        &self,
        id: &str,
        f: impl FnOnce(Option<Vec<u8>>) -> Action<'a>,
    ) -> Result<bool, StoreError> {
        Self::check(id)?;
        let record = self.record_path(id);
        let lock = self.acquire(id)?;
        let result = (|| {
            let current = read_opt(&record).map_err(|e| io_err("cannot read", &record, e))?;
            let old = current
                .as_deref()
                .and_then(|b| index::entries_of_bytes(id, b));
            // A record is counted once its due entry exists (written by this layout).
            let counted = old
                .as_ref()
                .is_some_and(|o| self.index_path(&o.due).exists());
            match f(current) {
                Action::Skip => Ok(false),
                Action::Write(bytes) => {
                    let new = index::entries_of_bytes(id, bytes);
                    // Counted from now on (before the write), or no longer (after it).
                    let (gained, lost) = (!counted && new.is_some(), counted && new.is_none());
                    if let Some(new) = &new {
                        self.add_entries(new, old.as_ref().filter(|_| counted))?;
                    }
                    if gained {
                        self.bump(index::ADDED)?;
                    }
                    let tmp = self
                        .write_tmp(id, bytes)
                        .map_err(|e| io_err("cannot write", &record, e))?;
                    // Commit only while the lock is still ours: a holder stalled past
                    // STALE_AFTER may have lost it, and must not overwrite the new holder.
                    let done = lock.still_ours().and_then(|()| {
                        fs::rename(&tmp, &record).map_err(|e| io_err("cannot write", &record, e))
                    });
                    if done.is_err() {
                        let _ = fs::remove_file(&tmp);
                        if gained {
                            let _ = self.bump(index::REMOVED);
                        }
                        return done.map(|()| true);
                    }
                    if lost {
                        self.bump(index::REMOVED)?;
                    }
                    if let Some(old) = &old {
                        self.remove_entries(old, new.as_ref());
                    }
                    Ok(true)
                }
                Action::Remove => {
                    lock.still_ours()?;
                    match fs::remove_file(&record) {
                        Ok(()) => {
                            if counted {
                                self.bump(index::REMOVED)?;
                            }
                            if let Some(old) = &old {
                                self.remove_entries(old, None);
                            }
                            Ok(true)
                        }
                        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
                        Err(e) => Err(io_err("cannot delete", &record, e)),
                    }
                }
            }
        })();
        lock.release();
        result
    }

    fn index_path(&self, entry: &str) -> PathBuf {
        self.dir.join(index::DIR).join(entry)
    }

    /// Creates the entries of `new` that `old` lacks (empty files, folders made as needed;
    /// a bucket emptied and removed by a sweep meanwhile is made again).
    fn add_entries(&self, new: &Entries, old: Option<&Entries>) -> Result<(), StoreError> {
        let wanted = [Some(&new.due), new.principal.as_ref()];
        for entry in wanted.into_iter().flatten() {
            let known = old.is_some_and(|o| o.due == *entry || o.principal.as_ref() == Some(entry));
            if known {
                continue;
            }
            let path = self.index_path(entry);
            let mut attempt = 0;
            loop {
                match create_new(&path) {
                    Ok(_) => break,
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => break,
                    Err(e) if e.kind() == ErrorKind::NotFound && attempt < 8 => {
                        let parent = path.parent().unwrap_or(&self.dir);
                        make_dir(parent).map_err(|e| io_err("cannot create", parent, e))?;
                    }
                    Err(e) => return Err(io_err("cannot index", &path, e)),
                }
                attempt += 1;
            }
        }
        Ok(())
    }

    /// Removes the entries of `old` that `new` does not keep. Best effort: an entry left
    /// behind names a dead session, which readers skip and sweeps prune.
    fn remove_entries(&self, old: &Entries, new: Option<&Entries>) {
        let held = [Some(&old.due), old.principal.as_ref()];
        for entry in held.into_iter().flatten() {
            let kept = new.is_some_and(|n| n.due == *entry || n.principal.as_ref() == Some(entry));
            if !kept {
                let _ = fs::remove_file(self.index_path(entry));
            }
        }
    }

    /// Appends one byte to the counter file `name`: O_APPEND writes of one byte do not
    /// interleave, so processes count without a lock.
    fn bump(&self, name: &str) -> Result<(), StoreError> {
        let path = self.index_path(name);
        let open = || {
            OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&path)
        };
        let mut file = match open() {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                make_dir(&self.dir.join(index::DIR)).and_then(|()| open())
            }
            other => other,
        }
        .map_err(|e| io_err("cannot count in", &path, e))?;
        file.write_all(b"1")
            .map_err(|e| io_err("cannot count in", &path, e))
    }

    /// Indexes the records of a folder written before the index existed (once: the
    /// [`index::READY`] marker says it is done). Each record is indexed under its lock, so
    /// a writer running meanwhile is neither missed nor counted twice.
    fn ensure_index(&self) -> Result<(), StoreError> {
        let ready = self.index_path(index::READY);
        if ready.exists() {
            return Ok(());
        }
        for id in self.clone().ids()? {
            let record = self.record_path(&id);
            let lock = self.acquire(&id)?;
            let done = (|| -> Result<(), StoreError> {
                let Some(bytes) =
                    read_opt(&record).map_err(|e| io_err("cannot read", &record, e))?
                else {
                    return Ok(());
                };
                let Some(entries) = index::entries_of_bytes(&id, &bytes) else {
                    return Ok(());
                };
                if !self.index_path(&entries.due).exists() {
                    self.add_entries(&entries, None)?;
                    self.bump(index::ADDED)?;
                }
                Ok(())
            })();
            lock.release();
            done?;
        }
        make_dir(&self.dir.join(index::DIR)).map_err(|e| io_err("cannot create", &ready, e))?;
        match create_new(&ready) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(io_err("cannot create", &ready, e)),
        }
    }

    /// The names in the index folder `entry` (none if it does not exist).
    fn list_index(&self, entry: &str) -> Result<Vec<String>, StoreError> {
        let path = self.index_path(entry);
        match fs::read_dir(&path) {
            Ok(entries) => Ok(entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_err("cannot list", &path, e)),
        }
    }

    fn write_tmp(&self, id: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let mut tmp = self.unique(id, "tmp");
        let mut file = match create_new(&tmp) {
            // Left by a crashed process that had our pid: it is not anyone's live file.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                tmp = self.unique(id, "tmp");
                create_new(&tmp)?
            }
            other => other?,
        };
        let written = file.write_all(bytes).and_then(|()| file.sync_data());
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(tmp)
    }

    /// Takes `id`'s lock, breaking a stale one, waiting at most `lock_wait`.
    fn acquire(&self, id: &str) -> Result<Lock, StoreError> {
        let path = self.lock_path(id);
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            // Stamped at each attempt: a line stamped when the wait began would look stale
            // to the other waiters as soon as it is taken after a long wait.
            let identity = LockInfo::mine().line();
            match create_new(&path) {
                Ok(mut file) => {
                    // No fsync: the lock only coordinates live processes; after a power loss
                    // an empty or missing lock file is judged by its age.
                    if let Err(e) = file.write_all(identity.as_bytes()) {
                        let _ = fs::remove_file(&path);
                        return Err(io_err("cannot write lock", &path, e));
                    }
                    return Ok(Lock { path, identity });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("cannot create lock", &path, e)),
            }
            if self.break_if_stale(id, &path) {
                continue;
            }
            if start.elapsed() >= self.lock_wait {
                return Err(StoreError::new(format!(
                    "session {id}: lock {} still held after {} ms (holder: {})",
                    path.display(),
                    self.lock_wait.as_millis(),
                    fs::read_to_string(&path)
                        .map(|s| s.trim().to_string())
                        .unwrap_or_else(|_| "gone".into())
                )));
            }
            std::thread::sleep(backoff(attempt));
            attempt += 1;
        }
    }

    /// Breaks the lock at `path` if it is stale; `true` if the caller should retry at once
    /// (broken, or already gone).
    ///
    /// Renaming first means only one breaker wins; re-judging what was renamed catches the
    /// case where the stale lock was broken and re-taken between our read and our rename,
    /// and then the live lock is put back with `link` (which never overwrites).
    fn break_if_stale(&self, id: &str, path: &Path) -> bool {
        let Some(seen) = read_lock(path) else {
            return true;
        };
        if !seen.is_stale() {
            return false;
        }
        let aside = self.unique(id, "broken");
        if fs::rename(path, &aside).is_err() {
            // Someone else broke or released it first.
            return true;
        }
        let renamed = read_lock(&aside);
        if !renamed.is_some_and(|r| r.content == seen.content && r.is_stale()) {
            // We took a live lock: give it back unless a new holder already exists (that
            // displaced holder then fails its `still_ours` check instead of writing).
            let _ = fs::hard_link(&aside, path);
        }
        let _ = fs::remove_file(&aside);
        true
    }
}

enum Action<'a> {
    Skip,
    Write(&'a [u8]),
    Remove,
}

/// A held lock; released explicitly after the critical section.
struct Lock {
    path: PathBuf,
    identity: String,
}

impl Lock {
    fn still_ours(&self) -> Result<(), StoreError> {
        match fs::read_to_string(&self.path) {
            Ok(s) if s == self.identity => Ok(()),
            _ => Err(StoreError::new(format!(
                "lost the lock {} (held past {} ms and broken by another process); nothing written",
                self.path.display(),
                STALE_AFTER.as_millis()
            ))),
        }
    }

    /// Unlinks the lock only if it is still ours (it may have been broken as stale).
    fn release(self) {
        if self.still_ours().is_ok() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// What a lock file says, with what the file system says about it.
struct LockInfo {
    content: String,
    /// Parsed holder: (pid, unix ms, pid namespace).
    holder: Option<(u32, u64, String)>,
    modified_ms: u64,
}

impl LockInfo {
    fn mine() -> Self {
        let mut nonce = [0u8; 8];
        // A clock-derived nonce still makes collisions unlikely if the OS has no entropy.
        if getrandom::fill(&mut nonce).is_err() {
            nonce = (now_ms() ^ u64::from(std::process::id()).rotate_left(32)).to_le_bytes();
        }
        let hex: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        LockInfo {
            content: format!(
                "tenure-lock 1 {} {hex} {} {}\n",
                std::process::id(),
                now_ms(),
                pid_namespace()
            ),
            holder: None,
            modified_ms: 0,
        }
    }

    fn line(self) -> String {
        self.content
    }

    fn parse(content: &str) -> Option<(u32, u64, String)> {
        let mut parts = content.split_ascii_whitespace();
        if parts.next()? != "tenure-lock" || parts.next()? != "1" {
            return None;
        }
        let pid = parts.next()?.parse().ok()?;
        let _nonce = parts.next()?;
        let at = parts.next()?.parse().ok()?;
        let ns = parts.next()?.to_string();
        Some((pid, at, ns))
    }

    fn is_stale(&self) -> bool {
        let now = now_ms();
        let stale = |at: u64| now.abs_diff(at) > STALE_AFTER.as_millis() as u64;
        match &self.holder {
            // A timestamp far in the future (the clock went back) counts as old too.
            Some((pid, at, ns)) => {
                stale(*at) || (*ns == pid_namespace() && pid_alive(*pid) == Some(false))
            }
            // Empty or partial: the holder is writing it right now, or died doing so.
            None => stale(self.modified_ms),
        }
    }
}

/// The lock file at `path`, or `None` if it is gone.
fn read_lock(path: &Path) -> Option<LockInfo> {
    let mut file = fs::File::open(path).ok()?;
    let modified_ms = file
        .metadata()
        .ok()
        .map(|m| (m.mtime().max(0) as u64) * 1000 + (m.mtime_nsec().max(0) as u64) / 1_000_000)
        .unwrap_or(0);
    let mut content = String::new();
    // Unreadable as text: judged by its age, like an empty one.
    let _ = file.read_to_string(&mut content);
    Some(LockInfo {
        holder: LockInfo::parse(&content),
        content,
        modified_ms,
    })
}

/// Whether process `pid` of our pid namespace is alive: `None` if this host cannot tell
/// (no `/proc`), and then only the age of a lock makes it stale. A zombie counts as dead:
/// it holds nothing, it just has not been reaped.
fn pid_alive(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self/stat").exists() {
        return None;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S ...": comm may hold spaces and parentheses, so look after the last ')'.
        Ok(stat) => Some(!matches!(
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next()),
            Some('Z' | 'X')
        )),
        Err(e) if e.kind() == ErrorKind::NotFound => Some(false),
        Err(_) => None,
    }
}

/// Our pid namespace (`pid:[4026531836]` on Linux), `-` if unknown: a pid from another
/// namespace (another container sharing the folder) says nothing about liveness here.
fn pid_namespace() -> String {
    fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|p| p.to_str().map(|s| s.replace(char::is_whitespace, "")))
        .unwrap_or_else(|| "-".into())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// 0.25 ms doubling to 16 ms, with jitter so waiters do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = 250u64 << attempt.min(6);
    let jitter = u64::from(std::process::id()) ^ now_ms().wrapping_mul(0x9E37_79B9_7F4A_7C15);
    Duration::from_micros(base / 2 + jitter % base)
}

/// A folder (and its parents) with mode 0700; fine if it exists.
fn make_dir(path: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

fn create_new(path: &Path) -> std::io::Result<fs::File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

fn read_opt(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::new(format!("{what} {}: {e}", path.display()))
}

impl ByteStore for FileStore {
    fn get(&mut self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !id::is_plausible(id) {
            return Ok(None);
        }
        let path = self.record_path(id);
        read_opt(&path).map_err(|e| io_err("cannot read", &path, e))
    }

    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        self.locked(id, |current| match current {
            Some(_) => Action::Skip,
            None => Action::Write(bytes),
        })
    }

    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        self.locked(id, |current| {
            if current.as_deref().and_then(stored_version) == Some(expected) {
                Action::Write(bytes)
            } else {
                Action::Skip
            }
        })
    }

    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        if !id::is_plausible(id) {
            return Ok(false);
        }
        self.locked(id, |current| match (current, expected) {
            (None, _) => Action::Skip,
            (Some(_), None) => Action::Remove,
            (Some(b), Some(want)) if stored_version(&b) == Some(want) => Action::Remove,
            (Some(_), Some(_)) => Action::Skip,
        })
    }

    fn ids(&mut self) -> Result<Vec<String>, StoreError> {
        let entries = fs::read_dir(&self.dir).map_err(|e| io_err("cannot list", &self.dir, e))?;
        let mut ids = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".json") {
                if id::is_plausible(id) {
                    ids.push(id.to_string());
                }
            } else if name.starts_with('.') && (name.ends_with(".tmp") || name.ends_with(".broken"))
            {
                remove_if_older(&entry.path(), LEFTOVER_AFTER);
            } else if let Some(id) = name.strip_suffix(".lock") {
                // A crashed holder's lock outlives its session otherwise.
                if id::is_plausible(id) && is_older(&entry.path(), LEFTOVER_AFTER) {
                    self.break_if_stale(id, &entry.path());
                }
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    fn count(&mut self) -> Result<Option<usize>, StoreError> {
        self.ensure_index()?;
        let size = |name: &str| match fs::metadata(self.index_path(name)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_err("cannot read", &self.index_path(name), e)),
        };
        let n = size(index::ADDED)?.saturating_sub(size(index::REMOVED)?);
        Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
    }

    fn due(
        &mut self,
        through: Option<Millis>,
        limit: usize,
    ) -> Result<Option<Vec<Due>>, StoreError> {
        self.ensure_index()?;
        let buckets = self.list_index(index::DUE)?;
        let mut out = Vec::new();
        for bucket in index::due_buckets(buckets.iter().map(String::as_str), through) {
            if out.len() >= limit {
                break;
            }
            let folder = format!("{}/{bucket}", index::DUE);
            let Some(t) = through else {
                // The earliest entries: the whole bucket, sorted.
                let names = self.list_index(&folder)?;
                out.extend(index::due_in(names.iter().map(String::as_str), None));
                continue;
            };
            // A sweep takes any entries due, so a bucket is read only as far as needed
            // (a burst of expiries in one minute is not listed whole per batch).
            let path = self.index_path(&folder);
            let entries = match fs::read_dir(&path) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err("cannot list", &path, e)),
            };
            let mut empty = true;
            for entry in entries.flatten() {
                empty = false;
                let name = entry.file_name();
                let due = name.to_str().and_then(index::parse_due);
                if let Some((d, id)) = due.filter(|(d, _)| *d <= t) {
                    out.push((d, id.into()));
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            if empty {
                // A past bucket emptied by sweeps; a writer that races this makes it again.
                let _ = fs::remove_dir(&path);
            }
        }
        out.truncate(limit);
        Ok(Some(out))
    }

    fn ids_of(&mut self, principal: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.ensure_index()?;
        let mut ids = self.list_index(&index::principal_set(principal))?;
        ids.retain(|id| id::is_plausible(id));
        ids.sort_unstable();
        Ok(Some(ids))
    }

    fn unindex(&mut self, id: &str, deadline: Millis) -> Result<bool, StoreError> {
        if !id::is_plausible(id) {
            return Ok(false);
        }
        let path = self.index_path(&index::due_entry(id, Some(deadline)));
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("cannot unindex", &path, e)),
        }
    }
}

fn is_older(path: &Path, age: Duration) -> bool {
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|e| e > age)
}

/// Opportunistic: another process may remove it first, which is fine.
fn remove_if_older(path: &Path, age: Duration) {
    if is_older(path, age) {
        let _ = fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::AtomicUsize;

    static DIRS: AtomicUsize = AtomicUsize::new(0);

    fn tempdir(tag: &str) -> PathBuf {
        let n = DIRS.fetch_add(1, Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("tenure-file-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    /// Enough of a v1 record for the protocol, which reads only `v` and `version`.
    fn rec(version: u64) -> Vec<u8> {
        format!(r#"{{"v":1,"version":{version},"data":{{}}}}"#).into_bytes()
    }

    const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    fn lock_line(pid: u32, at: u64) -> String {
        format!(
            "tenure-lock 1 {pid} 0123456789abcdef {at} {}\n",
            pid_namespace()
        )
    }

    /// The pid of a process that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn replace_needs_the_stored_version() {
        let dir = tempdir("cas");
        let mut s = FileStore::new(&dir).unwrap();
        assert!(!s.replace(ID, &rec(1), 0).unwrap(), "never creates");
        assert!(s.get(ID).unwrap().is_none());
        assert!(s.insert(ID, &rec(0)).unwrap());
        assert!(
            !s.replace(ID, &rec(2), 1).unwrap(),
            "stale expected version"
        );
        assert_eq!(s.get(ID).unwrap().unwrap(), rec(0));
        assert!(s.replace(ID, &rec(1), 0).unwrap());
        assert_eq!(s.get(ID).unwrap().unwrap(), rec(1));
        // A corrupt record has no version: nothing matches it.
        fs::write(dir.join(format!("{ID}.json")), "{broken").unwrap();
        assert!(!s.replace(ID, &rec(2), 1).unwrap());
        assert!(!s.lock_path(ID).exists(), "the lock is released");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_count_follows_the_records_the_index_knows() {
        let dir = tempdir("count");
        let mut s = FileStore::new(&dir).unwrap();
        let full = |version: u64| {
            let mut r = crate::Record::new(ID, 1_000, Some(60_000), None);
            r.version = version;
            r.encode()
        };
        assert_eq!(s.count().unwrap(), Some(0));
        // Bytes without a record's head are stored but neither indexed nor counted.
        let other = "B".repeat(22);
        assert!(s.insert(&other, &rec(0)).unwrap());
        assert_eq!(s.count().unwrap(), Some(0));
        assert!(s.insert(ID, &full(0)).unwrap());
        assert_eq!(s.count().unwrap(), Some(1));
        assert!(s.replace(ID, &full(1), 0).unwrap());
        assert_eq!(s.count().unwrap(), Some(1), "a replace counts nothing");
        assert!(s.replace(ID, &rec(2), 1).unwrap());
        assert_eq!(
            s.count().unwrap(),
            Some(0),
            "no longer indexed: no longer counted"
        );
        assert!(s.replace(ID, &full(3), 2).unwrap());
        assert_eq!(s.count().unwrap(), Some(1));
        assert!(s.delete(ID, None).unwrap());
        assert!(s.delete(&other, None).unwrap());
        assert_eq!(s.count().unwrap(), Some(0));
        assert_eq!(s.due(None, 10).unwrap(), Some(alloc::vec![]));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn insert_never_overwrites() {
        let dir = tempdir("ins");
        let mut s = FileStore::new(&dir).unwrap();
        assert!(s.insert(ID, &rec(0)).unwrap());
        assert!(!s.insert(ID, &rec(7)).unwrap());
        assert_eq!(s.get(ID).unwrap().unwrap(), rec(0));
        assert!(s.insert("../../etc/passwd", &rec(0)).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn delete_with_and_without_expected() {
        let dir = tempdir("del");
        let mut s = FileStore::new(&dir).unwrap();
        assert!(!s.delete(ID, None).unwrap());
        s.insert(ID, &rec(3)).unwrap();
        assert!(!s.delete(ID, Some(2)).unwrap());
        assert!(s.get(ID).unwrap().is_some());
        assert!(s.delete(ID, Some(3)).unwrap());
        assert!(s.get(ID).unwrap().is_none());
        s.insert(ID, &rec(9)).unwrap();
        assert!(s.delete(ID, None).unwrap());
        assert!(!s.delete(ID, Some(9)).unwrap());
        assert!(!s.delete("not/an/id", None).unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_lock_of_a_dead_process_is_broken() {
        let dir = tempdir("dead");
        let mut s = FileStore::new(&dir).unwrap();
        s.insert(ID, &rec(0)).unwrap();
        fs::write(s.lock_path(ID), lock_line(dead_pid(), now_ms())).unwrap();
        let start = Instant::now();
        assert!(s.replace(ID, &rec(1), 0).unwrap());
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
        assert!(!s.lock_path(ID).exists());
        // No lock, temporary or broken file is left (the index may stay).
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != index::DIR)
            .collect();
        assert_eq!(names, [std::ffi::OsString::from(format!("{ID}.json"))]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_old_lock_is_broken_even_if_its_pid_lives() {
        let dir = tempdir("old");
        let mut s = FileStore::new(&dir).unwrap();
        s.insert(ID, &rec(0)).unwrap();
        let old = now_ms() - STALE_AFTER.as_millis() as u64 - 1000;
        fs::write(s.lock_path(ID), lock_line(std::process::id(), old)).unwrap();
        assert!(s.replace(ID, &rec(1), 0).unwrap());
        // An empty lock (holder died between creating and writing it) is judged by its mtime.
        let f = fs::File::create(s.lock_path(ID)).unwrap();
        f.set_modified(SystemTime::now() - STALE_AFTER - Duration::from_secs(1))
            .unwrap();
        assert!(s.replace(ID, &rec(2), 1).unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_live_lock_makes_a_writer_wait_then_succeed() {
        let dir = tempdir("live");
        let mut s = FileStore::new(&dir).unwrap();
        s.insert(ID, &rec(0)).unwrap();
        let lock = s.lock_path(ID);
        // Held by this (live) process; released by another thread after 300 ms.
        fs::write(&lock, lock_line(std::process::id(), now_ms())).unwrap();
        let releaser = std::thread::spawn({
            let lock = lock.clone();
            move || {
                std::thread::sleep(Duration::from_millis(300));
                fs::remove_file(&lock).unwrap();
            }
        });
        let start = Instant::now();
        assert!(s.replace(ID, &rec(1), 0).unwrap());
        let waited = start.elapsed();
        releaser.join().unwrap();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
        assert_eq!(s.get(ID).unwrap().unwrap(), rec(1));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn waiting_is_bounded_and_the_error_names_the_lock() {
        let dir = tempdir("wait");
        let mut s = FileStore::new(&dir)
            .unwrap()
            .with_lock_wait(Duration::from_millis(200));
        s.insert(ID, &rec(0)).unwrap();
        fs::write(s.lock_path(ID), lock_line(std::process::id(), now_ms())).unwrap();
        let start = Instant::now();
        let err = s.replace(ID, &rec(1), 0).unwrap_err().to_string();
        assert!(start.elapsed() >= Duration::from_millis(200));
        assert!(err.contains(ID), "{err}");
        assert!(
            err.contains(&s.lock_path(ID).display().to_string()),
            "{err}"
        );
        assert_eq!(s.get(ID).unwrap().unwrap(), rec(0), "nothing written");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_holder_that_lost_its_lock_writes_nothing() {
        let dir = tempdir("lost");
        let s = FileStore::new(&dir).unwrap();
        fs::write(s.record_path(ID), rec(0)).unwrap();
        let err = s
            .locked(ID, |_| {
                // Another process broke our lock and took it while we were stalled.
                fs::write(s.lock_path(ID), lock_line(1, now_ms())).unwrap();
                Action::Write(b"{}")
            })
            .unwrap_err()
            .to_string();
        assert!(err.contains("lost the lock"), "{err}");
        assert_eq!(fs::read(s.record_path(ID)).unwrap(), rec(0));
        // The new holder's lock is left alone.
        assert!(fs::read_to_string(s.lock_path(ID))
            .unwrap()
            .starts_with("tenure-lock 1 1 "));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn modes_leftovers_and_foreign_names() {
        let dir = tempdir("modes").join("nested");
        let mut s = FileStore::new(&dir).unwrap();
        s.insert(ID, &rec(0)).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&s.record_path(ID)), 0o600);
        let old = SystemTime::now() - LEFTOVER_AFTER - Duration::from_secs(5);
        let leftover = dir.join(format!(".{ID}.99999-3.tmp"));
        fs::File::create(&leftover)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let fresh = dir.join(format!(".{ID}.99999-4.tmp"));
        fs::File::create(&fresh).unwrap();
        let broken = dir.join(format!(".{ID}.99999-5.broken"));
        fs::File::create(&broken)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let other = "B".repeat(22);
        let old_lock = dir.join(format!("{other}.lock"));
        fs::write(&old_lock, lock_line(dead_pid(), now_ms() - 70_000)).unwrap();
        fs::File::options()
            .write(true)
            .open(&old_lock)
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::write(dir.join("notes.txt"), "hi").unwrap();
        fs::write(dir.join("..json"), "{}").unwrap();
        assert_eq!(s.ids().unwrap(), [ID]);
        assert!(
            !leftover.exists(),
            "a crashed writer's temporary file is removed"
        );
        assert!(fresh.exists(), "a live writer's temporary file is kept");
        assert!(!broken.exists());
        assert!(!old_lock.exists(), "a crashed holder's lock is removed");
        fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
#[cfg(test)]
mod manager_tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::entropy::SeededEntropy;
    use crate::format::limits::Limits;
    use crate::manager::SessionManager;
    use crate::policy::Policy;
    use crate::store::encoded::EncodedStore;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tenure-file-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn sessions_live_in_files_and_corrupt_ones_are_reported() {
        let dir = tempdir("a");
        let store = EncodedStore::new(FileStore::new(&dir).unwrap(), Limits::default());
        let clock = ManualClock::new(0);
        let mut m = SessionManager::new(
            store,
            clock.clone(),
            SeededEntropy::new(2),
            Policy::default(),
        );
        let mut s = m.create(Some("ann"), None).unwrap();
        s.set("k", alloc::vec![1u8, 2]).unwrap();
        m.commit(&mut s).unwrap();
        let path = dir.join(format!("{}.json", s.id()));
        assert_eq!(
            fs::read(&path).unwrap(),
            m.peek(s.id()).unwrap().unwrap().record().encode()
        );
        // Junk and implausible names are ignored; a corrupt record is an error, not a crash.
        fs::write(dir.join("notes.txt"), "hi").unwrap();
        fs::write(dir.join("..json"), "{}").unwrap();
        let bad = "B".repeat(22);
        fs::write(dir.join(format!("{bad}.json")), "{broken").unwrap();
        assert_eq!(
            m.open(&bad).unwrap_err().code(),
            crate::error::ErrorCode::StoreError
        );
        assert_eq!(m.sessions_of("ann").unwrap().len(), 1);
        assert!(m.open("../../etc/passwd").unwrap().is_none());
        clock.advance(31 * 60 * 1000);
        assert_eq!(m.sweep().unwrap(), 1);
        assert!(!path.exists());
        assert!(fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")));
        fs::remove_dir_all(&dir).unwrap();
    }
}
