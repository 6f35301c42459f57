//! QuickBooks' query grammar and paging, CDC deletions, faults and limits.

use super::*;

#[tokio::test]
async fn quickbooks_pages_by_startposition_and_records_each_query() {
    let fake = FakeQuickbooks::start_empty().await;
    let first = Utc::now() - chrono::Duration::days(1);
    fake.books(|b| b.generate_customers(2500, first, Duration::from_secs(1)));
    let (access, _) = fake.mint_tokens();
    let since = intuit_time(first);
    let mut sizes = Vec::new();
    for start in [1, 1001, 2001] {
        let query = format!(
            "SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '{since}' AND Active IN (true, false) \
             ORDERBY Metadata.LastUpdatedTime STARTPOSITION {start} MAXRESULTS 1000"
        );
        let (status, _, body) = qb_query(&fake, &access, &query).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["QueryResponse"]["startPosition"], start);
        let page = ids(&body["QueryResponse"]["Customer"], "Id");
        assert_eq!(page[0], start.to_string());
        assert_eq!(body["QueryResponse"]["maxResults"], page.len());
        sizes.push(page.len());
    }
    assert_eq!(sizes, [1000, 1000, 500]);
    let queries = fake.queries();
    assert_eq!(queries.len(), 3);
    assert!(
        queries[2].contains("STARTPOSITION 2001 MAXRESULTS 1000"),
        "{}",
        queries[2]
    );
    let logged = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/query"))
        .collect::<Vec<_>>();
    assert!(logged.iter().all(|r| r.param("minorversion") == Some("75")));
    assert_eq!(logged[0].header("accept"), Some("application/json"));

    // Keywords in any case; the bound leaves out what changed before it.
    let bound = intuit_time(first + chrono::Duration::seconds(2000));
    let query = format!(
        "select * from Customer where Metadata.LastUpdatedTime >= '{bound}' maxresults 1000"
    );
    let (_, _, body) = qb_query(&fake, &access, &query).await;
    assert_eq!(ids(&body["QueryResponse"]["Customer"], "Id").len(), 500);
}

#[tokio::test]
async fn quickbooks_returns_inactive_customers_only_when_asked() {
    let fake = FakeQuickbooks::start().await;
    let (access, _) = fake.mint_tokens();
    let inactive = "3"; // "Cool Cars" in the fixture
    let (_, _, body) = qb_query(&fake, &access, "SELECT * FROM Customer MAXRESULTS 1000").await;
    assert!(!ids(&body["QueryResponse"]["Customer"], "Id").contains(&inactive.to_owned()));
    let (_, _, body) = qb_query(
        &fake,
        &access,
        "SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 1000",
    )
    .await;
    assert!(ids(&body["QueryResponse"]["Customer"], "Id").contains(&inactive.to_owned()));
    let (_, _, body) = qb_query(
        &fake,
        &access,
        "SELECT * FROM Customer WHERE Active = false",
    )
    .await;
    assert_eq!(ids(&body["QueryResponse"]["Customer"], "Id"), [inactive]);
}

#[tokio::test]
async fn quickbooks_refuses_what_it_cannot_parse_and_answers_xml_unless_asked_for_json() {
    let fake = FakeQuickbooks::start().await;
    let (access, _) = fake.mint_tokens();
    let (status, _, body) = qb_query(
        &fake,
        &access,
        "SELECT * FROM Customer WHERE Name LIKE 'A%'",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["Fault"]["type"], "ValidationFault");
    let (status, _, _) = qb_query(&fake, &access, "SELECT * FROM Customer MAXRESULTS 1001").await;
    assert_eq!(status, 400, "1,000 at most");
    let url = format!(
        "{}/v3/company/{REALM}/query?query=SELECT%20*%20FROM%20Customer",
        fake.base_url()
    );
    let response = client()
        .get(url)
        .bearer_auth(&access)
        .send()
        .await
        .expect("answer");
    assert!(
        response
            .text()
            .await
            .expect("body")
            .starts_with("<IntuitResponse")
    );
    let other = format!(
        "{}/v3/company/123/query?query=SELECT%20*%20FROM%20Customer",
        fake.base_url()
    );
    assert_eq!(
        get(&other, &access, &[("accept", "application/json")])
            .await
            .0,
        403,
        "another company"
    );
}

#[tokio::test]
async fn quickbooks_cdc_reports_a_deleted_invoice() {
    let fake = FakeQuickbooks::start().await;
    let (access, _) = fake.mint_tokens();
    let before = Utc::now() - chrono::Duration::minutes(5);
    fake.books(|b| b.delete(Entity::Invoice, "131"));
    fake.books(|b| b.update(Entity::Invoice, "130", json!({"Balance": 10})));
    let url = format!(
        "{}/v3/company/{REALM}/cdc?{}",
        fake.base_url(),
        encode(&[
            ("entities", "Invoice"),
            ("changedSince", &intuit_time(before)),
            ("minorversion", "75")
        ])
    );
    let (status, _, body) = get(&url, &access, &[("accept", "application/json")]).await;
    assert_eq!(status, 200, "{body}");
    let invoices = &body["CDCResponse"][0]["QueryResponse"][0]["Invoice"];
    assert_eq!(
        ids(invoices, "Id"),
        ["130", "131"],
        "the changed one in full, the deleted one"
    );
    assert_eq!(invoices[1]["status"], "Deleted");
    assert!(invoices[1]["MetaData"]["LastUpdatedTime"].is_string());
    assert_eq!(invoices[0]["Balance"], 10);
    let (_, _, body) = qb_query(&fake, &access, "SELECT * FROM Invoice MAXRESULTS 1000").await;
    assert!(!ids(&body["QueryResponse"]["Invoice"], "Id").contains(&"131".to_owned()));

    let old = intuit_time(Utc::now() - chrono::Duration::days(31));
    let url = format!(
        "{}/v3/company/{REALM}/cdc?{}",
        fake.base_url(),
        encode(&[("entities", "Invoice"), ("changedSince", &old)])
    );
    assert_eq!(
        get(&url, &access, &[("accept", "application/json")])
            .await
            .0,
        400,
        "30 days back at most"
    );
}

#[tokio::test]
async fn quickbooks_a_record_changed_between_two_pages_shows_up_on_a_later_one() {
    let fake = FakeQuickbooks::start_empty().await;
    let first = Utc::now() - chrono::Duration::hours(1);
    fake.books(|b| b.generate_customers(5, first, Duration::from_secs(1)));
    fake.after_request(1, |b| {
        b.update(Entity::Customer, "2", json!({"GivenName": "Changed"}))
    });
    let (access, _) = fake.mint_tokens();
    let page = |since: String| {
        format!(
            "SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '{since}' ORDERBY Metadata.LastUpdatedTime MAXRESULTS 3"
        )
    };
    let (_, _, body) = qb_query(&fake, &access, &page(intuit_time(first))).await;
    let one = &body["QueryResponse"]["Customer"];
    assert_eq!(ids(one, "Id"), ["1", "2", "3"]);
    let last = text(&one[2]["MetaData"], "LastUpdatedTime");
    let (_, _, body) = qb_query(&fake, &access, &page(last)).await;
    let two = &body["QueryResponse"]["Customer"];
    assert_eq!(ids(two, "Id"), ["3", "4", "5"]);
    let (_, _, body) = qb_query(
        &fake,
        &access,
        &page(text(&two[2]["MetaData"], "LastUpdatedTime")),
    )
    .await;
    let three = &body["QueryResponse"]["Customer"];
    assert_eq!(
        ids(three, "Id"),
        ["5", "2"],
        "the change comes after everything older"
    );
    assert_eq!(three[1]["GivenName"], "Changed");
    assert_eq!(three[1]["SyncToken"], "1");
}

#[tokio::test]
async fn quickbooks_injected_429_and_5xx_come_before_the_data() {
    let fake = FakeQuickbooks::start().await;
    let (access, _) = fake.mint_tokens();
    fake.push_faults([Fault::too_many(7), Fault::status(503)]);
    let (status, headers, _) = qb_query(&fake, &access, "SELECT * FROM Customer").await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "7");
    assert_eq!(
        qb_query(&fake, &access, "SELECT * FROM Customer").await.0,
        503
    );
    assert_eq!(
        qb_query(&fake, &access, "SELECT * FROM Customer").await.0,
        200
    );
}

/// Sends `n` queries at once.
fn spawn_queries(fake: &FakeQuickbooks, access: &str, n: usize) -> tokio::task::JoinSet<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (fake, access) = (fake.clone(), access.to_owned());
        tasks.spawn(async move { qb_query(&fake, &access, "SELECT * FROM Customer").await.0 });
    }
    tasks
}

/// Sends `n` queries at once; the statuses, sorted.
async fn at_once(fake: &FakeQuickbooks, access: &str, n: usize) -> Vec<u16> {
    let mut statuses = spawn_queries(fake, access, n).join_all().await;
    statuses.sort();
    statuses
}

#[tokio::test]
async fn quickbooks_counts_requests_at_once_and_per_minute_and_refuses_beyond_its_limits() {
    let fake = FakeQuickbooks::start().await;
    let (access, _) = fake.mint_tokens();
    fake.hold_answers();
    let tasks = spawn_queries(&fake, &access, 12);
    let refused = || {
        (fake.requests().iter())
            .filter(|r| r.status == Some(429))
            .count()
    };
    until("ten held and two refused", || {
        fake.in_flight() == 10 && refused() == 2
    })
    .await;
    fake.release_answers();
    let mut statuses = tasks.join_all().await;
    statuses.sort();
    assert_eq!(statuses, [[200; 10].as_slice(), &[429, 429]].concat());
    // Each refused request leaves at once, so the 12th meets ten held ones and itself.
    assert_eq!(fake.max_in_flight(), 11);

    let fake = FakeQuickbooks::start().await;
    fake.set_enforce_limits(false);
    let (access, _) = fake.mint_tokens();
    for _ in 0..51 {
        assert!(at_once(&fake, &access, 10).await.iter().all(|s| *s == 200));
    }
    assert_eq!(fake.max_per_minute(), 510, "counted, not refused");
    fake.set_enforce_limits(true);
    let (status, headers, _) = qb_query(&fake, &access, "SELECT * FROM Customer").await;
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
}
