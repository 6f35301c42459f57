//! What the integration tests share: the fake BlueTape, a scratch directory with a config and
//! an export, and the real binary run against them.

#![allow(dead_code)]

pub mod fake;
pub mod fake_oauth;
pub mod fake_provider;
pub mod fake_quickbooks;
pub mod fake_xero;
pub mod linked;
pub mod measured;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

#[allow(unused_imports)] // each test crate uses its own part
pub use fake::{ACCOUNT, FakeBlueTape, Fault, KEY};
use tokio::process::{Child, Command};

pub const HEADER: &str =
    "id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate,companyId";

/// A CSV row for customer `id` modified at `date`.
pub fn row(id: &str, date: &str) -> String {
    format!("{id},First{id},Last{id},{id}@example.com,(626) 555-0100,{date},")
}

/// A CSV export with `n` valid customers `C0001..`, modified a second apart.
pub fn export_of(n: usize) -> String {
    let mut text = format!("{HEADER}\n");
    for i in 1..=n {
        let date = chrono::DateTime::from_timestamp(1_700_000_000 + i as i64, 0)
            .expect("date")
            .format("%Y-%m-%dT%H:%M:%SZ");
        text.push_str(&row(&format!("C{i:04}"), &date.to_string()));
        text.push('\n');
    }
    text
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The summary line's invoice part (`invoices: created 1, …`), without the structured
    /// fields that follow the message.
    pub fn invoice_summary(&self) -> String {
        let line = (self.stderr.lines().rev())
            .find(|l| l.contains("pass finished"))
            .unwrap_or_else(|| panic!("no summary in:\n{}", self.stderr));
        let at = line
            .find("invoices: ")
            .unwrap_or_else(|| panic!("no invoice counts in {line}"));
        let part = &line[at..];
        part.split(" pass=")
            .next()
            .unwrap_or(part)
            .trim_end_matches('"')
            .to_owned()
    }

    /// The summary line's figure for `name` (`created 3` -> 3).
    pub fn count(&self, name: &str) -> u64 {
        let line = self
            .stderr
            .lines()
            .rev()
            .find(|l| l.contains("pass finished") || l.contains("dry run finished"))
            .unwrap_or_else(|| panic!("no summary line in:\n{}", self.stderr));
        let at = line
            .find(&format!(" {name} "))
            .unwrap_or_else(|| panic!("no `{name}` in {line}"));
        line[at + name.len() + 2..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no figure for `{name}` in {line}"))
    }
}

/// A scratch directory holding `config.toml`, `export.csv`, the key file and the store.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub fake: FakeBlueTape,
    extra: String,
    export_name: String,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_config("").await
    }

    /// `extra` is appended to the test config's `[source]` section: more source keys, or
    /// sections of its own. Keys the test config already sets are overridden through the
    /// environment instead ([`Fixture::run_with_env`]).
    pub async fn with_config(extra: &str) -> Self {
        Self::with_export("export.csv", extra).await
    }

    /// A fixture whose `source.path` is `export` (a file name or a glob in the directory).
    pub async fn with_export(export: &str, extra: &str) -> Self {
        let fake = FakeBlueTape::start().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let key_file = dir.path().join("api.key");
        std::fs::write(&key_file, format!("{KEY}\n")).expect("key file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
                .expect("key file mode");
        }
        let fixture = Self {
            dir,
            fake,
            extra: extra.to_owned(),
            export_name: export.to_owned(),
        };
        fixture.write_config();
        fixture
    }

    /// The config written again with `extra` in place of what the fixture began with (a
    /// config an operator edits between passes).
    pub fn rewrite_config(&mut self, extra: &str) {
        self.extra = extra.to_owned();
        self.write_config();
    }

    fn write_config(&self) {
        let config = format!(
            r#"[api]
base_url = "{base}"
account_id = "{ACCOUNT}"
key_file = "api.key"
timeout = "10s"
concurrency = 4
max_requests_per_second = 0

[retry]
max_attempts = 3
initial_backoff = "10ms"
max_backoff = "50ms"
stop_after = 3

[store]
path = "{store}"

[source]
path = "{export}"
lookback = "0s"
settle = "0s"
{extra}
"#,
            base = self.fake.base_url(),
            store = self.store_path().display(),
            export = self.export_name,
            extra = self.extra,
        );
        std::fs::write(self.config_path(), config).expect("config");
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    pub fn write_export(&self, text: &str) {
        self.write_file(&self.export_name, text);
    }

    pub fn write_file(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).expect("export");
    }

    /// The bodies of the creates the fake received, by customer id.
    pub fn posted_bodies(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        self.fake
            .received()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| (r.id().expect("id").to_owned(), r.body))
            .collect()
    }

    /// Copies `tests/fixtures/<fixture>` into the fixture's directory as `name`.
    pub fn copy_fixture(&self, fixture: &str, name: &str) {
        let from = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        std::fs::copy(from, self.path(name)).expect("copy fixture");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        self.command_with_config(&self.config_path(), args, env)
    }

    /// The binary with another config file (e.g. one of `config/examples/`), pointed at this
    /// fixture's fake, store and export through the environment.
    pub async fn run_example(&self, config: &str, export: &str, args: &[&str]) -> Run {
        self.run_example_with_env(config, export, args, &[]).await
    }

    /// [`Fixture::run_example`] with more environment variables.
    pub async fn run_example_with_env(
        &self,
        config: &str,
        export: &str,
        args: &[&str],
        more: &[(&str, &str)],
    ) -> Run {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join(config);
        let base_url = self.fake.base_url();
        let store = self.store_path();
        let export = self.path(export);
        let env = [
            ("BLUETAPE_SYNC__API__BASE_URL", base_url.as_str()),
            ("BLUETAPE_SYNC__API__ACCOUNT_ID", ACCOUNT),
            ("BLUETAPE_SYNC__STORE__PATH", store.to_str().expect("utf-8")),
            (
                "BLUETAPE_SYNC__SOURCE__PATH",
                export.to_str().expect("utf-8"),
            ),
            ("BLUETAPE_SYNC__SOURCE__SETTLE", "0s"),
            ("BLUETAPE_API_KEY", KEY),
        ];
        let env: Vec<(&str, &str)> = env.into_iter().chain(more.iter().copied()).collect();
        let output = self
            .command_with_config(&config, args, &env)
            .output()
            .await
            .expect("run bluetape-sync");
        Run::from(output)
    }

    fn command_with_config(&self, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bluetape-sync"));
        cmd.arg("--config")
            .arg(config)
            .args(args)
            .env_remove("BLUETAPE_API_KEY")
            .env_remove("BLUETAPE_SYNC_CONFIG")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("STATE_DIRECTORY")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the binary with `args` after `--config`.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with_env(args, &[]).await
    }

    pub async fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output = self
            .command(args, env)
            .output()
            .await
            .expect("run bluetape-sync");
        Run::from(output)
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.spawn_with_env(args, &[])
    }

    pub fn spawn_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        self.command(args, env)
            .spawn()
            .expect("spawn bluetape-sync")
    }

    /// Waits up to `limit` for `done`, checking every 20 ms.
    pub async fn wait_for(&self, limit: std::time::Duration, done: impl Fn(&Self) -> bool) -> bool {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if done(self) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        done(self)
    }

    /// `(outcome, started_at_ms, finished_at_ms)` of every pass, in order.
    pub fn passes(&self) -> Vec<(String, i64, Option<i64>)> {
        if !self.store_path().exists() {
            return Vec::new();
        }
        let conn = rusqlite_open(&self.store_path());
        if !migrated(&conn) {
            return Vec::new();
        }
        let mut stmt = conn
            .prepare("SELECT outcome, started_at_ms, finished_at_ms FROM passes ORDER BY id")
            .expect("passes");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("passes")
            .collect::<Result<_, _>>()
            .expect("passes")
    }

    /// A read-only look at the store: `(state, reason, blue_tape_id, sign_up_url)` of `id`.
    pub fn record(&self, id: &str) -> Option<StoredRow> {
        let conn = rusqlite_open(&self.store_path());
        conn.query_row(
            "SELECT state, reason, blue_tape_id, sign_up_url, attempts, source_modified_ms FROM records WHERE id = ?1",
            [id],
            |r| {
                Ok(StoredRow {
                    state: r.get(0)?,
                    reason: r.get(1)?,
                    blue_tape_id: r.get(2)?,
                    sign_up_url: r.get(3)?,
                    attempts: r.get(4)?,
                    source_modified_ms: r.get(5)?,
                })
            },
        )
        .ok()
    }

    /// How many records are in `state`.
    pub fn count_in(&self, state: &str) -> u64 {
        let conn = rusqlite_open(&self.store_path());
        conn.query_row(
            "SELECT COUNT(*) FROM records WHERE state = ?1",
            [state],
            |r| r.get::<_, i64>(0),
        )
        .expect("count") as u64
    }

    pub fn watermark_ms(&self) -> Option<i64> {
        let conn = rusqlite_open(&self.store_path());
        conn.query_row("SELECT value_ms FROM watermarks", [], |r| r.get(0))
            .ok()
    }
}

/// A running daemon whose log is read as it is written, so a test can wait for a line.
pub struct Daemon {
    child: Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Daemon {
    pub fn spawn(fx: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Self {
        use tokio::io::AsyncBufReadExt as _;
        let mut child = fx.spawn_with_env(args, env);
        let stderr = child.stderr.take().expect("piped stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let reader = tokio::spawn({
            let log = log.clone();
            async move {
                let mut lines = tokio::io::BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        Self { child, log, reader }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("running")
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits up to `limit` for a log line containing `needle`.
    pub async fn wait_for_log(&self, needle: &str, limit: std::time::Duration) -> bool {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if self.log().contains(needle) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.log().contains(needle)
    }

    /// Sends SIGTERM, as systemd does on stop.
    pub fn terminate(&self) {
        terminate(&self.child);
    }

    /// Waits for it to exit (at most `limit`), and returns how it ended.
    pub async fn wait(mut self, limit: std::time::Duration) -> Run {
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("still running after {limit:?}:\n{}", self.log()))
            .expect("wait");
        let _ = tokio::time::timeout(limit, &mut self.reader).await;
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::new(),
            stderr: self.log(),
        }
    }

    /// Stops it as systemd does, and returns how it ended.
    pub async fn stop(self) -> Run {
        self.terminate();
        self.wait(std::time::Duration::from_secs(60)).await
    }
}

/// Stops a running daemon as systemd does, and returns how it ended.
pub async fn stop(child: Child) -> Run {
    terminate(&child);
    Run::from(child.wait_with_output().await.expect("wait"))
}

/// Sends SIGTERM, as systemd does on stop.
pub fn terminate(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    pub state: String,
    pub reason: Option<String>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    pub attempts: i64,
    pub source_modified_ms: Option<i64>,
}

/// Whether the store's tables are there: a store being created (or killed while it was) has
/// none until its first migration commits.
pub fn migrated(conn: &rusqlite::Connection) -> bool {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'records')",
        [],
        |r| r.get(0),
    )
    .expect("the store's tables")
}

fn rusqlite_open(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open store")
}

/// A tmpfs at `dir` mounted with `options` (`size=1m,mode=0755`, `strictatime`), unmounted
/// on drop. Needs root with the right to mount; a test that cannot mount it fails, since its
/// scenario would not run.
#[allow(dead_code)] // each test crate uses its own part
pub struct Tmpfs(std::path::PathBuf);

#[allow(dead_code)]
impl Tmpfs {
    pub fn mount(dir: &Path, options: &str) -> Self {
        std::fs::create_dir_all(dir).expect("mount point");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "cannot mount a tmpfs at {}: this test needs root with the right to mount, so its \
             fault was not injected",
            dir.display()
        );
        Self(dir.to_owned())
    }

    pub fn remount(&self, options: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .expect("mount");
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}
