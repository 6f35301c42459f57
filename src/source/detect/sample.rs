//! The first records of an export, read no further: CSV rows, NDJSON lines, or the first
//! array of objects in a JSON document.

use std::io::Read;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::SAMPLE;

pub(super) type Rows = (Vec<String>, Vec<Vec<String>>);

/// The header and first rows; with `tag` (IIF's `!CUST`), the header is the row whose first
/// cell is the tag, and the rows those whose first cell is the tag without its `!`.
pub(super) fn sample_csv(
    input: impl Read,
    delimiter: u8,
    tag: Option<&str>,
) -> std::io::Result<Rows> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(input);
    let cells = |record: &csv::StringRecord| -> Vec<String> {
        record
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').trim().to_owned())
            .collect()
    };
    let mut header = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_io)?;
        let first = record.get(0).map(str::trim);
        match (&header, tag) {
            (None, None) => header = Some(cells(&record)),
            (None, Some(tag)) if first == Some(tag) => header = Some(cells(&record)),
            (None, Some(_)) => {}
            (Some(_), Some(tag)) if first != Some(tag.trim_start_matches('!')) => {}
            (Some(_), _) => rows.push(cells(&record)),
        }
        if rows.len() == SAMPLE {
            break;
        }
    }
    Ok((header.unwrap_or_default(), rows))
}

fn csv_io(error: csv::Error) -> std::io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{other:?}")),
    }
}

pub(super) fn sample_ndjson(input: impl Read) -> std::io::Result<(String, Vec<Value>)> {
    let mut records = Vec::new();
    for record in serde_json::Deserializer::from_reader(input)
        .into_iter::<Value>()
        .take(SAMPLE)
    {
        match record {
            Ok(record) => records.push(record),
            // The prefix ended inside a record: the records before are the sample.
            Err(e) if e.is_eof() && !records.is_empty() => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok((String::new(), records))
}

/// The first array of objects in the document, walking down objects in order, and its first
/// records; parsing stops there.
pub(super) fn sample_json(input: impl Read) -> std::io::Result<(String, Vec<Value>)> {
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
        // The prefix ended inside the records array: the records before are the sample.
        Err(e) if e.is_eof() && !found.pending.is_empty() => {
            found.path = found.pending_path.take();
            found.records = std::mem::take(&mut found.pending);
        }
        Err(e) => return Err(e.into()),
    }
    Ok((found.path.unwrap_or_default(), found.records))
}

#[derive(Default)]
struct Found {
    path: Option<String>,
    records: Vec<Value>,
    /// The records of the array being read, and its path.
    pending: Vec<Value>,
    pending_path: Option<String>,
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
        let found = self.found;
        found.pending.clear();
        found.pending_path = Some(self.path.join("."));
        while let Some(value) = seq.next_element::<Value>()? {
            if !value.is_object() {
                // Not an array of records: leave it.
                found.pending.clear();
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(());
            }
            found.pending.push(value);
            if found.pending.len() >= SAMPLE {
                found.path = found.pending_path.take();
                found.records = std::mem::take(&mut found.pending);
                return Err(de::Error::custom("sampled"));
            }
        }
        if !found.pending.is_empty() || self.path.is_empty() {
            found.path = found.pending_path.take();
            found.records = std::mem::take(&mut found.pending);
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
