//! `bluetape-sync` keeps BlueTape in step with a supplier's accounting export: it reads the
//! export, works out which records are new or changed, and sends each to BlueTape once.
//!
//! The record's path, one station a module: [`source`] (the export read) -> [`record`] (a
//! record checked, its body) -> `diff` -> [`store`] -> [`client`] (one request to BlueTape);
//! an export read from an accounting system's API is first fetched by `provider`. One pass is
//! [`pass::run_pass`]: a list of lanes, one a kind of record. Above it the daemon's schedule
//! ([`daemon`]), the operator's `commands`, and the command line ([`cli`]).
//!
//! The doors: the modules public here are the ones the binary, the tests and the benches
//! use (a pass run on a config, the store and the client against a fake BlueTape, the
//! record checks and the export readers on their own). The rest is the crate's own.

pub mod cli;
pub mod client;
pub(crate) mod commands;
pub mod config;
pub mod daemon;
pub(crate) mod diff;
pub(crate) mod logging;
pub mod pass;
pub(crate) mod provider;
pub mod record;
pub(crate) mod setting;
pub(crate) mod shown;
pub mod source;
pub mod store;
