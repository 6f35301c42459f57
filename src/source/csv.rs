//! CSV exports: a header row, in the file's encoding (see [`super::decode`]), CRLF or LF,
//! quoted fields, a configurable delimiter. Read streaming, one record at a time. A column name
//! with dots is a column name: paths are for JSON.

use std::borrow::Cow;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::config::SourceConfig;
use super::decode::{self, Text, Undecodable};
use super::guard::{Broken, CsvGuard};
use super::leave_out::{Cell, Rule, Test};
use super::mapping::FieldSpec;
use super::{Field, Kind, RawRecord};
use super::{Item, OlderThan, SourceError, open_regular, unreadable};

/// Where a field's value is in a row.
enum Columns {
    /// One column, as most mappings are.
    One(usize),
    /// Alternatives or parts: the spec, with the index of each column it names.
    Spec(FieldSpec, Vec<(String, usize)>),
}

pub struct CsvExport {
    kind: Kind,
    path: PathBuf,
    reader: csv::Reader<CsvGuard<Text<File>>>,
    columns: Vec<(Field, Columns)>,
    /// The rules for records left out, each with its number and its columns.
    leave_out: Vec<(usize, Test<usize>)>,
    /// The id's and the parent's columns, for a left-out record.
    id_column: Option<usize>,
    parent_column: Option<usize>,
    /// What marks a record as an organisation's, with its columns.
    organisation: Option<Test<usize>>,
    header_len: usize,
    len: u64,
    ends_with_newline: bool,
    record: csv::ByteRecord,
    /// The spreadsheet row of the last record read: the header is row 1 (or, after other
    /// blocks, the row of its tag).
    row: u64,
    /// Only rows whose first cell is this are records (IIF's `CUST`).
    row_tag: Option<Vec<u8>>,
    /// Phone cells are Xero's country, area and number, split before any trimming.
    phone_parts: bool,
    failed: bool,
    /// Records older than this, with their date in one column, are skipped after reading
    /// just that column: an unchanged export is read at close to the parser's speed.
    older: Option<(OlderThan, usize)>,
}

impl CsvExport {
    pub fn open(config: &SourceConfig, path: &Path) -> Result<Self, SourceError> {
        let path = path.to_owned();
        let mut file = open_regular(&path)?;
        let len = file.metadata().map_err(|e| unreadable(&path, e))?.len();
        let ends_with_newline =
            len == 0 || last_byte(&mut file).map_err(|e| unreadable(&path, e))? == Some(b'\n');
        let text = decode::open(file, config.encoding).map_err(|e| unreadable(&path, e))?;
        let text = CsvGuard::new(text, config.delimiter, config.max_row_bytes);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(config.delimiter)
            .flexible(true)
            .has_headers(config.header_tag.is_none())
            .buffer_capacity(256 * 1024)
            .from_reader(text);
        let (headers, header_row) = match config.header_tag {
            None => {
                let headers = reader.byte_headers();
                (
                    headers
                        .map_err(|e| malformed(&path, config.kind, &e, 1))?
                        .clone(),
                    1,
                )
            }
            Some(tag) => tagged_header(&mut reader, tag, &path, config.kind)?,
        };
        if headers.is_empty() {
            return Err(SourceError::Malformed {
                path,
                at: "row 1".into(),
                detail: "the file is empty: no header row (is the export still being written?)"
                    .into(),
            });
        }
        let header_names: Vec<String> = headers
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_owned()
            })
            .collect();
        let find = |wanted: &str| {
            header_names.iter().position(|h| h == wanted).or_else(|| {
                header_names
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(wanted))
            })
        };
        let mut columns = Vec::with_capacity(config.specs.len());
        'fields: for (field, spec) in &config.specs {
            let mut found = Vec::new();
            for alternatives in spec.parts() {
                let names = alternatives.iter().filter_map(|p| p.column());
                let present: Vec<(String, usize)> = names
                    .clone()
                    .filter_map(|c| Some((c.to_owned(), find(c)?)))
                    .collect();
                match (present.is_empty(), names.clone().next()) {
                    // One of a part's alternatives is enough (`Mobile | Phone` without `Phone`).
                    (false, _) | (true, None) => found.extend(present),
                    // An optional field the export does not have is simply absent.
                    (true, Some(_)) if !config.requires(*field) => continue 'fields,
                    (true, Some(column)) => {
                        return Err(SourceError::MissingColumn {
                            advice: missing_column_advice(&header_names, config.delimiter, *field),
                            path,
                            field: *field,
                            column: column.to_owned(),
                        });
                    }
                }
            }
            let source = match (spec.is_single(), found.as_slice()) {
                (true, [(_, index)]) => Columns::One(*index),
                _ => Columns::Spec(spec.clone(), found),
            };
            columns.push((*field, source));
        }
        let column = |path: &super::mapping::Path| {
            let name = path.column().unwrap_or_default();
            find(name).ok_or_else(|| name.to_owned())
        };
        // A preset's rule for a column this export does not write has nothing to do; a
        // config's is a mistake to name.
        let columns_of = |rule: &Rule, key: &str| match rule.test.try_map(&column) {
            Ok(test) => Ok(Some(test)),
            Err(_) if rule.preset_says.is_some() => Ok(None),
            Err(column) => Err(SourceError::MissingRuleColumn {
                path: path.clone(),
                key: format!("{}.{key}", config.kind.section()),
                rule: rule.label(),
                column,
            }),
        };
        let mut leave_out = Vec::with_capacity(config.leave_out.len());
        for (n, rule) in config.leave_out.iter().enumerate() {
            if let Some(test) = columns_of(rule, "leave_out")? {
                leave_out.push((n, test));
            }
        }
        let organisation = match &config.organisation {
            Some(rule) => columns_of(rule, "organisation")?,
            None => None,
        };
        let column_of = |wanted: Field| {
            columns.iter().find_map(|(field, source)| match source {
                Columns::One(index) if *field == wanted => Some(*index),
                _ => None,
            })
        };
        let (id_column, parent_column) = (column_of(Field::Id), column_of(Field::ParentId));
        Ok(Self {
            kind: config.kind,
            path,
            reader,
            columns,
            leave_out,
            id_column,
            parent_column,
            organisation,
            header_len: headers.len(),
            len,
            ends_with_newline,
            record: csv::ByteRecord::new(),
            row: header_row,
            row_tag: config
                .header_tag
                .map(|tag| tag.trim_start_matches('!').as_bytes().to_vec()),
            phone_parts: config.phone_parts,
            failed: false,
            older: None,
        })
    }

    /// Skips records modified before `older`, when the date is in a column of its own.
    pub fn skipping(mut self, older: Option<OlderThan>) -> Self {
        let date_column = self
            .columns
            .iter()
            .find_map(|(field, source)| match source {
                Columns::One(index) if *field == Field::SourceModifiedDate => Some(*index),
                _ => None,
            });
        self.older = older.zip(date_column);
        self
    }

    fn fail(&mut self, error: SourceError) -> Option<Result<Item, SourceError>> {
        self.failed = true;
        Some(Err(error))
    }
}

/// What to change when a column is not in the header: the delimiter, when the whole header
/// is one column that another delimiter would split, else the field's mapping.
fn missing_column_advice(header: &[String], delimiter: u8, field: Field) -> String {
    let other = [b',', b';', b'\t', b'|']
        .into_iter()
        .filter(|d| *d != delimiter)
        .find(|d| matches!(header, [one] if one.as_bytes().contains(d)));
    match other {
        Some(b'\t') => "the header is split by tabs: set source.delimiter = \"tab\"".into(),
        Some(d) => format!(
            "the header is split by `{}`: set source.delimiter = \"{}\"",
            d as char, d as char
        ),
        None => format!("set source.fields.{field} to the export's column name"),
    }
}

/// The header row of a file whose header is the row tagged `tag` (IIF's `!CUST`, after the
/// `!HDR` and dictionary blocks), and its row number.
fn tagged_header<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    tag: &str,
    path: &Path,
    kind: Kind,
) -> Result<(csv::ByteRecord, u64), SourceError> {
    let mut record = csv::ByteRecord::new();
    let mut row = 0;
    loop {
        row += 1;
        match reader.read_byte_record(&mut record) {
            Ok(true) if record.get(0).map(<[u8]>::trim_ascii) == Some(tag.as_bytes()) => {
                return Ok((record, row));
            }
            Ok(true) => {}
            Ok(false) => {
                return Err(SourceError::Malformed {
                    path: path.to_owned(),
                    at: format!("row {row}"),
                    detail: format!("no `{tag}` header row: is this the export the preset reads?"),
                });
            }
            Err(e) => return Err(malformed(path, kind, &e, row)),
        }
    }
}

/// A phone as Xero's CSV writes it, `44  7911123456` (country, area, number, each possibly
/// empty, one space between), as a number to read: `+44 7911123456`. A cell of another shape
/// is read as written.
fn phone_from_parts(cell: &[u8]) -> Option<Cow<'_, str>> {
    let text = std::str::from_utf8(cell).ok()?;
    let mut parts = text.splitn(3, ' ');
    let joined = match (parts.next(), parts.next(), parts.next()) {
        (Some(country), Some(area), Some(number))
            if country.bytes().all(|b| b.is_ascii_digit()) =>
        {
            let national = format!("{} {}", area.trim(), number.trim());
            match country.is_empty() {
                true => national.trim().to_owned(),
                false => format!("+{country} {}", national.trim()),
            }
        }
        _ => text.trim().to_owned(),
    };
    (!joined.is_empty()).then_some(Cow::Owned(joined))
}

fn last_byte(file: &mut File) -> std::io::Result<Option<u8>> {
    file.seek(SeekFrom::End(-1))?;
    let mut byte = [0u8; 1];
    let n = file.read(&mut byte)?;
    file.seek(SeekFrom::Start(0))?;
    Ok((n == 1).then_some(byte[0]))
}

impl Iterator for CsvExport {
    type Item = Result<Item, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let error = malformed(&self.path, self.kind, &e, self.row + 1);
                    return self.fail(error);
                }
            }
            self.row += 1;
            // A line of empty fields is not a record. (Cells are trimmed as they are read, not
            // by the reader: trimming a whole row costs a copy of it.)
            if self.record.iter().all(|cell| cell.trim_ascii().is_empty()) {
                continue;
            }
            // Another block's row (IIF's `ENDCUST`, a dictionary) is not a record.
            if let Some(tag) = &self.row_tag
                && self.record.get(0).map(<[u8]>::trim_ascii) != Some(tag.as_slice())
            {
                continue;
            }
            // A short last row in a file that does not end with a newline was cut off.
            let at_end = self.reader.position().byte() >= self.len;
            if at_end && !self.ends_with_newline && self.record.len() < self.header_len {
                let error = SourceError::Malformed {
                    path: self.path.clone(),
                    at: format!("row {}", self.row),
                    detail: "the last row is cut off (fewer columns than the header and no final newline)".into(),
                };
                return self.fail(error);
            }
            let cell = |index: usize| -> Option<&str> {
                let bytes = self.record.get(index)?.trim_ascii();
                // The text is checked UTF-8, and cells end at ASCII delimiters.
                std::str::from_utf8(bytes).ok()
            };
            let older = self.older.as_ref().and_then(|(older, column)| {
                let ms = cell(*column).and_then(|text| (older.date)(text))?;
                (ms < older.threshold_ms).then_some(ms)
            });
            let looked_up =
                |index: &usize| cell(*index).map_or(Cell::Absent, |t| Cell::Text(t.into()));
            if let Some((rule, _)) = self
                .leave_out
                .iter()
                .find(|(_, test)| test.matches(&looked_up))
            {
                // An old record was handled by an earlier pass: nothing of it to withdraw.
                let id = match older {
                    Some(_) => None,
                    None => self.id_column.and_then(cell).map(str::to_owned),
                };
                let parent = self.parent_column.and_then(cell).map(str::to_owned);
                return Some(Ok(Item::LeftOut {
                    rule: *rule,
                    id,
                    parent,
                }));
            }
            if let Some(ms) = older {
                return Some(Ok(Item::Old(ms)));
            }
            let mut raw = RawRecord::new(
                self.kind,
                format!("{} row {}", self.path.display(), self.row),
            );
            raw.organisation = self
                .organisation
                .as_ref()
                .is_some_and(|test| test.matches(&looked_up));
            for (field, source) in &self.columns {
                let parts = self.phone_parts && *field == Field::CellPhoneNumber;
                let value_at = |index: usize| match parts {
                    true => self.record.get(index).and_then(phone_from_parts),
                    false => cell(index).map(Cow::Borrowed),
                };
                let value = match source {
                    Columns::One(index) => value_at(*index),
                    Columns::Spec(spec, indexes) => spec
                        .resolve(|path| {
                            let column = path.column()?;
                            let (_, index) = indexes.iter().find(|(name, _)| name == column)?;
                            value_at(*index)
                        })
                        .map(Cow::Owned),
                };
                if let Some(text) = value {
                    raw.set(*field, &text);
                }
            }
            return Some(Ok(Item::Record(raw)));
        }
    }
}

/// A reading error: bad bytes for the encoding (in `row`), a broken file, or a CSV error.
fn malformed(path: &Path, kind: Kind, error: &csv::Error, row: u64) -> SourceError {
    if let csv::ErrorKind::Io(io) = error.kind() {
        if let Some(broken) = Broken::inside(io) {
            return broken.problem(path, kind);
        }
        if let Some(bad) = Undecodable::inside(io) {
            return SourceError::Undecodable {
                path: path.to_owned(),
                at: format!("row {row}"),
                encoding: bad.encoding,
                advice: bad.advice(),
            };
        }
        return SourceError::Unreadable {
            path: path.to_owned(),
            error: std::io::Error::new(io.kind(), io.to_string()),
        };
    }
    SourceError::Malformed {
        path: path.to_owned(),
        at: format!("line {}", error.position().map_or(0, csv::Position::line)),
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests;
