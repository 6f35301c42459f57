//! What `init` tells about a preset's export beyond its keys (SPEC §12): the records the preset
//! leaves out, as rules of the form a config adds its own in; where ids come from, and whether
//! the system exports an id that never changes; and the country of national phone numbers,
//! from the numbers and countries it sampled.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::record::country::country_id;
use crate::source::detect::Detected;
use crate::source::mapping::SourceFormat;
use crate::source::presets::Preset;

/// The preset's leave-out rules as comments, each in the form `[[source.leave_out]]` takes.
pub(super) fn left_out(preset: Preset, format: SourceFormat, section: &str) -> String {
    let rules = match section {
        "invoices" => preset
            .invoice_defaults()
            .map(|d| d.export.left_out)
            .unwrap_or_default(),
        _ => preset.defaults_for(Some(format)).left_out,
    };
    if rules.is_empty() {
        return String::new();
    }
    let mut text = format!(
        "\n# The preset leaves these records out (never sent; add your own rules in this form,\n\
         # uncommented, as [[{section}.leave_out]]):\n"
    );
    for rule in rules {
        let _ = writeln!(text, "#   {}: {}", rule.what, rule.rule.to_inline_toml());
    }
    text
}

/// Where ids come from, and what happens when the system can change them.
pub(super) fn ids(preset: Preset, detected: &Detected) -> Option<String> {
    let has = |column: &str| detected.columns.iter().any(|c| c == column);
    let note = match (preset, detected.kind) {
        (Preset::Netsuite, _) => {
            "# Ids: `Internal ID`, which NetSuite never changes (the invoice search's \
             `Customer Internal ID`\n# refers to it); not `ID`, which a user can rename."
                .to_owned()
        }
        (Preset::QuickbooksDesktop, _) if has("REFNUM") => {
            "# Ids: `REFNUM`, QuickBooks' own number for the customer, which never changes \
             (not `NAME`, which can be\n# renamed)."
                .to_owned()
        }
        (Preset::QuickbooksDesktop, _) => "# WARNING: this IIF file has no REFNUM column: \
             ids are the customer's NAME, and renaming a customer\n# in QuickBooks makes it a \
             new customer in BlueTape. Export with REFNUM if your version can."
            .to_owned(),
        (Preset::XeroCsv, _) => "# WARNING: Xero's CSV exports no id that never changes: ids \
             are AccountNumber, else *ContactName.\n# Renaming a contact without an account \
             number, or changing its account number, makes it a new\n# customer in BlueTape: \
             give every contact an AccountNumber and keep it."
            .to_owned(),
        (Preset::Sage50Us, _) => "# WARNING: Sage 50's Customer ID can be changed in Sage \
             (Maintain > Customers): a changed\n# Customer ID makes a new customer in BlueTape."
            .to_owned(),
        _ => return None,
    };
    Some(format!("{note}\n"))
}

/// The country to read national phone numbers as (SPEC §12: a UK export is not US): the one
/// under which most sampled national numbers are valid, countries named in a country column
/// breaking ties; else the preset's, else `US`; and why.
pub(super) fn default_country(preset: Option<Preset>, detected: &Detected) -> (String, String) {
    use phonenumber::country::Id;
    let named: Vec<Id> = detected
        .countries
        .iter()
        .filter_map(|c| country_id(c))
        .collect();
    let national: Vec<&str> = (detected.phones.iter())
        .map(|p| p.trim().trim_start_matches('\''))
        .filter(|p| !p.is_empty() && !p.starts_with('+'))
        .collect();
    let international = (detected.phones.iter())
        .filter_map(|p| phonenumber::parse(None, p.trim().trim_start_matches('\'')).ok())
        .filter_map(|n| n.country().id());
    let fallback = preset
        .and_then(|p| p.defaults().default_country)
        .and_then(|c| c.parse::<Id>().ok())
        .unwrap_or(Id::US);
    let mut candidates: Vec<Id> = named.iter().copied().chain(international).collect();
    candidates.push(fallback);
    candidates.sort_by_key(|id| id.as_ref().to_owned());
    candidates.dedup();
    // A number that may be a mobile there: what BlueTape needs, and stricter than any valid
    // number (many countries' fixed lines take any ten digits).
    let mobile_in = |id: Id, text: &str| {
        phonenumber::parse(Some(id), text).is_ok_and(|n| {
            n.is_valid()
                && matches!(
                    n.number_type(&phonenumber::metadata::DATABASE),
                    phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile
                )
        })
    };
    let valid_in = |id: Id| national.iter().filter(|n| mobile_in(id, n)).count();
    let mentions = |id: Id| named.iter().filter(|n| **n == id).count();
    let named_any = !named.is_empty();
    let scored: BTreeMap<String, (usize, usize)> = candidates
        .iter()
        .map(|id| (id.as_ref().to_owned(), (valid_in(*id), mentions(*id))))
        .collect();
    // A country column says where customers are; without one, the numbers do.
    let best = scored
        .iter()
        .filter(|(_, (valid, named))| valid + named > 0)
        .max_by_key(|(code, (valid, named))| {
            let score = if named_any {
                (*named, *valid)
            } else {
                (*valid, 0)
            };
            (score, code.as_str() == fallback.as_ref())
        });
    match best {
        Some((code, (_, named))) if named_any => (
            code.clone(),
            format!(
                "{named} of the {} sampled countries are {code}",
                detected.countries.len()
            ),
        ),
        Some((code, (valid, _))) => (
            code.clone(),
            format!(
                "{valid} of the {} sampled numbers without +country are {code} mobiles",
                national.len()
            ),
        ),
        None if preset.and_then(|p| p.defaults().default_country).is_some() => {
            (fallback.as_ref().to_owned(), "the preset's".to_owned())
        }
        None => (
            "US".to_owned(),
            "no sampled number or country says otherwise: set yours".to_owned(),
        ),
    }
}
