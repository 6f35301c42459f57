//! `check` with `[invoices]` (SPEC §9): the invoice export's first three invoices as they
//! would be sent, or why they would wait.

use std::collections::HashSet;
use std::io::Write;

use serde_json::Value;

use super::super::{CommandError, io, open_store, table};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::diff::RecordState;
use crate::pass::Staged;
use crate::store::Store;

/// How many invoices `check` shows.
const SHOWN: usize = 3;

/// The first invoices as they would be sent, or why they would wait; `customers_sent`: the
/// customers the pass would send first.
pub(super) fn samples(
    config: &Config,
    staged: &Staged,
    customers_sent: &HashSet<String>,
    out: &mut dyn Write,
) -> Result<(), super::Checked> {
    let store = open_store(config)?;
    let customers = config.pass.source.name.as_str();
    let rows = (staged.samples.iter().take(SHOWN))
        .filter_map(|body| serde_json::from_str::<Value>(body).ok())
        .map(|invoice| {
            let text = |key: &str| match &invoice[key] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let customer = text("customerId");
            let when = if customers_sent.contains(&customer) {
                format!("after customer {customer}, in the same pass")
            } else {
                waits_for(store.as_ref(), customers, &customer)?
            };
            let lines = invoice["lines"].as_array().map_or(0, Vec::len);
            Ok(vec![
                text("id"),
                text("invoiceNumber"),
                customer,
                text("invoiceDate"),
                text("dueDate"),
                text("subTotal"),
                text("taxAmount"),
                text("totalAmount"),
                text("amountDue"),
                lines.to_string(),
                when,
            ])
        })
        .collect::<Result<Vec<_>, CommandError>>()?;
    if !rows.is_empty() {
        writeln!(out, "\nfirst invoices as they would be sent:").map_err(io)?;
        table(
            out,
            &[
                "id",
                "invoiceNumber",
                "customerId",
                "invoiceDate",
                "dueDate",
                "subTotal",
                "taxAmount",
                "totalAmount",
                "amountDue",
                "lines",
                "sent",
            ],
            &rows,
        )
        .map_err(io)?;
    }
    Ok(())
}

/// When an invoice whose customer this pass would not send would go: now, when the store has
/// its customer in BlueTape, or it waits, and why.
fn waits_for(store: Option<&Store>, customers: &str, id: &str) -> Result<String, CommandError> {
    let stored = match store {
        Some(store) => store
            .record(customers, id)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?,
        None => None,
    };
    Ok(match stored {
        Some(row) if matches!(row.state, RecordState::Created | RecordState::Exists) => {
            "now".to_owned()
        }
        Some(row) if row.state == RecordState::Rejected => format!(
            "waits: customer {id} is rejected: {}",
            row.reason.unwrap_or_default()
        ),
        Some(row) => format!("waits: customer {id} is {}", row.state),
        None => format!(
            "waits: customer {id} is not in BlueTape and the customer export does not send it \
             (absent, or rejected: see above)"
        ),
    })
}
