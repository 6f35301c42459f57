//! One HTTP request to BlueTape, and the classification of its answer (SPEC §2). The client
//! knows nothing of the store or of retries.

pub mod answer;
pub mod config;
pub mod transport;

use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use self::answer::Reply;
use self::answer::classify_sign_up;
pub use self::answer::{Answer, Outcome, SignUp};
use self::config::ApiConfig;

/// The most of an answer's body that is read: anything longer is not BlueTape's JSON, and
/// reading it would let a server or a proxy decide how much memory the process takes.
pub const MAX_BODY: usize = 1 << 20;

/// How the answers to one kind of request are read (SPEC §2, §9).
pub type Classify = fn(Reply<'_>, SystemTime) -> Outcome;

/// A kind of record's resource in BlueTape's API: the path its records are created at
/// (updated at `<path>/<id>`, cancelled at `<path>/<id>/cancel`), and how each answer is read.
/// A lane names its own; the client knows no kind.
#[derive(Debug, Clone, Copy)]
pub struct Resource {
    /// Below `api.base_url`: `integration/customer`.
    pub path: &'static str,
    pub create: Classify,
    pub update: Classify,
    pub cancel: Classify,
}

/// A [`Resource`] at this account's `api.base_url`.
#[derive(Debug, Clone)]
pub struct Endpoint {
    url: Url,
    resource: Resource,
}

/// The BlueTape integration API for one account.
#[derive(Clone)]
pub struct BlueTapeClient {
    http: reqwest::Client,
    base_url: Url,
    create_url: Url,
    account_id: String,
    key: SecretString,
}

impl BlueTapeClient {
    pub fn new(config: &ApiConfig) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("bluetape-sync/", env!("CARGO_PKG_VERSION")))
            // The key is a custom header, which reqwest would carry to wherever a redirect
            // points: a 3xx is answered by stopping, never followed (SPEC §2).
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .build()?;
        Ok(Self {
            http,
            base_url: config.base_url.clone(),
            create_url: join(&config.base_url, "integration/customer"),
            account_id: config.account_id.clone(),
            key: config.key.clone(),
        })
    }

    pub fn create_url(&self) -> &Url {
        &self.create_url
    }

    /// Where `resource`'s records are sent for this account.
    pub fn endpoint(&self, resource: Resource) -> Endpoint {
        Endpoint {
            url: join(&self.base_url, resource.path),
            resource,
        }
    }

    /// Sends one record (`body` is its JSON) to be created, and classifies the answer.
    pub async fn create(&self, at: &Endpoint, body: String) -> Answer {
        let url = at.url.clone();
        let request = self.http.post(url.clone()).body(body);
        self.send(url, request, at.resource.create).await
    }

    /// Sends a changed record BlueTape has as an update (`body` is its update body).
    pub async fn update(&self, at: &Endpoint, id: &str, body: String) -> Answer {
        let url = below(&at.url, &[id]);
        let request = self.http.put(url.clone()).body(body);
        self.send(url, request, at.resource.update).await
    }

    /// Cancels a record BlueTape has (an invoice the export now says is void).
    pub async fn cancel(&self, at: &Endpoint, id: &str) -> Answer {
        let url = below(&at.url, &[id, "cancel"]);
        let request = self.http.put(url.clone()).body("{}");
        self.send(url, request, at.resource.cancel).await
    }

    /// The key as a header value marked sensitive, so no `Debug` or trace output shows it.
    fn key_header(&self) -> reqwest::header::HeaderValue {
        match reqwest::header::HeaderValue::from_str(self.key.expose_secret()) {
            Ok(mut value) => {
                value.set_sensitive(true);
                value
            }
            // Not a valid header value: send nothing usable rather than fail here; BlueTape
            // answers 401 and the pass stops with exit 77.
            Err(_) => reqwest::header::HeaderValue::from_static(""),
        }
    }

    /// The URL of a customer, or of one of its `tail` (`signup`).
    fn customer_url(&self, id: &str, tail: &[&str]) -> Url {
        let mut segments = vec![id];
        segments.extend(tail);
        below(&self.create_url, &segments)
    }

    /// Asks BlueTape for a customer's sign-up URL.
    pub async fn sign_up(&self, id: &str) -> SignUp {
        let url = self.customer_url(id, &["signup"]);
        let response = match self.execute(self.http.get(url.clone())).await {
            Ok(r) => r,
            Err(e) => {
                let failure = self.failure(&e);
                return match failure.fatal {
                    true => SignUp::TlsFailed(failure.reason),
                    false => SignUp::Unavailable(failure.reason),
                };
            }
        };
        let status = response.status().as_u16();
        let location = self.location(&url, &response);
        match read_body(response).await {
            Ok(body) => classify_sign_up(Reply {
                status,
                retry_after: None,
                location: location.as_deref(),
                body: &body,
            }),
            Err(e) => SignUp::Unavailable(self.body_failure(status, e)),
        }
    }

    /// Sends a request with the account's headers; it goes to `api.base_url`'s host only.
    async fn execute(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, reqwest::Error> {
        request
            .header("X-BlueTape-Key", self.key_header())
            .header("X-Integration-AccountId", &self.account_id)
            .send()
            .await
    }

    /// A 3xx's `Location`, resolved against the request, with the `api.base_url` it implies
    /// when it keeps the request's path below the base.
    fn location(&self, requested: &Url, response: &reqwest::Response) -> Option<String> {
        if !response.status().is_redirection() {
            return None;
        }
        let raw = response
            .headers()
            .get(reqwest::header::LOCATION)?
            .to_str()
            .ok()?;
        let Ok(target) = requested.join(raw) else {
            let shown: String = raw.chars().take(200).collect();
            return Some(format!("{shown}: check api.base_url"));
        };
        let tail = requested
            .path()
            .strip_prefix(self.base_url.path().trim_end_matches('/'))
            .filter(|tail| !tail.is_empty());
        let base = tail.and_then(|tail| {
            let path = target.path().strip_suffix(tail)?;
            let mut base = target.clone();
            base.set_path(path);
            base.set_query(None);
            Some(base)
        });
        Some(match base {
            Some(base) => format!("{target}: set api.base_url to {base}"),
            None => format!("{target}: check api.base_url"),
        })
    }

    async fn send(&self, url: Url, request: reqwest::RequestBuilder, classify: Classify) -> Answer {
        let request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
        let response = match self.execute(request).await {
            Ok(r) => r,
            Err(e) => {
                let failure = self.failure(&e);
                let outcome = if failure.fatal {
                    Outcome::TlsFailed {
                        reason: failure.reason,
                    }
                } else {
                    Outcome::Retry {
                        reason: failure.reason,
                        after: None,
                    }
                };
                return Answer {
                    status: None,
                    outcome,
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let location = self.location(&url, &response);
        let outcome = match read_body(response).await {
            Ok(body) => classify(
                Reply {
                    status,
                    retry_after: retry_after.as_deref(),
                    location: location.as_deref(),
                    body: &body,
                },
                SystemTime::now(),
            ),
            Err(e) => Outcome::Retry {
                reason: self.body_failure(status, e),
                after: None,
            },
        };
        Answer {
            status: Some(status),
            outcome,
        }
    }

    /// A request that got no answer, named (SPEC §10).
    fn failure(&self, e: &reqwest::Error) -> transport::Failure {
        let host = self.base_url.host_str().unwrap_or_default();
        let authority = match self.base_url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        transport::name(&authority, e.is_connect(), e.is_timeout(), e)
    }

    /// An answer whose body could not be read whole, in words.
    fn body_failure(&self, status: u16, e: BodyError) -> String {
        match e {
            BodyError::TooLarge => {
                format!("response too large: {status} with a body over 1 MiB")
            }
            BodyError::Transport(e) if e.is_timeout() => {
                format!("{status} then timed out (api.timeout) while reading the answer")
            }
            BodyError::Transport(_) => {
                format!("{status} then connection dropped while reading the answer")
            }
        }
    }
}

/// Why an answer's body was not read.
enum BodyError {
    /// Over [`MAX_BODY`]: the rest is left unread and the connection dropped with the response.
    TooLarge,
    Transport(reqwest::Error),
}

/// The body, at most [`MAX_BODY`] bytes of it, read a chunk at a time.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `url` with `segments` added to its path, each escaped.
fn below(url: &Url, segments: &[&str]) -> Url {
    let mut url = url.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.extend(segments);
    }
    url
}

/// `base` + `path`, keeping the base's own path (`.../genericBthubService/integration/...`).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_the_base_path() {
        let base = Url::parse("https://api.bluetape.com/genericBthubService").expect("url");
        assert_eq!(
            join(&base, "integration/customer").as_str(),
            "https://api.bluetape.com/genericBthubService/integration/customer"
        );
        let base = Url::parse("http://127.0.0.1:8080/").expect("url");
        assert_eq!(
            join(&base, "integration/customer").as_str(),
            "http://127.0.0.1:8080/integration/customer"
        );
    }
}
