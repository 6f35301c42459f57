//! The OAuth 2.0 side both fake providers share: consent (`authorize`), the token endpoint
//! with rotating refresh tokens, revocation, and bearer checks on data calls.
//!
//! As the providers document it: every refresh returns a new refresh token and retires the one
//! used; QuickBooks retires it at once, Xero after a grace (30 minutes) during which the old one
//! still answers with the same new token. A retired, expired, revoked or unknown refresh token
//! gets 400 `{"error":"invalid_grant"}`; a wrong client 401 `{"error":"invalid_client"}`.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fake_provider::{Fault, ProviderRequest, Reply, field};

#[path = "fake_oauth_token.rs"]
mod token;

pub const CLIENT_ID: &str = "fake-client-id";
pub const CLIENT_SECRET: &str = "fake-client-secret";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Quickbooks,
    Xero,
}

/// One consent (or Xero Custom Connection): the companies it covers.
struct Grant {
    companies: Vec<String>,
    revoked: bool,
    /// A client-credentials grant: one organisation, no `xero-tenant-id` needed.
    custom: bool,
}

struct Code {
    grant: u64,
    redirect_uri: String,
    challenge: Option<String>,
    used: bool,
}

struct Refresh {
    grant: u64,
    expires: Instant,
    retired_at: Option<Instant>,
    /// The refresh token this one was exchanged for.
    successor: Option<String>,
}

struct Access {
    grant: u64,
    expires: Instant,
}

/// What a bearer token may read.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub grant: u64,
    pub companies: Vec<String>,
    pub custom: bool,
}

/// The token endpoint's outcome: an answer, or the connection dropped after the work was done.
pub enum TokenOutcome {
    Reply(Reply),
    Drop,
}

pub struct OAuth {
    flavor: Flavor,
    pub client_id: String,
    pub client_secret: String,
    pub access_lifetime: Duration,
    pub refresh_lifetime: Duration,
    pub grace: Duration,
    /// Added to the real clock: lets a test step past a grace or an expiry without waiting.
    pub offset: Duration,
    pub deny_consent: bool,
    pub lose_next: usize,
    pub token_faults: VecDeque<Fault>,
    pub token_calls: usize,
    pub refreshes: usize,
    /// Refresh grants that presented an already rotated refresh token (answered within a
    /// grace, or refused): two holders of one token racing, or a lost answer recovered.
    pub reused_refresh_tokens: usize,
    grants: HashMap<u64, Grant>,
    codes: HashMap<String, Code>,
    refresh: HashMap<String, Refresh>,
    access: HashMap<String, Access>,
    seq: u64,
}

impl OAuth {
    pub fn new(flavor: Flavor) -> Self {
        let (access, grace) = match flavor {
            Flavor::Quickbooks => (3600, Duration::ZERO),
            Flavor::Xero => (1800, Duration::from_secs(30 * 60)),
        };
        Self {
            flavor,
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            access_lifetime: Duration::from_secs(access),
            // Intuit: 100 days rolling; Xero: 60 days unused.
            refresh_lifetime: Duration::from_secs(match flavor {
                Flavor::Quickbooks => 8_726_400,
                Flavor::Xero => 60 * 86_400,
            }),
            grace,
            offset: Duration::ZERO,
            deny_consent: false,
            lose_next: 0,
            token_faults: VecDeque::new(),
            token_calls: 0,
            refreshes: 0,
            reused_refresh_tokens: 0,
            grants: HashMap::new(),
            codes: HashMap::new(),
            refresh: HashMap::new(),
            access: HashMap::new(),
            seq: 0,
        }
    }

    pub fn now(&self) -> Instant {
        Instant::now() + self.offset
    }

    fn token(&mut self, kind: &str) -> String {
        self.seq += 1;
        format!("{kind}-{}-{:016x}", self.seq, rand::random::<u64>())
    }

    /// The consent screen, approved at once: 302 to `redirect_uri` with `code` and `state`
    /// (QuickBooks adds `realmId`), or `error=access_denied` when consent is refused.
    pub fn authorize(&mut self, req: &ProviderRequest, companies: Vec<String>) -> Reply {
        let refuse = |why: &str| Reply {
            status: 400,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: why.to_owned(),
        };
        if req.param("client_id") != Some(self.client_id.as_str()) {
            return refuse("invalid_client: unknown client_id");
        }
        if req.param("response_type") != Some("code") {
            return refuse("unsupported_response_type");
        }
        let Some(redirect) = req.param("redirect_uri").filter(|r| !r.is_empty()) else {
            return refuse("invalid_request: redirect_uri missing");
        };
        if req.param("scope").is_none_or(str::is_empty) {
            return refuse("invalid_scope: scope missing");
        }
        let challenge = req.param("code_challenge").map(str::to_owned);
        if challenge.is_some() && req.param("code_challenge_method") != Some("S256") {
            return refuse("invalid_request: code_challenge_method must be S256");
        }
        let Ok(mut location) = url::Url::parse(redirect) else {
            return refuse("invalid_request: redirect_uri is not a URL");
        };
        {
            let mut query = location.query_pairs_mut();
            if self.deny_consent {
                query.append_pair("error", "access_denied");
            } else {
                let code = self.token("code");
                self.seq += 1;
                let grant = self.seq;
                self.grants.insert(
                    grant,
                    Grant {
                        companies: companies.clone(),
                        revoked: false,
                        custom: false,
                    },
                );
                self.codes.insert(
                    code.clone(),
                    Code {
                        grant,
                        redirect_uri: redirect.to_owned(),
                        challenge,
                        used: false,
                    },
                );
                query.append_pair("code", &code);
            }
            if let Some(state) = req.param("state") {
                query.append_pair("state", state);
            }
            if self.flavor == Flavor::Quickbooks && !self.deny_consent {
                query.append_pair("realmId", &companies[0]);
            }
        }
        Reply {
            status: 302,
            headers: vec![("location".into(), location.to_string())],
            body: String::new(),
        }
    }

    /// `POST revoke_url` with `token=...` (form, or Intuit's JSON `{"token": ...}`): the
    /// grant the token belongs to is revoked, every token of it with it.
    pub fn revoke_endpoint(&mut self, req: &ProviderRequest) -> Reply {
        if self.client_of(req) != Some(true) {
            return Reply::json(401, &json!({"error": "invalid_client"}));
        }
        let token = (serde_json::from_str::<Value>(&req.body).ok())
            .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned))
            .or_else(|| field(&req.form(), "token").map(str::to_owned))
            .unwrap_or_default();
        let grant = (self.refresh.get(&token).map(|r| r.grant))
            .or_else(|| self.access.get(&token).map(|a| a.grant));
        if let Some(grant) = grant.and_then(|g| self.grants.get_mut(&g)) {
            grant.revoked = true;
        }
        // Both providers answer 200 for a token they do not know (RFC 7009).
        Reply::json(200, &json!({}))
    }

    /// The grant behind `Authorization: Bearer`, or why it is refused (401).
    pub fn bearer(&self, req: &ProviderRequest) -> Result<Bearer, &'static str> {
        let token = (req.header("authorization"))
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or("no bearer token")?;
        let access = self.access.get(token.trim()).ok_or("unknown token")?;
        if self.now() >= access.expires {
            return Err("token expired");
        }
        let grant = self.grants.get(&access.grant).ok_or("unknown token")?;
        if grant.revoked {
            return Err("token revoked");
        }
        Ok(Bearer {
            grant: access.grant,
            companies: grant.companies.clone(),
            custom: grant.custom,
        })
    }

    /// Xero's `DELETE /connections/{id}`: the grant no longer covers `company`.
    pub fn disconnect(&mut self, grant: u64, company: &str) -> bool {
        let Some(grant) = self.grants.get_mut(&grant) else {
            return false;
        };
        let before = grant.companies.len();
        grant.companies.retain(|c| c != company);
        grant.companies.len() < before
    }

    pub fn revoke_all(&mut self) {
        for grant in self.grants.values_mut() {
            grant.revoked = true;
        }
    }

    pub fn expire_access_tokens(&mut self) {
        let now = self.now();
        for access in self.access.values_mut() {
            access.expires = now;
        }
    }

    /// Refresh tokens that would be accepted now (not retired past their grace).
    pub fn live_refresh_tokens(&self) -> usize {
        let now = self.now();
        (self.refresh.values())
            .filter(|r| self.grants.get(&r.grant).is_some_and(|g| !g.revoked))
            .filter(|r| now < r.expires)
            .filter(|r| {
                r.retired_at
                    .is_none_or(|at| now.duration_since(at) < self.grace)
            })
            .count()
    }

    /// A consent made without the browser: a refresh token for `companies`, as if `connect`
    /// had run (for tests that start from a linked store).
    pub fn mint(&mut self, companies: Vec<String>) -> (String, String) {
        self.seq += 1;
        let grant = self.seq;
        self.grants.insert(
            grant,
            Grant {
                companies,
                revoked: false,
                custom: false,
            },
        );
        let reply = self.issue(grant, None);
        let body: Value = serde_json::from_str(&reply.body).expect("token answer");
        (
            body["access_token"].as_str().unwrap_or_default().to_owned(),
            body["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }
}
