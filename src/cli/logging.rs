//! Logging (SPEC §8, `[log]`): `tracing` to stderr, as text, in journald's form, or as JSON.
//! Customers are named by id only; libraries log from `warn` up unless `RUST_LOG` says more.

use std::io::IsTerminal as _;

use serde::Deserialize;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::registry::LookupSpan;

use crate::setting::SettingError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSection {
    pub format: LogFormat,
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}
impl LogSection {
    pub fn validate(self) -> Result<Self, SettingError> {
        let level = self.level.trim().to_ascii_lowercase();
        if !matches!(
            level.as_str(),
            "off" | "error" | "warn" | "info" | "debug" | "trace"
        ) {
            return Err(SettingError::new(
                "log.level",
                "not a level (off, error, warn, info, debug, trace)",
            ));
        }
        Ok(Self { level, ..self })
    }

    /// Progress as a bar: on a terminal, with text logs, not under journald.
    pub fn progress_bar(&self) -> bool {
        std::io::stderr().is_terminal()
            && self.format == LogFormat::Text
            && std::env::var_os("JOURNAL_STREAM").is_none()
    }
}

/// Logs to stderr as `[log]` says: text on a terminal, journald's form under systemd, or JSON;
/// then the configuration's warnings.
pub fn init(log: &LogSection, warnings: &[String]) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| {
            // Our own events at the configured level; the libraries' only when they warn.
            let level = log.level.as_str();
            let others = if matches!(level, "off" | "error") {
                level
            } else {
                "warn"
            };
            EnvFilter::new(format!("{others},bluetape_sync={level}"))
        });
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    let _ = match log.format {
        LogFormat::Json => builder.json().try_init(),
        // journald stamps each line itself and reads `<N>` as its priority.
        LogFormat::Text if std::env::var_os("JOURNAL_STREAM").is_some() => builder
            .with_ansi(false)
            .event_format(Journald(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_level(false)
                    .with_target(false)
                    .with_ansi(false),
            ))
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    for warning in warnings {
        tracing::warn!("{warning}");
    }
}

/// Prefixes each line with its syslog priority, as `sd-daemon(3)` describes, for journald.
struct Journald<F>(F);

impl<S, N, F> FormatEvent<S, N> for Journald<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let priority = match *event.metadata().level() {
            tracing::Level::ERROR => 3,
            tracing::Level::WARN => 4,
            tracing::Level::INFO => 6,
            _ => 7,
        };
        write!(writer, "<{priority}>")?;
        self.0.format_event(ctx, writer, event)
    }
}
