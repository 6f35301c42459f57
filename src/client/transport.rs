//! A request that got no answer, in words (SPEC §10): which failures are the network's and pass,
//! and which say `api.base_url` points at something that does not speak TLS to us and never
//! will. Pure over the error's `source()` chain, so the table is testable.

use std::error::Error;
use std::io;

/// Why no answer came, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    /// A certificate or protocol error: retrying cannot fix it.
    pub fatal: bool,
}

impl Failure {
    fn transient(reason: String) -> Self {
        Self {
            reason,
            fatal: false,
        }
    }
}

/// Names the failure of a request to `authority` (`host[:port]`). `connect` and `timeout` are
/// what the HTTP client said of it; `error` is its outermost error, walked through `source()`
/// and through the errors `io::Error`s wrap.
pub fn name(
    authority: &str,
    connect: bool,
    timeout: bool,
    error: &(dyn Error + 'static),
) -> Failure {
    let links = chain(error);
    let kind = |wanted: io::ErrorKind| {
        links.iter().any(|e| {
            e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == wanted)
        })
    };
    if timeout || kind(io::ErrorKind::TimedOut) {
        return Failure::transient("timed out (api.timeout)".into());
    }
    if !connect {
        return Failure::transient("connection failed before an answer".into());
    }
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(host, _)| host);
    // hyper-util names a failed lookup "dns error"; reqwest's resolvers "error resolving DNS".
    if links.iter().any(|e| {
        let text = e.to_string();
        text == "dns error" || text.starts_with("error resolving DNS")
    }) {
        return Failure::transient(format!("cannot resolve {host}"));
    }
    if kind(io::ErrorKind::ConnectionRefused) {
        return Failure::transient(format!("connection refused by {authority}"));
    }
    // The TLS stack reports every handshake failure (a certificate for another name, an
    // answer that is not TLS) as InvalidData; the innermost error says which.
    if kind(io::ErrorKind::InvalidData) {
        return Failure {
            reason: format!("TLS handshake with {host} failed: {}", innermost(&links)),
            fatal: true,
        };
    }
    if kind(io::ErrorKind::UnexpectedEof) || kind(io::ErrorKind::ConnectionReset) {
        return Failure::transient(format!(
            "{authority} closed the connection before an answer"
        ));
    }
    Failure::transient(format!(
        "could not connect to {authority}: {}",
        innermost(&links)
    ))
}

/// Every error in the chain, outermost first, including the error each `io::Error` wraps
/// (which its own `source()` skips).
fn chain<'a>(error: &'a (dyn Error + 'static)) -> Vec<&'a (dyn Error + 'static)> {
    let mut links = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        links.push(e);
        if links.len() > 32 {
            break;
        }
        next = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn Error + 'static)),
            None => e.source(),
        };
    }
    links
}

/// The deepest error's words, kept short: the cause, not the layers that carried it.
fn innermost(links: &[&(dyn Error + 'static)]) -> String {
    let text = links.last().map(|e| e.to_string()).unwrap_or_default();
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with words and an optional cause, as the HTTP stack's layers are.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<dyn Error + Send + Sync>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    fn wrap(text: &'static str, cause: impl Error + Send + Sync + 'static) -> Layer {
        Layer(text, Some(Box::new(cause)))
    }

    /// The layers reqwest puts around a connector's error.
    fn request(cause: impl Error + Send + Sync + 'static) -> Layer {
        wrap(
            "error sending request for url (https://api.example.com/x)",
            wrap("client error (Connect)", cause),
        )
    }

    #[test]
    fn every_failure_is_named() {
        let tls = |inner: &'static str| {
            io::Error::other(io::Error::new(io::ErrorKind::InvalidData, inner))
        };
        let cases: Vec<(bool, bool, Layer, &str, bool)> = vec![
            (
                true,
                false,
                request(wrap(
                    "dns error",
                    wrap(
                        "error resolving DNS",
                        io::Error::other("failed to lookup address information"),
                    ),
                )),
                "cannot resolve api.example.com",
                false,
            ),
            (
                true,
                false,
                request(wrap(
                    "tcp connect error",
                    io::Error::from(io::ErrorKind::ConnectionRefused),
                )),
                "connection refused by api.example.com:8443",
                false,
            ),
            (
                true,
                false,
                request(tls("received corrupt message of type InvalidContentType")),
                "TLS handshake with api.example.com failed: received corrupt message of type \
                 InvalidContentType",
                true,
            ),
            (
                true,
                false,
                request(tls(
                    "invalid peer certificate: certificate not valid for name \"api.example.com\"",
                )),
                "TLS handshake with api.example.com failed: invalid peer certificate: \
                 certificate not valid for name \"api.example.com\"",
                true,
            ),
            (
                true,
                true,
                request(wrap(
                    "tcp connect error",
                    io::Error::from(io::ErrorKind::TimedOut),
                )),
                "timed out (api.timeout)",
                false,
            ),
            (
                true,
                false,
                request(wrap(
                    "tcp connect error",
                    io::Error::from(io::ErrorKind::TimedOut),
                )),
                "timed out (api.timeout)",
                false,
            ),
            (
                false,
                true,
                request(Layer("operation timed out", None)),
                "timed out (api.timeout)",
                false,
            ),
            (
                true,
                false,
                request(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "tls handshake eof",
                )),
                "api.example.com:8443 closed the connection before an answer",
                false,
            ),
            (
                true,
                false,
                request(wrap(
                    "tcp connect error",
                    io::Error::from(io::ErrorKind::NetworkUnreachable),
                )),
                "could not connect to api.example.com:8443: network unreachable",
                false,
            ),
            (
                false,
                false,
                request(Layer("connection closed before message completed", None)),
                "connection failed before an answer",
                false,
            ),
        ];
        for (connect, timeout, error, reason, fatal) in cases {
            let failure = name("api.example.com:8443", connect, timeout, &error);
            assert_eq!(
                failure,
                Failure {
                    reason: reason.into(),
                    fatal
                },
                "{error:?}"
            );
        }
    }

    #[test]
    fn a_host_without_a_port_is_named_as_it_is() {
        let error = request(wrap(
            "dns error",
            io::Error::other("failed to lookup address information"),
        ));
        assert_eq!(
            name("nonexistent.invalid", true, false, &error).reason,
            "cannot resolve nonexistent.invalid"
        );
    }
}
