//! `export`: customers in BlueTape with their ids and sign-up URLs, fetching missing URLs.

use std::io::Write;

use super::{
    CommandError, CsvCells, Format, cell, listing, open_store, open_store_to_write, redirected,
    tls_failed, unauthorized, wrong_endpoint,
};
use crate::client::{BlueTapeClient, SignUp};
use crate::commands::exit::Exit;
use crate::config::Config;
use crate::store::ExportEntry;

/// Created customers with BlueTape's ids; with `fetch_missing`, also those that were already
/// in BlueTape, asking BlueTape for each sign-up URL the store does not have.
pub async fn export(
    config: &Config,
    format: Format,
    fetch_missing: bool,
    csv: CsvCells,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    // Only fetching sign-up URLs writes the store.
    let opened = match fetch_missing {
        true => open_store_to_write(config)?,
        false => open_store(config)?,
    };
    let Some(store) = opened else {
        return write_export(format, &[], csv, out);
    };
    let mut rows = store.exported(&config.pass.source.name, fetch_missing)?;
    let mut unavailable = 0;
    if fetch_missing {
        let client = BlueTapeClient::new(&config.pass.api)
            .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
        let pacer = crate::pass::pace::Pacer::new(config.pass.api.max_requests_per_second);
        for row in rows.iter_mut().filter(|r| r.sign_up_url.is_none()) {
            pacer.ready().await;
            match client.sign_up(&row.id).await {
                SignUp::Url(url) => {
                    store.set_sign_up_url(&config.pass.source.name, &row.id, &url)?;
                    row.sign_up_url = Some(url);
                }
                SignUp::NotFound => {
                    tracing::warn!(id = %row.id, "BlueTape has no such customer (404): no sign-up URL");
                }
                SignUp::Unauthorized(reason) => return Err(unauthorized(&reason)),
                SignUp::WrongEndpoint(reason) => {
                    return Err(wrong_endpoint(&reason, &client));
                }
                SignUp::Redirected(reason) => return Err(redirected(&reason)),
                SignUp::TlsFailed(reason) => return Err(tls_failed(&reason)),
                SignUp::Unavailable(reason) => {
                    unavailable += 1;
                    tracing::warn!(id = %row.id, "no sign-up URL this time: {reason}");
                }
            }
        }
    }
    write_export(format, &rows, csv, out)?;
    if unavailable > 0 {
        return Err(CommandError::failed(
            Exit::Unavailable,
            format!(
                "{unavailable} sign-up URLs could not be fetched (BlueTape unavailable): run export --fetch-missing again later"
            ),
        ));
    }
    Ok(())
}

fn write_export(
    format: Format,
    rows: &[ExportEntry],
    csv: CsvCells,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let headers = [
        "id",
        "emailAddress",
        "blueTapeId",
        "signUpUrl",
        "created_at",
    ];
    let cells = |e: &ExportEntry| {
        vec![
            e.id.clone(),
            cell(e.email_address.as_ref()),
            cell(e.blue_tape_id.as_ref()),
            cell(e.sign_up_url.as_ref()),
            cell(e.done_at),
        ]
    };
    listing(out, format, &headers, rows, cells, None, csv)
}
