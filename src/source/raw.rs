//! A record as the export holds it: the API fields it maps, as text, before any checking.

use sha2::{Digest, Sha256};

use super::fields::{Field, Kind, LineField};

/// One line of an invoice as read from the export, its fields trimmed, `None` when absent or
/// empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawLine {
    values: [Option<String>; LineField::ALL.len()],
}

impl RawLine {
    pub fn set(&mut self, field: LineField, value: &str) {
        let value = value.trim();
        self.values[field as usize] = (!value.is_empty()).then(|| value.to_owned());
    }

    pub fn get(&self, field: LineField) -> Option<&str> {
        self.values[field as usize].as_deref()
    }
}

/// The longest id an oversized record keeps, so that its rejection is stored under it.
const SHORT_ID: usize = 1024;

/// A record whose values exceed what one request body may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Oversized {
    pub longest: Field,
    pub longest_bytes: usize,
    /// All its values' bytes.
    pub bytes: usize,
}

/// One record as read from the export: the mapped fields of its kind, trimmed, `None` when
/// absent or empty, and an invoice's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub kind: Kind,
    /// Where it was read, for messages: `file:line`.
    pub location: String,
    /// In [`Kind::fields`] order.
    values: Vec<Option<String>>,
    pub lines: Vec<RawLine>,
    /// Set once the values exceed what one request body may hold: the record cannot be sent,
    /// so its values (but a short id) are not kept, and a file of such rows stays small.
    oversized: Option<Oversized>,
    /// The bytes of the values set so far.
    bytes: usize,
    /// A key the record holds twice (a JSON object), and the field it is read for (`id` when
    /// none): the record is rejected naming it.
    pub duplicate_key: Option<(Field, String)>,
    /// The export marks it as an organisation's (`source.organisation`): its whole name is
    /// never split into a person's.
    pub organisation: bool,
}

impl RawRecord {
    pub fn new(kind: Kind, location: String) -> Self {
        Self {
            kind,
            location,
            values: vec![None; kind.fields().len()],
            lines: Vec::new(),
            oversized: None,
            bytes: 0,
            duplicate_key: None,
            organisation: false,
        }
    }

    /// Sets a field of the record's kind (another kind's field is not kept).
    pub fn set(&mut self, field: Field, value: &str) {
        let Some(slot) = field.slot(self.kind) else {
            return;
        };
        let value = value.trim();
        self.bytes += value.len();
        if self.oversized.is_none() && self.bytes > self.kind.body_limit() {
            let held = self
                .kind
                .fields()
                .iter()
                .map(|f| (self.get(*f).map_or(0, str::len), *f));
            let (longest_bytes, longest) = held
                .chain([(value.len(), field)])
                .max_by_key(|(len, _)| *len)
                .unwrap_or((value.len(), field));
            self.oversized = Some(Oversized {
                longest,
                longest_bytes,
                bytes: 0,
            });
            for (place, kept) in self.values.iter_mut().enumerate() {
                if place != 0 || kept.as_ref().is_some_and(|id| id.len() > SHORT_ID) {
                    *kept = None;
                }
            }
        }
        if let Some(oversized) = &mut self.oversized {
            oversized.bytes = self.bytes;
            if value.len() > oversized.longest_bytes {
                oversized.longest = field;
                oversized.longest_bytes = value.len();
            }
            if field != Field::Id || value.len() > SHORT_ID {
                return;
            }
        }
        self.values[slot] = (!value.is_empty()).then(|| value.to_owned());
    }

    /// Whether its values exceed what one request body may hold, and which is the longest.
    pub fn oversized(&self) -> Option<Oversized> {
        self.oversized
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field.slot(self.kind)?].as_deref()
    }

    /// About how many bytes of text the record holds (its values, its lines, its location):
    /// what a pass counts to bound the records it holds at once.
    pub fn held_bytes(&self) -> usize {
        let text = |v: &Option<String>| v.as_ref().map_or(0, String::len);
        let values: usize = self.values.iter().map(text).sum();
        let lines: usize = (self.lines.iter())
            .flat_map(|line| line.values.iter().map(text))
            .sum();
        values + lines + self.location.len()
    }

    /// A digest of the record's content (its kind's fields), to notice a changed record that
    /// has no usable date.
    /// How the accounting system shows the record, for finding it: a customer's display
    /// name, else its first and last name, else its whole name; an invoice's number.
    pub fn shown_name(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self.kind {
            Kind::Invoice => self.get(Field::InvoiceNumber).map(Cow::Borrowed),
            Kind::Customer => self
                .get(Field::DisplayName)
                .map(Cow::Borrowed)
                .or_else(
                    || match (self.get(Field::FirstName), self.get(Field::LastName)) {
                        (Some(first), Some(last)) => Some(Cow::Owned(format!("{first} {last}"))),
                        (one, other) => one.or(other).map(Cow::Borrowed),
                    },
                )
                .or_else(|| self.get(Field::FullName).map(Cow::Borrowed)),
        }
    }

    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for (field, value) in self.kind.fields().iter().zip(&self.values) {
            if field.only_when_mapped() {
                if let Some(value) = value {
                    hasher.update(field.api_name().as_bytes());
                    hasher.update([0x1d]);
                    hasher.update(value.as_bytes());
                    hasher.update([0x1f]);
                }
                continue;
            }
            hasher.update(value.as_deref().unwrap_or("").as_bytes());
            hasher.update([0x1f]);
        }
        if let Some(oversized) = self.oversized {
            hasher.update(format!("{oversized:?}").as_bytes());
        }
        for line in &self.lines {
            hasher.update([0x1e]);
            for value in &line.values {
                hasher.update(value.as_deref().unwrap_or("").as_bytes());
                hasher.update([0x1f]);
            }
        }
        hasher
            .finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_keeps_its_fields_in_its_own_order() {
        for kind in Kind::ALL {
            for (place, field) in kind.fields().iter().enumerate() {
                assert_eq!(field.slot(kind), Some(place), "{kind} {field}");
            }
            for field in Field::ALL {
                if !kind.fields().contains(&field) {
                    assert_eq!(field.slot(kind), None, "{kind} {field}");
                }
            }
        }
        let mut invoice = RawRecord::new(Kind::Invoice, "here".into());
        invoice.set(Field::FirstName, "Ada");
        invoice.set(Field::AmountDue, " 1.10 ");
        assert_eq!(invoice.get(Field::FirstName), None);
        assert_eq!(invoice.get(Field::AmountDue), Some("1.10"));
    }

    /// A store keeps content hashes across versions: a field added to a kind changes no hash
    /// of a record that does not have it (else every record dated by its content would look
    /// changed after an upgrade).
    #[test]
    fn content_hashes_stay_the_same_across_versions() {
        let mut raw = RawRecord::new(Kind::Customer, "here".into());
        for (field, value) in [
            (Field::Id, "C1"),
            (Field::FirstName, "Ann"),
            (Field::LastName, "Lee"),
            (Field::EmailAddress, "ann@example.com"),
            (Field::CellPhoneNumber, "+16265550100"),
        ] {
            raw.set(field, value);
        }
        assert_eq!(raw.content_hash(), "8fec518eebdb42cd5c681a471aadd784");
        let mut invoice = RawRecord::new(Kind::Invoice, "here".into());
        invoice.set(Field::Id, "I1");
        invoice.set(Field::AmountDue, "1.10");
        assert_eq!(invoice.content_hash(), "343c6874b56cb1c4688581df643c804e");
    }

    #[test]
    fn a_record_over_the_body_limit_keeps_only_a_short_id() {
        let mut raw = RawRecord::new(Kind::Customer, "here".into());
        raw.set(Field::Id, "C1");
        raw.set(Field::FirstName, "Ann");
        assert_eq!(raw.oversized(), None);
        raw.set(Field::LastName, &"x".repeat(70 * 1024));
        raw.set(Field::EmailAddress, "a@example.com");
        assert_eq!(
            raw.oversized(),
            Some(Oversized {
                longest: Field::LastName,
                longest_bytes: 70 * 1024,
                bytes: 70 * 1024 + 2 + 3 + 13
            })
        );
        assert_eq!(raw.get(Field::Id), Some("C1"));
        assert_eq!(raw.get(Field::FirstName), None);
        assert_eq!(raw.get(Field::EmailAddress), None);
    }
}
