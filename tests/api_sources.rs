//! Reading QuickBooks Online and Xero directly (SPEC §11): `connect`, then passes that read the
//! API, against fake providers and the fake BlueTape on 127.0.0.1. Nothing reaches the real
//! providers.

mod support;

use std::process::Stdio;

use support::fake_quickbooks::{FakeQuickbooks, REALM};
use support::fake_xero::FakeXero;
use support::linked::{
    connect_by_pasting, first_change, quickbooks_fixture, quickbooks_with_invoices, xero_fixture,
    xero_fixture_with,
};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};

#[tokio::test]
async fn xero_connect_by_pasted_url_then_a_pass_reads_the_contacts() {
    let xero = FakeXero::start().await;
    let fx = xero_fixture(&xero).await;
    let connect = connect_by_pasting(&fx, "xero", &[]).await;
    assert_eq!(connect.code, 0, "{}\n{}", connect.stdout, connect.stderr);
    assert!(
        connect
            .stdout
            .contains("connected: Xero company Demo Company (US)"),
        "{}",
        connect.stdout
    );
    let consent = connect.stdout.lines().next().unwrap_or_default();
    assert!(
        consent.contains("code_challenge_method=S256"),
        "PKCE: {consent}"
    );
    assert!(consent.contains("accounting.contacts.read"), "{consent}");

    let run = fx.run(&["--once"]).await;
    assert!(run.code == 0 || run.code == 65, "{}", run.stderr);
    assert!(
        !fx.fake.created_ids().is_empty(),
        "contacts read from the API reach BlueTape: {}",
        run.stderr
    );
    let status = fx.run(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(status["connection"]["provider"], "xero", "{status}");
    assert_eq!(status["connection"]["company"], "Demo Company (US)");
}

#[tokio::test]
async fn quickbooks_first_pass_reads_2500_customers_over_three_pages_then_only_the_changes() {
    let qb = FakeQuickbooks::start_empty().await;
    let first = first_change();
    qb.books(|b| b.generate_customers(2500, first, std::time::Duration::from_secs(1)));
    let fx = quickbooks_fixture(&qb).await;
    let connect = connect_by_pasting(&fx, "quickbooks", &[]).await;
    assert_eq!(connect.code, 0, "{}\n{}", connect.stdout, connect.stderr);
    assert!(
        connect
            .stdout
            .contains(&format!("connected: QuickBooks Online company {REALM}")),
        "{}",
        connect.stdout
    );

    let started = std::time::Instant::now();
    let run = fx.run(&["--once"]).await;
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.created_ids().len(), 2500);
    let queries = qb.queries();
    assert_eq!(queries.len(), 3, "three pages: {queries:#?}");
    assert!(
        queries
            .iter()
            .all(|q| q.contains("Active IN (true, false)") && q.contains("MAXRESULTS 1000")),
        "{queries:#?}"
    );
    eprintln!("first pass of 2,500 customers over three pages: {took:?}");

    // Two customers change: the next pass asks only from the watermark, and reads just them.
    qb.books(|b| {
        b.update(
            support::fake_quickbooks::Entity::Customer,
            "7",
            serde_json::json!({"GivenName": "Seven"}),
        );
        b.update(
            support::fake_quickbooks::Entity::Customer,
            "2400",
            serde_json::json!({"GivenName": "Twenty-four hundred"}),
        );
    });
    let before = qb.queries().len();
    let again = fx.run(&["--once"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let asked = &qb.queries()[before..];
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert!(
        !asked[0].contains(">= '1970-01-01"),
        "incremental from the watermark: {}",
        asked[0]
    );
    // The two changes, and the customer at the watermark itself (the bound includes it).
    assert_eq!(again.count("read"), 3, "{}", again.stderr);
    assert_eq!(again.count("changed upstream"), 2);
    assert_eq!(fx.fake.created_ids().len(), 2500, "none created twice");
}

/// Twenty passes, the access token expired at the provider before each (answered 401) or
/// about to expire (refreshed ahead): every pass works, every refresh uses the newest refresh
/// token, and none is ever refused.
#[tokio::test]
async fn twenty_passes_across_expiring_tokens_never_meet_invalid_grant() {
    let qb = FakeQuickbooks::start().await;
    let fx = quickbooks_fixture(&qb).await;
    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);
    for pass in 0..20 {
        match pass % 2 {
            // Refused with a 401: refreshed once, the page asked again.
            0 => qb.oauth(|o| o.expire_access_tokens()),
            // Issued for 30 s: refreshed ahead of its expiry.
            _ => qb.set_access_lifetime(30),
        }
        let run = fx.run(&["--once", "--full"]).await;
        assert!(
            run.code == 0 || run.code == 65,
            "pass {pass}: {}",
            run.stderr
        );
    }
    let statuses = qb.token_statuses();
    assert!(statuses.len() >= 20, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "every token answer was 200: {statuses:?}"
    );
    assert_eq!(qb.oauth(|o| o.reused_refresh_tokens), 0);
}

#[tokio::test]
async fn a_revoked_connection_stops_the_pass_with_77_and_the_connect_advice() {
    let qb = FakeQuickbooks::start().await;
    let fx = quickbooks_fixture(&qb).await;
    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);
    qb.revoke_all();
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the QuickBooks Online connection has expired or was revoked: run bluetape-sync \
             connect quickbooks"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(fx.fake.request_count(), 0, "nothing sent");
    let passes = fx.passes();
    let last = passes.last().expect("the pass is in the history");
    assert_eq!(last.0, "unauthorized", "{passes:?}");
    assert!(last.2.is_some(), "ended, not left running");
}

/// A token answer lost on its way (the process killed, the connection dropped): Xero still
/// honours the refresh token it replaced for its grace period, so the next pass works.
#[tokio::test]
async fn a_lost_token_answer_is_recovered_within_xero_s_grace() {
    let xero = FakeXero::start().await;
    let fx = xero_fixture(&xero).await;
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    xero.oauth(|o| o.expire_access_tokens());
    xero.lose_token_answers(1);
    let lost = fx.run(&["--once"]).await;
    assert_eq!(lost.code, 69, "{}", lost.stderr);
    let next = fx.run(&["--once"]).await;
    assert!(next.code == 0 || next.code == 65, "{}", next.stderr);
    assert!(!fx.fake.created_ids().is_empty());
}

/// Waits, within a generous bound, for `done`.
async fn until(what: &str, done: impl Fn() -> bool) {
    let limit = std::time::Duration::from_secs(60);
    let started = std::time::Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// A pass killed (SIGKILL) right after Xero answered its refresh, before the answer reached
/// it, and one killed after it kept the new tokens, while reading: each next pass works.
#[tokio::test]
async fn a_pass_killed_right_after_the_token_answer_is_followed_by_one_that_works() {
    let xero = FakeXero::start().await;
    let fx = xero_fixture(&xero).await;
    // An access token that lives 30 s is refreshed ahead, before any read asks with it.
    xero.set_access_lifetime(30);
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);

    // The refresh is done at Xero (the old refresh token retired), its answer not yet sent.
    xero.set_token_answer_delay(std::time::Duration::from_secs(600));
    let calls = xero.token_calls();
    let mut child = fx.spawn(&["--once"]);
    until("the refresh", || xero.token_calls() == calls + 1).await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("killed");
    xero.set_token_answer_delay(std::time::Duration::ZERO);

    // The tokens are kept before they are used: killed while reading with them, it loses
    // nothing (the read is held until the kill).
    xero.set_access_lifetime(3600);
    xero.hold_answers();
    let (reads, calls) = (xero.data_requests().len(), xero.token_calls());
    let mut child = fx.spawn(&["--once"]);
    until("a read with the new token", || {
        xero.token_calls() == calls + 1 && xero.data_requests().len() > reads
    })
    .await;
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("killed");
    xero.release_answers();
    let calls = xero.token_calls();

    let next = fx.run(&["--once"]).await;
    assert!(next.code == 0 || next.code == 65, "{}", next.stderr);
    assert!(!fx.fake.created_ids().is_empty(), "{}", next.stderr);
    assert_eq!(
        xero.token_calls(),
        calls,
        "the kept access token still good: no refresh"
    );
    // The connect, the refresh whose answer the kill lost (never sent), and the second pass's
    // refresh with the token the store still held: honoured within Xero's grace.
    assert_eq!(
        xero.token_statuses(),
        [Some(200), None, Some(200)],
        "{}",
        next.stderr
    );
}

#[tokio::test]
async fn a_pass_without_a_connection_says_to_connect() {
    let xero = FakeXero::start().await;
    let fx = xero_fixture(&xero).await;
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Xero is not connected: run bluetape-sync connect xero"),
        "{}",
        run.stderr
    );
}

/// `connect --listen` catches the browser's redirect itself (a `http://127.0.0.1:PORT/...`
/// redirect URI), and invoices are read through the same connection.
#[tokio::test]
async fn xero_connect_by_listening_then_contacts_and_invoices_through_one_connection() {
    let xero = FakeXero::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let fx = xero_fixture_with(
        &xero,
        "\n[invoices]\npreset = \"xero\"\nfrom = \"api\"\nsettle = \"0s\"\nlookback = \"0s\"\n",
        &format!("redirect_uri = \"http://127.0.0.1:{port}/callback\""),
    )
    .await;
    let listen = format!("127.0.0.1:{port}");
    let mut child = fx
        .command(&["connect", "xero", "--listen", &listen], &[])
        .spawn()
        .expect("spawn connect");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let consent = lines.next_line().await.expect("read").expect("consent URL");
    // The browser: the provider's consent, then its redirect to `connect`'s own listener.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let redirect = browser.get(&consent).send().await.expect("consent");
    let location = redirect
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("redirect")
        .to_owned();
    let mut caught = None;
    for _ in 0..200 {
        match browser.get(&location).send().await {
            Ok(answer) => {
                caught = Some(answer.status().as_u16());
                break;
            }
            // The listener may not be bound yet: asked again, within a bound.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    assert_eq!(caught, Some(200), "connect answers the browser");
    let output = child.wait_with_output().await.expect("connect ends");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let run = fx.run(&["--once"]).await;
    assert!(run.code == 0 || run.code == 65, "{}", run.stderr);
    // A rejection names where the record came from: the API, not a spool file.
    assert!(
        run.stderr
            .contains("at=Xero API (customers read this pass) record"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(".spool"), "{}", run.stderr);
    // The fixture's invoices wait for contacts it does not send, or are left out (drafts,
    // paid): read and decided all the same.
    assert!(
        run.invoice_summary().contains("waiting 2") && run.invoice_summary().contains("left out 2"),
        "invoices read through the same connection: {}",
        run.stderr
    );
    let invoice_reads: Vec<_> = (xero.data_requests().into_iter())
        .filter(|r| r.path.ends_with("/Invoices"))
        .collect();
    assert!(!invoice_reads.is_empty());
    for read in &invoice_reads {
        let param = |name: &str| {
            (read.params.iter())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(param("where"), Some("Type==\"ACCREC\""), "{read:?}");
        assert_eq!(param("order"), Some("UpdatedDateUTC"));
        assert!(read.headers.contains_key("if-modified-since"));
        assert_eq!(
            read.headers.get("xero-tenant-id").map(String::as_str),
            Some(support::fake_xero::TENANT)
        );
    }

    // The next pass asks each list once, from its watermark.
    let before = xero.data_requests().len();
    let again = fx.run(&["--once"]).await;
    assert!(again.code == 0 || again.code == 65, "{}", again.stderr);
    let asked: Vec<(String, String)> = (xero.data_requests()[before..].iter())
        .map(|r| {
            let since = r.headers.get("if-modified-since").cloned();
            (r.path.clone(), since.unwrap_or_default())
        })
        .collect();
    let paths: Vec<&str> = asked.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["/api.xro/2.0/Contacts", "/api.xro/2.0/Invoices"],
        "{asked:?}"
    );
    assert!(
        asked.iter().all(|(_, since)| !since.contains("1970")),
        "incremental: {asked:?}"
    );
    eprintln!("an incremental Xero pass with invoices: {asked:?}");
}

/// Xero's day budget spent mid-read: the pass stops with 69 and a line saying so, stages
/// nothing, and the next day's pass reads everything.
#[tokio::test]
async fn xero_s_day_budget_stops_the_pass_with_69_and_loses_nothing() {
    let xero = FakeXero::start_empty().await;
    let first = first_change();
    xero.books(|b| b.generate_contacts(1500, first, std::time::Duration::from_secs(1)));
    let fx = xero_fixture(&xero).await;
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    // One page is left for today: 1,500 contacts are two.
    xero.set_day_budget(1, 3600);
    let spent = fx.run(&["--once"]).await;
    assert_eq!(spent.code, 69, "{}", spent.stderr);
    assert!(
        spent.stderr.contains("daily request limit"),
        "{}",
        spent.stderr
    );
    assert_eq!(fx.fake.request_count(), 0, "nothing staged, nothing sent");
    assert_eq!(
        fx.passes().last().map(|p| p.0.clone()).as_deref(),
        Some("unavailable")
    );
    // Tomorrow.
    xero.set_day_budget(5000, 3600);
    let next = fx.run(&["--once"]).await;
    assert!(next.code == 0 || next.code == 65, "{}", next.stderr);
    assert_eq!(fx.fake.created_ids().len(), 1500);
    // Xero's own limits, as the fake counted every request: never exceeded.
    assert!(
        xero.max_per_minute() <= 60 && xero.max_in_flight() <= 5,
        "{} a minute, {} at once",
        xero.max_per_minute(),
        xero.max_in_flight()
    );
}

/// A 429 with `Retry-After` is waited out, then the page is asked again.
#[tokio::test]
async fn a_429_waits_its_retry_after() {
    let qb = FakeQuickbooks::start().await;
    let fx = quickbooks_fixture(&qb).await;
    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);
    qb.push_faults([support::fake_provider::Fault::too_many(1)]);
    let started = std::time::Instant::now();
    let run = fx.run(&["--once"]).await;
    assert!(run.code == 0 || run.code == 65, "{}", run.stderr);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "waited"
    );
    assert!(!fx.fake.created_ids().is_empty());
    assert!(qb.max_per_minute() <= 500 && qb.max_in_flight() <= 10);
}

/// A pasted URL whose `state` is not this consent's is refused before anything is exchanged;
/// `connect --status` shows the link; `disconnect` revokes it at the provider and forgets it.
#[tokio::test]
async fn a_foreign_redirect_is_refused_status_shows_the_link_and_disconnect_revokes_it() {
    let xero = FakeXero::start().await;
    let fx = xero_fixture(&xero).await;
    let mut child = fx
        .command(&["connect", "xero"], &[])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn connect");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"http://127.0.0.1:9/callback?code=stolen&state=not-this-one\n")
        .await
        .expect("paste");
    drop(stdin);
    let output = child.wait_with_output().await.expect("connect ends");
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("state does not match"), "{stderr}");
    assert!(xero.token_statuses().is_empty(), "nothing exchanged");

    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    let status = fx.run(&["connect", "xero", "--status"]).await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("company         Demo Company (US)"),
        "{}",
        status.stdout
    );
    let gone = fx.run(&["disconnect", "xero"]).await;
    assert_eq!(gone.code, 0, "{}", gone.stderr);
    assert!(
        xero.requests()
            .iter()
            .any(|r| r.path.ends_with("/connect/revocation")),
        "revoked at the provider"
    );
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 78, "forgotten: {}", run.stderr);
}

/// A Xero Custom Connection: the app's own credentials, no `connect` consent, no refresh
/// token; passes ask for a token when they need one.
#[tokio::test]
async fn a_xero_custom_connection_reads_without_a_consent() {
    let xero = FakeXero::start().await;
    let fx = xero_fixture_with(&xero, "", "grant = \"client_credentials\"").await;
    let connect = fx.run(&["connect", "xero"]).await;
    assert_eq!(connect.code, 0, "{}", connect.stderr);
    assert!(
        !connect.stdout.contains("http"),
        "no consent URL: {}",
        connect.stdout
    );
    xero.oauth(|o| o.expire_access_tokens());
    let run = fx.run(&["--once"]).await;
    assert!(run.code == 0 || run.code == 65, "{}", run.stderr);
    assert!(!fx.fake.created_ids().is_empty());
}

/// Records changed between two page requests of one read: the record that moves to the end of
/// the list is read in its new version, and none is lost (by offset, one would slip back
/// across the page boundary and never be read).
#[tokio::test]
async fn records_changed_during_a_read_are_all_read_and_none_is_lost() {
    let qb = FakeQuickbooks::start_empty().await;
    let first = first_change();
    qb.books(|b| b.generate_customers(2500, first, std::time::Duration::from_secs(1)));
    let fx = quickbooks_fixture(&qb).await;
    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);
    // After the first page is answered, customers 10 and 20 (already read) change: they move
    // to the end of the list.
    qb.after_request(1, |b| {
        for id in ["10", "20"] {
            b.update(
                support::fake_quickbooks::Entity::Customer,
                id,
                serde_json::json!({"GivenName": format!("Changed{id}")}),
            );
        }
    });
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fx.fake.created_ids().len(), 2500, "none lost");
    let bodies = fx.posted_bodies();
    assert_eq!(bodies["10"]["firstName"], "Changed10", "its later version");
    assert_eq!(bodies["20"]["firstName"], "Changed20");
    assert_eq!(fx.fake.creations("10"), 1, "created once");
}

/// `connect` run as root on a service's store leaves no file the service cannot open: what it
/// creates beside the store gets the store's owner.
#[tokio::test]
#[ignore = "needs root: gives files to another user"]
async fn connect_as_root_keeps_the_store_s_owner() {
    use std::os::unix::fs::MetadataExt as _;
    let xero = FakeXero::start().await;
    let fx = xero_fixture(&xero).await;
    // The service's store, made by a first command and owned by the service's user.
    let _ = fx.run(&["--once"]).await;
    let store = fx.store_path();
    std::os::unix::fs::chown(&store, Some(65534), Some(65534)).expect("chown the store");
    let lock = store.with_file_name("state.db.lock");
    let _ = std::fs::remove_file(&lock);
    assert_eq!(connect_by_pasting(&fx, "xero", &[]).await.code, 0);
    for beside in ["state.db.lock", "state.db-wal", "state.db-shm"] {
        let path = store.with_file_name(beside);
        if let Ok(meta) = std::fs::metadata(&path) {
            assert_eq!(meta.uid(), 65534, "{beside} keeps the store's owner");
        }
    }
    assert!(lock.exists(), "the lock was made by connect");
}

/// The `changedSince` of each change data capture request the fake received.
fn cdc_bounds(qb: &FakeQuickbooks) -> Vec<chrono::DateTime<chrono::Utc>> {
    (qb.requests().into_iter())
        .filter(|r| r.path.ends_with("/cdc"))
        .map(|r| {
            let since = (r.params.iter())
                .find(|(k, _)| k == "changedSince")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            assert!(
                r.params.contains(&("entities".into(), "Invoice".into())),
                "{r:?}"
            );
            chrono::DateTime::parse_from_rfc3339(&since)
                .expect("an RFC 3339 changedSince")
                .to_utc()
        })
        .collect()
}

/// A QuickBooks invoice deleted after BlueTape has it is cancelled there; one created and
/// deleted between two passes is never sent; the next read of deletions starts where the last
/// began.
#[tokio::test]
async fn a_deleted_quickbooks_invoice_is_cancelled_and_one_never_sent_is_never_sent() {
    use support::fake_quickbooks::Entity;
    let (qb, fx) = quickbooks_with_invoices().await;
    let first = fx.run(&["--once"]).await;
    // Customer 4 of the fixture has no email: rejected (65).
    assert!(matches!(first.code, 0 | 65), "{}", first.stderr);
    assert!(fx.fake.invoice("130").is_some() && fx.fake.invoice("131").is_some());
    let first_cdc = cdc_bounds(&qb);
    assert_eq!(first_cdc.len(), 1, "one read of deletions");
    let reach = chrono::Utc::now() - chrono::Duration::days(30);
    assert!(
        first_cdc[0] > reach,
        "CDC reaches 30 days back: {first_cdc:?}"
    );

    let before_second = chrono::Utc::now();
    qb.books(|b| {
        b.delete(Entity::Invoice, "131");
        let mut fresh = b.invoices[0].clone();
        fresh["Id"] = serde_json::json!("140");
        fresh["DocNumber"] = serde_json::json!("1040");
        b.add(Entity::Invoice, fresh);
        b.delete(Entity::Invoice, "140");
    });
    let second = fx.run(&["--once"]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(fx.fake.invoice_cancels("131"), 1, "{}", second.stderr);
    assert_eq!(fx.fake.invoice_cancels("130"), 0);
    assert_eq!(
        fx.fake.invoice_posts("140"),
        0,
        "deleted before it was sent"
    );
    assert!(
        second.invoice_summary().contains("cancelled 1"),
        "{}",
        second.invoice_summary()
    );
    assert_eq!(fx.record("131").map(|r| r.state), Some("cancelled".into()));
    // The second read of deletions starts where the first began, less the lookback.
    let bounds = cdc_bounds(&qb);
    assert_eq!(bounds.len(), 2);
    assert!(
        bounds[1] > first_cdc[0] && bounds[1] <= before_second,
        "{bounds:?}"
    );

    let before = qb.requests().len();
    let third = fx.run(&["--once"]).await;
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(fx.fake.invoice_cancels("131"), 1, "cancelled once");
    // An incremental pass of customers and invoices: one query each and one CDC read.
    let asked: Vec<String> = (qb.requests()[before..].iter())
        .map(|r| r.path.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(asked, ["query", "query", "cdc"], "{asked:?}");
    eprintln!("an incremental QuickBooks pass with invoices: {asked:?}");
}

/// A store whose last read of deletions is older than CDC's 30 days says deletions before
/// then were not seen, and asks only as far back as CDC reaches.
#[tokio::test]
async fn a_connection_idle_past_thirty_days_says_deletions_were_not_seen() {
    let (qb, fx) = quickbooks_with_invoices().await;
    assert!(matches!(fx.run(&["--once"]).await.code, 0 | 65));
    let forty_days_ago = chrono::Utc::now() - chrono::Duration::days(40);
    let conn = rusqlite::Connection::open(fx.store_path()).expect("store");
    let changed = conn
        .execute(
            "UPDATE settings SET value = ?1 WHERE key = 'deletions_read_ms'",
            [forty_days_ago.timestamp_millis().to_string()],
        )
        .expect("update");
    assert_eq!(changed, 1, "the store keeps when deletions were last read");
    drop(conn);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("invoices deleted before") && run.stderr.contains("were not seen"),
        "{}",
        run.stderr
    );
    let reach = chrono::Utc::now() - chrono::Duration::days(30);
    let last = cdc_bounds(&qb).last().copied().expect("a CDC read");
    assert!(last > reach, "{last}");
}
