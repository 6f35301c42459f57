//! `connect` and `disconnect` on the command line (SPEC §11).

use std::process::ExitCode;

use super::fail;
use crate::commands;
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::logging;

/// `connect` and `disconnect`: the config loaded, the provider named on the command line.
pub(super) fn connect_command(
    config_path: &std::path::Path,
    provider: &str,
    run: impl FnOnce(
        &Config,
        crate::provider::Provider,
        &mut dyn std::io::Write,
    ) -> Result<(), commands::CommandError>,
) -> ExitCode {
    let provider = match provider.parse::<crate::provider::Provider>() {
        Ok(p) => p,
        Err(e) => return fail(Exit::Other, &e),
    };
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => return fail(Exit::Config, &e.to_string()),
    };
    logging::init(&config.log, &config.warnings);
    let mut out = std::io::stdout().lock();
    match run(&config, provider, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.exit_code(), &e.to_string()),
    }
}
