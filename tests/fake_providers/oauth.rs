//! Consent, the token endpoint's rotation and grace, revocation and bearer checks.

use super::*;

#[tokio::test]
async fn quickbooks_consent_gives_a_code_for_one_exchange_at_its_redirect_uri() {
    let fake = FakeQuickbooks::start().await;
    let back = consent(&fake.auth_url(), &[]).await;
    assert_eq!(param(&back, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&back, "realmId").as_deref(), Some(REALM));
    let code = param(&back, "code").expect("code");
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
    ];

    let (status, body) = post_form(&fake.token_url(), false, &exchange).await;
    assert_eq!(
        (status, body),
        (401, json!({"error": "invalid_client"})),
        "no client auth"
    );
    let wrong = [("redirect_uri", "https://elsewhere.example.com/")];
    let (status, body) = post_form(
        &fake.token_url(),
        true,
        &[exchange[0], exchange[1], wrong[0]],
    )
    .await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "invalid_grant"})),
        "other redirect_uri"
    );

    let (status, body) = post_form(&fake.token_url(), true, &exchange).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["x_refresh_token_expires_in"], 8_726_400);
    let access = text(&body, "access_token");
    let (status, _, _) = qb_query(&fake, &access, "SELECT * FROM Customer").await;
    assert_eq!(status, 200);

    let (status, body) = post_form(&fake.token_url(), true, &exchange).await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "invalid_grant"})),
        "a code is used once"
    );
    assert_eq!(fake.token_calls(), 4);

    fake.oauth(|o| o.deny_consent = true);
    let back = consent(&fake.auth_url(), &[]).await;
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "code"), None);
}

#[tokio::test]
async fn quickbooks_retires_a_refresh_token_as_soon_as_it_is_used() {
    let fake = FakeQuickbooks::start().await;
    let (_, first) = fake.mint_tokens();
    let (status, body) = refresh(&fake.token_url(), &first).await;
    assert_eq!(status, 200, "{body}");
    let second = text(&body, "refresh_token");
    assert_ne!(second, first);
    assert_eq!(
        refresh(&fake.token_url(), &first).await,
        (400, json!({"error": "invalid_grant"}))
    );
    let (status, body) = refresh(&fake.token_url(), &second).await;
    assert_eq!(status, 200);
    assert_ne!(text(&body, "refresh_token"), second);
    assert_eq!(
        refresh(&fake.token_url(), "made-up").await.1,
        json!({"error": "invalid_grant"})
    );
    assert_eq!(fake.token_calls(), 4);
    assert_eq!(fake.oauth(|o| o.reused_refresh_tokens), 1);

    // A refresh token lives as long as it says, then is refused.
    fake.set_refresh_lifetime(10);
    let (_, last) = fake.mint_tokens();
    let (_, body) = refresh(&fake.token_url(), &last).await;
    assert_eq!(body["x_refresh_token_expires_in"], 10);
    fake.advance_clock(Duration::from_secs(10));
    let (status, _) = refresh(&fake.token_url(), &text(&body, "refresh_token")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn xero_keeps_a_rotated_refresh_token_for_its_grace_with_the_same_successor() {
    let fake = FakeXero::start().await;
    let (_, first) = fake.mint_tokens();
    let (status, body) = refresh(&fake.token_url(), &first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 1800);
    let second = text(&body, "refresh_token");
    assert_ne!(second, first);

    fake.advance_clock(Duration::from_secs(29 * 60));
    let (status, again) = refresh(&fake.token_url(), &first).await;
    assert_eq!(status, 200, "within the grace: {again}");
    assert_eq!(text(&again, "refresh_token"), second, "the same successor");
    let (status, _, _) = get(
        &format!("{}/api.xro/2.0/Contacts", fake.base_url()),
        &text(&again, "access_token"),
        &[("xero-tenant-id", TENANT), ("accept", "application/json")],
    )
    .await;
    assert_eq!(status, 200, "its access token works");

    fake.advance_clock(Duration::from_secs(2 * 60));
    assert_eq!(
        refresh(&fake.token_url(), &first).await,
        (400, json!({"error": "invalid_grant"}))
    );
    assert_eq!(
        refresh(&fake.token_url(), &second).await.0,
        200,
        "the successor still works"
    );
}

#[tokio::test]
async fn xero_checks_the_pkce_verifier_of_a_code() {
    let fake = FakeXero::start().await;
    let verifier = "a-verifier-of-at-least-forty-three-characters-0123456789";
    use base64::Engine;
    use sha2::Digest;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let back = consent(&fake.auth_url(), &pkce).await;
    let code = param(&back, "code").expect("code");
    assert_eq!(
        param(&back, "realmId"),
        None,
        "only QuickBooks names a company"
    );
    let exchange = |verifier: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ]
    };
    let (status, body) = post_form(&fake.token_url(), true, &exchange("another-verifier")).await;
    assert_eq!((status, body), (400, json!({"error": "invalid_grant"})));
    let mut public = exchange(verifier);
    public.push(("client_id", CLIENT_ID));
    let (status, body) = post_form(&fake.token_url(), false, &public).await;
    assert_eq!(
        status, 200,
        "a public client with the right verifier: {body}"
    );
    assert!(body["refresh_token"].is_string());

    let plain = [("code_challenge", "x"), ("code_challenge_method", "plain")];
    let response = client()
        .get(format!(
            "{}?{}",
            fake.auth_url(),
            encode(&[
                ("client_id", CLIENT_ID),
                ("redirect_uri", REDIRECT),
                ("response_type", "code"),
                ("scope", "offline_access"),
                ("state", "s"),
                plain[0],
                plain[1]
            ])
        ))
        .send()
        .await
        .expect("authorize");
    assert_eq!(response.status().as_u16(), 400, "only S256");
}

#[tokio::test]
async fn a_revoked_connection_answers_invalid_grant_and_401() {
    let qb = FakeQuickbooks::start().await;
    let (access, refresh_token) = qb.mint_tokens();
    qb.revoke_all();
    assert_eq!(
        refresh(&qb.token_url(), &refresh_token).await,
        (400, json!({"error": "invalid_grant"}))
    );
    assert_eq!(
        qb_query(&qb, &access, "SELECT * FROM Customer").await.0,
        401
    );

    // Intuit's revoke endpoint takes JSON; a revoked refresh token is gone with its access.
    let (access, refresh_token) = qb.mint_tokens();
    let response = client()
        .post(qb.revoke_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("content-type", "application/json")
        .body(json!({"token": refresh_token}).to_string())
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        refresh(&qb.token_url(), &refresh_token).await.1,
        json!({"error": "invalid_grant"})
    );
    assert_eq!(
        qb_query(&qb, &access, "SELECT * FROM Customer").await.0,
        401
    );

    let xero = FakeXero::start().await;
    let (_, refresh_token) = xero.mint_tokens();
    let (status, _) = post_form(&xero.revoke_url(), true, &[("token", &refresh_token)]).await;
    assert_eq!(status, 200);
    assert_eq!(
        refresh(&xero.token_url(), &refresh_token).await,
        (400, json!({"error": "invalid_grant"}))
    );
}

#[tokio::test]
async fn an_expired_access_token_gets_401_with_www_authenticate() {
    let qb = FakeQuickbooks::start().await;
    qb.set_access_lifetime(5);
    let (access, refresh_token) = qb.mint_tokens();
    assert_eq!(
        qb_query(&qb, &access, "SELECT * FROM Customer").await.0,
        200
    );
    qb.advance_clock(Duration::from_secs(5));
    let (status, headers, body) = qb_query(&qb, &access, "SELECT * FROM Customer").await;
    assert_eq!(status, 401);
    let challenge = headers["www-authenticate"].to_str().expect("header");
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("invalid_token"),
        "{challenge}"
    );
    assert_eq!(body["fault"]["type"], "AUTHENTICATION");
    let (_, body) = refresh(&qb.token_url(), &refresh_token).await;
    assert_eq!(body["expires_in"], 5);
    assert_eq!(
        qb_query(&qb, &text(&body, "access_token"), "SELECT * FROM Customer")
            .await
            .0,
        200
    );

    let xero = FakeXero::start().await;
    let (access, _) = xero.mint_tokens();
    xero.oauth(|o| o.expire_access_tokens());
    let url = format!("{}/api.xro/2.0/Contacts", xero.base_url());
    let (status, headers, _) = get(&url, &access, &[("xero-tenant-id", TENANT)]).await;
    assert_eq!(status, 401);
    assert!(headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_lost_token_answer_has_already_rotated_the_refresh_token() {
    let qb = FakeQuickbooks::start().await;
    let (_, first) = qb.mint_tokens();
    qb.lose_token_answers(1);
    let lost = client()
        .post(qb.token_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first),
        ]))
        .send()
        .await;
    assert!(lost.is_err(), "the connection drops: {lost:?}");
    assert_eq!(qb.token_calls(), 1);
    assert_eq!(
        qb.oauth(|o| o.refreshes),
        1,
        "the token rotated before the answer was lost"
    );
    assert_eq!(
        refresh(&qb.token_url(), &first).await.1,
        json!({"error": "invalid_grant"})
    );
    assert_eq!(qb.token_statuses(), [None, Some(400)]);

    let xero = FakeXero::start().await;
    let (_, first) = xero.mint_tokens();
    xero.lose_token_answers(1);
    let lost = client()
        .post(xero.token_url())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first),
        ]))
        .send()
        .await;
    assert!(lost.is_err());
    let (status, body) = refresh(&xero.token_url(), &first).await;
    assert_eq!(status, 200, "Xero's grace recovers the lost answer: {body}");
    assert_eq!(xero.oauth(|o| o.reused_refresh_tokens), 1);
    assert_eq!(
        refresh(&xero.token_url(), &text(&body, "refresh_token"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn xero_connections_list_the_organisations_and_delete_one() {
    let fake = FakeXero::start().await;
    let second = fake.add_tenant("Second Org Ltd");
    let (access, _) = fake.mint_tokens();
    let (status, _, list) = get(&fake.connections_url(), &access, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list, "tenantId"), [TENANT.to_owned(), second.clone()]);
    assert_eq!(list[1]["tenantName"], "Second Org Ltd");
    assert_eq!(list[1]["tenantType"], "ORGANISATION");
    let connection = text(&list[1], "id");

    let contacts = format!("{}/api.xro/2.0/Contacts", fake.base_url());
    let json = ("accept", "application/json");
    let (status, _, body) = get(&contacts, &access, &[("xero-tenant-id", &second), json]).await;
    assert_eq!(
        (status, body["Contacts"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    assert_eq!(get(&contacts, &access, &[json]).await.0, 403, "no tenant");
    assert_eq!(
        get(&contacts, &access, &[("xero-tenant-id", "nope"), json])
            .await
            .0,
        403
    );

    let response = client()
        .delete(format!("{}/{connection}", fake.connections_url()))
        .bearer_auth(&access)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 204);
    let (_, _, list) = get(&fake.connections_url(), &access, &[]).await;
    assert_eq!(ids(&list, "tenantId"), [TENANT.to_owned()]);
    assert_eq!(
        get(&contacts, &access, &[("xero-tenant-id", &second), json])
            .await
            .0,
        403
    );
}

#[tokio::test]
async fn xero_custom_connection_reads_without_a_tenant_header() {
    let fake = FakeXero::start().await;
    let (status, body) = post_form(
        &fake.token_url(),
        true,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none());
    let url = format!("{}/api.xro/2.0/Contacts", fake.base_url());
    let (status, _, body) = get(
        &url,
        &text(&body, "access_token"),
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(!body["Contacts"].as_array().expect("contacts").is_empty());
}
