//! The crash suite: passes killed with SIGKILL while they read the export and while they send,
//! restarted each time. Each kill is aimed at a phase and counted only when it landed there (the
//! pass was still running: reading when BlueTape had seen none of its requests, sending
//! otherwise). After every kill nothing at or below the watermark is missing from the store,
//! and at most `2 × api.concurrency` customers had been sent without their answer recorded. At
//! the end every customer was created exactly once, sent again only after a kill that caught it
//! unrecorded, and the store is consistent.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use support::{Fixture, HEADER, row};

const SEED: u64 = 0x5EED_B1E7;
/// Landed kills wanted in each phase.
const PER_PHASE: usize = 15;
/// Attempts allowed per phase before the suite gives up on landing its kills.
const ATTEMPTS: usize = 40;
const CONCURRENCY: usize = 4;
/// New customers the accounting system adds before every restart.
const NEW_PER_ROUND: usize = 60;
/// Rows with an invalid email, new before each kill aimed at reading: rejected locally and
/// stored in the pass's one transaction, so reading takes seconds and is never sent.
const BULK: usize = 40_000;
/// How long the fake takes to answer, so that sending takes seconds too.
const ANSWER: Duration = Duration::from_millis(40);

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

    fn below(&mut self, ms: u64) -> Duration {
        Duration::from_millis(self.next() % ms)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Phase {
    Reading,
    Sending,
}

/// The customers of the export so far, with their dates.
struct Export {
    rows: Vec<(String, i64)>,
}

impl Export {
    fn grow(&mut self) {
        for _ in 0..NEW_PER_ROUND {
            let i = self.rows.len();
            let ms = 1_700_000_000_000 + i as i64 * 1000;
            self.rows.push((format!("K{i:05}"), ms));
        }
    }

    /// The export's text; with `bulk`, rows rejected locally after the customers, new ids
    /// each round.
    fn text(&self, bulk: Option<usize>) -> String {
        let date = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .expect("date")
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        };
        let mut text = format!("{HEADER}\n");
        for (id, ms) in &self.rows {
            text.push_str(&row(id, &date(*ms)));
            text.push('\n');
        }
        let newest = self.rows.last().map_or(0, |(_, ms)| *ms);
        if let Some(round) = bulk {
            for i in 0..BULK {
                text.push_str(&format!(
                    "B{round:03}-{i:05},F,L,not-an-email,(626) 555-0100,{},\n",
                    date(newest + 1000 + i as i64)
                ));
            }
        }
        text
    }
}

#[tokio::test]
async fn kills_while_reading_and_while_sending_lose_nothing_and_create_nothing_twice() {
    let fx = Fixture::with_config("").await;
    let env = [("BLUETAPE_SYNC__API__CONCURRENCY", "4")];
    fx.fake.set_delay(ANSWER);
    let mut points = Points(SEED);
    let mut export = Export { rows: Vec::new() };
    let mut landed: HashMap<Phase, usize> = HashMap::new();
    let mut attempts: HashMap<Phase, usize> = HashMap::new();
    // Per kill: the customers sent whose answer was not recorded, with their POSTs so far.
    let mut unrecorded_at_kill: Vec<HashMap<String, usize>> = Vec::new();
    let started = Instant::now();

    for round in 0.. {
        let phase = match (landed.get(&Phase::Reading), landed.get(&Phase::Sending)) {
            (Some(r), Some(s)) if *r >= PER_PHASE && *s >= PER_PHASE => break,
            (Some(r), _) if *r >= PER_PHASE => Phase::Sending,
            (_, Some(s)) if *s >= PER_PHASE => Phase::Reading,
            _ if round % 2 == 0 => Phase::Reading,
            _ => Phase::Sending,
        };
        let tries = attempts.entry(phase).or_default();
        *tries += 1;
        assert!(
            *tries <= ATTEMPTS,
            "only {landed:?} kills landed in {attempts:?} attempts"
        );
        export.grow();
        fx.write_export(&export.text((phase == Phase::Reading).then_some(round)));

        let passes_before = fx.passes().len();
        let requests_before = fx.fake.request_count();
        let mut child = fx
            .command(&["--once"], &env)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // Aim: the pass has begun (reading), or BlueTape has its first request (sending),
        // then a little later by the seed.
        let aimed = fx
            .wait_for(Duration::from_secs(60), |fx| match phase {
                Phase::Reading => fx.passes().len() > passes_before,
                Phase::Sending => fx.fake.request_count() > requests_before,
            })
            .await;
        assert!(aimed, "round {round}: the pass never reached {phase:?}");
        tokio::time::sleep(match phase {
            Phase::Reading => points.below(800),
            Phase::Sending => points.below(600),
        })
        .await;
        child.start_kill().expect("SIGKILL");
        let status = child.wait().await.expect("wait");
        assert!(
            status.code().is_none() || matches!(status.code(), Some(0 | 65)),
            "round {round}: {status:?}"
        );

        // Where it landed, if it landed at all.
        let running = fx
            .passes()
            .get(passes_before)
            .is_some_and(|(_, _, finished)| finished.is_none());
        if running {
            let at = if fx.fake.request_count() == requests_before {
                Phase::Reading
            } else {
                Phase::Sending
            };
            *landed.entry(at).or_default() += 1;
        }

        // The watermark is never ahead of a customer that was not stored.
        let stored = stored_states(&fx);
        if let Some(watermark) = fx.watermark_ms() {
            let behind: Vec<_> = export
                .rows
                .iter()
                .filter(|(id, ms)| *ms <= watermark && !stored.contains_key(id))
                .collect();
            assert!(
                behind.is_empty(),
                "round {round}: not stored below the watermark: {behind:?}"
            );
        }
        // Sent, but the answer not recorded: what a restart may send again.
        let unrecorded: HashMap<String, usize> = export
            .rows
            .iter()
            .filter(|(id, _)| stored.get(id).is_some_and(|s| s == "pending"))
            .map(|(id, _)| (id.clone(), fx.fake.posts(id)))
            .filter(|(_, posts)| *posts > 0)
            .collect();
        assert!(
            unrecorded.len() <= 2 * CONCURRENCY,
            "round {round}: {} sent without their answer recorded: {unrecorded:?}",
            unrecorded.len()
        );
        unrecorded_at_kill.push(unrecorded);
    }

    fx.fake.set_delay(Duration::ZERO);
    fx.write_export(&export.text(None));
    let run = fx.run_with_env(&["--once"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut allowed: HashMap<&str, usize> = HashMap::new();
    for unrecorded in &unrecorded_at_kill {
        for id in unrecorded.keys() {
            *allowed.entry(id).or_default() += 1;
        }
    }
    for (id, _) in &export.rows {
        assert_eq!(fx.fake.creations(id), 1, "{id} created exactly once");
        let posts = fx.fake.posts(id);
        let may = 1 + allowed.get(id.as_str()).copied().unwrap_or(0);
        assert!(
            posts <= may,
            "{id}: {posts} POSTs, {may} allowed by the kills"
        );
        let state = fx.record(id).expect("stored").state;
        assert!(state == "created" || state == "exists", "{id}: {state}");
    }
    let bulk_sent = fx
        .fake
        .received()
        .iter()
        .filter(|r| r.id().is_some_and(|id| id.starts_with('B')))
        .count();
    assert_eq!(bulk_sent, 0, "rows rejected locally are never sent");
    let integrity: String = rusqlite::Connection::open(fx.store_path())
        .and_then(|c| c.query_row("PRAGMA integrity_check", [], |r| r.get(0)))
        .expect("integrity check");
    assert_eq!(integrity, "ok");

    // What each kill cost: customers sent again because their answer was not yet recorded.
    let resent: Vec<usize> = unrecorded_at_kill
        .iter()
        .map(|unrecorded| {
            unrecorded
                .iter()
                .filter(|(id, posts)| fx.fake.posts(id) > **posts)
                .count()
        })
        .collect();
    let total_resent = resent.iter().sum::<usize>();
    println!(
        "crash suite: {} kills landed ({} while reading, {} while sending) in {} attempts; \
         {} customers, each created once; worst re-sends after one kill {} (bound {}), {} in all; {:.0?}",
        landed.values().sum::<usize>(),
        landed.get(&Phase::Reading).copied().unwrap_or(0),
        landed.get(&Phase::Sending).copied().unwrap_or(0),
        attempts.values().sum::<usize>(),
        export.rows.len(),
        resent.iter().max().copied().unwrap_or(0),
        2 * CONCURRENCY,
        total_resent,
        started.elapsed(),
    );
}

/// Every stored customer's state, by id.
fn stored_states(fx: &Fixture) -> HashMap<String, String> {
    if !fx.store_path().exists() {
        return HashMap::new();
    }
    let conn = rusqlite::Connection::open_with_flags(
        fx.store_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("store");
    if !support::migrated(&conn) {
        return HashMap::new();
    }
    let mut stmt = conn
        .prepare("SELECT id, state FROM records WHERE id LIKE 'K%'")
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("ids")
        .collect::<Result<_, _>>()
        .expect("ids")
}

/// Invoices per customer in the invoice crash test.
const INVOICES_PER_CUSTOMER: usize = 2;
/// New customers per round in the invoice crash test (each with its invoices).
const NEW_CUSTOMERS_WITH_INVOICES: usize = 30;
/// Landed kills wanted while each kind is sent.
const PER_KIND: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Sending {
    Customers,
    Invoices,
}

#[tokio::test]
async fn kills_while_customers_and_invoices_are_sent_lose_nothing_and_create_nothing_twice() {
    let fx = Fixture::with_config(
        "\n[invoices]\npath = \"invoices.csv\"\nlookback = \"0s\"\nsettle = \"0s\"\n",
    )
    .await;
    let env = [("BLUETAPE_SYNC__API__CONCURRENCY", "4")];
    fx.fake.set_delay(ANSWER);
    let mut points = Points(SEED ^ 0x1_0000);
    let mut customers: Vec<(String, i64)> = Vec::new();
    let mut invoices: Vec<(String, String, i64)> = Vec::new();
    let mut landed: HashMap<Sending, usize> = HashMap::new();
    let mut attempts = 0;
    // Per kill: the invoices sent whose answer was not recorded, with their POSTs so far.
    let mut unrecorded_at_kill: Vec<HashMap<String, usize>> = Vec::new();
    let date = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .expect("date")
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let write = |customers: &[(String, i64)], invoices: &[(String, String, i64)]| {
        let mut text = format!("{HEADER}\n");
        for (id, ms) in customers {
            text.push_str(&row(id, &date(*ms)));
            text.push('\n');
        }
        fx.write_export(&text);
        let mut text = "id,invoiceNumber,customerId,invoiceDate,dueDate,totalAmount,amountDue,\
                        sourceModifiedDate\n"
            .to_owned();
        for (id, customer, ms) in invoices {
            text.push_str(&format!(
                "{id},N-{id},{customer},2024-03-01,2024-03-31,19.99,19.99,{}\n",
                date(*ms)
            ));
        }
        fx.write_file("invoices.csv", &text);
    };
    let started = Instant::now();

    for round in 0.. {
        let aim = match (
            landed.get(&Sending::Customers),
            landed.get(&Sending::Invoices),
        ) {
            (Some(c), Some(i)) if *c >= PER_KIND && *i >= PER_KIND => break,
            (Some(c), _) if *c >= PER_KIND => Sending::Invoices,
            (_, Some(i)) if *i >= PER_KIND => Sending::Customers,
            _ if round % 2 == 0 => Sending::Invoices,
            _ => Sending::Customers,
        };
        attempts += 1;
        assert!(
            attempts <= 4 * PER_KIND * 2,
            "only {landed:?} kills landed in {attempts} attempts"
        );
        for _ in 0..NEW_CUSTOMERS_WITH_INVOICES {
            let i = customers.len();
            let ms = 1_700_000_000_000 + i as i64 * 1000;
            let customer = format!("K{i:05}");
            for k in 0..INVOICES_PER_CUSTOMER {
                invoices.push((format!("V{i:05}-{k}"), customer.clone(), ms + 1));
            }
            customers.push((customer, ms));
        }
        write(&customers, &invoices);

        let passes_before = fx.passes().len();
        let requests_before = fx.fake.request_count();
        let invoice_requests_before = fx.fake.invoice_requests().len();
        let mut child = fx
            .command(&["--once"], &env)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let aimed = fx
            .wait_for(Duration::from_secs(60), |fx| match aim {
                Sending::Customers => fx.fake.request_count() > requests_before,
                Sending::Invoices => fx.fake.invoice_requests().len() > invoice_requests_before,
            })
            .await;
        assert!(aimed, "round {round}: the pass never sent {aim:?}");
        tokio::time::sleep(points.below(500)).await;
        child.start_kill().expect("SIGKILL");
        let status = child.wait().await.expect("wait");
        assert!(
            status.code().is_none() || status.code() == Some(0),
            "round {round}: {status:?}"
        );
        let running = fx
            .passes()
            .get(passes_before)
            .is_some_and(|(_, _, finished)| finished.is_none());
        if running {
            let at = if fx.fake.invoice_requests().len() > invoice_requests_before {
                Sending::Invoices
            } else {
                Sending::Customers
            };
            *landed.entry(at).or_default() += 1;
        }

        // Sent by this run, but the answer not recorded: what a restart may send again, of
        // either kind (one left so by an earlier kill and not sent since is that kill's).
        let sent_now: std::collections::HashSet<String> = fx.fake.received()[requests_before..]
            .iter()
            .filter(|r| r.method == "POST")
            .filter_map(|r| r.id().map(str::to_owned))
            .collect();
        let conn = rusqlite::Connection::open(fx.store_path()).expect("store");
        let pending: Vec<(String, String)> = conn
            .prepare("SELECT kind, id FROM records WHERE state = 'pending'")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .expect("pending");
        let unrecorded: HashMap<String, usize> = pending
            .iter()
            .map(|(kind, id)| {
                let posts = match kind.as_str() {
                    "invoice" => fx.fake.invoice_posts(id),
                    _ => fx.fake.posts(id),
                };
                (id.clone(), posts)
            })
            .filter(|(id, _)| sent_now.contains(id))
            .collect();
        assert!(
            unrecorded.len() <= 2 * CONCURRENCY,
            "round {round}: {} sent without their answer recorded: {unrecorded:?}",
            unrecorded.len()
        );
        unrecorded_at_kill.push(unrecorded);
    }

    fx.fake.set_delay(Duration::ZERO);
    let run = fx.run_with_env(&["--once", "--full"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut allowed: HashMap<&str, usize> = HashMap::new();
    for unrecorded in &unrecorded_at_kill {
        for id in unrecorded.keys() {
            *allowed.entry(id).or_default() += 1;
        }
    }
    // Every invoice created once, after its customer, and sent again only after a kill that
    // caught it unrecorded.
    let received = fx.fake.received();
    let created_at = |customer: bool, id: &str| {
        received
            .iter()
            .position(|r| r.method == "POST" && r.is_customer() == customer && r.id() == Some(id))
            .unwrap_or_else(|| panic!("{id} never sent"))
    };
    for (id, customer, _) in &invoices {
        assert_eq!(
            fx.fake.invoice_creations(id),
            1,
            "{id} created exactly once"
        );
        let posts = fx.fake.invoice_posts(id);
        let may = 1 + allowed.get(id.as_str()).copied().unwrap_or(0);
        assert!(
            posts <= may,
            "{id}: {posts} POSTs, {may} allowed by the kills"
        );
        assert!(
            created_at(true, customer) < created_at(false, id),
            "{id} before {customer}"
        );
        let state: String = rusqlite::Connection::open(fx.store_path())
            .and_then(|c| {
                c.query_row(
                    "SELECT state FROM records WHERE kind = 'invoice' AND id = ?1",
                    [id],
                    |r| r.get(0),
                )
            })
            .expect("stored");
        assert!(state == "created" || state == "exists", "{id}: {state}");
    }
    for (id, _) in &customers {
        assert_eq!(fx.fake.creations(id), 1, "{id} created exactly once");
    }
    let resent: Vec<usize> = unrecorded_at_kill
        .iter()
        .map(|unrecorded| {
            unrecorded
                .iter()
                .filter(|(id, posts)| {
                    let now = if id.starts_with('V') {
                        fx.fake.invoice_posts(id)
                    } else {
                        fx.fake.posts(id)
                    };
                    now > **posts
                })
                .count()
        })
        .collect();
    println!(
        "crash suite with invoices: {} kills landed ({} sending customers, {} sending invoices) \
         in {attempts} attempts; {} customers and {} invoices, each created once; worst re-sends \
         after one kill {} (bound {}), {} in all; {:.0?}",
        landed.values().sum::<usize>(),
        landed.get(&Sending::Customers).copied().unwrap_or(0),
        landed.get(&Sending::Invoices).copied().unwrap_or(0),
        customers.len(),
        invoices.len(),
        resent.iter().max().copied().unwrap_or(0),
        2 * CONCURRENCY,
        resent.iter().sum::<usize>(),
        started.elapsed(),
    );
}
