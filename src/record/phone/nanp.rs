//! Plain North American numbers, read without loading the library's metadata for every
//! country: the `phonenumber` crate's own patterns for calling code 1, which `build.rs` copies
//! from its metadata, decide validity exactly as the library does.

use std::sync::{LazyLock, OnceLock};

use phonenumber::country;
use regex::{Regex, RegexBuilder};

use super::PhoneError;

/// A North American number in a plain form: ten digits starting 2-9 (the default country
/// being North American) or `+1` and those ten, with only spaces, `(`, `)`, `-` and `.`
/// between them. `None` for any other form, which the library reads.
pub(super) fn plain_nanp(text: &str, country: country::Id) -> Option<Result<String, PhoneError>> {
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
        (false, national) if national.len() == 10 && nanp.has(country) => national,
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
pub(super) static NANP: LazyLock<Option<Nanp>> = LazyLock::new(Nanp::load);

pub(super) struct Nanp {
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
