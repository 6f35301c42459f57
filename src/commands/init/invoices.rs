//! `init` on a system's invoice export (SPEC §9): QuickBooks Online's invoice query or Xero's
//! Invoices. The config has both sections: `[source]` for the same system's customer export
//! (invoices go after their customers), and `[invoices]` for this file; then the first
//! invoices as they would be sent, or what the export says of them.

use std::fmt::Write as _;
use std::path::Path;

use super::{API, FirstRecords, quoted, store_section};
use crate::record::invoice::InvoiceReader;
use crate::source::Field;
use crate::source::config::{invoices_from_toml, source_from_toml};
use crate::source::detect::Detected;
use crate::source::invoices::Standing;
use crate::source::presets::Preset;

/// The config for the invoice export at `path`, with its first invoices as comments.
pub(super) fn config(
    path: &Path,
    detected: &Detected,
    preset: Preset,
) -> Result<String, Box<dyn std::error::Error>> {
    let system = preset.system();
    let customers = match preset {
        Preset::Xero => "contacts.json",
        Preset::Netsuite => "customers.csv",
        _ => "customers.json",
    };
    let customers = path.with_file_name(customers);
    let mut text = format!(
        "# bluetape-sync config for {}, written by `bluetape-sync init` from its first {} records.\n\
         # The file has the shape of {system}'s invoice export: the preset `{}` reads it as\n\
         # [invoices]. Invoices go to BlueTape after their customers, so [source] names the\n\
         # customer export of the same system: set its path to where that export is written.\n\
         # Encoding: {}.\n\
         # Next: fill in api.account_id, the key and source.path, then `bluetape-sync --config \
         <this file> check`.\n",
        path.display(),
        detected.sampled,
        preset.name(),
        detected.encoding.name(),
    );
    text.push_str(API);
    text.push_str(&store_section());
    let preset_line = format!("preset = {}", quoted(preset.name()));
    let path_line = format!("path = {}", quoted(&customers.display().to_string()));
    let _ = write!(
        text,
        "\n[source]\n{preset_line}\n{path_line:<40} # SET: {system}'s customer export\n\
         {:<40} # the country of phone numbers written without +country\n",
        "default_country = \"US\"",
    );
    let source_keys = format!("{preset_line}\n{path_line}\n");
    let invoice_keys = format!(
        "preset = {}\npath = {}\n",
        quoted(preset.name()),
        quoted(&path.display().to_string())
    );
    let _ = write!(text, "\n[invoices]\n{invoice_keys}");
    text.push_str(&super::notes::left_out(preset, detected.format, "invoices"));
    let customers_config = source_from_toml(&source_keys, path)?;
    let invoices = invoices_from_toml(&invoice_keys, &customers_config, path)?;
    text.push_str(&samples(&invoices)?);
    Ok(text)
}

/// The first invoices exactly as they would be sent, or what the export says of them.
fn samples(
    config: &crate::source::config::InvoicesConfig,
) -> Result<String, crate::source::SourceError> {
    let reader = InvoiceReader::new(config);
    let shown = FirstRecords {
        heading: "The first invoices exactly as they would be sent",
        left_out: ("not a sales invoice", "not sales invoices"),
    };
    shown.describe(&config.source, |raw| {
        let id = raw.get(Field::Id).unwrap_or("(no id)");
        let read = reader
            .modified(raw)
            .and_then(|modified| reader.invoice(raw, modified));
        match read {
            Ok(read) => match read.standing {
                Standing::Open => read
                    .invoice
                    .create_body()
                    .unwrap_or_else(|e| format!("(cannot be written: {e})")),
                Standing::Draft => format!("{id}: a draft, sent once it is approved"),
                Standing::Paid => {
                    format!("{id}: paid, left out unless BlueTape has it (then updated)")
                }
                Standing::Void => {
                    format!("{id}: void, cancelled if BlueTape has it, else left out")
                }
            },
            Err(rejection) => format!("{id} would be rejected: {rejection}"),
        }
    })
}

/// The config for an invoice export no preset knows, each field mapped from its column, with
/// its first invoices as comments (when every required field was found); and the required
/// fields no column was found for.
pub(super) fn generic(
    path: &Path,
    detected: &Detected,
    section: &str,
    keys: &str,
) -> Result<(String, Vec<&'static str>), Box<dyn std::error::Error>> {
    let customers = path.with_file_name("customers.csv");
    let mut text = format!(
        "# bluetape-sync config for {}, written by `bluetape-sync init` from its first {} records.\n\
         # The file is an invoice export (an invoice number and amounts, no person's name): each\n\
         # field is mapped from its column as [invoices]. Invoices go to BlueTape after their\n\
         # customers, so [source] names the customer export: run `bluetape-sync init` on it and\n\
         # put its [source] here.\n\
         # Encoding: {}.\n",
        path.display(),
        detected.sampled,
        detected.encoding.name(),
    );
    text.push_str(API);
    text.push_str(&store_section());
    let path_line = format!("path = {}", quoted(&customers.display().to_string()));
    let _ = write!(
        text,
        "\n[source]\n{path_line:<40} # SET: the customer export (`bluetape-sync init` maps it)\n"
    );
    text.push_str(section);
    let missing: Vec<&'static str> = crate::source::Kind::Invoice
        .required()
        .iter()
        .filter(|f| detected.fields.get(**f).is_none())
        .map(|f| f.api_name())
        .collect();
    if missing.is_empty() {
        let customers_config = source_from_toml(&format!("{path_line}\n"), path)?;
        let invoices = invoices_from_toml(keys, &customers_config, path)?;
        text.push_str(&samples(&invoices)?);
    } else {
        text.push_str(&super::shown_once_mapped("Invoices", &missing));
    }
    Ok((text, missing))
}
