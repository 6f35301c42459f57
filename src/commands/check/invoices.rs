//! `check` with `[invoices]` (SPEC §9): the invoice export's counts and rejections, and its
//! first three invoices as they would be sent, or why they would wait.

use std::collections::HashSet;
use std::io::Write;

use serde_json::Value;

use super::super::{CommandError, advice, io, open_store, table};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::diff::RecordState;
use crate::source::config::InvoicesConfig;
use crate::store::Store;

/// How many invoices `check` shows.
const SHOWN: usize = 3;

/// Says what a pass would do with the invoice export; its number of rejections.
pub(super) async fn check(
    config: &Config,
    invoices: &InvoicesConfig,
    customers_sent: &HashSet<String>,
    link_use: crate::pass::LinkUse,
    out: &mut dyn Write,
) -> Result<u64, super::Checked> {
    writeln!(out).map_err(io)?;
    for line in invoices.source.describe() {
        writeln!(out, "{line}").map_err(io)?;
    }
    super::say_if_unsettled(&invoices.source, out)?;
    let Some((staged, source_error)) = crate::pass::inspect_invoices(&config.pass, link_use)
        .await
        .map_err(super::Checked::from)?
    else {
        return Ok(0);
    };
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
    let c = &staged.counts;
    writeln!(
        out,
        "\ninvoice export: read {}, would queue {}, rejected {}, skipped {} (unchanged), left out {}, changed upstream {}",
        c.read, c.new, c.rejected, staged.skipped, c.inactive, c.changed_upstream
    )
    .map_err(io)?;
    super::left_out_by_rule(&staged, &invoices.source, out).map_err(io)?;
    if !staged.rejections.is_empty() {
        writeln!(out, "invoices rejected, by reason:").map_err(io)?;
        let reasons = staged.rejections.iter().map(|(r, n)| (r.as_str(), *n));
        for line in advice::by_reason(reasons, &invoices.source) {
            writeln!(out, "  {}", crate::shown::shown(&line)).map_err(io)?;
        }
    }
    if let Some(e) = source_error {
        return Err(CommandError::failed(Exit::Config, e.to_string()).into());
    }
    Ok(c.rejected)
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
