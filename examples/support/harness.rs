#![allow(dead_code)] // each harness uses its own part

//! What the measuring harnesses share: the config they run with (the in-process fake's key
//! and account, no rate limit, one attempt a record, a store and an export in `dir`, logs at
//! error only), and how a measurement's child process reports and is read.

use std::collections::HashMap;
use std::path::Path;

use bluetape_sync::config::Config;

/// Writes and loads it; `more` adds sections of its own (`[schedule]`, say).
pub fn config(
    dir: &Path,
    base_url: &str,
    export: &Path,
    concurrency: usize,
    settle: &str,
    more: &str,
) -> Result<Config, Box<dyn std::error::Error>> {
    let path = dir.join("config.toml");
    std::fs::write(dir.join("key"), format!("{}\n", crate::fake::KEY))?;
    std::fs::write(
        &path,
        format!(
            "[api]\nbase_url = \"{base_url}\"\naccount_id = \"{}\"\nkey_file = \"key\"\n\
             concurrency = {concurrency}\nmax_requests_per_second = 0\n\
             [retry]\nmax_attempts = 1\nstop_after = 1\ninitial_backoff = \"1ms\"\nmax_backoff = \"1ms\"\n\
             [store]\npath = \"{}\"\n[source]\npath = \"{}\"\nsettle = \"{settle}\"\nlookback = \"0s\"\n\
             [log]\nlevel = \"error\"\n{more}",
            crate::fake::ACCOUNT,
            dir.join("state.db").display(),
            export.display()
        ),
    )?;
    Ok(Config::load_with_env(&path, Some(HashMap::new()))?)
}

/// One measurement: wall seconds and peak RSS.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub wall: f64,
    pub rss_mib: f64,
}

/// This process's peak resident set, in KiB.
pub fn peak_rss_kib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0.0)
}

/// What a measuring child prints last: its wall time and this process's peak RSS.
pub fn report(wall: f64) {
    println!("RESULT wall={wall} rss_kib={}", peak_rss_kib());
}

/// Runs `child` and reads its `RESULT` line.
pub fn run_child(
    task: &str,
    child: &mut std::process::Command,
) -> Result<Measured, Box<dyn std::error::Error>> {
    let output = child.output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = (text.lines())
        .find(|l| l.starts_with("RESULT "))
        .ok_or_else(|| {
            format!(
                "{task}: no result: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let fields: HashMap<&str, f64> = line[7..]
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
        .collect();
    Ok(Measured {
        wall: fields["wall"],
        rss_mib: fields["rss_kib"] / 1024.0,
    })
}

/// The median wall time and the median peak RSS of `runs`.
pub fn median(runs: &[Measured]) -> Measured {
    let middle = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Measured {
        wall: middle(runs.iter().map(|m| m.wall).collect()),
        rss_mib: middle(runs.iter().map(|m| m.rss_mib).collect()),
    }
}
