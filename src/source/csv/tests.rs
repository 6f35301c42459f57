use super::*;

/// Reads `bytes` as `export.csv` with the `[source]` keys in `toml`.
fn try_read_items(bytes: &[u8], toml: &str) -> Result<Vec<Item>, SourceError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.csv");
    std::fs::write(&path, bytes).expect("write");
    let text = format!("path = \"export.csv\"\nsettle = \"0s\"\n{toml}");
    let config = crate::source::config::source_from_toml(&text, &dir.path().join("c.toml"))
        .expect("source config");
    CsvExport::open(&config, &path)?.collect()
}

fn try_read(bytes: &[u8], toml: &str) -> Result<Vec<RawRecord>, SourceError> {
    let items = try_read_items(bytes, toml)?;
    Ok(items
        .into_iter()
        .map(|item| match item {
            Item::Record(r) => r,
            other => panic!("CSV skips nothing here, got {other:?}"),
        })
        .collect())
}

fn read(bytes: &[u8], toml: &str) -> Vec<RawRecord> {
    try_read(bytes, toml).expect("read")
}

const HEADER: &str = "id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate";

#[test]
fn bom_crlf_quotes_and_trimming() {
    let text = format!(
        "\u{feff}{HEADER}\r\n\
             C1,\"Smith, Jr\",\"O\"\"Neil\",a@b.co,  626 555 0100 ,2023-01-04\r\n\
             \r\n\
             C2,\"multi\nline\",X,x@y.co,1,2\r\n\
             \x20 , ,\t,,  ,\r\n"
    );
    let records = read(text.as_bytes(), "");
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
fn mapped_columns_alternatives_parts_and_delimiter() {
    let toml = r#"delimiter = ";"
[fields]
id = "Customer No"
firstName = "First"
lastName = "Last"
emailAddress = "E-mail"
cellPhoneNumber = ["+Country", "Mobile | Phone"]
sourceModifiedDate = "Changed"
companyId = "Company"
"#;
    let text = "Customer No;first;Last;E-mail;Country;Mobile;Phone;Changed;Company;Other\n\
                    K-9;Ann;Lee;a@b.co;1;;626 555 0100;2;ACME;z\n\
                    K-10;Bo\n";
    let records = read(text.as_bytes(), toml);
    assert_eq!(records[0].get(Field::FirstName), Some("Ann"));
    assert_eq!(records[0].get(Field::CompanyId), Some("ACME"));
    assert_eq!(
        records[0].get(Field::CellPhoneNumber),
        Some("+1 626 555 0100")
    );
    // A short row reads as missing fields, for validation to reject.
    assert_eq!(records[1].get(Field::Id), Some("K-10"));
    assert_eq!(records[1].get(Field::LastName), None);
}

#[test]
fn a_missing_column_names_the_field_and_column() {
    let err = try_read(b"id,firstName\n1,a\n", "").expect_err("missing columns");
    assert!(err.to_string().contains("source.fields.lastName"), "{err}");
    // Unmapped optional fields may be absent: no date column means dates by first sight.
    let text = "id,firstName,lastName,emailAddress,cellPhoneNumber\n1,a,b,c,d\n";
    let records = read(text.as_bytes(), "");
    assert_eq!(records[0].get(Field::SourceModifiedDate), None);
    // A mapped one may not.
    let err = try_read(text.as_bytes(), "[fields]\ncompanyId = \"Company\"\n")
        .expect_err("mapped companyId missing");
    assert!(err.to_string().contains("`Company`"), "{err}");
}

#[test]
fn invalid_utf8_stops_the_file_naming_the_row_and_the_encoding_to_try() {
    let mut text = format!("{HEADER}\nC1,Ann,X,a@b.co,1,2\nC2,").into_bytes();
    text.extend_from_slice(b"Ren\xe9e,M\xfcller,a@b.co,1,2\n");
    let err = try_read(&text, "").expect_err("not UTF-8");
    assert_eq!(
        err.to_string(),
        format!(
            "source file {}: not UTF-8 at row 3: set source.encoding = \"windows-1252\"? \
                 (or save the export as UTF-8); none of its records were taken",
            match &err {
                SourceError::Undecodable { path, .. } => path.display().to_string(),
                other => panic!("{other:?}"),
            }
        )
    );
    let records = read(&text, "encoding = \"windows-1252\"\n");
    assert_eq!(records[1].get(Field::FirstName), Some("Renée"));
    assert_eq!(records[1].get(Field::LastName), Some("Müller"));
}

#[test]
fn utf16_tab_separated_as_excel_saves_unicode_text() {
    let text = format!(
        "{}\r\nC1\tRenée\tMüller\ta@b.co\t1\t2\r\n",
        HEADER.replace(',', "\t")
    );
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let records = read(&bytes, "delimiter = \"tab\"\n");
    assert_eq!(records[0].get(Field::Id), Some("C1"));
    assert_eq!(records[0].get(Field::FirstName), Some("Renée"));
}

#[test]
fn an_alternative_column_may_be_absent_when_another_is_there() {
    let toml = "[fields]\ncellPhoneNumber = \"Mobile | Phone\"\n";
    let header = "id,firstName,lastName,emailAddress,Mobile,sourceModifiedDate";
    let records = read(format!("{header}\nC1,A,B,a@b.co,1,2\n").as_bytes(), toml);
    assert_eq!(records[0].get(Field::CellPhoneNumber), Some("1"));
    // Neither: the first is named.
    let header = "id,firstName,lastName,emailAddress,Tel,sourceModifiedDate";
    let err = try_read(format!("{header}\nC1,A,B,a@b.co,1,2\n").as_bytes(), toml)
        .expect_err("no phone column");
    assert!(err.to_string().contains("no column `Mobile`"), "{err}");
}

#[test]
fn left_out_rules_read_their_column_dots_and_all() {
    let text = "CUSTOMERID,DISPLAYCONTACT.FIRSTNAME,DISPLAYCONTACT.LASTNAME,DISPLAYCONTACT.EMAIL1,\
                    DISPLAYCONTACT.CELLPHONE,DISPLAYCONTACT.PHONE1,WHENMODIFIED,STATUS\n\
                    C1,Ann,Lee,a@b.co,,626 555 0100,01/09/2019 22:01:29,active\n\
                    C2,Bo,Ray,b@b.co,626 555 0101,,01/09/2019 22:01:29,Inactive\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.csv");
    std::fs::write(&path, text).expect("write");
    let config = crate::source::config::source_from_toml(
        "path = \"export.csv\"\npreset = \"sage-intacct\"\n",
        &dir.path().join("c.toml"),
    )
    .expect("config");
    let items: Vec<Item> = CsvExport::open(&config, &path)
        .expect("open")
        .collect::<Result<_, _>>()
        .expect("read");
    let Item::Record(first) = &items[0] else {
        panic!("{items:?}");
    };
    assert_eq!(first.get(Field::FirstName), Some("Ann"));
    assert_eq!(first.get(Field::CellPhoneNumber), Some("626 555 0100"));
    assert!(
        matches!(&items[1], Item::LeftOut { rule: 0, id: Some(id), .. } if id == "C2"),
        "{items:?}"
    );
}

#[test]
fn a_config_rule_reads_its_columns_and_one_without_its_column_is_an_error() {
    let toml = "[[leave_out]]\nfield = \"Inactive\"\nequals = [\"Yes\"]\n\
                    [[leave_out]]\nall = [ { field = \"Type\", equals = [\"Vendor\"] }, \
                    { field = \"Inactive\", not_equals = [\"Yes\"] } ]\n";
    let header = format!("{HEADER},Inactive,Type");
    let text = format!(
        "{header}\nC1,A,B,a@b.co,1,2,No,Customer\nC2,A,B,a@b.co,1,2,yes,Customer\n\
             C3,A,B,a@b.co,1,2,No,vendor\nC4,A,B,a@b.co,1,2,,Vendor\n"
    );
    let items = try_read_items(text.as_bytes(), toml).expect("read");
    let left_out: Vec<(usize, Option<String>)> = items
        .into_iter()
        .filter_map(|i| match i {
            Item::LeftOut { rule, id, .. } => Some((rule, id)),
            _ => None,
        })
        .collect();
    assert_eq!(
        left_out,
        [
            (0, Some("C2".to_owned())),
            (1, Some("C3".to_owned())),
            (1, Some("C4".to_owned()))
        ]
    );
    let err = try_read_items(format!("{HEADER}\nC1,A,B,a@b.co,1,2\n").as_bytes(), toml)
        .expect_err("no Inactive column");
    assert_eq!(
        err.to_string(),
        format!(
            "source file {}: no column `Inactive` for the source.leave_out rule `Inactive \
                 equals Yes` in the header row: set the rule's `field` to the export's column name",
            match &err {
                SourceError::MissingRuleColumn { path, .. } => path.display().to_string(),
                other => panic!("{other:?}"),
            }
        )
    );
}

#[test]
fn a_cut_off_last_row_is_an_error_not_a_record() {
    let text = format!("{HEADER}\nC1,A,B,a@b.co,1,2\nC2,A,B,a@");
    let err = try_read(text.as_bytes(), "").expect_err("cut off");
    assert!(err.to_string().contains("row 3"), "{err}");
    // A complete last row without a final newline is fine.
    let text = format!("{HEADER}\nC1,A,B,a@b.co,1,2");
    assert_eq!(read(text.as_bytes(), "").len(), 1);
}
