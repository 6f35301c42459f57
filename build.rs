//! Embeds `migrations/*.sql` in the binary, in file-name order.

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
    Ok(())
}
