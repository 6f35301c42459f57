//! Faults injected at a real HTTP server (SPEC §2, §5): each ends with nothing lost, nothing
//! created twice, and the exit code of SPEC §6.

mod support;

use std::time::Duration;

use support::{FakeBlueTape, Fault, Fixture, export_of};

/// Every customer of `export_of(n)` was created exactly once, and never sent after that.
fn created_once(fx: &Fixture, n: usize) {
    for i in 1..=n {
        let id = format!("C{i:04}");
        assert_eq!(fx.fake.creations(&id), 1, "{id}");
        assert_eq!(fx.fake.posts_after_creation(&id), 0, "{id} sent again");
        let state = fx.record(&id).expect("stored").state;
        assert!(state == "created" || state == "exists", "{id}: {state}");
    }
}

#[tokio::test]
async fn every_transient_status_is_retried() {
    for status in [500, 502, 503, 504, 408, 429] {
        let fx = Fixture::new().await;
        fx.write_export(&export_of(2));
        fx.fake
            .push_faults([Fault::status(status), Fault::status(status)]);
        let run = fx
            .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "1")])
            .await;
        assert_eq!(run.code, 0, "{status}: {}", run.stderr);
        created_once(&fx, 2);
        assert_eq!(fx.fake.request_count(), 4, "{status}");
    }
}

#[tokio::test]
async fn a_connection_reset_before_the_request_is_read_is_retried() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(2));
    fx.fake.push_faults([Fault::ResetEarly, Fault::ResetEarly]);
    let run = fx
        .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "1")])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    created_once(&fx, 2);
}

#[tokio::test]
async fn a_success_with_a_malformed_body_is_retried_and_ends_as_exists() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(1));
    // BlueTape created it but the answer is not the documented JSON.
    fx.fake.preload("C0001");
    fx.fake.push_faults([Fault::Status {
        status: 201,
        retry_after: None,
        body: "<html>created</html>".into(),
    }]);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let statuses: Vec<_> = fx.fake.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(201), Some(409)]);
    assert_eq!(fx.record("C0001").expect("stored").state, "exists");
}

#[tokio::test]
async fn unauthorized_mid_pass_keeps_what_was_created_and_queues_the_rest() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(10));
    // Three answers go through, then the key is revoked.
    let run = {
        let fake = fx.fake.clone();
        let watcher = tokio::spawn(async move {
            let until = std::time::Instant::now() + Duration::from_secs(60);
            while fake.created_ids().len() < 3 {
                assert!(
                    std::time::Instant::now() < until,
                    "three customers never created"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            fake.set_key("revoked");
        });
        fx.fake.set_delay(Duration::from_millis(30));
        let run = fx
            .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "1")])
            .await;
        watcher.await.expect("watcher");
        run
    };
    assert_eq!(run.code, 77, "{}", run.stderr);
    let created = fx.count_in("created");
    assert!(
        created >= 3,
        "answers before the 401 were recorded: {created}"
    );
    assert_eq!(created + fx.count_in("pending"), 10, "nothing lost");
    fx.fake.set_key(support::KEY);
    fx.fake.set_delay(Duration::ZERO);
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    created_once(&fx, 10);
}

#[tokio::test]
async fn a_long_outage_costs_a_bounded_number_of_requests_per_pass() {
    let fx = Fixture::new().await;
    fx.write_export(&export_of(40));
    fx.fake.set_always(Some(Fault::status(503)));
    // An hour of passes every 5 minutes, against a dead server.
    let env = [("BLUETAPE_SYNC__API__CONCURRENCY", "2")];
    let mut per_pass = Vec::new();
    for _ in 0..12 {
        let before = fx.fake.request_count();
        let run = fx.run_with_env(&["--once"], &env).await;
        assert_eq!(run.code, 69, "{}", run.stderr);
        per_pass.push(fx.fake.request_count() - before);
        // The failed records' next attempt (retry.max_backoff = 50ms) comes due.
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    // stop_after (3) records × max_attempts (3), plus what was in flight (2 × 3).
    assert!(per_pass.iter().all(|n| *n <= 15), "{per_pass:?}");
    assert_eq!(
        fx.count_in("pending") + fx.count_in("failed"),
        40,
        "nothing lost"
    );

    fx.fake.set_always(None);
    let run = fx.run(&["--once"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    created_once(&fx, 40);
}

/// A 3xx from BlueTape's address must not carry the key, the account or a customer anywhere:
/// the pass stops with exit 78 naming the status and where it pointed, marks nothing, and the
/// other host receives nothing at all.
#[tokio::test]
async fn redirects_are_never_followed() {
    let elsewhere = FakeBlueTape::start().await;
    for status in [301, 302, 303, 307, 308] {
        let fx = Fixture::with_config("\n[sync]\nupdates = true\n").await;
        fx.write_export(&export_of(12));
        // Already in BlueTape: `exists`, with a sign-up URL to look up.
        fx.fake.preload("C0012");
        let location = format!("{}/integration/customer", elsewhere.base_url());
        fx.fake.set_always(Some(Fault::Redirect {
            status,
            location: location.clone(),
        }));

        let run = fx.run(&["--once"]).await;
        assert_eq!(run.code, 78, "{status}: {}", run.stderr);
        let last = run.stderr.lines().last().unwrap_or_default();
        assert!(
            last.contains(&format!("{status} ")) && last.contains(&location),
            "{status}: {last}"
        );
        assert!(
            last.contains(&format!("set api.base_url to {}", elsewhere.base_url())),
            "{last}"
        );
        assert_eq!(fx.count_in("pending"), 12, "{status}: nothing marked");
        // Nothing new starts after the first answer: at most api.concurrency (4) in flight.
        assert!(fx.fake.request_count() <= 4, "{status}: the pass went on");

        // Every other request the program makes: the sign-up lookups and the key check.
        let check = fx.run(&["check", "--online"]).await;
        assert_eq!(check.code, 78, "{status}: {}", check.stderr);
        assert!(
            check.stderr.contains(&format!("{status} ")),
            "{}",
            check.stderr
        );

        assert_eq!(elsewhere.request_count(), 0, "{status}: followed");

        // With the redirect gone, every customer goes through, once.
        fx.fake.set_always(None);
        let run = fx.run(&["--once"]).await;
        assert_eq!(run.code, 0, "{status}: {}", run.stderr);
        created_once(&fx, 11);
        assert_eq!(fx.record("C0012").expect("stored").state, "exists");

        // Updates and sign-up lookups do not follow one either.
        fx.write_export(&export_of(12).replace("2023-11-14T22:13", "2024-11-14T22:13"));
        fx.fake.set_always(Some(Fault::Redirect {
            status,
            location: location.clone(),
        }));
        let run = fx.run(&["--once"]).await;
        assert_eq!(run.code, 78, "{status}: {}", run.stderr);
        let export = fx.run(&["export", "--fetch-missing"]).await;
        assert_eq!(export.code, 78, "{status}: {}", export.stderr);
        assert!(export.stderr.contains(&location), "{}", export.stderr);
        assert_eq!(elsewhere.request_count(), 0, "{status}: followed");
        let puts = fx
            .fake
            .received()
            .iter()
            .filter(|r| r.method == "PUT")
            .count();
        assert!(
            (1..=4).contains(&puts),
            "{status}: {puts} updates tried, then the pass stopped"
        );
    }
}
