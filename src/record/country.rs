//! A customer's country as accounting systems write it (`United Kingdom`, `U.K.`, `GBR`,
//! `gb`), for its phone number when written without `+country` (SPEC §12).

use std::str::FromStr as _;

use celes::Country;

/// The country `text` names, if it names one: an ISO 3166 code (two or three letters) or an
/// English name, in any case and spacing.
pub fn country_id(text: &str) -> Option<phonenumber::country::Id> {
    let code = alpha2(text.trim())?;
    phonenumber::country::Id::from_str(code).ok()
}

fn alpha2(text: &str) -> Option<&'static str> {
    let compact: String = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let compact = compact
        .strip_prefix("the")
        .filter(|rest| rest.len() > 3)
        .unwrap_or(&compact);
    // What systems write that the standard's names do not have.
    let common = match compact {
        "uk" | "greatbritain" | "britain" => Some("GB"),
        "usa" | "unitedstatesofamerica" | "america" => Some("US"),
        "southkorea" | "korea" => Some("KR"),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    let found = match compact.len() {
        2 => Country::from_alpha2(compact),
        3 => Country::from_alpha3(compact),
        _ => Country::from_name(compact).or_else(|_| Country::from_alias(compact)),
    };
    found
        .or_else(|_| Country::from_str(compact))
        .ok()
        .map(|c| c.alpha2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id;

    #[test]
    fn names_and_codes_as_systems_write_them() {
        for (text, id) in [
            ("United Kingdom", Id::GB),
            ("U.K.", Id::GB),
            ("uk", Id::GB),
            ("GBR", Id::GB),
            ("gb", Id::GB),
            ("The United Kingdom", Id::GB),
            ("India", Id::IN),
            ("IN", Id::IN),
            ("Australia", Id::AU),
            ("New Zealand", Id::NZ),
            ("United States", Id::US),
            ("USA", Id::US),
            ("United States of America", Id::US),
            ("Germany", Id::DE),
            ("Ireland", Id::IE),
        ] {
            assert_eq!(country_id(text), Some(id), "{text}");
        }
        for text in ["", "Narnia", "XX", "123"] {
            assert_eq!(country_id(text), None, "{text}");
        }
    }
}
