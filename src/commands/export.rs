//! `export`: customers in BlueTape with their ids and sign-up URLs, fetching missing URLs.

use std::io::Write;

use serde::Serialize;

use super::{
    CommandError, Format, csv_out, io, open_store, redirected, rfc3339, table, unauthorized,
    wrong_endpoint,
};
use crate::cli::exit::Exit;
use crate::client::{BlueTapeClient, SignUp};
use crate::config::Config;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exported {
    pub id: String,
    pub email_address: Option<String>,
    pub blue_tape_id: Option<String>,
    pub sign_up_url: Option<String>,
    #[serde(rename = "created_at")]
    pub created_at: Option<String>,
    pub state: String,
}

/// Created customers with BlueTape's ids; with `fetch_missing`, also those that were already
/// in BlueTape, asking BlueTape for each sign-up URL the store does not have.
pub async fn export(
    config: &Config,
    format: Format,
    fetch_missing: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let Some(store) = open_store(config)? else {
        return write_export(format, &[], out);
    };
    let mut rows: Vec<Exported> = store
        .exported(&config.pass.source.name, fetch_missing)?
        .into_iter()
        .map(|e| Exported {
            id: e.id,
            email_address: e.email_address,
            blue_tape_id: e.blue_tape_id,
            sign_up_url: e.sign_up_url,
            created_at: rfc3339(e.done_at_ms),
            state: e.state.as_str().to_owned(),
        })
        .collect();
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
                SignUp::Unavailable(reason) => {
                    unavailable += 1;
                    tracing::warn!(id = %row.id, "no sign-up URL this time: {reason}");
                }
            }
        }
    }
    write_export(format, &rows, out)?;
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
    rows: &[Exported],
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let headers = [
        "id",
        "emailAddress",
        "blueTapeId",
        "signUpUrl",
        "created_at",
    ];
    let cells = |e: &Exported| {
        vec![
            e.id.clone(),
            e.email_address.clone().unwrap_or_default(),
            e.blue_tape_id.clone().unwrap_or_default(),
            e.sign_up_url.clone().unwrap_or_default(),
            e.created_at.clone().unwrap_or_default(),
        ]
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, rows)
                .map_err(|e| CommandError::failed(Exit::Other, e.to_string()))?;
            writeln!(out).map_err(io)
        }
        Format::Csv => csv_out(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()),
        Format::Table => {
            table(out, &headers, &rows.iter().map(cells).collect::<Vec<_>>()).map_err(io)
        }
    }
}
