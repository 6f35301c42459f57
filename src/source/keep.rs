//! What a JSON record keeps (SPEC §10): the values at the paths the config reads (its fields,
//! the preset's left-out rules, an invoice's lines). Everything else is skipped as it is
//! parsed, never held, whatever its size (Odoo's base64 `image_1920`), and a key written twice
//! in a kept object is noticed.

use std::cell::RefCell;
use std::collections::BTreeMap;

use foldhash::{HashSet, HashSetExt as _};
use std::fmt;

use serde::Deserialize as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::config::SourceConfig;
use super::guard::Budget;
use super::mapping::Path;

/// The tree of keys a record keeps.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    /// Kept whole: a value some path ends at.
    whole: bool,
    children: BTreeMap<String, Keep>,
}

impl Keep {
    /// Everything `config` reads from a record.
    pub fn for_config(config: &SourceConfig) -> Self {
        let mut keep = Keep::default();
        for (field, spec) in &config.specs {
            for path in spec.parts().flatten() {
                let node = keep.walk(path);
                match (&config.lines, *field == super::Field::Lines) {
                    // A list of lines keeps, in each element, what the line fields read.
                    (Some(lines), true) => {
                        for line_path in lines.specs().flat_map(|s| s.parts().flatten()) {
                            node.walk(line_path).whole = true;
                        }
                    }
                    _ => node.whole = true,
                }
            }
        }
        let rules = config.leave_out.iter().chain(&config.organisation);
        for path in rules.flat_map(|rule| rule.test.places()) {
            keep.walk(path).whole = true;
        }
        keep
    }

    /// Keeps what `path` reads too.
    pub fn also(&mut self, path: &Path) {
        self.walk(path).whole = true;
    }

    /// The node `path` ends at, made on the way (with the field an element is selected by).
    fn walk(&mut self, path: &Path) -> &mut Keep {
        let mut node = self;
        for (key, selected_by) in path.steps() {
            node = node.children.entry(key.to_owned()).or_default();
            if let Some(field) = selected_by {
                node.children.entry(field.to_owned()).or_default().whole = true;
            }
        }
        node
    }
}

/// What reading one record shares: the budget its kept bytes count against, and the first key
/// found twice in one of its objects.
pub struct Reading<'a> {
    pub budget: Option<&'a Budget>,
    pub duplicate: RefCell<Option<String>>,
}

impl<'a> Reading<'a> {
    pub fn new(budget: Option<&'a Budget>) -> Self {
        Self {
            budget,
            duplicate: RefCell::new(None),
        }
    }

    /// Reads one record: what `keep` names, the rest skipped.
    pub fn record<'de, D: de::Deserializer<'de>>(
        &self,
        keep: &Keep,
        d: D,
    ) -> Result<Value, D::Error> {
        Node {
            keep,
            reading: self,
        }
        .deserialize(d)
    }

    fn skip<T>(&self, skip: impl FnOnce() -> T) -> T {
        match self.budget {
            Some(budget) => budget.uncounted(skip),
            None => skip(),
        }
    }
}

/// A kept value: a number as the exact text of the file (`1e400`, `1.0`: parsing would write
/// `1e+400`), as every path reads a number as its text; anything else parsed.
fn kept(text: &str) -> serde_json::Result<Value> {
    match text.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => Ok(Value::String(text.to_owned())),
        _ => serde_json::from_str(text),
    }
}

struct Node<'k, 'r, 'b> {
    keep: &'k Keep,
    reading: &'r Reading<'b>,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.keep.whole {
            let raw = Box::<RawValue>::deserialize(d)?;
            kept(raw.get()).map_err(de::Error::custom)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Every record's keys are hashed: a fast, randomly seeded hash.
        let mut seen = HashSet::new();
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                self.reading
                    .duplicate
                    .borrow_mut()
                    .get_or_insert_with(|| key.clone());
            }
            match self.keep.children.get(&key) {
                Some(child) => {
                    let value = map.next_value_seed(Node {
                        keep: child,
                        reading: self.reading,
                    })?;
                    object.insert(key, value);
                }
                None => {
                    self.reading.skip(|| map.next_value::<IgnoredAny>())?;
                }
            }
        }
        Ok(Value::Object(object))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Node {
            keep: self.keep,
            reading: self.reading,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    // A scalar where the path wants an object or a list holds nothing the path reads.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}
