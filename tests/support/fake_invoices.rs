//! The fake's invoice calls (SPEC §9): `POST {prefix}/integration/invoice` (201 with a
//! `blueTapeId`, or a bare 2xx when told; 409 `invoice_already_exist`, or 400 with that code
//! when told; 400 `customer_does_not_exist` / `customer_of_invoice_is_draft` for a customer it
//! has not created or holds as a draft; 400 for a body without its fields),
//! `PUT .../invoice/{id}` (202; 404 `Invoice not exists.`; 400 for a cancelled invoice or one
//! told to refuse) and `PUT .../invoice/{id}/cancel` (200; 409 `Invoice already canceled.`;
//! 404).

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::{FakeBlueTape, PREFIX, State};

/// What the fake holds of invoices, and how it is told to answer.
#[derive(Default)]
pub(super) struct Invoices {
    known: HashMap<String, Known>,
    creations: HashMap<String, u32>,
    updates: HashMap<String, u32>,
    cancels: HashMap<String, u32>,
    draft_customers: HashSet<String>,
    refuse_updates: HashMap<String, String>,
    /// Answer a create with this status and no body, instead of 201 with a `blueTapeId`.
    bare_success: Option<u16>,
    /// Answer a duplicate 400 with the code `invoice_already_exist`, instead of 409.
    duplicate_as_400: bool,
}

struct Known {
    /// The last body accepted (a create's, or an update's with the id put back).
    body: Value,
    cancelled: bool,
}

fn error(code: &str, reason: &str) -> String {
    json!({"code": code, "reason": reason}).to_string()
}

/// The answer to an invoice call, or `None` for a path that is not one.
pub(super) fn answer(
    s: &mut State,
    method: &str,
    path: &str,
    headers: &HashMap<String, String>,
    body: &Value,
) -> Option<(u16, String)> {
    let rest = path.strip_prefix(&format!("{PREFIX}/integration/invoice"))?;
    if let Err(refused) = s.authorise(headers) {
        return Some(refused);
    }
    let parts: Vec<&str> = rest.split('/').collect();
    Some(match (method, parts.as_slice()) {
        ("POST", [""]) => create(s, body),
        ("PUT", ["", id]) if !id.is_empty() => update(s, id, body),
        ("PUT", ["", id, "cancel"]) if !id.is_empty() => cancel(s, id),
        _ => (404, error("404", "Not found.")),
    })
}

fn create(s: &mut State, body: &Value) -> (u16, String) {
    let text = |f: &str| {
        body.get(f)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let strings = [
        "id",
        "invoiceNumber",
        "customerId",
        "invoiceDate",
        "dueDate",
        "expirationDate",
        "status",
        "sourceModifiedDate",
    ];
    let numbers = ["subTotal", "taxAmount", "totalAmount", "amountDue"];
    if strings.iter().any(|f| text(f).is_none())
        || numbers
            .iter()
            .any(|f| !body.get(*f).is_some_and(Value::is_number))
    {
        return (400, error("400", "Invalid request."));
    }
    let id = text("id").unwrap_or_default().to_owned();
    let customer = text("customerId").unwrap_or_default();
    if !s.created.contains(customer) {
        return (
            400,
            error("customer_does_not_exist", "Customer does not exist."),
        );
    }
    if s.invoices.draft_customers.contains(customer) {
        return (
            400,
            error(
                "customer_of_invoice_is_draft",
                "Customer of invoice is draft.",
            ),
        );
    }
    if s.invoices.known.contains_key(&id) {
        let status = if s.invoices.duplicate_as_400 {
            400
        } else {
            409
        };
        return (
            status,
            error("invoice_already_exist", "Invoice already exists."),
        );
    }
    // A long benchmark keeps no bodies, so that it measures the client's memory.
    let body = match s.forget_contents {
        true => Value::Null,
        false => body.clone(),
    };
    s.invoices.known.insert(
        id.clone(),
        Known {
            body,
            cancelled: false,
        },
    );
    *s.invoices.creations.entry(id.clone()).or_default() += 1;
    match s.invoices.bare_success {
        Some(status) => (status, String::new()),
        None => (201, json!({"blueTapeId": format!("inv-{id}")}).to_string()),
    }
}

fn update(s: &mut State, id: &str, body: &Value) -> (u16, String) {
    let refusal = s.invoices.refuse_updates.get(id).cloned();
    let Some(known) = s.invoices.known.get_mut(id) else {
        return (404, error("404", "Invoice not exists."));
    };
    if known.cancelled {
        return (400, error("400", "Invoice is canceled."));
    }
    if let Some(reason) = refusal {
        return (400, error("400", &reason));
    }
    let mut stored = body.clone();
    if let Some(object) = stored.as_object_mut() {
        object.insert("id".into(), id.into());
    }
    known.body = stored;
    *s.invoices.updates.entry(id.to_owned()).or_default() += 1;
    (202, json!({"blueTapeId": format!("inv-{id}")}).to_string())
}

fn cancel(s: &mut State, id: &str) -> (u16, String) {
    let Some(known) = s.invoices.known.get_mut(id) else {
        return (404, error("404", "Invoice not exists."));
    };
    if known.cancelled {
        return (409, error("409", "Invoice already canceled."));
    }
    known.cancelled = true;
    *s.invoices.cancels.entry(id.to_owned()).or_default() += 1;
    (200, "{}".into())
}

impl FakeBlueTape {
    /// How many times the fake created invoice `id`.
    pub fn invoice_creations(&self, id: &str) -> u32 {
        self.state()
            .invoices
            .creations
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// How many creates of invoice `id` reached the fake, whatever it answered.
    pub fn invoice_posts(&self, id: &str) -> usize {
        self.state()
            .received
            .iter()
            .filter(|r| r.method == "POST" && !r.is_customer() && r.id() == Some(id))
            .count()
    }

    /// How many updates of invoice `id` the fake accepted.
    pub fn invoice_updates(&self, id: &str) -> u32 {
        self.state().invoices.updates.get(id).copied().unwrap_or(0)
    }

    /// How many times the fake cancelled invoice `id` (at most once: a second is a 409).
    pub fn invoice_cancels(&self, id: &str) -> u32 {
        self.state().invoices.cancels.get(id).copied().unwrap_or(0)
    }

    /// The body the fake holds for invoice `id`, with its id.
    pub fn invoice(&self, id: &str) -> Option<Value> {
        self.state().invoices.known.get(id).map(|k| k.body.clone())
    }

    /// Every request about invoices, in order.
    pub fn invoice_requests(&self) -> Vec<super::Received> {
        self.state()
            .received
            .iter()
            .filter(|r| r.path.contains("/integration/invoice"))
            .cloned()
            .collect()
    }

    /// Forgets invoice `id`, as if it had been deleted in BlueTape: an update gets 404.
    pub fn delete_invoice(&self, id: &str) {
        self.state().invoices.known.remove(id);
    }

    /// Holds customer `id` as a draft: its invoices are answered `customer_of_invoice_is_draft`.
    pub fn set_customer_draft(&self, id: &str, draft: bool) {
        let drafts = &mut self.state().invoices.draft_customers;
        if draft {
            drafts.insert(id.to_owned());
        } else {
            drafts.remove(id);
        }
    }

    /// Refuses every update of invoice `id` with a 400 and `reason`.
    pub fn refuse_invoice_update(&self, id: &str, reason: &str) {
        self.state()
            .invoices
            .refuse_updates
            .insert(id.to_owned(), reason.to_owned());
    }

    /// Answers invoice creates with `status` and no body (`None`: 201 with a `blueTapeId`).
    pub fn answer_invoice_creates_bare(&self, status: Option<u16>) {
        self.state().invoices.bare_success = status;
    }

    /// Answers a duplicate invoice 400 `invoice_already_exist` instead of 409.
    pub fn answer_invoice_duplicates_with_400(&self, yes: bool) {
        self.state().invoices.duplicate_as_400 = yes;
    }
}
