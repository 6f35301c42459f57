//! What an export nobody has mapped is (SPEC §3, `init`): its encoding, format, delimiter and
//! records array, the preset whose shape it has, which column holds each field, and the form
//! of its dates, all from its first records. Reads no further than [`SAMPLE`] records.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

use chrono_tz::Tz;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::decode::{self, Undecodable};
use super::mapping::{FieldMap, FieldSource, Path as FieldPath, SourceFormat};
use super::presets::Preset;
use super::{Field, SourceError, unreadable};
use crate::record::timestamp::TimestampParser;

/// How many records detection reads at most.
pub const SAMPLE: usize = 200;
/// How much of the start of a file decides its encoding, format and delimiter.
const HEAD: usize = 64 * 1024;

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
}

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

/// Reads the start of `path` and says what the export is.
pub fn detect(path: &Path) -> Result<Detected, SourceError> {
    let file = File::open(path).map_err(|e| unreadable(path, e))?;
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
    let mut detected = match first {
        Some(b'[' | b'{') => {
            let ndjson = first == Some(b'{') && looks_like_ndjson(&start);
            let (records_path, records) = if ndjson {
                sample_ndjson(whole)
            } else {
                sample_json(whole)
            }
            .map_err(|e| problem(path, e))?;
            from_json(ndjson, records_path, &records)
        }
        _ => {
            let delimiter = guess_delimiter(&start);
            let (header, rows) = sample_csv(whole, delimiter).map_err(|e| problem(path, e))?;
            from_csv(delimiter, header, &rows)
        }
    };
    detected.encoding = encoding;
    Ok(detected)
}

fn problem(path: &Path, error: std::io::Error) -> SourceError {
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

type Rows = (Vec<String>, Vec<Vec<String>>);

fn sample_csv(input: impl Read, delimiter: u8) -> std::io::Result<Rows> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(input);
    let header = reader
        .headers()
        .map_err(csv_io)?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records().take(SAMPLE) {
        let record = record.map_err(csv_io)?;
        rows.push(record.iter().map(|c| c.trim().to_owned()).collect());
    }
    Ok((header, rows))
}

fn csv_io(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}")),
    }
}

fn sample_ndjson(input: impl Read) -> std::io::Result<(String, Vec<Value>)> {
    let records = serde_json::Deserializer::from_reader(input)
        .into_iter::<Value>()
        .take(SAMPLE)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((String::new(), records))
}

/// The first array of objects in the document, walking down objects in order, and its first
/// records; parsing stops there.
fn sample_json(input: impl Read) -> std::io::Result<(String, Vec<Value>)> {
    let mut found = Found::default();
    let mut de = serde_json::Deserializer::from_reader(input);
    match (Seek {
        path: Vec::new(),
        found: &mut found,
    })
    .deserialize(&mut de)
    {
        Ok(()) => {}
        // Enough records: the rest of the file is not read.
        Err(_) if found.records.len() >= SAMPLE => {}
        Err(e) if found.path.is_some() && e.is_eof() => {}
        Err(e) => return Err(e.into()),
    }
    Ok((found.path.unwrap_or_default(), found.records))
}

#[derive(Default)]
struct Found {
    path: Option<String>,
    records: Vec<Value>,
}

struct Seek<'a> {
    path: Vec<String>,
    found: &'a mut Found,
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if self.found.path.is_some() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let mut path = self.path.clone();
            path.push(key);
            map.next_value_seed(Seek {
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut records = Vec::new();
        while let Some(value) = seq.next_element::<Value>()? {
            if !value.is_object() {
                // Not an array of records: leave it.
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(());
            }
            records.push(value);
            if records.len() >= SAMPLE {
                self.found.path = Some(self.path.join("."));
                self.found.records = records;
                return Err(de::Error::custom("sampled"));
            }
        }
        if !records.is_empty() || self.path.is_empty() {
            self.found.path = Some(self.path.join("."));
            self.found.records = records;
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
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
    let preset = Preset::ALL.into_iter().find(|p| {
        let d = p.defaults();
        let Some(FieldSource::One(id)) = d.fields.id else {
            return false;
        };
        let id = FieldPath::parse(&id, true).ok();
        d.format == format
            && d.records_path == records_path
            && id.is_some_and(|id| records.iter().any(|r| id.lookup(r).is_some()))
    });
    let lookup = |column: &str| -> Vec<String> {
        let path = FieldPath::parse(column, true).ok();
        records
            .iter()
            .filter_map(|r| Some(path.as_ref()?.lookup(r)?.into_owned()))
            .collect()
    };
    finish(format, records_path, preset, columns, records.len(), lookup)
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
    let preset = Preset::ALL.into_iter().find(|p| {
        let d = p.defaults();
        d.format == SourceFormat::Csv
            && Field::ALL.iter().all(|f| match d.fields.get(*f) {
                Some(FieldSource::One(source)) => source
                    .split('|')
                    .next()
                    .is_some_and(|first| has(first.trim())),
                _ => true,
            })
    });
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
    preset: Option<Preset>,
    columns: Vec<String>,
    sampled: usize,
    values: impl Fn(&str) -> Vec<String>,
) -> Detected {
    let (fields, reasons) = match preset {
        Some(_) => (FieldMap::default(), Vec::new()),
        None => map_columns(&columns),
    };
    let date_column = match preset {
        Some(p) => p.defaults().fields.source_modified_date,
        None => fields.source_modified_date.clone(),
    };
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
        preset,
        columns,
        fields,
        reasons,
        dates,
        sampled,
    }
}

/// Names of each field's column in real exports, compared with case, spaces, `_`, `-` and
/// other punctuation ignored; the better names first.
fn names(field: Field) -> &'static [&'static str] {
    match field {
        Field::Id => &[
            "id",
            "customerid",
            "customerno",
            "customernumber",
            "customercode",
            "customerref",
            "custid",
            "custno",
            "accountno",
            "accountnumber",
            "accountid",
            "accountcode",
            "clientid",
            "clientno",
            "clientnumber",
            "contactid",
            "debtorid",
            "debtorno",
            "debtorcode",
            "externalid",
            "uid",
            "recordid",
        ],
        Field::FirstName => &[
            "firstname",
            "fname",
            "givenname",
            "forename",
            "first",
            "contactfirstname",
        ],
        Field::LastName => &[
            "lastname",
            "lname",
            "familyname",
            "surname",
            "last",
            "contactlastname",
        ],
        Field::EmailAddress => &[
            "emailaddress",
            "email",
            "mail",
            "emailaddr",
            "primaryemail",
            "primaryemailaddress",
            "contactemail",
            "email1",
            "customeremail",
        ],
        Field::CellPhoneNumber => &[
            "cellphonenumber",
            "mobile",
            "mobilephone",
            "mobileno",
            "mobilenumber",
            "mobilephonenumber",
            "cellphone",
            "cell",
            "cellnumber",
            "cellno",
            "mob",
            "mobphone",
        ],
        Field::SourceModifiedDate => &[
            "sourcemodifieddate",
            "lastmodified",
            "datelastmodified",
            "modified",
            "modifiedat",
            "modifieddate",
            "modifiedon",
            "modifiedtime",
            "datemodified",
            "lastmodifieddate",
            "lastmodifiedtime",
            "lastmodifiedat",
            "lastmodifieddatetime",
            "updated",
            "updatedat",
            "updatedon",
            "updatedtime",
            "updateddate",
            "lastupdated",
            "lastupdatedtime",
            "lastupdatedat",
            "dateupdated",
            "updateddateutc",
            "whenmodified",
            "changed",
            "changedat",
            "lastchanged",
            "datechanged",
        ],
        // Only a column that is plainly a BlueTape company id.
        Field::CompanyId => &["companyid", "bluetapecompanyid"],
    }
}

/// Landline and general phone columns: the mobile's fallback, never its first choice.
const PHONES: &[&str] = &[
    "phone",
    "phonenumber",
    "telephone",
    "telephonenumber",
    "tel",
    "phone1",
    "primaryphone",
    "contactphone",
    "businessphone",
    "workphone",
    "phoneno",
];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The column whose name (or, for a nested key, whose last key) is the best of `wanted`.
fn best<'c>(columns: &'c [String], wanted: &[&str]) -> Option<&'c String> {
    let rank = |column: &String| {
        let whole = normalise(column);
        let leaf = normalise(column.rsplit('.').next().unwrap_or(column));
        wanted
            .iter()
            .position(|w| *w == whole)
            .map(|i| (i, 0))
            .or_else(|| wanted.iter().position(|w| *w == leaf).map(|i| (i, 1)))
    };
    columns
        .iter()
        .filter_map(|c| Some((rank(c)?, c)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, c)| c)
}

fn map_columns(columns: &[String]) -> (FieldMap, Vec<(Field, String)>) {
    let mut fields = FieldMap::default();
    let mut reasons = Vec::new();
    for field in Field::ALL {
        let found = best(columns, names(field));
        let source = match (field, found) {
            (Field::CellPhoneNumber, mobile) => {
                let phone = best(columns, PHONES);
                match (mobile, phone) {
                    (Some(m), Some(p)) => {
                        reasons.push((
                            field,
                            format!("`{m}`, else `{p}` (a phone that may be a landline)"),
                        ));
                        Some(format!("{m} | {p}"))
                    }
                    (Some(m), None) => {
                        reasons.push((field, format!("`{m}`: a common name for a mobile")));
                        Some(m.clone())
                    }
                    (None, Some(p)) => {
                        reasons.push((
                            field,
                            format!(
                                "`{p}`: no mobile column, a general phone (a landline is rejected)"
                            ),
                        ));
                        Some(p.clone())
                    }
                    (None, None) => None,
                }
            }
            (_, Some(column)) => {
                reasons.push((
                    field,
                    format!("`{column}`: a common name for {}", field.api_name()),
                ));
                Some(column.clone())
            }
            (_, None) => None,
        };
        if let Some(source) = source {
            set(&mut fields, field, FieldSource::One(source));
        }
    }
    (fields, reasons)
}

fn set(fields: &mut FieldMap, field: Field, source: FieldSource) {
    let slot = match field {
        Field::Id => &mut fields.id,
        Field::FirstName => &mut fields.first_name,
        Field::LastName => &mut fields.last_name,
        Field::EmailAddress => &mut fields.email_address,
        Field::CellPhoneNumber => &mut fields.cell_phone_number,
        Field::SourceModifiedDate => &mut fields.source_modified_date,
        Field::CompanyId => &mut fields.company_id,
    };
    *slot = Some(source);
}

/// strftime forms tried when no accepted form fits every value, the commonest first.
const FORMATS: &[&str] = &[
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %I:%M:%S %p",
    "%d/%m/%Y %I:%M %p",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%b %d, %Y %I:%M:%S %p",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y",
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

    #[test]
    fn headers_in_many_spellings_map_to_their_fields() {
        let spellings: &[(&[&str], [&str; 6])] = &[
            (
                &[
                    "Customer ID",
                    "First Name",
                    "Last Name",
                    "E-mail",
                    "Mobile",
                    "Last Modified",
                    "Notes",
                ],
                [
                    "Customer ID",
                    "First Name",
                    "Last Name",
                    "E-mail",
                    "Mobile",
                    "Last Modified",
                ],
            ),
            (
                &[
                    "CustomerID",
                    "fname",
                    "lname",
                    "Email Address",
                    "Cell Phone",
                    "updated_at",
                ],
                [
                    "CustomerID",
                    "fname",
                    "lname",
                    "Email Address",
                    "Cell Phone",
                    "updated_at",
                ],
            ),
            (
                &[
                    "Account No",
                    "Given Name",
                    "Surname",
                    "EMAIL",
                    "Mobile Phone",
                    "Date Last Modified",
                ],
                [
                    "Account No",
                    "Given Name",
                    "Surname",
                    "EMAIL",
                    "Mobile Phone",
                    "Date Last Modified",
                ],
            ),
            (
                &[
                    "account_no",
                    "FIRST_NAME",
                    "family-name",
                    "email_address",
                    "mobile_no",
                    "Modified",
                ],
                [
                    "account_no",
                    "FIRST_NAME",
                    "family-name",
                    "email_address",
                    "mobile_no",
                    "Modified",
                ],
            ),
            (
                &[
                    "Cust No.",
                    "Forename",
                    "Last",
                    "Mail",
                    "Cell",
                    "LastUpdatedTime",
                ],
                [
                    "Cust No.",
                    "Forename",
                    "Last",
                    "Mail",
                    "Cell",
                    "LastUpdatedTime",
                ],
            ),
        ];
        for (header, expected) in spellings {
            let columns: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
            let (fields, _) = map_columns(&columns);
            let got: Vec<String> = Field::ALL[..6]
                .iter()
                .map(|f| fields.get(*f).map(ToString::to_string).unwrap_or_default())
                .collect();
            assert_eq!(got, expected, "{header:?}");
            assert_eq!(fields.company_id, None, "{header:?}");
        }
        // A mobile and a general phone: the mobile, else the phone.
        let (fields, _) = map_columns(&strings(&["Phone", "Mobile"]));
        assert_eq!(
            fields.cell_phone_number,
            Some(FieldSource::One("Mobile | Phone".into()))
        );
        // Nested JSON keys by their last key.
        let (fields, _) = map_columns(&strings(&["meta.updated_at", "contact.email"]));
        assert_eq!(
            fields.email_address,
            Some(FieldSource::One("contact.email".into()))
        );
    }

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
