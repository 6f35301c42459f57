//! Configuration (SPEC §7): one serde tree read from TOML with the `config` crate, overridden by
//! `BLUETAPE_SYNC__SECTION__KEY` environment variables, then validated into [`Config`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::client::config::ApiSection;
use crate::daemon::DaemonConfig;
use crate::daemon::metrics::MetricsSection;
use crate::daemon::schedule::{ScheduleConfig, ScheduleSection};
use crate::logging::LogSection;
use crate::pass::config::{PassConfig, RetrySection, SyncSection};
use crate::provider::Provider;
use crate::provider::config::ProviderSection;
use crate::setting::SettingError;
use crate::source::config::SourceSection;
use crate::store::config::StoreSection;

/// Where the config is read from when neither `--config` nor `$BLUETAPE_SYNC_CONFIG` says.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/bluetape-sync/config.toml";
const ENV_PREFIX: &str = "BLUETAPE_SYNC";

mod error;
pub use self::error::ConfigError;
use self::error::{env_var_for, expected, one_line, strip_origin};

/// Keys without a default: `check` stands a placeholder in for them to go on looking.
const REQUIRED: &[&str] = &["api.account_id", "source.path"];

/// The file's tree exactly as written; every key has a default except the required ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    api: ApiSection,
    #[serde(default)]
    retry: RetrySection,
    #[serde(default)]
    sync: SyncSection,
    #[serde(default)]
    schedule: ScheduleSection,
    #[serde(default)]
    store: StoreSection,
    #[serde(default)]
    source: SourceSection,
    /// Opt-in (SPEC §9).
    invoices: Option<SourceSection>,
    #[serde(default)]
    log: LogSection,
    #[serde(default)]
    metrics: MetricsSection,
    /// SPEC §11: the app that reads QuickBooks Online's or Xero's API (`from = "api"`).
    quickbooks: Option<ProviderSection>,
    xero: Option<ProviderSection>,
}

/// The validated configuration, assembled from each component's own settings.
#[derive(Debug)]
pub struct Config {
    /// The file it came from, for messages.
    pub file: PathBuf,
    /// `[api]`, `[retry]`, `[sync]`, `[source]`, `[invoices]` and `[store]`: what one pass reads.
    pub pass: PassConfig,
    pub schedule: ScheduleConfig,
    pub log: LogSection,
    pub metrics: MetricsSection,
    /// Things worth a warning once logging is set up (a key file open to others).
    pub warnings: Vec<String>,
}

impl Config {
    /// What `run` needs of it: the daemon's settings and each pass's.
    pub fn into_daemon(self) -> DaemonConfig {
        DaemonConfig {
            schedule: self.schedule,
            metrics: self.metrics,
            pass: self.pass,
        }
    }

    /// Reads `file` and the process environment.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        Self::load_with_env(file, None)
    }

    /// Reads `file` with `env` standing in for the process environment's
    /// `BLUETAPE_SYNC__*` overrides (the API key and systemd variables are still read from
    /// the process environment).
    pub fn load_with_env(
        file: &Path,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, ConfigError> {
        deserialize(file, read_tree(file, env)?)?.validate(file)
    }

    /// Like [`Config::load`], but finds every problem, not only the first (for `check`).
    pub fn check(file: &Path) -> Result<Self, Vec<ConfigError>> {
        let mut tree = read_tree(file, None).map_err(|e| vec![e])?;
        let mut problems: Vec<ConfigError> = Vec::new();
        // Each problem with a key is reported, then that key set aside (a default, or a
        // placeholder for a required key) to look for the next; at most one per key.
        loop {
            let result = deserialize(file, tree.clone()).and_then(|raw| raw.validate(file));
            let error = match result {
                Ok(config) if problems.is_empty() => return Ok(config),
                Ok(_) => return Err(problems),
                Err(e) => e,
            };
            let Some(key) = error.key.clone() else {
                problems.push(error);
                return Err(problems);
            };
            if problems
                .iter()
                .any(|p| p.key.as_deref() == Some(key.as_str()))
            {
                return Err(problems);
            }
            problems.push(error);
            set_aside(&mut tree, &key);
        }
    }
}

/// The merged tree of the file and the environment.
fn read_tree(
    file: &Path,
    env: Option<HashMap<String, String>>,
) -> Result<Option<config::Value>, ConfigError> {
    if !file.exists() {
        return Err(ConfigError::new(format!(
            "config file {} does not exist: pass --config PATH or set $BLUETAPE_SYNC_CONFIG \
             (config/bluetape-sync.example.toml documents every key)",
            file.display()
        )));
    }
    let built = config::Config::builder()
        .add_source(config::File::new(
            &file.to_string_lossy(),
            config::FileFormat::Toml,
        ))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(env),
        )
        .build()
        .and_then(|c| c.try_deserialize::<config::Value>())
        .map_err(|e| {
            ConfigError::new(format!(
                "config {}: {}",
                file.display(),
                one_line(&e.to_string())
            ))
        })?;
    Ok(Some(built))
}

fn deserialize(file: &Path, tree: Option<config::Value>) -> Result<FileConfig, ConfigError> {
    let tree = tree.unwrap_or_else(|| config::Value::new(None, config::ValueKind::Nil));
    serde_path_to_error::deserialize(tree).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner().to_string();
        let from_env = env_var_for(&key).filter(|var| std::env::var_os(var).is_some());
        // An unknown key's message names the key, never its value.
        match from_env.filter(|_| !inner.starts_with("unknown field")) {
            // A value from the environment may be a secret in the wrong variable: it is
            // named by its variable, never shown.
            Some(_) => ConfigError::at_key(
                file,
                &key,
                format!("not a valid value (not shown){}", expected(&inner)),
            ),
            None => ConfigError::at_key(file, &key, strip_origin(&inner)),
        }
    })
}

/// Removes `key` from the tree (its default applies), or puts a placeholder in for a key
/// that has none.
fn set_aside(tree: &mut Option<config::Value>, key: &str) {
    let Some(root) = tree.as_mut() else { return };
    let parts: Vec<&str> = key.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut at = root;
    for part in parents {
        let config::ValueKind::Table(table) = &mut at.kind else {
            return;
        };
        at = table.entry((*part).to_owned()).or_insert_with(|| {
            config::Value::new(None, config::ValueKind::Table(Default::default()))
        });
    }
    let config::ValueKind::Table(table) = &mut at.kind else {
        return;
    };
    if REQUIRED.contains(&key) {
        table.insert(
            (*last).to_owned(),
            config::Value::new(None, config::ValueKind::String("placeholder".into())),
        );
    } else {
        table.remove(*last);
    }
}

impl FileConfig {
    fn validate(self, file: &Path) -> Result<Config, ConfigError> {
        let dir = &config_dir(file);
        let in_file = |e: SettingError| ConfigError::setting(file, e);
        let api = self.api.validate(dir).map_err(in_file)?;
        let retry = self.retry.validate().map_err(in_file)?;
        let schedule = self.schedule.validate().map_err(in_file)?;
        let log = self.log.validate().map_err(in_file)?;
        let source = self.source.validate(dir).map_err(in_file)?;
        let invoices = (self.invoices)
            .map(|section| section.validate_invoices(&source, dir))
            .transpose()
            .map_err(in_file)?;
        let provider = provider(
            &source,
            &invoices.iter().map(|i| &i.source).collect::<Vec<_>>(),
            self.quickbooks,
            self.xero,
            dir,
        )
        .map_err(in_file)?;
        // The key last, so that `check` lists every other problem first.
        let (api, key_warning) = api
            .with_key()
            .map_err(|e| ConfigError::new(format!("config {}: {e}", file.display())))?;
        let store = self.store.validate(dir);

        Ok(Config {
            file: file.to_owned(),
            pass: PassConfig {
                api,
                retry,
                sync: self.sync,
                source,
                invoices,
                provider,
                store_path: store.path,
                keep_history: store.keep_history,
            },
            schedule,
            log,
            metrics: self.metrics,
            warnings: key_warning.into_iter().collect(),
        })
    }
}

/// The provider an export read from an API (`from = "api"`) needs, with its section; a
/// provider section no export reads is a mistake to name.
fn provider(
    source: &crate::source::config::SourceConfig,
    later: &[&crate::source::config::SourceConfig],
    quickbooks: Option<ProviderSection>,
    xero: Option<ProviderSection>,
    dir: &Path,
) -> Result<Option<crate::provider::config::ProviderConfig>, SettingError> {
    use crate::source::presets::Preset;
    let of = |source: &crate::source::config::SourceConfig| match source.preset {
        Some(Preset::QuickbooksOnline) if source.from_api => Some(Provider::Quickbooks),
        Some(Preset::Xero) if source.from_api => Some(Provider::Xero),
        _ => None,
    };
    let wanted = of(source);
    // The exports after the customers' read the API through the customers' connection.
    if let Some(export) = (later.iter()).find(|e| e.from_api && of(e) != wanted) {
        return Err(SettingError::new(
            format!("{}.from", export.kind.section()),
            format!(
                "\"api\" reads {} through [source]'s connection: set source.from = \"api\" \
                 with the same system's preset",
                export.kind.plural()
            ),
        ));
    }
    let (section, other) = match wanted {
        Some(Provider::Quickbooks) => (quickbooks, xero.map(|_| Provider::Xero)),
        Some(Provider::Xero) => (xero, quickbooks.map(|_| Provider::Quickbooks)),
        None => (
            None,
            quickbooks
                .map(|_| Provider::Quickbooks)
                .or(xero.map(|_| Provider::Xero)),
        ),
    };
    if let Some(other) = other {
        return Err(SettingError::new(
            other.name(),
            "no export reads this system's API: set source.from = \"api\" with its preset, or \
             remove the section",
        ));
    }
    match (wanted, section) {
        (Some(provider), Some(section)) => section.validate(provider, dir).map(Some),
        (Some(provider), None) => Err(SettingError::new(
            provider.name(),
            format!(
                "missing: source.from = \"api\" reads {} through your app, set in [{}]",
                provider.system(),
                provider.name()
            ),
        )),
        (None, _) => Ok(None),
    }
}

/// The folder relative paths in `file` are taken from, as an absolute path: a bare
/// `--config config.toml` has the working directory as its folder, and every path taken from
/// it (the export's folder the daemon watches, the store) stays right whatever the working
/// directory does later.
fn config_dir(file: &Path) -> PathBuf {
    let folder = file.parent().unwrap_or(Path::new("."));
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    std::path::absolute(folder).unwrap_or_else(|_| folder.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::config::{PRODUCTION_URL, SANDBOX_URL};
    use std::time::Duration;

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).expect("write config");
        std::fs::write(dir.path().join("key"), "secret-key\n").expect("write key");
        path
    }

    const MINIMAL: &str =
        "[api]\naccount_id = \"acct\"\nkey_file = \"key\"\n[source]\npath = \"export.csv\"\n";

    #[test]
    fn minimal_config_gets_the_documented_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = Config::load_with_env(&write(&dir, MINIMAL), Some(HashMap::new()))
            .expect("valid config");
        assert_eq!(cfg.pass.api.base_url.as_str(), PRODUCTION_URL);
        assert_eq!(cfg.pass.api.concurrency, 4);
        assert_eq!(cfg.pass.retry.max_attempts, 5);
        assert_eq!(cfg.pass.source.lookback, Duration::from_secs(3600));
        assert_eq!(cfg.pass.source.path, dir.path().join("export.csv"));
        use secrecy::ExposeSecret;
        assert_eq!(cfg.pass.api.key.expose_secret(), "secret-key");
        assert!(!format!("{cfg:?}").contains("secret-key"));
    }

    #[test]
    fn env_overrides_name_section_and_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = HashMap::from([
            (
                "BLUETAPE_SYNC__API__ACCOUNT_ID".to_owned(),
                "other".to_owned(),
            ),
            (
                "BLUETAPE_SYNC__RETRY__MAX_BACKOFF".to_owned(),
                "500ms".to_owned(),
            ),
            (
                "BLUETAPE_SYNC__RETRY__INITIAL_BACKOFF".to_owned(),
                "100ms".to_owned(),
            ),
            (
                "BLUETAPE_SYNC__API__ENVIRONMENT".to_owned(),
                "sandbox".to_owned(),
            ),
        ]);
        let cfg = Config::load_with_env(&write(&dir, MINIMAL), Some(env)).expect("valid");
        assert_eq!(cfg.pass.api.account_id, "other");
        assert_eq!(cfg.pass.retry.max_backoff, Duration::from_millis(500));
        assert_eq!(cfg.pass.api.base_url.as_str(), SANDBOX_URL);
    }

    fn error_for(text: &str) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(&dir, text);
        let e = Config::load_with_env(&path, Some(HashMap::new())).expect_err("must fail");
        let msg = e.to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        msg
    }

    #[test]
    fn errors_name_the_key_and_file() {
        let msg = error_for(&format!("{MINIMAL}[api2]\nx = 1\n"));
        assert!(msg.contains("api2"), "{msg}");
        let msg = error_for(&MINIMAL.replace("key_file", "keyfile"));
        assert!(msg.contains("api.keyfile"), "{msg}");
        let msg = error_for(&format!("{MINIMAL}[retry]\nmax_backoff = \"soon\"\n"));
        assert!(msg.contains("retry.max_backoff"), "{msg}");
        let msg = error_for(&format!("{MINIMAL}[retry]\nmax_attempts = \"many\"\n"));
        assert!(msg.contains("retry.max_attempts"), "{msg}");
        let msg = error_for("[source]\npath = \"x.csv\"\n");
        assert!(msg.contains("api.account_id"), "{msg}");
        let msg = error_for(&MINIMAL.replace(
            "[api]\n",
            "[api]\nbase_url = \"http://bluetape.example.com\"\n",
        ));
        assert!(
            msg.contains("api.base_url") && msg.contains("http"),
            "{msg}"
        );
        let msg = error_for(&format!("{MINIMAL}[source.fields]\nemail = \"E\"\n"));
        assert!(msg.contains("source.fields.email"), "{msg}");
        let dir = tempfile::tempdir().expect("tempdir");
        let broken = "[api]\nkeyfile = 1\nconcurrency = 0\n[source]\ndelimiter = \"::\"\n[retry]\nmax_backoff = \"soon\"\n[extra]\n";
        let problems = Config::check(&write(&dir, broken)).expect_err("broken");
        let mut keys: Vec<_> = problems.iter().filter_map(|p| p.key.as_deref()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "api.account_id",
                "api.concurrency",
                "api.keyfile",
                "extra",
                "retry.max_backoff",
                "source.delimiter",
                "source.path",
            ],
            "{problems:?}"
        );
        assert!(
            problems
                .last()
                .is_some_and(|p| p.to_string().contains("no BlueTape API key"))
        );
        let msg = error_for("this is [not toml");
        assert!(msg.contains("line 1, column 6"), "{msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
    }

    #[test]
    fn loopback_http_is_allowed_and_insecure_opt_in_works() {
        let dir = tempfile::tempdir().expect("tempdir");
        for url in [
            "http://127.0.0.1:9/x",
            "http://localhost:9",
            "http://[::1]:9",
        ] {
            let text = MINIMAL.replace("[api]\n", &format!("[api]\nbase_url = \"{url}\"\n"));
            Config::load_with_env(&write(&dir, &text), Some(HashMap::new())).expect(url);
        }
        let text = MINIMAL.replace(
            "[api]\n",
            "[api]\nbase_url = \"http://10.0.0.1\"\nallow_insecure_http = true\n",
        );
        Config::load_with_env(&write(&dir, &text), Some(HashMap::new())).expect("opt-in");
    }
}
