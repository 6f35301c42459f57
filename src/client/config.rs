//! `[api]` (SPEC §7): where BlueTape is, the account, the key, and how hard to press it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::setting::{SettingError, relative_to};

/// The environment variable holding the API key; it wins over every file.
pub const API_KEY_ENV: &str = "BLUETAPE_API_KEY";
/// The systemd credential name (`LoadCredential=bluetape-api-key:...`).
pub const API_KEY_CREDENTIAL: &str = "bluetape-api-key";
pub const PRODUCTION_URL: &str = "https://api.bluetape.com/genericBthubService";
pub const SANDBOX_URL: &str = "https://beta-api.bluetape.com/genericBthubService";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    base_url: Option<String>,
    environment: ApiEnvironment,
    account_id: Option<String>,
    key_file: Option<PathBuf>,
    #[serde(with = "humantime_serde")]
    timeout: Duration,
    concurrency: usize,
    max_requests_per_second: f64,
    allow_insecure_http: bool,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            base_url: None,
            environment: ApiEnvironment::Production,
            account_id: None,
            key_file: None,
            timeout: Duration::from_secs(30),
            concurrency: 4,
            max_requests_per_second: 10.0,
            allow_insecure_http: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiEnvironment {
    Production,
    Sandbox,
}

/// `[api]`, resolved: the URL checked and the key loaded.
#[derive(Debug)]
pub struct ApiConfig {
    pub base_url: Url,
    pub account_id: String,
    /// Redacted in `Debug`; exposed only to build the request header.
    pub key: SecretString,
    pub timeout: Duration,
    pub concurrency: usize,
    /// 0 means no limit.
    pub max_requests_per_second: f64,
}

impl ApiSection {
    /// Checks every setting of the section (relative paths from `config_dir`); the key is
    /// read last, by [`ApiSettings::with_key`], once every other setting is known good.
    pub fn validate(self, config_dir: &Path) -> Result<ApiSettings, SettingError> {
        let err = |key: &str, problem: &str| SettingError::new(key, problem);
        let account_id = match self.account_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                return Err(err(
                    "api.account_id",
                    "missing: set it to your BlueTape integration account id",
                ));
            }
        };
        let base_url = self.base_url.clone().unwrap_or_else(|| {
            match self.environment {
                ApiEnvironment::Production => PRODUCTION_URL,
                ApiEnvironment::Sandbox => SANDBOX_URL,
            }
            .to_owned()
        });
        let base_url = Url::parse(base_url.trim())
            .map_err(|e| err("api.base_url", &format!("not a URL ({e})")))?;
        match base_url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&base_url) => {}
            "http" => {
                return Err(err(
                    "api.base_url",
                    "plain http:// would send the API key unencrypted: use https://, or set \
                     api.allow_insecure_http = true",
                ));
            }
            other => {
                return Err(err(
                    "api.base_url",
                    &format!("scheme `{other}` is not supported: use https://"),
                ));
            }
        }
        if self.concurrency == 0 {
            return Err(err("api.concurrency", "must be at least 1"));
        }
        if !(self.max_requests_per_second >= 0.0 && self.max_requests_per_second.is_finite()) {
            return Err(err(
                "api.max_requests_per_second",
                "must be a number >= 0 (0 means no limit)",
            ));
        }
        if self.timeout.is_zero() {
            return Err(err("api.timeout", "must be longer than 0s"));
        }
        Ok(ApiSettings {
            base_url,
            account_id,
            key_file: self.key_file.map(|p| relative_to(config_dir, p)),
            timeout: self.timeout,
            concurrency: self.concurrency,
            max_requests_per_second: self.max_requests_per_second,
        })
    }
}

/// `[api]` checked, before its key is read.
#[derive(Debug)]
pub struct ApiSettings {
    base_url: Url,
    account_id: String,
    key_file: Option<PathBuf>,
    timeout: Duration,
    concurrency: usize,
    max_requests_per_second: f64,
}

impl ApiSettings {
    /// Reads the key: the resolved `[api]`, and a warning worth logging when the key file is
    /// open to others; or why there is no usable key.
    pub fn with_key(self) -> Result<(ApiConfig, Option<String>), String> {
        let (key, warning) = load_key(self.key_file.as_deref())?;
        let config = ApiConfig {
            base_url: self.base_url,
            account_id: self.account_id,
            key,
            timeout: self.timeout,
            concurrency: self.concurrency,
            max_requests_per_second: self.max_requests_per_second,
        };
        Ok((config, warning))
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `$BLUETAPE_API_KEY`, else `api.key_file`, else the systemd credential.
/// The key, and a warning when its file is open to others.
fn load_key(key_file: Option<&Path>) -> Result<(SecretString, Option<String>), String> {
    if let Ok(key) = std::env::var(API_KEY_ENV) {
        let key = key.trim();
        if !key.is_empty() {
            return Ok((SecretString::from(key.to_owned()), None));
        }
    }
    let (path, origin) = match key_file {
        Some(p) => (p.to_owned(), "api.key_file"),
        None => match std::env::var_os("CREDENTIALS_DIRECTORY") {
            Some(dir) => (
                Path::new(&dir).join(API_KEY_CREDENTIAL),
                "the systemd credential",
            ),
            None => {
                return Err(format!(
                    "no BlueTape API key: set ${API_KEY_ENV}, or api.key_file, or the systemd \
                     credential `{API_KEY_CREDENTIAL}`"
                ));
            }
        },
    };
    let text = read_key_file(&path).map_err(|e| match key_file {
        // api.key_file's value is never printed: it may be the key itself, pasted in place of
        // a path.
        Some(_) => {
            let what = match e.kind() {
                std::io::ErrorKind::NotFound => "names no file that exists",
                std::io::ErrorKind::PermissionDenied => "names a file this user cannot read",
                std::io::ErrorKind::InvalidInput => "names something that is not a file",
                _ => "names a file that cannot be read",
            };
            format!(
                "api.key_file {what} (its value is not shown: it should be the path of a file \
                 holding the key, not the key itself)"
            )
        }
        None => format!(
            "cannot read the API key from {} ({origin}): {e}",
            path.display()
        ),
    })?;
    // A trailing newline (as `echo key > file` writes) is not part of the key.
    let key = text.trim_end_matches(['\r', '\n']).trim();
    if key.is_empty() {
        return Err(format!(
            "the API key file {} ({origin}) is empty",
            path.display()
        ));
    }
    Ok((SecretString::from(key.to_owned()), open_to_others(&path)))
}

/// The most a key file is read: a key is a short line.
const KEY_FILE_BYTES: u64 = 64 * 1024;

/// A key file's text: a regular file only (opened without blocking, so a FIFO cannot hang the
/// start), read up to [`KEY_FILE_BYTES`].
pub(crate) fn read_key_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let (file, what) = crate::source::open_without_blocking(path)?;
    if let Some(what) = what {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, what));
    }
    let mut text = String::new();
    file.take(KEY_FILE_BYTES).read_to_string(&mut text)?;
    Ok(text)
}

/// A warning when a key file can be read by its group or others.
pub(crate) fn open_to_others(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!(
                "the API key file {} can be read by its group or others (mode {mode:03o}): \
                 chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
    }
    None
}
