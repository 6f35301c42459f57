//! What every component's settings share: a problem is one key, named as the operator writes
//! it (`source.timezone`), and what is wrong with it. Each component validates its own section;
//! the configuration file's loader adds the file and the environment variable to the message.

use std::fmt;
use std::path::{Path, PathBuf};

/// A key whose value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key `{key}`: {problem}")]
pub struct SettingError {
    /// The dotted key, e.g. `source.fields.emailAddress`.
    pub key: String,
    pub problem: String,
}

impl SettingError {
    pub fn new(key: impl Into<String>, problem: impl fmt::Display) -> Self {
        Self {
            key: key.into(),
            problem: problem.to_string(),
        }
    }
}

/// A relative path in the configuration is relative to the configuration file's folder, not
/// to the working directory.
pub fn relative_to(config_dir: &Path, path: PathBuf) -> PathBuf {
    if path.is_relative() {
        config_dir.join(path)
    } else {
        path
    }
}
