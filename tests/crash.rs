//! The crash suite: a pass killed with SIGKILL at 30 points chosen from a seed, spread over
//! reading the export and sending, restarted each time. At the end every customer was created
//! exactly once, none is missing, and the store is consistent; after every kill the watermark
//! is never ahead of a record that was not stored.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use support::{Fixture, HEADER, row};

const SEED: u64 = 0x5EED_B1E7;
const KILLS: usize = 30;
/// New rows the accounting system adds before each restart, so kills land in reading too.
const ROWS_PER_ROUND: usize = 150;

/// A small deterministic generator (SplitMix64), so the kill points repeat run to run.
struct Points(u64);

impl Points {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn export(rounds: usize) -> (String, Vec<(String, i64)>) {
    let mut text = format!("{HEADER}\n");
    let mut rows = Vec::new();
    for i in 0..rounds * ROWS_PER_ROUND {
        let ms = 1_700_000_000_000 + i as i64 * 1000;
        let date = chrono::DateTime::from_timestamp_millis(ms)
            .expect("date")
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let id = format!("K{i:05}");
        text.push_str(&row(&id, &date));
        text.push('\n');
        rows.push((id, ms));
    }
    (text, rows)
}

#[tokio::test]
async fn thirty_kills_lose_nothing_and_create_nothing_twice() {
    let fx = Fixture::new().await;
    fx.fake.set_delay(Duration::from_millis(15));
    let mut points = Points(SEED);
    let mut rows = Vec::new();
    for round in 1..=KILLS {
        let (text, all) = export(round);
        fx.write_export(&text);
        rows = all;
        // From the start (reading the export) to well into sending.
        let offset = Duration::from_millis(100 + points.next() % 1000);
        let mut child = fx.spawn(&["--once"]);
        tokio::time::sleep(offset).await;
        child.start_kill().expect("SIGKILL");
        let status = child.wait().await.expect("wait");
        assert!(
            status.code().is_none() || status.success(),
            "round {round}: {status:?}"
        );

        // The watermark is never ahead of a record that was not stored.
        if let Some(watermark) = fx.watermark_ms() {
            let stored = stored_ids(&fx);
            let behind: Vec<_> = rows
                .iter()
                .filter(|(id, ms)| *ms <= watermark && !stored.contains(id))
                .collect();
            assert!(
                behind.is_empty(),
                "round {round}: not stored below the watermark: {behind:?}"
            );
        }
    }

    fx.fake.set_delay(Duration::ZERO);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (id, _) in &rows {
        assert_eq!(fx.fake.creations(id), 1, "{id} created exactly once");
        let state = fx.record(id).expect("stored").state;
        assert!(state == "created" || state == "exists", "{id}: {state}");
    }
    // A 409 only for a request in flight at a kill: at most 2 x concurrency a kill.
    let conflicts = fx
        .fake
        .received()
        .iter()
        .filter(|r| r.status == Some(409))
        .count();
    assert!(conflicts <= KILLS * 8, "{conflicts} re-sends");
    let integrity: String = rusqlite::Connection::open(fx.store_path())
        .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .expect("integrity check");
    assert_eq!(integrity, "ok");
    println!(
        "crash suite: {KILLS} kills survived, {} customers, {} requests, {conflicts} re-sent after a kill",
        rows.len(),
        fx.fake.request_count()
    );
}

fn stored_ids(fx: &Fixture) -> HashSet<String> {
    let conn = rusqlite::Connection::open_with_flags(
        fx.store_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("store");
    let mut stmt = conn.prepare("SELECT id FROM records").expect("query");
    stmt.query_map([], |r| r.get::<_, String>(0))
        .expect("ids")
        .collect::<Result<_, _>>()
        .expect("ids")
}
