//! JSON exports (an array, or an object holding the array at `source.records_path`) and NDJSON.
//! A reader thread parses the file streaming, one record in memory at a time, keeping only the
//! values the config reads (see [`super::keep`]), and hands the records over a bounded channel,
//! so a file of any size is read in bounded memory and parsing runs beside the store's work.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};

use serde_json::Value;

use super::config::{SourceConfig, SourceFormat};
use super::decode::{self, Text, Undecodable};
use super::guard::{Broken, Budget, Metered};
use super::keep::{Keep, Reading};

pub mod walk;
use super::{Field, RawRecord};
use super::{Item, Records, SourceError, open_regular, unreadable};

/// The export's text, checked UTF-8.
type Input = Text<File>;

/// Batches of records waiting between the reader thread and the pass.
const CHANNEL_BATCHES: usize = 4;

/// Records go to the pass in batches of at most this many, or of [`BATCH_BYTES`]: one wake-up
/// of the pass a batch, not one a record.
const BATCH_RECORDS: usize = 64;
const BATCH_BYTES: usize = 1024 * 1024;

/// What the reader thread hands to the pass at once.
type Batch = Vec<Result<Item, SourceError>>;

pub fn read(config: &SourceConfig, path: &Path) -> Result<Records, SourceError> {
    let file = open_regular(path)?;
    let text = decode::open(file, config.encoding).map_err(|e| unreadable(path, e))?;
    let (tx, rx) = sync_channel(CHANNEL_BATCHES);
    let reader = RecordReader {
        keep: Keep::for_config(config),
        config: config.clone(),
        path: path.to_owned(),
        tx,
        batch: Vec::with_capacity(BATCH_RECORDS),
        batch_bytes: 0,
        index: 0,
        stopped: false,
    };
    std::thread::Builder::new()
        .name("export-reader".into())
        .spawn(move || reader.run(text))
        .map_err(|e| unreadable(path, e))?;
    Ok(Box::new(rx.into_iter().flatten()))
}

struct RecordReader {
    config: SourceConfig,
    keep: Keep,
    path: PathBuf,
    tx: SyncSender<Batch>,
    /// Records read and not yet handed over, and their bytes.
    batch: Batch,
    batch_bytes: usize,
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
            SourceFormat::Ndjson => self.read_lines(BufReader::with_capacity(256 * 1024, input)),
            _ => self.read_document(input).map_err(|e| self.problem(e)),
        };
        if self.stopped || self.flush().is_err() {
            return;
        }
        if let Err(error) = result {
            let _ = self.tx.send(vec![Err(error)]);
        }
    }

    /// Hands the records read so far to the pass.
    fn flush(&mut self) -> Result<(), Stopped> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_RECORDS));
        self.batch_bytes = 0;
        self.tx.send(batch).map_err(|_| {
            self.stopped = true;
            Stopped
        })
    }

    /// A reading error, in the operator's terms.
    fn io_problem(&self, io: std::io::Error) -> SourceError {
        if let Some(broken) = Broken::inside(&io) {
            return broken.problem(&self.path, self.config.kind);
        }
        match Undecodable::inside(&io) {
            Some(bad) => SourceError::Undecodable {
                path: self.path.clone(),
                at: format!("line {}", bad.line),
                encoding: bad.encoding,
                advice: bad.advice(),
            },
            None => unreadable(&self.path, io),
        }
    }

    /// What went wrong, in the operator's terms.
    fn problem(&self, error: serde_json::Error) -> SourceError {
        if error.is_io() {
            return self.io_problem(std::io::Error::from(error));
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

    /// One record a line, each line no longer than `max_row_bytes`.
    fn read_lines(&mut self, mut input: BufReader<Input>) -> Result<(), SourceError> {
        let limit = self.config.max_row_bytes;
        let mut line = Vec::new();
        let mut number = 0;
        loop {
            line.clear();
            let read = (&mut input)
                .take(limit.0 + 1)
                .read_until(b'\n', &mut line)
                .map_err(|e| self.io_problem(e))?;
            if read == 0 {
                return Ok(());
            }
            number += 1;
            if read as u64 > limit.0 && line.last() != Some(&b'\n') {
                let broken = Broken::TooLong {
                    line: number,
                    limit,
                };
                return Err(broken.problem(&self.path, self.config.kind));
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let reading = Reading::new(None);
            let mut de = serde_json::Deserializer::from_slice(&line);
            let value = reading
                .record(&self.keep, &mut de)
                .and_then(|value| de.end().map(|()| value))
                .map_err(|e| SourceError::Malformed {
                    path: self.path.clone(),
                    at: format!("line {number}"),
                    detail: if e.is_eof() {
                        "the line ends in the middle of the JSON (cut off, or still being written)"
                            .into()
                    } else {
                        format!("{e}").replace(" at line 1 column", " at column")
                    },
                })?;
            if self.emit(value, reading.duplicate.into_inner()).is_err() {
                return Ok(());
            }
        }
    }

    fn read_document(&mut self, input: Input) -> serde_json::Result<()> {
        let budget = Budget::new(self.config.max_row_bytes);
        let mut de = serde_json::Deserializer::from_reader(Metered::new(input, budget.clone()));
        let path = self.config.records_path.clone();
        let found = walk::records(&path, self, &budget, &mut de)?;
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

    /// Maps one record and hands it to the pass; `duplicate` is a key one of its objects
    /// holds twice.
    fn emit(&mut self, value: Value, duplicate: Option<String>) -> Result<(), Stopped> {
        self.index += 1;
        let left_out = (self.config.leave_out.iter()).position(|rule| rule.leaves_out(&value));
        let item = match left_out {
            Some(rule) => {
                let read = |wanted: Field| {
                    (self.config.specs.iter())
                        .find(|(field, _)| *field == wanted)
                        .and_then(|(_, spec)| spec.resolve(|p| p.lookup_text(&value)))
                };
                let parent = (self.config.fields.get(Field::ParentId)).and(read(Field::ParentId));
                Item::LeftOut {
                    rule,
                    id: read(Field::Id),
                    parent,
                }
            }
            None => {
                let location = match &self.config.origin {
                    Some(origin) => format!("{origin} record {}", self.index),
                    None => format!("{} record {}", self.path.display(), self.index),
                };
                let mut raw = RawRecord::new(self.config.kind, location);
                for (field, spec) in &self.config.specs {
                    if let Some(text) = spec.resolve(|p| p.lookup_text(&value)) {
                        raw.set(*field, &text);
                    }
                    if *field == Field::Lines
                        && let (Some(lines), Some(list)) = (&self.config.lines, spec.first_path())
                    {
                        raw.lines = lines.read_json(list, &value);
                    }
                }
                raw.duplicate_key = duplicate.map(|key| (self.field_reading(&key), key));
                raw.organisation =
                    (self.config.organisation.as_ref()).is_some_and(|rule| rule.leaves_out(&value));
                Item::Record(raw)
            }
        };
        if let Item::Record(raw) = &item {
            self.batch_bytes += raw.held_bytes();
        }
        self.batch.push(Ok(item));
        if self.batch.len() >= BATCH_RECORDS || self.batch_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// The field a record's key is read for, or `id` (the record's) for a key nobody maps.
    fn field_reading(&self, key: &str) -> Field {
        self.config
            .specs
            .iter()
            .find(|(_, spec)| {
                spec.parts()
                    .flatten()
                    .any(|path| path.steps().next().is_some_and(|(first, _)| first == key))
            })
            .map_or(Field::Id, |(field, _)| *field)
    }
}

impl walk::Sink for RecordReader {
    type Stop = Stopped;

    fn keep(&self) -> &Keep {
        &self.keep
    }

    fn take(&mut self, value: Value, duplicate: Option<String>) -> Result<(), Stopped> {
        self.emit(value, duplicate)
    }
}

#[cfg(test)]
mod tests;
