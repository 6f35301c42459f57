//! `[store]`: where the SQLite store is.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::setting::relative_to;

/// `[store]`, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    path: Option<PathBuf>,
}

impl StoreSection {
    /// The store's path: as configured (relative to `config_dir`), else in systemd's state
    /// directory, else `/var/lib/bluetape-sync/state.db`.
    pub fn validate(self, config_dir: &Path) -> PathBuf {
        self.path
            .map(|p| relative_to(config_dir, p))
            .unwrap_or_else(default_store_path)
    }
}

fn default_store_path() -> PathBuf {
    match std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several directories separated by ':'; the first is ours.
        Some(dirs) => {
            let dirs = dirs.to_string_lossy().into_owned();
            let first = dirs.split(':').next().unwrap_or_default();
            Path::new(first).join("state.db")
        }
        None => PathBuf::from("/var/lib/bluetape-sync/state.db"),
    }
}
