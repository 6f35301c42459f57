//! Dates and the watermark (SPEC §10): a record dated in the future is sent but never moves the
//! watermark, so one mistyped year cannot hide the customers that follow it; correcting its year
//! re-queues it; a pass's record-level lines are bounded so its summary always reaches the log.

mod support;

use chrono::{Duration as Age, SecondsFormat, Utc};
use support::{Fixture, HEADER, row};

/// A moment `hours` from now, as the export writes it.
fn at(hours: i64) -> String {
    (Utc::now() + Age::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn export(rows: &[String]) -> String {
    format!("{HEADER}\n{}\n", rows.join("\n"))
}

#[tokio::test]
async fn one_record_dated_in_the_future_never_hides_the_customers_after_it() {
    // The operator's settings: the default lookback of an hour.
    let fx = Fixture::new().await;
    let env = [("BLUETAPE_SYNC__SOURCE__LOOKBACK", "1h")];
    let mut rows: Vec<String> = (0..3)
        .map(|i| row(&format!("OLD-{i}"), &at(-10 + i)))
        .collect();
    rows.push(row("TYPO", &at(4 * 365 * 24)));
    fx.write_export(&export(&rows));
    let run = fx.run_with_env(&["--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("created"), 4, "the future one is sent too");
    assert_eq!(run.count("future"), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("TYPO") && run.stderr.contains("in the future"),
        "{}",
        run.stderr
    );
    let status = fx.run(&["status", "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&status.stdout).expect("json");
    assert_eq!(json["last_pass"]["future"], 1, "{json}");
    // The watermark is the newest date that is not in the future: 8 hours ago.
    let watermark = fx.watermark_ms().expect("watermark");
    let eight_hours_ago = (Utc::now() - Age::hours(8)).timestamp_millis();
    assert!(
        (watermark - eight_hours_ago).abs() < 60_000,
        "watermark {watermark} is not 8 h ago"
    );

    // Five customers written later, dated 6 to 5 hours ago.
    rows.extend((0..5).map(|i| row(&format!("LATER-{i}"), &at(-6 + i / 4))));
    fx.write_export(&export(&rows));
    let run = fx.run_with_env(&["--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.count("created"), 5, "{}", run.stderr);
    for i in 0..5 {
        assert_eq!(fx.fake.creations(&format!("LATER-{i}")), 1);
    }
    assert_eq!(fx.fake.posts("TYPO"), 1, "sent once");
    assert!(
        !run.stderr.contains("TYPO"),
        "said once per version of the record:\n{}",
        run.stderr
    );
    assert_eq!(run.count("future"), 1, "{}", run.stderr);
}

#[tokio::test]
async fn correcting_a_future_year_downwards_queues_the_record_again() {
    let fx = Fixture::new().await;
    let bad = "FIX,Ada,Lovelace,not-an-email,(626) 555-0100";
    fx.write_export(&export(&[
        row("OK-1", &at(-2)),
        format!("{bad},{},", at(3 * 365 * 24)),
    ]));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert_eq!(fx.record("FIX").expect("stored").state, "rejected");
    // The accounting system fixes the email and the year: the date goes down, not up.
    fx.write_export(&export(&[row("OK-1", &at(-2)), row("FIX", &at(-1))]));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.creations("FIX"), 1);
    assert_eq!(fx.record("FIX").expect("stored").state, "created");
}

#[tokio::test]
async fn a_pass_logs_at_most_a_hundred_record_lines_then_counts_the_rest() {
    let fx = Fixture::new().await;
    let rows: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                "R{i:05},Ada,Lovelace,not-an-email,(626) 555-0100,{},",
                at(-1)
            )
        })
        .chain([row("GOOD", &at(-1))])
        .collect();
    fx.write_export(&export(&rows));
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 65, "{}", run.stderr);
    let record_lines = run
        .stderr
        .lines()
        .filter(|l| l.contains("customer rejected:"))
        .count();
    assert_eq!(record_lines, 100, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "… and 2,900 more rejected (not logged one by one: see `bluetape-sync failures`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.count("rejected"), 3000);
    assert_eq!(fx.fake.creations("GOOD"), 1);
}
