//! The one phone normaliser: a number as written in the export to E.164, or a reason.
//!
//! Most exports write North American numbers in a handful of plain forms (`(626) 555-0100`,
//! `626-555-0100`, `+1 626 555 0100`). Those are read directly (`nanp`), checked against the
//! `phonenumber` crate's own patterns for calling code 1 (loading the metadata of every
//! country takes about 100 ms); every other form goes to the full library. Both routes give
//! the same answer (property tests compare them).
//!
//! The library reads a number that carries its own country code (`+49 …`, `011 49 …`) with
//! the national prefix of the default country, not of the number's: with `US` as default it
//! takes the `1` of `+49 151 …` for the US trunk prefix and gives `+49 51 …`. Such a number is
//! read again with its own country as default, which is what libphonenumber does.

mod nanp;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use phonenumber::country::{self, Source};
use phonenumber::metadata::DATABASE;

/// Why a phone number was refused (never contains the number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("not a phone number")]
    Unparseable,
    #[error("not a valid number for its region")]
    Invalid,
}

#[derive(Debug, Clone, Copy)]
pub struct PhoneNormaliser {
    default_country: country::Id,
}

impl PhoneNormaliser {
    /// `default_country` is used for numbers written without a `+country` prefix. The
    /// library's metadata is loaded when the first number is read, not here.
    pub fn new(default_country: country::Id) -> Self {
        Self { default_country }
    }

    /// E.164 (`+11234567890`) for a valid number; an invalid one is refused, never mangled.
    pub fn normalise(&self, text: &str) -> Result<String, PhoneError> {
        self.normalise_in(text, self.default_country)
    }

    /// As `normalise`, with `country` instead of the default country for this one number.
    pub fn normalise_in(&self, text: &str, country: country::Id) -> Result<String, PhoneError> {
        if let Some(result) = nanp::plain_nanp(text, country) {
            return result;
        }
        library(text, country)
    }

    /// The full library, for every form.
    pub fn normalise_with_library(&self, text: &str) -> Result<String, PhoneError> {
        library(text, self.default_country)
    }
}

/// libphonenumber's E.164 for `text` read with `country` as default, or why it refuses it.
fn library(text: &str, country: country::Id) -> Result<String, PhoneError> {
    let text = text.trim();
    let mut number =
        phonenumber::parse(Some(country), text).map_err(|_| PhoneError::Unparseable)?;
    let source = number.code().source();
    if matches!(source, Source::Plus | Source::Idd) {
        let home = home_region(number.code().value());
        if home != Some(country) {
            let text = match source {
                Source::Idd => {
                    Cow::Owned(idd_to_plus(text, country).ok_or(PhoneError::Unparseable)?)
                }
                _ => Cow::Borrowed(text),
            };
            number = phonenumber::parse(home, text).map_err(|_| PhoneError::Unparseable)?;
        }
    }
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Invalid);
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The region whose metadata libphonenumber reads a number of calling code `code` with: the
/// code's main country (`None` for a non-geographic code such as 800).
fn home_region(code: u16) -> Option<country::Id> {
    let regions = DATABASE.by_code(&code)?;
    let main = regions
        .iter()
        .find(|meta| meta.is_main_country_for_code())
        .or(regions.first())?;
    main.id().parse().ok()
}

/// `text` with `country`'s international dialling prefix (`011`, `00`) replaced by `+`, as
/// the library matches that prefix: against the leading digits, separators ignored.
fn idd_to_plus(text: &str, country: country::Id) -> Option<String> {
    let idd = DATABASE.by_id(country.as_ref())?.international_prefix()?;
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let mut digits = String::new();
    // Where in `text` each of `digits` ends.
    let mut ends = Vec::new();
    for (i, c) in text[start..].char_indices() {
        match c {
            '0'..='9' => {
                digits.push(c);
                ends.push(start + i + 1);
            }
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => break,
        }
    }
    let prefix = idd.find(&digits).filter(|m| m.start() == 0)?;
    let end = *ends.get(prefix.end().checked_sub(1)?)?;
    let rest = text[end..].trim_start_matches([' ', '-', '.', '/']);
    Some(format!("+{rest}"))
}
