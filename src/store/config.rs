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
    /// The store's path: as configured (relative to `config_dir`), else
    /// [`default_store_path`].
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

/// Where the store is when `store.path` is not set: systemd's state directory for a service,
/// `/var/lib/bluetape-sync` for root, else the user's own state folder, so that a trial run as
/// an ordinary user never touches `/var/lib`.
pub fn default_store_path() -> PathBuf {
    if let Some(dirs) = std::env::var_os("STATE_DIRECTORY") {
        // systemd may pass several directories separated by ':'; the first is ours.
        let dirs = dirs.to_string_lossy().into_owned();
        let first = dirs.split(':').next().unwrap_or_default();
        return Path::new(first).join("state.db");
    }
    if rustix::process::geteuid().is_root() {
        return PathBuf::from("/var/lib/bluetape-sync/state.db");
    }
    let state_home = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from(".local/state"));
    state_home.join("bluetape-sync/state.db")
}
