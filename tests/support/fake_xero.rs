//! A fake Xero on 127.0.0.1: its identity service (`fake_oauth.rs`, PKCE S256, a 30-minute
//! grace for a rotated refresh token, Custom Connections' `client_credentials`), `GET
//! /connections` and `DELETE /connections/{id}`, and the accounting API's `GET
//! /api.xro/2.0/Contacts|Invoices` with `xero-tenant-id`, `If-Modified-Since`, `page`,
//! `pageSize`, `order`, `includeArchived` and `where=Type=="..."`, the rate-limit headers on
//! every answer and Xero's limits per organisation (5 at once, 60 a minute, a day budget:
//! 429 with `X-Rate-Limit-Problem` beyond).

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hyper::Request;
use hyper::body::Incoming;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::fake_oauth::{Flavor, OAuth, TokenOutcome};
use super::fake_provider::{Answer, Fault, Gate, Load, OnDrop, ProviderRequest, Reply, serve};
#[allow(unused_imports)] // each test crate uses its own part
pub use books::{Kind, XeroBooks, problem, throttled, xero_date};
use books::{list, unauthorized};

#[path = "fake_xero_books.rs"]
mod books;

pub const TENANT: &str = "6f1c5a4e-0b1d-4c7e-9a51-3f0e6d2b8c11";
pub const TENANT_NAME: &str = "Demo Company (US)";
pub const AUTH_PATH: &str = "/identity/connect/authorize";
pub const TOKEN_PATH: &str = "/connect/token";
pub const REVOKE_PATH: &str = "/connect/revocation";
pub const CONNECTIONS_PATH: &str = "/connections";

type Change = Box<dyn FnOnce(&mut XeroBooks) + Send>;

struct Tenant {
    connection: String,
    id: String,
    name: String,
}

struct State {
    oauth: OAuth,
    books: XeroBooks,
    tenants: Vec<Tenant>,
    requests: Vec<ProviderRequest>,
    after: Vec<(usize, Change)>,
    data_requests: usize,
    faults: VecDeque<Fault>,
    load: Load,
    enforce_limits: bool,
    delay: Duration,
    /// How long a token answer waits after the exchange is done (the old refresh token
    /// already retired), before it is sent.
    token_answer_delay: Duration,
    gate: Gate,
    day_budget: usize,
    day_used: HashMap<String, usize>,
    day_retry_after: u64,
}

/// The running fake; it stops with its runtime.
#[derive(Clone)]
pub struct FakeXero {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeXero {
    /// One organisation `TENANT` holding `tests/fixtures/xero-{contacts,invoices}.json`.
    pub async fn start() -> Self {
        let fake = Self::start_empty().await;
        for kind in [Kind::Contacts, Kind::Invoices] {
            let file = format!("xero-{}.json", kind.name().to_lowercase());
            let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("fixture");
            let page: Value = serde_json::from_str(&text).expect("fixture JSON");
            for record in page[kind.name()].as_array().cloned().unwrap_or_default() {
                fake.books(|b| b.add(kind, record));
            }
        }
        fake
    }

    /// One organisation with no records.
    pub async fn start_empty() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            oauth: OAuth::new(Flavor::Xero),
            books: XeroBooks::default(),
            tenants: vec![Tenant {
                connection: "conn-1".into(),
                id: TENANT.into(),
                name: TENANT_NAME.into(),
            }],
            requests: Vec::new(),
            after: Vec::new(),
            data_requests: 0,
            faults: VecDeque::new(),
            load: Load::default(),
            enforce_limits: true,
            delay: Duration::ZERO,
            token_answer_delay: Duration::ZERO,
            gate: Gate::default(),
            day_budget: 5000,
            day_used: HashMap::new(),
            day_retry_after: 3600,
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

    /// `base_url`: the API is at `{base_url}/api.xro/2.0/...`.
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

    pub fn connections_url(&self) -> String {
        format!("http://{}{CONNECTIONS_PATH}", self.addr)
    }

    /// Another organisation a consent from now on covers (it has no records); its tenantId.
    pub fn add_tenant(&self, name: &str) -> String {
        let mut s = self.state();
        let n = s.tenants.len() + 1;
        let id = format!("00000000-0000-4000-8000-{n:012}");
        s.tenants.push(Tenant {
            connection: format!("conn-{n}"),
            id: id.clone(),
            name: name.to_owned(),
        });
        id
    }

    pub fn books<T>(&self, f: impl FnOnce(&mut XeroBooks) -> T) -> T {
        f(&mut self.state().books)
    }

    /// Changes the records right after the `n`-th data request (1-based) is answered.
    pub fn after_request(&self, n: usize, change: impl FnOnce(&mut XeroBooks) + Send + 'static) {
        self.state().after.push((n, Box::new(change)));
    }

    pub fn oauth<T>(&self, f: impl FnOnce(&mut OAuth) -> T) -> T {
        f(&mut self.state().oauth)
    }

    /// Moves the OAuth clock `by` ahead: expiries and grace periods pass without waiting.
    pub fn advance_clock(&self, by: Duration) {
        self.oauth(|o| o.offset += by);
    }

    pub fn set_access_lifetime(&self, secs: u64) {
        self.oauth(|o| o.access_lifetime = Duration::from_secs(secs));
    }

    /// How long a rotated refresh token still works (default 30 minutes).
    pub fn set_grace(&self, grace: Duration) {
        self.oauth(|o| o.grace = grace);
    }

    pub fn revoke_all(&self) {
        self.oauth(OAuth::revoke_all);
    }

    pub fn token_calls(&self) -> usize {
        self.oauth(|o| o.token_calls)
    }

    /// The next `n` successful token answers are lost after the tokens rotated.
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

    /// A consent without the browser, covering every organisation: (access, refresh).
    pub fn mint_tokens(&self) -> (String, String) {
        let mut s = self.state();
        let companies = s.tenants.iter().map(|t| t.id.clone()).collect();
        s.oauth.mint(companies)
    }

    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state().faults.extend(faults);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// Data answers wait from now on until `release_answers` (requests are still counted
    /// and refused as they arrive).
    /// Token answers are sent `delay` after the exchange (a process killed meanwhile never
    /// hears of the tokens the fake already issued).
    pub fn set_token_answer_delay(&self, delay: Duration) {
        self.state().token_answer_delay = delay;
    }

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

    pub fn set_enforce_limits(&self, enforce: bool) {
        self.state().enforce_limits = enforce;
    }

    /// Calls an organisation may make today (default 5,000), and the `Retry-After` of the
    /// 429 once they are spent.
    pub fn set_day_budget(&self, calls: usize, retry_after_secs: u64) {
        let mut s = self.state();
        s.day_budget = calls;
        s.day_retry_after = retry_after_secs;
    }

    pub fn requests(&self) -> Vec<ProviderRequest> {
        self.state().requests.clone()
    }

    /// The data requests (Contacts and Invoices) received, in order.
    pub fn data_requests(&self) -> Vec<ProviderRequest> {
        (self.state().requests.iter())
            .filter(|r| r.path.starts_with("/api.xro/"))
            .cloned()
            .collect()
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
        let reply = match req.path.as_str() {
            AUTH_PATH => {
                let mut s = self.state();
                let companies = s.tenants.iter().map(|t| t.id.clone()).collect();
                Some(s.oauth.authorize(&req, companies))
            }
            TOKEN_PATH => {
                let (outcome, delay) = {
                    let mut s = self.state();
                    let companies = s.tenants.iter().map(|t| t.id.clone()).collect();
                    (
                        s.oauth.token_endpoint(&req, companies),
                        s.token_answer_delay,
                    )
                };
                tokio::time::sleep(delay).await;
                match outcome {
                    TokenOutcome::Reply(reply) => Some(reply),
                    TokenOutcome::Drop => None,
                }
            }
            REVOKE_PATH => Some(self.state().oauth.revoke_endpoint(&req)),
            path if path.starts_with(CONNECTIONS_PATH) => Some(self.connections(&req)),
            _ => self.data(&req).await,
        };
        let Some(reply) = reply else {
            return Err(std::io::Error::other("connection dropped by the fake"));
        };
        self.state().requests[index].status = Some(reply.status);
        Ok(reply.into_response())
    }

    fn connections(&self, req: &ProviderRequest) -> Reply {
        let mut s = self.state();
        let bearer = match s.oauth.bearer(req) {
            Ok(bearer) => bearer,
            Err(why) => return unauthorized(why),
        };
        let id = req.path[CONNECTIONS_PATH.len()..].trim_start_matches('/');
        match (req.method.as_str(), id) {
            ("GET", "") => {
                let list: Vec<Value> = (s.tenants.iter())
                    .filter(|t| bearer.companies.contains(&t.id))
                    .map(|t| {
                        json!({
                            "id": t.connection,
                            "authEventId": format!("auth-{}", bearer.grant),
                            "tenantId": t.id,
                            "tenantType": "ORGANISATION",
                            "tenantName": t.name,
                            "createdDateUtc": "2026-01-01T00:00:00.0000000",
                            "updatedDateUtc": "2026-01-01T00:00:00.0000000",
                        })
                    })
                    .collect();
                Reply::json(200, &Value::Array(list))
            }
            ("DELETE", id) if !id.is_empty() => {
                let tenant = s.tenants.iter().find(|t| t.connection == id);
                let tenant = tenant.map(|t| t.id.clone());
                match tenant {
                    Some(tenant) if s.oauth.disconnect(bearer.grant, &tenant) => Reply {
                        status: 204,
                        headers: Vec::new(),
                        body: String::new(),
                    },
                    _ => problem(404, "Not Found", "connection not found"),
                }
            }
            _ => problem(404, "Not Found", "no such resource"),
        }
    }

    async fn data(&self, req: &ProviderRequest) -> Option<Reply> {
        let rest = req.path.strip_prefix("/api.xro/2.0/")?;
        let kind = if rest.eq_ignore_ascii_case("Contacts") {
            Kind::Contacts
        } else if rest.eq_ignore_ascii_case("Invoices") {
            Kind::Invoices
        } else {
            return Some(problem(404, "Not Found", "no such resource"));
        };
        let (tenant, fault, delay, limits, gate) = {
            let mut s = self.state();
            let bearer = match s.oauth.bearer(req) {
                Ok(bearer) => bearer,
                Err(why) => return Some(unauthorized(why)),
            };
            let header = req.header("xero-tenant-id").map(str::to_owned);
            let tenant = match header {
                Some(t) if bearer.companies.contains(&t) => t,
                None if bearer.custom => bearer.companies.first()?.clone(),
                _ => return Some(problem(403, "Forbidden", "AuthenticationUnsuccessful")),
            };
            let (at_once, minute) = s.load.begin(&tenant, req.at);
            let used = s.day_used.get(&tenant).copied().unwrap_or(0);
            let limits = |day_left: usize| {
                [
                    ("x-daylimit-remaining", day_left),
                    ("x-minlimit-remaining", 60usize.saturating_sub(minute)),
                    (
                        "x-appminlimit-remaining",
                        10_000usize.saturating_sub(minute),
                    ),
                ]
            };
            let refused = if used >= s.day_budget {
                Some(("day", s.day_retry_after))
            } else if s.enforce_limits && minute > 60 {
                Some((
                    "minute",
                    s.load.minute_frees_in(&tenant, req.at).as_secs().max(1),
                ))
            } else if s.enforce_limits && at_once > 5 {
                Some(("concurrent", 1))
            } else {
                None
            };
            if let Some((problem_of, wait)) = refused {
                s.load.end(&tenant);
                let mut reply = problem(429, "Too Many Requests", "rate limit exceeded")
                    .with("retry-after", wait.to_string())
                    .with("x-rate-limit-problem", problem_of);
                for (name, value) in limits(s.day_budget.saturating_sub(used)) {
                    reply = reply.with(name, value.to_string());
                }
                return Some(reply);
            }
            s.day_used.insert(tenant.clone(), used + 1);
            let limits = limits(s.day_budget.saturating_sub(used + 1));
            (
                tenant,
                s.faults.pop_front(),
                s.delay,
                limits,
                s.gate.waiter(),
            )
        };
        let left = OnDrop::new({
            let (fake, company) = (self.clone(), tenant.clone());
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
        let mut reply = match fault {
            Some(Fault::Reply(reply)) => reply,
            Some(Fault::Drop) => return None,
            _ if !req.wants_json() => Reply {
                status: 200,
                headers: vec![("content-type".into(), "text/xml".into())],
                body: "<Response><Status>OK</Status></Response>".into(),
            },
            _ if tenant == TENANT => list(&s.books, kind, req),
            _ => list(&XeroBooks::default(), kind, req),
        };
        for (name, value) in limits {
            reply = reply.with(name, value.to_string());
        }
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
