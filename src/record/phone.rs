//! The one phone normaliser: a number as written in the export to E.164, or a reason.
//!
//! Most exports write North American numbers in a handful of plain forms (`(626) 555-0100`,
//! `626-555-0100`, `+1 626 555 0100`). Those are read directly (`nanp`), checked against the
//! `phonenumber` crate's own patterns for calling code 1 (loading the metadata of every
//! country takes about 100 ms); every other form goes to the full library. Both routes give
//! the same answer (property tests compare them).
//!
//! The crate departs from libphonenumber where a number carries its own country code (`+49 …`,
//! `011 49 …`): it strips the default country's national prefix from it (with `US`, the `1` of
//! `+49 151 …`, giving `+49 51 …`) and takes all the digits before the first separator for the
//! code (`+1626-555-0100`). Such a number is read again from its `+` and digits, with its own
//! country's national rules, as libphonenumber reads it; `tests/phones.rs` holds the result to
//! libphonenumber's own answers for every region.

mod nanp;
#[cfg(test)]
mod tests;

use phonenumber::PhoneNumber;
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
    let number = read(text.trim(), country).ok_or(PhoneError::Unparseable)?;
    if !phonenumber::is_valid(&number) {
        return Err(PhoneError::Invalid);
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// The number as libphonenumber reads it: the crate finds where the country code is, and a
/// number that carries its own is read again with that country's national rules.
fn read(text: &str, country: country::Id) -> Option<PhoneNumber> {
    let number = phonenumber::parse(Some(country), text);
    match number.as_ref().map(|n| n.code().source()) {
        Ok(Source::Default | Source::Number) => number.ok(),
        Ok(Source::Idd) => read_international(&idd_to_plus(text, country)?).ok(),
        // With a `+`, the default country plays no part (the crate may still have failed on it).
        Ok(Source::Plus) | Err(_) => match read_international(text) {
            Err(phonenumber::ParseError::InvalidCountryCode) => {
                // No country code after the `+`: libphonenumber reads the rest as dialled in
                // `country`, which must then give one (`+011 49 …` from the US).
                let bare = text.trim_start_matches(['+', '＋']);
                if bare.len() == text.len() {
                    return None;
                }
                let number = phonenumber::parse(Some(country), bare).ok()?;
                match number.code().source() {
                    Source::Idd => read_international(&idd_to_plus(bare, country)?).ok(),
                    Source::Number => Some(number),
                    _ => None,
                }
            }
            read => read.ok(),
        },
    }
}

/// A number written with `+` and its country code, read with the national rules of the
/// code's main country, as libphonenumber reads it whatever the default country.
fn read_international(text: &str) -> Result<PhoneNumber, phonenumber::ParseError> {
    match read_at_home(text) {
        // The crate takes all the digits before the first separator for the country code
        // (`+1626-555-0100`); libphonenumber takes the one country code they begin with.
        Err(phonenumber::ParseError::InvalidCountryCode) if text.starts_with(['+', '＋']) => {
            let (digits, tail) = leading_digits(text.trim_start_matches(['+', '＋']));
            read_at_home(&format!("+{digits}{tail}"))
        }
        read => read,
    }
}

/// `text` read with its country code's main country as the default.
fn read_at_home(text: &str) -> Result<PhoneNumber, phonenumber::ParseError> {
    let number = phonenumber::parse(None, text)?;
    match home_region(number.code().value()) {
        Some(home) => phonenumber::parse(Some(home), text),
        None => Ok(number),
    }
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
    let (digits, tail) = leading_digits(&text[start..]);
    let prefix = idd.find(&digits).filter(|m| m.start() == 0)?;
    Some(format!("+{}{tail}", &digits[prefix.end()..]))
}

/// The digits at the start of `text`, separators between them ignored, and what follows the
/// last of them.
fn leading_digits(text: &str) -> (String, &str) {
    let mut digits = String::new();
    let mut end = 0;
    for (i, c) in text.char_indices() {
        match c {
            '0'..='9' => {
                digits.push(c);
                end = i + 1;
            }
            ' ' | '-' | '.' | '(' | ')' | '/' => {}
            _ => break,
        }
    }
    (digits, &text[end..])
}
