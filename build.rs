//! Embeds `migrations/*.sql` in the binary, in file-name order, and the phone library's
//! patterns for calling code 1 (so that reading a North American number does not load the
//! library's metadata for every country: about 100 ms a process).

use std::fmt::Write as _;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=migrations");
    let mut files: Vec<_> = std::fs::read_dir("migrations")?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("bad migration name")?;
        let absolute = std::fs::canonicalize(&file)?;
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            absolute.display()
        )?;
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR")?).join("migrations.rs");
    std::fs::write(dest, out)?;
    nanp_patterns()
}

/// `nanp.rs`: the countries of calling code 1 and, for each in the library's order, its
/// leading digits and number patterns, as `phone.rs` reads them.
fn nanp_patterns() -> Result<(), Box<dyn std::error::Error>> {
    use phonenumber::metadata::{DATABASE, Descriptor};
    let pattern = |d: &Descriptor| {
        format!(
            "({:?}, &{:?})",
            d.national_number().as_str(),
            d.possible_length()
        )
    };
    let mut out = String::from("&[\n");
    for id in DATABASE
        .region(&1u16)
        .ok_or("no regions for calling code 1")?
    {
        let meta = DATABASE.by_id(id).ok_or("a region without metadata")?;
        let d = meta.descriptors();
        let types: Vec<String> = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ]
        .into_iter()
        .flatten()
        .map(pattern)
        .collect();
        writeln!(
            out,
            "    RegionPatterns {{ country: {id:?}, leading: {:?}, general: {}, types: &[{}] }},",
            meta.leading_digits().map(|l| l.as_str()),
            pattern(d.general()),
            types.join(", ")
        )?;
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR")?).join("nanp.rs");
    std::fs::write(dest, out)?;
    Ok(())
}
