//! The daemon's optional `[metrics]` endpoint: Prometheus text at `/metrics`, and `/healthz`,
//! which turns unhealthy when no pass has succeeded for `metrics.unhealthy_after`.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use crate::pass::{PassOutcome, PassReport, RequestCounts};
use crate::source::Kind;
use crate::source::timestamp::now_ms;
use crate::store::Store;

/// `[metrics]`: the daemon's optional Prometheus and health endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// e.g. `127.0.0.1:9464`; unset, no endpoint.
    pub listen: Option<std::net::SocketAddr>,
    /// `/healthz` answers 503 when no pass succeeded for this long.
    #[serde(with = "humantime_serde")]
    pub unhealthy_after: Duration,
}

impl Default for MetricsSection {
    fn default() -> Self {
        Self {
            listen: None,
            unhealthy_after: Duration::from_secs(3600),
        }
    }
}
/// What the daemon has done since it started.
#[derive(Debug)]
pub struct Metrics {
    store_path: PathBuf,
    /// The store names of each kind, one a lane.
    sources: Vec<(Kind, String)>,
    provider: Option<&'static str>,
    unhealthy_after: Duration,
    started_ms: i64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    passes: BTreeMap<&'static str, u64>,
    requests: RequestCounts,
    last_success_ms: Option<i64>,
}

impl Metrics {
    /// `sources`: each kind and its store name; `provider`: the API the exports are read from
    /// (SPEC §11), whose link's expiry is a gauge.
    pub fn new(
        store_path: PathBuf,
        sources: Vec<(Kind, String)>,
        provider: Option<&'static str>,
        unhealthy_after: Duration,
    ) -> Arc<Self> {
        Arc::new(Self {
            store_path,
            sources,
            provider,
            unhealthy_after,
            started_ms: now_ms(),
            state: Mutex::new(State::default()),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a finished pass; one that reached BlueTape (even with rejections) succeeded.
    pub fn pass(&self, report: &PassReport) {
        let outcome = report.outcome();
        let mut state = self.state();
        *state.passes.entry(outcome.label()).or_default() += 1;
        state.requests += report.requests;
        if matches!(outcome, PassOutcome::Ok | PassOutcome::Rejected) {
            state.last_success_ms = Some(now_ms());
        }
    }

    /// Counts a pass that could not run at all, or a skipped one.
    pub fn outcome(&self, outcome: &'static str) {
        *self.state().passes.entry(outcome).or_default() += 1;
    }

    /// Healthy while a pass succeeded within `unhealthy_after` (or the daemon is younger).
    fn health(&self) -> (bool, String) {
        let since = self.state().last_success_ms.unwrap_or(self.started_ms);
        let age = Duration::from_millis(u64::try_from(now_ms() - since).unwrap_or(0));
        if age <= self.unhealthy_after {
            (true, "ok\n".into())
        } else {
            (
                false,
                format!(
                    "no successful pass for {}s (metrics.unhealthy_after is {}s)\n",
                    age.as_secs(),
                    self.unhealthy_after.as_secs()
                ),
            )
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        // Read-only: a scrape never writes, nor opens the file beside the pass's connection.
        let read = Store::open_read_only(&self.store_path)
            .and_then(|store| {
                let Some(store) = store else {
                    return Ok((Vec::new(), None));
                };
                let counts = (self.sources.iter())
                    .map(|(kind, source)| Ok((*kind, store.counts(source)?)))
                    .collect::<Result<Vec<_>, _>>()?;
                let expiry = match self.provider {
                    Some(provider) => store
                        .link(provider, now_ms())?
                        .and_then(|link| link.tokens.refresh_expires_ms),
                    None => None,
                };
                Ok((counts, expiry))
            })
            .map_err(|e| warn!("metrics: cannot read the store: {e}"))
            .ok();
        let (counts, expiry) = match read {
            Some((counts, expiry)) => (Some(counts), expiry),
            None => (None, None),
        };
        let state = self.state();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(out, "# HELP bluetape_sync_{name} {help}");
            let _ = writeln!(out, "# TYPE bluetape_sync_{name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "bluetape_sync_{name}{labels} {value}");
            }
        };
        let passes: Vec<_> = state
            .passes
            .iter()
            .map(|(outcome, n)| (format!("{{outcome=\"{outcome}\"}}"), *n as f64))
            .collect();
        metric(
            "passes_total",
            "counter",
            "Passes since the daemon started, by outcome.",
            &passes,
        );
        if let Some(counts) = counts {
            let mut by_state = Vec::new();
            let mut depth = Vec::new();
            for (kind, c) in &counts {
                let mut states = vec![
                    ("pending", c.pending),
                    ("created", c.created),
                    ("exists", c.exists),
                    ("rejected", c.rejected),
                    ("failed", c.failed),
                ];
                // Customers neither wait for another kind nor are cancelled.
                if *kind != Kind::Customer {
                    states.extend([("waiting", c.waiting), ("cancelled", c.cancelled)]);
                }
                by_state.extend(
                    states
                        .into_iter()
                        .map(|(s, n)| (format!("{{kind=\"{kind}\",state=\"{s}\"}}"), n as f64)),
                );
                depth.push((
                    format!("{{kind=\"{kind}\"}}"),
                    (c.pending + c.failed) as f64,
                ));
            }
            metric(
                "records",
                "gauge",
                "Records in the store, by kind and state.",
                &by_state,
            );
            metric(
                "queue_depth",
                "gauge",
                "Records to be sent (pending and failed), by kind.",
                &depth,
            );
        }
        let r = &state.requests;
        let by_class = [
            ("2xx", r.success),
            ("3xx", r.redirect),
            ("4xx", r.client_error),
            ("5xx", r.server_error),
            ("none", r.none),
        ]
        .map(|(class, n)| (format!("{{class=\"{class}\"}}"), n as f64));
        metric(
            "requests_total",
            "counter",
            "Requests to BlueTape by the class of their answer (none: timeout or connection error).",
            &by_class,
        );
        metric(
            "retries_total",
            "counter",
            "Requests retried after a transient failure.",
            &[(String::new(), r.retried as f64)],
        );
        if let (Some(provider), Some(expires)) = (self.provider, expiry) {
            metric(
                "source_token_expiry_seconds",
                "gauge",
                "Seconds until the accounting system's link must be renewed with connect.",
                &[(
                    format!("{{provider=\"{provider}\"}}"),
                    (expires - now_ms()) as f64 / 1000.0,
                )],
            );
        }
        if let Some(ms) = state.last_success_ms {
            metric(
                "last_success_timestamp_seconds",
                "gauge",
                "When the last successful pass finished (Unix time).",
                &[(String::new(), ms as f64 / 1000.0)],
            );
        }
        out
    }
}

/// Connections served at once; more are closed as soon as they are accepted, so the endpoint
/// can never take the descriptors a pass needs.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a connection may take to send a whole request head, or sit idle between requests.
pub const IDLE: Duration = Duration::from_secs(5);

/// Serves `/metrics` and `/healthz` on `listen` until the process ends.
pub async fn serve(listen: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    info!(%listen, "metrics at /metrics, health at /healthz");
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, most likely: wait rather than spin on the error.
                    debug!("metrics: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
                drop(stream);
                continue;
            };
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let metrics = Arc::clone(&metrics);
                    async move { Ok::<_, Infallible>(answer(&metrics, &req)) }
                });
                // hyper's header timeout also runs while a kept-alive connection waits for
                // its next request, so it bounds a slow request head and an idle connection;
                // a body the service never reads closes the connection once it is answered.
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(IDLE)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                drop(slot);
            });
        }
    });
    Ok(())
}

fn answer(metrics: &Metrics, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match req.uri().path() {
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4",
            metrics.render(),
        ),
        "/healthz" => {
            let (healthy, text) = metrics.health();
            let status = if healthy {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, "text/plain", text)
        }
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}
