//! SPEC §6's exit codes, in one place: every command and every pass ends with one of these.

use std::process::ExitCode;

use crate::pass::PassOutcome;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// All done.
    Ok,
    /// Anything outside the list below.
    Other,
    /// The pass finished, but records were rejected in it.
    Rejected,
    /// Records are still failed or queued because the API was unavailable.
    Unavailable,
    /// Another instance holds the store, or (`--once`) the export never settled.
    Locked,
    /// BlueTape refused the credentials.
    Unauthorized,
    /// A configuration or source problem, a wrong endpoint, a redirect.
    Config,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Other => 1,
            Exit::Rejected => 65,
            Exit::Unavailable => 69,
            Exit::Locked => 75,
            Exit::Unauthorized => 77,
            Exit::Config => 78,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit.code())
    }
}

impl From<PassOutcome> for Exit {
    fn from(outcome: PassOutcome) -> Self {
        match outcome {
            // Stopped by SIGTERM/SIGINT: what was sent is recorded, the rest stays queued.
            PassOutcome::Ok | PassOutcome::Interrupted => Exit::Ok,
            PassOutcome::Rejected => Exit::Rejected,
            PassOutcome::Unavailable => Exit::Unavailable,
            PassOutcome::Unauthorized => Exit::Unauthorized,
            PassOutcome::EndpointNotFound
            | PassOutcome::Redirected
            | PassOutcome::TlsFailed
            | PassOutcome::SourceError => Exit::Config,
        }
    }
}
