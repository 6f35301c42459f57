//! No secret and no customer contact detail leaks: the API key never appears in any output,
//! log or store at any log level or format; emails and phone numbers never above debug.

mod support;

use support::{Fault, Fixture, HEADER, KEY};

/// An export whose records reach every log path: created, retried, rejected locally and
/// rejected by BlueTape with a reason that echoes the contact details.
fn export() -> String {
    format!(
        "{HEADER}\n\
         OK-1,Ann,Lee,ann.lee@example.com,(626) 555-0142,2024-03-01T00:00:00Z,\n\
         RETRY-1,Bo,Ray,bo.ray@example.com,(626) 555-0143,2024-03-01T00:00:01Z,\n\
         BAD-1,Cy,Day,cy.day-at-example.com,(626) 555-0144,2024-03-01T00:00:02Z,\n\
         BAD-2,Di,Fox,di.fox@example.com,+11234567890,2024-03-01T00:00:03Z,\n\
         SRV-1,Ed,Gray,ed.gray@example.com,(626) 555-0145,2024-03-01T00:00:04Z,\n"
    )
}

const CONTACT_DETAILS: [&str; 10] = [
    "ann.lee@example.com",
    "bo.ray@example.com",
    "cy.day-at-example.com",
    "di.fox@example.com",
    "ed.gray@example.com",
    "555-0142",
    "6265550142",
    "+16265550145",
    "+11234567890",
    "1234567890",
];

#[tokio::test]
async fn no_key_at_any_level_and_no_contact_details_above_debug() {
    for format in ["text", "json"] {
        for level in ["error", "warn", "info", "debug", "trace"] {
            let fx = Fixture::with_config(&format!(
                "[log]\nformat = \"{format}\"\nlevel = \"{level}\""
            ))
            .await;
            fx.write_export(&export());
            fx.fake.reject_id(
                "SRV-1",
                "email ed.gray@example.com or phone +16265550145 refused",
            );
            fx.fake.push_faults([Fault::retry_after(503, "0")]);
            let run = fx
                .run_with_env(&["--once"], &[("BLUETAPE_SYNC__API__CONCURRENCY", "1")])
                .await;
            assert_eq!(run.code, 65, "{format}/{level}: {}", run.stderr);
            let output = format!("{}{}", run.stdout, run.stderr);
            assert!(
                !output.contains(KEY),
                "{format}/{level}: the key leaked:\n{output}"
            );
            if matches!(level, "error" | "warn" | "info") {
                for detail in CONTACT_DETAILS {
                    assert!(
                        !output.contains(detail),
                        "{format}/{level}: `{detail}` appeared:\n{output}"
                    );
                }
            }
            // The rejection still names the record, at warn and below.
            if level != "error" {
                assert!(output.contains("BAD-1"), "{format}/{level}:\n{output}");
            }
        }
    }
}

/// With `RUST_LOG=trace`, reqwest's, hyper's and rustls' own traces are on too: every request
/// the program makes (create, retry, update, the sign-up lookup, the key check) still leaves
/// the key nowhere in the output.
#[tokio::test]
async fn no_key_with_every_library_tracing() {
    for format in ["text", "json"] {
        let fx = Fixture::with_config(&format!(
            "[log]\nformat = \"{format}\"\n[sync]\nupdates = true"
        ))
        .await;
        fx.write_export(&export());
        fx.fake.preload("OK-1");
        fx.fake.push_faults([Fault::retry_after(503, "0")]);
        let trace = [
            ("RUST_LOG", "trace"),
            ("BLUETAPE_SYNC__API__CONCURRENCY", "1"),
        ];
        let mut outputs = Vec::new();
        let pass = fx.run_with_env(&["--once"], &trace).await;
        assert_eq!(pass.code, 65, "{format}: {}", pass.stderr);
        // The libraries did trace: the test would prove nothing otherwise.
        assert!(
            pass.stderr.contains("connecting to 127.0.0.1"),
            "{format}: no library traces:\n{}",
            pass.stderr
        );
        outputs.push(pass);
        fx.write_export(&export().replace("2024-03-01T00:00:04Z", "2024-03-02T00:00:04Z"));
        outputs.push(fx.run_with_env(&["--once"], &trace).await);
        outputs.push(
            fx.run_with_env(&["export", "--fetch-missing"], &trace)
                .await,
        );
        outputs.push(fx.run_with_env(&["check", "--online"], &trace).await);
        let methods: Vec<String> = fx
            .fake
            .received()
            .iter()
            .map(|r| r.method.clone())
            .collect();
        for method in ["POST", "PUT", "GET"] {
            assert!(
                methods.iter().any(|m| m == method),
                "{format}: no {method}: {methods:?}"
            );
        }
        for run in outputs {
            let output = format!("{}{}", run.stdout, run.stderr);
            assert!(!output.contains(KEY), "{format}: the key leaked:\n{output}");
        }
    }
}

#[tokio::test]
async fn the_key_is_never_written_to_the_store() {
    let fx = Fixture::new().await;
    fx.write_export(&export());
    fx.fake.set_key("a-different-key");
    assert_eq!(fx.run(&["--once"]).await.code, 77);
    fx.fake.set_key(KEY);
    // The local rejections were counted by the first pass.
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    for name in ["state.db", "state.db-wal", "state.db-shm", "state.db.lock"] {
        if let Ok(bytes) = std::fs::read(fx.path(name)) {
            let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
            assert!(!found, "the key is in {name}");
        }
    }
}

#[tokio::test]
async fn error_messages_never_carry_the_key() {
    let fx = Fixture::new().await;
    fx.write_export(&export());
    // Refused key, unreachable endpoint, a dead server: every error path.
    fx.fake.set_key("a-different-key");
    let refused = fx.run(&["--once"]).await;
    assert_eq!(refused.code, 77);
    let unreachable = fx
        .run_with_env(
            &["--once"],
            &[("BLUETAPE_SYNC__API__BASE_URL", "http://127.0.0.1:9/x")],
        )
        .await;
    assert_eq!(unreachable.code, 69);
    let online = fx.run(&["check", "--online"]).await;
    assert_eq!(online.code, 77);
    for run in [&refused, &unreachable, &online] {
        assert!(
            !run.stderr.contains(KEY) && !run.stdout.contains(KEY),
            "{}",
            run.stderr
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_key_file_others_can_read_draws_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fixture::new().await;
    fx.write_export(&export());
    let quiet = fx.run(&["--once"]).await;
    assert!(
        !quiet.stderr.contains("can be read by its group or others"),
        "{}",
        quiet.stderr
    );
    std::fs::set_permissions(fx.path("api.key"), std::fs::Permissions::from_mode(0o644))
        .expect("chmod");
    let run = fx.run(&["--once"]).await;
    assert!(
        run.stderr
            .contains("can be read by its group or others (mode 644): chmod 600"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(KEY));
}

#[tokio::test]
async fn a_key_put_in_the_wrong_place_is_never_echoed() {
    let fx = Fixture::new().await;
    fx.write_export(&export());
    // Pasted into api.key_file instead of a path.
    let config = std::fs::read_to_string(fx.config_path()).expect("config");
    std::fs::write(
        fx.config_path(),
        config.replace("key_file = \"api.key\"", &format!("key_file = \"{KEY}\"")),
    )
    .expect("config");
    for args in [&["--once"][..], &["check"][..]] {
        let run = fx.run(args).await;
        assert_eq!(run.code, 78, "{args:?}: {}", run.stderr);
        let output = format!("{}{}", run.stdout, run.stderr);
        assert!(!output.contains(KEY), "{args:?}: the key leaked:\n{output}");
        assert!(
            output.contains("api.key_file names no file that exists"),
            "{args:?}: {output}"
        );
    }
    std::fs::write(fx.config_path(), config).expect("config");

    // Set in a variable that holds another key, or in one no key has.
    for variable in [
        "BLUETAPE_SYNC__API__TIMEOUT",
        "BLUETAPE_SYNC__API__CONCURRENCY",
        "BLUETAPE_SYNC__SOURCE__TIMEZONE",
        "BLUETAPE_SYNC__API__BASE_URL",
        "BLUETAPE_SYNC__API__KEY",
    ] {
        for args in [&["--once"][..], &["check"][..], &["status"][..]] {
            let run = fx.run_with_env(args, &[(variable, KEY)]).await;
            let output = format!("{}{}", run.stdout, run.stderr);
            assert_eq!(run.code, 78, "{variable} {args:?}: {output}");
            assert!(
                !output.contains(KEY),
                "{variable} {args:?}: the key leaked:\n{output}"
            );
        }
    }
    assert_eq!(fx.fake.request_count(), 0);
}
