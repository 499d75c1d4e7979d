//! A synthetic county or province over the real division table, for the demo,
//! tests and benchmarks.
//!
//! This crate owns the invention of registry data: villages under real townships,
//! households and people with valid resident IDs, poverty statuses, diagnoses,
//! facilities and their staff, a year of claims, the monitoring thresholds and the
//! demo's settlement policy. The provinces, cities, counties and townships and
//! their codes and names are the National Bureau of Statistics' own (embedded from
//! `data/divisions`); everything below a township is invented.
//!
//! Shapes are calibrated to the programme's published figures and to national
//! statistics, rounded; docs/synth.md says which figure comes from where and which
//! are estimates: household size 1 to 8 with a mean near 3.2; per-capita income
//! log-normal with a median of 0.9 of the province's rural income, consumption
//! about 0.85 of income; poverty statuses in the shares of a formerly poor county;
//! hypertension in about a fifth of adults; staff per 1,000 people served (village
//! clinics and township centres about 1.5 each); village doctors of whom about a
//! quarter are 60 or older, with blank villages at Anhui's 1.2% and a few percent
//! more over five years; claims about 2.5 per person a year, about 17 admissions
//! per 100 persons (more for the poor), nine in ten of them in the county, costs
//! log-normal by facility level; and a policy with the programme's layers of
//! protection, under which the poor pay about a tenth of their costs.
//!
//! Output streams: the generator plans the regions and facilities (small: one
//! record per village), then generates people township by township, each village
//! from its own random stream seeded by `(seed, village code)`. Nothing holds a
//! province's households, persons or claims at once, and the same seed gives the
//! same bytes whether townships run in order ([`generate`]) or in parallel
//! ([`write_dir`]).

mod out;
mod people;
mod plan;
mod rng;
mod tables;

pub use out::{thresholds_toml, write_dir, write_dir_with_progress, FileSummary, Progress, Written};
pub use plan::default_county;

use domain::{Claim, Facility, Household, Person, PovertyStatus, Practitioner, Region, Threshold};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// One real county with about 6,000 households: tests and the demo, seconds.
    Small,
    /// One real county at the design's county scale: about 300 villages and
    /// 120,000 households (at 3.2 persons each, about 390,000 persons and, at 2.5
    /// claims each, about 970,000 claims: the design's 400,000 and 1 million).
    County,
    /// Every county of one real province, about 14 villages of 450 households per
    /// township (Anhui: 22,000 villages, about 9 million households, 30 million
    /// persons, 75 million claims at 2.5 a person, 11 GB of files).
    Province,
}

impl Scale {
    pub fn as_str(self) -> &'static str {
        match self {
            Scale::Small => "small",
            Scale::County => "county",
            Scale::Province => "province",
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scale {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Scale, SynthError> {
        match s.trim() {
            "small" => Ok(Scale::Small),
            "county" => Ok(Scale::County),
            "province" => Ok(Scale::Province),
            other => Err(SynthError::Config(format!("unknown scale {other:?}; expected small, county or province"))),
        }
    }
}

/// What to generate. [`Config::default`] is the small demo county (来安县, Anhui)
/// for 2024 with seed 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub scale: Scale,
    pub seed: u64,
    /// The year of the claims, thresholds and policy.
    pub year: i32,
    /// A 2-digit province code: the province of a `province` run, or where the
    /// county of a `small` or `county` run is chosen.
    pub province: Option<String>,
    /// A 6-digit county code for `small` and `county` runs.
    pub county: Option<String>,
    /// Mean claims per person in the year; 0 writes no claims. The default 2.5 is
    /// the design's county figure (1 million claims for 400,000 persons).
    pub claims_per_person: f64,
}

impl Default for Config {
    fn default() -> Config {
        Config { scale: Scale::Small, seed: 1, year: 2024, province: None, county: None, claims_per_person: 2.5 }
    }
}

/// Why generation stopped.
#[derive(Debug, Error)]
pub enum SynthError {
    /// The configuration names something that does not exist or cannot be.
    #[error("{0}")]
    Config(String),
    /// The embedded division table failed to load (a broken build).
    #[error("the embedded division table: {0}")]
    Divisions(#[from] domain::divisions::DivisionError),
    /// The sink refused a record, or a file could not be written.
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl SynthError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> SynthError {
        let context = context.into();
        move |source| SynthError::Io { context, source }
    }
}

/// Where generated records go. [`generate`] calls, in this order: every threshold,
/// every region (parents before children), every facility, every practitioner,
/// then for each household the household, its persons, and their claims.
/// The records passed are reused between calls: copy what must be kept.
pub trait Sink {
    fn threshold(&mut self, t: &Threshold) -> std::io::Result<()>;
    fn region(&mut self, r: &Region) -> std::io::Result<()>;
    fn facility(&mut self, f: &Facility) -> std::io::Result<()>;
    fn practitioner(&mut self, p: &Practitioner) -> std::io::Result<()>;
    fn household(&mut self, h: &Household) -> std::io::Result<()>;
    fn person(&mut self, p: &Person) -> std::io::Result<()>;
    fn claim(&mut self, c: &Claim) -> std::io::Result<()>;
}

/// A sink that keeps everything in memory: for tests and the small demo only.
#[derive(Debug, Clone, Default)]
pub struct Collect {
    pub thresholds: Vec<Threshold>,
    pub regions: Vec<Region>,
    pub facilities: Vec<Facility>,
    pub practitioners: Vec<Practitioner>,
    pub households: Vec<Household>,
    pub persons: Vec<Person>,
    pub claims: Vec<Claim>,
}

impl Sink for Collect {
    fn threshold(&mut self, t: &Threshold) -> std::io::Result<()> {
        self.thresholds.push(t.clone());
        Ok(())
    }
    fn region(&mut self, r: &Region) -> std::io::Result<()> {
        self.regions.push(r.clone());
        Ok(())
    }
    fn facility(&mut self, f: &Facility) -> std::io::Result<()> {
        self.facilities.push(f.clone());
        Ok(())
    }
    fn practitioner(&mut self, p: &Practitioner) -> std::io::Result<()> {
        self.practitioners.push(p.clone());
        Ok(())
    }
    fn household(&mut self, h: &Household) -> std::io::Result<()> {
        self.households.push(h.clone());
        Ok(())
    }
    fn person(&mut self, p: &Person) -> std::io::Result<()> {
        self.persons.push(p.clone());
        Ok(())
    }
    fn claim(&mut self, c: &Claim) -> std::io::Result<()> {
        self.claims.push(c.clone());
        Ok(())
    }
}

/// Counts of what was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub province: String,
    pub counties: usize,
    pub townships: usize,
    pub villages: usize,
    pub regions: u64,
    pub facilities: u64,
    pub practitioners: u64,
    pub households: u64,
    pub persons: u64,
    pub claims: u64,
    pub thresholds: u64,
    /// Persons by status, in `PovertyStatus::ALL` order.
    pub persons_by_status: [u64; 5],
    /// Rural villages without a village clinic.
    pub villages_without_clinic: u64,
}

impl Summary {
    pub(crate) fn add_people(&mut self, o: &Summary) {
        self.households += o.households;
        self.persons += o.persons;
        self.claims += o.claims;
        for (a, b) in self.persons_by_status.iter_mut().zip(o.persons_by_status) {
            *a += b;
        }
    }

    /// The share of persons with a status.
    pub fn share(&self, s: PovertyStatus) -> f64 {
        if self.persons == 0 {
            return 0.0;
        }
        self.persons_by_status[s.index()] as f64 / self.persons as f64
    }
}

/// The demo's settlement policy (docs/synth.md, "Policy"): the tiers of the
/// shipped Anhui file, under the county's name and the generated year.
pub fn policy_toml(name: &str, year: i32) -> String {
    let src = tables::POLICY_SOURCE;
    // The shipped file's `name` and `year` lines give way to the county's; its
    // tiers, with their comments, follow as they are.
    let year_line = src.find("\nyear = ").expect("the shipped policy has a year") + 1;
    let tiers = &src[src[year_line..].find('\n').expect("a line after the year") + year_line + 1..];
    format!(
        "# Anhui's comprehensive medical security for the rural poor (rules as revised up to 2019),\n\
         # the tiers of examples/policies/anhui-351-180.toml: its sources and choices are there.\n\
         name = \"{name}\"\nyear = {year}\n{tiers}"
    )
}

/// Generates the configured county or province into a sink, in order, on the
/// calling thread.
pub fn generate<S: Sink>(config: &Config, sink: &mut S) -> Result<Summary, SynthError> {
    let plan = plan::Plan::build(config)?;
    let mut summary = plan.emit_fixed(sink).map_err(SynthError::io("writing regions and facilities"))?;
    let mut scratch = people::Scratch::new(&plan);
    for t in 0..plan.townships.len() {
        let s = people::township(&plan, t, &mut scratch, sink).map_err(SynthError::io("writing people"))?;
        summary.add_people(&s);
    }
    Ok(summary)
}

/// The health network of the configured county or province alone: thresholds,
/// regions, facilities and practitioners into a sink, the same records as
/// [`generate`] gives them, without households, persons or claims (quick even for a
/// province: for coverage and its tests).
pub fn generate_network<S: Sink>(config: &Config, sink: &mut S) -> Result<Summary, SynthError> {
    let plan = plan::Plan::build(config)?;
    plan.emit_fixed(sink).map_err(SynthError::io("writing regions and facilities"))
}
