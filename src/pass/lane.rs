//! A lane: one kind of record (customers, invoices) as a pass carries it. Staging and sending
//! are the same for every kind; what differs is here: how a record is checked, what its body
//! is, which calls send it, and which store name keeps it.

use chrono::{DateTime, Utc};

use super::config::PassConfig;
use crate::client::{Answer, BlueTapeClient};
use crate::record::invoice::{Invoice, InvoiceReader};
use crate::record::{Customer, Normaliser, RawRecord, Rejection};
use crate::source::Kind;
use crate::source::config::{InvoicesConfig, SourceConfig};
use crate::source::invoices::Standing;
use crate::source::timestamp::TimestampParser;

/// One kind's settings and checks, for one pass.
#[derive(Debug, Clone)]
pub(super) struct Lane {
    pub(super) kind: Kind,
    pub(super) source: SourceConfig,
    /// Send records BlueTape has that changed since as updates.
    pub(super) updates: bool,
    /// The store name of the customers an invoice is sent after (and whose sub-customers'
    /// invoices go under their top-level customer).
    pub(super) customers: Option<String>,
    checker: Checker,
}

#[derive(Debug, Clone)]
enum Checker {
    Customers(Normaliser),
    Invoices(InvoiceReader),
}

/// A valid record: its create body, and what the export says of it.
#[derive(Debug)]
pub(super) struct Checked {
    pub(super) body: String,
    /// Always open for a customer.
    pub(super) standing: Standing,
}

impl Lane {
    pub(super) fn customers(config: &PassConfig) -> Self {
        Self {
            kind: Kind::Customer,
            checker: Checker::Customers(Normaliser::for_source(&config.source)),
            source: config.source.clone(),
            updates: config.sync.updates,
            customers: None,
        }
    }

    /// The invoices' lane, after the customers kept under `customers`.
    pub(super) fn invoices(config: &InvoicesConfig, customers: &str) -> Self {
        Self {
            kind: Kind::Invoice,
            checker: Checker::Invoices(InvoiceReader::new(config)),
            source: config.source.clone(),
            updates: config.updates,
            customers: Some(customers.to_owned()),
        }
    }

    /// The same lane reading its records from `source` (a spool of what an API answered).
    pub(super) fn with_source(&self, source: SourceConfig) -> Self {
        Self {
            source,
            ..self.clone()
        }
    }

    /// `customer` or `invoice`, for messages.
    pub(super) fn noun(&self) -> &'static str {
        self.kind.name()
    }

    /// The store's name for this kind's records, watermark and files.
    pub(super) fn name(&self) -> &str {
        &self.source.name
    }

    pub(super) fn timestamps(&self) -> &TimestampParser {
        match &self.checker {
            Checker::Customers(n) => n.timestamps(),
            Checker::Invoices(r) => r.timestamps(),
        }
    }

    /// The record's `sourceModifiedDate`.
    pub(super) fn modified(&self, raw: &RawRecord) -> Result<DateTime<Utc>, Rejection> {
        match &self.checker {
            Checker::Customers(n) => n.modified(raw),
            Checker::Invoices(r) => r.modified(raw),
        }
    }

    /// Checks a record whose date has been read: its body, or why it is rejected.
    pub(super) fn check(
        &self,
        raw: &RawRecord,
        modified: DateTime<Utc>,
    ) -> Result<Checked, Rejection> {
        // A body that cannot be written as JSON rejects that record alone.
        let written =
            |body: serde_json::Result<String>| body.map_err(|e| Rejection::unwritable(&e));
        match &self.checker {
            Checker::Customers(n) => {
                let customer = n.customer(raw, modified)?;
                Ok(Checked {
                    body: written(customer.create_body())?,
                    standing: Standing::Open,
                })
            }
            Checker::Invoices(r) => match r.invoice(raw, modified) {
                Ok(read) => Ok(Checked {
                    body: written(read.invoice.create_body())?,
                    standing: read.standing,
                }),
                // A void invoice's body is never sent (it is cancelled, or left out): its id
                // is enough (a deleted QuickBooks invoice is nothing more).
                Err(_) if r.is_void(raw) => Ok(Checked {
                    body: String::new(),
                    standing: Standing::Void,
                }),
                Err(rejection) => Err(rejection),
            },
        }
    }

    /// The body of an update, from the create body the store keeps.
    pub(super) fn update_body(&self, stored: &str) -> Result<String, serde_json::Error> {
        match self.kind {
            Kind::Customer => Customer::from_stored(stored).and_then(|c| c.update_body()),
            Kind::Invoice => Invoice::update_body(stored),
        }
    }

    pub(super) async fn create(&self, client: &BlueTapeClient, body: String) -> Answer {
        match self.kind {
            Kind::Customer => client.create(body).await,
            Kind::Invoice => client.create_invoice(body).await,
        }
    }

    pub(super) async fn update(&self, client: &BlueTapeClient, id: &str, body: String) -> Answer {
        match self.kind {
            Kind::Customer => client.update(id, body).await,
            Kind::Invoice => client.update_invoice(id, body).await,
        }
    }
}
