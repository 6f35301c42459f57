//! `bluetape-sync init EXPORT` (SPEC §3, §6): the config it prints names the preset of each
//! accounting system's export, maps any other CSV from its header, and then drives a real pass
//! that sends exactly the expected bodies.

mod support;

use serde_json::{Value, json};
use support::{Fixture, Run};

/// `init` on a file of the fixture's directory.
async fn init(fx: &Fixture, export: &str) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_bluetape-sync"))
        .arg("init")
        .arg(fx.path(export))
        .env_remove("BLUETAPE_SYNC_CONFIG")
        .output()
        .await
        .expect("run init");
    Run::from(output)
}

/// Writes what `init` printed as the config, and runs one pass with it against the fake (the
/// environment fills in what only the operator knows).
async fn pass_with(fx: &Fixture, config: &str, export: &str) -> Run {
    std::fs::write(fx.path("init.toml"), config).expect("config");
    let config = fx.path("init.toml");
    fx.run_example(config.to_str().expect("utf-8"), export, &["--once"])
        .await
}

#[tokio::test]
async fn init_names_each_systems_preset_and_its_config_sends_exact_bodies() {
    // (fixture, preset, one customer's body as BlueTape must receive it, customers sent)
    let cases: [(&str, &str, Value, usize); 6] = [
        (
            "quickbooks-online-customers.json",
            "quickbooks-online",
            json!({"id": "2", "firstName": "Bill", "lastName": "Lucchini",
                   "emailAddress": "Surf@Intuit.com", "cellPhoneNumber": "+14154446538",
                   "sourceModifiedDate": "2024-02-18T17:03:11.000Z"}),
            3,
        ),
        (
            "xero-contacts.json",
            "xero",
            json!({"id": "7f1f0a4e-2b3c-4d5e-8f90-a1b2c3d4e5f6", "firstName": "Peter",
                   "lastName": "Lewis", "emailAddress": "peter.lewis@ridgeway.example.edu",
                   "cellPhoneNumber": "+16265550177",
                   "sourceModifiedDate": "2017-08-21T20:56:40.000Z"}),
            4,
        ),
        (
            "zoho-books-contacts.json",
            "zoho-books",
            json!({"id": "460000000026049", "firstName": "Will", "lastName": "Smith",
                   "emailAddress": "willsmith@bowmanfurniture.example.com",
                   "cellPhoneNumber": "+16265550142",
                   "sourceModifiedDate": "2013-11-08T12:54:51.000Z"}),
            2,
        ),
        (
            "freshbooks-clients.json",
            "freshbooks",
            json!({"id": "12346", "firstName": "Sam", "lastName": "Summers",
                   "emailAddress": "sam@summer.example.com", "cellPhoneNumber": "+16465550101",
                   "sourceModifiedDate": "2022-07-01T13:30:00.000Z"}),
            3,
        ),
        (
            // init cannot know the company's zone: it writes UTC for the operator to change.
            "sage-intacct-customers.csv",
            "sage-intacct",
            json!({"id": "C-1001", "firstName": "Jane", "lastName": "Doe",
                   "emailAddress": "jane@doeandco.example.com", "cellPhoneNumber": "+14155550132",
                   "sourceModifiedDate": "2019-01-09T22:01:29.000Z"}),
            2,
        ),
        (
            "myob-customers.json",
            "myob",
            json!({"id": "9a4c2b1f-0d3e-4b5a-8c7d-6e5f4a3b2c10", "firstName": "Kate",
                   "lastName": "Kiwi", "emailAddress": "kate@kiwi.example.co.nz",
                   "cellPhoneNumber": "+64211234567",
                   "sourceModifiedDate": "2014-03-20T23:59:59.500Z"}),
            2,
        ),
    ];
    for (fixture, preset, body, sent) in cases {
        let fx = Fixture::new().await;
        fx.copy_fixture(fixture, fixture);
        let run = init(&fx, fixture).await;
        assert_eq!(run.code, 0, "{fixture}: {}", run.stderr);
        assert!(
            run.stdout.contains(&format!("\npreset = \"{preset}\"\n")),
            "{fixture}: {}",
            run.stdout
        );
        // The stdout is only TOML: every line is a key, a table, a comment or blank.
        for line in run.stdout.lines() {
            let line = line.trim();
            assert!(
                line.is_empty() || line.starts_with(['#', '[']) || line.contains(" = "),
                "{fixture}: not TOML: {line}"
            );
        }
        let pass = pass_with(&fx, &run.stdout, fixture).await;
        assert_eq!(
            pass.code, 65,
            "{fixture}: one record is rejected: {}",
            pass.stderr
        );
        let bodies = fx.posted_bodies();
        let id = body["id"].as_str().expect("id");
        assert_eq!(bodies.get(id), Some(&body), "{fixture}");
        assert_eq!(bodies.len(), sent, "{fixture}: {bodies:?}");
        // The records init showed are exactly what BlueTape then received.
        let shown: Vec<Value> = run
            .stdout
            .lines()
            .filter_map(|l| l.strip_prefix("#   {"))
            .map(|l| serde_json::from_str(&format!("{{{l}")).expect("a body"))
            .collect();
        assert!(!shown.is_empty(), "{fixture}: {}", run.stdout);
        for body in shown {
            let id = body["id"].as_str().expect("id");
            assert_eq!(bodies.get(id), Some(&body), "{fixture}: shown as sent");
        }
    }
}

/// Customer `C1`, Renée Müller, in a CSV written with `header` names, `delimiter` and the
/// date `date`.
fn csv(header: [&str; 6], delimiter: char, date: &str) -> String {
    let d = delimiter.to_string();
    format!(
        "{}\r\nC1{d}Renée{d}Müller{d}renee@example.com{d}(626) 555-0101{d}{date}\r\n\
         C2{d}Bo{d}Ray{d}bo@example.com{d}(626) 555-0102{d}{date}\r\n",
        header.join(&d)
    )
}

#[tokio::test]
async fn init_maps_csvs_in_many_spellings_delimiters_date_forms_and_encodings() {
    let spellings = [
        [
            "Customer ID",
            "First Name",
            "Last Name",
            "E-mail",
            "Mobile",
            "Last Modified",
        ],
        [
            "CustomerID",
            "fname",
            "lname",
            "Email Address",
            "Cell Phone",
            "updated_at",
        ],
        [
            "Account No",
            "Given Name",
            "Surname",
            "EMAIL",
            "Mobile Phone",
            "Date Last Modified",
        ],
        [
            "account_no",
            "FIRST_NAME",
            "family-name",
            "email_address",
            "mobile_no",
            "Modified",
        ],
        [
            "Cust No.",
            "Forename",
            "Last",
            "Mail",
            "Cell",
            "LastUpdatedTime",
        ],
    ];
    // (date as written, what is sent, whether init must name a datetime_format)
    let dates = [
        ("2024-03-05T09:47:57Z", "2024-03-05T09:47:57.000Z", None),
        ("2024-03-05 09:47:57", "2024-03-05T09:47:57.000Z", None),
        ("03/05/2024 09:47:57", "2024-03-05T09:47:57.000Z", None),
        ("03/05/2024 9:47 AM", "2024-03-05T09:47:00.000Z", None),
        ("1709632077000", "2024-03-05T09:47:57.000Z", None),
        ("2024-03-05T15:17:57+0530", "2024-03-05T09:47:57.000Z", None),
        (
            "25/03/2024 09:47:57",
            "2024-03-25T09:47:57.000Z",
            Some("%d/%m/%Y %H:%M:%S"),
        ),
        (
            "25.03.2024 09:47",
            "2024-03-25T09:47:00.000Z",
            Some("%d.%m.%Y %H:%M"),
        ),
    ];
    let mut cases: Vec<(String, Vec<u8>, &str, Option<&str>)> = Vec::new();
    for (i, header) in spellings.iter().enumerate() {
        let (date, sent, format) = dates[i];
        cases.push((
            format!("spelling {i}"),
            csv(*header, ',', date).into_bytes(),
            sent,
            format,
        ));
    }
    for (i, (date, sent, format)) in dates.iter().enumerate() {
        let delimiter = [',', ';', '|'][i % 3];
        let text = csv(spellings[i % spellings.len()], delimiter, date);
        cases.push((
            format!("date {date} with `{delimiter}`"),
            text.into_bytes(),
            sent,
            *format,
        ));
    }
    // Windows-1252, semicolons, as a European Excel saves it.
    let text = csv(spellings[0], ';', dates[2].0);
    let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    cases.push(("windows-1252".into(), latin.into_owned(), dates[2].1, None));
    // UTF-16LE, tab-separated: Excel's "Unicode Text".
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(
        csv(spellings[1], '\t', dates[0].0)
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    cases.push(("utf-16".into(), utf16, dates[0].1, None));

    for (case, bytes, sent, format) in cases {
        let fx = Fixture::new().await;
        std::fs::write(fx.path("customers.csv"), &bytes).expect("export");
        let run = init(&fx, "customers.csv").await;
        assert_eq!(run.code, 0, "{case}: {}\n{}", run.stderr, run.stdout);
        if let Some(format) = format {
            assert!(
                run.stdout
                    .contains(&format!("datetime_format = \"{format}\"")),
                "{case}: {}",
                run.stdout
            );
        }
        let pass = pass_with(&fx, &run.stdout, "customers.csv").await;
        assert_eq!(pass.code, 0, "{case}: {}\n{}", pass.stderr, run.stdout);
        assert_eq!(
            fx.posted_bodies().get("C1"),
            Some(
                &json!({"id": "C1", "firstName": "Renée", "lastName": "Müller",
                         "emailAddress": "renee@example.com", "cellPhoneNumber": "+16265550101",
                         "sourceModifiedDate": sent})
            ),
            "{case}: {}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn init_without_an_email_column_prints_the_config_and_exits_78_naming_it() {
    let fx = Fixture::new().await;
    fx.write_file(
        "customers.csv",
        "Customer ID,First Name,Last Name,Mobile,Balance\nC1,Ann,Lee,(626) 555-0101,10.00\n",
    );
    let run = init(&fx, "customers.csv").await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains("no column found for emailAddress"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("# emailAddress = \"\"  # NOT FOUND"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Balance"), "unused columns listed");
    assert!(
        run.stdout.contains("# sourceModifiedDate: no date column"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("# Records are shown as they would be sent once emailAddress is mapped."),
        "{}",
        run.stdout
    );
    assert!(!fx.store_path().exists(), "init changes nothing");
}

#[tokio::test]
async fn init_on_a_missing_file_says_so() {
    let fx = Fixture::new().await;
    let run = init(&fx, "nowhere.csv").await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("no export file at"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// A system's invoice export and the customer export its invoices name.
struct InvoiceCase {
    invoices: &'static str,
    customers: &'static str,
    /// Where the customer export's list is (a JSON pointer).
    list: &'static str,
    /// The customer ids the invoices name, given to the first customers.
    ids: [&'static str; 2],
    /// The customer export's file name, as `init` guesses it.
    name: &'static str,
    preset: &'static str,
    /// The invoices sent.
    sent: &'static [&'static str],
}

#[tokio::test]
async fn init_recognises_invoice_exports_and_its_config_sends_them_after_their_customers() {
    let cases = [
        InvoiceCase {
            invoices: "quickbooks-online-invoices.json",
            customers: "quickbooks-online-customers.json",
            list: "/QueryResponse/Customer",
            ids: ["58", "59"],
            name: "customers.json",
            preset: "quickbooks-online",
            sent: &["130", "131"],
        },
        InvoiceCase {
            invoices: "xero-invoices.json",
            customers: "xero-contacts.json",
            list: "/Contacts",
            ids: [
                "025867f1-d741-4d6b-b1af-9ac774b59ba7",
                "9a5a1f4c-7a4e-4b4d-8a4f-6c3c2a1b0e9d",
            ],
            name: "contacts.json",
            preset: "xero",
            sent: &[
                "243216c5-369e-4056-ac67-05388f86dc81",
                "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2",
            ],
        },
    ];
    for InvoiceCase {
        invoices,
        customers,
        list,
        ids,
        name,
        preset,
        sent,
    } in cases
    {
        let fx = Fixture::new().await;
        fx.copy_fixture(invoices, "invoices.json");
        // The customer export, its first customers being the ones the invoices name.
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(customers),
        )
        .expect("fixture");
        let mut value: Value = serde_json::from_str(&text).expect("JSON");
        let id_key = if preset == "xero" { "ContactID" } else { "Id" };
        for (i, id) in ids.iter().enumerate() {
            value.pointer_mut(list).expect("list")[i][id_key] = json!(id);
        }
        fx.write_file(name, &value.to_string());

        let run = init(&fx, "invoices.json").await;
        assert_eq!(run.code, 0, "{preset}: {}", run.stderr);
        let config: toml::Value = toml::from_str(&run.stdout).expect("TOML");
        assert_eq!(config["invoices"]["preset"].as_str(), Some(preset));
        assert_eq!(config["source"]["preset"].as_str(), Some(preset));
        assert_eq!(
            config["invoices"]["path"].as_str(),
            fx.path("invoices.json").to_str()
        );
        assert_eq!(
            config["source"]["path"].as_str(),
            fx.path(name).to_str(),
            "the same system's customer export, beside the invoices"
        );
        assert!(
            run.stdout.contains(&format!("{{\"id\":\"{}\"", sent[0])),
            "{preset}: the first invoice as it would be sent:\n{}",
            run.stdout
        );

        std::fs::write(fx.path("init.toml"), &run.stdout).expect("config");
        let config = fx.path("init.toml");
        let pass = fx
            .run_example_with_env(
                config.to_str().expect("utf-8"),
                name,
                &["--once"],
                &[("BLUETAPE_SYNC__INVOICES__SETTLE", "0s")],
            )
            .await;
        // Each system's customer fixture has one customer BlueTape cannot take (QuickBooks:
        // no email; Xero: no mobile): 65, though every invoice went.
        assert_eq!(pass.code, 65, "{preset}: {}", pass.stderr);
        // Sent concurrently: in any order.
        let mut posted: Vec<String> = (fx.fake.invoice_requests().iter())
            .filter_map(|r| r.id().map(str::to_owned))
            .collect();
        posted.sort();
        assert_eq!(posted, sent, "{preset}");
    }
}

#[tokio::test]
async fn init_writes_the_store_path_of_the_user_running_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let export = dir.path().join("customers.csv");
    std::fs::write(&export, support::export_of(2)).expect("export");
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let binary = env!("CARGO_BIN_EXE_bluetape-sync");
    // A copy another user can run wherever the checkout is.
    let copy = dir.path().join("bluetape-sync");
    std::fs::copy(binary, &copy).expect("copy the binary");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path_line = |stdout: &[u8]| -> String {
        String::from_utf8_lossy(stdout)
            .lines()
            .find(|l| l.starts_with("path = \"") && l.contains("state.db"))
            .unwrap_or_else(|| panic!("no store path in:\n{}", String::from_utf8_lossy(stdout)))
            .to_owned()
    };
    // An ordinary user: its own state folder, never /var/lib (root runs it as nobody).
    let mut ordinary = std::process::Command::new("setpriv");
    ordinary
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&copy);
    if !rustix::process::geteuid().is_root() {
        ordinary = std::process::Command::new(&copy);
    }
    let as_nobody = ordinary
        .arg("init")
        .arg(&export)
        .env_remove("STATE_DIRECTORY")
        .env_remove("XDG_STATE_HOME")
        .env("HOME", "/nonexistent-home")
        .output()
        .expect("init as an ordinary user (as root: setpriv, from util-linux)");
    assert!(
        as_nobody.status.success(),
        "{}",
        String::from_utf8_lossy(&as_nobody.stderr)
    );
    assert_eq!(
        path_line(&as_nobody.stdout),
        "path = \"/nonexistent-home/.local/state/bluetape-sync/state.db\""
    );
    // Under systemd, the unit's state directory.
    let service = std::process::Command::new(binary)
        .arg("init")
        .arg(&export)
        .env("STATE_DIRECTORY", "/var/lib/private/bluetape-sync")
        .output()
        .expect("init");
    assert_eq!(
        path_line(&service.stdout),
        "path = \"/var/lib/private/bluetape-sync/state.db\""
    );
}

/// The exports a bookkeeper can click (SPEC §12): `init` names each one's preset from the
/// file's shape, says where ids come from (and warns where they can change), prints the
/// preset's leave-out rules, proposes the country of national numbers, and its config sends
/// what the preset sends.
#[tokio::test]
async fn init_recognises_the_exports_a_bookkeeper_can_click() {
    // (fixture, preset, what the config must say, customers sent)
    let cases: [(&str, &str, &[&str], usize); 8] = [
        (
            "xero-contacts.csv",
            "xero-csv",
            &[
                "WARNING: Xero's CSV exports no id that never changes",
                "default_country = \"GB\"",
            ],
            5,
        ),
        (
            "zoho-books-contacts.csv",
            "zoho-books-csv",
            &["vendor: { field = \"Contact Type\", equals = [\"vendor\"] }"],
            4,
        ),
        (
            "netsuite-customers.csv",
            "netsuite",
            &[
                "# Ids: `Internal ID`, which NetSuite never changes",
                "default_country = \"US\"",
            ],
            5,
        ),
        (
            "quickbooks-desktop-customers.iif",
            "quickbooks-desktop",
            &[
                "# Ids: `REFNUM`",
                "job: { field = \"NAME\", contains = \":\" }",
            ],
            5,
        ),
        (
            "sage-50-us-customers.csv",
            "sage-50-us",
            &[
                "WARNING: Sage 50's Customer ID can be changed",
                "encoding = \"windows-1252\"",
            ],
            4,
        ),
        (
            "business-central-customers.json",
            "business-central",
            &["blocked: { field = \"blocked\", is_blank = false }"],
            4,
        ),
        (
            "odoo-partners.json",
            "odoo",
            &["default_country = \"GB\""],
            5,
        ),
        ("odoo-contacts.csv", "odoo", &["format = \"csv\""], 5),
    ];
    for (fixture, preset, says, sent) in cases {
        let fx = Fixture::new().await;
        fx.copy_fixture(&format!("exports/{fixture}"), fixture);
        let run = init(&fx, fixture).await;
        assert_eq!(run.code, 0, "{fixture}: {}", run.stderr);
        assert!(
            run.stdout.contains(&format!("preset = \"{preset}\"")),
            "{fixture}: {}",
            run.stdout
        );
        for said in says {
            assert!(
                run.stdout.contains(said),
                "{fixture}: no `{said}` in\n{}",
                run.stdout
            );
        }
        let pass = pass_with(&fx, &run.stdout, fixture).await;
        assert_eq!(pass.code, 65, "{fixture}: {}", pass.stderr);
        assert_eq!(
            pass.count("created"),
            sent as u64,
            "{fixture}: {}",
            pass.stderr
        );
    }
    // A NetSuite invoice search: the invoice preset, with the customers' search beside it.
    let fx = Fixture::new().await;
    fx.copy_fixture("exports/netsuite-invoices.csv", "invoices.csv");
    let run = init(&fx, "invoices.csv").await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("NetSuite's invoice export"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("customers.csv"), "{}", run.stdout);
}

/// An invoice export no preset knows (SPEC §12): `init` sees an invoice number and amounts
/// and no person's name, maps each invoice field from its column under `[invoices]`, and its
/// config sends the open invoice after its customer and never the paid one.
#[tokio::test]
async fn init_maps_a_generic_invoice_export() {
    let fx = Fixture::new().await;
    fx.write_file(
        "invoices.csv",
        "Invoice No,Customer ID,Invoice Date,Due Date,Net,Tax,Total,Balance,Status,Last Modified\n\
         INV-1,C1,2024-03-01,2024-03-31,100.00,20.00,120.00,120.00,Open,2024-03-01 10:00:00\n\
         INV-2,C2,2024-03-02,2024-04-01,50.00,10.00,60.00,0.00,Paid,2024-03-02 10:00:00\n",
    );
    fx.write_file(
        "customers.csv",
        &format!(
            "{}\n{}\n{}\n",
            support::HEADER,
            support::row("C1", "2024-03-01T09:00:00Z"),
            support::row("C2", "2024-03-01T09:00:01Z")
        ),
    );
    let run = init(&fx, "invoices.csv").await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for line in [
        "[invoices]",
        "[invoices.fields]",
        "invoiceNumber = \"Invoice No\"",
        "amountDue = \"Balance\"",
        "id = \"Invoice No\"",
    ] {
        assert!(run.stdout.contains(line), "no `{line}` in\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("firstName"), "{}", run.stdout);
    let pass = pass_with(&fx, &run.stdout, "customers.csv").await;
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    let invoice = fx.fake.invoice("INV-1").expect("INV-1 sent");
    assert_eq!(invoice["customerId"], "C1");
    assert_eq!(invoice["totalAmount"].to_string(), "120");
    assert!(fx.fake.invoice("INV-2").is_none(), "paid: never created");
}

/// `init xero` and `init quickbooks` print a config that, with only its blanks filled in (and
/// the URLs pointed at the fakes), connects and sends the company's customers.
#[tokio::test]
async fn init_quickbooks_or_xero_writes_a_config_that_connects_and_sends_once_filled_in() {
    use support::fake_oauth::{CLIENT_ID, CLIENT_SECRET};
    let xero = support::fake_xero::FakeXero::start().await;
    let qb = support::fake_quickbooks::FakeQuickbooks::start().await;
    for provider in ["xero", "quickbooks"] {
        let fx = Fixture::new().await;
        let run = fx.run(&["init", provider]).await;
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.contains(&format!(
                "bluetape-sync --config <this file> connect {provider}"
            )),
            "{}",
            run.stdout
        );
        let mut config: toml::Table = toml::from_str(&run.stdout).expect("init prints TOML");
        assert_eq!(config["source"]["from"].as_str(), Some("api"));
        let blank = |section: &str, key: &str| config[section][key].as_str() == Some("");
        assert!(blank("api", "account_id") && blank(provider, "client_id"));
        let fill = |config: &mut toml::Table, section: &str, key: &str, value: String| {
            let table = config[section].as_table_mut().expect("a table");
            table.insert(key.into(), toml::Value::String(value));
        };
        fill(&mut config, "api", "account_id", support::ACCOUNT.into());
        fill(&mut config, "api", "key_file", "api.key".into());
        fill(&mut config, "api", "base_url", fx.fake.base_url());
        fill(
            &mut config,
            "store",
            "path",
            fx.store_path().display().to_string(),
        );
        fill(&mut config, provider, "client_id", CLIENT_ID.into());
        fill(
            &mut config,
            provider,
            "client_secret_file",
            "app.secret".into(),
        );
        if provider == "quickbooks" {
            fill(
                &mut config,
                provider,
                "redirect_uri",
                "https://example.com/cb".into(),
            );
        }
        let urls = match provider {
            "xero" => vec![
                ("base_url", xero.base_url()),
                ("auth_url", xero.auth_url()),
                ("token_url", xero.token_url()),
                ("revoke_url", xero.revoke_url()),
                ("connections_url", xero.connections_url()),
            ],
            _ => vec![
                ("base_url", qb.base_url()),
                ("auth_url", qb.auth_url()),
                ("token_url", qb.token_url()),
                ("revoke_url", qb.revoke_url()),
            ],
        };
        for (key, url) in urls {
            fill(&mut config, provider, key, url);
        }
        fx.write_file("config.toml", &toml::to_string(&config).expect("TOML"));
        fx.write_file("app.secret", &format!("{CLIENT_SECRET}\n"));

        let unlinked = fx.run(&["check"]).await;
        assert_eq!(unlinked.code, 78, "{}", unlinked.stderr);
        assert!(unlinked.stderr.contains(&format!("connect {provider}")));
        let connect = support::linked::connect_by_pasting(&fx, provider, &[]).await;
        assert_eq!(connect.code, 0, "{}\n{}", connect.stdout, connect.stderr);
        let pass = fx.run(&["--once"]).await;
        assert!(matches!(pass.code, 0 | 65), "{}", pass.stderr);
        assert!(
            !fx.fake.created_ids().is_empty(),
            "{provider}: customers sent: {}",
            pass.stderr
        );
    }
}
