//! The form of an export's dates: one SPEC §3 accepts, else a strftime form that fits.

use chrono_tz::Tz;

use crate::source::timestamp::TimestampParser;

/// The form every sampled date is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateForm {
    /// One of the forms SPEC §3 accepts; `naive` without a zone (read in `source.timezone`).
    Accepted { form: &'static str, naive: bool },
    /// Only this strftime form fits.
    Format { format: &'static str, naive: bool },
    /// No form fits every value; one that does not fit.
    Unreadable { example: String },
}

/// strftime forms tried when no accepted form fits every value, the commonest first.
#[rustfmt::skip]
const FORMATS: &[&str] = &[
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %I:%M:%S %p", "%d/%m/%Y %I:%M %p", "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d %H:%M:%S",
    "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%d %b %Y",
    "%b %d, %Y %I:%M:%S %p", "%b %d, %Y %I:%M %p", "%b %d, %Y",
    "%Y%m%d%H%M%S",
];

/// Which form every value is in: one SPEC §3 accepts, else a strftime form.
pub fn date_form(values: &[String]) -> DateForm {
    let Some(first) = values.first() else {
        return DateForm::Unreadable {
            example: String::new(),
        };
    };
    let fits = |format: Option<&str>| {
        let utc = TimestampParser::new(Tz::UTC, format.map(str::to_owned));
        let tokyo = TimestampParser::new(Tz::Asia__Tokyo, format.map(str::to_owned));
        let mut naive = false;
        for value in values {
            match (utc.parse(value), tokyo.parse(value)) {
                (Ok(a), Ok(b)) => naive |= a != b,
                _ => return None,
            }
        }
        Some(naive)
    };
    if let Some(naive) = fits(None) {
        return DateForm::Accepted {
            form: accepted_form(first),
            naive,
        };
    }
    for format in FORMATS {
        if let Some(naive) = fits(Some(format)) {
            return DateForm::Format { format, naive };
        }
    }
    let utc = TimestampParser::new(Tz::UTC, None);
    let example = values
        .iter()
        .find(|v| utc.parse(v).is_err())
        .unwrap_or(first)
        .clone();
    DateForm::Unreadable { example }
}

fn accepted_form(example: &str) -> &'static str {
    let t = example.trim();
    if t.starts_with("/Date(") {
        "Xero's /Date(milliseconds+zone)/"
    } else if t.bytes().all(|b| b.is_ascii_digit()) {
        "milliseconds since 1970"
    } else if t.contains('/') {
        "month-first slash date-time (01/04/2023 09:47:57 is 4 January)"
    } else if t.ends_with(['Z', 'z'])
        || t.rfind(['+', '-'])
            .is_some_and(|i| i > 10 && t[i + 1..].bytes().all(|b| b.is_ascii_digit() || b == b':'))
    {
        "ISO 8601 / RFC 3339 with a zone"
    } else {
        "ISO 8601 date-time without a zone"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn date_forms_from_values() {
        let accepted = |values: &[&str]| date_form(&strings(values));
        assert_eq!(
            accepted(&["2024-02-17T11:13:46-08:00", "2013-11-08T18:24:51+0530"]),
            DateForm::Accepted {
                form: "ISO 8601 / RFC 3339 with a zone",
                naive: false
            }
        );
        assert_eq!(
            accepted(&["01/09/2019 22:01:29", "12/31/2019 08:00:00"]),
            DateForm::Accepted {
                form: "month-first slash date-time (01/04/2023 09:47:57 is 4 January)",
                naive: true
            }
        );
        assert_eq!(
            accepted(&["2022-01-05 07:17:12"]),
            DateForm::Accepted {
                form: "ISO 8601 date-time without a zone",
                naive: true
            }
        );
        assert_eq!(
            accepted(&["/Date(1488338552390+0000)/"]),
            DateForm::Accepted {
                form: "Xero's /Date(milliseconds+zone)/",
                naive: false
            }
        );
        // A day over 12 in first place: day first, only a strftime form fits.
        assert_eq!(
            accepted(&["04/01/2023 09:47", "25/12/2023 18:00"]),
            DateForm::Format {
                format: "%d/%m/%Y %H:%M",
                naive: true
            }
        );
        assert_eq!(
            accepted(&["31.12.2023 23:59:59"]),
            DateForm::Format {
                format: "%d.%m.%Y %H:%M:%S",
                naive: true
            }
        );
        assert_eq!(
            accepted(&["2024-01-01", "soon"]),
            DateForm::Unreadable {
                example: "soon".into()
            }
        );
    }
}
