//! One HTTP request to BlueTape, and the classification of its answer (SPEC §2). The client
//! knows nothing of the store or of retries.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::config::ApiConfig;

/// What an answer means for the record and the pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created {
        blue_tape_id: String,
        sign_up_url: String,
    },
    /// 409: already in BlueTape; success.
    Exists,
    /// 202 to an update.
    Updated { blue_tape_id: Option<String> },
    /// 400: BlueTape refuses this record.
    Rejected { reason: String },
    /// 401/403: the credentials are wrong; stop the pass.
    Unauthorized { reason: String },
    /// 404: the endpoint or account is wrong; stop the pass.
    NotFound { reason: String },
    /// 3xx: BlueTape is elsewhere; never followed (the key goes only to `api.base_url`), and
    /// the pass stops like 404.
    Redirected { reason: String },
    /// Try again later, after `after` when the server said so.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

impl Outcome {
    /// A word for the history.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Created { .. } => "created",
            Outcome::Exists => "exists",
            Outcome::Updated { .. } => "updated",
            Outcome::Rejected { .. } => "rejected",
            Outcome::Unauthorized { .. } => "unauthorized",
            Outcome::NotFound { .. } => "not found",
            Outcome::Redirected { .. } => "redirected",
            Outcome::Retry { .. } => "retry",
        }
    }

    /// The server's reason, or what went wrong, when there is one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Rejected { reason }
            | Outcome::Unauthorized { reason }
            | Outcome::NotFound { reason }
            | Outcome::Redirected { reason }
            | Outcome::Retry { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// An answer with the HTTP status it came with (`None` when no response arrived).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Option<u16>,
    pub outcome: Outcome,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedBody {
    blue_tape_id: String,
    sign_up_url: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<serde_json::Value>,
    reason: Option<String>,
}

/// What classification needs of a response.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    pub status: u16,
    pub retry_after: Option<&'a str>,
    /// For a 3xx: where it pointed, resolved, with what to set `api.base_url` to.
    pub location: Option<&'a str>,
    pub body: &'a [u8],
}

/// Classifies a response to `POST /integration/customer`. Pure, so the table is testable.
pub fn classify(reply: Reply<'_>, now: SystemTime) -> Outcome {
    let Reply {
        status,
        retry_after,
        location,
        body,
    } = reply;
    let reason = || error_reason(status, body);
    match status {
        201 => match serde_json::from_slice::<CreatedBody>(body) {
            Ok(b) => Outcome::Created {
                blue_tape_id: b.blue_tape_id,
                sign_up_url: b.sign_up_url,
            },
            Err(_) => Outcome::Retry {
                reason: "201 with a body that is not {blueTapeId, signUpUrl}".into(),
                after: None,
            },
        },
        409 => Outcome::Exists,
        400 => Outcome::Rejected { reason: reason() },
        401 | 403 => Outcome::Unauthorized { reason: reason() },
        404 => Outcome::NotFound { reason: reason() },
        300..=399 => Outcome::Redirected {
            reason: redirect_reason(status, location),
        },
        _ => Outcome::Retry {
            reason: reason(),
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
    }
}

/// "301 Moved Permanently -> <where>", or that the answer named nowhere.
fn redirect_reason(status: u16, location: Option<&str>) -> String {
    let canonical = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|c| format!("{status} {c}"))
        .unwrap_or_else(|| format!("HTTP {status}"));
    match location {
        Some(location) => format!("{canonical} -> {location}"),
        None => format!("{canonical} without a Location: check api.base_url"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdatedBody {
    blue_tape_id: Option<String>,
}

/// Classifies a response to `PUT /integration/customer/{id}`: 202 is success; 404 means the
/// customer is gone from BlueTape (the caller creates it again); the rest as for a create.
pub fn classify_update(reply: Reply<'_>, now: SystemTime) -> Outcome {
    let Reply { status, body, .. } = reply;
    match status {
        202 => match serde_json::from_slice::<UpdatedBody>(body) {
            Ok(b) => Outcome::Updated {
                blue_tape_id: b.blue_tape_id,
            },
            Err(_) => Outcome::Retry {
                reason: "202 with a body that is not {blueTapeId}".into(),
                after: None,
            },
        },
        200..=299 | 409 => Outcome::Retry {
            reason: error_reason(status, body),
            after: None,
        },
        _ => classify(reply, now),
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// "<status> <reason>", the reason from the error body when there is one, kept short.
fn error_reason(status: u16, body: &[u8]) -> String {
    let canonical = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let detail = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            reason: Some(reason),
            ..
        }) => reason,
        Ok(ErrorBody {
            code: Some(code), ..
        }) => code.to_string(),
        _ => String::new(),
    };
    let detail: String = detail.chars().take(300).collect();
    match (canonical, detail.is_empty()) {
        (_, false) => format!("{status}: {detail}"),
        ("", true) => format!("HTTP {status}"),
        (c, true) => format!("{status} {c}"),
    }
}

/// BlueTape's answer to `GET /integration/customer/{id}/signup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUp {
    Url(String),
    /// 404 "Customer not found.": no such customer in this account.
    NotFound,
    /// 401/403: the key or the account is refused.
    Unauthorized(String),
    /// A 404 that is not about the customer: `api.base_url` or the account is wrong.
    WrongEndpoint(String),
    /// A 3xx, never followed: `api.base_url` is not where BlueTape answers.
    Redirected(String),
    /// Anything transient.
    Unavailable(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignUpBody {
    sign_up_url: String,
}

/// Classifies an answer to the sign-up URL request. A 404 whose reason is about the customer
/// means the key and account were accepted; any other 404 is a wrong endpoint.
pub fn classify_sign_up(reply: Reply<'_>) -> SignUp {
    let Reply {
        status,
        location,
        body,
        ..
    } = reply;
    match status {
        200 => match serde_json::from_slice::<SignUpBody>(body) {
            Ok(b) => SignUp::Url(b.sign_up_url),
            Err(_) => SignUp::Unavailable("200 with a body that is not {signUpUrl}".into()),
        },
        404 => {
            let reason = error_reason(status, body);
            if reason.to_ascii_lowercase().contains("customer not found") {
                SignUp::NotFound
            } else {
                SignUp::WrongEndpoint(reason)
            }
        }
        300..=399 => SignUp::Redirected(redirect_reason(status, location)),
        401 | 403 => SignUp::Unauthorized(error_reason(status, body)),
        _ => SignUp::Unavailable(error_reason(status, body)),
    }
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

    /// Sends one customer (`body` is its JSON) and classifies the answer.
    pub async fn create(&self, body: String) -> Answer {
        let url = self.create_url.clone();
        let request = self.http.post(url.clone()).body(body);
        self.send(url, request, classify).await
    }

    /// Sends a changed customer as an update: `body` is the create body without `id` and
    /// `companyId`.
    pub async fn update(&self, id: &str, body: String) -> Answer {
        let url = self.customer_url(id, &[]);
        let request = self.http.put(url.clone()).body(body);
        self.send(url, request, classify_update).await
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

    /// The URL of a customer's `.../signup`.
    fn customer_url(&self, id: &str, tail: &[&str]) -> Url {
        let mut url = self.create_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(id);
            segments.extend(tail);
        }
        url
    }

    /// Asks BlueTape for a customer's sign-up URL.
    pub async fn sign_up(&self, id: &str) -> SignUp {
        let url = self.customer_url(id, &["signup"]);
        let response = match self.execute(self.http.get(url.clone())).await {
            Ok(r) => r,
            Err(e) => return SignUp::Unavailable(transport_reason(&e)),
        };
        let status = response.status().as_u16();
        let location = self.location(&url, &response);
        match response.bytes().await {
            Ok(body) => classify_sign_up(Reply {
                status,
                retry_after: None,
                location: location.as_deref(),
                body: &body,
            }),
            Err(e) => SignUp::Unavailable(transport_reason(&e)),
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

    async fn send(
        &self,
        url: Url,
        request: reqwest::RequestBuilder,
        classify: fn(Reply<'_>, SystemTime) -> Outcome,
    ) -> Answer {
        let request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
        let response = match self.execute(request).await {
            Ok(r) => r,
            Err(e) => {
                return Answer {
                    status: None,
                    outcome: Outcome::Retry {
                        reason: transport_reason(&e),
                        after: None,
                    },
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
        let outcome = match response.bytes().await {
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
                reason: format!("{status} then {}", transport_reason(&e)),
                after: None,
            },
        };
        Answer {
            status: Some(status),
            outcome,
        }
    }
}

/// `base` + `path`, keeping the base's own path (`.../genericBthubService/integration/...`).
fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}/{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url
}

/// A transport failure in words, without the URL's query or any header.
fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out (api.timeout)".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading the answer".into()
    } else {
        "connection failed before an answer".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_response_class() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let created = br#"{"blueTapeId":"fb56","signUpUrl":"https://x/s?id=1"}"#;
        let cases: Vec<(u16, Option<&str>, &[u8], Outcome)> = vec![
            (
                201,
                None,
                created,
                Outcome::Created {
                    blue_tape_id: "fb56".into(),
                    sign_up_url: "https://x/s?id=1".into(),
                },
            ),
            (
                201,
                None,
                b"<html>",
                Outcome::Retry {
                    reason: "201 with a body that is not {blueTapeId, signUpUrl}".into(),
                    after: None,
                },
            ),
            (
                409,
                None,
                br#"{"code":"409","reason":"Customer already exists."}"#,
                Outcome::Exists,
            ),
            (
                400,
                None,
                br#"{"code":"BadRequest","reason":"Invalid phone"}"#,
                Outcome::Rejected {
                    reason: "400: Invalid phone".into(),
                },
            ),
            (
                400,
                None,
                b"",
                Outcome::Rejected {
                    reason: "400 Bad Request".into(),
                },
            ),
            (
                401,
                None,
                b"",
                Outcome::Unauthorized {
                    reason: "401 Unauthorized".into(),
                },
            ),
            (
                403,
                None,
                br#"{"code":"forbidden"}"#,
                Outcome::Unauthorized {
                    reason: "403: \"forbidden\"".into(),
                },
            ),
            (
                404,
                None,
                b"",
                Outcome::NotFound {
                    reason: "404 Not Found".into(),
                },
            ),
            (
                500,
                None,
                b"oops",
                Outcome::Retry {
                    reason: "500 Internal Server Error".into(),
                    after: None,
                },
            ),
            (
                503,
                Some("7"),
                b"",
                Outcome::Retry {
                    reason: "503 Service Unavailable".into(),
                    after: Some(Duration::from_secs(7)),
                },
            ),
            (
                429,
                Some("Tue, 14 Nov 2023 22:13:30 GMT"),
                b"",
                Outcome::Retry {
                    reason: "429 Too Many Requests".into(),
                    after: Some(Duration::from_secs(10)),
                },
            ),
            (
                408,
                None,
                b"",
                Outcome::Retry {
                    reason: "408 Request Timeout".into(),
                    after: None,
                },
            ),
            (
                302,
                None,
                b"",
                Outcome::Redirected {
                    reason: "302 Found without a Location: check api.base_url".into(),
                },
            ),
            (
                200,
                None,
                created,
                Outcome::Retry {
                    reason: "200 OK".into(),
                    after: None,
                },
            ),
        ];
        for (status, retry_after, body, expected) in cases {
            let reply = Reply {
                status,
                retry_after,
                location: None,
                body,
            };
            assert_eq!(classify(reply, now), expected, "{status}");
        }
    }

    fn reply(status: u16, body: &[u8]) -> Reply<'_> {
        Reply {
            status,
            retry_after: None,
            location: None,
            body,
        }
    }

    #[test]
    fn redirects_stop_and_say_where() {
        let now = SystemTime::UNIX_EPOCH;
        for status in [301, 302, 303, 307, 308] {
            let reply = Reply {
                location: Some("https://b.example/x"),
                ..reply(status, b"")
            };
            let Outcome::Redirected { reason } = classify(reply, now) else {
                panic!("{status} is not a redirect");
            };
            assert!(reason.starts_with(&format!("{status} ")), "{reason}");
            assert!(reason.ends_with("-> https://b.example/x"), "{reason}");
            assert!(matches!(
                classify_update(reply, now),
                Outcome::Redirected { .. }
            ));
            assert!(matches!(classify_sign_up(reply), SignUp::Redirected(_)));
        }
    }

    #[test]
    fn sign_up_answers() {
        assert_eq!(
            classify_sign_up(reply(200, br#"{"signUpUrl":"https://x/s?id=1"}"#)),
            SignUp::Url("https://x/s?id=1".into())
        );
        assert_eq!(
            classify_sign_up(reply(
                404,
                br#"{"code":"404","reason":"Customer not found."}"#
            )),
            SignUp::NotFound
        );
        assert!(matches!(
            classify_sign_up(reply(404, b"")),
            SignUp::WrongEndpoint(_)
        ));
        assert!(matches!(
            classify_sign_up(reply(401, b"")),
            SignUp::Unauthorized(_)
        ));
        assert!(matches!(
            classify_sign_up(reply(403, b"")),
            SignUp::Unauthorized(_)
        ));
        assert!(matches!(
            classify_sign_up(reply(503, b"")),
            SignUp::Unavailable(_)
        ));
    }

    #[test]
    fn update_answers() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            classify_update(reply(202, br#"{"blueTapeId":"b1"}"#), now),
            Outcome::Updated {
                blue_tape_id: Some("b1".into())
            }
        );
        assert_eq!(
            classify_update(
                reply(404, br#"{"code":"404","reason":"Customer not found."}"#),
                now
            ),
            Outcome::NotFound {
                reason: "404: Customer not found.".into()
            }
        );
        assert!(matches!(
            classify_update(reply(201, b"{}"), now),
            Outcome::Retry { .. }
        ));
        let busy = Reply {
            retry_after: Some("2"),
            ..reply(503, b"")
        };
        assert!(matches!(
            classify_update(busy, now),
            Outcome::Retry { after: Some(_), .. }
        ));
        assert!(matches!(
            classify_update(reply(400, b""), now),
            Outcome::Rejected { .. }
        ));
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:12:20 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

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
