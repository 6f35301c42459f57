//! The operator's commands beside `run` (SPEC §6), one file each: `check`, `status`,
//! `failures`, `export`, `retry` and `forget`, `show`. They read the store without the instance
//! lock (SQLite's WAL lets them read while the daemon writes); `retry`, `forget` and `export
//! --fetch-missing` write alongside it. Here: what they share (errors, output forms).

mod advice;
mod check;
pub mod connect;
pub mod exit;
mod export;
mod failures;
mod init;
mod retry;
mod show;
mod status;

use std::fmt::Display;
use std::io::Write;

use serde::Serialize;

pub use self::check::check;
pub use self::export::export;
pub use self::failures::failures;
pub use self::init::init;
pub use self::retry::{RetrySelection, forget, retry};
pub use self::show::{Wanted, show};
pub use self::status::status;
use crate::client::BlueTapeClient;
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::shown::{shown, spreadsheet_cell};
use crate::store::{Store, StoreError};

/// What a command could not do, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{message}")]
    Failed { message: String, code: Exit },
}

impl CommandError {
    pub(crate) fn failed(code: Exit, message: impl Into<String>) -> Self {
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

pub(crate) fn io(e: std::io::Error) -> CommandError {
    CommandError::failed(Exit::Other, format!("cannot write the output: {e}"))
}

/// The store read-only, if there is one yet: commands that only read never create, migrate
/// or write it.
pub(crate) fn open_store(config: &Config) -> Result<Option<Store>, CommandError> {
    Ok(Store::open_read_only(&config.pass.store_path)?)
}

/// The store to write beside the daemon (`retry`, `forget`, `export --fetch-missing`), if
/// there is one yet: never created here.
pub(crate) fn open_store_to_write(config: &Config) -> Result<Option<Store>, CommandError> {
    Ok(Store::open_existing(&config.pass.store_path)?)
}

/// On a terminal, a command names the store it reads first (a wrong config or a stale copy
/// would otherwise go unnoticed); scripts reading stdout never see it.
pub fn name_the_store(store: &std::path::Path) {
    use std::io::IsTerminal as _;
    if std::io::stderr().is_terminal() {
        eprintln!("store: {}", shown(&store.display().to_string()));
    }
}

/// A value as a table or CSV cell: empty when there is none.
pub(crate) fn cell<T: Display>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Prints `value` as pretty JSON and a newline.
pub(crate) fn json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), CommandError> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
    writeln!(out).map_err(io)
}

/// How CSV cells are written: safe for a spreadsheet (the default), or verbatim (`--raw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvCells {
    /// Formulas neutralised (OWASP's CSV-injection advice).
    Safe,
    Raw,
}

/// Prints a listing in the chosen form: the rows themselves as JSON, or the `cells` of each
/// under `headers` as CSV or a table (`empty` in place of a table without rows, when given).
pub(crate) fn listing<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    headers: &[&str],
    rows: &[T],
    cells: impl Fn(&T) -> Vec<String>,
    empty: Option<&str>,
    csv: CsvCells,
) -> Result<(), CommandError> {
    let text = || rows.iter().map(&cells).collect::<Vec<_>>();
    match (format, empty) {
        (Format::Json, _) => json(out, &rows),
        (Format::Csv, _) => csv_out(out, headers, &text(), csv),
        (Format::Table, Some(empty)) if rows.is_empty() => writeln!(out, "{empty}").map_err(io),
        (Format::Table, _) => table(out, headers, &text()).map_err(io),
    }
}

/// Output formats of the listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Prints `rows` under `headers` as aligned columns, each cell escaped for a terminal.
pub(crate) fn table(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| shown(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
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
    for row in &rows {
        writeln!(out, "{}", line(&mut row.iter().map(String::as_str)))?;
    }
    Ok(())
}

/// Prints `rows` under `headers` as CSV; with [`CsvCells::Safe`] a cell a spreadsheet would
/// run as a formula gets a leading `'`.
pub(crate) fn csv_out(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[Vec<String>],
    cells: CsvCells,
) -> Result<(), CommandError> {
    let mut writer = csv::Writer::from_writer(out);
    let failed = |e: csv::Error| CommandError::failed(Exit::Other, e.to_string());
    writer.write_record(headers).map_err(failed)?;
    for row in rows {
        match cells {
            CsvCells::Safe => {
                writer.write_record(row.iter().map(|c| spreadsheet_cell(c).into_owned()))
            }
            CsvCells::Raw => writer.write_record(row),
        }
        .map_err(failed)?;
    }
    writer.flush().map_err(io)
}

/// BlueTape refused the key: exit 77.
pub(crate) fn unauthorized(reason: &str) -> CommandError {
    CommandError::failed(
        Exit::Unauthorized,
        format!("BlueTape refused the API key ({reason}): check the key and api.account_id"),
    )
}

/// BlueTape has no such endpoint or account: exit 78.
pub(crate) fn wrong_endpoint(reason: &str, client: &BlueTapeClient) -> CommandError {
    CommandError::failed(
        Exit::Config,
        format!(
            "BlueTape answered {reason} for {}: check api.base_url and api.account_id",
            client.create_url()
        ),
    )
}

/// A pass-like read that could not run: an export still being written after 12 ×
/// `source.settle` is exit 75, as for `--once`.
pub fn pass_failed(e: crate::pass::PassError) -> CommandError {
    let code = match e {
        crate::pass::PassError::StillChanging { .. } => Exit::Locked,
        crate::pass::PassError::IdFieldChanged { .. }
        | crate::pass::PassError::MoveUnmatched { .. } => Exit::Config,
        crate::pass::PassError::NotConnected { .. } | crate::pass::PassError::Provider { .. } => {
            Exit::Config
        }
        crate::pass::PassError::Fetch(ref e) => {
            use crate::provider::fetch::FetchError;
            match e {
                FetchError::Unauthorized { .. } | FetchError::Expired { .. } => Exit::Unauthorized,
                FetchError::DayBudget { .. } | FetchError::Unavailable { .. } => Exit::Unavailable,
                FetchError::NotFound { .. } | FetchError::TooLong { .. } => Exit::Config,
                FetchError::Refused { .. } | FetchError::Spool { .. } => Exit::Other,
                FetchError::Held { .. } => Exit::Locked,
            }
        }
        _ => Exit::Other,
    };
    CommandError::failed(code, e.to_string())
}

/// No TLS session with `api.base_url`: exit 78, retrying cannot fix it.
pub(crate) fn tls_failed(reason: &str) -> CommandError {
    CommandError::failed(
        Exit::Config,
        format!("{reason}: check api.base_url; retrying cannot fix this"),
    )
}

/// BlueTape answered from elsewhere: exit 78, never followed.
pub(crate) fn redirected(reason: &str) -> CommandError {
    CommandError::failed(
        Exit::Config,
        format!(
            "BlueTape answered {reason} (redirects are not followed: the key goes only to api.base_url)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
