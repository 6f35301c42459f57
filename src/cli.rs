//! The command line (SPEC §6): parsing, logging setup, and the mapping to exit codes.

mod connect;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::commands::exit::Exit;
use crate::commands::{self, Format};
use crate::config::{Config, DEFAULT_CONFIG_PATH};
use crate::daemon::DaemonError;
use crate::daemon::lock::{InstanceLock, LockError};
use crate::diff::RecordState;
use crate::logging;
use crate::pass::{PassError, PassOptions, run_pass};

#[derive(Debug, Parser)]
#[command(
    name = "bluetape-sync",
    version,
    about = "Creates new customers from an accounting export in BlueTape"
)]
struct Cli {
    /// The config file.
    #[arg(long, global = true, env = "BLUETAPE_SYNC_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    /// One pass, then exit (same as `run --once`).
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    pass: PassArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sync on the schedule; with --once, one pass and exit.
    Run {
        /// One pass, then exit.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        pass: PassArgs,
    },
    /// Check the config (every problem at once) and the export, show a sample of mapped
    /// records and what would be rejected; changes nothing.
    Check {
        /// Also ask BlueTape whether it accepts the key (GET .../integration/customer/bluetape-sync-check/signup, which changes nothing).
        #[arg(long)]
        online: bool,
    },
    /// The watermark, records per state, the queue and the last passes.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Rejected and failed records with their reasons.
    Failures {
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Only `rejected`, only `failed`, or only `waiting` (invoices waiting for their
        /// customer).
        #[arg(long, value_parser = parse_failure_state)]
        state: Option<RecordState>,
        /// Only those changed since a time (`2024-03-01`, RFC 3339) or for a while (`24h`).
        #[arg(long, value_parser = parse_since)]
        since: Option<DateTime<Utc>>,
        /// CSV cells verbatim: without it, a cell a spreadsheet would run as a formula (`=`,
        /// `+`, `-`, `@`) gets a leading `'`.
        #[arg(long)]
        raw: bool,
    },
    /// Created customers with blueTapeId and signUpUrl, so the supplier can send invites.
    Export {
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Also customers that were already in BlueTape (409), asking BlueTape for the sign-up
        /// URL of each that has none yet.
        #[arg(long)]
        fetch_missing: bool,
        /// CSV cells verbatim: without it, a cell a spreadsheet would run as a formula (`=`,
        /// `+`, `-`, `@`) gets a leading `'`.
        #[arg(long)]
        raw: bool,
    },
    /// Queue rejected or failed records again (all of them unless narrowed); the next pass
    /// sends them.
    Retry {
        /// Only this record (repeatable).
        #[arg(long = "id")]
        ids: Vec<String>,
        /// Only the failed records (and any --id).
        #[arg(long)]
        all_failed: bool,
        /// Only the rejected records (and any --id).
        #[arg(long)]
        all_rejected: bool,
    },
    /// Remove a record from the store, so the next pass treats it as new.
    Forget {
        #[arg(long)]
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Print a ready config for an export nobody has mapped: its preset, or each field's
    /// column, the encoding, delimiter and date form, and its first records as they would be
    /// sent (`init export.csv > config.toml`). Reads only the first records; changes nothing.
    Init {
        /// The export file; or `quickbooks` or `xero` for a config that reads the system's API.
        export: PathBuf,
    },
    /// Link the store to a QuickBooks Online or Xero company (SPEC §11): prints the consent
    /// URL; paste the URL the browser is sent to, or catch it with --listen.
    Connect {
        /// quickbooks or xero.
        provider: String,
        /// Xero: the organisation (its name or id) when the consent covers several.
        #[arg(long)]
        tenant: Option<String>,
        /// Catch the browser's redirect at this address (e.g. 127.0.0.1:5001).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Show the link instead: the company, when it was linked, when it expires.
        #[arg(long)]
        status: bool,
    },
    /// Revoke the link to QuickBooks Online or Xero at the provider, and forget it.
    Disconnect {
        /// quickbooks or xero.
        provider: String,
    },
    /// A record's state, name, BlueTape ids, reason and history: by its id, email or name as
    /// the accounting system shows it (`show jane@example.com`), or by its exact id (`--id`).
    Show {
        /// An id, an email address or a name.
        #[arg(required_unless_present = "id", conflicts_with = "id")]
        value: Option<String>,
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn parse_failure_state(text: &str) -> Result<RecordState, String> {
    match text {
        "rejected" => Ok(RecordState::Rejected),
        "failed" => Ok(RecordState::Failed),
        "waiting" => Ok(RecordState::Waiting),
        _ => Err("use `rejected`, `failed` or `waiting`".into()),
    }
}

fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(ago) = humantime::parse_duration(text) {
        return chrono::Duration::from_std(ago)
            .map(|ago| Utc::now() - ago)
            .map_err(|e| e.to_string());
    }
    crate::source::timestamp::TimestampParser::new(chrono_tz::UTC, None)
        .parse(text)
        .map_err(|_| "use a time (`2024-03-01`, RFC 3339) or a duration (`24h`)".into())
}

#[derive(Debug, Clone, Copy, Args)]
struct PassArgs {
    /// Read, validate and diff, print what would be sent; send nothing, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Compare every record with the store, ignoring the watermark, for this pass.
    #[arg(long)]
    full: bool,
    /// The mapping now reads ids from another field: send every record under its new id
    /// (each is created again in BlueTape), and remember the new field.
    #[arg(long)]
    accept_new_ids: bool,
}

/// The command line's definition, for the man page and the shell completions.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => Exit::Other.into(),
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(Exit::Other, &format!("cannot start the runtime: {e}")),
    };
    let (once, pass) = match cli.command {
        Some(Command::Run { once, pass }) => (once || cli.once, merge(pass, cli.pass)),
        None if cli.once => (true, cli.pass),
        None => {
            eprintln!("error: no command: use `bluetape-sync --once` for one pass (see --help)");
            return Exit::Other.into();
        }
        Some(Command::Check { online }) => {
            let mut out = std::io::stdout().lock();
            return match runtime.block_on(commands::check(&cli.config, online, &mut out)) {
                Ok(code) => code.into(),
                Err(e) => fail(e.exit_code(), &e.to_string()),
            };
        }
        Some(Command::Init { export }) => {
            let mut out = std::io::stdout().lock();
            return match commands::init(&export, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e.exit_code(), &e.to_string()),
            };
        }
        Some(Command::Connect {
            provider,
            tenant,
            listen,
            status,
        }) => {
            return connect::connect_command(&cli.config, &provider, |config, provider, out| {
                match status {
                    true => commands::connect::status(config, provider, out),
                    false => {
                        let redirect = match listen {
                            Some(addr) => commands::connect::Redirect::Listen(addr),
                            None => commands::connect::Redirect::Pasted,
                        };
                        runtime.block_on(commands::connect::connect(
                            config,
                            provider,
                            tenant.as_deref(),
                            redirect,
                            out,
                        ))
                    }
                }
            });
        }
        Some(Command::Disconnect { provider }) => {
            return connect::connect_command(&cli.config, &provider, |config, provider, out| {
                runtime.block_on(commands::connect::disconnect(config, provider, out))
            });
        }
        Some(command) => return operator_command(&runtime, &cli.config, command),
    };
    let config = match Config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => return fail(Exit::Config, &e.to_string()),
    };
    logging::init(&config.log, &config.warnings);
    let progress_bar = config.log.progress_bar();
    if !once {
        if pass.dry_run || pass.full || pass.accept_new_ids {
            return fail(
                Exit::Other,
                "--dry-run, --full and --accept-new-ids apply to one pass: add --once",
            );
        }
        let daemon = config.into_daemon();
        let options = PassOptions {
            progress_bar,
            ..PassOptions::default()
        };
        // The signal handlers need the runtime: installed inside it.
        let result = runtime
            .block_on(async { crate::daemon::run(daemon, options, shutdown_signal()).await });
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let code = match &e {
                    DaemonError::Locked(e) => lock_exit(e),
                    DaemonError::Pass(PassError::IdFieldChanged { .. }) => Exit::Config,
                    _ => Exit::Other,
                };
                fail(code, &e.to_string())
            }
        };
    }
    let options = PassOptions {
        dry_run: pass.dry_run,
        full: pass.full,
        wait_to_settle: true,
        progress_bar,
        accept_new_ids: pass.accept_new_ids,
    };
    // One process per store; a dry run changes nothing and takes no lock.
    let _lock = match options.dry_run {
        true => None,
        false => match InstanceLock::acquire(&config.pass.store_path) {
            Ok(lock) => Some(lock),
            Err(e) => return fail(lock_exit(&e), &e.to_string()),
        },
    };
    let result = runtime.block_on(async {
        // Installed before the pass starts, so a signal while the export is read is caught too.
        let shutdown = shutdown_signal();
        run_pass(&config.pass, options, shutdown).await
    });
    match result {
        Ok(report) => {
            if let Some(problem) = report.problem() {
                eprintln!("error: {problem}");
            }
            Exit::from(report.outcome()).into()
        }
        Err(PassError::Interrupted) => {
            tracing::info!("{}", PassError::Interrupted);
            ExitCode::SUCCESS
        }
        Err(e) => {
            let e = commands::pass_failed(e);
            fail(e.exit_code(), &e.to_string())
        }
    }
}

fn lock_exit(error: &LockError) -> Exit {
    match error {
        LockError::Held { .. } => Exit::Locked,
        LockError::Io { .. } => Exit::Other,
    }
}

/// `status`, `failures`, `export`, `retry`, `forget`, `show`.
fn operator_command(
    runtime: &tokio::runtime::Runtime,
    config_path: &std::path::Path,
    command: Command,
) -> ExitCode {
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => return fail(Exit::Config, &e.to_string()),
    };
    logging::init(&config.log, &config.warnings);
    commands::name_the_store(&config.pass.store_path);
    let mut out = std::io::stdout().lock();
    let result = match command {
        Command::Status { json } => commands::status(&config, json, &mut out),
        Command::Failures {
            format,
            state,
            since,
            raw,
        } => commands::failures(&config, format, state, since, csv_cells(raw), &mut out),
        Command::Export {
            format,
            fetch_missing,
            raw,
        } => runtime.block_on(commands::export(
            &config,
            format,
            fetch_missing,
            csv_cells(raw),
            &mut out,
        )),
        Command::Retry {
            ids,
            all_failed,
            all_rejected,
        } => {
            // Nothing named: every rejected and failed record (SPEC §6).
            let everything = ids.is_empty() && !all_failed && !all_rejected;
            let selection = commands::RetrySelection {
                ids,
                all_failed: all_failed || everything,
                all_rejected: all_rejected || everything,
            };
            commands::retry(&config, &selection, &mut out)
        }
        Command::Forget { id, yes } => {
            if !yes
                && !confirm(&format!(
                    "Forget {id}? The next pass will treat it as new [y/N] "
                ))
            {
                return fail(
                    Exit::Other,
                    "not confirmed: nothing forgotten (use --yes in scripts)",
                );
            }
            commands::forget(&config, &id, &mut out)
        }
        Command::Show { value, id, json } => {
            let wanted = match (id, value) {
                (Some(id), _) => commands::Wanted::Id(id),
                (None, value) => commands::Wanted::Any(value.unwrap_or_default()),
            };
            commands::show(&config, &wanted, json, &mut out)
        }
        Command::Run { .. }
        | Command::Check { .. }
        | Command::Init { .. }
        | Command::Connect { .. }
        | Command::Disconnect { .. } => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.exit_code(), &e.to_string()),
    }
}

/// Asks on a terminal; anything but yes, or no terminal, is no.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question}");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes" | "YES")
}

fn csv_cells(raw: bool) -> commands::CsvCells {
    match raw {
        true => commands::CsvCells::Raw,
        false => commands::CsvCells::Safe,
    }
}

fn merge(a: PassArgs, b: PassArgs) -> PassArgs {
    PassArgs {
        dry_run: a.dry_run || b.dry_run,
        full: a.full || b.full,
        accept_new_ids: a.accept_new_ids || b.accept_new_ids,
    }
}

fn fail(code: Exit, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    code.into()
}

/// Listens for signals from now on: the returned future resolves on the first SIGTERM or
/// SIGINT; a second one exits at once (the queue is in the store, so nothing is lost).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = tokio::sync::oneshot::channel();
    // Registered here, before the pass starts; a failure leaves the default handlers.
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    if let (Ok(mut term), Ok(mut int)) = (term, int) {
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let _ = tx.send(());
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            eprintln!("error: second signal: exiting now; queued customers stay queued");
            std::process::exit(130);
        });
    }
    async move {
        // Without handlers the sender is dropped: never resolve, the default action applies.
        if rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
