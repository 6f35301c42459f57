//! `[invoices]` (SPEC §9): the invoice export, read as `[source]` is, with its lines, its
//! statuses and its updates.

use std::path::Path;

use super::{Resolving, SourceConfig, SourceSection};
use crate::setting::SettingError;
use crate::source::Kind;
use crate::source::invoices::StatusRules;
use crate::source::lines::LineSpecs;
use crate::source::presets::Preset;

/// `[invoices]`, resolved.
#[derive(Debug, Clone)]
pub struct InvoicesConfig {
    pub source: SourceConfig,
    pub statuses: StatusRules,
    /// Send changed invoices as updates (`[invoices] updates`, default true).
    pub updates: bool,
}

impl SourceSection {
    /// Checks `[invoices]` and resolves it; `customers` is the resolved `[source]`, whose zone
    /// and name it needs.
    pub fn validate_invoices(
        mut self,
        customers: &SourceConfig,
        config_dir: &Path,
    ) -> Result<InvoicesConfig, SettingError> {
        let err = |key: &str, problem: &str| SettingError::new(format!("invoices.{key}"), problem);
        if self.default_country.is_some() {
            return Err(err("default_country", "invoices have no phone numbers"));
        }
        if self.organisation.is_some() {
            return Err(err("organisation", "applies only to [source]"));
        }
        let preset = self.preset_name(Kind::Invoice)?;
        let invoice_preset = match preset {
            Some(p) => Some(p.invoice_defaults().ok_or_else(|| {
                err(
                    "preset",
                    &format!(
                        "{} has no invoice preset: use {}, or map [invoices.fields]",
                        p.name(),
                        Preset::with_invoices()
                    ),
                )
            })?),
            None => None,
        };
        let (defaults, preset_lines, preset_statuses) = match invoice_preset {
            Some(p) => (Some(p.export), p.lines, p.statuses),
            None => (None, &[][..], StatusRules::default()),
        };
        let lines = LineSpecs::resolve(std::mem::take(&mut self.line_fields), preset_lines)
            .map_err(|(key, problem)| err(&format!("line_fields.{key}"), &problem))?;
        let statuses = StatusRules {
            draft: self.draft_statuses.take().unwrap_or(preset_statuses.draft),
            void: self.void_statuses.take().unwrap_or(preset_statuses.void),
            paid: self.paid_statuses.take().unwrap_or(preset_statuses.paid),
            ..preset_statuses
        };
        let updates = self.updates.unwrap_or(true);
        let resolving = Resolving {
            kind: Kind::Invoice,
            preset,
            defaults,
            timezone: customers.timezone,
        };
        let mut source = self.resolve(resolving, config_dir)?;
        if source.name == customers.name {
            return Err(err(
                "name",
                &format!("must differ from source.name (`{}`)", customers.name),
            ));
        }
        // Read whenever the export has them: mapped, or a `lines` column by its API name.
        source.lines = Some(lines);
        Ok(InvoicesConfig {
            source,
            statuses,
            updates,
        })
    }
}

/// An `[invoices]` section alone, from the TOML text of its keys, beside the customers' `[source]`
/// (for tests).
pub fn invoices_from_toml(
    text: &str,
    customers: &SourceConfig,
    config_file: &Path,
) -> Result<InvoicesConfig, SettingError> {
    let section: SourceSection = ::config::Config::builder()
        .add_source(::config::File::from_str(text, ::config::FileFormat::Toml))
        .build()
        .and_then(::config::Config::try_deserialize)
        .map_err(|e| SettingError::new("invoices", e))?;
    section.validate_invoices(customers, config_file.parent().unwrap_or(Path::new(".")))
}
