//! The part of Intuit's query language the fake QuickBooks answers:
//! `SELECT * FROM Customer|Invoice [WHERE cond [AND cond]...] [ORDERBY field [ASC|DESC]]
//! [STARTPOSITION n] [MAXRESULTS m]`, where a condition is `Metadata.LastUpdatedTime <op>
//! '<RFC 3339>'`, `Active IN (true, false)` or `Active = true|false`. Keywords are
//! case-insensitive; anything else is refused as Intuit refuses a query it cannot parse.

use chrono::{DateTime, FixedOffset};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Customer,
    Invoice,
}

impl Entity {
    pub fn name(self) -> &'static str {
        match self {
            Entity::Customer => "Customer",
            Entity::Invoice => "Invoice",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
}

impl Op {
    pub fn holds(self, value: DateTime<FixedOffset>, bound: DateTime<FixedOffset>) -> bool {
        match self {
            Op::Ge => value >= bound,
            Op::Gt => value > bound,
            Op::Le => value <= bound,
            Op::Lt => value < bound,
            Op::Eq => value == bound,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Query {
    pub entity: Entity,
    pub updated: Vec<(Op, DateTime<FixedOffset>)>,
    /// The `Active` values asked for; `None`: no condition on `Active` (Intuit then returns
    /// active records only).
    pub active: Option<Vec<bool>>,
    /// `ORDERBY Metadata.LastUpdatedTime`, and whether `DESC`.
    pub order_by_updated: Option<bool>,
    /// 1-based.
    pub start: usize,
    pub max: usize,
}

pub fn parse(text: &str) -> Result<Query, String> {
    let tokens = tokenize(text)?;
    let mut at = 0;
    let mut next = || {
        let token = tokens.get(at).cloned();
        at += 1;
        token
    };
    let expect = |word: &str, token: Option<String>| match token {
        Some(t) if t.eq_ignore_ascii_case(word) => Ok(()),
        other => Err(format!("expected {word}, found {other:?}")),
    };
    expect("SELECT", next())?;
    expect("*", next())?;
    expect("FROM", next())?;
    let entity = match next() {
        Some(e) if e.eq_ignore_ascii_case("Customer") => Entity::Customer,
        Some(e) if e.eq_ignore_ascii_case("Invoice") => Entity::Invoice,
        other => return Err(format!("unsupported entity {other:?}")),
    };
    let mut query = Query {
        entity,
        updated: Vec::new(),
        active: None,
        order_by_updated: None,
        start: 1,
        max: 100,
    };
    let mut token = next();
    if token
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("WHERE"))
    {
        loop {
            condition(&mut query, &mut next)?;
            token = next();
            if !token
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("AND"))
            {
                break;
            }
        }
    }
    if token
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("ORDERBY"))
    {
        match next() {
            Some(f) if f.eq_ignore_ascii_case("Metadata.LastUpdatedTime") => {}
            other => return Err(format!("unsupported ORDERBY field {other:?}")),
        }
        token = next();
        let mut desc = false;
        if let Some(dir) = token
            .as_deref()
            .filter(|t| t.eq_ignore_ascii_case("ASC") || t.eq_ignore_ascii_case("DESC"))
        {
            desc = dir.eq_ignore_ascii_case("DESC");
            token = next();
        }
        query.order_by_updated = Some(desc);
    }
    while let Some(word) = token.take() {
        let number = next()
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| format!("{word} needs a number"))?;
        if word.eq_ignore_ascii_case("STARTPOSITION") && number >= 1 {
            query.start = number;
        } else if word.eq_ignore_ascii_case("MAXRESULTS") && (1..=1000).contains(&number) {
            query.max = number;
        } else {
            return Err(format!("unexpected {word} {number}"));
        }
        token = next();
    }
    Ok(query)
}

fn condition(query: &mut Query, next: &mut impl FnMut() -> Option<String>) -> Result<(), String> {
    let field = next().ok_or("condition expected")?;
    if field.eq_ignore_ascii_case("Metadata.LastUpdatedTime") {
        let op = match next().as_deref() {
            Some(">=") => Op::Ge,
            Some(">") => Op::Gt,
            Some("<=") => Op::Le,
            Some("<") => Op::Lt,
            Some("=") => Op::Eq,
            other => return Err(format!("unsupported operator {other:?}")),
        };
        let value = next().ok_or("value expected")?;
        let quoted = (value.strip_prefix('\''))
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(|| format!("a date is quoted: {value}"))?;
        let at = DateTime::parse_from_rfc3339(quoted).map_err(|e| format!("{quoted}: {e}"))?;
        query.updated.push((op, at));
        return Ok(());
    }
    if field.eq_ignore_ascii_case("Active") {
        let boolean = |t: Option<String>| match t {
            Some(b) if b.eq_ignore_ascii_case("true") => Ok(true),
            Some(b) if b.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(format!("expected true or false, found {other:?}")),
        };
        match next().as_deref() {
            Some("=") => query.active = Some(vec![boolean(next())?]),
            Some(word) if word.eq_ignore_ascii_case("IN") => {
                if next().as_deref() != Some("(") {
                    return Err("IN needs (".into());
                }
                let mut values = vec![boolean(next())?];
                loop {
                    match next().as_deref() {
                        Some(",") => values.push(boolean(next())?),
                        Some(")") => break,
                        other => return Err(format!("unexpected {other:?} in IN")),
                    }
                }
                query.active = Some(values);
            }
            other => return Err(format!("unsupported operator {other:?}")),
        }
        return Ok(());
    }
    Err(format!("unsupported field {field}"))
}

/// Words, quoted strings (quotes kept), `(`, `)`, `,` and comparison operators.
fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            let mut quoted = String::from(chars.next().unwrap_or('\''));
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => quoted.push(c),
                    None => return Err("unterminated quote".into()),
                }
            }
            quoted.push('\'');
            tokens.push(quoted);
        } else if "(),".contains(c) {
            tokens.push(chars.next().unwrap_or(c).to_string());
        } else if "<>=".contains(c) {
            let mut op = chars.next().unwrap_or(c).to_string();
            if chars.peek() == Some(&'=') {
                op.push('=');
                chars.next();
            }
            tokens.push(op);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "(),'<>=".contains(c) {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(word);
        }
    }
    Ok(tokens)
}
