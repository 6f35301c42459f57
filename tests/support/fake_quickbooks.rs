//! A fake QuickBooks Online on 127.0.0.1: Intuit's OAuth 2.0 (`fake_oauth.rs`), the query
//! endpoint (`GET /v3/company/{realmId}/query?query=...`, the grammar of
//! `fake_quickbooks_query.rs`) and change data capture (`GET .../cdc?entities=&changedSince=`,
//! deleted objects as `"status": "Deleted"`), with the limits Intuit sets per company (500
//! requests a minute, 10 at once: 429 beyond), injected faults, and hooks that change records
//! while a client reads them.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use hyper::Request;
use hyper::body::Incoming;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::fake_oauth::{Flavor, OAuth, TokenOutcome};
use super::fake_provider::{Answer, Fault, Gate, Load, OnDrop, ProviderRequest, Reply, serve};
pub use books::{Books, intuit_time};
use books::{cdc, fault_reply, query};
pub use query::Entity;

#[path = "fake_quickbooks_books.rs"]
mod books;
#[path = "fake_quickbooks_query.rs"]
mod query;

pub const REALM: &str = "9130357766900456";
pub const AUTH_PATH: &str = "/connect/oauth2";
pub const TOKEN_PATH: &str = "/oauth2/v1/tokens/bearer";
pub const REVOKE_PATH: &str = "/oauth2/v1/tokens/revoke";

type Change = Box<dyn FnOnce(&mut Books) + Send>;

struct State {
    oauth: OAuth,
    books: Books,
    requests: Vec<ProviderRequest>,
    queries: Vec<String>,
    /// Changes made right after the n-th data request (query or CDC) is answered.
    after: Vec<(usize, Change)>,
    data_requests: usize,
    faults: VecDeque<Fault>,
    load: Load,
    enforce_limits: bool,
    delay: Duration,
    /// How long the token endpoint takes before it reads a request (a slow identity
    /// service: two refreshes of one token in that time collide).
    token_delay: Duration,
    gate: Gate,
}

/// The running fake; it stops with its runtime.
#[derive(Clone)]
pub struct FakeQuickbooks {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeQuickbooks {
    /// A company `REALM` holding `tests/fixtures/quickbooks-online-{customers,invoices}.json`.
    pub async fn start() -> Self {
        let fake = Self::start_empty().await;
        for (file, entity) in [
            ("quickbooks-online-customers.json", Entity::Customer),
            ("quickbooks-online-invoices.json", Entity::Invoice),
        ] {
            let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("fixture");
            let page: Value = serde_json::from_str(&text).expect("fixture JSON");
            let list = page["QueryResponse"][entity.name()].as_array().cloned();
            for record in list.unwrap_or_default() {
                fake.books(|b| b.add(entity, record));
            }
        }
        fake
    }

    /// A company with no records.
    pub async fn start_empty() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            oauth: OAuth::new(Flavor::Quickbooks),
            books: Books::default(),
            requests: Vec::new(),
            queries: Vec::new(),
            after: Vec::new(),
            data_requests: 0,
            faults: VecDeque::new(),
            load: Load::default(),
            enforce_limits: true,
            delay: Duration::ZERO,
            token_delay: Duration::ZERO,
            gate: Gate::default(),
        }));
        let fake = Self { addr, state };
        let server = fake.clone();
        serve(listener, move |req| {
            let fake = server.clone();
            async move { fake.handle(req).await }
        });
        fake
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `base_url`: the API is at `{base_url}/v3/company/{realmId}/...`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn auth_url(&self) -> String {
        format!("http://{}{AUTH_PATH}", self.addr)
    }

    pub fn token_url(&self) -> String {
        format!("http://{}{TOKEN_PATH}", self.addr)
    }

    pub fn revoke_url(&self) -> String {
        format!("http://{}{REVOKE_PATH}", self.addr)
    }

    /// Reads or changes the company's records.
    pub fn books<T>(&self, f: impl FnOnce(&mut Books) -> T) -> T {
        f(&mut self.state().books)
    }

    /// Changes the records right after the `n`-th data request (1-based, queries and CDC
    /// alike) is answered: a record changed between two page requests.
    pub fn after_request(&self, n: usize, change: impl FnOnce(&mut Books) + Send + 'static) {
        self.state().after.push((n, Box::new(change)));
    }

    /// Reads or changes the OAuth side (lifetimes, grace, clock offset, hooks).
    pub fn oauth<T>(&self, f: impl FnOnce(&mut OAuth) -> T) -> T {
        f(&mut self.state().oauth)
    }

    /// Moves the OAuth clock `by` ahead: expiries and grace periods pass without waiting.
    pub fn advance_clock(&self, by: Duration) {
        self.oauth(|o| o.offset += by);
    }

    /// Access tokens issued from now on expire after `secs`.
    pub fn set_access_lifetime(&self, secs: u64) {
        self.oauth(|o| o.access_lifetime = Duration::from_secs(secs));
    }

    /// Every grant revoked: the next refresh is `invalid_grant`, the next data call 401.
    pub fn revoke_all(&self) {
        self.oauth(OAuth::revoke_all);
    }

    /// Calls of the token endpoint (any grant, any answer).
    pub fn token_calls(&self) -> usize {
        self.oauth(|o| o.token_calls)
    }

    /// The next `n` successful token answers are lost: the tokens rotate, then the connection
    /// drops before the answer, as if the client crashed right after Intuit answered.
    pub fn lose_token_answers(&self, n: usize) {
        self.oauth(|o| o.lose_next = n);
    }

    /// The status of each token-endpoint call, in order (`None`: the answer was lost).
    pub fn token_statuses(&self) -> Vec<Option<u16>> {
        (self.state().requests.iter())
            .filter(|r| r.path == TOKEN_PATH)
            .map(|r| r.status)
            .collect()
    }

    /// Refresh tokens from now on expire after `secs` (reported as QuickBooks'
    /// `x_refresh_token_expires_in`).
    pub fn set_refresh_lifetime(&self, secs: u64) {
        self.oauth(|o| o.refresh_lifetime = Duration::from_secs(secs));
    }

    /// A linked company without the browser: (access token, refresh token).
    pub fn mint_tokens(&self) -> (String, String) {
        self.oauth(|o| o.mint(vec![REALM.to_owned()]))
    }

    /// Faults for the next data requests, one each, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state().faults.extend(faults);
    }

    /// The token endpoint waits this long before it reads a request.
    pub fn set_token_delay(&self, delay: Duration) {
        self.state().token_delay = delay;
    }

    /// Every data answer takes this long (so that concurrency shows in the counters).
    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// Data answers wait from now on until `release_answers` (requests are still counted
    /// and refused as they arrive).
    pub fn hold_answers(&self) {
        self.state().gate.hold();
    }

    pub fn release_answers(&self) {
        self.state().gate.release();
    }

    /// Data requests received and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.state().load.in_flight()
    }

    /// Whether requests over Intuit's limits get 429 (default) or are only counted.
    pub fn set_enforce_limits(&self, enforce: bool) {
        self.state().enforce_limits = enforce;
    }

    pub fn requests(&self) -> Vec<ProviderRequest> {
        self.state().requests.clone()
    }

    /// Every `query` parameter received, decoded, in order.
    pub fn queries(&self) -> Vec<String> {
        self.state().queries.clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state().load.max_in_flight()
    }

    pub fn max_per_minute(&self) -> usize {
        self.state().load.max_per_minute()
    }

    async fn handle(&self, req: Request<Incoming>) -> Answer {
        let req = ProviderRequest::read(req).await;
        let index = {
            let mut s = self.state();
            s.requests.push(req.clone());
            s.requests.len() - 1
        };
        if req.path == TOKEN_PATH {
            let delay = self.state().token_delay;
            tokio::time::sleep(delay).await;
        }
        let reply = match req.path.as_str() {
            AUTH_PATH => Some(self.state().oauth.authorize(&req, vec![REALM.to_owned()])),
            TOKEN_PATH => match self
                .state()
                .oauth
                .token_endpoint(&req, vec![REALM.to_owned()])
            {
                TokenOutcome::Reply(reply) => Some(reply),
                TokenOutcome::Drop => None,
            },
            REVOKE_PATH => Some(self.state().oauth.revoke_endpoint(&req)),
            _ => self.data(&req).await,
        };
        let Some(reply) = reply else {
            return Err(std::io::Error::other("connection dropped by the fake"));
        };
        self.state().requests[index].status = Some(reply.status);
        Ok(reply.into_response())
    }

    async fn data(&self, req: &ProviderRequest) -> Option<Reply> {
        let rest = req.path.strip_prefix("/v3/company/")?;
        let (realm, operation) = rest.split_once('/').unwrap_or((rest, ""));
        let company = realm.to_owned();
        let (fault, delay, gate) = {
            let mut s = self.state();
            let bearer = match s.oauth.bearer(req) {
                Ok(bearer) => bearer,
                Err(why) => return Some(unauthorized(why)),
            };
            if !bearer.companies.iter().any(|c| c == realm) || realm != REALM {
                return Some(fault_reply(
                    403,
                    "AUTHORIZATION",
                    "3100",
                    "ApplicationAuthorizationFailed",
                ));
            }
            let (at_once, minute) = s.load.begin(&company, req.at);
            if s.enforce_limits && (at_once > 10 || minute > 500) {
                let wait = s.load.minute_frees_in(&company, req.at).as_secs().max(1);
                s.load.end(&company);
                return Some(
                    fault_reply(429, "SERVICE", "3001", "ThrottleExceeded")
                        .with("retry-after", wait.to_string()),
                );
            }
            (s.faults.pop_front(), s.delay, s.gate.waiter())
        };
        let left = OnDrop::new({
            let (fake, company) = (self.clone(), company.clone());
            move || fake.state().load.end(&company)
        });
        let delay = match &fault {
            Some(Fault::Slow(late)) => *late,
            _ => delay,
        };
        if !delay.is_zero() {
            tokio::time::sleep_until((req.at + delay).into()).await;
        }
        gate.await;
        drop(left);
        let mut s = self.state();
        match fault {
            Some(Fault::Reply(reply)) => return Some(reply),
            Some(Fault::Drop) => return None,
            _ => {}
        }
        if !req.wants_json() {
            return Some(Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/xml".into())],
                body: r#"<IntuitResponse xmlns="http://schema.intuit.com/finance/v3"/>"#.into(),
            });
        }
        let reply = match operation {
            "query" => {
                let text = req.param("query").unwrap_or("").to_owned();
                s.queries.push(text.clone());
                query(&s.books, &text)
            }
            "cdc" => cdc(&s.books, req),
            _ => fault_reply(404, "ValidationFault", "4001", "Unsupported operation"),
        };
        s.data_requests += 1;
        let n = s.data_requests;
        let (due, later): (Vec<_>, Vec<_>) = s.after.drain(..).partition(|(at, _)| *at == n);
        s.after = later;
        for (_, change) in due {
            change(&mut s.books);
        }
        Some(reply)
    }
}

/// Intuit's 401 for a missing, unknown, expired or revoked access token.
fn unauthorized(why: &str) -> Reply {
    Reply::json(
        401,
        &json!({
            "fault": {
                "error": [{
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": why,
                    "code": "3200",
                }],
                "type": "AUTHENTICATION",
            },
            "time": intuit_time(Utc::now()),
        }),
    )
    .with(
        "www-authenticate",
        r#"Bearer realm="Intuit", error="invalid_token""#,
    )
}
