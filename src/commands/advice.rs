//! Rejections grouped by reason and counted, each with what to change, in the accounting
//! system's own terms when a preset names it: what `failures` and `check` end with.

use std::collections::BTreeMap;

use crate::record::Rejection;
use crate::source::Field;
use crate::source::config::SourceConfig;

/// One line per distinct reason, most frequent first:
/// `12 customers have no mobile number: add one in Xero (the contact's Phones → Mobile) ...`.
pub(crate) fn by_reason<'r>(
    reasons: impl IntoIterator<Item = (&'r str, u64)>,
    source: &SourceConfig,
) -> Vec<String> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for (reason, n) in reasons {
        *counts.entry(reason).or_default() += n;
    }
    let mut counts: Vec<(&str, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
        .into_iter()
        .map(|(reason, n)| {
            let customers = match n {
                1 => source.kind.name(),
                _ => source.kind.plural(),
            };
            match Rejection::from_stored(reason) {
                Some(rejection) => {
                    let (what, fix) = advice(&rejection, source);
                    let what = if n == 1 {
                        what.replacen("have ", "has ", 1)
                    } else {
                        what
                    };
                    format!("{n} {customers} {what}: {fix}")
                }
                None => format!("{n} {customers}: {reason}"),
            }
        })
        .collect()
}

/// What the rejected customers have (`have no mobile number`), and what to do about it.
fn advice(rejection: &Rejection, source: &SourceConfig) -> (String, String) {
    let field = rejection.field;
    let in_system = |verb: &str| match source.preset {
        Some(preset) => format!(
            "{verb} in {} ({})",
            preset.system(),
            preset.where_to_edit(field)
        ),
        None => format!(
            "{verb} in the accounting system (the export's `{}`)",
            source
                .fields
                .get(field)
                .map_or_else(|| field.api_name().to_owned(), ToString::to_string)
        ),
    };
    let noun = field.words();
    match field {
        Field::Id | Field::CompanyId if rejection.is_missing() => (
            format!("have no {noun}"),
            format!(
                "check that source.fields.{} names the export's {noun}",
                field.api_name()
            ),
        ),
        Field::SourceModifiedDate if rejection.is_missing() => (
            "have no modified date".into(),
            "add one in the export, or unset source.fields.sourceModifiedDate to date customers \
             by when they are first seen"
                .into(),
        ),
        Field::SourceModifiedDate => (
            format!("have a modified date that is {}", rejection.problem),
            "set source.datetime_format to the export's date form (`bluetape-sync init EXPORT` \
             finds it)"
                .into(),
        ),
        Field::CellPhoneNumber if rejection.is_missing() => (
            "have no mobile number".into(),
            format!(
                "{}: the sign-up link is sent by SMS, a landline is not enough",
                in_system("add one")
            ),
        ),
        Field::CellPhoneNumber => (
            format!("have a mobile number that is {}", rejection.problem),
            format!(
                "{}; numbers written without +country are read as {}: set \
                 source.default_country if they are from another country",
                in_system("correct it"),
                source.default_country.as_ref()
            ),
        ),
        Field::FirstName if rejection.problem == crate::record::names::NO_CONTACT_PERSON => (
            "have no contact person (an organisation's name alone, or no name)".into(),
            format!(
                "{}: BlueTape invites a person{}",
                in_system("add one"),
                match source.fields.get(Field::FullName) {
                    Some(_) => "",
                    None =>
                        ", or map source.fields.fullName to a column with a person's whole name",
                }
            ),
        ),
        Field::EmailAddress if !rejection.is_missing() => (
            "have an email address that is not valid".into(),
            in_system("correct it"),
        ),
        _ if rejection.is_missing() => (format!("have no {noun}"), in_system("add one")),
        _ => (
            format!("have {} that is {}", with_article(noun), rejection.problem),
            in_system("correct it"),
        ),
    }
}

fn with_article(noun: &str) -> String {
    match noun.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {noun}"),
        _ => format!("a {noun}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(toml: &str) -> SourceConfig {
        let dir = tempfile::tempdir().expect("tempdir");
        crate::source::config::source_from_toml(
            &format!("path = \"export\"\n{toml}"),
            &dir.path().join("c.toml"),
        )
        .expect("source")
    }

    #[test]
    fn reasons_are_counted_with_what_to_change_in_the_system() {
        let xero = source("preset = \"xero\"\n");
        let lines = by_reason(
            [
                ("cellPhoneNumber: missing", 7),
                ("emailAddress: not a valid email address", 1),
                ("cellPhoneNumber: missing", 5),
                ("BlueTape answered 400 Bad Request: invalid", 2),
            ],
            &xero,
        );
        assert_eq!(
            lines,
            [
                "12 customers have no mobile number: add one in Xero (the contact's Phones \u{2192} \
                 Mobile): the sign-up link is sent by SMS, a landline is not enough",
                "2 customers: BlueTape answered 400 Bad Request: invalid",
                "1 customer has an email address that is not valid: correct it in Xero (the \
                 contact's primary person \u{2192} Email)",
            ]
        );
    }

    #[test]
    fn without_a_preset_the_advice_names_the_column() {
        let csv = source("[fields]\nfirstName = \"Given Name\"\n");
        assert_eq!(
            by_reason([("firstName: missing", 3)], &csv),
            [
                "3 customers have no first name: add one in the accounting system (the export's \
              `Given Name`)"
            ]
        );
        assert_eq!(
            by_reason(
                [("cellPhoneNumber: not a valid number for its region", 1)],
                &csv
            ),
            [
                "1 customer has a mobile number that is not a valid number for its region: correct \
              it in the accounting system (the export's `cellPhoneNumber`); numbers written \
              without +country are read as US: set source.default_country if they are from \
              another country"
            ]
        );
    }
}
