//! The customers' lane: every pass has it, first (SPEC §3).

use chrono::{DateTime, Utc};

use super::{Checked, Lane, Rules, written};
use crate::client::Resource;
use crate::client::answer::{classify, classify_update};
use crate::pass::config::PassConfig;
use crate::record::{Customer, Normaliser, RawRecord, Rejection};
use crate::source::Kind;
use crate::source::Standing;

/// `POST /integration/customer`, `PUT /integration/customer/{id}` (SPEC §2).
pub const CUSTOMERS: Resource = Resource {
    path: "integration/customer",
    create: classify,
    update: classify_update,
    // A customer is never cancelled: its diff has no standing that asks for it.
    cancel: classify_update,
};

pub(super) fn lane(config: &PassConfig) -> Lane {
    let rules = Customers(Normaliser::for_source(&config.source));
    let updates = config.sync.updates;
    Lane::new(
        Kind::Customer,
        &config.source,
        updates,
        &config.retry,
        rules,
    )
}

#[derive(Debug)]
struct Customers(Normaliser);

impl Rules for Customers {
    fn resource(&self) -> Resource {
        CUSTOMERS
    }

    fn check(&self, raw: &RawRecord, modified: DateTime<Utc>) -> Result<Checked, Rejection> {
        let customer = self.0.customer(raw, modified)?;
        Ok(Checked {
            body: written(customer.create_body())?,
            standing: Standing::Open,
        })
    }

    fn update_body(&self, stored: &str) -> Result<String, serde_json::Error> {
        Customer::from_stored(stored).and_then(|c| c.update_body())
    }
}
