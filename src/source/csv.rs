//! CSV exports: a header row, UTF-8 with or without BOM, CRLF or LF, quoted fields, a
//! configurable delimiter. Read streaming, one record at a time.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use super::{SourceError, column_for};
use crate::config::SourceConfig;
use crate::record::{Field, RawRecord};

pub struct CsvExport {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    /// Column index per API field, in [`Field::ALL`] order; `None` when the export has none.
    columns: Vec<(Field, usize)>,
    record: csv::ByteRecord,
    /// The spreadsheet row of the last record read: the header is row 1.
    row: u64,
    failed: bool,
}

impl CsvExport {
    pub fn open(config: &SourceConfig) -> Result<Self, SourceError> {
        let path = config.path.clone();
        let file = File::open(&path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => SourceError::NotFound { path: path.clone() },
            _ => SourceError::Unreadable {
                path: path.clone(),
                error,
            },
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(config.delimiter)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(BufReader::with_capacity(256 * 1024, file));
        let headers = reader
            .byte_headers()
            .map_err(|e| malformed(&path, &e))?
            .clone();
        if headers.is_empty() {
            return Err(SourceError::Malformed {
                path,
                line: 1,
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
        let mut columns = Vec::with_capacity(Field::ALL.len());
        for field in Field::ALL {
            let mapped = column_for(config, field);
            let wanted = mapped.unwrap_or(field.api_name());
            let found = header_names.iter().position(|h| h == wanted).or_else(|| {
                header_names
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(wanted))
            });
            match found {
                Some(index) => columns.push((field, index)),
                // companyId is optional: an export without the column simply has none.
                None if field == Field::CompanyId && mapped.is_none() => {}
                None => {
                    return Err(SourceError::MissingColumn {
                        path,
                        field,
                        column: wanted.to_owned(),
                    });
                }
            }
        }
        Ok(Self {
            path,
            reader,
            columns,
            record: csv::ByteRecord::new(),
            row: 1,
            failed: false,
        })
    }
}

impl Iterator for CsvExport {
    type Item = Result<RawRecord, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    self.failed = true;
                    return Some(Err(malformed(&self.path, &e)));
                }
            }
            self.row += 1;
            // A line of empty fields is not a record.
            if self.record.iter().all(<[u8]>::is_empty) {
                continue;
            }
            let mut raw = RawRecord::new(format!("{} row {}", self.path.display(), self.row));
            for &(field, index) in &self.columns {
                let bytes = self.record.get(index).unwrap_or_default();
                match std::str::from_utf8(bytes) {
                    Ok(text) => raw.set(field, text),
                    Err(_) => raw.bad_encoding = raw.bad_encoding.or(Some(field)),
                }
            }
            return Some(Ok(raw));
        }
    }
}

fn malformed(path: &std::path::Path, error: &csv::Error) -> SourceError {
    if let csv::ErrorKind::Io(io) = error.kind() {
        return SourceError::Unreadable {
            path: path.to_owned(),
            error: std::io::Error::new(io.kind(), io.to_string()),
        };
    }
    SourceError::Malformed {
        path: path.to_owned(),
        line: error.position().map_or(0, csv::Position::line),
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FieldMap;

    fn config(path: PathBuf, fields: FieldMap, delimiter: u8) -> SourceConfig {
        SourceConfig {
            name: "default".into(),
            format: crate::config::SourceFormat::Csv,
            path,
            fields,
            delimiter,
            timezone: chrono_tz::UTC,
            datetime_format: None,
            default_country: phonenumber::country::Id::US,
            settle: std::time::Duration::ZERO,
            lookback: std::time::Duration::ZERO,
        }
    }

    fn read(bytes: &[u8], fields: FieldMap, delimiter: u8) -> Vec<RawRecord> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("export.csv");
        std::fs::write(&path, bytes).expect("write");
        CsvExport::open(&config(path, fields, delimiter))
            .expect("open")
            .collect::<Result<_, _>>()
            .expect("read")
    }

    #[test]
    fn bom_crlf_quotes_and_trimming() {
        let text = "\u{feff}id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate\r\n\
                    C1,\"Smith, Jr\",\"O\"\"Neil\",a@b.co,  626 555 0100 ,2023-01-04\r\n\
                    \r\n\
                    C2,\"multi\nline\",X,x@y.co,1,2\r\n";
        let records = read(text.as_bytes(), FieldMap::default(), b',');
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].get(Field::Id), Some("C1"));
        assert_eq!(records[0].get(Field::FirstName), Some("Smith, Jr"));
        assert_eq!(records[0].get(Field::LastName), Some("O\"Neil"));
        assert_eq!(records[0].get(Field::CellPhoneNumber), Some("626 555 0100"));
        assert_eq!(records[0].get(Field::CompanyId), None);
        assert!(
            records[0].location.ends_with(" row 2"),
            "{}",
            records[0].location
        );
        assert_eq!(records[1].get(Field::FirstName), Some("multi\nline"));
        // Rows count records, as a spreadsheet shows them (a quoted newline stays in its row).
        assert!(
            records[1].location.ends_with(" row 3"),
            "{}",
            records[1].location
        );
    }

    #[test]
    fn mapped_columns_and_delimiter() {
        let fields = FieldMap {
            id: Some("Customer No".into()),
            first_name: Some("First".into()),
            last_name: Some("Last".into()),
            email_address: Some("E-mail".into()),
            cell_phone_number: Some("Mobile".into()),
            source_modified_date: Some("Changed".into()),
            company_id: Some("Company".into()),
        };
        let text = "Customer No;first;Last;E-mail;Mobile;Changed;Company;Other\nK-9;Ann;Lee;a@b.co;1;2;ACME;z\nK-10;Bo\n";
        let records = read(text.as_bytes(), fields, b';');
        assert_eq!(records[0].get(Field::FirstName), Some("Ann"));
        assert_eq!(records[0].get(Field::CompanyId), Some("ACME"));
        // A short row reads as missing fields, for validation to reject.
        assert_eq!(records[1].get(Field::Id), Some("K-10"));
        assert_eq!(records[1].get(Field::LastName), None);
    }

    #[test]
    fn a_missing_column_names_the_field_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("export.csv");
        std::fs::write(&path, "id,firstName\n1,a\n").expect("write");
        let err = CsvExport::open(&config(path, FieldMap::default(), b','))
            .err()
            .expect("missing columns");
        assert!(err.to_string().contains("source.fields.lastName"), "{err}");
    }

    #[test]
    fn invalid_utf8_marks_the_field() {
        let mut text =
            b"id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate\nC1,".to_vec();
        text.extend_from_slice(b"J\xffrg,X,a@b.co,1,2\n");
        let records = read(&text, FieldMap::default(), b',');
        assert_eq!(records[0].bad_encoding, Some(Field::FirstName));
    }
}
