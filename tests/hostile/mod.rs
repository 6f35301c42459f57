//! The servers `hostile_answers.rs` runs the binary against: a raw socket on 127.0.0.1 writing
//! bytes by hand, so it can send what no HTTP library would, and a TLS server with a
//! certificate for another name; and a run measured for its peak RSS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use crate::support::measured::MAX_RSS_KIB;
use crate::support::measured::measured;
use crate::support::{Fixture, Run};
/// A run against any of these servers ends well within this.
pub const LIMIT: Duration = Duration::from_secs(90);

/// What the raw server answers to every request.
#[derive(Clone)]
pub enum Script {
    /// A 201 (a 200 to a GET) whose chunked body never ends.
    EndlessChunked,
    /// A 201 announcing a 1 GiB body, written lazily for as long as the client reads.
    GiB,
    /// This status and body, then the connection closed.
    Status(u16, String),
    /// A 201 whose `signUpUrl` is given by the customer's id.
    Created(fn(&str) -> String),
    /// A plain HTTP server's 400 to whatever arrives (a TLS ClientHello among them).
    Plain,
}

/// A server on 127.0.0.1 that follows its script; counts connections and requests.
pub struct RawServer {
    port: u16,
    pub connections: Arc<AtomicUsize>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl RawServer {
    pub async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, seen) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (script, seen) = (script.clone(), seen.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, script, seen).await;
                });
            }
        });
        Self {
            port,
            connections,
            requests,
        }
    }

    pub fn base_url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/genericBthubService", self.port)
    }

    /// The ids of the customers posted, in order, one per request.
    pub fn posted(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

/// Reads one request (head and `Content-Length` body); `None` at the end of the connection.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok(Some((head, body)))
}

async fn serve(
    mut stream: TcpStream,
    script: Script,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    if let Script::Plain = script {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf).await?;
        stream
            .write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\n\
                  Bad Request",
            )
            .await?;
        return Ok(());
    }
    while let Some((head, body)) = read_request(&mut stream).await? {
        let id = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        seen.lock()
            .expect("requests")
            .push(match head.strip_prefix("GET ") {
                Some(rest) => format!("GET {}", rest.split(' ').next().unwrap_or_default()),
                None => id.clone(),
            });
        match &script {
            Script::EndlessChunked => {
                let status = if head.starts_with("GET ") {
                    "200 OK"
                } else {
                    "201 Created"
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                     Transfer-Encoding: chunked\r\n\r\n"
                );
                stream.write_all(head.as_bytes()).await?;
                let chunk = format!("10000\r\n{}\r\n", " ".repeat(0x10000));
                loop {
                    stream.write_all(chunk.as_bytes()).await?;
                }
            }
            Script::GiB => {
                stream
                    .write_all(
                        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\
                          Content-Length: 1073741824\r\n\r\n",
                    )
                    .await?;
                let chunk = vec![b' '; 0x10000];
                for _ in 0..(1usize << 30) / chunk.len() {
                    stream.write_all(&chunk).await?;
                }
                return Ok(());
            }
            Script::Status(status, body) => {
                let head = format!(
                    "HTTP/1.1 {status} Whatever\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(body.as_bytes()).await?;
                return Ok(());
            }
            Script::Created(url) => {
                let body =
                    serde_json::json!({"blueTapeId": format!("bt-{id}"), "signUpUrl": url(&id)})
                        .to_string();
                let head = format!(
                    "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(body.as_bytes()).await?;
            }
            Script::Plain => unreachable!("answered above"),
        }
    }
    Ok(())
}

/// A TLS server on 127.0.0.1 presenting `tests/fixtures/tls/other.pem`: a certificate for
/// `other.example` from a test CA (`ca.pem`; the key is a test key for a name nobody owns).
/// Returns its port and how many handshakes it was asked for.
pub async fn tls_server() -> (u16, Arc<AtomicUsize>) {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    let certs = CertificateDer::pem_file_iter(dir.join("other.pem"))
        .expect("other.pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("a certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("other.key")).expect("other.key");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that trusts the name would be answered 201; this one must not get here.
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")
                        .await;
                }
            });
        }
    });
    (port, handshakes)
}

/// `run --once` against `base_url`, measured for its peak RSS (see [`measured`]); a run past
/// [`LIMIT`] fails the test.
pub async fn run_measured(fx: &Fixture, base_url: &str) -> (Run, u64, Duration) {
    run_measured_with_env(fx, base_url, &[]).await
}

/// [`run_measured`] with more environment variables.
pub async fn run_measured_with_env(
    fx: &Fixture,
    base_url: &str,
    env: &[(&str, &str)],
) -> (Run, u64, Duration) {
    command_measured(fx, &["--once"], base_url, env).await
}

/// The binary with `args`, measured as [`run_measured`] says.
pub async fn command_measured(
    fx: &Fixture,
    args: &[&str],
    base_url: &str,
    env: &[(&str, &str)],
) -> (Run, u64, Duration) {
    let mut env = env.to_vec();
    env.push(("BLUETAPE_SYNC__API__BASE_URL", base_url));
    let m = measured(fx.command(args, &env), LIMIT).await;
    (m.run, m.peak_kib, m.took)
}
