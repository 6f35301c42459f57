//! Invoices (SPEC §9): a raw invoice record becomes the typed body BlueTape receives (calendar
//! dates, exact amounts, lines) and what its status says of it, or a rejection naming the
//! field.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::amount::Amount;
use super::{Field, RawRecord, Rejection, required};
use crate::source::config::InvoicesConfig;
use crate::source::invoices::{Standing, StatusRules};
use crate::source::lines::LineSpecs;
use crate::source::timestamp::{TimestampParser, format_api};
use crate::source::{LineField, RawLine};

/// The body of `POST /integration/invoice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    pub id: String,
    pub invoice_number: String,
    pub customer_id: String,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub expiration_date: NaiveDate,
    pub sub_total: Amount,
    pub tax_amount: Amount,
    pub total_amount: Amount,
    pub amount_due: Amount,
    pub status: &'static str,
    pub source_modified_date: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<InvoiceLine>,
}

/// One line of an invoice's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    pub description: String,
    pub unit_amount: Amount,
    pub quantity: Amount,
    pub sub_total: Amount,
    pub tax_amount: Amount,
    pub total_amount: Amount,
}

impl Invoice {
    /// The status every invoice is created with.
    pub const PLACED: &str = "Placed";

    /// The body of `POST /integration/invoice`; the store keeps the invoice as this text.
    pub fn create_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// The body of `PUT /integration/invoice/{id}`: a stored create body less its `id`, its
    /// numbers exactly as stored.
    pub fn update_body(stored: &str) -> Result<String, serde_json::Error> {
        let mut body: serde_json::Map<String, serde_json::Value> = serde_json::from_str(stored)?;
        body.remove("id");
        serde_json::to_string(&body)
    }
}

/// An invoice as read: its body, and what its status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadInvoice {
    pub invoice: Invoice,
    pub standing: Standing,
}

/// Reads invoices with `[invoices]`' zone, date form, statuses and line fields.
#[derive(Debug, Clone)]
pub struct InvoiceReader {
    dates: TimestampParser,
    statuses: StatusRules,
    lines: Option<LineSpecs>,
}

impl InvoiceReader {
    pub fn new(config: &InvoicesConfig) -> Self {
        let source = &config.source;
        Self {
            dates: TimestampParser::new(source.timezone, source.datetime_format.clone()),
            statuses: config.statuses.clone(),
            lines: source.lines.clone(),
        }
    }

    pub fn timestamps(&self) -> &TimestampParser {
        &self.dates
    }

    /// The record's `sourceModifiedDate`, read first because it decides whether the record
    /// needs any more work.
    pub fn modified(&self, raw: &RawRecord) -> Result<DateTime<Utc>, Rejection> {
        super::modified(&self.dates, raw)
    }

    /// The invoice a record whose date has been read is.
    pub fn invoice(
        &self,
        raw: &RawRecord,
        modified: DateTime<Utc>,
    ) -> Result<ReadInvoice, Rejection> {
        super::values::check(raw)?;
        let text = |field| required(raw, field).map(str::to_owned);
        let date = |field| {
            let text = required(raw, field)?;
            self.dates
                .calendar_date(text)
                .map_err(|e| Rejection::new(field, e))
        };
        let amount = |field| amount(raw.get(field), field);
        let due_date = date(Field::DueDate)?;
        let total_amount = amount(Field::TotalAmount)?;
        let tax_amount = match raw.get(Field::TaxAmount) {
            Some(_) => amount(Field::TaxAmount)?,
            None => Amount::ZERO,
        };
        let sub_total = match raw.get(Field::SubTotal) {
            Some(_) => amount(Field::SubTotal)?,
            None => total_amount
                .checked_sub(tax_amount)
                .ok_or_else(|| Rejection::new(Field::SubTotal, "out of range"))?,
        };
        let amount_due = amount(Field::AmountDue)?;
        let invoice = Invoice {
            id: text(Field::Id)?,
            invoice_number: text(Field::InvoiceNumber)?,
            customer_id: text(Field::CustomerId)?,
            invoice_date: date(Field::InvoiceDate)?,
            due_date,
            expiration_date: match raw.get(Field::ExpirationDate) {
                Some(_) => date(Field::ExpirationDate)?,
                None => due_date,
            },
            sub_total,
            tax_amount,
            total_amount,
            amount_due,
            status: Invoice::PLACED,
            source_modified_date: format_api(modified),
            lines: self.lines(raw)?,
        };
        super::values::check_size(&invoice, raw)?;
        let standing = self
            .statuses
            .standing(raw.get(Field::Status), amount_due.is_zero());
        Ok(ReadInvoice { invoice, standing })
    }

    /// Whether the export says the invoice is void (or deleted), with its id: all a cancel
    /// needs.
    pub fn is_void(&self, raw: &RawRecord) -> bool {
        raw.get(Field::Id).is_some()
            && self.statuses.standing(raw.get(Field::Status), false) == Standing::Void
    }

    fn lines(&self, raw: &RawRecord) -> Result<Vec<InvoiceLine>, Rejection> {
        let Some(specs) = &self.lines else {
            return Ok(Vec::new());
        };
        let from_text;
        let lines = match raw.get(Field::Lines) {
            // A CSV column holds them as a JSON array.
            Some(text) if raw.lines.is_empty() => {
                from_text = specs
                    .read_text(text)
                    .map_err(|e| Rejection::new(Field::Lines, e))?;
                &from_text
            }
            _ => &raw.lines,
        };
        let inclusive = raw
            .get(Field::LineAmounts)
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("inclusive"));
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                super::values::check_line(line)
                    .map_err(|(field, problem)| (field, problem.to_owned()))
                    .and_then(|()| read_line(line, inclusive))
                    .map_err(|(field, problem)| super::values::line_rejection(i, field, problem))
            })
            .collect()
    }
}

fn amount(text: Option<&str>, field: Field) -> Result<Amount, Rejection> {
    let text = text.ok_or_else(|| Rejection::new(field, Rejection::MISSING))?;
    text.parse().map_err(|e| Rejection::new(field, e))
}

/// One line: its amounts as mapped, or worked out from the line's `amount` (with or without
/// tax, as the invoice says) and the other amounts; a line without a quantity is one of its
/// sub-total.
fn read_line(line: &RawLine, inclusive: bool) -> Result<InvoiceLine, (LineField, String)> {
    let read = |field: LineField| -> Result<Option<Amount>, (LineField, String)> {
        line.get(field)
            .map(|t| t.parse::<Amount>().map_err(|e| (field, e.to_string())))
            .transpose()
    };
    let overflow = |field| (field, "out of range".to_owned());
    let tax_amount = read(LineField::TaxAmount)?.unwrap_or(Amount::ZERO);
    let (mut sub_total, mut total_amount) =
        (read(LineField::SubTotal)?, read(LineField::TotalAmount)?);
    if let Some(amount) = read(LineField::Amount)? {
        if inclusive {
            total_amount = total_amount.or(Some(amount));
        } else {
            sub_total = sub_total.or(Some(amount));
        }
    }
    let (sub_total, total_amount) = match (sub_total, total_amount) {
        (Some(sub), Some(total)) => (sub, total),
        (Some(sub), None) => (
            sub,
            sub.checked_add(tax_amount)
                .ok_or_else(|| overflow(LineField::TotalAmount))?,
        ),
        (None, Some(total)) => (
            total
                .checked_sub(tax_amount)
                .ok_or_else(|| overflow(LineField::SubTotal))?,
            total,
        ),
        (None, None) => return Err((LineField::SubTotal, Rejection::MISSING.to_owned())),
    };
    let quantity = read(LineField::Quantity)?;
    let unit_amount = match (read(LineField::UnitAmount)?, quantity) {
        (Some(unit), _) => unit,
        (None, None) => sub_total,
        (None, Some(q)) if q == Amount::ONE => sub_total,
        (None, Some(_)) => return Err((LineField::UnitAmount, Rejection::MISSING.to_owned())),
    };
    Ok(InvoiceLine {
        description: line
            .get(LineField::Description)
            .unwrap_or_default()
            .to_owned(),
        unit_amount,
        quantity: quantity.unwrap_or(Amount::ONE),
        sub_total,
        tax_amount,
        total_amount,
    })
}

#[cfg(test)]
mod tests;
