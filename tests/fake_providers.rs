//! The fake QuickBooks Online and Xero servers behave as the providers document: the tests of
//! SPEC §11 rely on it, so each behaviour they use is proven here with a plain HTTP client.

mod support;

#[path = "fake_providers/oauth.rs"]
mod oauth;
#[path = "fake_providers/quickbooks.rs"]
mod quickbooks;
#[path = "fake_providers/xero.rs"]
mod xero;

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::fake_oauth::{CLIENT_ID, CLIENT_SECRET};
use support::fake_provider::Fault;
use support::fake_quickbooks::{Entity, FakeQuickbooks, REALM, intuit_time};
use support::fake_xero::{FakeXero, Kind, TENANT, throttled};

const REDIRECT: &str = "https://app.example.com/callback";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        form.append_pair(k, v);
    }
    form.finish()
}

/// POSTs a form to `url` with the client's HTTP Basic credentials (unless `basic` is false).
async fn post_form(url: &str, basic: bool, form: &[(&str, &str)]) -> (u16, Value) {
    let mut request = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(form));
    if basic {
        request = request.basic_auth(CLIENT_ID, Some(CLIENT_SECRET));
    }
    let response = request.send().await.expect("token endpoint answers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn refresh(url: &str, token: &str) -> (u16, Value) {
    post_form(
        url,
        true,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

fn text(body: &Value, key: &str) -> String {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {body}"))
        .to_owned()
}

/// GETs `url` with a bearer token and the extra headers: status, headers, JSON body.
async fn get(url: &str, token: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
    let mut request = client().get(url).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let map = response.headers().clone();
    let body = response.bytes().await.expect("body");
    (
        status,
        map,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

async fn qb_query(fake: &FakeQuickbooks, token: &str, query: &str) -> (u16, HeaderMap, Value) {
    let url = format!(
        "{}/v3/company/{REALM}/query?{}",
        fake.base_url(),
        encode(&[("query", query), ("minorversion", "75")])
    );
    get(&url, token, &[("accept", "application/json")]).await
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    (list
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter())
    .map(|r| r[field].as_str().unwrap_or_default().to_owned())
    .collect()
}

/// Follows the consent screen: the redirect's query parameters.
async fn consent(auth_url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut params = vec![
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "com.intuit.quickbooks.accounting"),
        ("state", "st-123"),
    ];
    params.extend_from_slice(extra);
    let response = client()
        .get(format!("{auth_url}?{}", encode(&params)))
        .send()
        .await
        .expect("authorize answers");
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().expect("location");
    assert!(location.starts_with(REDIRECT), "{location}");
    let url = url::Url::parse(location).expect("location URL");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(params: &[(String, String)], name: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).expect("time")
}

/// Waits, up to 30 seconds, until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
