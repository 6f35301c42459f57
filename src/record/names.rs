//! A customer's first and last name (SPEC §12): as mapped, else split from a person's whole
//! name (`source.fields.fullName`), never from an organisation's.

use std::borrow::Cow;

use super::{Field, RawRecord, Rejection};

/// Why a record with no person's name at all is rejected: the advice says where to add one.
pub const NO_CONTACT_PERSON: &str = "no contact person";

/// The first and last name to send: each as mapped; an absent one from the whole name, whose
/// last word is the last name and the rest the first (`Jane Q. Doe` is `Jane Q.` and `Doe`),
/// unless the export marks the record as an organisation's.
pub(super) fn person_name(raw: &RawRecord) -> Result<(Cow<'_, str>, Cow<'_, str>), Rejection> {
    let (first, last) = (raw.get(Field::FirstName), raw.get(Field::LastName));
    let split = match (first, last) {
        (Some(_), Some(_)) => None,
        _ => raw
            .get(Field::FullName)
            .filter(|_| !raw.organisation)
            .and_then(split_whole_name),
    };
    let first = first
        .map(Cow::Borrowed)
        .or_else(|| split.as_ref().map(|(f, _)| Cow::Owned(f.clone())));
    let last = last
        .map(Cow::Borrowed)
        .or_else(|| split.as_ref().map(|(_, l)| Cow::Borrowed(*l)));
    match (first, last) {
        (Some(first), Some(last)) => Ok((first, last)),
        (None, None) => Err(Rejection::new(Field::FirstName, NO_CONTACT_PERSON)),
        (None, Some(_)) => Err(Rejection::new(Field::FirstName, Rejection::MISSING)),
        (Some(_), None) => Err(Rejection::new(Field::LastName, Rejection::MISSING)),
    }
}

/// `Jane Q. Doe` as (`Jane Q.`, `Doe`); a name of one word is not split.
fn split_whole_name(whole: &str) -> Option<(String, &str)> {
    let mut words = whole.split_whitespace();
    let last = words.next_back()?;
    let first: Vec<&str> = words.collect();
    (!first.is_empty()).then(|| (first.join(" "), last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;

    fn record(values: &[(Field, &str)], organisation: bool) -> RawRecord {
        let mut raw = RawRecord::new(Kind::Customer, "here".into());
        for (field, value) in values {
            raw.set(*field, value);
        }
        raw.organisation = organisation;
        raw
    }

    fn names(values: &[(Field, &str)], organisation: bool) -> Result<(String, String), String> {
        let raw = record(values, organisation);
        person_name(&raw)
            .map(|(f, l)| (f.into_owned(), l.into_owned()))
            .map_err(|r| r.to_string())
    }

    #[test]
    fn a_whole_name_fills_what_is_absent_never_for_an_organisation() {
        let ok = |f: &str, l: &str| Ok((f.to_owned(), l.to_owned()));
        assert_eq!(
            names(&[(Field::FullName, "Jane Q.  Doe")], false),
            ok("Jane Q.", "Doe")
        );
        assert_eq!(
            names(
                &[(Field::FirstName, "Janet"), (Field::FullName, "Jane Doe")],
                false
            ),
            ok("Janet", "Doe")
        );
        assert_eq!(
            names(
                &[
                    (Field::FirstName, "A"),
                    (Field::LastName, "B"),
                    (Field::FullName, "C D")
                ],
                true
            ),
            ok("A", "B")
        );
        assert_eq!(
            names(&[(Field::FullName, "Northwind Traders Ltd")], true),
            Err("firstName: no contact person".to_owned())
        );
        assert_eq!(
            names(&[(Field::FullName, "Cher")], false),
            Err("firstName: no contact person".to_owned())
        );
        assert_eq!(
            names(&[(Field::LastName, "Doe")], false),
            Err("firstName: missing".to_owned())
        );
        assert_eq!(
            names(&[], false),
            Err("firstName: no contact person".to_owned())
        );
    }
}
