//! What one pass reads: `[retry]` and `[sync]`, which are the pass's own, with the settings of
//! the stations it drives (`[api]`, `[source]`, `[invoices]`, `[store]`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::client::config::ApiConfig;
use crate::setting::SettingError;
use crate::source::config::{InvoicesConfig, SourceConfig};

/// `[retry]` (SPEC §5).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySection {
    pub max_attempts: u32,
    #[serde(with = "humantime_serde")]
    pub initial_backoff: Duration,
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    pub stop_after: u32,
}

impl Default for RetrySection {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            stop_after: 3,
        }
    }
}

impl RetrySection {
    pub fn validate(self) -> Result<Self, SettingError> {
        if self.max_attempts == 0 {
            return Err(SettingError::new(
                "retry.max_attempts",
                "must be at least 1",
            ));
        }
        if self.stop_after == 0 {
            return Err(SettingError::new("retry.stop_after", "must be at least 1"));
        }
        if self.initial_backoff > self.max_backoff {
            return Err(SettingError::new(
                "retry.initial_backoff",
                "is longer than retry.max_backoff",
            ));
        }
        Ok(self)
    }
}

/// `[sync]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSection {
    /// Send changed customers as updates (PUT); off by default.
    pub updates: bool,
}

/// Everything one pass reads.
#[derive(Debug)]
pub struct PassConfig {
    pub api: ApiConfig,
    pub retry: RetrySection,
    pub sync: SyncSection,
    pub source: SourceConfig,
    /// `[invoices]`, when configured.
    pub invoices: Option<InvoicesConfig>,
    /// The API the exports are read from (`from = "api"`, SPEC §11).
    pub provider: Option<crate::provider::config::ProviderConfig>,
    /// The SQLite store.
    pub store_path: PathBuf,
    /// `store.keep_history`: how long passes and record events are kept.
    pub keep_history: Duration,
}

impl PassConfig {
    /// The exports a pass reads, one a lane, in the order their records are sent: customers,
    /// then invoices when configured. What every part of the program that serves each kind
    /// (the watch, settling, the id guard, the metrics, the operator's commands) walks.
    pub fn exports(&self) -> impl Iterator<Item = &SourceConfig> {
        std::iter::once(&self.source).chain(self.invoices.as_ref().map(|i| &i.source))
    }
}
