//! Synthetic exports for measuring: valid customers with distinct ids and increasing dates.

use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `rows` synthetic customers to `path` in `format`.
pub fn write(format: &str, rows: u64, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let base = 1_700_000_000_000i64;
    let date = |i: u64| {
        chrono::DateTime::from_timestamp_millis(base + i as i64 * 1000)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    // Numbers across area codes, in the forms exports use; one in twenty with a leading 1,
    // which only the full phone library reads.
    let phone = |i: u64| {
        const AREAS: [u32; 10] = [212, 310, 415, 617, 626, 702, 713, 801, 905, 604];
        let area = AREAS[(i % 10) as usize];
        let exchange = 200 + (i / 10 * 7) % 800;
        let line = i % 10_000;
        match i % 20 {
            0 => format!("1 {area} {exchange} {line:04}"),
            1..=9 => format!("({area}) {exchange}-{line:04}"),
            10..=14 => format!("{area}-{exchange}-{line:04}"),
            15..=17 => format!("+1 {area} {exchange} {line:04}"),
            _ => format!("{area}.{exchange}.{line:04}"),
        }
    };
    match format {
        "csv" => {
            writeln!(
                out,
                "id,firstName,lastName,emailAddress,cellPhoneNumber,sourceModifiedDate,companyId,\
                 companyName,billingAddress"
            )?;
            // About 150 bytes a row, with columns the sync does not map, as real exports have.
            for i in 0..rows {
                writeln!(
                    out,
                    "C{i:08},First{i},Last{i},user{i}@example.com,{},{},,Company {} Holdings,\
                     \"{} Main Street, Springfield\"",
                    phone(i),
                    date(i),
                    i % 50_000,
                    i % 9_999 + 1
                )?;
            }
        }
        "ndjson" => {
            for i in 0..rows {
                writeln!(
                    out,
                    r#"{{"id":"C{i:08}","firstName":"First{i}","lastName":"Last{i}","emailAddress":"user{i}@example.com","cellPhoneNumber":"{}","sourceModifiedDate":"{}"}}"#,
                    phone(i),
                    date(i)
                )?;
            }
        }
        "quickbooks-online" => {
            write!(out, r#"{{"QueryResponse":{{"Customer":["#)?;
            for i in 0..rows {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write!(
                    out,
                    r#"{{"Taxable":false,"BillAddr":{{"Id":"{i}","Line1":"{i} Finch Street","City":"Bayshore","CountrySubDivisionCode":"CA","PostalCode":"94326","Lat":"37.4530553","Long":"-122.1178261"}},"ShipAddr":{{"Id":"{i}","Line1":"{i} Finch Street","City":"Bayshore","CountrySubDivisionCode":"CA","PostalCode":"94326"}},"Job":false,"BillWithParent":false,"Balance":{i}.0,"BalanceWithJobs":{i}.0,"CurrencyRef":{{"value":"USD","name":"United States Dollar"}},"PreferredDeliveryMethod":"Print","IsProject":false,"ClientEntityId":"0","domain":"QBO","sparse":false,"Id":"{i}","SyncToken":"0","MetaData":{{"CreateTime":"{}","LastUpdatedTime":"{}"}},"GivenName":"First{i}","FamilyName":"Last{i}","FullyQualifiedName":"Company {i}","CompanyName":"Company {i}","DisplayName":"Company {i}","PrintOnCheckName":"Company {i}","Active":true,"V4IDPseudonym":"002098b1c6c2f3e4a9b0c4d5e6f7a8b9c0d1e2","PrimaryPhone":{{"FreeFormNumber":"{}"}},"Mobile":{{"FreeFormNumber":"{}"}},"PrimaryEmailAddr":{{"Address":"user{i}@example.com"}},"Notes":"Synthetic customer number {i} for measuring bluetape-sync; padding to the size of a real record."}}"#,
                    date(i),
                    date(i),
                    phone(i),
                    phone(i)
                )?;
            }
            write!(
                out,
                r#"],"startPosition":1,"maxResults":{rows}}},"time":"{}"}}"#,
                date(rows)
            )?;
        }
        other => return Err(format!("unknown format {other}").into()),
    }
    out.flush()?;
    Ok(())
}

/// Writes `rows` synthetic invoices to `path` as CSV, three to a customer of [`write`]'s
/// (`C00000000`..), with amounts in cents, half of them with a line in a JSON column, modified
/// after every customer (and before now: a date in the future holds the watermark back).
#[allow(dead_code)] // only the harnesses that measure invoices write them
pub fn write_invoices(rows: u64, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let base = 1_702_000_000_000i64;
    writeln!(
        out,
        "id,invoiceNumber,customerId,invoiceDate,dueDate,subTotal,taxAmount,totalAmount,\
         amountDue,sourceModifiedDate,status,lines"
    )?;
    for i in 0..rows {
        let date = chrono::DateTime::from_timestamp_millis(base + i as i64 * 1000)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let cents = 1_000 + (i * 7_919) % 1_000_000;
        let (sub, tax) = (cents / 100, cents % 100);
        let total = format!("{}.{:02}", sub + 1, tax);
        let lines = match i % 2 {
            0 => format!(
                "\"[{{\"\"description\"\": \"\"Item {i}\"\", \"\"unitAmount\"\": \"\"{sub}.{tax:02}\"\", \
                 \"\"quantity\"\": \"\"1\"\", \"\"amount\"\": \"\"{sub}.{tax:02}\"\"}}]\""
            ),
            _ => String::new(),
        };
        writeln!(
            out,
            "V{i:08},INV-{i},C{:08},2024-03-01,2024-03-31,{sub}.{tax:02},1.00,{total},{total},\
             {date},open,{lines}",
            i / 3
        )?;
    }
    out.flush()?;
    Ok(())
}
