//! `FileStore`: one file per session in a folder (feature `std`).
//!
//! The layout every language shares, so Rust, Node and Python can use one folder:
//! `<dir>/<id>.json` holds the v1 record; a write goes to `<dir>/.<id>.<n>.tmp` first and is
//! renamed over the record, so a reader never sees half a record. Only names that are
//! plausible session ids are ever turned into paths.

use crate::encoded::ByteStore;
use crate::error::StoreError;
use crate::id;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A [`ByteStore`] over a folder; wrap it in [`EncodedStore`](crate::EncodedStore).
///
/// ```
/// use tenure::{file::FileStore, EncodedStore, Limits, ManualClock, OsEntropy, Policy, SessionManager};
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
}

impl FileStore {
    /// A store in `dir`, created if missing.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir)
            .map_err(|e| StoreError::new(format!("cannot create {}: {e}", dir.display())))?;
        Ok(FileStore { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &str) -> Result<PathBuf, StoreError> {
        if !id::is_plausible(id) {
            return Err(StoreError::new(format!("{id:?} is not a session id")));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }
}

impl FileStore {
    fn write(&mut self, id: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.path(id)?;
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".{id}.{}-{n}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_data()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_err("cannot write", &path, e)
        })
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
        let path = self.path(id)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("cannot read", &path, e)),
        }
    }

    fn insert(&mut self, id: &str, bytes: &[u8]) -> Result<bool, StoreError> {
        if self.get(id)?.is_some() {
            return Ok(false);
        }
        self.write(id, bytes)?;
        Ok(true)
    }

    // Transitional: not yet atomic across processes (the lock protocol lands next).
    fn replace(&mut self, id: &str, bytes: &[u8], expected: u64) -> Result<bool, StoreError> {
        match self.get(id)? {
            Some(old) if crate::record::stored_version(&old) == Some(expected) => {
                self.write(id, bytes)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn delete(&mut self, id: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        if !id::is_plausible(id) {
            return Ok(false);
        }
        if let Some(want) = expected {
            match self.get(id)? {
                Some(old) if crate::record::stored_version(&old) == Some(want) => {}
                _ => return Ok(false),
            }
        }
        let path = self.path(id)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("cannot delete", &path, e)),
        }
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
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EncodedStore, Limits, ManualClock, Policy, SeededEntropy, SessionManager};

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
            crate::ErrorCode::StoreError
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
