//! What the fake QuickBooks Online and Xero servers share besides OAuth: the accept loop, the
//! request log, injected faults and the load counters the providers' limits are checked with.

#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

/// Serves every connection of `listener` with `handle`, until the runtime stops.
pub fn serve<H, F>(listener: TcpListener, handle: H)
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Answer> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handle = handle.clone();
            tokio::spawn(async move {
                let service = service_fn(handle);
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// A request as a fake received it.
#[derive(Debug, Clone)]
pub struct ProviderRequest {
    pub method: String,
    pub path: String,
    /// The query string as sent (still percent-encoded).
    pub raw_query: String,
    /// The query's parameters, decoded, in order.
    pub params: Vec<(String, String)>,
    /// Lower-cased header names.
    pub headers: HashMap<String, String>,
    pub body: String,
    pub at: Instant,
    /// The status answered; `None` when the connection was dropped.
    pub status: Option<u16>,
}

impl ProviderRequest {
    pub async fn read(req: Request<Incoming>) -> Self {
        let method = req.method().to_string();
        let path = req.uri().path().to_owned();
        let raw_query = req.uri().query().unwrap_or("").to_owned();
        let params = decode_form(&raw_query);
        let headers = (req.headers().iter())
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let bytes = (req.into_body().collect().await)
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Self {
            method,
            path,
            raw_query,
            params,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            at: Instant::now(),
            status: None,
        }
    }

    /// The first query parameter called `name` (case-sensitive, as both providers are).
    pub fn param(&self, name: &str) -> Option<&str> {
        (self.params.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body's form fields, decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        decode_form(&self.body)
    }

    /// Whether the client asked for JSON (both providers answer XML otherwise).
    pub fn wants_json(&self) -> bool {
        self.header("accept")
            .is_some_and(|a| a.contains("application/json"))
    }
}

pub fn decode_form(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    (form.iter())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An answer before it is sent: status, headers and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        for (name, value) in &self.headers {
            response = response.header(name, value);
        }
        response
            .body(Full::new(Bytes::from(self.body)))
            .expect("response")
    }
}

/// One injected fault, used for one data request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this instead of the data.
    Reply(Reply),
    /// Close the connection without answering.
    Drop,
    /// Answer the data, this long after the request arrived.
    Slow(Duration),
}

impl Fault {
    /// A bare status with a JSON body saying it was injected.
    pub fn status(status: u16) -> Self {
        Fault::Reply(Reply::json(
            status,
            &serde_json::json!({"error": "injected", "status": status}),
        ))
    }

    /// 429 with `Retry-After: secs`.
    pub fn too_many(secs: u64) -> Self {
        Fault::Reply(
            Reply::json(429, &serde_json::json!({"error": "too many requests"}))
                .with("retry-after", secs.to_string()),
        )
    }
}

/// Runs its closure when dropped: a request's end is counted even when the client goes away
/// and hyper drops the answer being prepared.
pub struct OnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> OnDrop<F> {
    pub fn new(f: F) -> Self {
        Self(Some(f))
    }
}

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// Holds data answers until released, so that a test can see requests pile up at the fake
/// without relying on timing.
pub struct Gate(tokio::sync::watch::Sender<bool>);

impl Default for Gate {
    fn default() -> Self {
        Self(tokio::sync::watch::channel(true).0)
    }
}

impl Gate {
    pub fn hold(&self) {
        self.0.send_replace(false);
    }

    pub fn release(&self) {
        self.0.send_replace(true);
    }

    /// Waits (outside any lock) until the gate is open.
    pub fn waiter(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut open = self.0.subscribe();
        async move {
            let _ = open.wait_for(|open| *open).await;
        }
    }
}

/// Data requests per company: how many at once and how many a minute, as the providers count
/// them against their limits.
#[derive(Default)]
pub struct Load {
    in_flight: HashMap<String, usize>,
    max_in_flight: usize,
    arrivals: HashMap<String, Vec<Instant>>,
}

impl Load {
    /// A request for `company` arrived: returns how many are in flight with it, and how many
    /// arrived in the last minute (it included).
    pub fn begin(&mut self, company: &str, at: Instant) -> (usize, usize) {
        let now = self.in_flight.entry(company.to_owned()).or_default();
        *now += 1;
        let now = *now;
        self.max_in_flight = self.max_in_flight.max(now);
        let arrivals = self.arrivals.entry(company.to_owned()).or_default();
        arrivals.push(at);
        let minute = (arrivals.iter())
            .filter(|t| at.duration_since(**t) < Duration::from_secs(60))
            .count();
        (now, minute)
    }

    pub fn end(&mut self, company: &str) {
        if let Some(n) = self.in_flight.get_mut(company) {
            *n = n.saturating_sub(1);
        }
    }

    /// Requests in flight now, all companies together.
    pub fn in_flight(&self) -> usize {
        self.in_flight.values().sum()
    }

    /// The most requests any company had in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// The most requests any company sent within any 60 seconds.
    pub fn max_per_minute(&self) -> usize {
        let mut max = 0;
        for arrivals in self.arrivals.values() {
            let mut first = 0;
            for (last, t) in arrivals.iter().enumerate() {
                while t.duration_since(arrivals[first]) >= Duration::from_secs(60) {
                    first += 1;
                }
                max = max.max(last + 1 - first);
            }
        }
        max
    }

    /// When the oldest request of the last minute leaves the window.
    pub fn minute_frees_in(&self, company: &str, at: Instant) -> Duration {
        (self.arrivals.get(company).into_iter().flatten())
            .find(|t| at.duration_since(**t) < Duration::from_secs(60))
            .map(|t| Duration::from_secs(60).saturating_sub(at.duration_since(*t)))
            .unwrap_or_default()
    }
}
