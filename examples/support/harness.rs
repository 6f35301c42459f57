//! The config the measuring harnesses run with: the in-process fake's key and account, no
//! rate limit, one attempt a record, a store and an export in `dir`, logs at error only.

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
