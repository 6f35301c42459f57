//! A fake BlueTape integration API on 127.0.0.1, for the tests and the demo.
//!
//! It answers `POST {prefix}/integration/customer` as the API page documents (201 with ids, 409
//! for an id it already created, 400 for a body it refuses, 401 for a wrong key, 404 for a
//! wrong path or account), the invoice calls of SPEC §9 (`fake_invoices.rs`), and can inject
//! faults: any status with `Retry-After`, a dropped connection, a customer created and then
//! the connection dropped, slow answers.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const PREFIX: &str = "/genericBthubService";
pub const KEY: &str = "test-key-7f3a9c";
pub const ACCOUNT: &str = "acct-42";

/// One injected fault, used for one request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status, an optional `Retry-After`, and a body.
    Status {
        status: u16,
        retry_after: Option<String>,
        body: String,
    },
    /// Answer this status with `Retry-After` as an HTTP date this far ahead of the answer.
    RetryAt { status: u16, ahead: Duration },
    /// Close the connection without answering.
    Drop,
    /// Close the connection before even reading the request's body.
    ResetEarly,
    /// Create the customer, then close the connection before answering.
    CreateThenDrop,
    /// Do the work (create the customer) at once, but answer only after this long.
    Slow(Duration),
    /// Answer a 3xx pointing at `location`.
    Redirect { status: u16, location: String },
}

impl Fault {
    pub fn status(status: u16) -> Self {
        Fault::Status {
            status,
            retry_after: None,
            body: json!({"code": status.to_string(), "reason": "injected"}).to_string(),
        }
    }

    pub fn retry_after(status: u16, value: &str) -> Self {
        Fault::Status {
            status,
            retry_after: Some(value.to_owned()),
            body: String::new(),
        }
    }
}

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Lower-cased header names.
    pub headers: HashMap<String, String>,
    pub body: Value,
    pub at: Instant,
    /// The status answered; `None` when the connection was dropped.
    pub status: Option<u16>,
}

impl Received {
    pub fn id(&self) -> Option<&str> {
        self.body.get("id").and_then(Value::as_str)
    }

    /// A request about customers (not invoices).
    pub fn is_customer(&self) -> bool {
        self.path.contains("/integration/customer")
    }
}

impl State {
    /// The key and account checks every call passes first: 401 for a key no account has, 404
    /// for an account that is not the key's.
    fn authorise(&self, headers: &HashMap<String, String>) -> Result<(), (u16, String)> {
        let error = |code: &str, reason: &str| json!({"code": code, "reason": reason}).to_string();
        let key = headers.get("x-bluetape-key");
        if !self.accounts.values().any(|known| Some(known) == key) {
            return Err((401, error("401", "Unauthorized.")));
        }
        let account = headers.get("x-integration-accountid");
        if account.and_then(|account| self.accounts.get(account)) != key {
            return Err((404, error("404", "Account not found.")));
        }
        Ok(())
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// 201s answered per id.
    creations: HashMap<String, u32>,
    /// 202s answered per id.
    updates: HashMap<String, u32>,
    created: HashSet<String>,
    faults: VecDeque<Fault>,
    always: Option<Fault>,
    reject: HashMap<String, String>,
    delay: Duration,
    /// Each account the fake knows, with the key it accepts for it.
    accounts: HashMap<String, String>,
    in_flight: usize,
    max_in_flight: usize,
    /// Keep only each request's method, path, time and answer (for long benchmarks).
    forget_contents: bool,
    invoices: invoices::Invoices,
}

#[path = "fake_invoices.rs"]
mod invoices;

/// The running fake; it stops when dropped with its runtime.
#[derive(Clone)]
pub struct FakeBlueTape {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeBlueTape {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            accounts: HashMap::from([(ACCOUNT.to_owned(), KEY.to_owned())]),
            ..State::default()
        }));
        let fake = Self { addr, state };
        let server = fake.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let fake = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let fake = fake.clone();
                        async move { fake.handle(req).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        fake
    }

    /// The base_url to configure: `http://127.0.0.1:PORT/genericBthubService`.
    pub fn base_url(&self) -> String {
        format!("http://{}{PREFIX}", self.addr)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Faults for the next requests, one each, in order.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state().faults.extend(faults);
    }

    /// A fault for every request (after the queued ones), until cleared with `None`.
    pub fn set_always(&self, fault: Option<Fault>) {
        self.state().always = fault;
    }

    /// Answer 400 with `reason` for this id.
    pub fn reject_id(&self, id: &str, reason: &str) {
        self.state().reject.insert(id.to_owned(), reason.to_owned());
    }

    /// Every answer takes this long.
    pub fn set_delay(&self, delay: Duration) {
        self.state().delay = delay;
    }

    /// From now on, keeps only each request's method, path, time and answer, not its headers
    /// and body, so that a long benchmark measures the client's memory, not the fake's.
    pub fn forget_contents(&self) {
        self.state().forget_contents = true;
    }

    /// The key the fake accepts for `ACCOUNT`, instead of `KEY`.
    pub fn set_key(&self, key: &str) {
        self.add_account(ACCOUNT, key);
    }

    /// Another account (or `ACCOUNT` again) and the key it accepts. Ids are one namespace
    /// across accounts.
    pub fn add_account(&self, account: &str, key: &str) {
        self.state()
            .accounts
            .insert(account.to_owned(), key.to_owned());
    }

    /// Marks an id as already in BlueTape (it will get 409).
    pub fn preload(&self, id: &str) {
        self.state().created.insert(id.to_owned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.state().received.clone()
    }

    pub fn request_count(&self) -> usize {
        self.state().received.len()
    }

    /// How many times the fake answered 201 for `id`.
    pub fn creations(&self, id: &str) -> u32 {
        self.state().creations.get(id).copied().unwrap_or(0)
    }

    /// Every POST that carried `id`, whatever the answer (a duplicate shows here, where
    /// `creations` stays at 1 because BlueTape answers 409 to the second).
    pub fn posts(&self, id: &str) -> usize {
        self.state()
            .received
            .iter()
            .filter(|r| r.method == "POST" && r.is_customer() && r.id() == Some(id))
            .count()
    }

    /// POSTs of `id` that reached the fake after the one it answered 201: sends of a
    /// customer already created.
    pub fn posts_after_creation(&self, id: &str) -> usize {
        let state = self.state();
        let mut posts = state
            .received
            .iter()
            .filter(|r| r.method == "POST" && r.is_customer() && r.id() == Some(id));
        match posts.position(|r| r.status == Some(201)) {
            Some(_) => posts.count(),
            None => 0,
        }
    }

    /// How many times the fake accepted an update (202) for `id`.
    pub fn updates(&self, id: &str) -> u32 {
        self.state().updates.get(id).copied().unwrap_or(0)
    }

    /// Forgets a customer, as if it had been deleted in BlueTape.
    pub fn delete(&self, id: &str) {
        self.state().created.remove(id);
    }

    pub fn created_ids(&self) -> HashSet<String> {
        self.state().created.clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state().max_in_flight
    }

    async fn handle(
        &self,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, std::io::Error> {
        let method = req.method().to_string();
        let path = req.uri().path().to_owned();
        let headers: HashMap<String, String> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let at = Instant::now();
        {
            let mut s = self.state();
            if matches!(s.faults.front(), Some(Fault::ResetEarly)) {
                s.faults.pop_front();
                s.received.push(Received {
                    method,
                    path,
                    headers,
                    body: Value::Null,
                    at,
                    status: None,
                });
                return Err(std::io::Error::other("connection reset by the fake"));
            }
        }
        let bytes = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let (delay, fault, index) = {
            let mut s = self.state();
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
            let fault = s.faults.pop_front().or_else(|| s.always.clone());
            let (kept_headers, kept_body) = if s.forget_contents {
                (HashMap::new(), Value::Null)
            } else {
                (headers.clone(), body.clone())
            };
            s.received.push(Received {
                method: method.clone(),
                path: path.clone(),
                headers: kept_headers,
                body: kept_body,
                at,
                status: None,
            });
            (s.delay, fault, s.received.len() - 1)
        };
        // Answer `delay` after the request arrived. A thread's sleep is kept to a fraction of
        // a millisecond; a tokio timer fires on a later millisecond tick, which would make a
        // server answering in 20 ms one answering in 21.
        if delay >= Duration::from_secs(1) {
            // Long enough that a millisecond does not matter, and cancelled with the
            // connection, so a test does not wait for an answer nobody reads.
            tokio::time::sleep_until((at + delay).into()).await;
        } else if !delay.is_zero() {
            let until = at + delay;
            let _ = tokio::task::spawn_blocking(move || {
                std::thread::sleep(until.saturating_duration_since(Instant::now()));
            })
            .await;
        }
        let answer = match fault {
            Some(Fault::Status {
                status,
                retry_after,
                body,
            }) => Some((status, retry_after.map(|v| ("retry-after", v)), body)),
            Some(Fault::RetryAt { status, ahead }) => {
                let at = httpdate::fmt_http_date(std::time::SystemTime::now() + ahead);
                Some((status, Some(("retry-after", at)), String::new()))
            }
            Some(Fault::Redirect { status, location }) => {
                Some((status, Some(("location", location)), String::new()))
            }
            Some(Fault::Drop | Fault::ResetEarly) => None,
            Some(Fault::CreateThenDrop) => {
                let _ = self.answer(&method, &path, &headers, &body);
                None
            }
            Some(Fault::Slow(late)) => {
                let (status, body) = self.answer(&method, &path, &headers, &body);
                tokio::time::sleep(late).await;
                Some((status, None, body))
            }
            None => {
                let (status, body) = self.answer(&method, &path, &headers, &body);
                Some((status, None, body))
            }
        };
        let mut s = self.state();
        s.in_flight -= 1;
        let Some((status, header, body)) = answer else {
            return Err(std::io::Error::other("connection dropped by the fake"));
        };
        s.received[index].status = Some(status);
        let mut response = Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("content-type", "application/json");
        if let Some((name, value)) = header {
            response = response.header(name, value);
        }
        Ok(response
            .body(Full::new(Bytes::from(body)))
            .expect("response"))
    }

    /// What BlueTape answers to a well-behaved request.
    fn answer(
        &self,
        method: &str,
        path: &str,
        headers: &HashMap<String, String>,
        body: &Value,
    ) -> (u16, String) {
        let error = |code: &str, reason: &str| json!({"code": code, "reason": reason}).to_string();
        let mut s = self.state();
        if let Some(answer) = invoices::answer(&mut s, method, path, headers, body) {
            return answer;
        }
        let collection = format!("{PREFIX}/integration/customer");
        let update_of = path
            .strip_prefix(&collection)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|id| !id.is_empty() && !id.contains('/'));
        let sign_up_of = update_of.is_none().then(|| {
            path.strip_prefix(&collection)
                .and_then(|rest| rest.strip_prefix('/'))
                .and_then(|rest| rest.strip_suffix("/signup"))
                .filter(|id| !id.is_empty() && !id.contains('/'))
        });
        let sign_up_of = sign_up_of.flatten();
        let known = match (method, update_of, sign_up_of) {
            ("POST", None, None) => path == collection,
            ("PUT", Some(_), _) => true,
            ("GET", _, Some(_)) => true,
            _ => false,
        };
        if !known {
            return (404, error("404", "Not found."));
        }
        if let Err(refused) = s.authorise(headers) {
            return refused;
        }
        if let Some(id) = sign_up_of {
            if !s.created.contains(id) {
                return (404, error("404", "Customer not found."));
            }
            return (
                200,
                json!({"signUpUrl": format!("https://www.bluetape.com/signup?id={id}&fetched=1")})
                    .to_string(),
            );
        }
        if let Some(id) = update_of.map(str::to_owned) {
            if !s.created.contains(&id) {
                return (404, error("404", "Customer not found."));
            }
            *s.updates.entry(id.clone()).or_default() += 1;
            return (202, json!({"blueTapeId": format!("bt-{id}")}).to_string());
        }
        let required = [
            "id",
            "firstName",
            "lastName",
            "emailAddress",
            "cellPhoneNumber",
            "sourceModifiedDate",
        ];
        if required.iter().any(|f| {
            body.get(f)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        }) {
            return (400, error("400", "Invalid request."));
        }
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        if let Some(reason) = s.reject.get(&id) {
            return (400, error("BadRequest", reason));
        }
        if s.created.contains(&id) {
            return (409, error("409", "Customer already exists."));
        }
        s.created.insert(id.clone());
        *s.creations.entry(id.clone()).or_default() += 1;
        (
            201,
            json!({
                "blueTapeId": format!("bt-{id}"),
                "signUpUrl": format!("https://www.bluetape.com/signup?id={id}"),
            })
            .to_string(),
        )
    }
}
