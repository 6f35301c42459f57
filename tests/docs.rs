//! The man page and the completions in `packaging/` are what the CLI defines now: a flag added
//! to the CLI and not to them fails here (`cargo run --example docs` writes them again).

#[path = "../examples/support/docs.rs"]
mod docs;

#[test]
fn the_man_page_and_completions_match_the_cli() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging");
    for (path, text) in docs::render().expect("render") {
        let committed = std::fs::read(root.join(&path))
            .unwrap_or_else(|e| panic!("packaging/{}: {e}", path.display()));
        assert!(
            committed == text,
            "packaging/{} is behind the CLI: run `cargo run --example docs` and commit it",
            path.display()
        );
    }
}

#[test]
fn every_subcommand_and_flag_is_in_the_man_page_and_completions() {
    let files = docs::render().expect("render");
    let command = bluetape_sync::cli::command();
    let mut words: Vec<String> = Vec::new();
    for sub in command.get_subcommands() {
        words.push(sub.get_name().to_owned());
        for arg in sub.get_arguments() {
            if let Some(long) = arg.get_long() {
                words.push(format!("--{long}"));
            }
        }
    }
    assert!(words.contains(&"init".to_owned()) && words.contains(&"--fetch-missing".to_owned()));
    for (path, text) in &files {
        let text = String::from_utf8_lossy(text);
        // The man page escapes dashes; the completions name flags as they are typed.
        let text = text.replace("\\-", "-");
        for word in &words {
            assert!(
                text.contains(word.trim_start_matches('-')),
                "{} lacks {word}",
                path.display()
            );
        }
    }
}

/// The README lists each preset's leave-out rules exactly as the preset has them.
#[test]
fn the_readme_lists_every_preset_s_leave_out_rules() {
    use bluetape_sync::source::presets::Preset;
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README");
    let mut missing = Vec::new();
    for preset in Preset::ALL {
        let mut rules: Vec<String> = Vec::new();
        let mut add =
            |section: &str, rules_of: Vec<bluetape_sync::source::leave_out::PresetRule>| {
                for rule in rules_of {
                    rules.push(format!(
                        "`{}` ({}{})",
                        rule.rule.to_inline_toml(),
                        section,
                        rule.what
                    ));
                }
            };
        let json = preset.defaults().left_out;
        let csv = preset
            .defaults_for(Some(bluetape_sync::source::mapping::SourceFormat::Csv))
            .left_out;
        let csv_only: Vec<_> = (csv.iter())
            .filter(|c| !json.iter().any(|j| j.rule == c.rule))
            .cloned()
            .collect();
        add("", json);
        add("CSV export: ", csv_only);
        if let Some(invoices) = preset.invoice_defaults() {
            add("invoices: ", invoices.export.left_out);
        }
        if rules.is_empty() {
            rules.push("none".to_owned());
        }
        let row = format!("| `{}` | {} |", preset.name(), rules.join("<br>"));
        if !readme.contains(&row) {
            missing.push(row);
        }
    }
    assert!(
        missing.is_empty(),
        "README's table of the presets' rules lacks:\n{}",
        missing.join("\n")
    );
}
