//! Indicators as data. Each indicator is a numerator (a base measure, or a sum of
//! them), an optional denominator, an optional filter on the facts' slices
//! (poverty status, claim kind, facility level), an optional filter of the
//! numerator alone (a share of some facility levels among all), and a unit,
//! with its Chinese and English names. The
//! shipped definitions live in `indicators.toml` beside this crate; a deployment
//! extends or overrides them with its own file of the same form, where an entry of
//! the same `id` replaces the shipped one and `disabled = true` drops it.
//!
//! This module owns parsing and checking definitions; it refuses an unknown
//! measure, an empty formula or term, a filter on a slice the measure does not
//! carry, and a share of unlike quantities, each with the file, line and column.

use crate::measure::{Measure, Quantity, Slice};
use domain::{ClaimKind, FacilityLevel, PovertyStatus};
use serde::Deserialize;
use std::fmt;
use thiserror::Error;
use toml::Spanned;

/// The shipped definitions.
pub const SHIPPED: &str = include_str!("../indicators.toml");

/// A definition that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{origin}:{line}:{column}: {reason}")]
pub struct DefinitionError {
    /// The file (or `shipped indicators.toml`).
    pub origin: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub reason: String,
}

/// How an indicator's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A ratio in [0, 1].
    Share,
    /// A ratio times 100.
    Percent,
    /// Money in yuan (numerator of money; with a denominator, an average).
    Amount,
    /// A number (with a denominator, an average).
    Count,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Share => "share",
            Unit::Percent => "percent",
            Unit::Amount => "amount",
            Unit::Count => "count",
        }
    }
}

/// Which slices of the facts an indicator counts. A bit per status / kind /
/// level, so a check is one mask test in the cube's hot loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Filter {
    statuses: u8,
    kinds: u8,
    levels: u8,
}

impl Filter {
    pub const ALL: Filter = Filter { statuses: u8::MAX, kinds: u8::MAX, levels: u8::MAX };

    pub fn new(statuses: Option<&[PovertyStatus]>, kinds: Option<&[ClaimKind]>) -> Filter {
        Filter::with_levels(statuses, kinds, None)
    }

    pub fn with_levels(
        statuses: Option<&[PovertyStatus]>,
        kinds: Option<&[ClaimKind]>,
        levels: Option<&[FacilityLevel]>,
    ) -> Filter {
        let mask = |ix: &mut dyn Iterator<Item = usize>| ix.fold(0u8, |m, i| m | (1 << i));
        Filter {
            statuses: statuses.map(|s| mask(&mut s.iter().map(|x| x.index()))).unwrap_or(u8::MAX),
            kinds: kinds.map(|k| mask(&mut k.iter().map(|x| x.index()))).unwrap_or(u8::MAX),
            levels: levels.map(|k| mask(&mut k.iter().map(|x| x.index()))).unwrap_or(u8::MAX),
        }
    }

    /// The slices both filters let through.
    pub fn and(self, other: Filter) -> Filter {
        Filter {
            statuses: self.statuses & other.statuses,
            kinds: self.kinds & other.kinds,
            levels: self.levels & other.levels,
        }
    }

    /// Whether a fact of this slice counts. A slice without a status (or kind,
    /// or level) is not filtered on it: definitions never filter a measure on a
    /// slice it lacks.
    pub fn matches(self, s: Slice) -> bool {
        s.status.is_none_or(|x| self.statuses & (1 << x.index()) != 0)
            && s.kind.is_none_or(|x| self.kinds & (1 << x.index()) != 0)
            && s.level.is_none_or(|x| self.levels & (1 << x.index()) != 0)
    }

    pub fn filters_level(self) -> bool {
        self.levels != u8::MAX
    }

    pub fn filters_status(self) -> bool {
        self.statuses != u8::MAX
    }

    pub fn filters_kind(self) -> bool {
        self.kinds != u8::MAX
    }

    /// `statuses: lifted, monitored; kinds: inpatient; levels: village`, or empty for none.
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if self.filters_status() {
            let s: Vec<&str> = PovertyStatus::ALL
                .iter()
                .filter(|x| self.statuses & (1 << x.index()) != 0)
                .map(|x| x.as_str())
                .collect();
            parts.push(format!("statuses: {}", s.join(", ")));
        }
        if self.filters_kind() {
            let k: Vec<&str> =
                ClaimKind::ALL.iter().filter(|x| self.kinds & (1 << x.index()) != 0).map(|x| x.as_str()).collect();
            parts.push(format!("kinds: {}", k.join(", ")));
        }
        if self.filters_level() {
            let k: Vec<&str> =
                FacilityLevel::ALL.iter().filter(|x| self.levels & (1 << x.index()) != 0).map(|x| x.as_str()).collect();
            parts.push(format!("levels: {}", k.join(", ")));
        }
        parts.join("; ")
    }
}

/// One indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorDef {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// Summed.
    pub numerator: Vec<Measure>,
    /// Summed; `None` for a plain total.
    pub denominator: Option<Vec<Measure>>,
    pub filter: Filter,
    /// Applied to the numerator only, on top of `filter`: the share of some
    /// slices (facility levels, say) among all. [`Filter::ALL`] when none.
    pub numerator_filter: Filter,
    pub unit: Unit,
}

impl IndicatorDef {
    /// The formula as people read it: `(a + b) / c`, with the filter.
    pub fn formula(&self) -> String {
        let sum = |ms: &[Measure]| {
            let s: Vec<&str> = ms.iter().map(|m| m.as_str()).collect();
            if s.len() > 1 {
                format!("({})", s.join(" + "))
            } else {
                s.join("")
            }
        };
        let mut f = sum(&self.numerator);
        let only = self.numerator_filter.describe();
        if !only.is_empty() {
            f = format!("{f}[{only}]");
        }
        if let Some(d) = &self.denominator {
            f = format!("{f} / {}", sum(d));
        }
        if self.unit == Unit::Percent {
            f = format!("100 * {f}");
        }
        let filt = self.filter.describe();
        if !filt.is_empty() {
            f = format!("{f} [{filt}]");
        }
        f
    }

    /// Whether the numerator is money (and so shown in yuan).
    pub fn numerator_is_money(&self) -> bool {
        self.numerator[0].quantity() == Quantity::Money
    }

    pub fn denominator_is_money(&self) -> bool {
        self.denominator.as_ref().is_some_and(|d| d[0].quantity() == Quantity::Money)
    }
}

/// An ordered set of indicators with distinct ids.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Definitions {
    pub indicators: Vec<IndicatorDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    indicator: Vec<Spanned<RawIndicator>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: Spanned<String>,
    name_zh: Option<Spanned<String>>,
    name_en: Option<Spanned<String>>,
    numerator: Option<Spanned<String>>,
    denominator: Option<Spanned<String>>,
    filter: Option<Spanned<RawFilter>>,
    numerator_filter: Option<Spanned<RawFilter>>,
    unit: Option<Spanned<String>>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    statuses: Option<Vec<String>>,
    kinds: Option<Vec<String>>,
    levels: Option<Vec<String>>,
}

/// Turns a byte offset into a 1-based line and column.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

impl Definitions {
    /// The shipped definitions.
    pub fn shipped() -> Definitions {
        Definitions::parse(SHIPPED, "shipped indicators.toml").expect("the shipped indicators.toml is valid")
    }

    /// Reads one file of definitions on its own.
    pub fn parse(text: &str, origin: &str) -> Result<Definitions, DefinitionError> {
        let mut d = Definitions::default();
        d.merge(text, origin)?;
        Ok(d)
    }

    /// Applies a deployment's file over these definitions: an entry with a known id
    /// replaces it in place, a new id is appended, `disabled = true` removes one.
    /// Nothing changes if the file has an error.
    pub fn merge(&mut self, text: &str, origin: &str) -> Result<(), DefinitionError> {
        let err = |span: std::ops::Range<usize>, reason: String| {
            let (line, column) = line_col(text, span.start);
            DefinitionError { origin: origin.to_string(), line, column, reason }
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            err(span, e.message().to_string())
        })?;
        let mut out = self.indicators.clone();
        let mut seen = std::collections::HashSet::new();
        for entry in raw.indicator {
            let span = entry.span();
            let r = entry.into_inner();
            let id = r.id.get_ref().trim().to_string();
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(err(r.id.span(), format!("the id {id:?} must be lower-case letters, digits and _")));
            }
            if !seen.insert(id.clone()) {
                return Err(err(r.id.span(), format!("the indicator {id} is defined twice in this file")));
            }
            if r.disabled {
                let before = out.len();
                out.retain(|d| d.id != id);
                if out.len() == before {
                    return Err(err(r.id.span(), format!("disables the indicator {id}, which is not defined")));
                }
                continue;
            }
            let need = |f: Option<Spanned<String>>, name: &str| -> Result<Spanned<String>, DefinitionError> {
                f.ok_or_else(|| err(span.clone(), format!("the indicator {id} lacks {name}")))
            };
            let name_zh = need(r.name_zh, "name_zh")?;
            let name_en = need(r.name_en, "name_en")?;
            for n in [&name_zh, &name_en] {
                if n.get_ref().trim().is_empty() {
                    return Err(err(n.span(), format!("the indicator {id} has an empty name")));
                }
            }
            let unit_s = need(r.unit, "unit (share, percent, amount or count)")?;
            let unit = match unit_s.get_ref().trim() {
                "share" => Unit::Share,
                "percent" => Unit::Percent,
                "amount" => Unit::Amount,
                "count" => Unit::Count,
                other => {
                    return Err(err(
                        unit_s.span(),
                        format!("unknown unit {other:?}; expected share, percent, amount or count"),
                    ))
                }
            };
            let numerator_s = need(r.numerator, "a numerator")?;
            let numerator = parse_formula(numerator_s.get_ref()).map_err(|e| err(numerator_s.span(), e))?;
            let denominator = match &r.denominator {
                None => None,
                Some(d) => Some(parse_formula(d.get_ref()).map_err(|e| err(d.span(), e))?),
            };
            if matches!(unit, Unit::Share | Unit::Percent) && denominator.is_none() {
                return Err(err(
                    span.clone(),
                    format!("the indicator {id} is a {} and needs a denominator", unit.as_str()),
                ));
            }
            for (f, s) in [
                (Some(&numerator), &numerator_s),
                (denominator.as_ref(), r.denominator.as_ref().unwrap_or(&numerator_s)),
            ] {
                if let Some(f) = f {
                    if f.iter().any(|m| m.quantity() != f[0].quantity()) {
                        return Err(err(s.span(), "the formula adds money to counts".to_string()));
                    }
                }
            }
            if let Some(d) = &denominator {
                if matches!(unit, Unit::Share | Unit::Percent) && d[0].quantity() != numerator[0].quantity() {
                    return Err(err(
                        span.clone(),
                        format!("the indicator {id} is a share of unlike quantities (money and counts)"),
                    ));
                }
            }
            if unit == Unit::Amount && numerator[0].quantity() != Quantity::Money {
                return Err(err(
                    numerator_s.span(),
                    format!("the indicator {id} is an amount but its numerator counts"),
                ));
            }
            let filter_of = |raw: &Option<Spanned<RawFilter>>, terms: &mut dyn Iterator<Item = &Measure>| match raw {
                None => Ok(Filter::ALL),
                Some(f) => parse_filter(f, &id, terms).map_err(|(span, reason)| err(span, reason)),
            };
            let filter = filter_of(&r.filter, &mut numerator.iter().chain(denominator.iter().flatten()))?;
            let numerator_filter = filter_of(&r.numerator_filter, &mut numerator.iter())?;
            if r.numerator_filter.is_some() && denominator.is_none() {
                return Err(err(
                    r.numerator_filter.as_ref().map(|f| f.span()).unwrap_or(span.clone()),
                    format!("the indicator {id} has a numerator_filter but no denominator: use filter"),
                ));
            }
            let def = IndicatorDef {
                id: id.clone(),
                name_zh: name_zh.into_inner().trim().to_string(),
                name_en: name_en.into_inner().trim().to_string(),
                numerator,
                denominator,
                filter,
                numerator_filter,
                unit,
            };
            match out.iter_mut().find(|d| d.id == id) {
                Some(slot) => *slot = def,
                None => out.push(def),
            }
        }
        self.indicators = out;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&IndicatorDef> {
        self.indicators.iter().find(|d| d.id == id)
    }
}

/// A filter's lists checked against the measures it filters.
fn parse_filter(
    f: &Spanned<RawFilter>,
    id: &str,
    terms: &mut dyn Iterator<Item = &Measure>,
) -> Result<Filter, (std::ops::Range<usize>, String)> {
    let fs = f.span();
    let f = f.get_ref();
    fn list<T: std::str::FromStr<Err = domain::DomainError>>(
        v: &Option<Vec<String>>,
    ) -> Result<Option<Vec<T>>, String> {
        v.as_ref().map(|v| v.iter().map(|s| s.parse::<T>()).collect::<Result<Vec<_>, _>>()).transpose().map_err(|e| e.0)
    }
    let statuses = list::<PovertyStatus>(&f.statuses).map_err(|e| (fs.clone(), e))?;
    let kinds = list::<ClaimKind>(&f.kinds).map_err(|e| (fs.clone(), e))?;
    let levels = list::<FacilityLevel>(&f.levels).map_err(|e| (fs.clone(), e))?;
    if statuses.as_ref().is_some_and(|s| s.is_empty())
        || kinds.as_ref().is_some_and(|k| k.is_empty())
        || levels.as_ref().is_some_and(|k| k.is_empty())
    {
        return Err((fs, format!("the filter of {id} has an empty list, which would match nothing")));
    }
    let filter = Filter::with_levels(statuses.as_deref(), kinds.as_deref(), levels.as_deref());
    for m in terms {
        if filter.filters_status() && !m.dims().status {
            return Err((
                fs,
                format!("the measure {m} is not broken down by poverty status, so {id} cannot filter it on statuses"),
            ));
        }
        if filter.filters_kind() && !m.dims().kind {
            return Err((
                fs,
                format!("the measure {m} is not broken down by claim kind, so {id} cannot filter it on kinds"),
            ));
        }
        if filter.filters_level() && !m.dims().level {
            return Err((
                fs,
                format!("the measure {m} is not broken down by facility level, so {id} cannot filter it on levels"),
            ));
        }
    }
    Ok(filter)
}

/// `a + b + c` into measures.
fn parse_formula(s: &str) -> Result<Vec<Measure>, String> {
    if s.trim().is_empty() {
        return Err("the formula is empty; name a base measure or a sum of them (a + b)".into());
    }
    s.split('+')
        .map(|t| {
            let t = t.trim();
            if t.is_empty() {
                return Err(format!("the formula {s:?} has an empty term"));
            }
            t.parse::<Measure>()
        })
        .collect()
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_definitions_parse() {
        let d = Definitions::shipped();
        for id in [
            "poor_patients_treated_share",
            "poor_treated_in_county_share",
            "poor_out_of_pocket_share",
            "households_warned",
            "warned_households_assisted_share",
            "villages_with_qualified_doctor_share",
            "population_within_15min_share",
            "poor_chronic_contracted_share",
        ] {
            assert!(d.get(id).is_some(), "{id} missing");
        }
        let f = d.get("poor_out_of_pocket_share").unwrap().formula();
        assert!(f.contains("out_of_pocket / total_cost") && f.contains("statuses"), "{f}");
    }

    fn one(body: &str) -> Result<Definitions, DefinitionError> {
        Definitions::parse(
            &format!("[[indicator]]\nid = \"x\"\nname_zh = \"某\"\nname_en = \"X\"\n{body}"),
            "over.toml",
        )
    }

    #[test]
    fn bad_definitions_are_refused_with_where_and_why() {
        let e = one("numerator = \"claims + poor_patient\"\ndenominator = \"claims\"\nunit = \"share\"").unwrap_err();
        assert_eq!((e.origin.as_str(), e.line, e.column), ("over.toml", 5, 13));
        assert!(e.reason.contains("unknown measure \"poor_patient\""), "{e}");
        let e = one("numerator = \"\"\nunit = \"count\"").unwrap_err();
        assert!(e.reason.contains("empty"), "{e}");
        let e = one("numerator = \"claims + \"\nunit = \"count\"").unwrap_err();
        assert!(e.reason.contains("empty term"), "{e}");
        let e = one("numerator = \"claims\"\nunit = \"share\"").unwrap_err();
        assert!(e.reason.contains("needs a denominator"), "{e}");
        let e = one("numerator = \"villages\"\ndenominator = \"villages\"\nunit = \"share\"\nfilter = { statuses = [\"lifted\"] }")
            .unwrap_err();
        assert!(e.reason.contains("not broken down by poverty status"), "{e}");
        let e = one("numerator = \"total_cost\"\ndenominator = \"claims\"\nunit = \"percent\"").unwrap_err();
        assert!(e.reason.contains("unlike"), "{e}");
        let e = one("numerator = \"total_cost + claims\"\nunit = \"amount\"").unwrap_err();
        assert!(e.reason.contains("adds money to counts"), "{e}");
        let e = one("numerator = \"claims\"\nunit = \"ratio\"").unwrap_err();
        assert!(e.reason.contains("unknown unit"), "{e}");
        let e = one("numerator = \"claims\"\nunit = \"count\"\nfilter = { statuses = [\"rich\"] }").unwrap_err();
        assert!(e.reason.contains("unknown poverty status"), "{e}");
        let e = one("numerator = \"claims\"\nunit = \"count\"\nweight = 2").unwrap_err();
        assert!(e.reason.contains("unknown field"), "{e}");
        let e = one("numerator = \"households\"\ndenominator = \"households\"\nunit = \"share\"\nfilter = { levels = [\"village\"] }")
            .unwrap_err();
        assert!(e.reason.contains("not broken down by facility level"), "{e}");
        let e = one("numerator = \"claims\"\nunit = \"count\"\nfilter = { levels = [\"hamlet\"] }").unwrap_err();
        assert!(e.reason.contains("unknown facility level"), "{e}");
        let e = one("numerator = \"claims\"\nunit = \"count\"\nfilter = { levels = [] }").unwrap_err();
        assert!(e.reason.contains("empty list"), "{e}");
        let e =
            one("numerator = \"claims\"\nunit = \"count\"\nnumerator_filter = { levels = [\"village\"] }").unwrap_err();
        assert!(e.reason.contains("no denominator"), "{e}");
        let e = one("numerator = \"households_warned\"\ndenominator = \"households\"\nunit = \"percent\"\nnumerator_filter = { kinds = [\"inpatient\"] }")
            .unwrap_err();
        assert!(e.reason.contains("not broken down by claim kind"), "{e}");
        // A level filter on claim measures, and the numerator's own filter.
        let d = one("numerator = \"out_of_pocket\"\ndenominator = \"total_cost\"\nunit = \"percent\"\nfilter = { levels = [\"county\"] }\nnumerator_filter = { statuses = [\"lifted\"] }")
            .unwrap();
        let x = d.get("x").unwrap();
        assert!(x.filter.filters_level() && !x.filter.filters_status());
        assert!(x.numerator_filter.filters_status());
        assert!(
            x.formula().contains("out_of_pocket[statuses: lifted] / total_cost")
                && x.formula().contains("levels: county"),
            "{}",
            x.formula()
        );
    }

    #[test]
    fn a_deployment_file_overrides_extends_and_disables() {
        let mut d = Definitions::shipped();
        let n = d.indicators.len();
        let over = r#"
[[indicator]]
id = "poor_out_of_pocket_share"
name_zh = "住院自付比例"
name_en = "Out-of-pocket share of inpatient costs"
numerator = "out_of_pocket"
denominator = "total_cost"
filter = { kinds = ["inpatient"] }
unit = "share"

[[indicator]]
id = "paid_by_funds"
name_zh = "各项基金支付"
name_en = "Paid by the funds"
numerator = "paid_basic + paid_critical + paid_assistance + paid_safety_net"
unit = "amount"

[[indicator]]
id = "households_warned"
disabled = true
"#;
        d.merge(over, "deploy.toml").unwrap();
        assert_eq!(d.indicators.len(), n);
        let o = d.get("poor_out_of_pocket_share").unwrap();
        assert_eq!(o.unit, Unit::Share);
        assert!(o.filter.filters_kind() && !o.filter.filters_status());
        assert_eq!(d.get("paid_by_funds").unwrap().numerator.len(), 4);
        assert!(d.get("households_warned").is_none());
        // An error leaves the definitions as they were.
        let before = d.clone();
        assert!(d.merge("[[indicator]]\nid = \"nope\"\ndisabled = true\n", "x.toml").is_err());
        assert_eq!(d, before);
    }
}
