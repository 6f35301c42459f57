//! Ids must stay the same ids (SPEC §12): a mapping that reads ids from another field than
//! the store's records were sent with stops before anything is read or sent, through the real
//! binary against the fake BlueTape on 127.0.0.1.

mod support;

use std::time::Duration;

use support::Fixture;

const HEADER: &str =
    "Internal ID,ID,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate";

fn export() -> String {
    format!(
        "{HEADER}\n\
         101,CUST-1,Ann,Lee,ann@example.com,(626) 555-0100,2024-03-01T10:00:00Z\n\
         102,CUST-2,Bo,Ray,bo@example.com,(626) 555-0101,2024-03-01T10:00:01Z\n"
    )
}

#[tokio::test]
async fn a_changed_id_field_stops_every_command_until_it_is_accepted() {
    let fx = Fixture::with_config("[source.fields]\nid = \"Internal ID\"\n").await;
    fx.write_export(&export());
    let first = fx.run(&["--once"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let sent: Vec<String> = fx.posted_bodies().into_keys().collect();
    assert_eq!(sent, ["101", "102"]);

    // The bookkeeper's colleague "fixes" the mapping to NetSuite's renameable ID.
    let renamed = [("BLUETAPE_SYNC__SOURCE__FIELDS__ID", "ID")];
    let expected = "customer ids are now read from `ID` (source.fields.id), but this store's \
                    customers were sent with ids from `Internal ID`: a pass would send every \
                    customer again under new ids";
    let requests = fx.fake.request_count();
    for args in [
        &["--once"][..],
        &["--once", "--full"],
        &["--once", "--dry-run"],
        &["check"],
    ] {
        let run = fx.run_with_env(args, &renamed).await;
        assert_eq!(run.code, 78, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("run `bluetape-sync run --once --accept-new-ids` once"),
            "{}",
            run.stderr
        );
    }
    // The daemon stops at its start, before any pass.
    let daemon = support::Daemon::spawn(&fx, &["run"], &renamed);
    let run = daemon.wait(Duration::from_secs(60)).await;
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(run.stderr.contains(expected), "{}", run.stderr);
    assert_eq!(fx.fake.request_count(), requests, "nothing was sent");
    assert_eq!(fx.passes().len(), 1, "no pass began");

    // Accepted: every customer is sent under its new id, and the new field is remembered.
    let accepted = fx
        .run_with_env(&["run", "--once", "--accept-new-ids"], &renamed)
        .await;
    assert_eq!(accepted.code, 0, "{}", accepted.stderr);
    assert!(
        accepted
            .stderr
            .contains("customer ids are now read from `ID` instead of `Internal ID`"),
        "{}",
        accepted.stderr
    );
    let sent: Vec<String> = fx.posted_bodies().into_keys().collect();
    assert_eq!(sent, ["101", "102", "CUST-1", "CUST-2"]);
    let again = fx.run_with_env(&["--once", "--full"], &renamed).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.count("created"), 0);
    // And going back is a change again.
    let back = fx.run(&["--once"]).await;
    assert_eq!(back.code, 78, "{}", back.stderr);
    // The flag belongs to one pass.
    let daemon = fx.run(&["run", "--accept-new-ids"]).await;
    assert_ne!(daemon.code, 0);
    assert!(
        daemon.stderr.contains("apply to one pass: add --once"),
        "{}",
        daemon.stderr
    );
}

#[tokio::test]
async fn the_same_field_written_another_way_is_the_same_field() {
    // A CSV's default `id` column, then the same column mapped by hand in another case.
    let fx = Fixture::new().await;
    fx.write_export(&format!(
        "{}\n{}\n",
        support::HEADER,
        support::row("C1", "2024-03-01T10:00:00Z")
    ));
    assert_eq!(fx.run(&["--once"]).await.code, 0);
    for id in ["id", "ID", " Id "] {
        let run = fx
            .run_with_env(
                &["--once", "--full"],
                &[("BLUETAPE_SYNC__SOURCE__FIELDS__ID", id)],
            )
            .await;
        assert_eq!(run.code, 0, "{id:?}: {}", run.stderr);
    }

    // A preset's default, then the same path written out.
    let fx = Fixture::with_export("customers.json", "preset = \"quickbooks-online\"\n").await;
    fx.copy_fixture("quickbooks-online-customers.json", "customers.json");
    let first = fx.run(&["--once"]).await;
    assert_eq!(
        first.code, 65,
        "some of the fixture's customers are rejected: {}",
        first.stderr
    );
    let created = fx.fake.created_ids().len();
    assert!(created > 0);
    let written_out = fx
        .run_with_env(
            &["--once", "--full"],
            &[("BLUETAPE_SYNC__SOURCE__FIELDS__ID", "Id")],
        )
        .await;
    assert_ne!(written_out.code, 78, "{}", written_out.stderr);
    assert_eq!(
        fx.fake.created_ids().len(),
        created,
        "nothing created twice"
    );
    let other = fx
        .run_with_env(
            &["--once"],
            &[("BLUETAPE_SYNC__SOURCE__FIELDS__ID", "DisplayName")],
        )
        .await;
    assert_eq!(other.code, 78, "{}", other.stderr);
}
