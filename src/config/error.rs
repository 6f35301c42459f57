//! A configuration problem, as one line naming the file, the key and the variable that set it;
//! a value from the environment is never shown (it may be a secret in the wrong variable).

use std::fmt;
use std::path::Path;

use super::ENV_PREFIX;
use crate::setting::SettingError;

/// A configuration problem: names the file and the key, and says what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    message: String,
    /// The dotted key at fault, when there is one.
    pub(super) key: Option<String>,
}

impl ConfigError {
    pub(super) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            key: None,
        }
    }

    /// A component's setting problem, in the file it came from.
    pub(super) fn setting(file: &Path, error: SettingError) -> Self {
        Self::at_key(file, &error.key, error.problem)
    }

    pub(super) fn at_key(file: &Path, key: &str, problem: impl fmt::Display) -> Self {
        let mut problem = problem.to_string();
        let origin = match env_var_for(key) {
            Some(var) => match std::env::var(&var) {
                Ok(value) => {
                    // The variable's value is never echoed: it may be a secret set in the
                    // wrong variable.
                    problem = hide(&problem, value.trim());
                    format!(" (set by ${var})")
                }
                Err(_) => String::new(),
            },
            None => String::new(),
        };
        Self {
            message: format!("config {}: key `{key}`{origin}: {problem}", file.display()),
            key: Some(key.to_owned()),
        }
    }
}

/// `message` with every whole occurrence of `value` (not one inside a longer word, as
/// `quickbooks` in `quickbooks-online`) hidden.
fn hide(message: &str, value: &str) -> String {
    if value.is_empty() {
        return message.to_owned();
    }
    let word = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(value) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + value.len()..].chars().next();
        let whole = !before.is_some_and(word) && !after.is_some_and(word);
        out.push_str(&rest[..at]);
        out.push_str(if whole {
            "(its value, not shown)"
        } else {
            value
        });
        rest = &rest[at + value.len()..];
    }
    out.push_str(rest);
    out
}

/// What a deserialisation error says was expected (`: expected a duration`), without the value
/// it found.
pub(super) fn expected(message: &str) -> String {
    message
        .split_once("expected ")
        .map(|(_, what)| format!(": expected {}", strip_origin(what)))
        .unwrap_or_default()
}

/// The `config` crate appends " for key `x` in <file>"; we name both ourselves.
pub(super) fn strip_origin(message: &str) -> &str {
    message
        .split(" for key `")
        .next()
        .unwrap_or(message)
        .split(" in ")
        .next()
        .unwrap_or(message)
}

/// A TOML parse error is several lines with a source snippet; keep what it says in one.
pub(super) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('|') && !l.starts_with("in "))
        .collect::<Vec<_>>()
        .join(": ")
}

pub(super) fn env_var_for(key: &str) -> Option<String> {
    if key.is_empty() || key == "." {
        return None;
    }
    Some(format!(
        "{ENV_PREFIX}__{}",
        key.replace('.', "__").to_uppercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_from_the_environment_is_hidden_only_where_it_stands_alone() {
        assert_eq!(
            hide(
                "unknown preset `quickbooks`: use one of quickbooks-online, xero",
                "quickbooks"
            ),
            "unknown preset `(its value, not shown)`: use one of quickbooks-online, xero"
        );
        assert_eq!(
            hide("not a URL: sk-live-42 (relative URL)", "sk-live-42"),
            "not a URL: (its value, not shown) (relative URL)"
        );
    }
}
