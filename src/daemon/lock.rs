//! One instance per store file: an exclusive lock on `<store>.lock` beside the store's
//! canonical path (a symlink to the store is the store), holding the owner's pid.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another bluetape-sync{} is using the store {}: stop it first, or give this one its own store.path", holder.map(|p| format!(" (pid {p})")).unwrap_or_default(), store.display())]
    Held { store: PathBuf, holder: Option<u32> },
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Held for as long as this process works on the store; released on drop or exit.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
}

impl InstanceLock {
    pub fn acquire(store: &Path) -> Result<Self, LockError> {
        if let Some(dir) = store.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LockError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let path = lock_path(store).map_err(|source| LockError::Io {
            path: store.to_owned(),
            source,
        })?;
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Held {
                    store: store.to_owned(),
                    holder: text.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(Self { _file: file })
    }
}

/// The pid written by the process that last took the lock on `store`.
pub fn holder(store: &Path) -> Option<u32> {
    std::fs::read_to_string(lock_path(store).ok()?)
        .ok()
        .and_then(|text| text.trim().parse().ok())
}

/// The lock beside the store file itself, whatever name the store was reached by.
fn lock_path(store: &Path) -> std::io::Result<PathBuf> {
    let mut name = crate::store::identity(store)?.into_os_string();
    name.push(".lock");
    Ok(PathBuf::from(name))
}
