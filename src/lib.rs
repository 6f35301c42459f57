//! `bluetape-sync` keeps BlueTape in step with a supplier's accounting export: it reads the
//! export, works out which customers are new, and creates each of them in BlueTape once.
//!
//! The record's path: [`source`] -> [`record`] -> [`diff`] -> [`store`] -> [`client`], driven
//! by [`pass::run_pass`]; [`cli`] is the command line.

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
