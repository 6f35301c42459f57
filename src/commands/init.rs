//! `init EXPORT`: a ready config for an export nobody has mapped (SPEC §3, §6). Its standard
//! output is only TOML, explanations as comments, so it can be redirected into a file; it
//! reads only the first records and changes nothing.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use chrono::Utc;

use super::{CommandError, io};
use crate::commands::exit::Exit;
use crate::record::Normaliser;
use crate::source::config::{SourceConfig, SourceFormat, source_from_toml};
use crate::source::detect::{self, DateForm, Detected};
use crate::source::{ExportFile, Field, Item, Kind, RawRecord};

mod invoices;
mod linked;
mod notes;

/// How many records are shown as they would be sent.
const SHOWN: usize = 3;
/// Prints the config for `export`; exit 78 (after printing it) naming the fields no column
/// was found for.
pub fn init(export: &Path, out: &mut dyn Write) -> Result<(), CommandError> {
    let failed = |e: &dyn std::fmt::Display| CommandError::failed(Exit::Config, e.to_string());
    // `init quickbooks` or `init xero` (a file of that name is still a file).
    if !export.exists()
        && let Some(provider) = export.to_str().and_then(linked_provider)
    {
        out.write_all(linked::config(provider).as_bytes())
            .map_err(io)?;
        return out.flush().map_err(io);
    }
    let path = std::path::absolute(export).map_err(|e| failed(&e))?;
    if !path.is_file() {
        return Err(CommandError::failed(
            Exit::Config,
            format!(
                "no export file at {}: name the file the accounting system writes",
                path.display()
            ),
        ));
    }
    let detected = detect::detect(&path).map_err(|e| failed(&e))?;
    if let (Kind::Invoice, Some(preset)) = (detected.kind, detected.preset) {
        let text = invoices::config(&path, &detected, preset).map_err(|e| failed(&e))?;
        out.write_all(text.as_bytes()).map_err(io)?;
        return out.flush().map_err(io);
    }
    if detected.kind == Kind::Invoice {
        let section = source_section(&path, &detected, Kind::Invoice);
        let (text, missing) = invoices::generic(&path, &detected, &section.text, &section.keys)
            .map_err(|e| failed(&e))?;
        out.write_all(text.as_bytes()).map_err(io)?;
        out.flush().map_err(io)?;
        return not_found(&missing, "invoices");
    }
    let source = source_section(&path, &detected, Kind::Customer);
    let config = source_from_toml(&source.keys, &path).map_err(|e| failed(&e))?;
    let mut text = header(&path, &detected);
    text.push_str(API);
    text.push_str(&store_section());
    text.push_str(&source.text);
    text.push_str(&unused_columns(&detected));
    let missing: Vec<&str> = Kind::Customer
        .required()
        .iter()
        .filter(|f| detected.preset.is_none() && detected.fields.get(**f).is_none())
        .map(|f| f.api_name())
        .collect();
    if missing.is_empty() {
        text.push_str(&samples(&config).map_err(|e| failed(&e))?);
    } else {
        text.push_str(&shown_once_mapped("Records", &missing));
    }
    out.write_all(text.as_bytes()).map_err(io)?;
    out.flush().map_err(io)?;
    not_found(&missing, "source")
}

/// The provider `init NAME` names: `quickbooks` (or its preset's name) or `xero`.
fn linked_provider(name: &str) -> Option<crate::provider::Provider> {
    match name.trim().to_ascii_lowercase().as_str() {
        "quickbooks-online" => Some(crate::provider::Provider::Quickbooks),
        other => other.parse().ok(),
    }
}

/// Why no record is shown yet: `missing` fields are not mapped.
pub(super) fn shown_once_mapped(what: &str, missing: &[&str]) -> String {
    format!(
        "\n# {what} are shown as they would be sent once {} {} mapped.\n",
        missing.join(", "),
        if missing.len() == 1 { "is" } else { "are" }
    )
}

/// Exit 78 naming the fields no column was found for, after the config was printed.
fn not_found(missing: &[&str], section: &str) -> Result<(), CommandError> {
    if missing.is_empty() {
        return Ok(());
    }
    Err(CommandError::failed(
        Exit::Config,
        format!(
            "no column found for {}: set {section}.fields.{} in the printed config (marked NOT \
             FOUND) to the export's column",
            missing.join(", "),
            missing[0]
        ),
    ))
}

pub(super) const API: &str = r#"
[api]
# Your BlueTape account id (BlueTape gives it to you): required.
account_id = ""
# The API key: in a file only this program's user can read, or in $BLUETAPE_API_KEY, or the
# systemd credential `bluetape-api-key` (see the README).
# key_file = "/etc/bluetape-sync/api.key"
"#;

/// `[store]` with the path the user running `init` would get by default, written out so that
/// every command run with this config reads the same store.
pub(super) fn store_section() -> String {
    let path = crate::store::config::default_store_path();
    format!(
        "\n[store]\n# Where this config keeps what was sent (created on the first pass). A service \
         keeps it in its\n# state directory: as the unit runs it, leave the key out, or set \
         /var/lib/bluetape-sync/state.db.\npath = {}\n",
        quoted(&path.display().to_string())
    )
}

fn header(path: &Path, detected: &Detected) -> String {
    let mut text = format!(
        "# bluetape-sync config for {}, written by `bluetape-sync init` from its first {} records.\n",
        path.display(),
        detected.sampled
    );
    match detected.preset {
        Some(preset) => {
            let _ = writeln!(
                text,
                "# The file has the shape of {}'s export: the preset `{preset}` reads it.",
                preset.system()
            );
        }
        None => text.push_str(
            "# No accounting system's export has this shape: each field is mapped from its column.\n",
        ),
    }
    let _ = writeln!(text, "# Encoding: {}.", detected.encoding.name());
    text.push_str(
        "# Next: fill in api.account_id and the key, then `bluetape-sync --config <this file> \
         check`,\n# and `bluetape-sync --config <this file> --once --dry-run` to see what would be \
         sent.\n",
    );
    text
}

/// The `[source]` section as printed, and its keys alone (as `[source]` reads them).
struct SourceText {
    text: String,
    keys: String,
}

fn format_name(format: SourceFormat) -> &'static str {
    match format {
        SourceFormat::Csv => "csv",
        SourceFormat::Json => "json",
        SourceFormat::Ndjson => "ndjson",
    }
}

pub(super) fn quoted(value: &str) -> String {
    // A JSON string is a valid TOML basic string.
    serde_json::Value::from(value).to_string()
}

/// Lines of `[source]`: each key as `[source]` reads it, and as printed with its note.
#[derive(Default)]
struct Lines {
    keys: String,
    printed: Vec<(String, String)>,
}

impl Lines {
    fn key(&mut self, line: String, note: &str) {
        self.keys.push_str(&line);
        self.keys.push('\n');
        self.printed.push((line, note.to_owned()));
    }

    /// A comment line of its own.
    fn comment(&mut self, text: String) {
        self.printed.push((String::new(), text));
    }

    fn text(&self) -> String {
        let mut text = String::new();
        for (line, note) in &self.printed {
            match (line.is_empty(), note.is_empty()) {
                (true, _) => text.push_str(note),
                (false, true) => text.push_str(line),
                (false, false) => {
                    let _ = write!(text, "{line:<40} # {note}");
                }
            }
            text.push('\n');
        }
        text
    }
}

const NAIVE: &str = "the dates have no zone: name the one they are written in";

/// The section reading the export of `kind`: `[source]`, or `[invoices]`.
fn source_section(path: &Path, detected: &Detected, kind: Kind) -> SourceText {
    let mut source = Lines::default();
    source.key(
        format!("path = {}", quoted(&path.display().to_string())),
        "the export; a glob (`customers-*.csv`) reads several files as one",
    );
    if let Some(preset) = detected.preset {
        source.key(format!("preset = {}", quoted(preset.name())), "");
        if preset.defaults().format != detected.format {
            source.key(
                format!("format = {}", quoted(format_name(detected.format))),
                "",
            );
        }
    } else {
        source.key(
            format!("format = {}", quoted(format_name(detected.format))),
            "",
        );
        if !detected.records_path.is_empty() {
            source.key(
                format!("records_path = {}", quoted(&detected.records_path)),
                "where the records array is",
            );
        }
    }
    let encoding = detected.encoding.name();
    if encoding.starts_with("UTF-16") {
        source.comment(format!("# Encoding {encoding}: read by its BOM."));
    } else if detected.encoding != encoding_rs::UTF_8 {
        source.key(
            format!("encoding = {}", quoted(&encoding.to_lowercase())),
            "not UTF-8: the file's own encoding",
        );
    }
    if detected.format == SourceFormat::Csv && detected.delimiter != b',' {
        let delimiter = match detected.delimiter {
            b'\t' => "tab".to_owned(),
            d => (d as char).to_string(),
        };
        source.key(format!("delimiter = {}", quoted(&delimiter)), "");
    }
    let preset_zone = detected.preset.and_then(|p| p.defaults().timezone);
    match &detected.dates {
        Some(DateForm::Accepted { naive: true, .. }) if preset_zone.is_some() => {
            source.comment(format!(
                "# Dates have no zone: the preset reads them in {}; set timezone to override.",
                preset_zone.map_or("UTC", |z| z.name())
            ));
        }
        Some(DateForm::Accepted { form, naive }) => {
            source.comment(format!("# Dates: every sampled value is {form}."));
            if *naive {
                source.key("timezone = \"UTC\"".into(), NAIVE);
            }
        }
        Some(DateForm::Format { format, naive }) => {
            source.key(
                format!("datetime_format = {}", quoted(format)),
                "the only form that fits every sampled date",
            );
            if *naive {
                source.key("timezone = \"UTC\"".into(), NAIVE);
            }
        }
        Some(DateForm::Unreadable { example }) => source.comment(format!(
            "# Dates: no form fits every sampled value (e.g. {}): set datetime_format (strftime).",
            quoted(example)
        )),
        None => {}
    }
    if kind == Kind::Customer {
        let (country, why) = notes::default_country(detected.preset, detected);
        source.key(
            format!("default_country = {}", quoted(&country)),
            &format!("phone numbers without +country: {why}"),
        );
    }
    let mut fields = Lines::default();
    if detected.preset.is_none() {
        fields_section(detected, kind, &mut fields);
    }
    let section = kind.section();
    let mut text = format!("\n[{section}]\n");
    if let Some(note) = detected.preset.and_then(|p| notes::ids(p, detected)) {
        text.push_str(&note);
    }
    text.push_str(&source.text());
    if let Some(preset) = detected.preset {
        text.push_str(&notes::left_out(preset, detected.format, "source"));
    }
    let mut keys = source.keys;
    if !fields.printed.is_empty() {
        let _ = write!(text, "\n[{section}.fields]\n");
        text.push_str(&fields.text());
        keys.push_str("[fields]\n");
        keys.push_str(&fields.keys);
    }
    SourceText { text, keys }
}

fn fields_section(detected: &Detected, kind: Kind, fields: &mut Lines) {
    for &field in kind.fields() {
        let name = field.api_name();
        let why = detected
            .reasons
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, why)| why.as_str());
        match detected.fields.get(field) {
            Some(source) => fields.key(format!("{name} = {}", quoted(&source.to_string())), why),
            None if kind.required().contains(&field) => fields.comment(format!(
                "# {name} = \"\"  # NOT FOUND: set it to the column with the {kind}'s {name}"
            )),
            None if field == Field::SourceModifiedDate => fields.comment(format!(
                "# sourceModifiedDate: no date column; each {kind} is dated when first seen, \
                 and a changed one is found by its content."
            )),
            None if field == Field::CompanyId => fields.comment(format!(
                "# {name}: not mapped; map a column only if it holds BlueTape's company ids."
            )),
            None => fields.comment(format!("# {name}: not mapped (optional).")),
        }
    }
}

fn unused_columns(detected: &Detected) -> String {
    let used = |column: &str| {
        Kind::Customer.fields().iter().any(|f| {
            detected.fields.get(*f).is_some_and(|source| {
                source
                    .to_string()
                    .split(['|', '+'])
                    .any(|part| part.trim() == column)
            })
        })
    };
    let unused: Vec<&str> = detected
        .columns
        .iter()
        .map(String::as_str)
        .filter(|c| detected.preset.is_none() && !used(c))
        .collect();
    if unused.is_empty() {
        return String::new();
    }
    let mut text = String::from("\n# Columns not used:\n");
    for line in wrap(&unused.join(", "), 90) {
        let _ = writeln!(text, "#   {line}");
    }
    text
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && line.len() + word.len() + 1 > width {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// The first records as a pass would send them, or why each would be rejected.
fn samples(config: &SourceConfig) -> Result<String, crate::source::SourceError> {
    let normaliser = Normaliser::for_source(config);
    let now = Utc::now();
    let shown = FirstRecords {
        heading: "The first records exactly as they would be sent",
        left_out: ("inactive", "inactive"),
    };
    shown.describe(config, |raw| {
        let modified = match raw.get(Field::SourceModifiedDate) {
            None if config.dates_by_first_seen() => Ok(now),
            _ => normaliser.modified(raw),
        };
        let id = raw.get(Field::Id).unwrap_or("(no id)");
        match modified.and_then(|m| normaliser.customer(raw, m)) {
            Ok(customer) => customer
                .create_body()
                .unwrap_or_else(|e| format!("(cannot be written: {e})")),
            Err(rejection) => format!("{id} would be rejected: {rejection}"),
        }
    })
}

/// The first [`SHOWN`] records of an export as comments, each as a closure says it, and how
/// many among them the preset left out.
pub(super) struct FirstRecords {
    pub(super) heading: &'static str,
    /// Why the preset leaves a record out, for one and for several (`inactive`).
    pub(super) left_out: (&'static str, &'static str),
}

impl FirstRecords {
    pub(super) fn describe(
        &self,
        config: &SourceConfig,
        mut line: impl FnMut(&RawRecord) -> String,
    ) -> Result<String, crate::source::SourceError> {
        let file = ExportFile::at(&config.path)?;
        let mut text = format!("\n# {}:\n", self.heading);
        let mut shown = 0;
        let mut left_out = 0;
        for item in crate::source::read(config, &file, None)?.take(detect::SAMPLE) {
            let raw = match item? {
                Item::Record(raw) => raw,
                Item::LeftOut { .. } | Item::Old(_) => {
                    left_out += 1;
                    continue;
                }
            };
            let _ = writeln!(text, "#   {}", line(&raw));
            shown += 1;
            if shown == SHOWN {
                break;
            }
        }
        if shown == 0 {
            text.push_str("#   (none among the first records)\n");
        }
        let (one, several) = self.left_out;
        match left_out {
            0 => {}
            1 => {
                let _ = writeln!(
                    text,
                    "# (1 record among them is left out by the preset: {one}.)"
                );
            }
            n => {
                let _ = writeln!(
                    text,
                    "# ({n} records among them are left out by the preset: {several}.)"
                );
            }
        }
        Ok(text)
    }
}
