//! `cargo run --example demo`: the real `bluetape-sync` binary, run as you would run it, against
//! a fake BlueTape this program starts on 127.0.0.1. It builds the binary, copies
//! `config/demo.toml` and the sample exports into `target/demo/` (the store goes there too),
//! and runs `bluetape-sync --config target/demo/config.toml run --once` three times: the
//! sample export, the same export again (nothing new), and the export after a fix and a new
//! customer with an invoice; then `status` and `failures`. After each pass it lists what
//! BlueTape received. Every line between a `$ bluetape-sync ...` and its exit code is the
//! binary's own output.

#[path = "../tests/support/fake.rs"]
mod fake;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

type Error = Box<dyn std::error::Error>;

/// The line of `config/demo.toml` the demo points at its fake BlueTape.
const BASE_URL_LINE: &str = "base_url = \"http://127.0.0.1:9/genericBthubService\"";

#[tokio::main]
async fn main() -> Result<(), Error> {
    let binary = build_binary().await?;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The binary is <target>/<profile>/bluetape-sync; the demo's folder is <target>/demo.
    let target = binary
        .parent()
        .and_then(Path::parent)
        .ok_or("the binary has no target folder")?;
    let demo = target.join("demo");
    if demo.exists() {
        std::fs::remove_dir_all(&demo)?;
    }
    std::fs::create_dir_all(&demo)?;

    let fake = fake::FakeBlueTape::start().await;
    let config = write_demo_folder(&repo.join("config"), &demo, &fake.base_url())?;

    let bin = shown(&binary);
    let cfg = shown(&config);
    println!(
        "\nA fake BlueTape is listening at {} (account acct-42, the key in {}).",
        fake.base_url(),
        shown(&demo.join("demo-api.key"))
    );
    println!("The config, as you would write it for your own export ({cfg}):\n");
    // From its first section: the file's opening comment is about the demo itself.
    let text = std::fs::read_to_string(&config)?;
    let sections = text.find("\n[").map_or(0, |at| at + 1);
    for line in text[sections..].lines() {
        println!("    {line}");
    }

    heading(
        "pass 1: the sample export, 8 rows (2 invalid, 1 id twice), and 4 invoices \
         (1 for a rejected customer, 1 draft)",
    );
    let demo_run = Run {
        binary: &binary,
        config: &config,
        bin: &bin,
        cfg: &cfg,
    };
    demo_run.run(&["run", "--once"]).await?;
    received(&fake, 0);

    heading("pass 2: the same export again: nothing new, nothing sent");
    let before = fake.request_count();
    demo_run.run(&["run", "--once"]).await?;
    received(&fake, before);

    heading(
        "pass 3: the bookkeeper fixes CUST-1005's mobile number and adds a customer, CUST-1008, \
         with an invoice: only those are sent, each invoice after its customer",
    );
    change_exports(&demo)?;
    let before = fake.request_count();
    demo_run.run(&["run", "--once"]).await?;
    received(&fake, before);

    heading("what the store holds now (read without sending anything)");
    demo_run.run(&["status"]).await?;
    demo_run.run(&["failures"]).await?;

    println!(
        "\nThe store stays in {}: try `{bin} --config {cfg} show CUST-1006` (an id, an email or a name) or `... export`.\n\
         For your own export: `{bin} init YOUR-EXPORT.csv > config.toml` (see the README).",
        shown(&demo)
    );
    Ok(())
}

/// Builds the binary with the profile this demo was built with, and returns its path.
async fn build_binary() -> Result<PathBuf, Error> {
    println!("Building the binary itself: cargo build --bin bluetape-sync");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args([
        "build",
        "--bin",
        "bluetape-sync",
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    build.current_dir(env!("CARGO_MANIFEST_DIR"));
    // Cargo's progress to the terminal; its messages, read below, from stdout.
    let child = build
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let output = child.wait_with_output().await?;
    if !output.status.success() {
        return Err("cargo build --bin bluetape-sync failed".into());
    }
    // Cargo names the built executable in a `compiler-artifact` message.
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "bluetape-sync")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo build named no bluetape-sync executable".into())
}

/// Copies the demo config and what it names into `demo`, pointing it at `base_url`.
fn write_demo_folder(from: &Path, demo: &Path, base_url: &str) -> Result<PathBuf, Error> {
    for file in ["sample-export.csv", "sample-invoices.csv", "demo-api.key"] {
        std::fs::copy(from.join(file), demo.join(file))?;
    }
    // The binary refuses a key file others can read.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        demo.join("demo-api.key"),
        std::fs::Permissions::from_mode(0o600),
    )?;
    let text = std::fs::read_to_string(from.join("demo.toml"))?;
    if !text.contains(BASE_URL_LINE) {
        return Err(format!("config/demo.toml has no line `{BASE_URL_LINE}`").into());
    }
    let text = text.replace(BASE_URL_LINE, &format!("base_url = \"{base_url}\""));
    let config = demo.join("config.toml");
    std::fs::write(&config, text)?;
    Ok(config)
}

/// What the accounting system writes next: CUST-1005's mobile number fixed (a later modified
/// date), and a new customer with an invoice.
fn change_exports(demo: &Path) -> Result<(), Error> {
    let export = demo.join("sample-export.csv");
    let text = std::fs::read_to_string(&export)?;
    let wrong = "(123) 456-7890,2024-03-03 11:00:00";
    if !text.contains(wrong) {
        return Err(format!("config/sample-export.csv has no `{wrong}` to fix").into());
    }
    let text = text.replace(wrong, "(626) 555-0105,2024-03-05 09:00:00");
    let text = text
        + "CUST-1008,Frances,Allen,frances.allen@example.com,(626) 555-0108,2024-03-05 10:00:00,\n";
    std::fs::write(&export, text)?;
    let invoices = demo.join("sample-invoices.csv");
    let text = std::fs::read_to_string(&invoices)?
        + "INV-2005,1005,CUST-1008,2024-03-05,2024-04-04,19.99,0.00,19.99,2024-03-05 10:05:00,Open\n";
    std::fs::write(&invoices, text)?;
    Ok(())
}

fn heading(text: &str) {
    println!("\n== {text} ==\n");
}

/// The binary and the config every command of the demo is run with.
struct Run<'a> {
    binary: &'a Path,
    config: &'a Path,
    /// Both as the user would type them.
    bin: &'a str,
    cfg: &'a str,
}

impl Run<'_> {
    /// Runs the binary with its output going straight to this terminal, then prints its exit
    /// code. Variables that would change its config are not passed on.
    async fn run(&self, args: &[&str]) -> Result<(), Error> {
        println!("$ {} --config {} {}", self.bin, self.cfg, args.join(" "));
        let mut command = Command::new(self.binary);
        command.arg("--config").arg(self.config).args(args);
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("BLUETAPE_") || name_text == "RUST_LOG" {
                command.env_remove(&name);
            }
        }
        let status = command.status().await?;
        println!("(exit {})", status.code().unwrap_or(-1));
        Ok(())
    }
}

/// Lists the requests BlueTape received from the `from`th on.
fn received(fake: &fake::FakeBlueTape, from: usize) {
    let received = fake.received();
    if received.len() <= from {
        println!("BlueTape received nothing.");
        return;
    }
    println!("BlueTape received:");
    for r in &received[from..] {
        println!(
            "  {} {} {} -> {}",
            r.method,
            r.path.trim_start_matches(fake::PREFIX),
            r.id().unwrap_or("?"),
            r.status.map_or("dropped".into(), |s| s.to_string())
        );
    }
}

/// A path as the user would type it: relative to the working folder when inside it.
fn shown(path: &Path) -> String {
    let here = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&here)
        .unwrap_or(path)
        .display()
        .to_string()
}
