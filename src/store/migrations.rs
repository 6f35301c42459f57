//! `migrations/*.sql`, embedded by `build.rs` in file-name order. Migration N sets
//! `PRAGMA user_version = N`; a released migration is never edited, changes are new files.

pub const MIGRATIONS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
