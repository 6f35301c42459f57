//! Money (SPEC §9): an exact decimal from the export's text or JSON number to the JSON number
//! BlueTape receives, never through binary floating point.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

/// An amount of money, exact to the digit the export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

/// Why an amount could not be read (never contains the value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("not a number")]
    NotANumber,
    #[error("more digits than an amount can have (28)")]
    TooPrecise,
}

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);
    pub const ONE: Amount = Amount(Decimal::ONE);

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    pub fn checked_mul(self, other: Amount) -> Option<Amount> {
        self.0.checked_mul(other.0).map(Amount)
    }

    /// The JSON number BlueTape receives: the exact decimal, trailing zeros dropped
    /// (`1222.00` → `1222`).
    pub fn to_json(self) -> serde_json::Number {
        // Decimal's text is always a valid JSON number, and serde_json keeps a number's text
        // as written (`arbitrary_precision`).
        serde_json::Number::from_str(&self.to_string()).unwrap_or_else(|_| 0.into())
    }

    /// A JSON number from the export, exactly as written (`1234.5`, `1e3`, `-0.10`).
    pub fn from_json(number: &serde_json::Number) -> Result<Self, AmountError> {
        parse_plain(&number.to_string())
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let normal = self.0.normalize();
        if normal.is_zero() {
            // No `-0`.
            return f.write_str("0");
        }
        write!(f, "{normal}")
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    /// An amount as an export writes it: `1234.5`, `1,234.50`, `$1,234.50`, `-12.00`,
    /// `(12.00)` (negative), `1 234,50` and `1.234,50` (a decimal comma), `1e3`. A comma
    /// alone is a thousands separator when every group after it has three digits (`1,234`),
    /// else the decimal comma (`12,5`).
    fn from_str(text: &str) -> Result<Self, AmountError> {
        let mut text = text.trim();
        let mut negative = false;
        if let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            negative = true;
            text = inner.trim();
        }
        if let Some(rest) = text.strip_prefix('-') {
            negative = !negative;
            text = rest.trim_start();
        } else if let Some(rest) = text.strip_prefix('+') {
            text = rest.trim_start();
        }
        let text = text
            .trim_start_matches(CURRENCY)
            .trim_end_matches(CURRENCY)
            .trim();
        let plain = plain_digits(text).ok_or(AmountError::NotANumber)?;
        let amount = parse_plain(&plain)?;
        Ok(if negative { Amount(-amount.0) } else { amount })
    }
}

const CURRENCY: &[char] = &['$', '€', '£', '¥', '₹', ' ', '\u{a0}'];

/// The number with `.` as its only separator, or `None` when it is not one. Group separators
/// (`,` or `.`, whichever is not the decimal one, a space, `'`) must group by three.
fn plain_digits(text: &str) -> Option<String> {
    if text.contains(['e', 'E']) {
        return Some(text.to_owned());
    }
    let decimal = match (text.rfind(','), text.rfind('.')) {
        (Some(c), Some(d)) => Some(c.max(d)),
        (None, Some(d)) => Some(d),
        // `1,234` groups thousands; `12,5` has a decimal comma.
        (Some(c), None) if text.len() - c - 1 == 3 => None,
        (Some(c), None) => Some(c),
        (None, None) => None,
    };
    let (whole, fraction) = match decimal {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let point = decimal.map(|at| &text[at..=at]);
    let groups: Vec<&str> = whole
        .split(|c: char| {
            matches!(c, ',' | '.' | ' ' | '\'' | '\u{a0}' | '\u{202f}')
                && point != Some(c.encode_utf8(&mut [0; 4]))
        })
        .collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let grouped_well = match groups.as_slice() {
        [only] => (only.is_empty() && fraction.is_some()) || digits(only),
        [first, rest @ ..] => {
            digits(first) && first.len() <= 3 && rest.iter().all(|g| g.len() == 3 && digits(g))
        }
        [] => false,
    };
    if !grouped_well || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    let whole = groups.concat();
    Some(match fraction {
        Some(f) => format!("{whole}.{f}"),
        None => whole,
    })
}

/// A plain decimal (digits, one `.`, a sign) or a scientific number (`1e3`). A plain decimal
/// that does not parse has too many digits.
fn parse_plain(text: &str) -> Result<Amount, AmountError> {
    if text.contains(['e', 'E']) {
        return Decimal::from_scientific(text)
            .map(Amount)
            .map_err(|_| AmountError::NotANumber);
    }
    Decimal::from_str_exact(text)
        .map(Amount)
        .map_err(|_| AmountError::TooPrecise)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Amount {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn every_way_an_export_writes_an_amount() {
        for (text, value) in [
            ("1234.5", "1234.5"),
            ("1,234.50", "1234.5"),
            ("$1,234.50", "1234.5"),
            (" 1234.50 ", "1234.5"),
            ("-12.00", "-12"),
            ("(12.00)", "-12"),
            ("-$12.00", "-12"),
            ("1 234,50", "1234.5"),
            ("1.234,50", "1234.5"),
            ("1.234.567,89", "1234567.89"),
            ("1,234", "1234"),
            ("1,234,567", "1234567"),
            ("12,5", "12.5"),
            ("1234,50", "1234.5"),
            ("0.10", "0.1"),
            (".5", "0.5"),
            ("1e3", "1000"),
            ("1.5E-2", "0.015"),
            ("€ 99,99", "99.99"),
            ("1'234.50", "1234.5"),
            ("0", "0"),
            ("-0.00", "0"),
            ("1234567.89", "1234567.89"),
        ] {
            assert_eq!(amount(text).to_string(), value, "{text}");
        }
    }

    #[test]
    fn what_is_not_a_number_is_an_error() {
        for text in [
            "", "abc", "12.3.4", "1,23,4", "12a", "--1", "1,2,3", ",", ".", "1.2,3,4", "12 34",
            "1,2345.6", "$", "1.",
        ] {
            assert_eq!(
                text.parse::<Amount>(),
                Err(AmountError::NotANumber),
                "{text}"
            );
        }
        assert_eq!(
            "123456789012345678901234567890".parse::<Amount>(),
            Err(AmountError::TooPrecise)
        );
    }

    #[test]
    fn arithmetic_is_decimal_not_binary() {
        let sum = amount("0.1").checked_add(amount("0.2")).expect("sum");
        assert_eq!(sum.to_string(), "0.3");
        let product = amount("19.99").checked_mul(amount("3")).expect("product");
        assert_eq!(product.to_string(), "59.97");
        let difference = amount("1234567.89")
            .checked_sub(amount("0.01"))
            .expect("difference");
        assert_eq!(difference.to_string(), "1234567.88");
    }

    #[test]
    fn the_json_number_is_the_exact_decimal() {
        for (text, json) in [
            ("0.3", "0.3"),
            ("1234567.89", "1234567.89"),
            ("1222.00", "1222"),
            ("-5.10", "-5.1"),
            ("12345678901234567890.12", "12345678901234567890.12"),
        ] {
            let body = serde_json::to_string(&amount(text)).expect("json");
            assert_eq!(body, json);
        }
        let sum = amount("0.1").checked_add(amount("0.2")).expect("sum");
        assert_eq!(serde_json::to_string(&sum).expect("json"), "0.3");
    }

    #[test]
    fn a_json_number_is_read_as_written() {
        let value: serde_json::Value =
            serde_json::from_str(r#"[1234567.89, 0.1, 12345678901234567890.12, 1e2]"#)
                .expect("json");
        let read: Vec<String> = value
            .as_array()
            .expect("array")
            .iter()
            .map(|n| {
                Amount::from_json(n.as_number().expect("number"))
                    .expect("amount")
                    .to_string()
            })
            .collect();
        assert_eq!(
            read,
            ["1234567.89", "0.1", "12345678901234567890.12", "100"]
        );
    }
}
