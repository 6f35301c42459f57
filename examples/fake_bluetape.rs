//! `cargo run --example fake_bluetape -- LOG [ACCOUNT=KEY]...`: the tests' fake BlueTape on
//! 127.0.0.1, as a process of its own, for the package's system test
//! (`tests/system/package.sh`), where the daemon runs under systemd in a container.
//!
//! Prints its `base_url` as the first line on stdout, then appends every request it answered
//! to LOG as one JSON line (`method`, `path`, `status`, `headers`, `body`), in the order they
//! arrived. Each `ACCOUNT=KEY` is an account it accepts with its key (default: the tests'
//! `acct-42` with their key). Runs until killed.

#[path = "../tests/support/fake.rs"]
mod fake;

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Duration;

use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let log = args
        .next()
        .ok_or("usage: fake_bluetape LOG [ACCOUNT=KEY]...")?;
    let fake = fake::FakeBlueTape::start().await;
    for account in args {
        let (account, key) = account
            .split_once('=')
            .ok_or_else(|| format!("`{account}`: expected ACCOUNT=KEY"))?;
        fake.add_account(account, key);
    }
    let mut log = OpenOptions::new().create(true).append(true).open(&log)?;
    println!("{}", fake.base_url());
    std::io::stdout().flush()?;

    // A request is written once answered; the ones after it wait, so the log keeps their order.
    let mut written = 0;
    loop {
        let received = fake.received();
        for request in &received[written..] {
            let Some(status) = request.status else {
                break;
            };
            let line = json!({
                "method": request.method,
                "path": request.path,
                "status": status,
                "headers": request.headers,
                "body": request.body,
            });
            writeln!(log, "{line}")?;
            written += 1;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
