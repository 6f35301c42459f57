//! The man page and the shell completions, generated from the CLI definition: what
//! `examples/docs.rs` writes to `packaging/` and what `tests/docs.rs` holds them to.

use std::path::PathBuf;

use clap_complete::Shell;

/// A file under `packaging/` and its text.
pub type Rendered = (PathBuf, Vec<u8>);

/// Each file under `packaging/`, with its text as the CLI defines it now.
pub fn render() -> Result<Vec<Rendered>, Box<dyn std::error::Error>> {
    let command = bluetape_sync::cli::command();
    let mut files = Vec::new();
    let mut man = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut man)?;
    man.extend_from_slice(commands_section(&command).as_bytes());
    files.push((PathBuf::from("man/bluetape-sync.1"), man));
    for (shell, name) in [
        (Shell::Bash, "bash/bluetape-sync"),
        (Shell::Zsh, "zsh/_bluetape-sync"),
        (Shell::Fish, "fish/bluetape-sync.fish"),
    ] {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut command.clone(), "bluetape-sync", &mut text);
        files.push((PathBuf::from("completions").join(name), text));
    }
    Ok(files)
}

/// Each subcommand with its options: clap_mangen's page names the subcommands only.
fn commands_section(command: &clap::Command) -> String {
    let roff = |text: &str| text.replace('\\', "\\e").replace('-', "\\-");
    let mut out = String::from(".SH COMMANDS\n");
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        out.push_str(&format!(
            ".SS \"bluetape\\-sync {}\"\n",
            roff(sub.get_name())
        ));
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            out.push_str(&format!("{}\n", roff(&about.to_string())));
        }
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let name = match (arg.get_long(), arg.get_value_names()) {
                (Some(long), _) => format!("\\fB\\-\\-{}\\fR", roff(long)),
                (None, Some(names)) => format!("\\fI{}\\fR", roff(names[0].as_ref())),
                (None, None) => format!("\\fI{}\\fR", roff(arg.get_id().as_str())),
            };
            out.push_str(&format!(".TP\n{name}\n"));
            if let Some(help) = arg.get_long_help().or(arg.get_help()) {
                out.push_str(&format!("{}\n", roff(&help.to_string())));
            }
        }
    }
    out
}
