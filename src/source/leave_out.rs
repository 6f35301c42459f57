//! Leave-out rules (SPEC §12): records an export holds that must never reach BlueTape
//! (inactive customers, prospects, vendors, jobs, credit notes), for any export. A preset's own
//! rules are written in the same form, and a config's rules add to them.
//!
//! ```toml
//! [[source.leave_out]]
//! field = "Inactive"
//! equals = ["yes", "true"]        # or: not_equals, contains, is_blank
//! [[source.leave_out]]            # every part must match
//! all = [ { field = "IsSupplier", equals = ["true"] }, { field = "IsCustomer", equals = ["false"] } ]
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::mapping::Path;

/// One `[[source.leave_out]]` rule as written (or as a preset writes it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleText {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub equals: Option<Vec<String>>,
    #[serde(default)]
    pub not_equals: Option<Vec<String>>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub is_blank: Option<bool>,
    #[serde(default)]
    pub all: Option<Vec<RuleText>>,
}

impl RuleText {
    /// `field` equals one of `values`.
    pub fn equals(field: &str, values: &[&str]) -> Self {
        Self {
            field: Some(field.to_owned()),
            equals: Some(values.iter().map(|v| (*v).to_owned()).collect()),
            ..Self::default()
        }
    }

    /// `field` is blank, or none of `values`.
    pub fn not_equals(field: &str, values: &[&str]) -> Self {
        Self {
            field: Some(field.to_owned()),
            not_equals: Some(values.iter().map(|v| (*v).to_owned()).collect()),
            ..Self::default()
        }
    }

    /// `field` holds `text`.
    pub fn contains(field: &str, text: &str) -> Self {
        Self {
            field: Some(field.to_owned()),
            contains: Some(text.to_owned()),
            ..Self::default()
        }
    }

    /// `field` is blank (`true`) or is not (`false`).
    pub fn is_blank(field: &str, blank: bool) -> Self {
        Self {
            field: Some(field.to_owned()),
            is_blank: Some(blank),
            ..Self::default()
        }
    }

    /// Every one of `parts` matches.
    pub fn all(parts: Vec<RuleText>) -> Self {
        Self {
            all: Some(parts),
            ..Self::default()
        }
    }

    /// The rule as a config writes it, under `[[section.leave_out]]`.
    pub fn to_toml(&self, section: &str) -> String {
        format!("[[{section}.leave_out]]\n{}\n", self.inline_keys("\n"))
    }

    /// The rule as an inline table: `{ field = "Active", equals = ["false"] }`.
    pub fn to_inline_toml(&self) -> String {
        format!("{{ {} }}", self.inline_keys(", "))
    }

    fn inline_keys(&self, separator: &str) -> String {
        let quote = |s: &str| toml_string(s);
        let list = |values: &[String]| {
            let quoted: Vec<String> = values.iter().map(|v| quote(v)).collect();
            format!("[{}]", quoted.join(", "))
        };
        let mut keys = Vec::new();
        if let Some(field) = &self.field {
            keys.push(format!("field = {}", quote(field)));
        }
        if let Some(values) = &self.equals {
            keys.push(format!("equals = {}", list(values)));
        }
        if let Some(values) = &self.not_equals {
            keys.push(format!("not_equals = {}", list(values)));
        }
        if let Some(text) = &self.contains {
            keys.push(format!("contains = {}", quote(text)));
        }
        if let Some(blank) = self.is_blank {
            keys.push(format!("is_blank = {blank}"));
        }
        if let Some(parts) = &self.all {
            let parts: Vec<String> = parts.iter().map(RuleText::to_inline_toml).collect();
            keys.push(format!("all = [ {} ]", parts.join(", ")));
        }
        keys.join(separator)
    }

    /// Checks the rule and parses its paths (`dotted` for JSON).
    fn resolve(&self, dotted: bool) -> Result<Test<Path>, String> {
        let tests = [
            self.equals.is_some(),
            self.not_equals.is_some(),
            self.contains.is_some(),
            self.is_blank.is_some(),
            self.all.is_some(),
        ];
        if tests.iter().filter(|set| **set).count() != 1 {
            return Err(
                "give exactly one of `equals`, `not_equals`, `contains`, `is_blank` or `all`"
                    .into(),
            );
        }
        if let Some(parts) = &self.all {
            if self.field.is_some() {
                return Err("`all` takes its fields in its parts, not a `field` of its own".into());
            }
            if parts.is_empty() {
                return Err("`all` is empty: list the parts that must all match".into());
            }
            let parts = parts
                .iter()
                .map(|p| p.resolve(dotted))
                .collect::<Result<_, _>>()?;
            return Ok(Test::All(parts));
        }
        let field = match self.field.as_deref().map(str::trim) {
            Some(field) if !field.is_empty() => field,
            _ => return Err("`field` is missing: name the column (or JSON path) to test".into()),
        };
        let path = Path::parse(field, dotted).map_err(|e| format!("field `{field}`: {e}"))?;
        let trimmed = |values: &[String]| -> Vec<String> {
            values.iter().map(|v| v.trim().to_lowercase()).collect()
        };
        let matcher = if let Some(values) = &self.equals {
            Matcher::Equals(trimmed(values))
        } else if let Some(values) = &self.not_equals {
            Matcher::NotEquals(trimmed(values))
        } else if let Some(text) = &self.contains {
            if text.is_empty() {
                return Err("`contains` is empty: every value would match".into());
            }
            Matcher::Contains(text.to_lowercase())
        } else {
            Matcher::Blank(self.is_blank == Some(true))
        };
        Ok(Test::One(path, matcher))
    }
}

impl fmt::Display for RuleText {
    /// `Inactive equals yes, true`, as `check` and the log name the rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parts) = &self.all {
            let parts: Vec<String> = parts.iter().map(ToString::to_string).collect();
            return f.write_str(&parts.join(" and "));
        }
        let field = self.field.as_deref().unwrap_or("?");
        let list = |values: &[String]| values.join(", ");
        if let Some(values) = &self.equals {
            write!(f, "{field} equals {}", list(values))
        } else if let Some(values) = &self.not_equals {
            write!(f, "{field} is not {}", list(values))
        } else if let Some(text) = &self.contains {
            write!(f, "{field} contains {text:?}")
        } else if self.is_blank == Some(false) {
            write!(f, "{field} is not blank")
        } else {
            write!(f, "{field} is blank")
        }
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What a rule tests, its values found at `P`: a JSON path, or a CSV column's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test<P> {
    One(P, Matcher),
    All(Vec<Test<P>>),
}

/// How a value is compared: as text, without regard to case or surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Lower-cased values.
    Equals(Vec<String>),
    /// Lower-cased values; a blank value matches too.
    NotEquals(Vec<String>),
    /// Lower-cased text.
    Contains(String),
    Blank(bool),
}

/// A value as a rule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'v> {
    /// Absent, or JSON `null`.
    Absent,
    /// JSON `false`: blank, yet `equals = ["false"]` matches it.
    False,
    /// Text, or a JSON number or `true` as written.
    Text(Cow<'v, str>),
}

impl Cell<'_> {
    fn is_blank(&self) -> bool {
        match self {
            Cell::Absent | Cell::False => true,
            Cell::Text(text) => text.trim().is_empty(),
        }
    }

    fn text(&self) -> Option<&str> {
        match self {
            Cell::Absent => None,
            Cell::False => Some("false"),
            Cell::Text(text) => Some(text.trim()),
        }
    }

    /// The value at `path` in a JSON record.
    pub fn at<'v>(path: &Path, record: &'v Value) -> Cell<'v> {
        match path.value(record) {
            None | Some(Value::Null) => Cell::Absent,
            Some(Value::Bool(false)) => Cell::False,
            Some(value) => path
                .lookup(record)
                .map_or(Cell::Absent, |text| match value {
                    Value::String(_) | Value::Number(_) | Value::Bool(_) => Cell::Text(text),
                    _ => Cell::Absent,
                }),
        }
    }
}

impl Matcher {
    fn matches(&self, cell: &Cell<'_>) -> bool {
        let text = cell.text();
        // Rules' values are lower-cased; a cell is, only when it is not ASCII (no allocation
        // per row for the usual `Yes`, `TRUE`, `Inactive`).
        let equal = |want: &String, text: &str| match text.is_ascii() {
            true => want.eq_ignore_ascii_case(text),
            false => *want == text.to_lowercase(),
        };
        let listed = |values: &[String]| text.is_some_and(|t| values.iter().any(|v| equal(v, t)));
        match self {
            Matcher::Equals(values) => listed(values),
            Matcher::NotEquals(values) => cell.is_blank() || !listed(values),
            Matcher::Contains(want) => !cell.is_blank() && text.is_some_and(|t| contains(t, want)),
            Matcher::Blank(blank) => cell.is_blank() == *blank,
        }
    }
}

/// Whether `text` holds `want` (lower-cased), in any case; without allocating for ASCII text.
fn contains(text: &str, want: &str) -> bool {
    match text.is_ascii() && want.is_ascii() {
        true => (text.as_bytes().windows(want.len().max(1)))
            .any(|window| window.eq_ignore_ascii_case(want.as_bytes())),
        false => text.to_lowercase().contains(want),
    }
}

impl<P> Test<P> {
    /// Whether the record whose values `cell` looks up matches.
    pub fn matches<'v>(&self, cell: &impl Fn(&P) -> Cell<'v>) -> bool {
        match self {
            Test::One(at, matcher) => matcher.matches(&cell(at)),
            Test::All(parts) => parts.iter().all(|part| part.matches(cell)),
        }
    }

    /// Every place the rule reads.
    pub fn places(&self) -> Vec<&P> {
        match self {
            Test::One(at, _) => vec![at],
            Test::All(parts) => parts.iter().flat_map(Test::places).collect(),
        }
    }

    /// The same test reading its values at other places (a CSV file's column indexes).
    pub fn try_map<Q, E>(&self, place: &impl Fn(&P) -> Result<Q, E>) -> Result<Test<Q>, E> {
        Ok(match self {
            Test::One(at, matcher) => Test::One(place(at)?, matcher.clone()),
            Test::All(parts) => Test::All(
                parts
                    .iter()
                    .map(|part| part.try_map(place))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

/// A rule ready to read records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub text: RuleText,
    pub test: Test<Path>,
    /// The preset's name for such records (`inactive`, `archived`), for a preset's rule.
    pub preset_says: Option<&'static str>,
}

impl Rule {
    /// One rule of its own (`source.organisation`), resolved as [`resolve`] does.
    pub fn single(
        text: &RuleText,
        preset_says: Option<&'static str>,
        dotted: bool,
    ) -> Result<Self, String> {
        Ok(Self {
            test: text.resolve(dotted)?,
            text: text.clone(),
            preset_says,
        })
    }

    /// Whether a JSON record matches this rule (is left out, for a leave-out rule).
    pub fn leaves_out(&self, record: &Value) -> bool {
        self.test.matches(&|path: &Path| Cell::at(path, record))
    }

    /// How `check` and the log name the rule: `Inactive equals yes` or, for a preset's,
    /// `inactive (Active equals false)`.
    pub fn label(&self) -> String {
        match self.preset_says {
            Some(what) => format!("{what} ({})", self.text),
            None => self.text.to_string(),
        }
    }
}

/// A preset's rule: what it leaves out, named.
#[derive(Debug, Clone)]
pub struct PresetRule {
    pub what: &'static str,
    pub rule: RuleText,
}

/// The rules of an export: the preset's, then the config's (a config rule the preset already
/// has is the preset's). `dotted`: JSON paths. Errors name the rule: (its number, counted from 1
/// among the config's, and the problem).
pub fn resolve(
    preset: &[PresetRule],
    config: &[RuleText],
    dotted: bool,
) -> Result<Vec<Rule>, (Option<usize>, String)> {
    let mut rules = Vec::with_capacity(preset.len() + config.len());
    for PresetRule { what, rule } in preset {
        let test = rule.resolve(dotted).map_err(|e| (None, e))?;
        rules.push(Rule {
            text: rule.clone(),
            test,
            preset_says: Some(what),
        });
    }
    for (n, text) in config.iter().enumerate() {
        let test = text.resolve(dotted).map_err(|e| (Some(n + 1), e))?;
        if rules.iter().any(|r| r.test == test) {
            continue;
        }
        rules.push(Rule {
            text: text.clone(),
            test,
            preset_says: None,
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests;
