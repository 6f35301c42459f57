//! `connect quickbooks|xero`, `connect --status`, `disconnect` (SPEC §11): linking the store to
//! a company once, by the authorization-code flow (the consent URL printed, the redirect
//! pasted or caught with `--listen`), or Xero's client-credentials grant.

use std::io::{BufRead, Write};

use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use super::{CommandError, io};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::daemon::lock::{InstanceLock, LockError};
use crate::provider::Provider;
use crate::provider::config::{Grant, ProviderConfig};
use crate::provider::oauth::{OAuth, OAuthError};
use crate::source::timestamp::now_ms;
use crate::store::{Store, Tokens};

/// How `connect` gets the redirect.
pub enum Redirect {
    /// Pasted on standard input.
    Pasted,
    /// Caught by listening at this address.
    Listen(std::net::SocketAddr),
}

/// Links the store to `provider`'s company.
pub async fn connect(
    config: &Config,
    provider: Provider,
    tenant: Option<&str>,
    redirect: Redirect,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let settings = provider_config(config, provider)?;
    // The store's lock: never beside a daemon that may be refreshing the same tokens.
    let _lock = InstanceLock::acquire(&config.pass.store_path).map_err(|e| match e {
        LockError::Held { .. } => CommandError::failed(
            Exit::Locked,
            format!("{e}: stop the service first (systemctl stop bluetape-sync), then connect"),
        ),
        LockError::Io { .. } => CommandError::failed(Exit::Other, e.to_string()),
    })?;
    let (secret, _) = settings
        .client_secret()
        .map_err(|e| CommandError::failed(Exit::Config, e))?;
    let oauth = OAuth::new(settings, &secret)
        .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
    let now = now_ms();
    let (tokens, realm) = match settings.grant {
        Grant::ClientCredentials => (
            oauth.client_credentials(now).await.map_err(oauth_failed)?,
            None,
        ),
        Grant::AuthorizationCode => {
            let consent = oauth.consent();
            writeln!(out, "{}", consent.url).map_err(io)?;
            out.flush().map_err(io)?;
            let answer = match redirect {
                Redirect::Pasted => {
                    eprintln!(
                        "Open the URL above, approve, and paste here the URL your browser was sent to:"
                    );
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line).map_err(io)?;
                    line
                }
                Redirect::Listen(addr) => catch_redirect(addr).await?,
            };
            let answer = Url::parse(answer.trim()).map_err(|_| {
                CommandError::failed(
                    Exit::Config,
                    "that is not the URL the browser was sent to: nothing was exchanged",
                )
            })?;
            let param = |name: &str| {
                answer
                    .query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            if param("state").as_deref() != Some(consent.state.secret().as_str()) {
                return Err(CommandError::failed(
                    Exit::Config,
                    "the redirect's state does not match this consent (an old or foreign URL): \
                     nothing was exchanged; run connect again",
                ));
            }
            let Some(code) = param("code") else {
                let why = param("error").unwrap_or_else(|| "no code".into());
                return Err(CommandError::failed(
                    Exit::Config,
                    format!("the consent was not given ({why}): nothing was exchanged"),
                ));
            };
            let tokens = oauth
                .exchange(&code, consent.verifier, now)
                .await
                .map_err(oauth_failed)?;
            (tokens, param("realmId"))
        }
    };
    let (company, name) = match provider {
        Provider::Quickbooks => match realm {
            Some(realm) => (realm, None),
            None => {
                return Err(CommandError::failed(
                    Exit::Config,
                    "the redirect carries no realmId: paste the whole URL the browser was sent to",
                ));
            }
        },
        Provider::Xero => xero_tenant(settings, &tokens, tenant).await?,
    };
    let store = Store::open(&config.pass.store_path)?;
    store.save_link(provider.name(), &company, name.as_deref(), &tokens, now)?;
    drop(store);
    crate::store::keep_owner(&config.pass.store_path);
    writeln!(
        out,
        "connected: {} company {}{}",
        provider.system(),
        name.as_deref().unwrap_or(&company),
        name.as_ref()
            .map(|_| format!(" ({company})"))
            .unwrap_or_default()
    )
    .map_err(io)?;
    Ok(())
}

/// The section of `provider` in the config.
fn provider_config(config: &Config, provider: Provider) -> Result<&ProviderConfig, CommandError> {
    match &config.pass.provider {
        Some(settings) if settings.provider == provider => Ok(settings),
        _ => Err(CommandError::failed(
            Exit::Config,
            format!(
                "the config reads no export from {}'s API: set [source] preset = \"{}\", from = \
                 \"api\", and a [{}] section",
                provider.system(),
                match provider {
                    Provider::Quickbooks => "quickbooks-online",
                    Provider::Xero => "xero",
                },
                provider.name()
            ),
        )),
    }
}

fn oauth_failed(error: OAuthError) -> CommandError {
    let code = match error {
        OAuthError::InvalidGrant { .. } | OAuthError::Refused { .. } => Exit::Unauthorized,
        OAuthError::Unavailable { .. } => Exit::Unavailable,
    };
    CommandError::failed(code, error.to_string())
}

/// One of Xero's connections (an organisation the consent covers).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct XeroConnection {
    tenant_id: String,
    tenant_name: Option<String>,
}

/// The organisation the link reads: the one `--tenant` names (id or name), or the only one.
async fn xero_tenant(
    settings: &ProviderConfig,
    tokens: &Tokens,
    wanted: Option<&str>,
) -> Result<(String, Option<String>), CommandError> {
    let unavailable = |e: String| CommandError::failed(Exit::Unavailable, e);
    let url = settings
        .connections_url
        .clone()
        .ok_or_else(|| CommandError::failed(Exit::Other, "no connections URL for Xero"))?;
    let answer = crate::provider::http::client()
        .map_err(|e| unavailable(e.to_string()))?
        .get(url)
        .bearer_auth(tokens.access.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| unavailable(e.without_url().to_string()))?;
    if !answer.status().is_success() {
        return Err(CommandError::failed(
            Exit::Unauthorized,
            format!(
                "Xero answered {} to the list of organisations",
                answer.status()
            ),
        ));
    }
    // A list of organisations is small: an answer past 1 MiB is not one to read.
    let body = crate::provider::http::body(answer, 1024 * 1024)
        .await
        .map_err(|e| unavailable(format!("the list of organisations: {e}")))?;
    let connections: Vec<XeroConnection> = serde_json::from_slice(&body)
        .map_err(|e| unavailable(format!("an unreadable list of organisations: {e}")))?;
    let chosen: Vec<&XeroConnection> = match wanted {
        Some(wanted) => (connections.iter())
            .filter(|c| {
                c.tenant_id.eq_ignore_ascii_case(wanted)
                    || c.tenant_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
            })
            .collect(),
        None => connections.iter().collect(),
    };
    match chosen.as_slice() {
        [one] => Ok((one.tenant_id.clone(), one.tenant_name.clone())),
        [] if wanted.is_some() => Err(CommandError::failed(
            Exit::Config,
            format!(
                "the consent covers no organisation {:?}: {}",
                wanted.unwrap_or_default(),
                list(&connections)
            ),
        )),
        [] => Err(CommandError::failed(
            Exit::Config,
            "the consent covers no organisation: approve one in Xero and connect again",
        )),
        _ => Err(CommandError::failed(
            Exit::Config,
            format!(
                "the consent covers several organisations: name one with --tenant ({})",
                list(&connections)
            ),
        )),
    }
}

fn list(connections: &[XeroConnection]) -> String {
    connections
        .iter()
        .map(|c| {
            format!(
                "{} ({})",
                c.tenant_name.as_deref().unwrap_or("?"),
                c.tenant_id
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Listens at `addr` for the browser's redirect: the first request's URL, answered with a page
/// saying to go back to the terminal.
async fn catch_redirect(addr: std::net::SocketAddr) -> Result<String, CommandError> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CommandError::failed(Exit::Config, format!("cannot listen on {addr}: {e}")))?;
    eprintln!("Waiting for the browser's redirect on {addr} ...");
    let (mut socket, _) = listener.accept().await.map_err(io)?;
    let mut request = vec![0u8; 16 * 1024];
    let mut read = 0;
    while read < request.len() {
        let n = socket.read(&mut request[read..]).await.map_err(io)?;
        read += n;
        if n == 0 || request[..read].windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let head = String::from_utf8_lossy(&request[..read]).into_owned();
    let target = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let page = "<html><body>bluetape-sync: you can close this window and go back to the terminal.</body></html>";
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = socket.write_all(answer.as_bytes()).await;
    Ok(format!("http://{addr}{target}"))
}

/// `connect --status`: the linked company, when it was linked, and when its refresh token
/// expires.
pub fn status(
    config: &Config,
    provider: Provider,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    provider_config(config, provider)?;
    let store = super::open_store(config)?;
    let link = match store {
        Some(store) => store.link(provider.name(), now_ms())?,
        None => None,
    };
    let Some(link) = link else {
        return Err(CommandError::failed(
            Exit::Config,
            format!(
                "{} is not connected: run bluetape-sync connect {}",
                provider.system(),
                provider.name()
            ),
        ));
    };
    let when = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    writeln!(out, "provider        {}", provider.system()).map_err(io)?;
    writeln!(
        out,
        "company         {}",
        link.company_name.as_deref().unwrap_or(&link.company_id)
    )
    .map_err(io)?;
    writeln!(out, "company id      {}", link.company_id).map_err(io)?;
    writeln!(out, "linked at       {}", when(link.linked_at_ms)).map_err(io)?;
    writeln!(out, "refreshed at    {}", when(link.refreshed_at_ms)).map_err(io)?;
    let expiry = link
        .tokens
        .refresh_expires_ms
        .map_or_else(|| "-".to_owned(), when);
    writeln!(out, "refresh expires {expiry}").map_err(io)?;
    Ok(())
}

/// `disconnect`: the link revoked at the provider and forgotten.
pub async fn disconnect(
    config: &Config,
    provider: Provider,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let settings = provider_config(config, provider)?;
    let _lock = InstanceLock::acquire(&config.pass.store_path)
        .map_err(|e| CommandError::failed(Exit::Locked, e.to_string()))?;
    let Some(store) = Store::open_existing(&config.pass.store_path)? else {
        return Err(CommandError::failed(
            Exit::Config,
            format!("{} is not connected", provider.system()),
        ));
    };
    let Some(link) = store.link(provider.name(), now_ms())? else {
        return Err(CommandError::failed(
            Exit::Config,
            format!("{} is not connected", provider.system()),
        ));
    };
    if let Some(refresh) = &link.tokens.refresh {
        let (secret, _) = settings
            .client_secret()
            .map_err(|e| CommandError::failed(Exit::Config, e))?;
        let oauth = OAuth::new(settings, &secret)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        oauth.revoke(refresh).await.map_err(oauth_failed)?;
    }
    store.unlink(provider.name())?;
    drop(store);
    crate::store::keep_owner(&config.pass.store_path);
    writeln!(
        out,
        "disconnected: {} company {}",
        provider.system(),
        link.company_id
    )
    .map_err(io)?;
    Ok(())
}
