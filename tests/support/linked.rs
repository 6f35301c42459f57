//! Fixtures reading QuickBooks Online's or Xero's API through the fake providers, and
//! `connect` driven as an operator drives it.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _};

use super::fake_oauth::{CLIENT_ID, CLIENT_SECRET};
use super::fake_quickbooks::FakeQuickbooks;
use super::fake_xero::FakeXero;
use super::{Fixture, Run};

/// A fixture whose `[source]` reads Xero's API through the fake.
pub async fn xero_fixture(xero: &FakeXero) -> Fixture {
    xero_fixture_with(xero, "", "redirect_uri = \"http://127.0.0.1:9/callback\"").await
}

/// [`xero_fixture`] with more sections before `[xero]` (`[invoices]`), and `app`: how the app
/// gets its tokens (its `redirect_uri`, or `grant`).
pub async fn xero_fixture_with(xero: &FakeXero, sections: &str, app: &str) -> Fixture {
    let fx = Fixture::with_config(&format!(
        "preset = \"xero\"\nfrom = \"api\"\n{sections}\n{}",
        xero_section(xero, app)
    ))
    .await;
    fx.write_file("xero.secret", &format!("{CLIENT_SECRET}\n"));
    fx
}

/// The `[xero]` section reaching the fake, its secret in `xero.secret`; `app` as for
/// [`xero_fixture_with`].
pub fn xero_section(xero: &FakeXero, app: &str) -> String {
    format!(
        "[xero]\nclient_id = \"{CLIENT_ID}\"\nclient_secret_file = \"xero.secret\"\n{app}\n\
         base_url = \"{}\"\nauth_url = \"{}\"\ntoken_url = \"{}\"\nrevoke_url = \"{}\"\n\
         connections_url = \"{}\"\n",
        xero.base_url(),
        xero.auth_url(),
        xero.token_url(),
        xero.revoke_url(),
        xero.connections_url()
    )
}

/// `connect` with the redirect pasted: the consent URL it prints is opened (as a browser
/// would, following nothing), and the URL the provider redirects to is pasted back.
pub async fn connect_by_pasting(fx: &Fixture, provider: &str, extra: &[&str]) -> Run {
    let mut args = vec!["connect", provider];
    args.extend_from_slice(extra);
    let mut child = fx
        .command(&args, &[])
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn connect");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let consent = lines
        .next_line()
        .await
        .expect("read")
        .expect("the consent URL, alone on its line");
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(&consent)
        .send()
        .await
        .expect("the fake's consent page");
    assert_eq!(answer.status().as_u16(), 302, "{consent}");
    let redirect = answer
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("a redirect")
        .to_owned();
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{redirect}\n").as_bytes())
        .await
        .expect("paste");
    drop(stdin);
    let mut rest = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push_str(&line);
        rest.push('\n');
    }
    let output = child.wait_with_output().await.expect("connect ends");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: format!("{consent}\n{rest}"),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A fixture whose `[source]` reads QuickBooks Online's API through the fake.
pub async fn quickbooks_fixture(qb: &FakeQuickbooks) -> Fixture {
    quickbooks_fixture_with(qb, "").await
}

/// [`quickbooks_fixture`] with more sections before `[quickbooks]` (`[invoices]`).
pub async fn quickbooks_fixture_with(qb: &FakeQuickbooks, sections: &str) -> Fixture {
    let fx = Fixture::with_config(&format!(
        "preset = \"quickbooks-online\"\nfrom = \"api\"\n{sections}\n[quickbooks]\n\
         client_id = \"{CLIENT_ID}\"\nclient_secret_file = \"qb.secret\"\n\
         redirect_uri = \"https://example.com/callback\"\nbase_url = \"{}\"\nauth_url = \"{}\"\n\
         token_url = \"{}\"\nrevoke_url = \"{}\"\n",
        qb.base_url(),
        qb.auth_url(),
        qb.token_url(),
        qb.revoke_url()
    ))
    .await;
    fx.write_file("qb.secret", &format!("{CLIENT_SECRET}\n"));
    fx
}

/// The fixture's company with customers 58 and 59, whom its invoices are billed to.
pub async fn quickbooks_with_invoices() -> (FakeQuickbooks, Fixture) {
    use super::fake_quickbooks::Entity;
    let qb = FakeQuickbooks::start().await;
    qb.books(|b| {
        for (id, name) in [("58", "Ada"), ("59", "Grace")] {
            let mut customer = b.customers[0].clone();
            customer["Id"] = serde_json::json!(id);
            customer["GivenName"] = serde_json::json!(name);
            b.add(Entity::Customer, customer);
        }
    });
    let invoices = "\n[invoices]\npreset = \"quickbooks-online\"\nfrom = \"api\"\n";
    let fx = quickbooks_fixture_with(&qb, invoices).await;
    assert_eq!(connect_by_pasting(&fx, "quickbooks", &[]).await.code, 0);
    (qb, fx)
}

/// When the generated companies' first record last changed (`generate_customers`,
/// `generate_contacts`): long before any test runs.
pub fn first_change() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2024-03-01T10:00:00Z")
        .expect("time")
        .to_utc()
}
