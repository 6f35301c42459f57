//! The store's links to accounting systems' APIs (SPEC §11): which company each reads, and
//! its OAuth tokens. Tokens never leave the store but to authorise a request: they are
//! [`SecretString`]s, never shown by `Debug`. A rotated refresh token is committed before the
//! access token that came with it is used, and the one it replaced is kept for the provider's
//! grace period, so an answer lost to a crash never leaves the link without a token that works.

use rusqlite::{OptionalExtension, params};
use secrecy::{ExposeSecret, SecretString};

use super::{Store, StoreError};

/// What a token endpoint answered: an access token, and (both providers rotate them) the
/// refresh token to use next.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: SecretString,
    pub access_expires_ms: i64,
    pub refresh: Option<SecretString>,
    /// When the refresh token stops working, where the provider says.
    pub refresh_expires_ms: Option<i64>,
}

/// A link as the store keeps it.
#[derive(Debug, Clone)]
pub struct Link {
    pub provider: String,
    /// QuickBooks' realm id, Xero's tenant id.
    pub company_id: String,
    pub company_name: Option<String>,
    pub tokens: Tokens,
    /// The refresh token the last rotation replaced, while its grace period lasts.
    pub previous_refresh: Option<SecretString>,
    pub linked_at_ms: i64,
    pub refreshed_at_ms: i64,
}

impl Store {
    /// The link to `provider`, if one was made; a previous refresh token past its grace period
    /// (at `now_ms`) is not returned.
    pub fn link(&self, provider: &str, now_ms: i64) -> Result<Option<Link>, StoreError> {
        let secret = |text: Option<String>| text.map(SecretString::from);
        self.conn
            .query_row(
                "SELECT company_id, company_name, access_token, access_expires_ms, refresh_token,
                        refresh_expires_ms, previous_refresh_token, previous_until_ms,
                        linked_at_ms, refreshed_at_ms
                 FROM connections WHERE provider = ?1",
                [provider],
                |r| {
                    let previous_until: Option<i64> = r.get(7)?;
                    let previous = secret(r.get(6)?).filter(|_| previous_until > Some(now_ms));
                    Ok(Link {
                        provider: provider.to_owned(),
                        company_id: r.get(0)?,
                        company_name: r.get(1)?,
                        tokens: Tokens {
                            access: SecretString::from(r.get::<_, String>(2)?),
                            access_expires_ms: r.get(3)?,
                            refresh: secret(r.get(4)?),
                            refresh_expires_ms: r.get(5)?,
                        },
                        previous_refresh: previous,
                        linked_at_ms: r.get(8)?,
                        refreshed_at_ms: r.get(9)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Links `provider` to a company with its first tokens, replacing any earlier link.
    pub fn save_link(
        &self,
        provider: &str,
        company_id: &str,
        company_name: Option<&str>,
        tokens: &Tokens,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO connections (provider, company_id, company_name,
                    access_token, access_expires_ms, refresh_token, refresh_expires_ms,
                    previous_refresh_token, previous_until_ms, linked_at_ms, refreshed_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL, ?8, ?8)",
                params![
                    provider,
                    company_id,
                    company_name,
                    tokens.access.expose_secret(),
                    tokens.access_expires_ms,
                    tokens.refresh.as_ref().map(ExposeSecret::expose_secret),
                    tokens.refresh_expires_ms,
                    now_ms
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Keeps the tokens a refresh answered, before any of them is used: the refresh token they
    /// replace is kept until `grace_until_ms`. A provider that answered no new refresh token
    /// leaves the current one in place.
    pub fn rotate(
        &self,
        provider: &str,
        tokens: &Tokens,
        grace_until_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE connections SET
                    previous_refresh_token = CASE WHEN ?4 IS NULL THEN previous_refresh_token
                                                  ELSE refresh_token END,
                    previous_until_ms = CASE WHEN ?4 IS NULL THEN previous_until_ms ELSE ?6 END,
                    access_token = ?2, access_expires_ms = ?3,
                    refresh_token = COALESCE(?4, refresh_token),
                    refresh_expires_ms = COALESCE(?5, refresh_expires_ms),
                    refreshed_at_ms = ?7
                 WHERE provider = ?1",
                params![
                    provider,
                    tokens.access.expose_secret(),
                    tokens.access_expires_ms,
                    tokens.refresh.as_ref().map(ExposeSecret::expose_secret),
                    tokens.refresh_expires_ms,
                    grace_until_ms,
                    now_ms
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Forgets the link to `provider`; whether there was one.
    pub fn unlink(&self, provider: &str) -> Result<bool, StoreError> {
        self.conn
            .execute("DELETE FROM connections WHERE provider = ?1", [provider])
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(access: &str, refresh: Option<&str>) -> Tokens {
        Tokens {
            access: SecretString::from(access),
            access_expires_ms: 1_000,
            refresh: refresh.map(SecretString::from),
            refresh_expires_ms: Some(9_000),
        }
    }

    #[test]
    fn a_rotated_refresh_token_is_kept_and_the_one_it_replaced_lasts_its_grace() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.db");
        {
            let store = Store::open(&path).expect("store");
            assert!(store.link("xero", 0).expect("read").is_none());
            store
                .save_link(
                    "xero",
                    "tenant-1",
                    Some("Demo Ltd"),
                    &tokens("a1", Some("r1")),
                    100,
                )
                .expect("link");
            store
                .rotate("xero", &tokens("a2", Some("r2")), 2_000, 200)
                .expect("rotate");
        }
        // Kept across processes: what a crash after the rotation leaves.
        let store = Store::open(&path).expect("store");
        let link = store.link("xero", 1_500).expect("read").expect("linked");
        assert_eq!(link.company_id, "tenant-1");
        assert_eq!(link.tokens.access.expose_secret(), "a2");
        let refresh = link
            .tokens
            .refresh
            .as_ref()
            .map(ExposeSecret::expose_secret);
        assert_eq!(refresh, Some("r2"));
        let previous = link
            .previous_refresh
            .as_ref()
            .map(ExposeSecret::expose_secret);
        assert_eq!(previous, Some("r1"), "within its grace");
        assert_eq!(link.refreshed_at_ms, 200);
        let later = store.link("xero", 2_000).expect("read").expect("linked");
        assert!(later.previous_refresh.is_none(), "past its grace");
        // No new refresh token: the current one stays, and so does the previous.
        store
            .rotate("xero", &tokens("a3", None), 5_000, 300)
            .expect("rotate");
        let link = store.link("xero", 1_500).expect("read").expect("linked");
        let refresh = link
            .tokens
            .refresh
            .as_ref()
            .map(ExposeSecret::expose_secret);
        assert_eq!(refresh, Some("r2"));
        assert!(!format!("{link:?}").contains("a3"), "tokens never in Debug");
        assert!(store.unlink("xero").expect("unlink"));
        assert!(store.link("xero", 0).expect("read").is_none());
    }
}
