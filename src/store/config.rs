//! `[store]`: where the SQLite store is, and how long its history is kept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::setting::relative_to;

/// `[store]`, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    path: Option<PathBuf>,
    /// Passes and record events older than this are pruned (the last
    /// [`KEPT_PASSES`](super::KEPT_PASSES) passes always stay).
    #[serde(with = "humantime_serde")]
    keep_history: Duration,
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            path: None,
            keep_history: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// `[store]`, ready for use.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
    pub keep_history: Duration,
}

impl StoreSection {
    /// The store's path: as configured (relative to `config_dir`), else in systemd's state
    /// directory, else `/var/lib/bluetape-sync/state.db`.
    pub fn validate(self, config_dir: &Path) -> StoreConfig {
        StoreConfig {
            path: self
                .path
                .map(|p| relative_to(config_dir, p))
                .unwrap_or_else(default_store_path),
            keep_history: self.keep_history,
        }
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
