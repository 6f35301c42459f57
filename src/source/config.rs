//! `[source]` (SPEC §3): where the export is, how it is written, and where each field is in it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use encoding_rs::Encoding;
use serde::Deserialize;

use std::collections::BTreeMap;

use super::leave_out::{self, Rule, RuleText};
use super::lines::LineSpecs;
pub use super::mapping::{FieldMap, SourceFormat};
use super::mapping::{FieldSource, FieldSpec};
use super::presets::{Preset, PresetDefaults};
use super::size::ByteSize;
use super::{Field, Kind};
use crate::setting::{SettingError, relative_to};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceSection {
    format: Option<SourceFormat>,
    path: Option<PathBuf>,
    records_path: Option<String>,
    preset: Option<String>,
    fields: BTreeMap<String, FieldSource>,
    delimiter: Option<String>,
    encoding: Option<String>,
    timezone: Option<String>,
    datetime_format: Option<String>,
    default_country: Option<String>,
    #[serde(with = "humantime_serde")]
    settle: Duration,
    #[serde(with = "humantime_serde")]
    lookback: Duration,
    max_row_bytes: ByteSize,
    name: Option<String>,
    #[serde(with = "humantime_serde")]
    clock_skew: Duration,
    leave_out: Vec<RuleText>,
    organisation: Option<RuleText>,
    from: Option<String>,
    // [invoices] only:
    line_fields: BTreeMap<String, FieldSource>,
    draft_statuses: Option<Vec<String>>,
    void_statuses: Option<Vec<String>>,
    paid_statuses: Option<Vec<String>>,
    updates: Option<bool>,
}

impl Default for SourceSection {
    fn default() -> Self {
        Self {
            format: None,
            path: None,
            records_path: None,
            preset: None,
            fields: BTreeMap::new(),
            delimiter: None,
            encoding: None,
            timezone: None,
            datetime_format: None,
            default_country: None,
            settle: Duration::from_secs(5),
            lookback: Duration::from_secs(3600),
            max_row_bytes: ByteSize(ByteSize::MIB),
            name: None,
            clock_skew: Duration::from_secs(300),
            leave_out: Vec::new(),
            organisation: None,
            from: None,
            line_fields: BTreeMap::new(),
            draft_statuses: None,
            void_statuses: None,
            paid_statuses: None,
            updates: None,
        }
    }
}

/// `[source]` (or `[invoices]`), resolved: the preset applied, every field's source parsed.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// What the export holds.
    pub kind: Kind,
    pub name: String,
    pub format: SourceFormat,
    /// A file, or a glob pattern matching several.
    pub path: PathBuf,
    /// Dotted path to the records array in a JSON export; empty: the top level is the array.
    pub records_path: Vec<String>,
    pub preset: Option<Preset>,
    /// Where each field comes from, as configured (or filled in by the preset).
    pub fields: FieldMap,
    /// The parsed field sources, in [`Kind::fields`] order.
    pub specs: Vec<(Field, FieldSpec)>,
    /// Where each field's source was set: `config`, `preset`, or `default`.
    pub origins: Vec<&'static str>,
    /// Records left out: the preset's rules (QuickBooks' inactive, Xero's archived
    /// customers), then the config's `leave_out`.
    pub leave_out: Vec<Rule>,
    /// What marks a record as an organisation's (`source.organisation`, or the preset's).
    pub organisation: Option<Rule>,
    /// Read from the accounting system's API (`from = "api"`, SPEC §11) instead of `path`:
    /// each pass fetches the change set into a spool file and reads that.
    pub from_api: bool,
    /// How messages name where a record was read, instead of the file's path (a spool of
    /// what an API answered is named by the API).
    pub origin: Option<String>,
    pub delimiter: u8,
    /// The encoding of files without a BOM.
    pub encoding: &'static Encoding,
    pub timezone: Tz,
    pub datetime_format: Option<String>,
    pub default_country: phonenumber::country::Id,
    pub settle: Duration,
    pub lookback: Duration,
    /// The longest CSV row or NDJSON line, or JSON record counting only its mapped values,
    /// that is read: anything longer is a broken export, so memory never follows the file.
    pub max_row_bytes: ByteSize,
    /// An invoice export's line fields.
    pub lines: Option<LineSpecs>,
    /// The header row's first cell, when rows before it are not the export's (IIF's `!CUST`).
    pub header_tag: Option<&'static str>,
    /// Phone cells as Xero's CSV writes them: country, area and number, space-separated.
    pub phone_parts: bool,
    /// How far ahead of this host's clock a record may be dated before it counts as dated in
    /// the future (it is sent, but never moves the watermark).
    pub clock_skew: Duration,
}

/// What a section is resolved with besides its own keys.
struct Resolving {
    kind: Kind,
    preset: Option<Preset>,
    defaults: Option<PresetDefaults>,
    /// The zone of naive dates unless the section or its preset names one.
    timezone: Tz,
}

impl SourceSection {
    /// Checks `[source]` and resolves it: the preset applied, every field's source parsed,
    /// relative paths taken from `config_dir`.
    pub fn validate(self, config_dir: &Path) -> Result<SourceConfig, SettingError> {
        let only_invoices = [
            ("line_fields", !self.line_fields.is_empty()),
            ("draft_statuses", self.draft_statuses.is_some()),
            ("void_statuses", self.void_statuses.is_some()),
            ("paid_statuses", self.paid_statuses.is_some()),
            ("updates", self.updates.is_some()),
        ];
        if let Some((key, _)) = only_invoices.iter().find(|(_, set)| *set) {
            let problem = match *key {
                "updates" => "customers' updates are [sync] updates",
                _ => "applies only to [invoices]",
            };
            return Err(SettingError::new(format!("source.{key}"), problem));
        }
        let preset = self.preset_name(Kind::Customer)?;
        let resolving = Resolving {
            kind: Kind::Customer,
            preset,
            defaults: preset.map(|p| p.defaults_for(self.format)),
            timezone: Tz::UTC,
        };
        self.resolve(resolving, config_dir)
    }

    fn preset_name(&self, kind: Kind) -> Result<Option<Preset>, SettingError> {
        self.preset
            .as_deref()
            .map(str::parse::<Preset>)
            .transpose()
            .map_err(|e| SettingError::new(format!("{}.preset", kind.section()), e))
    }

    /// Checks the section of the export of `kind` and resolves it.
    fn resolve(self, with: Resolving, config_dir: &Path) -> Result<SourceConfig, SettingError> {
        let Resolving {
            kind,
            preset: preset_name,
            defaults: preset,
            timezone: zone,
        } = with;
        let section = kind.section();
        let err = |key: &str, problem: &str| SettingError::new(format!("{section}.{key}"), problem);
        let format = self
            .format
            .or(preset.as_ref().map(|p| p.format))
            .unwrap_or(SourceFormat::Csv);
        let records_path = self
            .records_path
            .or_else(|| preset.as_ref().map(|p| p.records_path.to_owned()))
            .unwrap_or_default();
        if format != SourceFormat::Json && !records_path.is_empty() {
            return Err(err("records_path", "applies only to format = \"json\""));
        }
        let records_path: Vec<String> = records_path
            .split('.')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let dotted = format != SourceFormat::Csv;
        let preset = preset.unwrap_or_else(|| PresetDefaults::base(format, ""));
        let (preset_fields, preset_zone, preset_country) =
            (preset.fields, preset.timezone, preset.default_country);
        let leave_out = leave_out::resolve(&preset.left_out, &self.leave_out, dotted).map_err(
            |(n, problem)| match n {
                Some(n) => err("leave_out", &format!("rule {n}: {problem}")),
                None => err(
                    "preset",
                    &format!("its rule for records it leaves out: {problem}"),
                ),
            },
        )?;
        let organisation = match (
            &self.organisation,
            preset.organisation.filter(|_| kind == Kind::Customer),
        ) {
            (Some(rule), _) => Some(
                Rule::single(rule, None, dotted)
                    .map_err(|problem| err("organisation", &problem))?,
            ),
            (None, Some(rule)) => Some(
                Rule::single(&rule, Some("organisation"), dotted).map_err(|problem| {
                    err("preset", &format!("its organisation rule: {problem}"))
                })?,
            ),
            (None, None) => None,
        };
        let configured = FieldMap::named(kind, self.fields)
            .map_err(|(name, problem)| err(&format!("fields.{name}"), &problem))?;
        let origins = kind
            .fields()
            .iter()
            .map(|f| match (configured.get(*f), preset_fields.get(*f)) {
                (Some(_), _) => "config",
                (None, Some(_)) => "preset",
                (None, None) => "default",
            })
            .collect();
        let fields = configured.or(preset_fields);
        let mut specs = Vec::with_capacity(kind.fields().len());
        for &field in kind.fields() {
            let source = fields
                .get(field)
                .cloned()
                .unwrap_or_else(|| FieldSource::from(field.api_name()));
            let spec = FieldSpec::parse(&source, dotted)
                .map_err(|e| err(&format!("fields.{}", field.api_name()), &e))?;
            specs.push((field, spec));
        }
        let from_api = match self.from.as_deref().map(str::trim) {
            None | Some("file") => false,
            Some("api") => true,
            Some(_) => return Err(err("from", "use \"file\" (read `path`) or \"api\"")),
        };
        if from_api && !matches!(preset_name, Some(Preset::QuickbooksOnline | Preset::Xero)) {
            return Err(err(
                "from",
                "\"api\" reads QuickBooks Online or Xero: set preset = \"quickbooks-online\" or \
                 \"xero\"",
            ));
        }
        let path = match self.path {
            Some(p) if !p.as_os_str().is_empty() => p,
            // The pass reads its spool file.
            _ if from_api => PathBuf::new(),
            _ => {
                return Err(err(
                    "path",
                    "missing: set it to the export file the accounting system writes",
                ));
            }
        };
        let path = match path.as_os_str().is_empty() {
            true => path,
            false => relative_to(config_dir, path),
        };
        let preset_delimiter = preset.delimiter.map(|d| char::from(d).to_string());
        let delimiter = match (self.delimiter.or(preset_delimiter))
            .as_deref()
            .unwrap_or(",")
        {
            "\\t" | "tab" | "\t" => b'\t',
            d if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
            _ => {
                return Err(err(
                    "delimiter",
                    "must be a single ASCII character (or `tab`)",
                ));
            }
        };
        let encoding = (self.encoding.as_deref())
            .or(preset.encoding)
            .unwrap_or("utf-8");
        let encoding =
            Encoding::for_label_no_replacement(encoding.trim().as_bytes()).ok_or_else(|| {
                err(
                    "encoding",
                    "not an encoding label (e.g. `utf-8`, `windows-1252`, `iso-8859-1`)",
                )
            })?;
        let timezone = match self.timezone {
            Some(zone) => zone.trim().parse::<Tz>().map_err(|_| {
                err(
                    "timezone",
                    "not an IANA time zone name (e.g. `America/New_York`)",
                )
            })?,
            None => preset_zone.unwrap_or(zone),
        };
        let default_country = self
            .default_country
            .as_deref()
            .or(preset_country)
            .unwrap_or("US")
            .trim()
            .to_uppercase()
            .parse::<phonenumber::country::Id>()
            .map_err(|_| {
                err(
                    "default_country",
                    "not an ISO 3166 two-letter country code (e.g. `US`)",
                )
            })?;
        let datetime_format =
            (self.datetime_format).or_else(|| preset.datetime_format.map(str::to_owned));
        if let Some(format) = &datetime_format
            && chrono::format::StrftimeItems::new(format).parse().is_err()
        {
            return Err(err("datetime_format", "not a valid strftime format"));
        }
        let name = self.name.unwrap_or_else(|| kind.default_name().to_owned());
        if name.trim().is_empty() {
            return Err(err("name", "must not be empty"));
        }
        Ok(SourceConfig {
            kind,
            name,
            format,
            path,
            records_path,
            preset: preset_name,
            fields,
            specs,
            origins,
            leave_out,
            organisation,
            from_api,
            // Its records are named by the API they came from, never by a spool file.
            origin: from_api
                .then(|| preset_name.map(|p| format!("{} API", p.system())))
                .flatten(),
            delimiter,
            encoding,
            timezone,
            datetime_format,
            header_tag: preset.header_tag,
            phone_parts: preset.phone_parts,
            default_country,
            settle: self.settle,
            lookback: self.lookback,
            max_row_bytes: self.max_row_bytes,
            lines: None,
            clock_skew: self.clock_skew,
        })
    }
}

mod invoices;
mod view;

pub use self::invoices::{InvoicesConfig, invoices_from_toml};

/// A `[source]` section alone, from the TOML text of its keys (as `init` writes them, and for
/// the source's own tests).
pub fn source_from_toml(text: &str, config_file: &Path) -> Result<SourceConfig, SettingError> {
    let section: SourceSection = ::config::Config::builder()
        .add_source(::config::File::from_str(text, ::config::FileFormat::Toml))
        .build()
        .and_then(::config::Config::try_deserialize)
        .map_err(|e| SettingError::new("source", e))?;
    section.validate(config_file.parent().unwrap_or(Path::new(".")))
}
