//! `[quickbooks]` and `[xero]` (SPEC §11): the operator's app at the provider's developer
//! portal, where the provider is, and what the link may read.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use super::Provider;
use crate::client::config::{is_loopback, open_to_others, read_key_file};
use crate::setting::{SettingError, relative_to};

/// A provider's section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderSection {
    client_id: Option<String>,
    client_secret_file: Option<PathBuf>,
    redirect_uri: Option<String>,
    environment: Option<String>,
    scopes: Option<String>,
    /// Xero only: `client_credentials` for a Custom Connection.
    grant: Option<String>,
    base_url: Option<String>,
    auth_url: Option<String>,
    token_url: Option<String>,
    revoke_url: Option<String>,
    connections_url: Option<String>,
}

/// How the link gets its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// A person consents once (`connect`); refresh tokens rotate from then on.
    AuthorizationCode,
    /// Xero's Custom Connections: the app's own credentials, one organisation, no `connect`.
    ClientCredentials,
}

/// A provider's section, resolved (its secret is read when the link is used).
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub provider: Provider,
    pub client_id: String,
    /// Where the client secret is: the configured file, else the systemd credential.
    pub client_secret_file: Option<PathBuf>,
    pub redirect_uri: Option<Url>,
    pub scopes: Vec<String>,
    pub grant: Grant,
    /// `{base_url}/v3/company/...` (QuickBooks), `{base_url}/api.xro/2.0/...` (Xero).
    pub base_url: Url,
    pub auth_url: Url,
    pub token_url: Url,
    pub revoke_url: Url,
    /// Xero's organisations a consent covers.
    pub connections_url: Option<Url>,
}

/// Where each provider is, in production and in its sandbox (QuickBooks' discovery document;
/// Xero's identity service). Xero has one host for both.
struct Hosts {
    base: &'static str,
    sandbox_base: &'static str,
    auth: &'static str,
    token: &'static str,
    revoke: &'static str,
    connections: Option<&'static str>,
    scopes: &'static str,
}

fn hosts(provider: Provider) -> Hosts {
    match provider {
        Provider::Quickbooks => Hosts {
            base: "https://quickbooks.api.intuit.com",
            sandbox_base: "https://sandbox-quickbooks.api.intuit.com",
            auth: "https://appcenter.intuit.com/connect/oauth2",
            token: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            revoke: "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
            connections: None,
            scopes: "com.intuit.quickbooks.accounting",
        },
        Provider::Xero => Hosts {
            base: "https://api.xero.com",
            sandbox_base: "https://api.xero.com",
            auth: "https://login.xero.com/identity/connect/authorize",
            token: "https://identity.xero.com/connect/token",
            revoke: "https://identity.xero.com/connect/revocation",
            connections: Some("https://api.xero.com/connections"),
            // The granular scopes apps created since March 2026 must ask for.
            scopes: "offline_access accounting.contacts.read accounting.invoices.read",
        },
    }
}

impl ProviderSection {
    /// Checks the section of `provider` (relative paths from `config_dir`).
    pub fn validate(
        self,
        provider: Provider,
        config_dir: &Path,
    ) -> Result<ProviderConfig, SettingError> {
        let section = provider.name();
        let err = |key: &str, problem: &str| SettingError::new(format!("{section}.{key}"), problem);
        let client_id = match self.client_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => {
                return Err(err(
                    "client_id",
                    &format!(
                        "missing: set it to your app's client id from {}'s developer portal",
                        provider.system()
                    ),
                ));
            }
        };
        let grant = match (provider, self.grant.as_deref().map(str::trim)) {
            (_, None | Some("authorization_code")) => Grant::AuthorizationCode,
            (Provider::Xero, Some("client_credentials")) => Grant::ClientCredentials,
            (Provider::Quickbooks, Some("client_credentials")) => {
                return Err(err(
                    "grant",
                    "QuickBooks has no client-credentials grant: leave it out and run connect",
                ));
            }
            (_, Some(_)) => {
                return Err(err(
                    "grant",
                    "use `authorization_code` (the default) or `client_credentials`",
                ));
            }
        };
        let sandbox = match self.environment.as_deref().map(str::trim) {
            None | Some("production") => false,
            Some("sandbox") => true,
            Some(_) => return Err(err("environment", "use `production` or `sandbox`")),
        };
        let hosts = hosts(provider);
        let url = |key: &str, value: Option<String>, default: &str| -> Result<Url, SettingError> {
            let text = value.unwrap_or_else(|| default.to_owned());
            checked_url(&text).map_err(|problem| err(key, &problem))
        };
        let base = if sandbox {
            hosts.sandbox_base
        } else {
            hosts.base
        };
        let redirect_uri = match (self.redirect_uri, grant) {
            (Some(uri), _) => Some(
                Url::parse(uri.trim())
                    .map_err(|e| err("redirect_uri", &format!("not a URL: {e}")))?,
            ),
            (None, Grant::ClientCredentials) => None,
            (None, Grant::AuthorizationCode) => {
                return Err(err(
                    "redirect_uri",
                    "missing: set it to a redirect URI registered in your app",
                ));
            }
        };
        let scopes = self
            .scopes
            .as_deref()
            .unwrap_or(hosts.scopes)
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        if scopes.is_empty() {
            return Err(err("scopes", "empty: leave it out for the default"));
        }
        let connections_url = match hosts.connections {
            Some(default) => Some(url("connections_url", self.connections_url, default)?),
            None if self.connections_url.is_some() => {
                return Err(err("connections_url", "applies only to [xero]"));
            }
            None => None,
        };
        Ok(ProviderConfig {
            provider,
            client_id,
            client_secret_file: self.client_secret_file.map(|p| relative_to(config_dir, p)),
            redirect_uri,
            scopes,
            grant,
            base_url: url("base_url", self.base_url, base)?,
            auth_url: url("auth_url", self.auth_url, hosts.auth)?,
            token_url: url("token_url", self.token_url, hosts.token)?,
            revoke_url: url("revoke_url", self.revoke_url, hosts.revoke)?,
            connections_url,
        })
    }
}

/// A provider URL: `https://`, or `http://` to a loopback host (tests, a local proxy); the
/// tokens would otherwise travel unencrypted.
fn checked_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err("http:// would send tokens unencrypted: use https://".into()),
        other => Err(format!("scheme `{other}` is not supported: use https://")),
    }
}

impl ProviderConfig {
    /// The app's client secret: `client_secret_file`, else the systemd credential; a trailing
    /// newline is not part of it. With a warning when its file is open to others.
    pub fn client_secret(&self) -> Result<(SecretString, Option<String>), String> {
        let section = self.provider.name();
        let (path, origin) = match &self.client_secret_file {
            Some(path) => (path.clone(), format!("{section}.client_secret_file")),
            None => match std::env::var_os("CREDENTIALS_DIRECTORY") {
                Some(dir) => (
                    Path::new(&dir).join(self.provider.secret_credential()),
                    "the systemd credential".to_owned(),
                ),
                None => {
                    return Err(format!(
                        "no {} client secret: set {section}.client_secret_file, or the systemd \
                         credential `{}`",
                        self.provider.system(),
                        self.provider.secret_credential()
                    ));
                }
            },
        };
        // The path is never printed when it came from the config: it may be the secret itself.
        let text = read_key_file(&path).map_err(|e| match &self.client_secret_file {
            Some(_) => format!(
                "{origin} names no readable file ({}; its value is not shown: it should be the \
                 path of a file holding the secret)",
                e.kind()
            ),
            None => format!("cannot read the client secret from {}: {e}", path.display()),
        })?;
        let secret = text.trim_end_matches(['\r', '\n']).trim();
        if secret.is_empty() {
            return Err(format!("the client secret file ({origin}) is empty"));
        }
        Ok((SecretString::from(secret.to_owned()), open_to_others(&path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(toml: &str) -> ProviderSection {
        toml::from_str(toml).expect("section")
    }

    #[test]
    fn defaults_are_the_providers_hosts_and_scopes() {
        let xero = section("client_id = \"abc\"\nredirect_uri = \"http://localhost:5001/cb\"\n")
            .validate(Provider::Xero, Path::new("/etc"))
            .expect("valid");
        assert_eq!(xero.base_url.as_str(), "https://api.xero.com/");
        assert_eq!(
            xero.scopes,
            [
                "offline_access",
                "accounting.contacts.read",
                "accounting.invoices.read"
            ]
        );
        assert_eq!(
            xero.connections_url.as_ref().map(Url::as_str),
            Some("https://api.xero.com/connections")
        );
        let qb = section(
            "client_id = \"abc\"\nredirect_uri = \"https://example.com/cb\"\n\
             environment = \"sandbox\"\n",
        )
        .validate(Provider::Quickbooks, Path::new("/etc"))
        .expect("valid");
        assert_eq!(
            qb.base_url.as_str(),
            "https://sandbox-quickbooks.api.intuit.com/"
        );
        assert_eq!(qb.scopes, ["com.intuit.quickbooks.accounting"]);
        assert!(qb.connections_url.is_none());
    }

    #[test]
    fn mistakes_name_the_key() {
        let problem = |provider, toml: &str| {
            section(toml)
                .validate(provider, Path::new("/etc"))
                .expect_err("invalid")
                .to_string()
        };
        assert!(problem(Provider::Xero, "").contains("xero.client_id"));
        assert!(problem(Provider::Xero, "client_id = \"a\"").contains("xero.redirect_uri"));
        assert!(
            problem(
                Provider::Quickbooks,
                "client_id = \"a\"\ngrant = \"client_credentials\""
            )
            .contains("quickbooks.grant")
        );
        let plain = problem(
            Provider::Xero,
            "client_id = \"a\"\nredirect_uri = \"http://localhost/cb\"\n\
             token_url = \"http://tokens.example.com/\"",
        );
        assert!(
            plain.contains("xero.token_url") && plain.contains("unencrypted"),
            "{plain}"
        );
        // A Custom Connection needs no redirect.
        let custom = section("client_id = \"a\"\ngrant = \"client_credentials\"")
            .validate(Provider::Xero, Path::new("/etc"))
            .expect("valid");
        assert_eq!(custom.grant, Grant::ClientCredentials);
    }

    #[test]
    fn the_client_secret_follows_the_api_key_s_rules() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("secret");
        std::fs::write(&file, "s3cret\n").expect("write");
        let config = section(&format!(
            "client_id = \"a\"\nredirect_uri = \"http://localhost/cb\"\nclient_secret_file = {:?}",
            file.display().to_string()
        ))
        .validate(Provider::Xero, dir.path())
        .expect("valid");
        let (secret, _) = config.client_secret().expect("secret");
        assert_eq!(secrecy::ExposeSecret::expose_secret(&secret), "s3cret");
        let missing = ProviderConfig {
            client_secret_file: Some(dir.path().join("the-secret-itself")),
            ..config
        };
        let problem = missing.client_secret().expect_err("no file");
        assert!(!problem.contains("the-secret-itself"), "{problem}");
    }
}
