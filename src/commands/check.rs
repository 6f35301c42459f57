//! `check [--online]`: every config problem at once, what a pass would do with the export,
//! and, online, whether BlueTape takes the key. Changes nothing.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use super::{
    CommandError, advice, io, pass_failed, redirected, table, tls_failed, unauthorized,
    wrong_endpoint,
};
use crate::client::{BlueTapeClient, SignUp};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::pass::Staged;
use crate::record::Customer;
use crate::shown::shown;
use crate::source::Kind;
use crate::source::config::SourceConfig;

mod api;
mod invoices;

/// `j***@example.com`: the first character and the domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// `+1******7890`: the country code's first digit and the last four.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}

/// Checks the config (every problem at once), reads the export and says what a pass would
/// do; with `online`, asks BlueTape whether it accepts the key. Changes nothing.
pub async fn check(
    config_path: &Path,
    online: bool,
    out: &mut dyn Write,
) -> Result<Exit, CommandError> {
    let config = match Config::check(config_path) {
        Ok(config) => config,
        Err(problems) => {
            for problem in &problems {
                writeln!(out, "problem: {}", shown(&problem.to_string())).map_err(io)?;
            }
            return Err(CommandError::failed(
                Exit::Config,
                format!(
                    "{} problems in the configuration (listed above)",
                    problems.len()
                ),
            ));
        }
    };
    writeln!(out, "config {}: ok", config_path.display()).map_err(io)?;
    super::name_the_store(&config.pass.store_path);
    for line in config.pass.source.describe() {
        writeln!(out, "{line}").map_err(io)?;
    }
    let reading = api::Reading::of(&config, online, out)?;
    let rejected = match reading.link_use() {
        Some(link_use) => match exports(&config, link_use, reading.samples(), out).await {
            Err(Checked::Held(e)) => {
                writeln!(out, "online: not tested: {e}").map_err(io)?;
                0
            }
            Err(Checked::Failed(e)) => return Err(e),
            Ok(rejected) => rejected,
        },
        None => 0,
    };
    reading.finish(&config);
    if online {
        let client = BlueTapeClient::new(&config.pass.api)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        let probe = "bluetape-sync-check";
        match client.sign_up(probe).await {
            SignUp::NotFound | SignUp::Url(_) => writeln!(
                out,
                "online: BlueTape accepted the key for account {} ({})",
                config.pass.api.account_id,
                client.create_url()
            )
            .map_err(io)?,
            SignUp::Unauthorized(reason) => return Err(unauthorized(&reason)),
            SignUp::WrongEndpoint(reason) => return Err(wrong_endpoint(&reason, &client)),
            SignUp::Redirected(reason) => return Err(redirected(&reason)),
            SignUp::TlsFailed(reason) => return Err(tls_failed(&reason)),
            SignUp::Unavailable(reason) => {
                return Err(CommandError::failed(
                    Exit::Unavailable,
                    format!("BlueTape did not answer usefully ({reason}): try again later"),
                ));
            }
        }
    }
    Ok(if rejected > 0 {
        Exit::Rejected
    } else {
        Exit::Ok
    })
}

/// Why `check` could not say what a pass would do with the exports.
enum Checked {
    /// Beside the running daemon, whose access token is expired or refused: said, not failed.
    Held(crate::pass::PassError),
    Failed(CommandError),
}

impl From<CommandError> for Checked {
    fn from(e: CommandError) -> Self {
        Checked::Failed(e)
    }
}

impl From<crate::pass::PassError> for Checked {
    fn from(e: crate::pass::PassError) -> Self {
        match api::held(&e) {
            true => Checked::Held(e),
            false => Checked::Failed(pass_failed(e)),
        }
    }
}

/// Reads the exports (a sample of an API's), lane by lane, and says what a pass would do with
/// them; the number of rejections.
async fn exports(
    config: &Config,
    link_use: crate::pass::LinkUse,
    sample: bool,
    out: &mut dyn Write,
) -> Result<u64, Checked> {
    let mut rejected = 0;
    // The records the lanes before would send (an invoice's customer goes first).
    let mut sent_before = HashSet::new();
    for export in config.pass.exports() {
        if export.kind != Kind::Customer {
            writeln!(out).map_err(io)?;
            for line in export.describe() {
                writeln!(out, "{line}").map_err(io)?;
            }
        }
        say_if_unsettled(export, out)?;
        let inspected = crate::pass::inspect(&config.pass, export.kind, link_use).await;
        let Some((staged, source_error)) = inspected.map_err(Checked::from)? else {
            continue;
        };
        match export.kind {
            Kind::Customer => customers(&staged, sample, out).map_err(io)?,
            Kind::Invoice => invoices::samples(config, &staged, &sent_before, out)?,
        }
        counts(export, &staged, out).map_err(io)?;
        if let Some(e) = source_error {
            return Err(CommandError::failed(Exit::Config, e.to_string()).into());
        }
        rejected += staged.counts.rejected;
        sent_before.extend(staged.would_send_ids);
    }
    Ok(rejected)
}

/// The first customers as they would be sent, contact details masked.
fn customers(staged: &Staged, sample: bool, out: &mut dyn Write) -> std::io::Result<()> {
    if !staged.samples.is_empty() {
        writeln!(
            out,
            "\nfirst records as they would be sent (contact details masked):"
        )?;
        let rows: Vec<Vec<String>> = staged
            .samples
            .iter()
            .filter_map(|body| Customer::from_stored(body).ok())
            .map(|c| {
                vec![
                    c.id,
                    format!("{} {}", c.first_name, c.last_name),
                    mask_email(&c.email_address),
                    mask_phone(&c.cell_phone_number),
                    c.source_modified_date,
                    c.company_id.unwrap_or_default(),
                ]
            })
            .collect();
        table(
            out,
            &[
                "id",
                "name",
                "emailAddress",
                "cellPhoneNumber",
                "sourceModifiedDate",
                "companyId",
            ],
            &rows,
        )?;
    }
    let what = match sample {
        true => "a sample of the first records the API lists",
        false => "export",
    };
    let c = &staged.counts;
    writeln!(
        out,
        "\n{what}: read {}, would queue {}, rejected {}, skipped {} (unchanged), inactive {}, changed upstream {}",
        c.read, c.new, c.rejected, staged.skipped, c.inactive, c.changed_upstream
    )
}

/// A lane's leave-out rules and rejections by reason; a later lane's counts line too.
fn counts(export: &SourceConfig, staged: &Staged, out: &mut dyn Write) -> std::io::Result<()> {
    let later = export.kind != Kind::Customer;
    if later {
        let c = &staged.counts;
        writeln!(
            out,
            "\n{} export: read {}, would queue {}, rejected {}, skipped {} (unchanged), left out {}, changed upstream {}",
            export.kind, c.read, c.new, c.rejected, staged.skipped, c.inactive, c.changed_upstream
        )?;
    }
    left_out_by_rule(staged, export, out)?;
    if !staged.rejections.is_empty() {
        match later {
            true => writeln!(out, "{} rejected, by reason:", export.kind.plural())?,
            false => writeln!(out, "rejected, by reason:")?,
        }
        let reasons = staged.rejections.iter().map(|(r, n)| (r.as_str(), *n));
        for line in advice::by_reason(reasons, export) {
            writeln!(out, "  {}", shown(&line))?;
        }
    }
    Ok(())
}

/// Says that the export is still being written, before the read waits for it to settle.
pub(crate) fn say_if_unsettled(
    source: &crate::source::config::SourceConfig,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let Ok(discovery) = crate::source::discover(source, std::time::SystemTime::now()) else {
        return Ok(());
    };
    if let Some(left) = discovery.settles_in {
        writeln!(
            out,
            "export changed within {}.settle ({:?}): waiting for it to settle ({:.1}s)",
            source.kind.section(),
            source.settle,
            left.as_secs_f64()
        )
        .map_err(io)?;
    }
    Ok(())
}

/// How many records each leave-out rule left out, every rule listed (one that leaves out
/// nothing may be written wrong).
fn left_out_by_rule(
    staged: &Staged,
    source: &SourceConfig,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if source.leave_out.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "left out, by rule ({}.leave_out):",
        source.kind.section()
    )?;
    for (n, rule) in source.leave_out.iter().enumerate() {
        let count = staged.left_out.get(n).copied().unwrap_or(0);
        writeln!(out, "  {count:>6}  {}", shown(&rule.label()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_just_enough_to_recognise() {
        assert_eq!(mask_email("jane@example.com"), "j***@example.com");
        assert_eq!(mask_email("nope"), "***");
        assert_eq!(mask_phone("+11234567890"), "+1******7890");
        assert_eq!(mask_phone("+447911123456"), "+4*******3456");
    }
}
