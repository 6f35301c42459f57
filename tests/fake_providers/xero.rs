//! Xero's lists: If-Modified-Since, paging, order, filters, and its rate limits.

use super::*;

async fn xero_list(
    fake: &FakeXero,
    access: &str,
    what: &str,
    query: &[(&str, &str)],
    since: Option<&str>,
) -> (u16, HeaderMap, Value) {
    let url = format!("{}/api.xro/2.0/{what}?{}", fake.base_url(), encode(query));
    let mut headers = vec![("xero-tenant-id", TENANT), ("accept", "application/json")];
    if let Some(since) = since {
        headers.push(("if-modified-since", since));
    }
    get(&url, access, &headers).await
}

#[tokio::test]
async fn xero_pages_with_if_modified_since_in_update_order() {
    let fake = FakeXero::start_empty().await;
    fake.books(|b| b.generate_contacts(2500, at(1_700_000_000), Duration::from_secs(1)));
    fake.books(|b| b.update(Kind::Contacts, "c-01001", json!({"Name": "Moved"})));
    let (access, _) = fake.mint_tokens();
    let since = httpdate::fmt_http_date(at(1_700_001_000).into());
    let mut seen = Vec::new();
    for page in ["1", "2", "3"] {
        let query = [
            ("page", page),
            ("pageSize", "1000"),
            ("includeArchived", "true"),
            ("order", "UpdatedDateUTC"),
        ];
        let (status, headers, body) =
            xero_list(&fake, &access, "Contacts", &query, Some(&since)).await;
        assert_eq!(status, 200, "{body}");
        assert!(headers.contains_key("x-daylimit-remaining"));
        assert_eq!(body["pagination"]["itemCount"], 1500);
        seen.push(ids(&body["Contacts"], "ContactID"));
    }
    assert_eq!(
        seen.iter().map(Vec::len).collect::<Vec<_>>(),
        [1000, 500, 0]
    );
    assert_eq!(
        seen[0][0], "c-01002",
        "at or after the header's second, oldest first"
    );
    assert_eq!(
        seen[1].last().map(String::as_str),
        Some("c-01001"),
        "the changed one last"
    );
    let logged = fake.data_requests();
    assert_eq!(logged[0].header("if-modified-since"), Some(since.as_str()));
    assert_eq!(logged[2].param("page"), Some("3"));

    let (_, _, body) = xero_list(
        &fake,
        &access,
        "Contacts",
        &[("page", "1"), ("pageSize", "5000")],
        None,
    )
    .await;
    assert_eq!(
        body["Contacts"].as_array().map(Vec::len),
        Some(1000),
        "1,000 a page at most"
    );
    let (_, _, body) = xero_list(
        &fake,
        &access,
        "Contacts",
        &[("page", "2"), ("pageSize", "1000")],
        None,
    )
    .await;
    assert_eq!(
        ids(&body["Contacts"], "ContactID")[0],
        "c-01001",
        "without order: not by time"
    );
}

#[tokio::test]
async fn xero_returns_archived_contacts_and_filters_invoices_only_when_asked() {
    let fake = FakeXero::start().await;
    let (access, _) = fake.mint_tokens();
    let archived = "9b9ba9e5-e907-4b4e-8210-54d7c0ee2edc".to_owned(); // "City Agency"
    let (_, _, body) = xero_list(&fake, &access, "Contacts", &[], None).await;
    assert!(!ids(&body["Contacts"], "ContactID").contains(&archived));
    let (_, _, body) = xero_list(
        &fake,
        &access,
        "Contacts",
        &[("includeArchived", "true")],
        None,
    )
    .await;
    assert!(ids(&body["Contacts"], "ContactID").contains(&archived));

    let (_, _, all) = xero_list(&fake, &access, "Invoices", &[], None).await;
    let (status, _, sales) = xero_list(
        &fake,
        &access,
        "Invoices",
        &[("where", "Type==\"ACCREC\"")],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let types = |list: &Value| {
        (list["Invoices"].as_array().expect("invoices").iter())
            .map(|i| i["Type"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    assert!(types(&all).contains(&"ACCPAY".to_owned()));
    assert!(!types(&sales).is_empty() && types(&sales).iter().all(|t| t == "ACCREC"));
    let (status, _, _) = xero_list(&fake, &access, "Invoices", &[("where", "Total>0")], None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn xero_a_record_changed_between_two_pages_shows_up_on_a_later_one() {
    let fake = FakeXero::start_empty().await;
    fake.books(|b| b.generate_contacts(5, at(1_700_000_000), Duration::from_secs(1)));
    fake.after_request(1, |b| {
        b.update(Kind::Contacts, "c-00002", json!({"FirstName": "Changed"}))
    });
    let (access, _) = fake.mint_tokens();
    let query = [
        ("page", "1"),
        ("pageSize", "3"),
        ("order", "UpdatedDateUTC"),
    ];
    let since = httpdate::fmt_http_date(at(1_700_000_000).into());
    let (_, _, one) = xero_list(&fake, &access, "Contacts", &query, Some(&since)).await;
    assert_eq!(
        ids(&one["Contacts"], "ContactID"),
        ["c-00001", "c-00002", "c-00003"]
    );
    let since = httpdate::fmt_http_date(at(1_700_000_002).into());
    let (_, _, two) = xero_list(&fake, &access, "Contacts", &query, Some(&since)).await;
    assert_eq!(
        ids(&two["Contacts"], "ContactID"),
        ["c-00003", "c-00004", "c-00005"]
    );
    let (_, _, next) = xero_list(
        &fake,
        &access,
        "Contacts",
        &[("page", "2"), query[1], query[2]],
        Some(&since),
    )
    .await;
    assert_eq!(ids(&next["Contacts"], "ContactID"), ["c-00002"]);
    assert_eq!(next["Contacts"][0]["FirstName"], "Changed");
}

#[tokio::test]
async fn xero_reports_its_limits_and_refuses_once_the_day_budget_is_spent() {
    let fake = FakeXero::start().await;
    let (access, _) = fake.mint_tokens();
    fake.set_day_budget(3, 600);
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let (status, headers, _) = xero_list(&fake, &access, "Contacts", &[], None).await;
        assert_eq!(status, 200);
        let header = |name: &str| headers[name].to_str().expect("header").to_owned();
        remaining.push([
            header("x-daylimit-remaining"),
            header("x-minlimit-remaining"),
            header("x-appminlimit-remaining"),
        ]);
    }
    assert_eq!(
        remaining,
        [
            ["2", "59", "9999"],
            ["1", "58", "9998"],
            ["0", "57", "9997"]
        ]
        .map(|r| r.map(str::to_owned))
    );
    let (status, headers, _) = xero_list(&fake, &access, "Contacts", &[], None).await;
    assert_eq!(status, 429);
    assert_eq!(headers["x-rate-limit-problem"], "day");
    assert_eq!(headers["retry-after"], "600");
    assert_eq!(headers["x-daylimit-remaining"], "0");

    let fake = FakeXero::start().await;
    let (access, _) = fake.mint_tokens();
    fake.push_faults([throttled(5, "minute")]);
    let (status, headers, _) = xero_list(&fake, &access, "Contacts", &[], None).await;
    assert_eq!(status, 429);
    assert_eq!(headers["x-rate-limit-problem"], "minute");
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(
        headers["x-minlimit-remaining"], "59",
        "the limit headers on a fault too"
    );
}

#[tokio::test]
async fn xero_counts_requests_at_once_and_per_minute_and_refuses_beyond_its_limits() {
    let fake = FakeXero::start().await;
    let (access, _) = fake.mint_tokens();
    for _ in 0..60 {
        assert_eq!(
            xero_list(&fake, &access, "Contacts", &[], None).await.0,
            200
        );
    }
    let (status, headers, _) = xero_list(&fake, &access, "Contacts", &[], None).await;
    assert_eq!(status, 429);
    assert_eq!(headers["x-rate-limit-problem"], "minute");
    assert_eq!(fake.max_per_minute(), 61);

    let fake = FakeXero::start().await;
    let (access, _) = fake.mint_tokens();
    fake.hold_answers();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (fake, access) = (fake.clone(), access.clone());
        tasks.spawn(async move {
            let (status, headers, _) = xero_list(&fake, &access, "Contacts", &[], None).await;
            (
                status,
                headers
                    .get("x-rate-limit-problem")
                    .map(|h| h.to_str().unwrap_or("").to_owned()),
            )
        });
    }
    let refused = || (fake.requests().iter()).any(|r| r.status == Some(429));
    until("five held and one refused", || {
        fake.in_flight() == 5 && refused()
    })
    .await;
    fake.release_answers();
    let mut answers = tasks.join_all().await;
    answers.sort();
    assert_eq!(fake.max_in_flight(), 6);
    assert_eq!(answers.last(), Some(&(429, Some("concurrent".to_owned()))));
    assert_eq!(answers.iter().filter(|(s, _)| *s == 200).count(), 5);
}
