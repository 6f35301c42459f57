//! Where each API field comes from in an export record: the syntax of `[source.fields]`.
//!
//! - A **path** names a CSV column (`"Customer ID"`), or a value in a JSON record: keys joined
//!   by dots (`PrimaryEmailAddr.Address`), and, to pick one element of an array, either its
//!   index (`Addresses[0].City`) or the first element whose field has a value
//!   (`Phones[PhoneType=MOBILE].PhoneNumber`).
//! - **Alternatives**: `"Mobile.FreeFormNumber | PrimaryPhone.FreeFormNumber"` takes the first
//!   path that has a non-empty value.
//! - **Parts**: a list, `["+Phones[PhoneType=MOBILE].PhoneCountryCode", "Phones[...].PhoneNumber"]`,
//!   joins the non-empty values of its parts with a space; a part written with a leading `+`
//!   gets a `+` in front of its value (for a country calling code), when it has none.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::{Field, Kind};

/// How the export is written; it decides whether a field's source is a column name (CSV) or a
/// dotted path (JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Csv,
    Json,
    Ndjson,
}

/// Where each API field comes from in the export, as configured (`[source.fields]`,
/// `[invoices.fields]`) or filled in by a preset (see [`crate::source::mapping`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap(BTreeMap<Field, FieldSource>);

impl FieldMap {
    pub fn get(&self, field: Field) -> Option<&FieldSource> {
        self.0.get(&field)
    }

    pub fn set(&mut self, field: Field, source: FieldSource) {
        self.0.insert(field, source);
    }

    /// This map's fields, each falling back to `other`'s.
    pub fn or(mut self, other: FieldMap) -> FieldMap {
        for (field, source) in other.0 {
            self.0.entry(field).or_insert(source);
        }
        self
    }

    /// The fields a config file names, for records of `kind`. Names are the API's; any case
    /// is accepted (environment overrides come lower-cased). An unknown name is an error:
    /// (the name, what is wrong).
    pub fn named(
        kind: Kind,
        names: BTreeMap<String, FieldSource>,
    ) -> Result<Self, (String, String)> {
        let mut map = FieldMap::default();
        for (name, source) in names {
            let field = kind
                .fields()
                .iter()
                .find(|f| f.api_name().eq_ignore_ascii_case(&name));
            match field {
                Some(field) => map.set(*field, source),
                None => {
                    let known = kind.fields().iter().map(|f| f.api_name());
                    let problem = unknown_name(&format!("{kind} field"), &name, known);
                    return Err((name, problem));
                }
            }
        }
        Ok(map)
    }
}

/// `unknown invoice field `x`, expected one of `id`, ...`.
pub fn unknown_name<'a>(what: &str, name: &str, known: impl Iterator<Item = &'a str>) -> String {
    let known: Vec<String> = known.map(|k| format!("`{k}`")).collect();
    format!(
        "unknown {what} `{name}`, expected one of {}",
        known.join(", ")
    )
}

impl<const N: usize> From<[(Field, FieldSource); N]> for FieldMap {
    fn from(fields: [(Field, FieldSource); N]) -> Self {
        Self(fields.into_iter().collect())
    }
}

/// A `[source.fields]` value as written: one path, or a list of parts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum FieldSource {
    One(String),
    Parts(Vec<String>),
}

impl FieldSource {
    fn parts(&self) -> &[String] {
        match self {
            FieldSource::One(s) => std::slice::from_ref(s),
            FieldSource::Parts(parts) => parts,
        }
    }
}

impl fmt::Display for FieldSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldSource::One(s) => write!(f, "{s}"),
            FieldSource::Parts(parts) => write!(f, "{}", parts.join(" + ")),
        }
    }
}

impl From<&str> for FieldSource {
    fn from(s: &str) -> Self {
        FieldSource::One(s.to_owned())
    }
}

/// A parsed field source, ready to read records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    plus: bool,
    alternatives: Vec<Path>,
}

/// One path into a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(String, usize),
    Select {
        key: String,
        field: String,
        value: String,
    },
}

impl Path {
    /// Parses one path; `dotted` for JSON, otherwise the text is one CSV column name.
    pub fn parse(text: &str, dotted: bool) -> Result<Self, String> {
        parse_path(text, dotted)
    }

    /// The keys it walks down, each with the field an array element is selected by, if any:
    /// what a JSON record must keep for this path to be read.
    pub fn steps(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.segments.iter().map(|segment| match segment {
            Segment::Key(key) | Segment::Index(key, _) => (key.as_str(), None),
            Segment::Select { key, field, .. } => (key.as_str(), Some(field.as_str())),
        })
    }

    /// The whole path as one name: a CSV column.
    pub fn column(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Key(name)] => Some(name),
            _ => None,
        }
    }

    /// The value at this path in a JSON record, as text (numbers and booleans too), as a rule
    /// compares it (`Active` `false`).
    pub fn lookup<'v>(&self, record: &'v Value) -> Option<Cow<'v, str>> {
        scalar(self.value(record)?)
    }

    /// The value at this path as a field's text: a JSON `false` is absent, as `null` is (Odoo
    /// writes `false` for every empty field), so "else" fallbacks apply and a reason says
    /// `missing`, never that "false" is not a phone number.
    pub fn lookup_text<'v>(&self, record: &'v Value) -> Option<Cow<'v, str>> {
        match self.value(record)? {
            Value::Bool(false) => None,
            value => scalar(value),
        }
    }

    pub(super) fn value<'v>(&self, record: &'v Value) -> Option<&'v Value> {
        let mut at = record;
        for segment in &self.segments {
            at = segment.step(at)?;
        }
        Some(at)
    }

    /// The list at this path in a JSON record (an invoice's lines): the array's elements, or
    /// when the path ends by selecting (`Line[DetailType=SalesItemLineDetail]`) every element
    /// that matches; empty when there is none.
    pub fn items<'v>(&self, record: &'v Value) -> Vec<&'v Value> {
        let Some((last, before)) = self.segments.split_last() else {
            return Vec::new();
        };
        let mut at = record;
        for segment in before {
            match segment.step(at) {
                Some(next) => at = next,
                None => return Vec::new(),
            }
        }
        let list = |key: &str| at.get(key).and_then(Value::as_array);
        match last {
            Segment::Key(key) => list(key).map(|a| a.iter().collect()).unwrap_or_default(),
            Segment::Select { key, field, value } => list(key)
                .map(|a| {
                    a.iter()
                        .filter(|item| matches(item, field, value))
                        .collect()
                })
                .unwrap_or_default(),
            Segment::Index(..) => last.step(at).into_iter().collect(),
        }
    }
}

impl Segment {
    /// One step down a JSON value.
    fn step<'v>(&self, at: &'v Value) -> Option<&'v Value> {
        match self {
            Segment::Key(key) => at.get(key),
            Segment::Index(key, index) => at.get(key)?.get(index),
            Segment::Select { key, field, value } => at
                .get(key)?
                .as_array()?
                .iter()
                .find(|item| matches(item, field, value)),
        }
    }
}

/// Whether a JSON object's `field` is `value`.
fn matches(item: &Value, field: &str, value: &str) -> bool {
    item.get(field).and_then(scalar).as_deref() == Some(value)
}

fn scalar(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        // Exactly as written (`arbitrary_precision`): `1e400`, `1.0` and `1` are three ids.
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

impl FieldSpec {
    /// `dotted`: JSON paths; otherwise every path is one CSV column name.
    pub fn parse(source: &FieldSource, dotted: bool) -> Result<Self, String> {
        let parts = source
            .parts()
            .iter()
            .map(|part| {
                let (plus, text) = match part.trim().strip_prefix('+') {
                    Some(rest) => (true, rest),
                    None => (false, part.trim()),
                };
                let alternatives = text
                    .split('|')
                    .map(|alt| parse_path(alt.trim(), dotted))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Part { plus, alternatives })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if parts.is_empty() {
            return Err("an empty list".into());
        }
        Ok(Self { parts })
    }

    /// Its first path (a list's path is one path).
    pub fn first_path(&self) -> Option<&Path> {
        self.parts.first()?.alternatives.first()
    }

    /// One path, read as it is.
    pub fn is_single(&self) -> bool {
        matches!(self.parts.as_slice(), [part] if !part.plus && part.alternatives.len() == 1)
    }

    /// Each part's alternatives: a part needs one of its paths, not all.
    pub fn parts(&self) -> impl Iterator<Item = &[Path]> {
        self.parts.iter().map(|p| p.alternatives.as_slice())
    }

    /// The field's value, given how to look a path up in the record.
    pub fn resolve<'r>(&self, lookup: impl Fn(&Path) -> Option<Cow<'r, str>>) -> Option<String> {
        if let [part] = self.parts.as_slice()
            && !part.plus
        {
            return first_non_empty(part, &lookup).map(Cow::into_owned);
        }
        let mut joined = String::new();
        for part in &self.parts {
            let Some(value) = first_non_empty(part, &lookup) else {
                continue;
            };
            if !joined.is_empty() {
                joined.push(' ');
            }
            if part.plus && !value.starts_with('+') {
                joined.push('+');
            }
            joined.push_str(&value);
        }
        (!joined.is_empty()).then_some(joined)
    }
}

fn first_non_empty<'r>(
    part: &Part,
    lookup: &impl Fn(&Path) -> Option<Cow<'r, str>>,
) -> Option<Cow<'r, str>> {
    part.alternatives.iter().find_map(|path| {
        lookup(path).and_then(|v| match v {
            Cow::Borrowed(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s.trim())),
            Cow::Owned(s) if !s.trim().is_empty() => Some(Cow::Owned(s.trim().to_owned())),
            _ => None,
        })
    })
}

fn parse_path(text: &str, dotted: bool) -> Result<Path, String> {
    if text.is_empty() {
        return Err("an empty path".into());
    }
    if !dotted {
        return Ok(Path {
            segments: vec![Segment::Key(text.to_owned())],
        });
    }
    let mut segments = Vec::new();
    for raw in split_dots(text) {
        let raw = raw.trim();
        let segment = match raw.split_once('[') {
            None => Segment::Key(raw.to_owned()),
            Some((key, rest)) => {
                let inner = rest.strip_suffix(']').ok_or_else(|| {
                    format!("`{}`: `[` without a closing `]`", raw.escape_debug())
                })?;
                match inner.split_once('=') {
                    Some((field, value)) => Segment::Select {
                        key: key.trim().to_owned(),
                        field: field.trim().to_owned(),
                        value: value.trim().trim_matches('"').to_owned(),
                    },
                    None => Segment::Index(
                        key.trim().to_owned(),
                        inner.trim().parse().map_err(|_| {
                            format!("`{}`: use `[index]` or `[field=value]`", raw.escape_debug())
                        })?,
                    ),
                }
            }
        };
        match &segment {
            Segment::Key(k) | Segment::Index(k, _) | Segment::Select { key: k, .. }
                if k.is_empty() =>
            {
                return Err(format!("`{}`: an empty key", text.escape_debug()));
            }
            _ => segments.push(segment),
        }
    }
    Ok(Path { segments })
}

/// Splits on dots outside `[...]`, so a selector's value may hold a dot.
fn split_dots(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests;
