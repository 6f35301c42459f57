//! The token endpoint: a code, a refresh token or (Xero) the client's own credentials
//! exchanged for tokens, each refresh rotating the refresh token.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Access, Flavor, Grant, OAuth, Refresh, TokenOutcome};
use crate::support::fake_provider::{Fault, ProviderRequest, Reply, field};

impl OAuth {
    /// `POST token_url`: `authorization_code`, `refresh_token` (and Xero's
    /// `client_credentials`), the client authenticated by HTTP Basic.
    pub fn token_endpoint(
        &mut self,
        req: &ProviderRequest,
        companies: Vec<String>,
    ) -> TokenOutcome {
        self.token_calls += 1;
        if let Some(fault) = self.token_faults.pop_front() {
            return match fault {
                Fault::Reply(reply) => TokenOutcome::Reply(reply),
                Fault::Drop => TokenOutcome::Drop,
                Fault::Slow(_) => TokenOutcome::Reply(self.exchange(req, companies)),
            };
        }
        let reply = self.exchange(req, companies);
        if self.lose_next > 0 && reply.status == 200 {
            self.lose_next -= 1;
            return TokenOutcome::Drop;
        }
        TokenOutcome::Reply(reply)
    }

    fn exchange(&mut self, req: &ProviderRequest, companies: Vec<String>) -> Reply {
        let error = |status: u16, code: &str| Reply::json(status, &json!({"error": code}));
        if req.method != "POST" {
            return error(405, "invalid_request");
        }
        let form = req.form();
        let basic = self.client_of(req);
        let public_pkce = self.flavor == Flavor::Xero
            && basic.is_none()
            && field(&form, "client_id") == Some(self.client_id.as_str())
            && field(&form, "code_verifier").is_some();
        match basic {
            Some(true) => {}
            Some(false) => return error(401, "invalid_client"),
            None if public_pkce => {}
            None => return error(401, "invalid_client"),
        }
        match field(&form, "grant_type") {
            Some("authorization_code") => {
                let code = field(&form, "code").unwrap_or("");
                let Some(found) = self.codes.get_mut(code) else {
                    return error(400, "invalid_grant");
                };
                if found.used || field(&form, "redirect_uri") != Some(found.redirect_uri.as_str()) {
                    return error(400, "invalid_grant");
                }
                if let Some(challenge) = &found.challenge {
                    let verifier = field(&form, "code_verifier").unwrap_or("");
                    let hashed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    if &hashed != challenge {
                        return error(400, "invalid_grant");
                    }
                }
                found.used = true;
                let grant = found.grant;
                self.issue(grant, None)
            }
            Some("refresh_token") => {
                let token = field(&form, "refresh_token").unwrap_or("").to_owned();
                self.rotate(&token)
                    .unwrap_or_else(|| error(400, "invalid_grant"))
            }
            Some("client_credentials") if self.flavor == Flavor::Xero => {
                self.seq += 1;
                let grant = self.seq;
                let first = companies.into_iter().take(1).collect();
                self.grants.insert(
                    grant,
                    Grant {
                        companies: first,
                        revoked: false,
                        custom: true,
                    },
                );
                let access = self.token("access");
                let expires = self.now() + self.access_lifetime;
                self.access
                    .insert(access.clone(), Access { grant, expires });
                Reply::json(
                    200,
                    &json!({
                        "access_token": access,
                        "expires_in": self.access_lifetime.as_secs(),
                        "token_type": "Bearer",
                        "scope": "accounting.contacts.read accounting.invoices.read",
                    }),
                )
            }
            _ => error(400, "unsupported_grant_type"),
        }
    }

    /// Whether the request's HTTP Basic credentials are the client's (`None`: none sent).
    pub(super) fn client_of(&self, req: &ProviderRequest) -> Option<bool> {
        let encoded = req.header("authorization")?.strip_prefix("Basic ")?;
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let expected = format!("{}:{}", self.client_id, self.client_secret);
        Some(decoded == expected.as_bytes())
    }

    fn rotate(&mut self, token: &str) -> Option<Reply> {
        let now = self.now();
        let old = self.refresh.get(token)?;
        if old.retired_at.is_some() {
            self.reused_refresh_tokens += 1;
        }
        let old = self.refresh.get(token)?;
        let grant = self.grants.get(&old.grant)?;
        if grant.revoked || now >= old.expires {
            return None;
        }
        let grant_id = old.grant;
        match (old.retired_at, &old.successor) {
            (None, _) => {
                self.refreshes += 1;
                let reply = self.issue(grant_id, None);
                let new = reply_refresh(&reply);
                let old = self.refresh.get_mut(token)?;
                old.retired_at = Some(now);
                old.successor = new;
                Some(reply)
            }
            // Within the grace the old token answers with the token it was exchanged for.
            (Some(at), Some(successor)) if now.duration_since(at) < self.grace => {
                let successor = successor.clone();
                self.refreshes += 1;
                Some(self.issue(grant_id, Some(successor)))
            }
            _ => None,
        }
    }

    /// A new access token, with `refresh` as its refresh token or a new one.
    pub(super) fn issue(&mut self, grant: u64, refresh: Option<String>) -> Reply {
        let now = self.now();
        let access = self.token("access");
        self.access.insert(
            access.clone(),
            Access {
                grant,
                expires: now + self.access_lifetime,
            },
        );
        let refresh = refresh.unwrap_or_else(|| {
            let token = self.token("refresh");
            self.refresh.insert(
                token.clone(),
                Refresh {
                    grant,
                    expires: now + self.refresh_lifetime,
                    retired_at: None,
                    successor: None,
                },
            );
            token
        });
        let body = match self.flavor {
            Flavor::Quickbooks => json!({
                "token_type": "bearer",
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": self.access_lifetime.as_secs(),
                "x_refresh_token_expires_in": self.refresh_lifetime.as_secs(),
            }),
            Flavor::Xero => json!({
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": self.access_lifetime.as_secs(),
                "token_type": "Bearer",
                "scope": "offline_access accounting.contacts.read accounting.invoices.read",
            }),
        };
        Reply::json(200, &body)
    }
}

fn reply_refresh(reply: &Reply) -> Option<String> {
    let body: Value = serde_json::from_str(&reply.body).ok()?;
    body.get("refresh_token")?.as_str().map(str::to_owned)
}
