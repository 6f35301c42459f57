//! Reading an accounting system's API instead of a file (SPEC §11, `[source] from = "api"`):
//! QuickBooks Online and Xero. The station sits after the BlueTape client (it shares its
//! transport rules) and before the pass: it links a company (`connect`), keeps the link's
//! tokens fresh through the store, and fetches the records changed since the watermark into a
//! spool file that the source's JSON reader then reads as it reads an export.

mod ask;
pub mod config;
mod deleted_invoices;
pub mod fetch;
pub mod http;
pub mod limits;
pub mod oauth;
pub mod paging;
pub mod requests;

use std::fmt;

/// An accounting system whose API the daemon reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Quickbooks,
    Xero,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Quickbooks, Provider::Xero];

    /// Its name in the config (`[quickbooks]`), on the command line and in the store.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Quickbooks => "quickbooks",
            Provider::Xero => "xero",
        }
    }

    /// As its users know it.
    pub fn system(self) -> &'static str {
        match self {
            Provider::Quickbooks => "QuickBooks Online",
            Provider::Xero => "Xero",
        }
    }

    /// The systemd credential holding the app's client secret.
    pub fn secret_credential(self) -> &'static str {
        match self {
            Provider::Quickbooks => "quickbooks-client-secret",
            Provider::Xero => "xero-client-secret",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Provider {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| format!("unknown provider `{name}`: use quickbooks or xero"))
    }
}
