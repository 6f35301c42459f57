//! The HTTP client every provider request goes through, and its bounded answers: rustls, no
//! redirect followed (requests carry tokens and the app's secret), every body read only up to
//! a limit, so a hostile or broken answer cannot take the memory.

use std::time::Duration;

/// The client for one provider's requests.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("bluetape-sync/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()
}

/// An answer's body, read up to `limit` bytes; past it, or on a broken connection, why not.
pub async fn body(mut answer: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    // As long as announced, within the limit: a page read in one allocation, not doubled
    // into (and a lying length costs only address space, never touched).
    let announced = answer.content_length().unwrap_or(0).min(limit as u64) as usize;
    let mut body = Vec::with_capacity(announced);
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > limit {
            return Err(format!("an answer over {} KiB", limit / 1024));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
