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
            Item::LeftOut { .. } | Item::Old(_) => None,
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
        .filter_map(|i| match i {
            Ok(Item::LeftOut { rule: 0, id, .. }) => id.clone(),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert_eq!(skipped, ["x2"]);
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
    let latin = b"[{\"id\": \"a\", \"name\": \"Ann\"},\n {\"id\": \"b\", \"name\": \"Ren\xe9e\"}]";
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
fn number_ids_are_sent_as_their_exact_text() {
    let (items, _d) = read_all(
        r#"[{"id": 460000000026049}, {"id": 12345.0}, {"id": 7.5}, {"id": -3},
            {"id": 1e400}, {"id": 1}, {"id": 1.0}, {"id": 1E-7}]"#,
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
            Some("12345.0".into()),
            Some("7.5".into()),
            Some("-3".into()),
            Some("1e400".into()),
            Some("1".into()),
            Some("1.0".into()),
            Some("1E-7".into())
        ]
    );
}

#[test]
fn unmapped_values_of_any_size_are_skipped_and_mapped_ones_are_bounded() {
    let image = "A".repeat(3 * 1024 * 1024);
    let text = format!(
        r#"[{{"id": "a", "image_1920": "{image}", "nested": {{"x": ["{image}"]}}}}, {{"id": "b"}}]"#
    );
    let toml = "format = \"json\"\nmax_row_bytes = \"1MiB\"\n";
    let (items, _d) = read_all(&text, toml);
    assert_eq!(records(items).len(), 2);
    // The same value mapped is over the limit: a broken export naming the line and the key.
    let toml = "format = \"json\"\n[fields]\nfirstName = \"image_1920\"\n";
    let (items, _d) = read_all(&text.replacen("[{", "[\n{", 1), toml);
    let message = items
        .last()
        .expect("items")
        .as_ref()
        .expect_err("too long")
        .to_string();
    assert!(
        message.contains("at line 2: longer than source.max_row_bytes (1MiB)"),
        "{message}"
    );
}

#[test]
fn a_key_twice_is_named_with_the_field_it_is_read_for() {
    let text = r#"[{"id": "a", "firstName": "A", "firstName": "B"},
                   {"id": "b", "x": 1, "x": 2},
                   {"id": "c", "x": {"y": 1, "y": 1}}]"#;
    let (items, _d) = read_all(text, "format = \"json\"\n");
    let twice: Vec<_> = records(items)
        .into_iter()
        .map(|r| r.duplicate_key)
        .collect();
    assert_eq!(
        twice,
        [
            Some((Field::FirstName, "firstName".to_owned())),
            Some((Field::Id, "x".to_owned())),
            // Inside a value nobody reads: skipped unparsed.
            None,
        ]
    );
}
