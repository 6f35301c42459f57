//! JSON exports (an array, or an object holding the array at `source.records_path`) and NDJSON.
//! A reader thread parses the file streaming, one record in memory at a time, and hands the
//! records over a bounded channel, so a file of any size is read in bounded memory and parsing
//! runs beside the store's work.

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::config::{SourceConfig, SourceFormat};
use super::decode::{self, Text, Undecodable};
use super::{Field, RawRecord};
use super::{Item, Records, SourceError, unreadable};

/// The export's text, checked UTF-8.
type Input = BufReader<Text<File>>;

/// Records waiting between the reader thread and the pass.
const CHANNEL_RECORDS: usize = 1024;

pub fn read(config: &SourceConfig, path: &Path) -> Result<Records, SourceError> {
    let file = File::open(path).map_err(|e| unreadable(path, e))?;
    let text = decode::open(file, config.encoding).map_err(|e| unreadable(path, e))?;
    let (tx, rx) = sync_channel(CHANNEL_RECORDS);
    let reader = RecordReader {
        config: config.clone(),
        path: path.to_owned(),
        tx,
        index: 0,
        stopped: false,
    };
    std::thread::Builder::new()
        .name("export-reader".into())
        .spawn(move || reader.run(BufReader::with_capacity(256 * 1024, text)))
        .map_err(|e| unreadable(path, e))?;
    Ok(Box::new(rx.into_iter()))
}

struct RecordReader {
    config: SourceConfig,
    path: PathBuf,
    tx: SyncSender<Result<Item, SourceError>>,
    index: u64,
    /// The pass stopped listening: parsing stopped on purpose, there is nothing to report.
    stopped: bool,
}

/// The pass stopped listening; parsing stops too.
#[derive(Debug)]
struct Stopped;

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the pass stopped reading")
    }
}

impl RecordReader {
    fn run(mut self, input: Input) {
        let result = match self.config.format {
            SourceFormat::Ndjson => self.read_lines(input),
            _ => self.read_document(input),
        };
        if let Err(error) = result
            && !self.stopped
        {
            let error = self.problem(error);
            let _ = self.tx.send(Err(error));
        }
    }

    /// What went wrong, in the operator's terms.
    fn problem(&self, error: serde_json::Error) -> SourceError {
        if error.is_io() {
            let io = std::io::Error::from(error);
            return match Undecodable::inside(&io) {
                Some(bad) => SourceError::Undecodable {
                    path: self.path.clone(),
                    at: format!("line {}", bad.line),
                    encoding: bad.encoding,
                    advice: bad.advice(),
                },
                None => unreadable(&self.path, io),
            };
        }
        let at = match self.index {
            0 => format!("line {}", error.line()),
            n => format!("line {}, after record {n}", error.line()),
        };
        SourceError::Malformed {
            path: self.path.clone(),
            at,
            detail: if error.is_eof() {
                "the file ends in the middle of the JSON (cut off, or still being written)".into()
            } else {
                error.to_string()
            },
        }
    }

    fn read_lines(&mut self, input: Input) -> serde_json::Result<()> {
        for value in serde_json::Deserializer::from_reader(input).into_iter::<Value>() {
            self.emit(value?).map_err(de::Error::custom)?;
        }
        Ok(())
    }

    fn read_document(&mut self, input: Input) -> serde_json::Result<()> {
        let mut de = serde_json::Deserializer::from_reader(input);
        let path = self.config.records_path.clone();
        let found = AtPath {
            path: &path,
            reader: self,
        }
        .deserialize(&mut de)?;
        de.end()?;
        if !found {
            tracing::warn!(
                file = %self.path.display(),
                "no records array at `{}`: read as an export without records",
                path.join(".")
            );
        }
        Ok(())
    }

    /// Maps one record and hands it to the pass.
    fn emit(&mut self, value: Value) -> Result<(), Stopped> {
        self.index += 1;
        let item = match self.config.skip.iter().find(|rule| rule.skips(&value)) {
            Some(rule) => Item::Skipped(rule.what),
            None => {
                let location = format!("{} record {}", self.path.display(), self.index);
                let mut raw = RawRecord::new(self.config.kind, location);
                for (field, spec) in &self.config.specs {
                    if let Some(text) = spec.resolve(|p| p.lookup(&value)) {
                        raw.set(*field, &text);
                    }
                    if *field == Field::Lines
                        && let (Some(lines), Some(list)) = (&self.config.lines, spec.first_path())
                    {
                        raw.lines = lines.read_json(list, &value);
                    }
                }
                Item::Record(raw)
            }
        };
        self.tx.send(Ok(item)).map_err(|_| {
            self.stopped = true;
            Stopped
        })
    }
}

/// Walks down `path` (object keys) to the records array, skipping everything else unparsed
/// into memory. Returns whether the array was there.
struct AtPath<'a> {
    path: &'a [String],
    reader: &'a mut RecordReader,
}

impl<'de> DeserializeSeed<'de> for AtPath<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        if self.path.is_empty() {
            d.deserialize_any(RecordsVisitor(self.reader))
        } else {
            d.deserialize_any(DescendVisitor(self))
        }
    }
}

struct DescendVisitor<'a>(AtPath<'a>);

impl<'de> Visitor<'de> for DescendVisitor<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.0.path[0])
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let AtPath { path, reader } = self.0;
        let mut found = false;
        while let Some(key) = map.next_key::<String>()? {
            if !found && key == path[0] {
                found = map.next_value_seed(AtPath {
                    path: &path[1..],
                    reader: &mut *reader,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

struct RecordsVisitor<'a>(&'a mut RecordReader);

impl<'de> Visitor<'de> for RecordsVisitor<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            self.0.emit(value).map_err(de::Error::custom)?;
        }
        Ok(true)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Field;

    fn read_all(text: &str, toml: &str) -> (Vec<Result<Item, SourceError>>, tempfile::TempDir) {
        read_bytes(text.as_bytes(), toml)
    }

    fn read_bytes(text: &[u8], toml: &str) -> (Vec<Result<Item, SourceError>>, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("export.json");
        std::fs::write(&path, text).expect("write");
        let toml = format!("path = \"export.json\"\n{toml}");
        let config = crate::source::config::source_from_toml(&toml, &dir.path().join("c.toml"))
            .expect("source config");
        (read(&config, &path).expect("open").collect(), dir)
    }

    fn records(items: Vec<Result<Item, SourceError>>) -> Vec<RawRecord> {
        items
            .into_iter()
            .filter_map(|i| match i.expect("no error") {
                Item::Record(r) => Some(r),
                Item::Skipped(_) | Item::Old(_) => None,
            })
            .collect()
    }

    #[test]
    fn an_array_at_a_nested_path_among_other_keys() {
        let text = r#"{"time": "x", "QueryResponse": {"maxResults": 2, "Customer": [
            {"Id": "1", "GivenName": "A", "Extra": {"deep": [1, 2, {"x": null}]}},
            {"Id": 2, "GivenName": "B"}
        ], "startPosition": 1}, "trailer": [1]}"#;
        let toml = "format = \"json\"\nrecords_path = \"QueryResponse.Customer\"\n[fields]\nid = \"Id\"\nfirstName = \"GivenName\"\n";
        let (items, _dir) = read_all(text, toml);
        let records = records(items);
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].get(Field::Id), Some("2"));
        assert_eq!(records[1].get(Field::FirstName), Some("B"));
        assert!(records[1].location.ends_with("record 2"));
    }

    #[test]
    fn a_top_level_array_and_ndjson() {
        let (items, _d) = read_all(r#"[{"id": "a"}, {"id": "b"}]"#, "format = \"json\"\n");
        assert_eq!(records(items).len(), 2);
        let (items, _d) = read_all(
            "{\"id\": \"a\"}\n\n{\"id\": \"b\"}\n",
            "format = \"ndjson\"\n",
        );
        assert_eq!(records(items).len(), 2);
    }

    #[test]
    fn a_cut_off_file_ends_with_an_error_after_the_complete_records() {
        let (items, _d) = read_all(
            r#"[{"id": "a"}, {"id": "b"}, {"id": "c", "first"#,
            "format = \"json\"\n",
        );
        let errors: Vec<_> = items.iter().filter(|i| i.is_err()).collect();
        assert_eq!(errors.len(), 1);
        let message = items
            .last()
            .expect("items")
            .as_ref()
            .expect_err("error")
            .to_string();
        assert!(message.contains("cut off"), "{message}");
        let (items, _d) = read_all(
            "{\"id\": \"a\"}\n{\"id\": \"b\", \"fi",
            "format = \"ndjson\"\n",
        );
        assert!(items.last().expect("items").is_err());
    }

    #[test]
    fn an_empty_or_missing_records_array_is_no_records() {
        let toml = "format = \"json\"\nrecords_path = \"QueryResponse.Customer\"\n";
        let (items, _d) = read_all(r#"{"QueryResponse": {}, "time": "t"}"#, toml);
        assert!(items.is_empty());
        let (items, _d) = read_all(r#"{"QueryResponse": {"Customer": null}}"#, toml);
        assert!(items.is_empty());
    }

    #[test]
    fn presets_skip_what_they_leave_out() {
        let text = r#"{"Contacts": [
            {"ContactID": "x1", "ContactStatus": "ACTIVE"},
            {"ContactID": "x2", "ContactStatus": "ARCHIVED"}
        ]}"#;
        let (items, _d) = read_all(text, "preset = \"xero\"\n");
        let skipped = items
            .iter()
            .filter(|i| matches!(i, Ok(Item::Skipped("archived"))))
            .count();
        assert_eq!(skipped, 1);
        assert_eq!(records(items).len(), 1);
    }

    #[test]
    fn json_in_the_encodings_windows_writes() {
        let toml = "format = \"json\"\n[fields]\nfirstName = \"name\"\n";
        // UTF-8 with a BOM.
        let (items, _d) = read_bytes(
            "\u{feff}[{\"id\": \"a\", \"name\": \"Renée\"}]".as_bytes(),
            toml,
        );
        assert_eq!(records(items)[0].get(Field::FirstName), Some("Renée"));
        // UTF-16LE with its BOM, whatever the setting.
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(
            "[{\"id\": \"a\", \"name\": \"Müller\"}]"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let (items, _d) = read_bytes(&utf16, toml);
        assert_eq!(records(items)[0].get(Field::FirstName), Some("Müller"));
        // Windows-1252 bytes: a source problem naming the line and the encoding to try...
        let latin =
            b"[{\"id\": \"a\", \"name\": \"Ann\"},\n {\"id\": \"b\", \"name\": \"Ren\xe9e\"}]";
        let (items, _d) = read_bytes(latin, toml);
        let message = items
            .last()
            .expect("items")
            .as_ref()
            .expect_err("not UTF-8")
            .to_string();
        assert!(
            message.contains("not UTF-8 at line 2: set source.encoding = \"windows-1252\"?"),
            "{message}"
        );
        // ...which then reads it.
        let toml = format!("encoding = \"windows-1252\"\n{toml}");
        let (items, _d) = read_bytes(latin, &toml);
        assert_eq!(records(items)[1].get(Field::FirstName), Some("Renée"));
    }

    #[test]
    fn number_ids_are_sent_as_their_decimal_string() {
        let (items, _d) = read_all(
            r#"[{"id": 460000000026049}, {"id": 12345.0}, {"id": 7.5}, {"id": -3}]"#,
            "format = \"json\"\n",
        );
        let ids: Vec<_> = records(items)
            .iter()
            .map(|r| r.get(Field::Id).map(str::to_owned))
            .collect();
        assert_eq!(
            ids,
            [
                Some("460000000026049".into()),
                Some("12345".into()),
                Some("7.5".into()),
                Some("-3".into())
            ]
        );
    }
}
