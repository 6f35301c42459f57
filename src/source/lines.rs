//! An invoice's lines (SPEC §9): the list at `[invoices.fields] lines`, each element read with
//! `[invoices.line_fields]`, paths inside one line. In a JSON export the list is the record's;
//! in a CSV export a column holds it as a JSON array.

use std::collections::BTreeMap;

use serde_json::Value;

use super::mapping::{FieldMap, FieldSource, FieldSpec, Path, unknown_name};
use super::{LineField, RawLine};

/// `[invoices.line_fields]` resolved: each line field's source, as paths inside one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSpecs {
    specs: Vec<(LineField, FieldSpec)>,
}

impl LineSpecs {
    /// From the names a config writes (any case), over the preset's; a field named nowhere is
    /// looked up by its API name. An error is (the key under `line_fields`, what is wrong).
    pub fn resolve(
        names: BTreeMap<String, FieldSource>,
        preset: PresetLines,
    ) -> Result<Self, (String, String)> {
        let mut sources: BTreeMap<LineField, FieldSource> = preset
            .iter()
            .map(|(field, path)| (*field, FieldSource::from(*path)))
            .collect();
        for (name, source) in names {
            let field = LineField::ALL
                .into_iter()
                .find(|f| f.api_name().eq_ignore_ascii_case(&name))
                .ok_or_else(|| {
                    let known = LineField::ALL.iter().map(|f| f.api_name());
                    (name.clone(), unknown_name("line field", &name, known))
                })?;
            sources.insert(field, source);
        }
        let specs = LineField::ALL
            .into_iter()
            .map(|field| {
                let source = sources
                    .remove(&field)
                    .unwrap_or_else(|| FieldSource::from(field.api_name()));
                FieldSpec::parse(&source, true)
                    .map(|spec| (field, spec))
                    .map_err(|e| (field.api_name().to_owned(), e))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { specs })
    }

    /// Each line field's source, paths inside one line.
    pub fn specs(&self) -> impl Iterator<Item = &FieldSpec> {
        self.specs.iter().map(|(_, spec)| spec)
    }

    /// The lines of a JSON record: the elements of the list at `list`.
    pub fn read_json(&self, list: &Path, record: &Value) -> Vec<RawLine> {
        list.items(record)
            .into_iter()
            .map(|item| self.read_line(item))
            .collect()
    }

    /// The lines a CSV cell holds as a JSON array; an error says what the cell is instead.
    pub fn read_text(&self, text: &str) -> Result<Vec<RawLine>, &'static str> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => Ok(items.iter().map(|item| self.read_line(item)).collect()),
            Ok(_) | Err(_) => Err("not a JSON array of lines"),
        }
    }

    fn read_line(&self, item: &Value) -> RawLine {
        let mut line = RawLine::default();
        for (field, spec) in &self.specs {
            if let Some(text) = spec.resolve(|path| path.lookup_text(item)) {
                line.set(*field, &text);
            }
        }
        line
    }
}

/// A preset's line fields: each field and its path inside one line.
pub type PresetLines = &'static [(LineField, &'static str)];

/// The path of the lines' list, when `fields` maps one (a CSV column, or a JSON path).
pub fn list_path(fields: &FieldMap, dotted: bool) -> Option<Result<Path, String>> {
    let source = fields.get(super::Field::Lines)?;
    Some(FieldSpec::parse(source, dotted).and_then(|spec| {
        spec.first_path()
            .cloned()
            .ok_or_else(|| "an empty list".to_owned())
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn specs(names: &[(&str, &str)], preset: PresetLines) -> LineSpecs {
        let names = names
            .iter()
            .map(|(k, v)| ((*k).to_owned(), FieldSource::from(*v)))
            .collect();
        LineSpecs::resolve(names, preset).expect("valid")
    }

    #[test]
    fn lines_are_the_matching_elements_each_read_with_its_paths() {
        let lines = specs(
            &[],
            &[
                (LineField::Description, "Description"),
                (LineField::UnitAmount, "SalesItemLineDetail.UnitPrice"),
                (LineField::Quantity, "SalesItemLineDetail.Qty"),
                (LineField::SubTotal, "Amount"),
            ],
        );
        let record = json!({"Line": [
            {"DetailType": "SalesItemLineDetail", "Description": "Rock", "Amount": 1234567.89,
             "SalesItemLineDetail": {"UnitPrice": 0.1, "Qty": 2.5}},
            {"DetailType": "SubTotalLineDetail", "Amount": 1234567.89},
            {"DetailType": "SalesItemLineDetail", "Amount": 19.99}
        ]});
        let list = Path::parse("Line[DetailType=SalesItemLineDetail]", true).expect("path");
        let read = lines.read_json(&list, &record);
        assert_eq!(read.len(), 2, "the sub-total line is not a line");
        assert_eq!(read[0].get(LineField::Description), Some("Rock"));
        assert_eq!(read[0].get(LineField::SubTotal), Some("1234567.89"));
        assert_eq!(read[0].get(LineField::UnitAmount), Some("0.1"));
        assert_eq!(read[0].get(LineField::Quantity), Some("2.5"));
        assert_eq!(read[1].get(LineField::Description), None);
        let all = Path::parse("Line", true).expect("path");
        assert_eq!(lines.read_json(&all, &record).len(), 3);
        let none = Path::parse("Nothing", true).expect("path");
        assert!(lines.read_json(&none, &record).is_empty());
    }

    #[test]
    fn a_csv_cell_holds_the_lines_as_a_json_array() {
        let lines = specs(&[("DESCRIPTION", "text"), ("amount", "value")], &[]);
        let read = lines
            .read_text(r#"[{"text": "Rock", "value": "12.50", "quantity": 3}]"#)
            .expect("lines");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].get(LineField::Description), Some("Rock"));
        assert_eq!(read[0].get(LineField::Amount), Some("12.50"));
        assert_eq!(read[0].get(LineField::Quantity), Some("3"));
        for bad in ["{}", "Rock x 3", "[1, 2"] {
            assert_eq!(
                lines.read_text(bad),
                Err("not a JSON array of lines"),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_unknown_line_field_is_named() {
        let names = [("price".to_owned(), FieldSource::from("x"))].into();
        let (key, problem) = LineSpecs::resolve(names, &[]).expect_err("unknown");
        assert_eq!(key, "price");
        assert!(problem.contains("`unitAmount`"), "{problem}");
    }
}
