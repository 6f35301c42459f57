//! `check` of an export read from an API (SPEC §11): offline it names the link and reads
//! nothing; online it reads a small sample, refreshing the link only when it holds the
//! store's lock, so beside the running daemon the two never refresh at once.

mod support;

use std::time::Duration;

use support::Daemon;
use support::fake_quickbooks::FakeQuickbooks;
use support::linked::{connect_by_pasting, quickbooks_fixture};

const LIMIT: Duration = Duration::from_secs(120);
const YEARLY: (&str, &str) = ("BLUETAPE_SYNC__SCHEDULE__CRON", "0 0 0 1 1 *");

#[tokio::test]
async fn check_names_the_link_and_reads_nothing_offline() {
    let qb = FakeQuickbooks::start().await;
    let fx = quickbooks_fixture(&qb).await;
    let unlinked = fx.run(&["check"]).await;
    assert_eq!(unlinked.code, 78, "{}", unlinked.stdout);
    assert!(
        unlinked
            .stderr
            .contains("run bluetape-sync connect quickbooks"),
        "{}",
        unlinked.stderr
    );

    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);
    let (tokens, data) = (qb.token_calls(), qb.queries().len());
    let check = fx.run(&["check"]).await;
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("source QuickBooks Online API: json")
            && check
                .stdout
                .contains("connection: QuickBooks Online company")
            && check.stdout.contains(
                "read from the QuickBooks Online API at each pass; check --online reads a sample"
            ),
        "{}",
        check.stdout
    );
    assert_eq!(qb.token_calls(), tokens, "offline: no token asked for");
    assert_eq!(qb.queries().len(), data, "offline: nothing read");
}

#[tokio::test]
async fn check_online_reads_a_sample_refreshing_only_with_the_store_s_lock() {
    let qb = FakeQuickbooks::start().await;
    let fx = quickbooks_fixture(&qb).await;
    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);

    // Alone, with the access token expired: `check --online` holds the lock, so it refreshes.
    qb.oauth(|o| o.expire_access_tokens());
    let tokens = qb.token_calls();
    let alone = fx.run(&["check", "--online"]).await;
    assert!(
        matches!(alone.code, 0 | 65),
        "{}\n{}",
        alone.stdout,
        alone.stderr
    );
    assert_eq!(
        qb.token_calls(),
        tokens + 1,
        "refreshed once: {}",
        alone.stderr
    );
    let query = qb.queries().last().cloned().expect("one query");
    assert!(query.contains("MAXRESULTS 5"), "one small query: {query}");
    assert!(
        alone
            .stdout
            .contains("a sample of the first records the API lists: read 5")
            && alone.stdout.contains("first records as they would be sent"),
        "{}",
        alone.stdout
    );
    // Contact details are masked: no email is printed whole.
    let emails: Vec<&str> = (alone.stdout.split_whitespace())
        .filter(|word| word.contains('@'))
        .collect();
    assert!(
        !emails.is_empty() && emails.iter().all(|e| e.contains("***@")),
        "{emails:?}"
    );
    assert!(alone.stdout.contains("online: BlueTape accepted the key"));

    // Beside the running daemon: the stored access token while it is good, never a refresh.
    let daemon = Daemon::spawn(&fx, &["run"], &[YEARLY]);
    assert!(
        daemon.wait_for_log("pass finished", LIMIT).await,
        "{}",
        daemon.log()
    );
    let tokens = qb.token_calls();
    let beside = fx.run(&["check", "--online"]).await;
    assert!(matches!(beside.code, 0 | 65), "{}", beside.stderr);
    assert!(
        beside.stdout.contains(&format!(
            "the running daemon (pid {}) holds the QuickBooks Online connection",
            daemon.pid()
        )) && beside.stdout.contains("read 5"),
        "{}",
        beside.stdout
    );
    qb.oauth(|o| o.expire_access_tokens());
    let expired = fx.run(&["check", "--online"]).await;
    assert_eq!(expired.code, 0, "{}\n{}", expired.stdout, expired.stderr);
    assert!(
        expired.stdout.contains(
            "online: not tested: the running daemon holds the QuickBooks Online connection"
        ),
        "{}",
        expired.stdout
    );
    assert_eq!(
        qb.token_calls(),
        tokens,
        "check never refreshed beside the daemon"
    );
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// The daemon passing every second with access tokens that live two seconds (every pass
/// refreshes) while `check --online` and `status` run beside it again and again: no refresh
/// is ever refused, every pass works, and `check` never refreshes.
#[tokio::test]
async fn the_daemon_and_check_online_never_refresh_at_once() {
    let qb = FakeQuickbooks::start().await;
    let fx = quickbooks_fixture(&qb).await;
    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);
    qb.set_access_lifetime(2);
    // A slow token endpoint: a refresh of the same token by a second process meanwhile would
    // be refused.
    qb.set_token_delay(Duration::from_millis(300));
    // The token `connect` stored is refused: the first pass refreshes on its 401.
    qb.oauth(|o| o.expire_access_tokens());
    let every_second = ("BLUETAPE_SYNC__SCHEDULE__CRON", "* * * * * *");
    let daemon = Daemon::spawn(&fx, &["run"], &[every_second]);
    let passes = |log: &str| log.matches("pass finished").count();
    assert!(daemon.wait_for_log("pass finished", LIMIT).await);
    let mut sampled = 0;
    for _ in 0..12 {
        let check = fx.run(&["check", "--online"]).await;
        assert!(
            matches!(check.code, 0 | 65),
            "{}\n{}",
            check.stdout,
            check.stderr
        );
        assert!(
            check
                .stdout
                .contains("holds the QuickBooks Online connection"),
            "{}",
            check.stdout
        );
        if check.stdout.contains("read 5") {
            sampled += 1;
        }
        let status = fx.run(&["status", "--json"]).await;
        assert_eq!(status.code, 0, "{}", status.stderr);
        let status: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
        assert_eq!(status["connection"]["provider"], "quickbooks");
    }
    let before = passes(&daemon.log());
    assert!(
        fx.wait_for(LIMIT, |_| passes(&daemon.log()) >= before + 2)
            .await,
        "the daemon keeps passing: {}",
        daemon.log()
    );
    let run = daemon.stop().await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let statuses = qb.token_statuses();
    assert!(statuses.len() >= 3, "the daemon refreshed: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "no refresh refused: {statuses:?}\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("connect quickbooks"), "{}", run.stderr);
    // An export read from an API has no folder to watch: nothing said about one.
    assert!(!run.stderr.contains("folder"), "{}", run.stderr);
    eprintln!("check --online read its sample beside the daemon {sampled} times of 12");
}
