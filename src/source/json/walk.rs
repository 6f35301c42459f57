//! Walking a JSON document to its records array, each record read as a [`Keep`] says under
//! a [`Budget`], everything else skipped unparsed into memory: an export file's (see
//! [`super`]) and an API's page (see [`records_in`]).

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::super::guard::{Broken, Budget, Metered};
use super::super::keep::{Keep, Reading};
use super::super::size::ByteSize;

/// What receives the records of the array.
pub trait Sink {
    /// Why it wants no more records.
    type Stop: fmt::Display;
    fn keep(&self) -> &Keep;
    /// One record as kept; `duplicate` is a key one of its objects holds twice.
    fn take(&mut self, value: Value, duplicate: Option<String>) -> Result<(), Self::Stop>;
}

/// Reads the document `de` holds down `path` to its records array, handing each record to
/// `sink`. Whether the array was there.
pub fn records<'de, D: de::Deserializer<'de>, S: Sink>(
    path: &[String],
    sink: &mut S,
    budget: &Budget,
    de: D,
) -> Result<bool, D::Error> {
    AtPath { path, sink, budget }.deserialize(de)
}

/// Why an API's page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// A record's kept values are longer than the budget.
    #[error("{0}")]
    TooLong(Broken),
    #[error("{0}")]
    Malformed(String),
}

/// The records at `path` of one JSON document held in memory (an API's page), each kept as
/// `keep` says, at most `limit` of kept bytes each; an empty list when the array is not
/// there.
pub fn records_in(
    body: &[u8],
    path: &[String],
    keep: &Keep,
    limit: ByteSize,
) -> Result<Vec<Value>, PageError> {
    let budget = Budget::new(limit);
    let mut de = serde_json::Deserializer::from_reader(Metered::new(body, budget.clone()));
    let mut collected = Collect {
        keep,
        records: Vec::new(),
    };
    let read = records(path, &mut collected, &budget, &mut de).and_then(|_| de.end());
    match read {
        Ok(()) => Ok(collected.records),
        Err(e) if e.is_io() => {
            let io = std::io::Error::from(e);
            match Broken::inside(&io) {
                Some(broken) => Err(PageError::TooLong(broken.clone())),
                None => Err(PageError::Malformed(io.to_string())),
            }
        }
        Err(e) => Err(PageError::Malformed(e.to_string())),
    }
}

/// Keeps every record of a page.
struct Collect<'k> {
    keep: &'k Keep,
    records: Vec<Value>,
}

impl Sink for Collect<'_> {
    type Stop = std::convert::Infallible;

    fn keep(&self) -> &Keep {
        self.keep
    }

    fn take(&mut self, value: Value, _: Option<String>) -> Result<(), Self::Stop> {
        self.records.push(value);
        Ok(())
    }
}

/// Walks down `path` (object keys) to the records array, skipping everything else unparsed
/// into memory. Returns whether the array was there.
struct AtPath<'a, S> {
    path: &'a [String],
    sink: &'a mut S,
    budget: &'a Budget,
}

impl<'de, S: Sink> DeserializeSeed<'de> for AtPath<'_, S> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        if self.path.is_empty() {
            d.deserialize_any(RecordsVisitor(self.sink, self.budget))
        } else {
            d.deserialize_any(DescendVisitor(self))
        }
    }
}

struct DescendVisitor<'a, S>(AtPath<'a, S>);

impl<'de, S: Sink> Visitor<'de> for DescendVisitor<'_, S> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.0.path[0])
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let AtPath { path, sink, budget } = self.0;
        let mut found = false;
        loop {
            budget.start();
            let Some(key) = map.next_key::<String>()? else {
                break;
            };
            if !found && key == path[0] {
                found = map.next_value_seed(AtPath {
                    path: &path[1..],
                    sink: &mut *sink,
                    budget,
                })?;
            } else {
                budget.uncounted(|| map.next_value::<IgnoredAny>())?;
            }
        }
        Ok(found)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

struct RecordsVisitor<'a, S>(&'a mut S, &'a Budget);

impl<'de, S: Sink> Visitor<'de> for RecordsVisitor<'_, S> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let RecordsVisitor(sink, budget) = self;
        loop {
            budget.start();
            let reading = Reading::new(Some(budget));
            let seed = Record {
                keep: sink.keep(),
                reading: &reading,
            };
            let Some(value) = seq.next_element_seed(seed)? else {
                break;
            };
            sink.take(value, reading.duplicate.into_inner())
                .map_err(de::Error::custom)?;
        }
        Ok(true)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// One record of the array, read as [`Keep`] says.
struct Record<'a, 'b> {
    keep: &'a Keep,
    reading: &'a Reading<'b>,
}

impl<'de> DeserializeSeed<'de> for Record<'_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.reading.record(self.keep, d)
    }
}
