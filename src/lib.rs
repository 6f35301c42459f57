//! `bluetape-sync` keeps BlueTape in step with a supplier's accounting export: it reads the
//! export, works out which customers are new, and creates each of them in BlueTape once.
//!
//! The record's path: [`source`] -> [`record`] -> [`diff`] -> [`store`] -> [`client`], an
//! export read from an accounting system's API first fetched by [`provider`]; one pass is
//! [`pass::run_pass`], the daemon's schedule [`daemon`], the operator's commands
//! [`commands`], the command line [`cli`].

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod diff;
pub mod logging;
pub mod pass;
pub mod provider;
pub mod record;
pub mod setting;
pub mod shown;
pub mod source;
pub mod store;
