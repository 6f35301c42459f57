//! The one phone normaliser: a number as written in the export to E.164, or a reason.
//!
//! Most exports write North American numbers in a handful of plain forms (`(626) 555-0100`,
//! `626-555-0100`, `+1 626 555 0100`). Those are read here directly and checked against the
//! `phonenumber` crate's own patterns for calling code 1, which `build.rs` copies from its
//! metadata (loading the metadata of every country takes about 100 ms); every other form goes
//! to the full library. Both routes give the same answer (property tests compare them).

use std::sync::{LazyLock, OnceLock};

use phonenumber::country;
use regex::{Regex, RegexBuilder};

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
        if let Some(result) = self.plain_nanp(text) {
            return result;
        }
        self.normalise_with_library(text)
    }

    /// The full library, for every form.
    pub fn normalise_with_library(&self, text: &str) -> Result<String, PhoneError> {
        let number = phonenumber::parse(Some(self.default_country), text.trim())
            .map_err(|_| PhoneError::Unparseable)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(number.format().mode(phonenumber::Mode::E164).to_string())
    }

    /// A North American number in a plain form: ten digits starting 2-9 (the default country
    /// being North American) or `+1` and those ten, with only spaces, `(`, `)`, `-` and `.`
    /// between them. `None` for any other form, which the library reads.
    fn plain_nanp(&self, text: &str) -> Option<Result<String, PhoneError>> {
        let text = text.trim();
        let (plus, rest) = match text.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if plus {
            // The calling code must stand alone (`+1 `, `+1-`, `+1(`, `+1.`) or be followed by
            // ten digits unbroken: the library reads `+1626-555-0100` as calling code 1626.
            let after = rest.strip_prefix('1')?;
            let alone = matches!(after.bytes().next(), Some(b' ' | b'(' | b'-' | b'.'));
            let unbroken = after.len() == 10 && after.bytes().all(|b| b.is_ascii_digit());
            if !(alone || unbroken) {
                return None;
            }
        }
        let mut digits = [0u8; 11];
        let mut len = 0;
        for b in rest.bytes() {
            match b {
                b'0'..=b'9' => {
                    *digits.get_mut(len)? = b;
                    len += 1;
                }
                b' ' | b'(' | b')' | b'-' | b'.' => {}
                _ => return None,
            }
        }
        let nanp = NANP.as_ref()?;
        let national = match (plus, &digits[..len]) {
            (true, [b'1', national @ ..]) if national.len() == 10 => national,
            (false, national) if national.len() == 10 && nanp.has(self.default_country) => national,
            _ => return None,
        };
        if !matches!(national[0], b'2'..=b'9') {
            return None;
        }
        let national = std::str::from_utf8(national).ok()?;
        Some(if nanp.is_valid(national)? {
            Ok(format!("+1{national}"))
        } else {
            Err(PhoneError::Invalid)
        })
    }
}

/// The library's patterns for calling code 1, region by region in the library's order, as
/// `build.rs` copied them from its metadata.
static NANP_PATTERNS: &[RegionPatterns] = include!(concat!(env!("OUT_DIR"), "/nanp.rs"));

struct RegionPatterns {
    country: &'static str,
    leading: Option<&'static str>,
    general: (&'static str, &'static [u16]),
    types: &'static [(&'static str, &'static [u16])],
}

/// Those patterns compiled, once, when the first number is read.
static NANP: LazyLock<Option<Nanp>> = LazyLock::new(Nanp::load);

struct Nanp {
    regions: Vec<Region>,
}

struct Region {
    /// The leading digits that pick this region, when it has them.
    leading: Option<Regex>,
    /// Its number patterns, compiled when a number first needs them.
    patterns: OnceLock<Option<Patterns>>,
    source: &'static RegionPatterns,
}

struct Patterns {
    general: Pattern,
    /// Every number type the library knows; a number of none of them is invalid.
    types: Vec<Pattern>,
}

/// One of the library's number patterns: it matches at the start of the national number,
/// whose length must be one of `lengths` (when there are any), as the library decides.
struct Pattern {
    regex: Regex,
    lengths: &'static [u16],
}

impl Nanp {
    /// `None` if a pattern does not compile: then every number goes to the library.
    fn load() -> Option<Nanp> {
        let regions = NANP_PATTERNS
            .iter()
            .map(|source| {
                Some(Region {
                    leading: match source.leading {
                        Some(leading) => Some(anchored(leading)?),
                        None => None,
                    },
                    patterns: OnceLock::new(),
                    source,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Nanp { regions })
    }

    fn has(&self, country: country::Id) -> bool {
        self.regions
            .iter()
            .any(|r| r.source.country == country.as_ref())
    }

    /// The library's `is_valid` for a national number of calling code 1: the first region
    /// whose leading digits match (or, without them, that knows the number's type), then
    /// whether that region knows its type. `None` if a pattern does not compile.
    fn is_valid(&self, national: &str) -> Option<bool> {
        for region in &self.regions {
            let picked = match &region.leading {
                Some(leading) => leading.is_match(national),
                None => region.knows(national)?,
            };
            if picked {
                return region.knows(national);
            }
        }
        Some(false)
    }
}

impl Region {
    fn knows(&self, national: &str) -> Option<bool> {
        let patterns = self
            .patterns
            .get_or_init(|| Patterns::load(self.source))
            .as_ref()?;
        Some(
            patterns.general.matches(national)
                && patterns.types.iter().any(|t| t.matches(national)),
        )
    }
}

impl Patterns {
    fn load(source: &RegionPatterns) -> Option<Patterns> {
        Some(Patterns {
            general: Pattern::load(source.general)?,
            types: source
                .types
                .iter()
                .map(|t| Pattern::load(*t))
                .collect::<Option<_>>()?,
        })
    }
}

impl Pattern {
    fn load((pattern, lengths): (&'static str, &'static [u16])) -> Option<Pattern> {
        Some(Pattern {
            regex: anchored(pattern)?,
            lengths,
        })
    }

    fn matches(&self, national: &str) -> bool {
        let length_ok = self.lengths.is_empty()
            || u16::try_from(national.len()).is_ok_and(|len| self.lengths.contains(&len));
        length_ok && self.regex.is_match(national)
    }
}

/// The library's pattern as it compiles it (whitespace ignored), matching only at the start.
fn anchored(pattern: &str) -> Option<Regex> {
    RegexBuilder::new(&format!("^(?:{pattern}\n)"))
        .ignore_whitespace(true)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> PhoneNormaliser {
        PhoneNormaliser::new(country::Id::US)
    }

    #[test]
    fn common_forms_become_e164() {
        for input in [
            "+1 626 555 0100",
            "(626) 555-0100",
            "626-555-0100",
            "626.555.0100",
            "6265550100",
            "1 626 555 0100",
            "+16265550100",
            "tel:+1-626-555-0100",
            " 626 555 0100 ",
        ] {
            assert_eq!(
                us().normalise(input).as_deref(),
                Ok("+16265550100"),
                "{input}"
            );
        }
        assert_eq!(
            us().normalise("+44 7911 123456").as_deref(),
            Ok("+447911123456")
        );
        assert_eq!(
            us().normalise("011 44 7911 123456").as_deref(),
            Ok("+447911123456")
        );
        let gb = PhoneNormaliser::new(country::Id::GB);
        assert_eq!(gb.normalise("07911 123456").as_deref(), Ok("+447911123456"));
    }

    #[test]
    fn plain_north_american_forms_take_the_direct_route() {
        assert!(NANP.is_some(), "the library's metadata could not be read");
        for input in [
            "(626) 555-0100",
            "626.555.0100",
            "+1 626 555 0100",
            "+16265550100",
        ] {
            assert_eq!(
                us().plain_nanp(input),
                Some(Ok("+16265550100".to_owned())),
                "{input}"
            );
        }
        assert_eq!(us().plain_nanp("+11234567890"), None, "starts with 1");
        // The library reads the digits before the first dash as the calling code (1626).
        assert_eq!(us().plain_nanp("+1626-555-0100"), None);
        assert_eq!(
            us().normalise("+1626-555-0100"),
            Err(PhoneError::Unparseable)
        );
        assert_eq!(
            us().plain_nanp("+1 200 555 0100"),
            Some(Err(PhoneError::Invalid))
        );
        for other in [
            "tel:+1-626-555-0100",
            "1 626 555 0100",
            "+44 7911 123456",
            "626 555 0100 x2",
        ] {
            assert_eq!(us().plain_nanp(other), None, "{other}");
        }
        let gb = PhoneNormaliser::new(country::Id::GB);
        assert_eq!(gb.plain_nanp("6265550100"), None);
        assert_eq!(
            gb.plain_nanp("+1 626 555 0100"),
            Some(Ok("+16265550100".into()))
        );
    }

    /// Both routes agree on every area code with a spread of exchanges and lines.
    #[test]
    fn the_direct_route_agrees_with_the_library_on_every_area_code() {
        let countries = [country::Id::US, country::Id::CA, country::Id::JM];
        let mut direct = 0;
        for area in 200..=999u32 {
            for (i, exchange) in [200u32, 311, 555, 649, 787, 911, 999]
                .into_iter()
                .enumerate()
            {
                let line = (area * 7919 + exchange * 104_729) % 10_000;
                let written = if i % 2 == 0 {
                    format!("({area}) {exchange}-{line:04}")
                } else {
                    format!("+1 {area} {exchange} {line:04}")
                };
                let phones = PhoneNormaliser::new(countries[i % countries.len()]);
                direct += usize::from(phones.plain_nanp(&written).is_some());
                assert_eq!(
                    phones.normalise(&written),
                    phones.normalise_with_library(&written),
                    "{written}"
                );
            }
        }
        assert_eq!(direct, 800 * 7);
    }

    mod agrees_with_the_library {
        use super::*;
        use proptest::prelude::*;

        fn countries() -> impl Strategy<Value = country::Id> {
            prop::sample::select(vec![
                country::Id::US,
                country::Id::CA,
                country::Id::PR,
                country::Id::JM,
                country::Id::GB,
                country::Id::DE,
            ])
        }

        /// Ten or eleven digits, maybe a `+` or `1` first, with separators anywhere.
        fn written_numbers() -> impl Strategy<Value = String> {
            let prefix = prop::sample::select(vec!["", "+1", "1", "+", "+1 ", "+ 1", "+(1)", " "]);
            let digits = prop::collection::vec(0u8..10, 9..=11);
            let separators = prop::collection::vec(
                prop::sample::select(vec!["", "", "", " ", "-", ".", "(", ")", ") ", "--", "/"]),
                12,
            );
            (prefix, digits, separators).prop_map(|(prefix, digits, separators)| {
                let mut out = prefix.to_owned();
                for (d, sep) in digits.iter().zip(&separators) {
                    out.push(char::from(b'0' + d));
                    out.push_str(sep);
                }
                out
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            #[test]
            fn on_written_numbers(country in countries(), text in written_numbers()) {
                let phones = PhoneNormaliser::new(country);
                prop_assert_eq!(phones.normalise(&text), phones.normalise_with_library(&text));
            }

            #[test]
            fn on_any_text_of_phone_characters(
                country in countries(),
                text in "[0-9 ()+.-]{0,20}",
            ) {
                let phones = PhoneNormaliser::new(country);
                prop_assert_eq!(phones.normalise(&text), phones.normalise_with_library(&text));
            }
        }
    }

    #[test]
    fn invalid_numbers_are_refused_not_mangled() {
        // No US area code 123.
        assert_eq!(us().normalise("+11234567890"), Err(PhoneError::Invalid));
        assert_eq!(us().normalise("555-0100"), Err(PhoneError::Invalid));
        assert_eq!(us().normalise("626 555 01"), Err(PhoneError::Invalid));
        assert!(us().normalise("call me").is_err());
        assert!(us().normalise("").is_err());
    }
}
