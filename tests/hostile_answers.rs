//! BlueTape's answers as hostile input (SPEC §10): a body that never ends or claims 1 GiB, a 413,
//! a sign-up URL that is not https or carries a control character, and the network failures
//! that must be named (and the one that must stop the pass). The server here is a raw socket on
//! 127.0.0.1 writing bytes by hand, so it can send what no HTTP library would.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Fixture, HEADER, Run, export_of, row};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Peak RSS any run may reach, whatever the server sends (SPEC §10).
const MAX_RSS_KIB: u64 = 128 * 1024;
/// A run against any of these servers ends well within this.
const LIMIT: Duration = Duration::from_secs(90);

/// What the raw server answers to every request.
#[derive(Clone)]
enum Script {
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
struct RawServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

impl RawServer {
    async fn start(script: Script) -> Self {
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

    fn base_url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/genericBthubService", self.port)
    }

    /// The ids of the customers posted, in order, one per request.
    fn posted(&self) -> Vec<String> {
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

/// The peak RSS (`VmHWM`) of `pid` so far, in KiB; `None` once it has gone.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `run --once` against `base_url`, with `VmHWM` read every 5 ms while it runs (it only grows,
/// so the last reading is the peak up to it). A run past [`MAX_RSS_KIB`] is killed at once, so
/// a failure costs no more memory than the bound.
async fn run_measured(fx: &Fixture, base_url: &str) -> (Run, u64, Duration) {
    run_measured_with_env(fx, base_url, &[]).await
}

/// [`run_measured`] with more environment variables.
async fn run_measured_with_env(
    fx: &Fixture,
    base_url: &str,
    env: &[(&str, &str)],
) -> (Run, u64, Duration) {
    command_measured(fx, &["--once"], base_url, env).await
}

/// The binary with `args`, measured as [`run_measured`] says.
async fn command_measured(
    fx: &Fixture,
    args: &[&str],
    base_url: &str,
    env: &[(&str, &str)],
) -> (Run, u64, Duration) {
    let started = Instant::now();
    let mut env = env.to_vec();
    env.push(("BLUETAPE_SYNC__API__BASE_URL", base_url));
    let mut child = fx.command(args, &env).spawn().expect("spawn bluetape-sync");
    let pid = child.id().expect("pid");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text).await;
        text
    });
    let err = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_kib(pid) {
            peak = peak.max(kib);
        }
        if peak > MAX_RSS_KIB || started.elapsed() > LIMIT {
            let _ = child.start_kill();
            break child.wait().await.expect("wait");
        }
        tokio::select! {
            status = child.wait() => break status.expect("wait"),
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    };
    let elapsed = started.elapsed();
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: out.await.expect("stdout"),
        stderr: err.await.expect("stderr"),
    };
    (run, peak, elapsed)
}

/// Runs one customer against a body that is too large; the record stays failed, named.
async fn too_large_a_body(script: Script, label: &str) {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let server = RawServer::start(script).await;
    let (run, peak, elapsed) = run_measured(&fx, &server.base_url("http")).await;
    println!(
        "{label}: peak RSS {:.1} MiB, {} requests, {:.1}s",
        peak as f64 / 1024.0,
        server.posted().len(),
        elapsed.as_secs_f64()
    );
    assert!(
        peak <= MAX_RSS_KIB,
        "{label}: peak RSS {peak} KiB over {MAX_RSS_KIB} KiB"
    );
    assert!(elapsed < LIMIT, "{label}: still running after {elapsed:?}");
    assert_eq!(run.code, 69, "{label}: {}", run.stderr);
    assert!(
        run.stderr.contains("response too large"),
        "{label}: {}",
        run.stderr
    );
    let stored = fx.record("C0001").expect("C0001 is in the store");
    assert_eq!(stored.state, "failed", "{label}");
    assert!(
        stored
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("response too large")),
        "{label}: {stored:?}"
    );
    assert!(stored.blue_tape_id.is_none(), "{label}: {stored:?}");
    // Retried as a transient answer: max_attempts (3) requests, no more.
    assert_eq!(server.posted(), vec!["C0001"; 3], "{label}");
}

#[tokio::test]
async fn an_endless_chunked_answer_is_cut_at_1_mib_and_retried() {
    too_large_a_body(Script::EndlessChunked, "endless chunked 201").await;
}

#[tokio::test]
async fn a_1_gib_answer_is_not_read_and_retried() {
    too_large_a_body(Script::GiB, "1 GiB Content-Length 201").await;
}

#[tokio::test]
async fn an_endless_sign_up_answer_is_cut_at_1_mib() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    // Already in BlueTape (409): created without a sign-up URL, which export can fetch.
    let exists = r#"{"code":"409","reason":"Customer already exists."}"#.to_owned();
    let first = RawServer::start(Script::Status(409, exists)).await;
    let (run, _, _) = run_measured(&fx, &first.base_url("http")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let endless = RawServer::start(Script::EndlessChunked).await;
    let (run, peak, elapsed) = command_measured(
        &fx,
        &["export", "--fetch-missing"],
        &endless.base_url("http"),
        &[],
    )
    .await;
    println!(
        "endless chunked sign-up 200: peak RSS {:.1} MiB, {:.1}s",
        peak as f64 / 1024.0,
        elapsed.as_secs_f64()
    );
    assert!(peak <= MAX_RSS_KIB, "peak RSS {peak} KiB");
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("response too large"), "{}", run.stderr);
    assert_eq!(
        endless.posted(),
        vec!["GET /genericBthubService/integration/customer/C0001/signup"]
    );
    assert_eq!(fx.record("C0001").expect("C0001").sign_up_url, None);
}

#[tokio::test]
async fn a_413_rejects_that_record_only() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    let body = r#"{"code":"413","reason":"Payload Too Large"}"#.to_owned();
    let server = RawServer::start(Script::Status(413, body)).await;
    let (run, peak, elapsed) = run_measured(&fx, &server.base_url("http")).await;
    println!("413: peak RSS {:.1} MiB", peak as f64 / 1024.0);
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("BlueTape refused the record as too large"),
        "{}",
        run.stderr
    );
    for id in ["C0001", "C0002"] {
        let stored = fx.record(id).expect("in the store");
        assert_eq!(stored.state, "rejected", "{id}: {stored:?}");
        assert_eq!(
            stored.reason.as_deref(),
            Some("413: BlueTape refused the record as too large")
        );
    }
    // A rejection, not a transient failure: each record sent once.
    let mut posted = server.posted();
    posted.sort();
    assert_eq!(posted, vec!["C0001", "C0002"]);
}

#[tokio::test]
async fn a_sign_up_url_that_is_not_https_or_carries_a_control_character_is_dropped() {
    let fx = Fixture::new().await;
    let mut export = format!("{HEADER}\n");
    for id in ["PLAIN", "BELL", "GOOD"] {
        export.push_str(&row(id, "2024-03-01T00:00:00Z"));
        export.push('\n');
    }
    fx.write_export(&export);
    let server = RawServer::start(Script::Created(|id| match id {
        "PLAIN" => format!("http://www.bluetape.com/signup?id={id}"),
        "BELL" => format!("https://www.bluetape.com/signup?id={id}\u{7}\r\nX: y"),
        _ => format!("https://www.bluetape.com/signup?id={id}"),
    }))
    .await;
    let (run, _, _) = run_measured(&fx, &server.base_url("http")).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for id in ["PLAIN", "BELL", "GOOD"] {
        let stored = fx.record(id).expect("in the store");
        assert_eq!(stored.state, "created", "{id}");
        assert_eq!(stored.blue_tape_id.as_deref(), Some(&*format!("bt-{id}")));
    }
    let warned = |id: &str| {
        run.stderr
            .lines()
            .any(|l| l.contains("signUpUrl was not kept") && l.contains(id))
    };
    for id in ["PLAIN", "BELL"] {
        assert_eq!(fx.record(id).expect(id).sign_up_url, None, "{id}");
        assert!(warned(id), "no warning naming {id}: {}", run.stderr);
    }
    assert!(!warned("GOOD"), "{}", run.stderr);
    let export = fx.run(&["export", "--format", "json"]).await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    let rows: Vec<Value> = serde_json::from_str(&export.stdout).expect("JSON");
    let url = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {rows:?}"))["signUpUrl"]
            .clone()
    };
    assert_eq!(url("PLAIN"), Value::Null);
    assert_eq!(url("BELL"), Value::Null);
    assert_eq!(
        url("GOOD"),
        Value::from("https://www.bluetape.com/signup?id=GOOD")
    );
}

#[tokio::test]
async fn tls_to_a_plain_http_port_stops_the_pass_naming_api_base_url() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(20));
    let server = RawServer::start(Script::Plain).await;
    let (run, _, elapsed) = run_measured(&fx, &server.base_url("https")).await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains("TLS handshake with 127.0.0.1 failed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("api.base_url"), "{}", run.stderr);
    // Stopped at the first failure: at most one handshake per concurrent sender (4), none
    // retried.
    let connections = server.connections.load(Ordering::SeqCst);
    assert!((1..=4).contains(&connections), "{connections} connections");
    assert_eq!(fx.count_in("pending"), 20, "nothing marked");
}

#[tokio::test]
async fn a_refused_connection_is_named_and_transient() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let base_url = format!("http://127.0.0.1:{port}/genericBthubService");
    let (run, _, elapsed) = run_measured(&fx, &base_url).await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    let stored = fx.record("C0001").expect("in the store");
    assert_eq!(stored.state, "failed");
    assert!(
        stored
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("connection refused")),
        "{stored:?}"
    );
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_named_and_transient() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    // `.invalid` never resolves (RFC 6761): the lookup fails at once, offline or not.
    let (run, _, elapsed) =
        run_measured(&fx, "https://nonexistent.invalid/genericBthubService").await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot resolve nonexistent.invalid"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.record("C0001").expect("in the store").state, "failed");
}

/// A TLS server on 127.0.0.1 presenting `tests/fixtures/tls/other.pem`: a certificate for
/// `other.example` from a test CA (`ca.pem`; the key is a test key for a name nobody owns).
/// Returns its port and how many handshakes it was asked for.
async fn tls_server() -> (u16, Arc<AtomicUsize>) {
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

#[tokio::test]
async fn a_certificate_for_another_name_stops_the_pass_naming_api_base_url() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(20));
    let (port, handshakes) = tls_server().await;
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/ca.pem");
    let base_url = format!("https://127.0.0.1:{port}/genericBthubService");
    // The test CA is the only one trusted, so the one fault is the name.
    let env = [("SSL_CERT_FILE", ca.to_str().expect("utf-8"))];
    let (run, _, elapsed) = run_measured_with_env(&fx, &base_url, &env).await;
    assert!(elapsed < LIMIT);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains("TLS handshake with 127.0.0.1 failed")
            && run.stderr.contains("not valid for name"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("api.base_url"), "{}", run.stderr);
    let handshakes = handshakes.load(Ordering::SeqCst);
    assert!((1..=4).contains(&handshakes), "{handshakes} handshakes");
    assert_eq!(fx.count_in("pending"), 20, "nothing marked");
}
