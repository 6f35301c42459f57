//! Writes the man page `bluetape-sync(1)` and the bash, zsh and fish completions to
//! `packaging/` from the CLI definition: `cargo run --example docs`. `tests/docs.rs` fails when
//! the committed files fall behind the CLI.

#[path = "support/docs.rs"]
mod docs;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging");
    for (path, text) in docs::render()? {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
