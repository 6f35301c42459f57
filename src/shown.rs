//! Values from an export or from BlueTape as a person reads them (SPEC §10): in text logs,
//! journald and tables every control character (C0, DEL, C1) and bidirectional override is
//! shown as an escape, so no value can forge a log line or drive a terminal; in CSV for
//! spreadsheets a cell that a spreadsheet would run as a formula is neutralised.

use std::fmt;

/// `value` with control characters and bidirectional overrides escaped (`\n`, `\u{1b}`), and
/// `\` doubled so that an escape can always be told from the text.
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let mut plain = 0;
        for (at, c) in text.char_indices() {
            let escape = match c {
                '\\' => Some("\\\\"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            if escape.is_none() && !needs_escape(c) {
                continue;
            }
            f.write_str(&text[plain..at])?;
            match escape {
                Some(e) => f.write_str(e)?,
                None => write!(f, "\\u{{{:x}}}", c as u32)?,
            }
            plain = at + c.len_utf8();
        }
        f.write_str(&text[plain..])
    }
}

/// Whether `c` must not reach a terminal or a log as itself.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `value` as text for a person: escaped only where it needs it.
pub fn shown(value: &str) -> std::borrow::Cow<'_, str> {
    if value.chars().any(|c| c == '\\' || needs_escape(c)) {
        std::borrow::Cow::Owned(Shown(value).to_string())
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// A CSV cell safe for a spreadsheet (OWASP's CSV-injection advice): one beginning with `=`,
/// `+`, `-`, `@`, tab or CR gets a leading `'`, unless it is a phone number or a number (a
/// sign followed only by digits, spaces, `.`, `(`, `)` and `-`).
pub fn spreadsheet_cell(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = value
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if !risky || is_number_like(value) {
        return std::borrow::Cow::Borrowed(value);
    }
    std::borrow::Cow::Owned(format!("'{value}"))
}

/// `+14155550123`, `-12.5`, `+1 (415) 555-0123`: a sign then only digits and number marks.
fn is_number_like(value: &str) -> bool {
    let Some(rest) = value.strip_prefix(['+', '-']) else {
        return false;
    };
    rest.chars().any(|c| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '(' | ')' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_overrides_are_escaped() {
        let cases = [
            ("plain id C-17", "plain id C-17"),
            ("bad\nWARN forged line", "bad\\nWARN forged line"),
            (
                "\u{1b}]0;owned\u{7}\u{1b}[2J",
                "\\u{1b}]0;owned\\u{7}\\u{1b}[2J",
            ),
            ("a\\nb", "a\\\\nb"),
            ("tab\there\r", "tab\\there\\r"),
            ("del\u{7f} c1\u{9b}", "del\\u{7f} c1\\u{9b}"),
            ("abc\u{202e}fed\u{2066}", "abc\\u{202e}fed\\u{2066}"),
            ("Zoë Ærø 山田", "Zoë Ærø 山田"),
        ];
        for (raw, expected) in cases {
            assert_eq!(Shown(raw).to_string(), expected, "{raw:?}");
            assert_eq!(shown(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn formulas_are_neutralised_but_numbers_and_phones_are_not() {
        let cases = [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("+14155550123", "+14155550123"),
            ("+1 (415) 555-0123", "+1 (415) 555-0123"),
            ("-12.5", "-12.5"),
            ("-", "'-"),
            ("ada@example.com", "ada@example.com"),
            (
                "https://app.bluetape.com/s/1",
                "https://app.bluetape.com/s/1",
            ),
            ("", ""),
        ];
        for (raw, expected) in cases {
            assert_eq!(spreadsheet_cell(raw), expected, "{raw:?}");
        }
    }
}
