//! Real accounting exports (SPEC §3): the presets and example configs on fixtures in each
//! system's shape, globbed exports, files still being written or cut off, exports without a
//! modified date, and updates.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{Fault, Fixture, HEADER, row};

#[tokio::test]
async fn an_erp_csv_with_local_times_across_dst_changes() {
    let fx = Fixture::new().await;
    fx.copy_fixture("erp-customers.csv", "customers_2024-03.csv");
    let run = fx
        .run_example(
            "config/examples/erp-csv.toml",
            "customers_*.csv",
            &["--once"],
        )
        .await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = fx.posted_bodies();
    assert_eq!(
        sent["C-00017"],
        json!({"id": "C-00017", "firstName": "Maria", "lastName": "Garcia",
               "emailAddress": "maria.garcia@example.com", "cellPhoneNumber": "+13125550147",
               "sourceModifiedDate": "2024-03-08T20:05:09.000Z", "companyId": "ACME-CORP"})
    );
    // 02:30 on 10 March 2024 never happened in Chicago: read with CST, i.e. 03:30 CDT.
    assert_eq!(
        sent["C-00018"]["sourceModifiedDate"],
        "2024-03-10T08:30:00.000Z"
    );
    assert!(sent["C-00018"].get("companyId").is_none());
    // 01:30 on 3 November 2024 happened twice: the earlier, CDT.
    assert_eq!(
        sent["C-00020"]["sourceModifiedDate"],
        "2024-11-03T06:30:00.000Z"
    );
    assert_eq!(sent.len(), 3, "C-00019's email has no domain");
}

#[tokio::test]
async fn explicit_keys_override_the_preset_and_dry_run_shows_the_mapping() {
    let fx = Fixture::with_export(
        "contacts.json",
        "preset = \"xero\"\n[source.fields]\ncompanyId = \"Name\"\nfirstName = \"Name\"",
    )
    .await;
    fx.copy_fixture("xero-contacts.json", "contacts.json");
    let run = fx.run(&["--once", "--dry-run"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let mapping: Vec<&str> = run.stdout.lines().take(9).collect();
    assert!(
        mapping[0].contains("json, records at Contacts, preset xero"),
        "{mapping:?}"
    );
    assert!(
        mapping.contains(&"  id                  <- ContactID (preset)"),
        "{mapping:?}"
    );
    assert!(
        mapping.contains(&"  firstName           <- Name (config)"),
        "{mapping:?}"
    );
    assert!(
        mapping.contains(&"  companyId           <- Name (config)"),
        "{mapping:?}"
    );
    assert!(
        mapping.contains(&"  left out: archived (ContactStatus equals ARCHIVED)"),
        "{mapping:?}"
    );
    assert_eq!(fx.fake.request_count(), 0);

    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let sent = fx.posted_bodies();
    let andrea = &sent["bd2270c3-8706-4c11-9cfb-000b551c3f51"];
    assert_eq!(andrea["firstName"], "ABC Limited");
    assert_eq!(andrea["companyId"], "ABC Limited");
}

#[tokio::test]
async fn a_glob_of_three_files_is_one_export_and_the_later_date_wins() {
    let fx = Fixture::with_export("customers_*.csv", "").await;
    fx.write_file(
        "customers_1.csv",
        &format!(
            "{HEADER}\nX,Newest,Name,x@example.com,(626) 555-0100,2024-03-03T00:00:00Z,\n{}\n",
            row("A", "2024-03-01T00:00:00Z")
        ),
    );
    // The second file has its own header, in another order.
    fx.write_file(
        "customers_2.csv",
        "sourceModifiedDate,id,firstName,lastName,emailAddress,cellPhoneNumber\n\
         2024-03-02T00:00:00Z,B,Bo,B,b@example.com,(626) 555-0100\n",
    );
    fx.write_file(
        "customers_3.csv",
        &format!("{HEADER}\nX,Older,Name,x@example.com,(626) 555-0100,2024-03-02T00:00:00Z,\n"),
    );
    fx.write_file(
        "other.csv",
        &format!("{HEADER}\n{}\n", row("NOT-MATCHED", "2024-03-01T00:00:00Z")),
    );
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent = fx.posted_bodies();
    assert_eq!(sent.keys().collect::<Vec<_>>(), ["A", "B", "X"]);
    assert_eq!(
        sent["X"]["firstName"], "Newest",
        "by date, not by file order"
    );
    assert_eq!(run.count("read"), 4);
    assert_eq!(run.count("new"), 3);
}

/// Two export files: `customers_1.csv` long settled, `customers_2.csv` written just now, with
/// an older date than the settled file's record.
fn settled_and_fresh(fx: &Fixture) {
    fx.write_file(
        "customers_1.csv",
        &format!("{HEADER}\n{}\n", row("OLD", "2024-03-05T00:00:00Z")),
    );
    let settled = std::time::SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(fx.path("customers_1.csv"))
        .and_then(|f| f.set_modified(settled))
        .expect("backdate the settled file");
    fx.write_file(
        "customers_2.csv",
        &format!("{HEADER}\n{}\n", row("NEW", "2024-03-01T00:00:00Z")),
    );
}

#[tokio::test]
async fn the_daemon_reads_a_file_still_being_written_on_a_later_pass() {
    let fx = Fixture::with_export("customers_*.csv", "").await;
    settled_and_fresh(&fx);
    // Longer than the daemon takes to start, so its first pass finds the new file unsettled.
    let child = fx.spawn_with_env(
        &["run"],
        &[
            ("BLUETAPE_SYNC__SOURCE__SETTLE", "5s"),
            ("BLUETAPE_SYNC__SCHEDULE__CRON", "* * * * * *"),
        ],
    );
    let first_pass = fx
        .wait_for(Duration::from_secs(30), |fx| {
            fx.passes()
                .iter()
                .any(|(_, _, finished)| finished.is_some())
        })
        .await;
    assert!(first_pass, "no pass finished");
    assert_eq!(fx.posted_bodies().keys().collect::<Vec<_>>(), ["OLD"]);
    assert_eq!(
        fx.watermark_ms(),
        None,
        "nothing advanced past the unread file"
    );
    let later = fx
        .wait_for(Duration::from_secs(60), |fx| fx.fake.creations("NEW") == 1)
        .await;
    let run = support::stop(child).await;
    assert!(later, "the settled file was never read: {}", run.stderr);
    assert!(run.stderr.contains("still being written"), "{}", run.stderr);
    assert_eq!(
        fx.posted_bodies().keys().collect::<Vec<_>>(),
        ["NEW", "OLD"]
    );
    assert!(fx.watermark_ms().is_some());
}

#[tokio::test]
async fn once_waits_for_a_file_still_being_written() {
    let fx = Fixture::with_export("customers_*.csv", "").await;
    settled_and_fresh(&fx);
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__SOURCE__SETTLE", "2s")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("waiting for it to settle"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fx.posted_bodies().keys().collect::<Vec<_>>(),
        ["NEW", "OLD"]
    );
    assert!(fx.watermark_ms().is_some());
}

#[tokio::test]
async fn once_gives_up_on_a_file_that_keeps_changing_with_exit_75() {
    let fx = Fixture::new().await;
    fx.write_export(&support::export_of(3));
    // The export job keeps writing: the file is touched far more often than source.settle.
    let path = fx.path("export.csv");
    let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let writing = writing.clone();
        std::thread::spawn(move || {
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                let touched = std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(std::time::SystemTime::now()));
                assert!(touched.is_ok(), "touch the export: {touched:?}");
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__SOURCE__SETTLE", "400ms")])
        .await;
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    writer.join().expect("writer");
    assert_eq!(run.code, 75, "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("still being written") && last.contains("export.csv"),
        "{last}"
    );
    assert_eq!(fx.fake.request_count(), 0, "nothing sent");
    assert!(fx.passes().is_empty(), "nothing read: {:?}", fx.passes());
}

#[tokio::test]
async fn a_cut_off_json_file_is_not_half_read() {
    let fx = Fixture::with_export("export_*.json", "format = \"json\"").await;
    let record = |id: &str| {
        json!({"id": id, "firstName": "F", "lastName": "L", "emailAddress": format!("{id}@example.com"),
               "cellPhoneNumber": "(626) 555-0100", "sourceModifiedDate": "2024-03-01T00:00:00Z"})
        .to_string()
    };
    let whole = format!("[{}, {}, {}]", record("A1"), record("A2"), record("A3"));
    fx.write_file("export_a.json", &whole);
    fx.write_file(
        "export_b.json",
        &format!("[{}, {}", record("B1"), &record("B2")[..40]),
    );
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains("export_b.json"), "{}", run.stderr);
    assert!(
        run.stderr.contains("read again on the next pass"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fx.posted_bodies().keys().collect::<Vec<_>>(),
        ["A1", "A2", "A3"]
    );
    assert!(
        fx.record("B1").is_none(),
        "the cut-off file left nothing behind"
    );
    assert_eq!(fx.watermark_ms(), None);

    fx.write_file(
        "export_b.json",
        &format!("[{}, {}]", record("B1"), record("B2")),
    );
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.posted_bodies().len(), 5);
}

#[tokio::test]
async fn ndjson_is_read_line_by_line() {
    let fx = Fixture::with_export("export.ndjson", "format = \"ndjson\"").await;
    let line = |id: &str, date: &str| {
        json!({"id": id, "firstName": "F", "lastName": "L", "emailAddress": "f@example.com",
               "cellPhoneNumber": "6265550100", "sourceModifiedDate": date})
        .to_string()
    };
    fx.write_export(&format!(
        "{}\n{}\n",
        line("N1", "1709251200000"),
        line("N2", "2024-03-01T05:30:00+0530")
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent = fx.posted_bodies();
    assert_eq!(sent["N1"]["sourceModifiedDate"], "2024-03-01T00:00:00.000Z");
    assert_eq!(sent["N2"]["sourceModifiedDate"], "2024-03-01T00:00:00.000Z");
}

#[tokio::test]
async fn an_export_without_a_modified_date_is_diffed_by_content() {
    let fx = Fixture::new().await;
    let header = "id,firstName,lastName,emailAddress,cellPhoneNumber";
    let first = format!(
        "{header}\nA,Ann,Lee,ann@example.com,(626) 555-0100\nB,Bo,Ray,bo@example.com,(626) 555-0100\n"
    );
    fx.write_export(&first);
    let before = chrono::Utc::now();
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let after = chrono::Utc::now();
    let sent = fx.posted_bodies();
    assert_eq!(sent.len(), 2);
    let date: chrono::DateTime<chrono::Utc> = sent["A"]["sourceModifiedDate"]
        .as_str()
        .expect("date")
        .parse()
        .expect("RFC 3339");
    assert!(
        date >= before - chrono::Duration::seconds(1) && date <= after,
        "{date}"
    );

    // The same content: nothing to do.
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("new"), 0);
    assert_eq!(run.count("upstream"), 0);
    assert_eq!(fx.fake.request_count(), 2);

    // One changed, one added.
    fx.write_export(&format!(
        "{header}\nA,Ann,Lee,ann@example.org,(626) 555-0100\nB,Bo,Ray,bo@example.com,(626) 555-0100\nC,Cy,Day,cy@example.com,(626) 555-0100\n"
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("new"), 1);
    assert_eq!(run.count("upstream"), 1);
    assert_eq!(fx.posted_bodies().len(), 3);
    assert!(
        fx.posted_bodies()["C"]["sourceModifiedDate"]
            .as_str()
            .expect("date")
            > sent["A"]["sourceModifiedDate"].as_str().expect("date")
    );
}

#[tokio::test]
async fn updates_send_put_and_create_again_when_the_customer_is_gone() {
    let fx = Fixture::with_config("[sync]\nupdates = true").await;
    fx.write_export(&format!(
        "{HEADER}\nA,Ann,Lee,ann@example.com,(626) 555-0100,2024-03-01T00:00:00Z,ACME\n{}\n{}\n",
        row("B", "2024-03-01T00:00:00Z"),
        row("C", "2024-03-01T00:00:00Z")
    ));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    fx.fake.delete("B");
    fx.write_export(&format!(
        "{HEADER}\nA,Ann,Lee-Smith,ann@example.com,(626) 555-0100,2024-03-02T00:00:00Z,ACME\n{}\n{}\n",
        row("B", "2024-03-02T00:00:00Z"),
        row("C", "2024-03-01T00:00:00Z")
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let puts: Vec<_> = fx
        .fake
        .received()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    let a = puts
        .iter()
        .find(|r| r.path.ends_with("/integration/customer/A"))
        .expect("A sent as an update");
    assert_eq!(
        a.body,
        json!({"firstName": "Ann", "lastName": "Lee-Smith", "emailAddress": "ann@example.com",
               "cellPhoneNumber": "+16265550100", "sourceModifiedDate": "2024-03-02T00:00:00.000Z"}),
        "the create body without id and companyId"
    );
    assert_eq!(a.status, Some(202));
    assert_eq!(fx.fake.updates("A"), 1);
    // B was gone from BlueTape: 404 to the update, then created again.
    assert_eq!(fx.fake.creations("B"), 2);
    assert_eq!(puts.len(), 2, "C did not change");
    assert_eq!(run.count("upstream"), 2);
    assert_eq!(run.count("updated"), 1);
    assert_eq!(run.count("created"), 1);
    assert_eq!(fx.record("A").expect("A").state, "created");

    // Nothing more to send.
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("updated"), 0);
}

#[tokio::test]
async fn an_update_whose_create_also_gets_404_stops_with_78() {
    let fx = Fixture::with_config("[sync]\nupdates = true").await;
    fx.write_export(&format!("{HEADER}\n{}\n", row("A", "2024-03-01T00:00:00Z")));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    fx.write_export(&format!("{HEADER}\n{}\n", row("A", "2024-03-02T00:00:00Z")));
    fx.fake
        .push_faults([Fault::status(404), Fault::status(404)]);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    let methods: Vec<_> = fx
        .fake
        .received()
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, ["POST", "PUT", "POST"]);
}

#[tokio::test]
async fn a_windows_1252_export_is_a_source_problem_until_source_encoding_names_it() {
    let fx = Fixture::new().await;
    let mut bytes = format!("{HEADER}\n{}\n", row("C1", "2024-03-01T00:00:00Z")).into_bytes();
    bytes.extend_from_slice(
        b"C2,Ren\xe9e,M\xfcller,renee@example.com,(626) 555-0101,2024-03-02T00:00:00Z,\n",
    );
    std::fs::write(fx.path("export.csv"), &bytes).expect("export");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "not UTF-8 at row 3: set source.encoding = \"windows-1252\"? (or save the export \
             as UTF-8); none of its records were taken"
        ),
        "{}",
        run.stderr
    );
    assert!(fx.fake.received().is_empty(), "nothing sent from the file");
    assert_eq!(fx.count_in("rejected"), 0, "no customer rejected for it");

    let run = fx
        .run_with_env(
            &["--once"],
            &[("BLUETAPE_SYNC__SOURCE__ENCODING", "windows-1252")],
        )
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sent = fx.posted_bodies();
    assert_eq!(sent["C2"]["firstName"], "Renée");
    assert_eq!(sent["C2"]["lastName"], "Müller");
    assert_eq!(sent.len(), 2);
}

#[tokio::test]
async fn excel_unicode_text_is_read_by_its_bom_and_its_tabs_are_named() {
    let fx = Fixture::new().await;
    let text = format!(
        "{}\r\n{}\r\n",
        HEADER.replace(',', "\t"),
        "C1\tRenée\tMüller\trenee@example.com\t(626) 555-0101\t2024-03-02T00:00:00Z\t"
    );
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(fx.path("export.csv"), &bytes).expect("export");
    // With the default delimiter the header is one column: the message says which to set.
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the header is split by tabs: set source.delimiter = \"tab\""),
        "{}",
        run.stderr
    );
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__SOURCE__DELIMITER", "tab")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fx.posted_bodies()["C1"],
        json!({"id": "C1", "firstName": "Renée", "lastName": "Müller",
               "emailAddress": "renee@example.com", "cellPhoneNumber": "+16265550101",
               "sourceModifiedDate": "2024-03-02T00:00:00.000Z"})
    );
}

#[tokio::test]
async fn a_json_false_in_a_text_field_is_absent_so_fallbacks_apply() {
    // As Odoo writes every empty field: `false`.
    let fx = Fixture::with_export(
        "export.json",
        "format = \"json\"\n[source.fields]\ncellPhoneNumber = \"mobile | phone\"\n",
    )
    .await;
    let record = |id: &str,
                  email: serde_json::Value,
                  mobile: serde_json::Value,
                  phone: serde_json::Value| {
        json!({"id": id, "firstName": "Ann", "lastName": "Lee", "emailAddress": email,
               "mobile": mobile, "phone": phone, "sourceModifiedDate": "2024-03-01T00:00:00Z"})
    };
    let export = json!([
        record(
            "P-1",
            json!("ann@example.com"),
            json!(false),
            json!("(626) 555-0100")
        ),
        record("P-2", json!(false), json!(null), json!("(626) 555-0101")),
        record("P-3", json!("cy@example.com"), json!(false), json!(false)),
    ]);
    fx.write_export(&export.to_string());
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let bodies = fx.posted_bodies();
    assert_eq!(bodies["P-1"]["cellPhoneNumber"], "+16265550100");
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let reason = |id: &str| fx.record(id).expect("stored").reason.unwrap_or_default();
    assert_eq!(reason("P-2"), "emailAddress: missing");
    assert_eq!(reason("P-3"), "cellPhoneNumber: missing");
}

#[tokio::test]
async fn an_email_field_with_several_addresses_sends_the_first_valid_one() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{}\nM-1,Ann,Lee,\"ann@example.com, billing@example.com\",(626) 555-0100,2024-03-01T00:00:00Z,\n\
         M-2,Bo,Ray,not-an-address; bo@example.com,(626) 555-0101,2024-03-01T00:00:00Z,\n",
        support::HEADER
    ));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bodies = fx.posted_bodies();
    assert_eq!(bodies["M-1"]["emailAddress"], "ann@example.com");
    assert_eq!(bodies["M-2"]["emailAddress"], "bo@example.com");
}
