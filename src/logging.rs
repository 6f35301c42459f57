//! Logging (SPEC §8, `[log]`): `tracing` to stderr, as text, in journald's form, or as JSON.
//! Customers are named by id only; libraries log from `warn` up unless `RUST_LOG` says more.

use std::io::IsTerminal as _;

use std::fmt;

use serde::Deserialize;
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::registry::LookupSpan;

use crate::setting::SettingError;
use crate::shown::Shown;

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
            .fmt_fields(EscapedFields)
            .with_ansi(false)
            .event_format(Journald(
                tracing_subscriber::fmt::format()
                    .without_time()
                    .with_level(false)
                    .with_target(false)
                    .with_ansi(false),
            ))
            .try_init(),
        LogFormat::Text => builder.fmt_fields(EscapedFields).try_init(),
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

/// Text logs' fields, each value escaped ([`Shown`]): a value from an export or from BlueTape
/// can neither start a line of its own nor drive the terminal. JSON logs are escaped by JSON.
struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = EscapingVisitor {
            writer: &mut writer,
            result: Ok(()),
            first: true,
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct EscapingVisitor<'a, 'writer> {
    writer: &'a mut Writer<'writer>,
    result: fmt::Result,
    first: bool,
}

impl EscapingVisitor<'_, '_> {
    /// Writes one field: the message as itself, others as `name=value` (a string in quotes).
    fn field(&mut self, field: &Field, text: &str, quoted: bool) {
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let gap = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        self.result = match (field.name(), quoted) {
            ("message", _) => write!(self.writer, "{gap}{}", Shown(text)),
            (name, true) => {
                let value = Shown(text).to_string().replace('"', "\\\"");
                write!(self.writer, "{gap}{name}=\"{value}\"")
            }
            (name, false) => write!(self.writer, "{gap}{name}={}", Shown(text)),
        };
    }
}

impl Visit for EscapingVisitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, value, true);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, &format!("{value:?}"), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a text log line shows for an event with these fields.
    fn line(event: impl FnOnce()) -> String {
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&out);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Sink(std::sync::Arc::clone(&sink)))
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .fmt_fields(EscapedFields)
            .finish();
        tracing::subscriber::with_default(subscriber, event);
        let bytes = out.lock().expect("lock").clone();
        String::from_utf8(bytes).expect("utf-8")
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_value_can_neither_forge_a_line_nor_drive_the_terminal() {
        let reason = "400: bad\nERROR forged line \u{1b}]0;title\u{7}";
        let id = "C\"1\u{202e}";
        let at = "row 7\r";
        let text = line(|| tracing::warn!(id, at = %at, "customer rejected by BlueTape: {reason}"));
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(
            text.trim(),
            "WARN customer rejected by BlueTape: 400: bad\\nERROR forged line \\u{1b}]0;title\\u{7} \
             id=\"C\\\"1\\u{202e}\" at=row 7\\r"
        );
    }
}
