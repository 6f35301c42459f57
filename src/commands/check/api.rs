//! `check` of an export read from an API (SPEC §11): the link as the store holds it and,
//! online, one small read through it. Beside the running daemon, which alone refreshes the
//! link's tokens, `check --online` reads with the access token the daemon stored, never
//! refreshing it: two processes never race into `invalid_grant`.

use std::io::Write;

use super::super::{CommandError, io, open_store};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::daemon::lock::{InstanceLock, LockError};
use crate::pass::{LinkUse, PassError};
use crate::provider::config::ProviderConfig;
use crate::provider::fetch::FetchError;
use crate::source::timestamp::now_ms;

/// How `check` reads the exports.
pub(super) enum Reading {
    /// From their files.
    Files,
    /// From an API, offline: not at all.
    NotOnline,
    /// From an API, online, through the link as `link_use` allows. With the store's lock
    /// held until `check` ends, the link may be refreshed.
    Online {
        link_use: LinkUse,
        lock: Option<InstanceLock>,
    },
}

impl Reading {
    /// How `check` reads `config`'s exports: for an API, says which link it reads through.
    pub(super) fn of(
        config: &Config,
        online: bool,
        out: &mut dyn Write,
    ) -> Result<Self, CommandError> {
        let provider = match (&config.pass.provider, config.pass.source.from_api) {
            (Some(provider), true) => provider,
            _ => return Ok(Reading::Files),
        };
        say_link(config, provider, out)?;
        if !online {
            writeln!(
                out,
                "export: read from the {} API at each pass; check --online reads a sample",
                provider.provider.system()
            )
            .map_err(io)?;
            return Ok(Reading::NotOnline);
        }
        Ok(match InstanceLock::acquire(&config.pass.store_path) {
            Ok(lock) => Reading::Online {
                link_use: LinkUse::Owner,
                lock: Some(lock),
            },
            Err(e) => {
                let holder = match e {
                    LockError::Held {
                        holder: Some(pid), ..
                    } => format!(" (pid {pid})"),
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "the running daemon{holder} holds the {} connection: reading with the access \
                     token it stored, never refreshing it",
                    provider.provider.system()
                )
                .map_err(io)?;
                Reading::Online {
                    link_use: LinkUse::Borrowed,
                    lock: None,
                }
            }
        })
    }

    /// How an export read from an API may use its link; `None` when it is not read.
    pub(super) fn link_use(&self) -> Option<LinkUse> {
        match self {
            Reading::Files => Some(LinkUse::Owner),
            Reading::NotOnline => None,
            Reading::Online { link_use, .. } => Some(*link_use),
        }
    }

    pub(super) fn samples(&self) -> bool {
        matches!(self, Reading::Online { .. })
    }

    /// `check` is done: run as root with the lock, what it made beside a service's store
    /// goes back to the store's owner.
    pub(super) fn finish(self, config: &Config) {
        if let Reading::Online {
            lock: Some(lock), ..
        } = self
        {
            drop(lock);
            crate::store::keep_owner(&config.pass.store_path);
        }
    }
}

/// Whether a read could not be made beside the running daemon (its access token expired or
/// refused): said, not failed.
pub(super) fn held(error: &PassError) -> bool {
    matches!(error, PassError::Fetch(FetchError::Held { .. }))
}

/// The link as the store holds it: one line, or not connected (exit 78, as a pass).
fn say_link(
    config: &Config,
    provider: &ProviderConfig,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let name = provider.provider.name();
    let link = match open_store(config)? {
        Some(store) => store.link(name, now_ms())?,
        None => None,
    };
    let Some(link) = link else {
        return Err(CommandError::failed(
            Exit::Config,
            PassError::NotConnected {
                provider: provider.provider,
            }
            .to_string(),
        ));
    };
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let expires = match link.tokens.refresh_expires_ms {
        Some(ms) => format!(", refresh token expires {}", day(ms)),
        None => String::new(),
    };
    writeln!(
        out,
        "connection: {} company {} (linked {}{expires})",
        provider.provider.system(),
        link.company_name.as_deref().unwrap_or(&link.company_id),
        day(link.linked_at_ms)
    )
    .map_err(io)
}
