//! What an invoice export's statuses say (SPEC §9): which invoices are open, drafts, paid or
//! void. The export itself is read as the customer export is (`[invoices]` has `[source]`'s
//! keys, resolved for [`Kind::Invoice`](super::Kind), in [`super::config`]).

pub use super::fields::Standing;

/// How an invoice's mapped `status` (and what is due) tell its [`Standing`]. Statuses are
/// compared without regard to case or surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRules {
    pub draft: Vec<String>,
    pub void: Vec<String>,
    pub paid: Vec<String>,
    /// A status beginning with this is void (QuickBooks' "Voided" note).
    pub void_prefix: Option<&'static str>,
    /// Nothing due means paid (SPEC §12: true for every export).
    pub paid_when_nothing_due: bool,
}

impl Default for StatusRules {
    /// `draft_statuses`, `void_statuses` and `paid_statuses` as SPEC §9 and §12 set them: an
    /// invoice with nothing due is paid, whatever the export.
    fn default() -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            draft: owned(&["draft"]),
            void: owned(&["void", "voided", "deleted", "cancelled", "canceled"]),
            paid: owned(&["paid", "paid in full", "closed"]),
            void_prefix: None,
            paid_when_nothing_due: true,
        }
    }
}

impl StatusRules {
    /// The standing of an invoice with this status, `nothing_due` when its amount due is zero.
    /// Void wins over draft, draft over paid.
    pub fn standing(&self, status: Option<&str>, nothing_due: bool) -> Standing {
        let status = status.map(str::trim).unwrap_or("");
        let listed = |list: &[String]| list.iter().any(|s| s.trim().eq_ignore_ascii_case(status));
        let prefixed = self.void_prefix.is_some_and(|prefix| {
            status
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        });
        if !status.is_empty() && (listed(&self.void) || prefixed) {
            Standing::Void
        } else if !status.is_empty() && listed(&self.draft) {
            Standing::Draft
        } else if (!status.is_empty() && listed(&self.paid))
            || (self.paid_when_nothing_due && nothing_due)
        {
            Standing::Paid
        } else {
            Standing::Open
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_statuses_are_spec_s() {
        let rules = StatusRules::default();
        for (status, standing) in [
            (Some("Draft"), Standing::Draft),
            (Some(" VOIDED "), Standing::Void),
            (Some("canceled"), Standing::Void),
            (Some("Paid In Full"), Standing::Paid),
            (Some("closed"), Standing::Paid),
            (Some("Sent"), Standing::Open),
            (None, Standing::Open),
        ] {
            assert_eq!(rules.standing(status, false), standing, "{status:?}");
        }
        // Nothing due: paid elsewhere, whatever the status says.
        assert_eq!(rules.standing(Some("Open"), true), Standing::Paid);
        assert_eq!(rules.standing(None, true), Standing::Paid);
    }

    #[test]
    fn quickbooks_void_is_a_note_and_paid_is_nothing_due() {
        let rules = crate::source::presets::Preset::QuickbooksOnline
            .invoice_defaults()
            .expect("invoices")
            .statuses;
        assert_eq!(
            rules.standing(Some("Voided - 2024-03-01"), false),
            Standing::Void
        );
        assert_eq!(rules.standing(Some("Thanks"), true), Standing::Paid);
        assert_eq!(rules.standing(None, false), Standing::Open);
        assert_eq!(rules.standing(Some("Void"), false), Standing::Open);
    }

    #[test]
    fn xero_statuses() {
        let rules = crate::source::presets::Preset::Xero
            .invoice_defaults()
            .expect("invoices")
            .statuses;
        for (status, standing) in [
            ("AUTHORISED", Standing::Open),
            ("DRAFT", Standing::Draft),
            ("SUBMITTED", Standing::Draft),
            ("PAID", Standing::Paid),
            ("VOIDED", Standing::Void),
            ("DELETED", Standing::Void),
        ] {
            assert_eq!(rules.standing(Some(status), false), standing, "{status}");
        }
    }
}
