//! What the program prints for people (SPEC §10): every value from an export or from BlueTape
//! is escaped in text logs and tables, so no value can forge a log line or drive the terminal;
//! CSV meant for spreadsheets neutralises formulas unless `--raw` asks for the cells verbatim.

mod support;

use support::{Fixture, HEADER, row};

const FORGED: &str = "bad phone\nERROR pass failed: forged \u{1b}]0;owned\u{7}\u{1b}[2J";

#[tokio::test]
async fn a_reason_from_bluetape_can_neither_forge_a_line_nor_drive_the_terminal() {
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{HEADER}\n{}\n{}\n",
        row("EVIL-1", "2024-03-01T00:00:00Z"),
        row("OK-1", "2024-03-01T00:00:00Z")
    ));
    fx.fake.reject_id("EVIL-1", FORGED);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "{:?}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("forged"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains("EVIL-1")
            && lines[0].contains("bad phone\\nERROR pass failed: forged \\u{1b}]0;owned\\u{7}"),
        "{}",
        lines[0]
    );
    assert!(
        !run.stderr
            .lines()
            .any(|l| l.starts_with("ERROR pass failed"))
    );

    for args in [&["failures"][..], &["show", "--id", "EVIL-1"][..]] {
        let printed = fx.run(args).await;
        assert_eq!(printed.code, 0, "{}", printed.stderr);
        assert!(
            !printed.stdout.contains('\u{1b}') && !printed.stdout.contains('\u{7}'),
            "{args:?}: {:?}",
            printed.stdout
        );
        assert!(
            printed
                .stdout
                .contains("bad phone\\nERROR pass failed: forged"),
            "{args:?}: {}",
            printed.stdout
        );
        assert!(
            !printed.stdout.lines().any(|l| l.starts_with("ERROR")),
            "{args:?}: {}",
            printed.stdout
        );
    }
    // JSON is escaped by JSON: the reason reads back exactly.
    let json = fx.run(&["failures", "--format", "json"]).await;
    let rows: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let reason = rows[0]["reason"].as_str().expect("reason");
    assert!(reason.ends_with(FORGED), "{reason:?}");
}

#[tokio::test]
async fn csv_for_spreadsheets_neutralises_formulas_unless_raw() {
    let fx = Fixture::new().await;
    let formula = "=HYPERLINK(\"https://evil.example\",\"open\")";
    fx.write_export(&format!(
        "{HEADER}\n\"=HYPERLINK(\"\"https://evil.example\"\",\"\"open\"\")\",Ada,Lovelace,\
         ada@example.com,(626) 555-0100,2024-03-01T00:00:00Z,\n{}\n",
        row("-12", "2024-03-01T00:00:00Z"),
    ));
    fx.fake.reject_id("-12", "rejected");
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert_eq!(fx.fake.creations(formula), 1, "{}", run.stderr);

    let cell = |csv: &str, row: usize| -> String {
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let record = reader.records().nth(row).expect("row").expect("record");
        record[0].to_owned()
    };
    let export = fx.run(&["export"]).await;
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert_eq!(cell(&export.stdout, 0), format!("'{formula}"));
    let raw = fx.run(&["export", "--raw"]).await;
    assert_eq!(cell(&raw.stdout, 0), formula);
    // A number keeps its sign: `-12` is not a formula.
    let failures = fx.run(&["failures", "--format", "csv"]).await;
    assert_eq!(failures.code, 0, "{}", failures.stderr);
    assert_eq!(cell(&failures.stdout, 0), "-12");
}
