//! Run as root on a service's store (`connect`, `check --online`), a command must not leave
//! beside it files the service cannot open.

use std::path::Path;

/// Run as root on a service's store, the files SQLite made beside it (`-wal`, `-shm`) and the
/// lock are given the store's owner, so the service can still open its own store.
pub fn keep_owner(store: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let Ok(meta) = std::fs::metadata(store) else {
            return;
        };
        if !rustix::process::geteuid().is_root() || meta.uid() == 0 {
            return;
        }
        let name = store
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for suffix in ["-wal", "-shm", ".lock"] {
            let beside = store.with_file_name(format!("{name}{suffix}"));
            if beside.exists()
                && let Err(e) =
                    std::os::unix::fs::chown(&beside, Some(meta.uid()), Some(meta.gid()))
            {
                tracing::warn!(file = %beside.display(), "cannot give the store's owner its file: {e}");
            }
        }
    }
}
