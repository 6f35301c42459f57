//! The invoices' lane (SPEC §9): after the customers'. An invoice's standing (draft, paid,
//! void) adds to the diff, staging notes the customer each one is billed to, and before
//! sending an invoice waits while that customer is not in BlueTape.

use chrono::{DateTime, Utc};
use tracing::info;

use super::{Checked, Lane, Rules, written};
use crate::client::Resource;
use crate::client::answer::invoice::{classify_cancel, classify_create, classify_update};
use crate::diff::invoice::decide_invoice;
use crate::diff::{Incoming, Stored, Verdict};
use crate::pass::config::PassConfig;
use crate::record::invoice::{Invoice, InvoiceReader};
use crate::record::{RawRecord, Rejection};
use crate::source::Kind;
use crate::source::Standing;
use crate::source::config::InvoicesConfig;
use crate::store::{Staging, Store, StoreError};

/// `POST /integration/invoice`, `PUT .../{id}`, `PUT .../{id}/cancel` (SPEC §9).
pub const INVOICES: Resource = Resource {
    path: "integration/invoice",
    create: classify_create,
    update: classify_update,
    cancel: classify_cancel,
};

/// The invoices' lane, after `customers`.
pub(super) fn lane(config: &PassConfig, invoices: &InvoicesConfig, customers: &Lane) -> Lane {
    let rules = Invoices(InvoiceReader::new(invoices));
    let (source, updates) = (&invoices.source, invoices.updates);
    Lane {
        after: Some(customers.name().to_owned()),
        ..Lane::new(Kind::Invoice, source, updates, &config.retry, rules)
    }
}

#[derive(Debug)]
struct Invoices(InvoiceReader);

impl Rules for Invoices {
    fn resource(&self) -> Resource {
        INVOICES
    }

    fn check(&self, raw: &RawRecord, modified: DateTime<Utc>) -> Result<Checked, Rejection> {
        match self.0.invoice(raw, modified) {
            Ok(read) => Ok(Checked {
                body: written(read.invoice.create_body())?,
                standing: read.standing,
            }),
            // A void invoice's body is never sent (it is cancelled, or left out): its id is
            // enough (a deleted QuickBooks invoice is nothing more).
            Err(_) if self.0.is_void(raw) => Ok(Checked {
                body: String::new(),
                standing: Standing::Void,
            }),
            Err(rejection) => Err(rejection),
        }
    }

    fn update_body(&self, stored: &str) -> Result<String, serde_json::Error> {
        Invoice::update_body(stored)
    }

    fn decide(
        &self,
        stored: Option<&Stored>,
        incoming: Incoming<'_>,
        standing: Standing,
    ) -> Verdict {
        decide_invoice(stored, incoming, standing)
    }

    fn follows(&self, body: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Named {
            #[serde(rename = "customerId")]
            customer_id: String,
        }
        serde_json::from_str::<Named>(body)
            .ok()
            .map(|n| n.customer_id)
    }

    /// Notes each invoice's customer (a sub-customer's invoices go under its top-level one).
    fn after_staging(
        &self,
        staging: &Staging<'_>,
        pass: i64,
        after: Option<&str>,
    ) -> Result<(), StoreError> {
        match after {
            Some(customers) => staging.mark_invoices(pass, customers),
            None => Ok(()),
        }
    }

    /// Holds a queued invoice while its customer is not in BlueTape; releases one whose
    /// customer now is.
    fn before_sending(
        &self,
        store: &mut Store,
        lane: &Lane,
        pass: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let Some(customers) = &lane.after else {
            return Ok(());
        };
        let hold = store.hold_for_customers(lane.name(), customers, pass, now_ms)?;
        if hold.held + hold.released > 0 {
            info!(
                held = hold.held,
                released = hold.released,
                "invoices held for their customers"
            );
        }
        Ok(())
    }
}
