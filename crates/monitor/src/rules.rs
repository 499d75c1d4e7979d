//! Warning rules as data: each rule is a set of CEL expressions (the Common
//! Expression Language, <https://github.com/google/cel-spec>, evaluated by the
//! `cel-interpreter` crate) over a household's measures.
//!
//! Exactness. CEL has 64-bit integers and doubles; a double would make
//! `oop > 0.5 * rural_income` inexact at the fen. So every measure reaches CEL as an
//! integer (money in fen, `size` in people), a rule's `factor` reaches it as an
//! integer in ten-thousandths (0.5 -> 5000), decimal literals are refused when a rule
//! is loaded, and a rule compares by multiplying through:
//! `oop * 10000 > rural_income * factor`. Integer overflow is an error, never a
//! wrap. `round_div(a, b)` (a / b rounded half up) makes the figures a rule reports.
//!
//! A rule is refused at load time, with the rule's name and the line and column in
//! the expression, when it does not parse, names a measure that does not exist, or
//! uses a decimal literal.
//!
//! Speed. Each expression is parsed once, by the parser the interpreter uses, and
//! the parsed form is compiled (compile.rs) when it keeps to the integer and
//! decimal subset of CEL: literals, measures, arithmetic, comparisons, `&& || !`,
//! `? :` and `round_div`. A compiled expression runs as fast whatever its text, so
//! an officer's edited rule runs as fast as the shipped one; anything else is
//! interpreted by CEL. Where a compiled expression would fail (an overflow), CEL
//! evaluates it and reports its own error. Building a [`RuleSet`] logs (tracing,
//! info) which path each rule takes and why an interpreted one is not compiled;
//! [`RuleSet::paths`], [`Rule::path`] and [`Expr::path`] say the same.

// RuleError carries the expression's line and a caret for the officer; it is made
// once, at load time, so its size does not matter.
#![allow(clippy::result_large_err)]

use crate::compile::Compiled;
use crate::error::RuleError;
use cel_interpreter::{Context, ExecutionError, IdedExpr, Value};
use cel_parser::Parser;
use serde::Deserialize;
use std::sync::Arc;

/// The default rules of docs/monitoring.md, as shipped.
pub const DEFAULT_RULES_TOML: &str = include_str!("../rules/default.toml");

/// The measures a rule may name, with what each is. Money is in fen.
pub const MEASURES: &[(&str, &str)] = &[
    ("oop", "the household's out-of-pocket cost of the year, fen"),
    ("income", "the household's yearly income, fen"),
    ("consumption", "yearly consumption, fen (0 when not given; see has_consumption)"),
    ("has_consumption", "whether consumption is given"),
    ("food", "yearly food spending, fen (0 when not given)"),
    ("budget", "consumption when given, else income, fen"),
    ("size", "the number of people in the household"),
    ("per_capita_income", "income / size in fen, rounded half up (compare exactly with income and size)"),
    ("per_capita_after", "(income - oop) / size in fen, rounded half up"),
    ("poor", "whether any member is special_hardship, low_income, lifted or monitored"),
    ("rural_income", "the previous year's rural per-capita disposable income of the region, fen"),
    ("monitoring_line", "the yearly per-capita monitoring line of the region, fen"),
    (
        "serious_diagnosis",
        "the diagnosis code of the household's first claim of the year in the serious-disease catalogue, or ''",
    ),
    ("year", "the year monitored"),
    ("factor", "the rule's factor in ten-thousandths (0.5 -> 5000)"),
];

/// Measures that come from the region's threshold: a rule naming one is not
/// evaluated for a household without a threshold (which is reported instead).
pub const THRESHOLD_MEASURES: &[&str] = &["rural_income", "monitoring_line"];

/// Which households a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Poor,
    General,
    All,
}

impl Who {
    fn parse(s: &str) -> Option<Who> {
        match s {
            "poor" => Some(Who::Poor),
            "general" => Some(Who::General),
            "all" => Some(Who::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Who::Poor => "poor",
            Who::General => "general",
            Who::All => "all",
        }
    }

    pub fn admits(self, poor: bool) -> bool {
        match self {
            Who::Poor => poor,
            Who::General => !poor,
            Who::All => true,
        }
    }
}

/// How an expression is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Compiled from its parsed form into a typed tree over the measures
    /// (compile.rs): the fast path, whatever the expression's text.
    Compiled,
    /// By the CEL interpreter: the expression uses something outside the
    /// compiled subset (see [`Expr::interpreted_because`]).
    Interpreted,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Compiled => "compiled",
            Path::Interpreted => "interpreted",
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One CEL expression: its source, its parsed form for the interpreter, and its
/// compiled form when it is in the compiled subset.
#[derive(Debug, Clone)]
pub struct Expr {
    pub source: String,
    ast: Arc<IdedExpr>,
    /// The measures it names, sorted.
    pub variables: Vec<String>,
    /// Whether it names `rural_income` or `monitoring_line`.
    pub needs_threshold: bool,
    /// The compiled form, or why there is none.
    compiled: Result<Arc<Compiled>, String>,
}

impl Expr {
    fn compile(rule: &str, field: &'static str, source: &str, has_factor: bool) -> Result<Expr, RuleError> {
        let syntax = |offset: usize, message: String| {
            let (line, column) = line_col(source, offset);
            syntax_error(rule, field, source, line, column, message)
        };
        if source.trim().is_empty() {
            return Err(syntax(0, "the expression is empty".into()));
        }
        // The ANTLR-generated parser of cel-parser 0.10 panics, instead of
        // reporting, on an unterminated string or a trailing operator: find those
        // here so the officer gets a position, and catch any other panic.
        if let Some(offset) = unterminated_string(source) {
            return Err(syntax(offset, "the string is not closed".into()));
        }
        if let Some((op, offset)) = trailing_operator(source) {
            return Err(syntax(offset, format!("the expression ends with `{op}`; an operand is missing after it")));
        }
        // The parser cel-interpreter's `Program::compile` uses; the interpreter
        // evaluates this very tree, and the compiler compiles it.
        let parsed = std::panic::catch_unwind(|| Parser::default().parse(source))
            .map_err(|_| syntax(source.trim_end().len(), "the expression does not parse".into()))?;
        let ast = parsed.map_err(|errs| {
            let e = errs.errors.into_iter().next();
            let (line, column, message) = match e {
                // cel-parser reports 1-based lines and columns.
                Some(e) => (e.pos.0.max(1) as usize, e.pos.1.max(1) as usize, e.msg),
                None => (1, 1, "the expression does not parse".to_string()),
            };
            syntax_error(rule, field, source, line, column, message)
        })?;
        if let Some((literal, offset)) = find_decimal_literal(source) {
            let (line, column) = line_col(source, offset);
            return Err(RuleError::InexactLiteral { rule: rule.to_string(), field, literal, line, column });
        }
        let refs = ast.references();
        let mut names: Vec<&str> = refs.variables();
        names.sort_unstable();
        for &name in &names {
            let known = MEASURES.iter().any(|(m, _)| *m == name);
            if !known || (name == "factor" && !has_factor) {
                let offset = find_identifier(source, name).unwrap_or(0);
                let (line, column) = line_col(source, offset);
                if known {
                    return Err(RuleError::Invalid {
                        rule: rule.to_string(),
                        message: format!(
                            "the {field} names `factor` (line {line} column {column}) but the rule sets no factor"
                        ),
                    });
                }
                return Err(RuleError::UnknownMeasure {
                    rule: rule.to_string(),
                    field,
                    name: name.to_string(),
                    line,
                    column,
                    known: MEASURES.iter().map(|(m, _)| *m).collect::<Vec<_>>().join(", "),
                });
            }
        }
        let needs_threshold = THRESHOLD_MEASURES.iter().any(|m| refs.has_variable(m));
        let variables = names.into_iter().map(str::to_string).collect();
        let compiled = Compiled::new(&ast).map(Arc::new);
        Ok(Expr { source: source.to_string(), ast: Arc::new(ast), variables, needs_threshold, compiled })
    }

    /// Whether the expression runs compiled or through the interpreter.
    pub fn path(&self) -> Path {
        match self.compiled {
            Ok(_) => Path::Compiled,
            Err(_) => Path::Interpreted,
        }
    }

    /// Why the expression is not compiled; `None` when it is.
    pub fn interpreted_because(&self) -> Option<&str> {
        self.compiled.as_ref().err().map(String::as_str)
    }

    /// The compiled form, if any.
    #[inline]
    pub(crate) fn compiled(&self) -> Option<&Compiled> {
        self.compiled.as_deref().ok()
    }

    /// Evaluates by the interpreter.
    pub(crate) fn eval(&self, ctx: &Context) -> Result<Value, ExecutionError> {
        Value::resolve(&self.ast, ctx)
    }

    fn interpreted(&self) -> Expr {
        Expr { compiled: Err("interpreted on request".into()), ..self.clone() }
    }
}

/// One warning rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub who: Who,
    /// The factor in ten-thousandths, if the rule has one.
    pub factor: Option<i64>,
    /// When the rule raises an alert (a CEL expression giving a bool).
    pub condition: Expr,
    /// The figure reported as `value` (an int in fen, or a string).
    pub value: Expr,
    /// The figure reported as `threshold`; none for rules with no figure to compare.
    pub threshold: Option<Expr>,
    pub enabled: bool,
}

impl Rule {
    /// The measures the rule's expressions name.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.condition
            .variables
            .iter()
            .chain(&self.value.variables)
            .chain(self.threshold.iter().flat_map(|t| &t.variables))
            .map(|s| s.as_str())
    }

    /// Whether any of the rule's expressions needs the region's threshold.
    pub fn needs_threshold(&self) -> bool {
        self.condition.needs_threshold
            || self.value.needs_threshold
            || self.threshold.as_ref().map(|t| t.needs_threshold).unwrap_or(false)
    }

    /// The rule's expressions with their fields: condition, value, threshold.
    pub fn expressions(&self) -> impl Iterator<Item = (&'static str, &Expr)> {
        [("condition", &self.condition), ("value", &self.value)]
            .into_iter()
            .chain(self.threshold.as_ref().map(|t| ("threshold", t)))
    }

    /// [`Path::Compiled`] when every expression of the rule is compiled.
    pub fn path(&self) -> Path {
        if self.expressions().all(|(_, e)| e.path() == Path::Compiled) {
            Path::Compiled
        } else {
            Path::Interpreted
        }
    }
}

/// The rules in force, in file order (defaults first, then a region's additions).
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    who: Option<String>,
    factor: Option<toml::Value>,
    condition: Option<String>,
    value: Option<String>,
    threshold: Option<String>,
    enabled: Option<bool>,
}

impl RuleSet {
    /// The six default rules of docs/monitoring.md.
    pub fn defaults() -> RuleSet {
        RuleSet::shipped().logged()
    }

    fn shipped() -> RuleSet {
        RuleSet::over(&RuleSet { rules: Vec::new() }, DEFAULT_RULES_TOML).expect("the shipped default rules load")
    }

    /// The default rules with a region's rules file applied over them.
    pub fn from_region_toml(text: &str) -> Result<RuleSet, RuleError> {
        Ok(RuleSet::over(&RuleSet::shipped(), text)?.logged())
    }

    /// Applies a rules file over `base`: a rule with a name already in `base`
    /// changes only the fields it gives; a new name adds a rule, which then needs
    /// `who`, `condition` and `value`.
    pub fn from_toml_over(base: &RuleSet, text: &str) -> Result<RuleSet, RuleError> {
        Ok(RuleSet::over(base, text)?.logged())
    }

    /// Each rule's name and path: compiled, or interpreted by CEL.
    pub fn paths(&self) -> Vec<(&str, Path)> {
        self.rules.iter().map(|r| (r.name.as_str(), r.path())).collect()
    }

    /// The same rules with every expression left to the CEL interpreter: the
    /// reference the compiled path is checked against.
    pub fn interpreted(&self) -> RuleSet {
        let rules = self
            .rules
            .iter()
            .map(|r| Rule {
                condition: r.condition.interpreted(),
                value: r.value.interpreted(),
                threshold: r.threshold.as_ref().map(Expr::interpreted),
                ..r.clone()
            })
            .collect();
        RuleSet { rules }
    }

    /// Logs the path each rule takes, and why an interpreted one is not compiled.
    fn logged(self) -> RuleSet {
        for r in &self.rules {
            let path = r.path();
            match path {
                Path::Compiled => tracing::info!(rule = %r.name, %path, "rule {}: compiled", r.name),
                Path::Interpreted => {
                    let why: Vec<String> = r
                        .expressions()
                        .filter_map(|(field, e)| e.interpreted_because().map(|why| format!("{field}: {why}")))
                        .collect();
                    let why = why.join("; ");
                    tracing::info!(rule = %r.name, %path, %why, "rule {}: interpreted by CEL ({why})", r.name)
                }
            }
        }
        self
    }

    fn over(base: &RuleSet, text: &str) -> Result<RuleSet, RuleError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| RuleError::File(e.to_string()))?;
        let mut rules = base.rules.clone();
        let mut seen = std::collections::HashSet::new();
        for r in raw.rule {
            let name = r.name.trim().to_string();
            let invalid = |message: String| RuleError::Invalid { rule: name.clone(), message };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(invalid("a rule name is letters, digits and underscores".into()));
            }
            if !seen.insert(name.clone()) {
                return Err(invalid("the rule is given twice in the file".into()));
            }
            let existing = rules.iter().position(|x| x.name == name);
            let who = match r.who.as_deref() {
                Some(w) => Some(
                    Who::parse(w.trim()).ok_or_else(|| invalid(format!("who is {w:?}; use poor, general or all")))?,
                ),
                None => None,
            };
            let factor = match &r.factor {
                Some(v) => Some(parse_factor(v).map_err(invalid)?),
                None => None,
            };
            match existing {
                Some(i) => {
                    let old = &rules[i];
                    let factor = factor.or(old.factor);
                    let has_factor = factor.is_some();
                    let condition = match &r.condition {
                        Some(s) => Expr::compile(&name, "condition", s, has_factor)?,
                        None => Expr::compile(&name, "condition", &old.condition.source, has_factor)?,
                    };
                    let value = match &r.value {
                        Some(s) => Expr::compile(&name, "value", s, has_factor)?,
                        None => Expr::compile(&name, "value", &old.value.source, has_factor)?,
                    };
                    let threshold = match (&r.threshold, &old.threshold) {
                        (Some(s), _) if s.trim().is_empty() => None,
                        (Some(s), _) => Some(Expr::compile(&name, "threshold", s, has_factor)?),
                        (None, Some(t)) => Some(Expr::compile(&name, "threshold", &t.source, has_factor)?),
                        (None, None) => None,
                    };
                    rules[i] = Rule {
                        name,
                        who: who.unwrap_or(old.who),
                        factor,
                        condition,
                        value,
                        threshold,
                        enabled: r.enabled.unwrap_or(old.enabled),
                    };
                }
                None => {
                    let who = who.ok_or_else(|| invalid("a new rule needs `who` (poor, general or all)".into()))?;
                    let has_factor = factor.is_some();
                    let cond =
                        r.condition.as_deref().ok_or_else(|| invalid("a new rule needs a `condition`".into()))?;
                    let val = r.value.as_deref().ok_or_else(|| invalid("a new rule needs a `value`".into()))?;
                    let condition = Expr::compile(&name, "condition", cond, has_factor)?;
                    let value = Expr::compile(&name, "value", val, has_factor)?;
                    let threshold = match r.threshold.as_deref() {
                        Some(s) if !s.trim().is_empty() => Some(Expr::compile(&name, "threshold", s, has_factor)?),
                        _ => None,
                    };
                    rules.push(Rule {
                        name,
                        who,
                        factor,
                        condition,
                        value,
                        threshold,
                        enabled: r.enabled.unwrap_or(true),
                    });
                }
            }
        }
        Ok(RuleSet { rules })
    }

    pub fn get(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The rules that are switched on.
    pub fn enabled(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| r.enabled)
    }
}

/// A factor from TOML (`0.4`, `1`, `"0.4"`) in ten-thousandths; at most four
/// decimals, never negative.
fn parse_factor(v: &toml::Value) -> Result<i64, String> {
    let text = match v {
        toml::Value::Integer(i) => i.to_string(),
        // TOML floats are read as f64; the shortest representation round-trips the
        // decimal the officer wrote (0.1 -> "0.1").
        toml::Value::Float(f) => format!("{f}"),
        toml::Value::String(s) => s.trim().to_string(),
        other => return Err(format!("factor is {other}; write a decimal like 0.5")),
    };
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("factor {text} is not a non-negative decimal"));
    }
    if frac.len() > 4 {
        return Err(format!("factor {text} has more than four decimals"));
    }
    let i: i64 = int.parse().map_err(|_| format!("factor {text} is too large"))?;
    if i > 1_000_000 {
        return Err(format!("factor {text} is too large"));
    }
    let mut f: i64 = 0;
    for k in 0..4 {
        f = f * 10 + frac.as_bytes().get(k).map(|b| (b - b'0') as i64).unwrap_or(0);
    }
    Ok(i * 10_000 + f)
}

fn syntax_error(
    rule: &str,
    field: &'static str,
    source: &str,
    line: usize,
    column: usize,
    message: String,
) -> RuleError {
    let source_line = source.lines().nth(line.saturating_sub(1)).unwrap_or("").to_string();
    let caret = format!("{}^", " ".repeat(column.saturating_sub(1)));
    RuleError::Syntax { rule: rule.to_string(), field, line, column, message, source_line, caret }
}

/// The byte offset of a string literal's opening quote that is never closed.
fn unterminated_string(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' || b[i] == b'\'' {
            let q = b[i];
            let mut j = i + 1;
            let mut closed = false;
            while j < b.len() {
                if b[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if b[j] == q {
                    closed = true;
                    break;
                }
                j += 1;
            }
            if !closed {
                return Some(i);
            }
            i = j + 1;
            continue;
        }
        i += 1;
    }
    None
}

/// A binary operator that ends the expression, with its byte offset.
fn trailing_operator(src: &str) -> Option<(&str, usize)> {
    let t = src.trim_end();
    const OPS: [&str; 16] = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "?", ":", "!"];
    OPS.iter().find(|op| t.ends_with(*op)).map(|op| (*op, t.len() - op.len()))
}

/// `a / b` rounded half up (towards +infinity at exactly one half), for any sign of
/// `a` and `b > 0`; the reported figures of the rules use it.
pub fn round_div(a: i64, b: i64) -> Result<i64, ExecutionError> {
    if b <= 0 {
        return Err(ExecutionError::function_error("round_div", "the divisor must be positive"));
    }
    let (a, b) = (a as i128, b as i128);
    Ok((2 * a + b).div_euclid(2 * b) as i64)
}

/// A CEL context with the standard functions and `round_div`.
pub(crate) fn base_context() -> Context<'static> {
    let mut ctx = Context::default();
    ctx.add_function("round_div", round_div);
    ctx
}

/// The first decimal literal (`0.5`, `1e3`) outside string literals, with its byte
/// offset. CEL's own number syntax: digits, then `.` digits and/or an exponent.
fn find_decimal_literal(src: &str) -> Option<(String, usize)> {
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            i = skip_string(b, i);
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            continue;
        }
        let starts_number = c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()));
        if starts_number {
            let start = i;
            if c == b'0' && matches!(b.get(i + 1), Some(b'x') | Some(b'X')) {
                i += 2;
                while i < b.len() && b[i].is_ascii_hexdigit() {
                    i += 1;
                }
                continue;
            }
            let mut decimal = false;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i < b.len() && b[i] == b'.' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                decimal = true;
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                decimal = true;
                i += 1;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
            }
            if decimal {
                return Some((src[start..i].to_string(), start));
            }
            continue;
        }
        i += 1;
    }
    None
}

fn skip_string(b: &[u8], start: usize) -> usize {
    let q = b[start];
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            return i + 1;
        }
        i += 1;
    }
    i
}

/// The byte offset of `name` as a whole identifier outside string literals.
fn find_identifier(src: &str, name: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\'' {
            i = skip_string(b, i);
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if &src[start..i] == name {
                return Some(start);
            }
            continue;
        }
        i += 1;
    }
    None
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_with_their_factors() {
        let rs = RuleSet::defaults();
        let names: Vec<&str> = rs.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "medical_burden_poor",
                "medical_burden_general",
                "impoverishing",
                "catastrophic_10",
                "catastrophic_25",
                "serious_diagnosis"
            ]
        );
        assert_eq!(rs.get("medical_burden_poor").unwrap().factor, Some(5000));
        assert_eq!(rs.get("medical_burden_general").unwrap().factor, Some(10_000));
        assert_eq!(rs.get("catastrophic_10").unwrap().factor, Some(1000));
        assert!(rs.get("serious_diagnosis").unwrap().threshold.is_none());
        assert!(!rs.get("catastrophic_25").unwrap().needs_threshold());
        assert!(rs.get("impoverishing").unwrap().needs_threshold());
    }

    #[test]
    fn a_region_changes_a_factor_switches_a_rule_off_and_adds_one() {
        let rs = RuleSet::from_region_toml(
            r#"
            [[rule]]
            name = "medical_burden_poor"
            factor = 0.4
            [[rule]]
            name = "catastrophic_10"
            enabled = false
            [[rule]]
            name = "large_household_burden"
            who = "all"
            factor = 0.3
            condition = "size >= 5 && oop * 10000 > income * factor"
            value = "oop"
            threshold = "round_div(income * factor, 10000)"
            "#,
        )
        .unwrap();
        assert_eq!(rs.get("medical_burden_poor").unwrap().factor, Some(4000));
        assert!(!rs.get("catastrophic_10").unwrap().enabled);
        assert_eq!(rs.rules.len(), 7);
        assert_eq!(rs.enabled().count(), 6);
    }

    #[test]
    fn syntax_errors_point_into_the_expression() {
        let e = RuleSet::from_region_toml(
            r#"
            [[rule]]
            name = "broken"
            who = "all"
            condition = "oop > > 3"
            value = "oop"
            "#,
        )
        .unwrap_err();
        match &e {
            RuleError::Syntax { rule, field, line, column, .. } => {
                assert_eq!(rule, "broken");
                assert_eq!(*field, "condition");
                assert_eq!(*line, 1);
                assert_eq!(*column, 7, "the second `>`");
            }
            other => panic!("expected a syntax error, got {other}"),
        }
        let msg = e.to_string();
        assert!(msg.contains("rule broken") && msg.contains("line 1 column"), "{msg}");
    }

    #[test]
    fn unknown_measures_are_refused_with_their_place() {
        let e = RuleSet::from_region_toml(
            "[[rule]]\nname = \"x\"\nwho = \"all\"\ncondition = \"oop > 0 && incme > 3\"\nvalue = \"oop\"\n",
        )
        .unwrap_err();
        match e {
            RuleError::UnknownMeasure { rule, name, line, column, field, .. } => {
                assert_eq!((rule.as_str(), name.as_str(), line, column, field), ("x", "incme", 1, 12, "condition"));
            }
            other => panic!("expected an unknown measure, got {other}"),
        }
    }

    #[test]
    fn decimal_literals_are_refused_as_inexact() {
        let e = RuleSet::from_region_toml(
            "[[rule]]\nname = \"medical_burden_poor\"\ncondition = \"oop > 0.5 * rural_income\"\n",
        )
        .unwrap_err();
        assert!(matches!(e, RuleError::InexactLiteral { ref literal, column: 7, .. } if literal == "0.5"), "{e}");
        // A decimal inside a string is not a number.
        assert!(find_decimal_literal("serious_diagnosis == 'C16.9'").is_none());
    }

    #[test]
    fn factor_without_a_factor_and_bad_fields_are_refused() {
        let e = RuleSet::from_region_toml(
            "[[rule]]\nname = \"n\"\nwho = \"all\"\ncondition = \"oop > factor\"\nvalue = \"oop\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("sets no factor"), "{e}");
        let e = RuleSet::from_region_toml(
            "[[rule]]\nname = \"n\"\nwho = \"rich\"\ncondition = \"true\"\nvalue = \"oop\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("poor, general or all"), "{e}");
        let e = RuleSet::from_region_toml("[[rule]]\nname = \"n\"\nwho = \"all\"\nvalue = \"oop\"\n").unwrap_err();
        assert!(e.to_string().contains("needs a `condition`"), "{e}");
        let e = RuleSet::from_region_toml("[[rule]]\nname = \"medical_burden_poor\"\nfactor = 0.12345\n").unwrap_err();
        assert!(e.to_string().contains("four decimals"), "{e}");
        let e = RuleSet::from_region_toml("[[rule]]\nname = \"medical_burden_poor\"\nfactr = 0.1\n").unwrap_err();
        assert!(matches!(e, RuleError::File(_)), "{e}");
    }

    #[test]
    fn inputs_that_crash_the_parser_get_a_position_instead() {
        for (src, column, what) in [
            ("oop >", 5, "ends with `>`"),
            ("oop > 3 &&", 9, "ends with `&&`"),
            ("serious_diagnosis == 'C16", 22, "not closed"),
            ("  ", 1, "empty"),
        ] {
            let toml = format!("[[rule]]\nname = \"r\"\nwho = \"all\"\ncondition = \"{}\"\nvalue = \"oop\"\n", src);
            match RuleSet::from_region_toml(&toml).unwrap_err() {
                RuleError::Syntax { column: c, message, .. } => {
                    assert_eq!(c, column, "{src}: {message}");
                    assert!(message.contains(what), "{src}: {message}");
                }
                other => panic!("{src}: {other}"),
            }
        }
    }

    fn paths_of(rs: &RuleSet) -> Vec<(String, Path)> {
        rs.paths().into_iter().map(|(n, p)| (n.to_string(), p)).collect()
    }

    #[test]
    fn the_shipped_rules_all_compile() {
        let rs = RuleSet::defaults();
        for r in &rs.rules {
            assert_eq!(r.path(), Path::Compiled, "{}", r.name);
            for (field, e) in r.expressions() {
                assert_eq!(e.path(), Path::Compiled, "{} {field}: {:?}", r.name, e.interpreted_because());
                assert!(e.compiled().is_some());
            }
        }
        assert_eq!(rs.paths().len(), 6);
        assert!(rs.paths().iter().all(|(_, p)| *p == Path::Compiled));
    }

    #[test]
    fn edited_and_new_rules_in_the_subset_compile_whatever_their_text() {
        let rs = RuleSet::from_region_toml(
            r#"
            [[rule]]
            name = "medical_burden_poor"
            factor = 0.2
            condition = "rural_income*factor<oop*10000"
            threshold = "round_div( (factor * rural_income) , 10000 )"
            [[rule]]
            name = "catastrophic_25"
            condition = """
                (oop * 10000)
                  > (budget * factor)"""
            [[rule]]
            name = "impoverishing"
            condition = "!(income < size * monitoring_line) && ((income - oop) < (size * monitoring_line))"
            value = "(income - oop + size / 2) / size"
            [[rule]]
            name = "serious_diagnosis"
            condition = "'' != serious_diagnosis && poor"
            [[rule]]
            name = "large_household_burden"
            who = "all"
            factor = 0.3
            condition = "size >= 5 && oop * 10000 > income * factor && (has_consumption || food > 0)"
            value = "has_consumption ? oop : -oop % 7"
            threshold = "round_div(income * factor, 10000)"
            "#,
        )
        .unwrap();
        assert_eq!(rs.rules.len(), 7);
        for r in &rs.rules {
            assert_eq!(
                r.path(),
                Path::Compiled,
                "{}: {:?}",
                r.name,
                r.expressions().map(|(_, e)| e.interpreted_because()).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn expressions_outside_the_subset_are_interpreted_and_say_why() {
        let rs = RuleSet::from_region_toml(
            r#"
            [[rule]]
            name = "long_code"
            who = "all"
            condition = "size(serious_diagnosis) > 3"
            value = "oop"
            [[rule]]
            name = "listed_code"
            who = "all"
            condition = "serious_diagnosis in ['C16.9', 'C34.1']"
            value = "serious_diagnosis"
            [[rule]]
            name = "mixed"
            who = "all"
            condition = "oop > 0"
            value = "poor ? serious_diagnosis : oop"
            "#,
        )
        .unwrap();
        let paths = paths_of(&rs);
        assert_eq!(paths[..6].iter().filter(|(_, p)| *p == Path::Compiled).count(), 6);
        assert_eq!(
            paths[6..],
            [
                ("long_code".to_string(), Path::Interpreted),
                ("listed_code".to_string(), Path::Interpreted),
                ("mixed".to_string(), Path::Interpreted),
            ]
        );
        let why = |rule: &str, field: &str| {
            let r = rs.get(rule).unwrap();
            r.expressions().find(|(f, _)| *f == field).unwrap().1.interpreted_because().map(str::to_string)
        };
        assert!(why("long_code", "condition").unwrap().contains("`size`"), "{:?}", why("long_code", "condition"));
        assert_eq!(why("long_code", "value"), None, "the value alone is compiled");
        assert!(why("listed_code", "condition").unwrap().contains("`in`"));
        assert!(why("mixed", "value").unwrap().contains("no one type"));
        assert_eq!(rs.get("mixed").unwrap().condition.path(), Path::Compiled);
        // On request everything goes through the interpreter.
        assert!(RuleSet::defaults().interpreted().paths().iter().all(|(_, p)| *p == Path::Interpreted));
    }

    #[test]
    fn round_div_rounds_half_up() {
        assert_eq!(round_div(5, 2).unwrap(), 3);
        assert_eq!(round_div(4, 3).unwrap(), 1);
        assert_eq!(round_div(-5, 2).unwrap(), -2);
        assert_eq!(round_div(-7, 2).unwrap(), -3);
        assert!(round_div(1, 0).is_err());
    }

    #[test]
    fn factors_parse_exactly() {
        assert_eq!(parse_factor(&toml::Value::Float(0.1)).unwrap(), 1000);
        assert_eq!(parse_factor(&toml::Value::Float(0.25)).unwrap(), 2500);
        assert_eq!(parse_factor(&toml::Value::Integer(1)).unwrap(), 10_000);
        assert_eq!(parse_factor(&toml::Value::String("0.0001".into())).unwrap(), 1);
        assert!(parse_factor(&toml::Value::Float(-0.1)).is_err());
    }
}
