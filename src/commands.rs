//! The operator's commands beside `run` (SPEC §6): `status`, `failures`, `export`, `retry`,
//! `forget`, `show`. They read the store without the instance lock (SQLite's WAL lets them
//! read while the daemon writes); `retry`, `forget` and `export --fetch-missing` write
//! alongside it.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::exit::Exit;
use crate::client::{BlueTapeClient, SignUp};
use crate::config::Config;
use crate::diff::RecordState;
use crate::record::timestamp::now_ms;
use crate::store::{
    DAEMON_NEXT_PASS, DAEMON_PID, Event, FULL_NEXT_PASS, StateCounts, Store, StoreError,
};

/// What a command could not do, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{message}")]
    Failed { message: String, code: Exit },
}

impl CommandError {
    fn failed(code: Exit, message: impl Into<String>) -> Self {
        CommandError::Failed {
            message: message.into(),
            code,
        }
    }

    pub fn exit_code(&self) -> Exit {
        match self {
            CommandError::Store(_) => Exit::Other,
            CommandError::Failed { code, .. } => *code,
        }
    }
}

fn io(e: std::io::Error) -> CommandError {
    CommandError::failed(Exit::Other, format!("cannot write the output: {e}"))
}

/// The store, if there is one yet: commands never create it.
fn open_store(config: &Config) -> Result<Option<Store>, CommandError> {
    if !config.pass.store_path.exists() {
        return Ok(None);
    }
    Ok(Some(Store::open(&config.pass.store_path)?))
}

fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.and_then(DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Output formats of the listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Prints `rows` under `headers` as aligned columns.
fn table(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let text: Vec<String> = cells
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        text.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(&mut headers.iter().copied()))?;
    for row in rows {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

fn csv_out(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[Vec<String>],
) -> Result<(), CommandError> {
    let mut writer = csv::Writer::from_writer(out);
    let failed = |e: csv::Error| CommandError::failed(Exit::Other, e.to_string());
    writer.write_record(headers).map_err(failed)?;
    for row in rows {
        writer.write_record(row).map_err(failed)?;
    }
    writer.flush().map_err(io)
}

// ---------------------------------------------------------------------------------------
// status

#[derive(Debug, Clone, Serialize)]
pub struct PassRow {
    pub id: i64,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub read: u64,
    pub new: u64,
    pub created: u64,
    pub exists: u64,
    pub rejected: u64,
    pub failed: u64,
    pub changed_upstream: u64,
    pub updated: u64,
    pub inactive: u64,
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Daemon {
    pub pid: u32,
    pub next_pass: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub store: String,
    pub watermark: Option<String>,
    pub counts: StateCounts,
    pub oldest_pending_age_seconds: Option<i64>,
    pub last_pass: Option<PassRow>,
    pub passes: Vec<PassRow>,
    pub daemon: Option<Daemon>,
}

pub fn status(config: &Config, json_out: bool, out: &mut dyn Write) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let mut status = Status {
        store: config.pass.store_path.display().to_string(),
        watermark: None,
        counts: StateCounts::default(),
        oldest_pending_age_seconds: None,
        last_pass: None,
        passes: Vec::new(),
        daemon: None,
    };
    if let Some(store) = open_store(config)? {
        status.watermark = rfc3339(store.watermark(source)?);
        status.counts = store.counts(source)?;
        let oldest: Vec<Option<i64>> = store.query(
            "SELECT MIN(updated_at_ms) FROM records WHERE source = ?1 AND state IN ('pending', 'failed')",
            [source],
            |r| r.get(0),
        )?;
        status.oldest_pending_age_seconds = oldest
            .into_iter()
            .flatten()
            .next()
            .map(|ms| (now_ms() - ms).max(0) / 1000);
        status.passes = store.query(
            "SELECT id, started_at_ms, finished_at_ms, outcome, read, new, created, \"exists\",
                    rejected, failed, changed_upstream, updated, inactive, message
             FROM passes WHERE source = ?1 ORDER BY id DESC LIMIT 10",
            [source],
            |r| {
                Ok(PassRow {
                    id: r.get(0)?,
                    started_at: rfc3339(r.get(1)?),
                    finished_at: rfc3339(r.get(2)?),
                    outcome: r.get(3)?,
                    read: r.get(4)?,
                    new: r.get(5)?,
                    created: r.get(6)?,
                    exists: r.get(7)?,
                    rejected: r.get(8)?,
                    failed: r.get(9)?,
                    changed_upstream: r.get(10)?,
                    updated: r.get(11)?,
                    inactive: r.get(12)?,
                    message: r.get(13)?,
                })
            },
        )?;
        status.daemon = running_daemon(&store, source, &config.pass.store_path)?;
    }
    status.last_pass = status.passes.first().cloned();
    if json_out {
        serde_json::to_writer_pretty(&mut *out, &status)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        writeln!(out).map_err(io)?;
        return Ok(());
    }
    print_status(&status, out).map_err(io)
}

/// The daemon that says it is running, if its process is alive and holds the lock.
fn running_daemon(
    store: &Store,
    source: &str,
    store_path: &Path,
) -> Result<Option<Daemon>, StoreError> {
    let Some(pid) = store
        .setting(source, DAEMON_PID)?
        .and_then(|p| p.parse::<u32>().ok())
    else {
        return Ok(None);
    };
    let alive = Path::new(&format!("/proc/{pid}")).exists();
    let holder = crate::daemon::lock::holder(store_path) == Some(pid);
    if !alive || !holder {
        return Ok(None);
    }
    let next_pass = store
        .setting(source, DAEMON_NEXT_PASS)?
        .and_then(|v| v.parse().ok())
        .and_then(|ms| rfc3339(Some(ms)));
    Ok(Some(Daemon { pid, next_pass }))
}

fn print_status(status: &Status, out: &mut dyn Write) -> std::io::Result<()> {
    let c = &status.counts;
    writeln!(out, "store       {}", status.store)?;
    writeln!(
        out,
        "watermark   {}",
        status
            .watermark
            .as_deref()
            .unwrap_or("none (no export read yet)")
    )?;
    writeln!(
        out,
        "records     pending {}, created {}, exists {}, rejected {}, failed {}",
        c.pending, c.created, c.exists, c.rejected, c.failed
    )?;
    if let Some(age) = status.oldest_pending_age_seconds {
        writeln!(
            out,
            "queue       oldest waiting for {}",
            humantime::format_duration(std::time::Duration::from_secs(age as u64))
        )?;
    }
    match &status.daemon {
        Some(d) => writeln!(
            out,
            "daemon      running (pid {}), next pass {}",
            d.pid,
            d.next_pass.as_deref().unwrap_or("not scheduled")
        )?,
        None => writeln!(out, "daemon      not running")?,
    }
    if status.passes.is_empty() {
        return writeln!(out, "passes      none yet");
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = status
        .passes
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                p.started_at.clone().unwrap_or_default(),
                p.finished_at.clone().unwrap_or_else(|| "-".into()),
                p.outcome.clone(),
                p.read.to_string(),
                p.new.to_string(),
                p.created.to_string(),
                p.exists.to_string(),
                p.rejected.to_string(),
                p.failed.to_string(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "pass", "started", "finished", "outcome", "read", "new", "created", "exists",
            "rejected", "failed",
        ],
        &rows,
    )
}

// ---------------------------------------------------------------------------------------
// failures

#[derive(Debug, Serialize)]
pub struct Failure {
    pub id: String,
    pub state: String,
    pub reason: Option<String>,
    pub source_modified: Option<String>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub next_attempt: Option<String>,
    pub updated_at: Option<String>,
}

pub fn failures(
    config: &Config,
    format: Format,
    state: Option<RecordState>,
    since: Option<DateTime<Utc>>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let rows = match open_store(config)? {
        None => Vec::new(),
        Some(store) => store.query(
            "SELECT id, state, reason, source_modified_ms, attempts, last_status,
                    next_attempt_ms, updated_at_ms
             FROM records
             WHERE source = ?1 AND state IN ('rejected', 'failed')
               AND (?2 IS NULL OR state = ?2) AND updated_at_ms >= ?3
             ORDER BY updated_at_ms DESC, id",
            rusqlite::params![
                config.pass.source.name,
                state.map(RecordState::as_str),
                since.map_or(i64::MIN, |s| s.timestamp_millis())
            ],
            |r| {
                Ok(Failure {
                    id: r.get(0)?,
                    state: r.get(1)?,
                    reason: r.get(2)?,
                    source_modified: rfc3339(r.get(3)?),
                    attempts: r.get(4)?,
                    last_status: r.get(5)?,
                    next_attempt: rfc3339(r.get(6)?),
                    updated_at: rfc3339(r.get(7)?),
                })
            },
        )?,
    };
    let headers = [
        "id",
        "state",
        "reason",
        "source_modified",
        "attempts",
        "last_status",
        "next_attempt",
    ];
    let cells = |f: &Failure| {
        vec![
            f.id.clone(),
            f.state.clone(),
            f.reason.clone().unwrap_or_default(),
            f.source_modified.clone().unwrap_or_default(),
            f.attempts.to_string(),
            f.last_status.map(|s| s.to_string()).unwrap_or_default(),
            f.next_attempt.clone().unwrap_or_default(),
        ]
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)
                .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
            writeln!(out).map_err(io)
        }
        Format::Csv => csv_out(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()),
        Format::Table if rows.is_empty() => {
            writeln!(out, "no rejected or failed records").map_err(io)
        }
        Format::Table => {
            table(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()).map_err(io)
        }
    }
}

// ---------------------------------------------------------------------------------------
// export

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    pub id: String,
    pub email_address: Option<String>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    #[serde(rename = "created_at")]
    pub created_at: Option<String>,
    pub state: String,
}

/// Created customers with BlueTape's ids; with `fetch_missing`, also those that were already
/// in BlueTape, asking BlueTape for each sign-up URL the store does not have.
pub async fn export(
    config: &Config,
    format: Format,
    fetch_missing: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let Some(store) = open_store(config)? else {
        return write_export(format, &[], out);
    };
    let states = if fetch_missing {
        "('created', 'exists')"
    } else {
        "('created')"
    };
    let mut rows: Vec<(Exported, Option<String>)> = store.query(
        &format!(
            "SELECT id, body, blue_tape_id, sign_up_url, done_at_ms, state FROM records
             WHERE source = ?1 AND state IN {states} ORDER BY done_at_ms, id"
        ),
        [&config.pass.source.name],
        |r| {
            let body: Option<String> = r.get(1)?;
            Ok((
                Exported {
                    id: r.get(0)?,
                    email_address: None,
                    blue_tape_id: r.get(2)?,
                    sign_up_url: r.get(3)?,
                    created_at: rfc3339(r.get(4)?),
                    state: r.get(5)?,
                },
                body,
            ))
        },
    )?;
    for (row, body) in &mut rows {
        row.email_address = body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .and_then(|v| {
                v.get("emailAddress")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
    }
    let mut unavailable = 0;
    if fetch_missing {
        let client = BlueTapeClient::new(&config.pass.api)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        let pacer = crate::pass::pace::Pacer::new(config.pass.api.max_requests_per_second);
        for (row, _) in rows.iter_mut().filter(|(r, _)| r.sign_up_url.is_none()) {
            pacer.ready().await;
            match client.sign_up(&row.id).await {
                SignUp::Url(url) => {
                    store.execute(
                        "UPDATE records SET sign_up_url = ?3 WHERE source = ?1 AND id = ?2",
                        rusqlite::params![config.pass.source.name, row.id, url],
                    )?;
                    row.sign_up_url = Some(url);
                }
                SignUp::NotFound => {
                    tracing::warn!(id = %row.id, "BlueTape has no such customer (404): no sign-up URL");
                }
                SignUp::Unauthorized(reason) => return Err(unauthorized(&reason)),
                SignUp::WrongEndpoint(reason) => {
                    return Err(wrong_endpoint(&reason, &client));
                }
                SignUp::Redirected(reason) => return Err(redirected(&reason)),
                SignUp::Unavailable(reason) => {
                    unavailable += 1;
                    tracing::warn!(id = %row.id, "no sign-up URL this time: {reason}");
                }
            }
        }
    }
    let rows: Vec<Exported> = rows.into_iter().map(|(r, _)| r).collect();
    write_export(format, &rows, out)?;
    if unavailable > 0 {
        return Err(CommandError::failed(
            Exit::Unavailable,
            format!(
                "{unavailable} sign-up URLs could not be fetched (BlueTape unavailable): run export --fetch-missing again later"
            ),
        ));
    }
    Ok(())
}

fn unauthorized(reason: &str) -> CommandError {
    CommandError::failed(
        Exit::Unauthorized,
        format!("BlueTape refused the API key ({reason}): check the key and api.account_id"),
    )
}

fn wrong_endpoint(reason: &str, client: &BlueTapeClient) -> CommandError {
    CommandError::failed(
        Exit::Config,
        format!(
            "BlueTape answered {reason} for {}: check api.base_url and api.account_id",
            client.create_url()
        ),
    )
}

fn redirected(reason: &str) -> CommandError {
    CommandError::failed(
        Exit::Config,
        format!(
            "BlueTape answered {reason} (redirects are not followed: the key goes only to api.base_url)"
        ),
    )
}

fn write_export(
    format: Format,
    rows: &[Exported],
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let headers = [
        "id",
        "emailAddress",
        "blueTapeId",
        "signUpUrl",
        "created_at",
    ];
    let cells = |e: &Exported| {
        vec![
            e.id.clone(),
            e.email_address.clone().unwrap_or_default(),
            e.blue_tape_id.clone().unwrap_or_default(),
            e.sign_up_url.clone().unwrap_or_default(),
            e.created_at.clone().unwrap_or_default(),
        ]
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)
                .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
            writeln!(out).map_err(io)
        }
        Format::Csv => csv_out(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()),
        Format::Table => {
            table(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()).map_err(io)
        }
    }
}

// ---------------------------------------------------------------------------------------
// retry, forget

/// Which records `retry` queues again.
#[derive(Debug, Default)]
pub struct RetrySelection {
    pub ids: Vec<String>,
    pub all_failed: bool,
    pub all_rejected: bool,
}

pub fn retry(
    config: &Config,
    selection: &RetrySelection,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let store = open_store(config)?
        .ok_or_else(|| CommandError::failed(Exit::Other, "no store yet: nothing to retry"))?;
    let mut targets: Vec<(String, String, bool)> = Vec::new();
    let mut unknown = Vec::new();
    for id in &selection.ids {
        let found: Vec<(String, bool)> = store.query(
            "SELECT state, body IS NOT NULL FROM records WHERE source = ?1 AND id = ?2",
            [source, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        match found.into_iter().next() {
            Some((state, has_body)) if state == "rejected" || state == "failed" => {
                targets.push((id.clone(), state, has_body));
            }
            Some((state, _)) => {
                writeln!(out, "{id}: {state}, nothing to retry").map_err(io)?;
            }
            None => unknown.push(id.clone()),
        }
    }
    for (wanted, state) in [
        (selection.all_failed, "failed"),
        (selection.all_rejected, "rejected"),
    ] {
        if wanted {
            targets.extend(store.query(
                "SELECT id, state, body IS NOT NULL FROM records WHERE source = ?1 AND state = ?2",
                [source, state],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?);
        }
    }
    targets.sort();
    targets.dedup();
    let now = now_ms();
    let (mut queued, mut reread) = (0, 0);
    for (id, _, has_body) in &targets {
        if *has_body {
            // Sent as it is on the next pass.
            store.execute(
                "UPDATE records SET state = 'pending', next_attempt_ms = NULL, updated_at_ms = ?3
                 WHERE source = ?1 AND id = ?2",
                rusqlite::params![source, id, now],
            )?;
            store.note(source, id, "retry: queued again", now)?;
            queued += 1;
        } else {
            // Refused before sending: read from the export again on the next pass.
            store.execute(
                "UPDATE records SET source_modified_ms = NULL, content_hash = NULL, updated_at_ms = ?3
                 WHERE source = ?1 AND id = ?2",
                rusqlite::params![source, id, now],
            )?;
            store.note(source, id, "retry: read again from the export", now)?;
            reread += 1;
        }
    }
    if reread > 0 {
        store.set_setting(source, FULL_NEXT_PASS, "retry")?;
    }
    writeln!(
        out,
        "{queued} queued again, {reread} to be read again from the export: the next pass sends them"
    )
    .map_err(io)?;
    if !unknown.is_empty() {
        return Err(CommandError::failed(
            Exit::Other,
            format!("no such id in the store: {}", unknown.join(", ")),
        ));
    }
    Ok(())
}

pub fn forget(config: &Config, id: &str, out: &mut dyn Write) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let store =
        open_store(config)?.ok_or_else(|| CommandError::failed(Exit::Other, "no store yet"))?;
    let removed = store.execute(
        "DELETE FROM records WHERE source = ?1 AND id = ?2",
        [source, id],
    )?;
    if removed == 0 {
        return Err(CommandError::failed(
            Exit::Other,
            format!("no customer {id} in the store"),
        ));
    }
    store.note(source, id, "forgotten", now_ms())?;
    store.set_setting(source, FULL_NEXT_PASS, "forget")?;
    writeln!(
        out,
        "{id} forgotten: the next pass reads the whole export and treats it as new"
    )
    .map_err(io)
}

// ---------------------------------------------------------------------------------------
// show

#[derive(Debug, Serialize)]
pub struct Shown {
    pub id: String,
    pub state: String,
    pub source_modified: Option<String>,
    pub reason: Option<String>,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub next_attempt: Option<String>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    pub history: Vec<Value>,
}

pub fn show(
    config: &Config,
    id: &str,
    json_out: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let source = &config.pass.source.name;
    let not_found = || {
        CommandError::failed(
            Exit::Other,
            format!(
                "no customer {id} in the store: it was never read from the export, or is older than the watermark (try run --once --full)"
            ),
        )
    };
    let store = open_store(config)?.ok_or_else(not_found)?;
    let row = store.record(source, id)?.ok_or_else(not_found)?;
    let history: Vec<Event> = store.events(source, id)?;
    let shown = Shown {
        id: row.id.clone(),
        state: row.state.to_string(),
        source_modified: rfc3339(row.source_modified_ms),
        reason: row.reason.clone(),
        attempts: row.attempts,
        last_status: row.last_status,
        next_attempt: rfc3339(row.next_attempt_ms),
        blue_tape_id: row.blue_tape_id.clone(),
        sign_up_url: row.sign_up_url.clone(),
        history: history
            .iter()
            .map(|e| {
                json!({"at": rfc3339(Some(e.at_ms)), "pass": e.pass, "what": e.kind,
                       "status": e.status, "outcome": e.outcome, "reason": e.reason})
            })
            .collect(),
    };
    if json_out {
        serde_json::to_writer_pretty(&mut *out, &shown)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        return writeln!(out).map_err(io);
    }
    let field = |out: &mut dyn Write, name: &str, value: Option<&str>| {
        writeln!(out, "{name:<16}{}", value.unwrap_or("-"))
    };
    (|| -> std::io::Result<()> {
        field(out, "id", Some(&shown.id))?;
        field(out, "state", Some(&shown.state))?;
        field(out, "modified", shown.source_modified.as_deref())?;
        field(out, "reason", shown.reason.as_deref())?;
        field(out, "attempts", Some(&shown.attempts.to_string()))?;
        field(
            out,
            "last status",
            shown.last_status.map(|s| s.to_string()).as_deref(),
        )?;
        field(out, "next attempt", shown.next_attempt.as_deref())?;
        field(out, "blueTapeId", shown.blue_tape_id.as_deref())?;
        field(out, "signUpUrl", shown.sign_up_url.as_deref())?;
        writeln!(out)?;
        let rows: Vec<Vec<String>> = history
            .iter()
            .map(|e| {
                vec![
                    rfc3339(Some(e.at_ms)).unwrap_or_default(),
                    e.pass.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                    e.kind.clone(),
                    e.status.map(|s| s.to_string()).unwrap_or_default(),
                    e.outcome.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            out,
            &["at", "pass", "what", "status", "outcome", "reason"],
            &rows,
        )
    })()
    .map_err(io)
}

// ---------------------------------------------------------------------------------------
// check

/// `j***@example.com`: the first character and the domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `+1******7890`: the country code's first digit and the last four.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

/// Checks the config (every problem at once), reads the export and says what a pass would
/// do; with `online`, asks BlueTape whether it accepts the key. Changes nothing.
pub async fn check(
    config_path: &Path,
    online: bool,
    out: &mut dyn Write,
) -> Result<Exit, CommandError> {
    let config = match Config::check(config_path) {
        Ok(config) => config,
        Err(problems) => {
            for problem in &problems {
                writeln!(out, "problem: {problem}").map_err(io)?;
            }
            return Err(CommandError::failed(
                Exit::Config,
                format!(
                    "{} problems in the configuration (listed above)",
                    problems.len()
                ),
            ));
        }
    };
    writeln!(out, "config {}: ok", config_path.display()).map_err(io)?;
    for line in config.pass.source.describe() {
        writeln!(out, "{line}").map_err(io)?;
    }
    let (staged, source_error) = crate::pass::inspect(&config.pass)
        .await
        .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
    if !staged.samples.is_empty() {
        writeln!(
            out,
            "\nfirst records as they would be sent (contact details masked):"
        )
        .map_err(io)?;
        let rows: Vec<Vec<String>> = staged
            .samples
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    format!("{} {}", c.first_name, c.last_name),
                    mask_email(&c.email_address),
                    mask_phone(&c.cell_phone_number),
                    c.source_modified_date.clone(),
                    c.company_id.clone().unwrap_or_default(),
                ]
            })
            .collect();
        table(
            out,
            &[
                "id",
                "name",
                "emailAddress",
                "cellPhoneNumber",
                "sourceModifiedDate",
                "companyId",
            ],
            &rows,
        )
        .map_err(io)?;
    }
    writeln!(
        out,
        "\nexport: read {}, would queue {}, rejected {}, skipped {} (unchanged), inactive {}, changed upstream {}",
        staged.read, staged.new, staged.rejected, staged.skipped, staged.inactive, staged.changed_upstream
    )
    .map_err(io)?;
    if !staged.rejections.is_empty() {
        writeln!(out, "rejected, by reason:").map_err(io)?;
        let mut reasons: Vec<_> = staged.rejections.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (reason, n) in reasons {
            writeln!(out, "  {n:>6}  {reason}").map_err(io)?;
        }
    }
    if let Some(e) = source_error {
        return Err(CommandError::failed(Exit::Config, e.to_string()));
    }
    if online {
        let client = BlueTapeClient::new(&config.pass.api)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        let probe = "bluetape-sync-check";
        match client.sign_up(probe).await {
            SignUp::NotFound | SignUp::Url(_) => writeln!(
                out,
                "online: BlueTape accepted the key for account {} ({})",
                config.pass.api.account_id,
                client.create_url()
            )
            .map_err(io)?,
            SignUp::Unauthorized(reason) => return Err(unauthorized(&reason)),
            SignUp::WrongEndpoint(reason) => return Err(wrong_endpoint(&reason, &client)),
            SignUp::Redirected(reason) => return Err(redirected(&reason)),
            SignUp::Unavailable(reason) => {
                return Err(CommandError::failed(
                    Exit::Unavailable,
                    format!("BlueTape did not answer usefully ({reason}): try again later"),
                ));
            }
        }
    }
    Ok(if staged.rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_just_enough_to_recognise() {
        assert_eq!(mask_email("jane@example.com"), "j***@example.com");
        assert_eq!(mask_email("nope"), "***");
        assert_eq!(mask_phone("+11234567890"), "+1******7890");
        assert_eq!(mask_phone("+447911123456"), "+4*******3456");
    }

    #[test]
    fn tables_align_columns() {
        let mut out = Vec::new();
        table(
            &mut out,
            &["id", "state"],
            &[
                vec!["A-1".into(), "created".into()],
                vec!["LONGER-ID".into(), "failed".into()],
            ],
        )
        .expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "id         state\nA-1        created\nLONGER-ID  failed\n"
        );
    }
}
