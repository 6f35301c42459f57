//! What an export nobody has mapped is (SPEC §3, `init`): its encoding, format, delimiter and
//! records array, the preset whose shape it has, which column holds each field, and the form
//! of its dates, all from its first records. Reads no further than [`SAMPLE`] records.

use std::io::{Cursor, Read};
use std::path::Path;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use serde_json::Value;

pub use self::dates::{DateForm, date_form};
use self::names::{looks_like_invoices, map_columns};
use self::sample::{sample_csv, sample_json, sample_ndjson};
use super::decode::{self, Undecodable};
use super::guard::{Broken, CsvGuard};
use super::mapping::{FieldMap, FieldSource, Path as FieldPath, SourceFormat};
use super::presets::{Preset, PresetDefaults};
use super::size::ByteSize;
use super::{Field, Kind, SourceError, open_regular, unreadable};

mod dates;
mod names;
mod sample;

/// The header tag of an IIF file's customer list.
const IIF_CUSTOMERS: &str = "!CUST";

/// How many records detection reads at most.
pub const SAMPLE: usize = 200;
/// How much of the start of a file decides its encoding, format and delimiter.
const HEAD: usize = 64 * 1024;
/// How much of a file's text detection reads at most, so that memory never follows the file.
const PREFIX: u64 = 8 * 1024 * 1024;

/// What an export was found to be.
#[derive(Debug, Clone)]
pub struct Detected {
    pub format: SourceFormat,
    pub encoding: &'static Encoding,
    /// CSV only.
    pub delimiter: u8,
    /// JSON only: where the records array is, dotted; empty for a top-level array.
    pub records_path: String,
    pub preset: Option<Preset>,
    /// What the records are: customers, or (a preset's invoice export) invoices.
    pub kind: Kind,
    /// Every column (CSV) or key path (JSON) seen in the sample, in order.
    pub columns: Vec<String>,
    /// Without a preset: the column found for each field.
    pub fields: FieldMap,
    /// Why each field's column was taken.
    pub reasons: Vec<(Field, String)>,
    /// The form of the modified dates, when a column holds them.
    pub dates: Option<DateForm>,
    /// How many records were sampled.
    pub sampled: usize,
    /// The sampled phone numbers and countries (where a column holds them), for the country
    /// of numbers written without `+country`.
    pub phones: Vec<String>,
    pub countries: Vec<String>,
}

/// Reads the start of `path` and says what the export is.
pub fn detect(path: &Path) -> Result<Detected, SourceError> {
    let file = open_regular(path)?;
    let mut head = Vec::with_capacity(HEAD);
    file.try_clone()
        .map_err(|e| unreadable(path, e))?
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| unreadable(path, e))?;
    let encoding = guess_encoding(&head);
    let text = decode::open(file, encoding).map_err(|e| unreadable(path, e))?;
    let mut text = std::io::BufReader::with_capacity(256 * 1024, text);
    let mut start = Vec::with_capacity(HEAD);
    (&mut text)
        .take(HEAD as u64)
        .read_to_end(&mut start)
        .map_err(|e| problem(path, e))?;
    let first = start.iter().copied().find(|b| !b.is_ascii_whitespace());
    let whole = Cursor::new(start.clone()).chain(text);
    // Rows are bounded as a pass bounds them; the whole read by the prefix.
    let limit = ByteSize(ByteSize::MIB);
    let mut detected = match first {
        Some(b'[' | b'{') => {
            let ndjson = first == Some(b'{') && looks_like_ndjson(&start);
            let whole = whole.take(PREFIX);
            let (records_path, records) = if ndjson {
                sample_ndjson(whole)
            } else {
                sample_json(whole)
            }
            .map_err(|e| problem(path, e))?;
            from_json(ndjson, records_path, &records)
        }
        // QuickBooks Desktop's IIF: tab-separated blocks, each headed by a `!` row.
        Some(b'!') => {
            let whole = CsvGuard::new(whole, b'\t', limit).take(PREFIX);
            let tag = Some(IIF_CUSTOMERS);
            let (header, rows) = sample_csv(whole, b'\t', tag).map_err(|e| problem(path, e))?;
            from_csv(b'\t', header, &rows)
        }
        _ => {
            let delimiter = guess_delimiter(&start);
            let whole = CsvGuard::new(whole, delimiter, limit).take(PREFIX);
            let (header, rows) =
                sample_csv(whole, delimiter, None).map_err(|e| problem(path, e))?;
            from_csv(delimiter, header, &rows)
        }
    };
    detected.encoding = encoding;
    Ok(detected)
}

fn problem(path: &Path, error: std::io::Error) -> SourceError {
    if let Some(broken) = Broken::inside(&error) {
        return broken.problem(path, Kind::Customer);
    }
    match Undecodable::inside(&error) {
        Some(bad) => SourceError::Undecodable {
            path: path.to_owned(),
            at: format!("line {}", bad.line),
            encoding: bad.encoding,
            advice: bad.advice(),
        },
        None => unreadable(path, error),
    }
}

/// A BOM's encoding; else UTF-8 when the start is valid UTF-8; else Windows-1252, what
/// Windows tools write in the West.
fn guess_encoding(head: &[u8]) -> &'static Encoding {
    if let Some(encoding) = decode::bom_encoding(head) {
        return encoding;
    }
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        // Cut in the middle of a character at the end of the head: still UTF-8.
        Err(e) if e.error_len().is_none() => UTF_8,
        Err(_) => WINDOWS_1252,
    }
}

fn looks_like_ndjson(start: &[u8]) -> bool {
    let mut lines = start
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty());
    let parses = |line: Option<&[u8]>| {
        line.is_some_and(|l| serde_json::from_slice::<Value>(l).is_ok_and(|v| v.is_object()))
    };
    parses(lines.next()) && parses(lines.next())
}

/// The delimiter that splits the first lines into the same number of columns, the most.
fn guess_delimiter(start: &[u8]) -> u8 {
    let lines: Vec<&[u8]> = start
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .take(20)
        .collect();
    let complete = if lines.len() > 1 {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    let columns = |line: &[u8], d: u8| {
        csv::ReaderBuilder::new()
            .delimiter(d)
            .has_headers(false)
            .from_reader(line)
            .byte_records()
            .next()
            .and_then(Result::ok)
            .map_or(0, |r| r.len())
    };
    [b',', b';', b'\t', b'|']
        .into_iter()
        .map(|d| {
            let header = complete.first().map_or(0, |l| columns(l, d));
            let steady = complete.iter().all(|l| columns(l, d) == header);
            (d, if steady { header } else { header / 2 })
        })
        .max_by_key(|(d, n)| (*n, *d == b','))
        .map_or(b',', |(d, _)| d)
}

fn from_json(ndjson: bool, records_path: String, records: &[Value]) -> Detected {
    let mut columns = Vec::new();
    for record in records {
        flatten(record, "", 0, &mut columns);
    }
    let format = if ndjson {
        SourceFormat::Ndjson
    } else {
        SourceFormat::Json
    };
    let shaped = |d: &PresetDefaults| {
        let Some(FieldSource::One(id)) = d.fields.get(Field::Id) else {
            return false;
        };
        let id = FieldPath::parse(id, true).ok();
        d.format == format
            && d.records_path == records_path
            && id.is_some_and(|id| records.iter().any(|r| id.lookup(r).is_some()))
    };
    let customers = Preset::ALL
        .into_iter()
        .find(|p| shaped(&p.defaults()))
        .map(|p| (p, Kind::Customer));
    // A system's invoice export (QuickBooks' invoice query, Xero's Invoices).
    let invoices = || {
        Preset::ALL
            .into_iter()
            .find(|p| p.invoice_defaults().is_some_and(|d| shaped(&d.export)))
            .map(|p| (p, Kind::Invoice))
    };
    let found = customers.or_else(invoices);
    let lookup = |column: &str| -> Vec<String> {
        let path = FieldPath::parse(column, true).ok();
        records
            .iter()
            .filter_map(|r| Some(path.as_ref()?.lookup(r)?.into_owned()))
            .collect()
    };
    finish(format, records_path, found, columns, records.len(), lookup)
}

/// Scalar keys as dotted paths, nested objects included (arrays are left to a mapping).
fn flatten(value: &Value, prefix: &str, depth: usize, out: &mut Vec<String>) {
    let Value::Object(map) = value else {
        return;
    };
    for (key, value) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(_) if depth < 2 => flatten(value, &path, depth + 1, out),
            Value::Object(_) | Value::Array(_) => {}
            _ if !out.contains(&path) => out.push(path),
            _ => {}
        }
    }
}

fn from_csv(delimiter: u8, header: Vec<String>, rows: &[Vec<String>]) -> Detected {
    let has = |name: &str| header.iter().any(|h| h.eq_ignore_ascii_case(name));
    // A preset whose every mapped column's first choice is in the header.
    let shaped = |d: &PresetDefaults, kind: Kind| {
        d.format == SourceFormat::Csv
            && kind.fields().iter().all(|f| match d.fields.get(*f) {
                Some(FieldSource::One(source)) => source
                    .split('|')
                    .next()
                    .is_some_and(|first| has(first.trim())),
                _ => true,
            })
    };
    let customers = Preset::ALL
        .into_iter()
        .find(|p| shaped(&p.defaults_for(Some(SourceFormat::Csv)), Kind::Customer))
        .map(|p| (p, Kind::Customer));
    let invoices = || {
        Preset::ALL
            .into_iter()
            .find(|p| {
                p.invoice_defaults()
                    .is_some_and(|d| shaped(&d.export, Kind::Invoice))
            })
            .map(|p| (p, Kind::Invoice))
    };
    let preset = customers.or_else(invoices);
    let lookup = |column: &str| -> Vec<String> {
        let Some(index) = header.iter().position(|h| h == column) else {
            return Vec::new();
        };
        rows.iter()
            .filter_map(|r| r.get(index).filter(|v| !v.is_empty()).cloned())
            .collect()
    };
    let mut detected = finish(
        SourceFormat::Csv,
        String::new(),
        preset,
        header.clone(),
        rows.len(),
        lookup,
    );
    detected.delimiter = delimiter;
    detected
}

fn finish(
    format: SourceFormat,
    records_path: String,
    preset: Option<(Preset, Kind)>,
    columns: Vec<String>,
    sampled: usize,
    values: impl Fn(&str) -> Vec<String>,
) -> Detected {
    // Without a preset, an invoice export is told by its columns.
    let kind = match preset {
        Some((_, kind)) => kind,
        None if looks_like_invoices(&columns) => Kind::Invoice,
        None => Kind::Customer,
    };
    let (fields, reasons) = match preset {
        Some(_) => (FieldMap::default(), Vec::new()),
        None => map_columns(&columns, kind),
    };
    let preset_fields = |(p, kind): (Preset, Kind)| match kind {
        Kind::Customer => Some(p.defaults_for(Some(format)).fields),
        Kind::Invoice => p.invoice_defaults().map(|d| d.export.fields),
    };
    let mapped = match preset {
        Some(found) => preset_fields(found).unwrap_or_default(),
        None => fields.clone(),
    };
    let date_column = mapped.get(Field::SourceModifiedDate).cloned();
    // Every column a field may come from (`Mobile | Phone`: both), sampled.
    let values_of = |field: Field| -> Vec<String> {
        let Some(FieldSource::One(source)) = mapped.get(field) else {
            return Vec::new();
        };
        source
            .split('|')
            .flat_map(|column| values(column.trim()))
            .collect()
    };
    let (phones, countries) = (values_of(Field::CellPhoneNumber), values_of(Field::Country));
    // A preset's date field may have alternatives: the first path is the one sampled.
    let dates = match date_column {
        Some(FieldSource::One(column)) => {
            let first = column.split('|').next().unwrap_or_default().trim();
            Some(date_form(&values(first)))
        }
        _ => None,
    };
    Detected {
        format,
        encoding: UTF_8,
        delimiter: b',',
        records_path,
        preset: preset.map(|(p, _)| p),
        kind,
        columns,
        fields,
        reasons,
        dates,
        sampled,
        phones,
        countries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_from_the_first_lines() {
        assert_eq!(guess_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(guess_delimiter(b"a;b;c\n1,5;2;3\n"), b';');
        assert_eq!(guess_delimiter(b"a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(guess_delimiter(b"a|b|c\n1|2|3\n4|5"), b'|');
        assert_eq!(guess_delimiter(b"\"a,x\";b;c\n1;2;3\n"), b';');
    }

    #[test]
    fn encodings_from_the_bytes() {
        assert_eq!(guess_encoding("Renée".as_bytes()), UTF_8);
        assert_eq!(guess_encoding(b"Ren\xe9e"), WINDOWS_1252);
        assert_eq!(guess_encoding(b"\xff\xfeR\x00"), encoding_rs::UTF_16LE);
        // A character cut by the end of the head is still UTF-8.
        assert_eq!(guess_encoding(&"aé".as_bytes()[..2]), UTF_8);
    }
}
