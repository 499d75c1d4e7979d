//! Policy files: the TOML text of docs/settlement.md ("Policy file") parsed into a
//! typed, validated [`Policy`].
//!
//! A policy is data an administrator edits, so every refusal names the tier (its
//! 1-based position and its name) and the key, and says why. The source text is
//! kept as given so the store can version it per region and year.

use domain::settlement::ClaimInput;
use domain::{ClaimKind, FacilityLevel, Fen, PovertyStatus, Rate};
use serde::Serialize;
use std::fmt;
use thiserror::Error;
use toml::Value;

/// Number of facility levels, statuses and claim kinds: the sizes of the compact
/// lookup tables below.
pub(crate) const LEVELS: usize = 6;
pub(crate) const STATUSES: usize = 5;
pub(crate) const KINDS: usize = 3;
/// Enrolled or not, times referred or not.
pub(crate) const STANDINGS: usize = 4;

/// A value that may be given once for all facility levels or as a `{ level = value }`
/// table. A level the table leaves out is `None`: the entry does not match claims
/// at that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PerLevel<T> {
    pub values: [Option<T>; LEVELS],
    /// Whether the file gave a table (for explanations and round trips).
    pub table: bool,
}

impl<T: Copy> PerLevel<T> {
    pub fn all(v: T) -> Self {
        PerLevel { values: [Some(v); LEVELS], table: false }
    }

    pub fn get(&self, level: FacilityLevel) -> Option<T> {
        self.values[level.index()]
    }
}

/// Which part of the unpaid bill a tier pays from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// Only the eligible part `E` (政策范围内费用), the default.
    Eligible,
    /// Everything unpaid, `E + N`, taken from `E` first.
    All,
}

/// One band of a banded tier: rate `rate` on the cumulative base from the previous
/// band's `up_to` to this one's (`None`: no upper end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Band {
    pub up_to: Option<Fen>,
    pub rate: Rate,
}

/// How a tier computes its raw payment; exactly one per tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Rate(PerLevel<Rate>),
    Bands(Vec<Band>),
    OopCap(PerLevel<Fen>),
    OopRatioCap(Rate),
}

impl Mode {
    pub fn key(&self) -> &'static str {
        match self {
            Mode::Rate(_) => "rate",
            Mode::Bands(_) => "bands",
            Mode::OopCap(_) => "oop_cap",
            Mode::OopRatioCap(_) => "oop_ratio_cap",
        }
    }
}

/// Which level's cap an `oop_cap` entry measures the year's unpaid total against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapLevel {
    /// The cap of the claim's own level (the default).
    Claim,
    /// The largest cap of the levels this name's entries have met in the year, the
    /// claim's level included (Anhui's "351": a patient treated at several levels
    /// in a year is held to the ceiling of the highest). The largest cap met so
    /// far is kept in the name's accumulator `S`, which `oop_cap` does not use
    /// otherwise; so no `rate` or `bands` entry may share the name.
    Highest,
}

/// The `when` filter of a tier entry; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct When {
    pub statuses: Option<Vec<PovertyStatus>>,
    pub kinds: Option<Vec<ClaimKind>>,
    pub levels: Option<Vec<FacilityLevel>>,
    /// `Some(r)`: only claims whose `referred` is `r` (docs/settlement.md, "Referral").
    pub referred: Option<bool>,
}

impl When {
    pub fn matches(&self, status: PovertyStatus, kind: ClaimKind, level: FacilityLevel, referred: bool) -> bool {
        self.statuses.as_ref().is_none_or(|s| s.contains(&status))
            && self.kinds.as_ref().is_none_or(|k| k.contains(&kind))
            && self.levels.as_ref().is_none_or(|l| l.contains(&level))
            && self.referred.is_none_or(|r| r == referred)
    }
}

impl fmt::Display for When {
    /// `statuses = [lifted, monitored], kinds = [inpatient]`, or `(matches every claim)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T: fmt::Display>(v: &[T]) -> String {
            v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
        }
        let mut parts = Vec::new();
        if let Some(s) = &self.statuses {
            parts.push(format!("statuses = [{}]", list(s)));
        }
        if let Some(k) = &self.kinds {
            parts.push(format!("kinds = [{}]", list(k)));
        }
        if let Some(l) = &self.levels {
            parts.push(format!("levels = [{}]", list(l)));
        }
        if let Some(r) = self.referred {
            parts.push(format!("referred = {r}"));
        }
        if parts.is_empty() {
            f.write_str("(matches every claim)")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// One `[[tier]]` entry of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierEntry {
    pub name: String,
    /// Position of `name` in [`Policy::names`].
    pub name_index: usize,
    pub when: When,
    pub base: Base,
    pub mode: Mode,
    /// 起付线 per admission; defaults to 0 at every level.
    pub claim_deductible: PerLevel<Fen>,
    /// Yearly deductible `D`; 0 when not set.
    pub annual_deductible: Fen,
    pub claim_cap: Option<Fen>,
    pub annual_cap: Option<Fen>,
    /// For `oop_cap` entries: whose level's cap applies; `Claim` for other modes.
    pub oop_cap_level: CapLevel,
    /// `requires_enrolment = true`: the entry does not apply to a claim of a
    /// person not enrolled for the claim's year (docs/settlement.md, "Enrolment").
    pub requires_enrolment: bool,
}

/// What of a claim, besides its status, kind and level, decides which entry
/// applies: enrolment for the year and referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub enrolled: bool,
    pub referred: bool,
}

impl Standing {
    /// Enrolled and referred: what a claim is unless told otherwise.
    pub const USUAL: Standing = Standing { enrolled: true, referred: true };

    fn index(self) -> usize {
        (self.enrolled as usize) * 2 + self.referred as usize
    }

    const ALL: [Standing; 4] = [
        Standing { enrolled: false, referred: false },
        Standing { enrolled: false, referred: true },
        Standing { enrolled: true, referred: false },
        Standing { enrolled: true, referred: true },
    ];
}

impl From<&ClaimInput> for Standing {
    fn from(c: &ClaimInput) -> Self {
        Standing { enrolled: c.enrolled, referred: c.referred }
    }
}

impl TierEntry {
    /// Whether this entry applies to a claim: its filter matches, its enrolment
    /// condition holds and every per-level table it has names the claim's level.
    pub fn matches(&self, status: PovertyStatus, kind: ClaimKind, level: FacilityLevel, standing: Standing) -> bool {
        if !self.when.matches(status, kind, level, standing.referred)
            || (self.requires_enrolment && !standing.enrolled)
            || self.claim_deductible.get(level).is_none()
        {
            return false;
        }
        match &self.mode {
            Mode::Rate(r) => r.get(level).is_some(),
            Mode::OopCap(c) => c.get(level).is_some(),
            Mode::Bands(_) | Mode::OopRatioCap(_) => true,
        }
    }
}

/// A validated settlement policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub name: String,
    pub year: Option<i32>,
    /// Tier entries in file order.
    pub entries: Vec<TierEntry>,
    /// Tier names in order of first appearance: the payment order and the output
    /// columns.
    pub names: Vec<String>,
    /// For every (standing, status, kind, level) and tier name, the first matching
    /// entry, so the hot loop never walks filters: index
    /// `(((standing * STATUSES + status) * KINDS + kind) * LEVELS + level) * names.len() + name`.
    #[serde(skip)]
    lookup: Vec<u16>,
    /// The file as given, for storage and versioning.
    #[serde(skip)]
    source: String,
}

const NO_ENTRY: u16 = u16::MAX;

impl Policy {
    /// Parses and validates a policy file.
    pub fn parse(source: &str) -> Result<Policy, PolicyError> {
        let table: toml::Table = source.parse().map_err(|e: toml::de::Error| PolicyError::Syntax(e.to_string()))?;
        let mut name = None;
        let mut year = None;
        let mut tiers = None;
        for (k, v) in &table {
            match k.as_str() {
                "name" => {
                    name = Some(v.as_str().ok_or_else(|| top(k, "must be a string"))?.to_string());
                }
                "year" => {
                    let y = v.as_integer().ok_or_else(|| top(k, "must be an integer year"))?;
                    if !(1990..=2100).contains(&y) {
                        return Err(top(k, &format!("{y} is not a plausible policy year")));
                    }
                    year = Some(y as i32);
                }
                "tier" => {
                    tiers = Some(v.as_array().ok_or_else(|| top(k, "must be a list of [[tier]] tables"))?);
                }
                _ => return Err(top(k, "is not a policy key (expected name, year, tier)")),
            }
        }
        let tiers = tiers.ok_or_else(|| top("tier", "is missing; a policy needs at least one [[tier]]"))?;
        if tiers.is_empty() {
            return Err(top("tier", "is empty; a policy needs at least one [[tier]]"));
        }
        if tiers.len() >= NO_ENTRY as usize {
            return Err(top("tier", "has too many entries"));
        }
        let mut names: Vec<String> = Vec::new();
        let mut entries = Vec::with_capacity(tiers.len());
        for (i, t) in tiers.iter().enumerate() {
            let entry = parse_tier(i + 1, t, &mut names)?;
            entries.push(entry);
        }
        shared_base_check(&entries)?;
        let mut policy = Policy {
            name: name.unwrap_or_default(),
            year,
            entries,
            names,
            lookup: Vec::new(),
            source: source.to_string(),
        };
        policy.build_lookup();
        Ok(policy)
    }

    fn build_lookup(&mut self) {
        let n = self.names.len();
        let mut lookup = vec![NO_ENTRY; STANDINGS * STATUSES * KINDS * LEVELS * n];
        for st in Standing::ALL {
            for &s in PovertyStatus::ALL {
                for &k in ClaimKind::ALL {
                    for &l in FacilityLevel::ALL {
                        let row = Self::row(st, s, k, l) * n;
                        for (i, e) in self.entries.iter().enumerate() {
                            let slot = &mut lookup[row + e.name_index];
                            if *slot == NO_ENTRY && e.matches(s, k, l, st) {
                                *slot = i as u16;
                            }
                        }
                    }
                }
            }
        }
        self.lookup = lookup;
    }

    #[inline]
    fn row(standing: Standing, status: PovertyStatus, kind: ClaimKind, level: FacilityLevel) -> usize {
        ((standing.index() * STATUSES + status.index()) * KINDS + kind.index()) * LEVELS + level.index()
    }

    /// The entry of tier name `name` that applies to a claim of an enrolled
    /// person with a referral: the first of that name whose filter matches.
    #[inline]
    pub fn entry_for(
        &self,
        name: usize,
        status: PovertyStatus,
        kind: ClaimKind,
        level: FacilityLevel,
    ) -> Option<usize> {
        self.entry_in(name, status, kind, level, Standing::USUAL)
    }

    /// The entry of tier name `name` that applies to `claim` of a person of `status`.
    #[inline]
    pub fn entry_for_claim(&self, name: usize, status: PovertyStatus, claim: &ClaimInput) -> Option<usize> {
        self.entry_in(name, status, claim.kind, claim.level, Standing::from(claim))
    }

    #[inline]
    fn entry_in(
        &self,
        name: usize,
        status: PovertyStatus,
        kind: ClaimKind,
        level: FacilityLevel,
        standing: Standing,
    ) -> Option<usize> {
        let n = self.names.len();
        let i = self.lookup[Self::row(standing, status, kind, level) * n + name];
        (i != NO_ENTRY).then_some(i as usize)
    }

    /// Whether some entry needs the person's enrolment (`requires_enrolment`).
    pub fn requires_enrolment(&self) -> bool {
        self.entries.iter().any(|e| e.requires_enrolment)
    }

    /// The policy file as it was given.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Why a policy file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    #[error("the policy is not valid TOML: {0}")]
    Syntax(String),
    #[error("policy key {key}: {reason}")]
    Top { key: String, reason: String },
    #[error("tier {index} ({name:?}), key {key}: {problem}")]
    Tier {
        /// 1-based position of the `[[tier]]` in the file.
        index: usize,
        /// The tier's name, empty where it has none (yet).
        name: String,
        key: String,
        problem: TierProblem,
    },
}

/// What is wrong with a key of a tier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TierProblem {
    #[error("is not a tier key (expected name, when, base, rate, bands, oop_cap, oop_ratio_cap, oop_cap_level, claim_deductible, annual_deductible, claim_cap, annual_cap, requires_enrolment)")]
    UnknownKey,
    #[error("is missing")]
    Missing,
    #[error("no mode: a tier needs exactly one of rate, bands, oop_cap, oop_ratio_cap")]
    NoMode,
    #[error("two modes ({0} and {1}): a tier needs exactly one of rate, bands, oop_cap, oop_ratio_cap")]
    TwoModes(&'static str, &'static str),
    #[error("bad rate: {0}")]
    BadRate(String),
    #[error("bad bands: {0}")]
    BadBands(String),
    #[error("{0}")]
    UnknownName(String),
    #[error("the amount {0} is negative; amounts must be 0 or more")]
    NegativeAmount(String),
    #[error("bad amount: {0}")]
    BadAmount(String),
    #[error("has the wrong type: expected {0}")]
    WrongType(&'static str),
    #[error("has no meaning with mode {0}")]
    NotForMode(&'static str),
    #[error("{0}")]
    SharedAccumulator(String),
    #[error("applies above the county only: give when.levels, naming only municipal, provincial or out_of_province (a claim at or below the county needs no referral)")]
    ReferralBelowCounty,
}

fn top(key: &str, reason: &str) -> PolicyError {
    PolicyError::Top { key: key.to_string(), reason: reason.to_string() }
}

/// Context for errors inside one tier.
struct Ctx<'a> {
    index: usize,
    name: &'a str,
}

impl Ctx<'_> {
    fn err(&self, key: &str, problem: TierProblem) -> PolicyError {
        PolicyError::Tier { index: self.index, name: self.name.to_string(), key: key.to_string(), problem }
    }
}

const TIER_KEYS: &[&str] = &[
    "name",
    "when",
    "base",
    "rate",
    "bands",
    "oop_cap",
    "oop_ratio_cap",
    "oop_cap_level",
    "claim_deductible",
    "annual_deductible",
    "claim_cap",
    "annual_cap",
    "requires_enrolment",
];

fn parse_tier(index: usize, v: &Value, names: &mut Vec<String>) -> Result<TierEntry, PolicyError> {
    let anon = Ctx { index, name: "" };
    let t = v.as_table().ok_or_else(|| anon.err("tier", TierProblem::WrongType("a table")))?;
    let name = match t.get("name") {
        None => return Err(anon.err("name", TierProblem::Missing)),
        Some(n) => n.as_str().ok_or_else(|| anon.err("name", TierProblem::WrongType("a string")))?,
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(anon.err("name", TierProblem::Missing));
    }
    let cx = Ctx { index, name };
    if let Some(k) = t.keys().find(|k| !TIER_KEYS.contains(&k.as_str())) {
        return Err(cx.err(k, TierProblem::UnknownKey));
    }

    let when = match t.get("when") {
        None => When::default(),
        Some(w) => parse_when(&cx, w)?,
    };
    let base = match t.get("base") {
        None => Base::Eligible,
        Some(b) => match b.as_str() {
            Some("eligible") => Base::Eligible,
            Some("all") => Base::All,
            Some(other) => {
                return Err(cx.err(
                    "base",
                    TierProblem::UnknownName(format!("unknown base {other:?}; expected eligible or all")),
                ))
            }
            None => return Err(cx.err("base", TierProblem::WrongType("\"eligible\" or \"all\""))),
        },
    };

    let modes: Vec<&'static str> =
        ["rate", "bands", "oop_cap", "oop_ratio_cap"].into_iter().filter(|m| t.contains_key(*m)).collect();
    let mode = match modes.as_slice() {
        [] => return Err(cx.err("rate", TierProblem::NoMode)),
        [m] => match *m {
            "rate" => Mode::Rate(per_level(&cx, "rate", &t["rate"], |v| rate_value(&cx, "rate", v))?),
            "bands" => Mode::Bands(parse_bands(&cx, &t["bands"])?),
            "oop_cap" => Mode::OopCap(per_level(&cx, "oop_cap", &t["oop_cap"], |v| amount(&cx, "oop_cap", v))?),
            _ => Mode::OopRatioCap(rate_value(&cx, "oop_ratio_cap", &t["oop_ratio_cap"])?),
        },
        [a, b, ..] => return Err(cx.err(b, TierProblem::TwoModes(a, b))),
    };

    // Deductibles only shape the base `x` of rate and bands; on a cap mode they
    // would be silently ignored, which is worse than a refusal.
    let deductible_allowed = matches!(mode, Mode::Rate(_) | Mode::Bands(_));
    for k in ["claim_deductible", "annual_deductible"] {
        if t.contains_key(k) && !deductible_allowed {
            return Err(cx.err(k, TierProblem::NotForMode(mode.key())));
        }
    }
    let claim_deductible = match t.get("claim_deductible") {
        None => PerLevel::all(Fen::ZERO),
        Some(v) => per_level(&cx, "claim_deductible", v, |v| amount(&cx, "claim_deductible", v))?,
    };
    let annual_deductible = match t.get("annual_deductible") {
        None => Fen::ZERO,
        Some(v) => amount(&cx, "annual_deductible", v)?,
    };
    let oop_cap_level = match t.get("oop_cap_level") {
        None => CapLevel::Claim,
        Some(_) if !matches!(mode, Mode::OopCap(_)) => {
            return Err(cx.err("oop_cap_level", TierProblem::NotForMode(mode.key())))
        }
        Some(v) => match v.as_str() {
            Some("claim") => CapLevel::Claim,
            Some("highest") => CapLevel::Highest,
            Some(other) => {
                return Err(cx.err(
                    "oop_cap_level",
                    TierProblem::UnknownName(format!("unknown oop_cap_level {other:?}; expected claim or highest")),
                ))
            }
            None => return Err(cx.err("oop_cap_level", TierProblem::WrongType("\"claim\" or \"highest\""))),
        },
    };
    let claim_cap = t.get("claim_cap").map(|v| amount(&cx, "claim_cap", v)).transpose()?;
    let annual_cap = t.get("annual_cap").map(|v| amount(&cx, "annual_cap", v)).transpose()?;
    let requires_enrolment = match t.get("requires_enrolment") {
        None => false,
        Some(v) => v.as_bool().ok_or_else(|| cx.err("requires_enrolment", TierProblem::WrongType("true or false")))?,
    };

    let name_index = match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    };
    Ok(TierEntry {
        name: name.to_string(),
        name_index,
        when,
        base,
        mode,
        claim_deductible,
        annual_deductible,
        claim_cap,
        annual_cap,
        oop_cap_level,
        requires_enrolment,
    })
}

/// `oop_cap_level = "highest"` keeps the largest cap met in the name's `S`, which
/// rate and bands entries use for their base: the two may not share a name.
fn shared_base_check(entries: &[TierEntry]) -> Result<(), PolicyError> {
    for (i, e) in entries.iter().enumerate() {
        let uses_base = |x: &TierEntry| matches!(x.mode, Mode::Rate(_) | Mode::Bands(_));
        let highest = |x: &TierEntry| x.oop_cap_level == CapLevel::Highest;
        let clash = entries[..i].iter().position(|o| {
            o.name_index == e.name_index && ((highest(e) && uses_base(o)) || (uses_base(e) && highest(o)))
        });
        if let Some(j) = clash {
            let key = if highest(e) { "oop_cap_level" } else { e.mode.key() };
            return Err(PolicyError::Tier {
                index: i + 1,
                name: e.name.clone(),
                key: key.to_string(),
                problem: TierProblem::SharedAccumulator(format!(
                    "tier {} of the same name is {}; an oop_cap entry with oop_cap_level = \"highest\" keeps its highest cap where rate and bands keep their base, so the two need different names",
                    j + 1,
                    if highest(e) { format!("a {} entry", entries[j].mode.key()) } else { "an oop_cap entry with oop_cap_level = \"highest\"".to_string() }
                )),
            });
        }
    }
    Ok(())
}

fn parse_when(cx: &Ctx, w: &Value) -> Result<When, PolicyError> {
    let t = w.as_table().ok_or_else(|| cx.err("when", TierProblem::WrongType("a table like { statuses = [...] }")))?;
    let mut when = When::default();
    for (k, v) in t {
        let key = format!("when.{k}");
        match k.as_str() {
            "statuses" => when.statuses = Some(names_list(cx, &key, v)?),
            "kinds" => when.kinds = Some(names_list(cx, &key, v)?),
            "levels" => when.levels = Some(names_list(cx, &key, v)?),
            "referred" => {
                when.referred = Some(v.as_bool().ok_or_else(|| cx.err(&key, TierProblem::WrongType("true or false")))?)
            }
            _ => return Err(cx.err(&key, TierProblem::UnknownKey)),
        }
    }
    // Referral tells claims apart above the county only: at or below it a
    // patient needs none, and a claim there says "not referred" (the default
    // of files and forms). So an entry that filters on referral names its
    // levels, all above the county.
    if when.referred.is_some() {
        let at_or_below = |l: &FacilityLevel| l.index() <= FacilityLevel::County.index();
        match &when.levels {
            Some(levels) if !levels.iter().any(at_or_below) => {}
            _ => return Err(cx.err("when.referred", TierProblem::ReferralBelowCounty)),
        }
    }
    Ok(when)
}

fn names_list<T: std::str::FromStr<Err = domain::DomainError>>(
    cx: &Ctx,
    key: &str,
    v: &Value,
) -> Result<Vec<T>, PolicyError> {
    let arr = v.as_array().ok_or_else(|| cx.err(key, TierProblem::WrongType("a list of names")))?;
    arr.iter()
        .map(|x| {
            let s = x.as_str().ok_or_else(|| cx.err(key, TierProblem::WrongType("a list of names")))?;
            s.parse::<T>().map_err(|e| cx.err(key, TierProblem::UnknownName(e.0)))
        })
        .collect()
}

fn per_level<T: Copy>(
    cx: &Ctx,
    key: &str,
    v: &Value,
    one: impl Fn(&Value) -> Result<T, PolicyError>,
) -> Result<PerLevel<T>, PolicyError> {
    let Some(t) = v.as_table() else {
        return Ok(PerLevel::all(one(v)?));
    };
    let mut values = [None; LEVELS];
    for (k, x) in t {
        let level: FacilityLevel =
            k.parse().map_err(|e: domain::DomainError| cx.err(&format!("{key}.{k}"), TierProblem::UnknownName(e.0)))?;
        values[level.index()] = Some(one(x)?);
    }
    Ok(PerLevel { values, table: true })
}

fn rate_value(cx: &Ctx, key: &str, v: &Value) -> Result<Rate, PolicyError> {
    let x = match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        _ => return Err(cx.err(key, TierProblem::WrongType("a rate between 0 and 1"))),
    };
    Rate::from_f64(x).map_err(|e| cx.err(key, TierProblem::BadRate(e.0)))
}

/// An amount in yuan (integer, or decimal with at most two decimals) as fen.
fn amount(cx: &Ctx, key: &str, v: &Value) -> Result<Fen, PolicyError> {
    match v {
        Value::Integer(i) => {
            if *i < 0 {
                return Err(cx.err(key, TierProblem::NegativeAmount(i.to_string())));
            }
            if *i > 10_000_000_000_000 {
                return Err(cx.err(key, TierProblem::BadAmount(format!("{i} is too large"))));
            }
            Ok(Fen::from_yuan(*i))
        }
        Value::Float(f) => {
            if *f < 0.0 {
                return Err(cx.err(key, TierProblem::NegativeAmount(f.to_string())));
            }
            if !f.is_finite() || *f > 1e13 {
                return Err(cx.err(key, TierProblem::BadAmount(format!("{f} is not a usable amount"))));
            }
            let scaled = f * 100.0;
            let r = scaled.round();
            if (scaled - r).abs() > 1e-6 * r.abs().max(1.0) {
                return Err(cx.err(
                    key,
                    TierProblem::BadAmount(format!("{f} has more than two decimals; money is kept to the fen")),
                ));
            }
            Ok(Fen(r as i64))
        }
        _ => Err(cx.err(key, TierProblem::WrongType("an amount in yuan"))),
    }
}

fn parse_bands(cx: &Ctx, v: &Value) -> Result<Vec<Band>, PolicyError> {
    let bad = |m: String| cx.err("bands", TierProblem::BadBands(m));
    let arr = v.as_array().ok_or_else(|| cx.err("bands", TierProblem::WrongType("a list of { up_to, rate }")))?;
    if arr.is_empty() {
        return Err(bad("the list is empty".into()));
    }
    let mut bands = Vec::with_capacity(arr.len());
    let mut prev = Fen::ZERO;
    for (i, b) in arr.iter().enumerate() {
        let t = b.as_table().ok_or_else(|| cx.err("bands", TierProblem::WrongType("a list of { up_to, rate }")))?;
        if let Some(k) = t.keys().find(|k| *k != "up_to" && *k != "rate") {
            return Err(cx.err(&format!("bands[{}].{k}", i + 1), TierProblem::UnknownKey));
        }
        let rate = match t.get("rate") {
            Some(r) => rate_value(cx, &format!("bands[{}].rate", i + 1), r)?,
            None => return Err(cx.err(&format!("bands[{}].rate", i + 1), TierProblem::Missing)),
        };
        let up_to = t.get("up_to").map(|u| amount(cx, &format!("bands[{}].up_to", i + 1), u)).transpose()?;
        match up_to {
            None if i + 1 < arr.len() => {
                return Err(bad(format!("band {} has no up_to; only the last band may omit it", i + 1)))
            }
            Some(u) if u <= prev => {
                return Err(bad(format!(
                    "band {} ends at {u} yuan, not above the previous band's end {prev} yuan; up_to must rise",
                    i + 1
                )))
            }
            _ => {}
        }
        if let Some(u) = up_to {
            prev = u;
        }
        bands.push(Band { up_to, rate });
    }
    Ok(bands)
}

/// Which policy is in force (docs/settlement.md, "Policy in force"), the one rule
/// every path uses. Policies are given as `(region, year, version)`, the region a
/// code prefix (`""` for the nation): the one in force for a village in a year is
/// the latest version of the longest prefix of the village's code that has a
/// policy for that year. Returns its position in `policies`, `None` when no
/// policy covers the village in that year.
pub fn policy_in_force<'a>(
    policies: impl IntoIterator<Item = (&'a str, i32, i64)>,
    village: domain::RegionCode,
    year: i32,
) -> Option<usize> {
    let code = village.to_string();
    policies
        .into_iter()
        .enumerate()
        .filter(|(_, (region, y, _))| *y == year && code.starts_with(region))
        .max_by_key(|(_, (region, _, version))| (region.len(), *version))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod in_force_tests {
    use super::policy_in_force;
    use domain::RegionCode;

    #[test]
    fn the_longest_prefix_then_the_latest_version() {
        let v = RegionCode::parse("341122100201").unwrap();
        let ps = [("34", 2024, 1), ("341122", 2024, 1), ("341122", 2024, 2), ("341123", 2024, 3), ("", 2024, 9)];
        assert_eq!(policy_in_force(ps.iter().map(|p| (p.0, p.1, p.2)), v, 2024), Some(2));
        assert_eq!(policy_in_force(ps.iter().map(|p| (p.0, p.1, p.2)), v, 2023), None);
        let other = RegionCode::parse("110101001001").unwrap();
        assert_eq!(policy_in_force(ps.iter().map(|p| (p.0, p.1, p.2)), other, 2024), Some(4), "the nation's");
        assert_eq!(policy_in_force(ps[..4].iter().map(|p| (p.0, p.1, p.2)), other, 2024), None);
    }
}

#[cfg(test)]
mod referral_tests {
    use super::*;

    const VARIANT: &str = r#"
[[tier]]
name = "basic"
when = { levels = ["municipal", "provincial"], referred = false }
rate = 0.5

[[tier]]
name = "basic"
rate = 0.8
"#;

    #[test]
    fn a_referral_filter_names_levels_above_the_county_only() {
        assert!(Policy::parse(VARIANT).is_ok());
        for when in [
            "{ referred = false }",
            "{ levels = [\"county\", \"municipal\"], referred = false }",
            "{ levels = [\"village\"], referred = true }",
        ] {
            let src = format!("[[tier]]\nname = \"basic\"\nwhen = {when}\nrate = 0.5\n");
            let e = Policy::parse(&src).unwrap_err().to_string();
            assert!(e.contains("when.referred") && e.contains("above the county"), "{when}: {e}");
        }
    }

    #[test]
    fn a_claim_above_the_county_without_referral_gets_the_variant() {
        let p = Policy::parse(VARIANT).unwrap();
        let claim = |level, referred| ClaimInput {
            level,
            kind: ClaimKind::Inpatient,
            total_cost: Fen(100_001),
            eligible_cost: Fen(100_001),
            enrolled: true,
            referred,
        };
        let pay = |c: &ClaimInput| {
            let mut acc = crate::Accumulators::new(&p);
            crate::settle_claim(&p, c, PovertyStatus::General, &mut acc).payments[0]
        };
        // 50% of 1,000.01 yuan is 500.005: half a fen rounds up.
        assert_eq!(pay(&claim(FacilityLevel::Municipal, false)), Fen(50_001));
        assert_eq!(pay(&claim(FacilityLevel::Municipal, true)), Fen(80_001));
        // At the county a referral does not matter.
        assert_eq!(pay(&claim(FacilityLevel::County, false)), Fen(80_001));
        assert_eq!(pay(&claim(FacilityLevel::County, true)), Fen(80_001));
    }
}
