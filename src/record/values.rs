//! What no value may be, whatever the export (SPEC §10): a control character other than tab,
//! CR and LF, an id no URL path can carry, a key written twice, a body too large to send.

use std::io;

use serde::Serialize;

use super::{Field, RawRecord, Rejection};
use crate::source::{LineField, RawLine};

const CONTROL: &str = "holds a control character (only tab, CR and LF are allowed)";

/// Whether `text` holds a NUL or another C0 control character other than tab, CR and LF.
fn has_control(text: &str) -> bool {
    text.bytes()
        .any(|b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
}

/// A record whose values alone exceed what one body may hold, naming its longest field.
pub(super) fn check_oversized(raw: &RawRecord) -> Result<(), Rejection> {
    match raw.oversized() {
        Some(oversized) => Err(Rejection::new(
            oversized.longest,
            format!(
                "the record's values take {} bytes, over the {} KiB a request body to BlueTape \
                 may hold; this is its longest field",
                oversized.bytes,
                raw.kind.body_limit() / 1024
            ),
        )),
        None => Ok(()),
    }
}

/// The record's own values: its size, its key written twice, its control characters, its id.
pub(super) fn check(raw: &RawRecord) -> Result<(), Rejection> {
    check_oversized(raw)?;
    if let Some((field, key)) = &raw.duplicate_key {
        // A key is the export's text too: a long one is cut, not stored whole.
        let mut shown: String = key.chars().take(64).collect();
        if shown.len() < key.len() {
            shown.push('…');
        }
        return Err(Rejection::new(
            *field,
            format!("the record holds the key `{shown}` twice: which value is meant is unknown"),
        ));
    }
    for field in raw.kind.fields() {
        if raw.get(*field).is_some_and(has_control) {
            return Err(Rejection::new(*field, CONTROL));
        }
    }
    if let Some(id @ ("." | "..")) = raw.get(Field::Id) {
        return Err(Rejection::new(
            Field::Id,
            format!("`{id}` cannot be an id: no URL path can carry it"),
        ));
    }
    for (i, line) in raw.lines.iter().enumerate() {
        check_line(line)
            .map_err(|(field, problem)| line_rejection(i, field, problem.to_owned()))?;
    }
    Ok(())
}

/// One invoice line's values: a control character names the line and its field.
pub(super) fn check_line(line: &RawLine) -> Result<(), (LineField, &'static str)> {
    match LineField::ALL
        .into_iter()
        .find(|field| line.get(*field).is_some_and(has_control))
    {
        Some(field) => Err((field, CONTROL)),
        None => Ok(()),
    }
}

/// `lines: line 2: description: ...`.
pub(super) fn line_rejection(index: usize, field: LineField, problem: String) -> Rejection {
    Rejection::new(
        Field::Lines,
        format!("line {}: {field}: {problem}", index + 1),
    )
}

/// Rejects a body longer than the record's kind may send, naming its longest field.
pub(super) fn check_size(body: &impl Serialize, raw: &RawRecord) -> Result<(), Rejection> {
    let limit = raw.kind.body_limit();
    let mut counted = Counter(0);
    // Counting cannot fail: a body that does not serialize is reported where it is written.
    if serde_json::to_writer(&mut counted, body).is_err() || counted.0 <= limit {
        return Ok(());
    }
    let lines: usize = raw
        .lines
        .iter()
        .flat_map(|line| LineField::ALL.map(|f| line.get(f).map_or(0, str::len)))
        .sum();
    let longest = raw
        .kind
        .fields()
        .iter()
        .map(|field| match field {
            Field::Lines => (lines.max(raw.get(*field).map_or(0, str::len)), *field),
            _ => (raw.get(*field).map_or(0, str::len), *field),
        })
        .max_by_key(|(len, _)| *len)
        .map_or(Field::Id, |(_, field)| field);
    Err(Rejection::new(
        longest,
        format!(
            "the request body would be {} bytes, over the {} KiB BlueTape accepts; this is its \
             longest field",
            counted.0,
            limit / 1024
        ),
    ))
}

/// Counts what is written.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Kind;

    fn customer(id: &str, name: &str) -> RawRecord {
        let mut raw = RawRecord::new(Kind::Customer, "test row 2".into());
        raw.set(Field::Id, id);
        raw.set(Field::FirstName, name);
        raw
    }

    #[test]
    fn control_characters_dot_ids_and_keys_twice_name_their_field() {
        assert_eq!(check(&customer("C1", "Ann\tMarie\r\nLee")), Ok(()));
        for name in ["A\0nn", "Ann\u{1b}[31m", "\u{7}Ann"] {
            let err = check(&customer("C1", name)).expect_err(name);
            assert_eq!(err.field, Field::FirstName);
            assert!(err.problem.contains("control character"), "{err}");
        }
        for id in [".", ".."] {
            let err = check(&customer(id, "Ann")).expect_err(id);
            assert_eq!(err.field, Field::Id, "{err}");
        }
        assert_eq!(check(&customer("...", "Ann")), Ok(()));
        let mut twice = customer("C1", "Ann");
        twice.duplicate_key = Some((Field::EmailAddress, "Email".into()));
        let err = check(&twice).expect_err("twice");
        assert_eq!(
            err.to_string(),
            "emailAddress: the record holds the key `Email` twice: which value is meant is unknown"
        );
    }

    #[test]
    fn a_body_over_the_limit_names_the_longest_field() {
        let raw = customer("C1", &"x".repeat(100));
        let body = serde_json::json!({"id": "C1", "firstName": "x".repeat(100)});
        assert_eq!(check_size(&body, &raw), Ok(()));
        let raw = customer("C1", &"x".repeat(60 * 1024));
        let mut body = serde_json::Map::new();
        for key in ["id", "firstName", "lastName", "emailAddress"] {
            body.insert(key.into(), "x".repeat(20 * 1024).into());
        }
        let err = check_size(&body, &raw).expect_err("too large");
        assert_eq!(err.field, Field::FirstName, "{err}");
        let mut raw = customer("C1", "Ann");
        raw.set(Field::LastName, &"x".repeat(65 * 1024));
        let err = check(&raw).expect_err("oversized");
        assert_eq!(err.field, Field::LastName, "{err}");
    }
}
