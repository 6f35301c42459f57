//! A lane read from an accounting system's API (SPEC §11, `from = "api"`): the link's tokens
//! kept fresh through the store, the change set since the watermark fetched into a spool file
//! beside the store, then staged as an export is. A read that fails stages nothing.

use std::path::PathBuf;

use chrono::DateTime;
use secrecy::SecretString;

use super::PassError;
use super::config::PassConfig;
use super::lane::Lane;
use crate::provider::Provider;
use crate::provider::config::ProviderConfig;
use crate::provider::fetch::{self, FetchError, Read};
use crate::provider::limits::Limits;
use crate::provider::oauth::{OAuth, OAuthError};
use crate::provider::requests;
use crate::source::Keep;
use crate::source::mapping::{Path, SourceFormat};
use crate::source::size::ByteSize;
use crate::source::timestamp::{duration_ms, now_ms};
use crate::store::{Link, Store};

/// How long before its expiry an access token is refreshed.
const REFRESH_AHEAD_MS: i64 = 60_000;

/// Where the store keeps, per lane, when its last read of deletions began (ms).
const DELETIONS_READ: &str = "deletions_read_ms";

/// A spool file, removed when the pass is done with it.
#[derive(Debug)]
pub(super) struct Spool {
    path: PathBuf,
    /// When this read of deletions began, kept once the lane is staged.
    deletions_read: Option<i64>,
}

impl Spool {
    pub(super) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// After the lane was staged whole: the next read of deletions starts where this one
    /// began. Read again after a crash before this, a deletion is decided the same way.
    pub(super) fn staged(&self, store: &Store, lane: &Lane) -> Result<(), PassError> {
        if let Some(began) = self.deletions_read {
            store.set_setting(lane.name(), DELETIONS_READ, &began.to_string())?;
        }
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// How a read may use the link's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkUse {
    /// This process holds the store's lock: it refreshes the tokens when they need it.
    Owner,
    /// `check --online` beside the running daemon, which alone refreshes: the access token
    /// it stored, while it is valid.
    Borrowed,
}

/// How many records `check --online` reads as a sample: one small request.
const SAMPLE: usize = 5;

/// What one read asks for.
struct Asked {
    full: bool,
    sample: Option<usize>,
    link_use: LinkUse,
    spool: PathBuf,
}

/// Fetches `lane`'s change set: the lane to stage (reading the spool), and the spool.
pub(super) async fn fetch_lane(
    config: &PassConfig,
    store: Store,
    lane: &Lane,
    full: bool,
) -> Result<(Store, Lane, Spool), PassError> {
    let asked = Asked {
        full,
        sample: None,
        link_use: LinkUse::Owner,
        spool: spool_path(config, lane, ""),
    };
    fetch_into(config, store, lane, asked).await
}

/// Fetches a sample of `lane`'s records, the first few the API lists (`check --online`).
pub(super) async fn sample_lane(
    config: &PassConfig,
    store: Store,
    lane: &Lane,
    link_use: LinkUse,
) -> Result<(Store, Lane, Spool), PassError> {
    let asked = Asked {
        full: true,
        sample: Some(SAMPLE),
        link_use,
        spool: spool_path(config, lane, &format!(".sample-{}", std::process::id())),
    };
    fetch_into(config, store, lane, asked).await
}

async fn fetch_into(
    config: &PassConfig,
    store: Store,
    lane: &Lane,
    asked: Asked,
) -> Result<(Store, Lane, Spool), PassError> {
    let provider_config = config.provider.as_ref().ok_or_else(|| {
        PassError::Internal("an export read from an API without its provider".into())
    })?;
    let provider = provider_config.provider;
    let now = now_ms();
    let link = store
        .link(provider.name(), now)?
        .ok_or(PassError::NotConnected { provider })?;
    if asked.sample.is_none() {
        warn_if_expiring(provider, &link, now);
    }
    let full = asked.full;
    let since = match (full, store.watermark(lane.name())?) {
        (false, Some(mark)) => mark.saturating_sub(duration_ms(lane.source.lookback)),
        _ => 0,
    };
    let since = DateTime::from_timestamp_millis(since).unwrap_or_default();
    let deletions_since = match full {
        true => None,
        false => (store.setting(lane.name(), DELETIONS_READ)?)
            .and_then(|ms| ms.parse::<i64>().ok())
            .map(|ms| ms.saturating_sub(duration_ms(lane.source.lookback)))
            .and_then(DateTime::from_timestamp_millis),
    };
    let mut spool = Spool {
        path: asked.spool,
        deletions_read: None,
    };
    let mut keeper = Keeper::new(provider_config, store, link, asked.link_use)?;
    let http = crate::provider::http::client()?;
    let company = keeper.link.company_id.clone();
    let keep = kept(lane, provider);
    let read = Read {
        provider,
        base: &provider_config.base_url,
        company: &company,
        kind: lane.kind,
        keep: &keep,
        max_record_bytes: lane.source.max_row_bytes,
        since,
        deletions_since,
        sample: asked.sample,
    };
    let limits = Limits::for_provider(provider);
    let fetched = fetch::fetch(&http, &read, &mut keeper, &limits, &spool.path).await;
    let store = keeper.store;
    spool.deletions_read = (fetched.map_err(PassError::Fetch)?)
        .deletions_read
        .map(|at| at.timestamp_millis());
    // The spool is read as an export of NDJSON records, written just now: nothing to settle.
    let mut source = lane.source.clone();
    source.path = spool.path.clone();
    source.format = SourceFormat::Ndjson;
    source.records_path = Vec::new();
    source.settle = std::time::Duration::ZERO;
    // The budget held each record's kept values; a line also holds their keys.
    source.max_row_bytes = ByteSize(lane.source.max_row_bytes.0.saturating_mul(2));
    source.from_api = false;
    source.origin = Some(format!(
        "{} API ({}s read this pass)",
        provider.system(),
        lane.noun()
    ));
    Ok((store, lane.with_source(source), spool))
}

/// What a read keeps of each record: what the lane reads, the paging keys, and the value a
/// store moved from an export matches its records by.
fn kept(lane: &Lane, provider: Provider) -> Keep {
    let mut keep = Keep::for_config(&lane.source);
    let moved = (lane.source.preset.and_then(|p| p.moved_ids())).map(|m| m.same_value);
    let paths = requests::key_paths(provider, lane.kind)
        .into_iter()
        .chain(moved.iter().flat_map(|same| same.split('|')));
    for path in paths {
        if let Ok(path) = Path::parse(path.trim(), true) {
            keep.also(&path);
        }
    }
    keep
}

/// Where a lane's change set is spooled: beside the store, so it is on a disk this program
/// may write and never in memory.
fn spool_path(config: &PassConfig, lane: &Lane, tag: &str) -> PathBuf {
    let name = format!(
        "{}.{}{tag}.spool",
        config
            .store_path
            .file_name()
            .map_or_else(|| "state.db".into(), |n| n.to_string_lossy()),
        lane.noun()
    );
    config.store_path.with_file_name(name)
}

/// The link's tokens: the stored access token while it is good, else a refresh, whose
/// rotated refresh token is committed to the store before the access token is used.
struct Keeper {
    provider: Provider,
    oauth: OAuth,
    store: Store,
    link: Link,
    link_use: LinkUse,
}

impl Keeper {
    fn new(
        config: &ProviderConfig,
        store: Store,
        link: Link,
        link_use: LinkUse,
    ) -> Result<Self, PassError> {
        let (secret, _) = config
            .client_secret()
            .map_err(|detail| PassError::Provider { detail })?;
        Ok(Self {
            provider: config.provider,
            oauth: OAuth::new(config, &secret)?,
            store,
            link,
            link_use,
        })
    }

    async fn refresh(&mut self) -> Result<SecretString, FetchError> {
        if self.link_use == LinkUse::Borrowed {
            return Err(FetchError::Held {
                system: self.provider.system(),
            });
        }
        let now = now_ms();
        let refresh = self.link.tokens.refresh.clone();
        let answer = match refresh {
            Some(token) => match self.oauth.refresh(&token, now).await {
                // The token before the last rotation, while its grace lasts: the answer that
                // carried the current one may not be the provider's last.
                Err(OAuthError::InvalidGrant { .. }) if self.link.previous_refresh.is_some() => {
                    let previous = self.link.previous_refresh.clone().unwrap_or(token);
                    self.oauth.refresh(&previous, now).await
                }
                other => other,
            },
            // Xero's Custom Connections have no refresh token: the app asks again.
            None => self.oauth.client_credentials(now).await,
        };
        let tokens = answer.map_err(|e| self.oauth_failed(e))?;
        let grace = now.saturating_add(grace_ms(self.provider));
        self.store
            .rotate(self.provider.name(), &tokens, grace, now)
            .map_err(|e| FetchError::Unavailable {
                system: self.provider.system(),
                detail: format!("the new tokens could not be kept: {e}"),
            })?;
        let access = tokens.access.clone();
        // As `rotate` keeps them: a new refresh token replaces the current one, which becomes
        // the previous; without one, the current stays.
        let current = self.link.tokens.refresh.take();
        if tokens.refresh.is_some() {
            self.link.previous_refresh = current.clone();
        }
        self.link.tokens = crate::store::Tokens {
            refresh: tokens.refresh.or(current),
            ..tokens
        };
        Ok(access)
    }

    fn oauth_failed(&self, error: OAuthError) -> FetchError {
        match error {
            OAuthError::InvalidGrant { .. } | OAuthError::Refused { .. } => FetchError::Expired {
                system: self.provider.system(),
                name: self.provider.name(),
            },
            OAuthError::Unavailable { detail, .. } => FetchError::Unavailable {
                system: self.provider.system(),
                detail,
            },
        }
    }
}

impl fetch::Tokens for Keeper {
    async fn access(&mut self) -> Result<SecretString, FetchError> {
        // Beside the daemon, the stored token is used for as long as it is good at all.
        let ahead = match self.link_use {
            LinkUse::Owner => REFRESH_AHEAD_MS,
            LinkUse::Borrowed => 0,
        };
        if self.link.tokens.access_expires_ms > now_ms().saturating_add(ahead) {
            return Ok(self.link.tokens.access.clone());
        }
        self.refresh().await
    }

    async fn refreshed(&mut self) -> Result<SecretString, FetchError> {
        self.refresh().await
    }
}

/// Fourteen days before the link's refresh token is known to expire (QuickBooks' 100-day and
/// five-year limits), every pass says so: a person must run `connect` before it breaks.
fn warn_if_expiring(provider: Provider, link: &Link, now: i64) {
    const AHEAD_MS: i64 = 14 * 24 * 3600 * 1000;
    let Some(expires) = link.tokens.refresh_expires_ms else {
        return;
    };
    if expires.saturating_sub(now) < AHEAD_MS {
        let days = (expires.saturating_sub(now) / (24 * 3600 * 1000)).max(0);
        tracing::warn!(
            "the {} connection expires in {days} days: run bluetape-sync connect {} before then",
            provider.system(),
            provider.name()
        );
    }
}

/// How long a provider still honours the refresh token a rotation replaced.
fn grace_ms(provider: Provider) -> i64 {
    match provider {
        Provider::Xero => 30 * 60 * 1000,
        // Intuit retires a refresh token as soon as it issues the next one.
        Provider::Quickbooks => 0,
    }
}
