//! The registry's records as files carry them, each built from one row of named
//! fields and written back to one. `ingest` maps a file's header onto
//! [`Record::COLUMNS`] once and hands each row's fields in that order, so a record
//! never looks a column up by name in the hot loop.

use crate::{
    parse_date, ClaimKind, DomainError, FacilityKind, FacilityLevel, Fen, Grade, PovertyStatus, Qualification,
    RegionCode, RegionLevel, ResidentId,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One column of a record's file form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

pub(crate) const fn req(name: &'static str) -> Column {
    Column { name, required: true }
}
pub(crate) const fn opt(name: &'static str) -> Column {
    Column { name, required: false }
}

/// A field that failed: which column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub column: &'static str,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.reason)
    }
}

/// A record of the registry in its file form.
pub trait Record: Sized {
    /// The import kind (`households`, `claims`, ...).
    const KIND: &'static str;
    /// The columns, required first. Rows are handed in this order, with `""` for an
    /// optional column the file lacks.
    const COLUMNS: &'static [Column];
    /// Builds the record from its fields in [`Self::COLUMNS`] order.
    fn from_fields(f: &[&str]) -> Result<Self, FieldError>;
    /// The fields in [`Self::COLUMNS`] order, for export.
    fn to_fields(&self) -> Vec<String>;
    /// The key that identifies the record: a re-import with the same key updates,
    /// and a file that repeats a key is refused. Empty for a kind without a key,
    /// whose rows may repeat (the lines of a bill).
    fn key(&self) -> String;
}

/// Where each of a record's columns sits in a file's header. Built once per file;
/// names match after trimming, case-insensitively, so `Claim_ID ` finds `claim_id`.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    /// For each of the record's columns, its position in the file, if present.
    pub positions: Vec<Option<usize>>,
}

impl ColumnMap {
    /// Maps a header onto `R`'s columns. Every missing required column is named in
    /// the error; extra columns are ignored.
    pub fn new<R: Record>(header: &[&str]) -> Result<ColumnMap, String> {
        let norm: Vec<String> =
            header.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
        let positions: Vec<Option<usize>> = R::COLUMNS.iter().map(|c| norm.iter().position(|h| h == c.name)).collect();
        let missing: Vec<&str> =
            R::COLUMNS.iter().zip(&positions).filter(|(c, p)| c.required && p.is_none()).map(|(c, _)| c.name).collect();
        if !missing.is_empty() {
            return Err(format!(
                "the {} file lacks the required column{} {}",
                R::KIND,
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", ")
            ));
        }
        Ok(ColumnMap { positions })
    }

    /// The row's fields in `R::COLUMNS` order (`""` for absent columns), written
    /// into `out` so the caller can reuse its buffer.
    pub fn pick<'a>(&self, row: &[&'a str], out: &mut Vec<&'a str>) {
        out.clear();
        out.extend(self.positions.iter().map(|p| p.and_then(|i| row.get(i).copied()).unwrap_or("")));
    }

    /// Parses a row (given as its file fields) into a record.
    pub fn parse<R: Record>(&self, row: &[&str]) -> Result<R, FieldError> {
        let mut buf = Vec::with_capacity(self.positions.len());
        self.pick(row, &mut buf);
        R::from_fields(&buf)
    }
}

pub(crate) fn col<T>(column: &'static str, r: Result<T, DomainError>) -> Result<T, FieldError> {
    r.map_err(|e| FieldError { column, reason: e.0 })
}

pub(crate) fn required<'a>(column: &'static str, s: &'a str) -> Result<&'a str, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError { column, reason: "is empty; a value is required".into() });
    }
    Ok(t)
}

/// An identifier chosen by the source system (household, claim, facility number):
/// 1 to 64 characters, no control and no bidirectional formatting character.
pub fn parse_id(column: &'static str, s: &str) -> Result<String, FieldError> {
    Ok(id_ref(column, s)?.to_string())
}

/// [`parse_id`] without the copy: the identifier as it lies in `s`, trimmed.
pub fn id_ref<'a>(column: &'static str, s: &'a str) -> Result<&'a str, FieldError> {
    let t = required(column, s)?;
    if t.chars().count() > 64 {
        return Err(FieldError { column, reason: format!("{t:?} is longer than 64 characters") });
    }
    if let Some(c) = t.chars().find(|c| c.is_control() || crate::text::is_bidi_control(*c)) {
        let what = if c.is_control() { "a control character" } else { "a bidirectional formatting character" };
        return Err(FieldError { column, reason: format!("{t:?} holds {what}, {}", crate::text::describe(c)) });
    }
    Ok(t)
}

/// A name (of a person, facility, doctor or region): checked by
/// [`crate::text::check_name`]; empty only where `optional`.
pub(crate) fn parse_name(column: &'static str, s: &str, optional: bool) -> Result<String, FieldError> {
    Ok(name_ref(column, s, optional)?.to_string())
}

/// [`parse_name`] without the copy.
pub(crate) fn name_ref<'a>(column: &'static str, s: &'a str, optional: bool) -> Result<&'a str, FieldError> {
    let t = if optional { s.trim() } else { required(column, s)? };
    col(column, crate::text::check_name(t))?;
    Ok(t)
}

/// A free text: checked by [`crate::text::check_text`].
fn parse_text(column: &'static str, s: &str, multiline: bool) -> Result<String, FieldError> {
    let t = s.trim();
    col(column, crate::text::check_text(t, multiline))?;
    Ok(t.to_string())
}

/// `true/false`, `1/0`, `yes/no`, `是/否`.
pub fn parse_bool(s: &str) -> Result<bool, DomainError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" => Ok(true),
        "false" | "0" | "no" | "n" | "否" => Ok(false),
        other => crate::bail!("{other:?} is not a yes/no value; write true or false"),
    }
}

fn parse_opt_fen(column: &'static str, s: &str) -> Result<Option<Fen>, FieldError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    col(column, Fen::parse_yuan(s)).map(Some)
}

fn fmt_opt<T: fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

/// China's bounding box, generously: a point outside it is a typo (a swapped
/// longitude and latitude, a missing minus sign is impossible here).
pub fn check_point(lon: f64, lat: f64) -> Result<(), DomainError> {
    if !(73.0..=135.5).contains(&lon) || !(3.0..=54.0).contains(&lat) {
        crate::bail!("the point ({lon}, {lat}) lies outside China (longitude 73 to 135.5 E, latitude 3 to 54 N); are longitude and latitude swapped?");
    }
    Ok(())
}

fn parse_point(lon: &str, lat: &str) -> Result<Option<(f64, f64)>, FieldError> {
    match (lon.trim(), lat.trim()) {
        ("", "") => Ok(None),
        ("", _) => Err(FieldError { column: "lon", reason: "is empty while lat is given".into() }),
        (_, "") => Err(FieldError { column: "lat", reason: "is empty while lon is given".into() }),
        (a, b) => {
            let x: f64 =
                a.parse().map_err(|_| FieldError { column: "lon", reason: format!("{a:?} is not a number") })?;
            let y: f64 =
                b.parse().map_err(|_| FieldError { column: "lat", reason: format!("{b:?} is not a number") })?;
            col("lon", check_point(x, y))?;
            Ok(Some((x, y)))
        }
    }
}

/// A diagnosis as an ICD-10 code (`C16`, `C91.0`, `I10.x05`), kept upper case.
pub fn parse_icd10(s: &str) -> Result<String, DomainError> {
    let t = s.trim().to_ascii_uppercase();
    let b = t.as_bytes();
    let ok = b.len() >= 3
        && b.len() <= 16
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && (b[2].is_ascii_digit() || b[2] == b'.')
        && b[3..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.');
    if !ok {
        crate::bail!("{s:?} is not an ICD-10 code (a letter and two digits, like C16 or C91.0)");
    }
    Ok(t)
}

/// A region of the division table, or a village of the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub level: RegionLevel,
    /// The urban-rural class code (城乡分类代码): 1xx urban, 2xx rural.
    pub urban_rural: Option<u16>,
    pub population: Option<u32>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

impl Region {
    pub fn is_rural(&self) -> bool {
        self.urban_rural.map(|c| c / 100 == 2).unwrap_or(false)
    }
}

impl Record for Region {
    const KIND: &'static str = "regions";
    const COLUMNS: &'static [Column] =
        &[req("code"), req("name"), opt("level"), opt("urban_rural"), opt("population"), opt("lon"), opt("lat")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let code = col("code", RegionCode::parse(f[0]))?;
        let name = parse_name("name", f[1], false)?;
        let level = code.level();
        if !f[2].trim().is_empty() {
            let given: RegionLevel = col("level", f[2].parse())?;
            if given != level {
                return Err(FieldError {
                    column: "level",
                    reason: format!("says {given} but the code {code} is of a {level}"),
                });
            }
        }
        let urban_rural = match f[3].trim() {
            "" => None,
            t => {
                let v: u16 = t.parse().ok().filter(|v| (100..300).contains(v)).ok_or_else(|| FieldError {
                    column: "urban_rural",
                    reason: format!("{t:?} is not an urban-rural class code (111 to 220)"),
                })?;
                Some(v)
            }
        };
        let population = match f[4].trim() {
            "" => None,
            t => Some(t.parse::<u32>().map_err(|_| FieldError {
                column: "population",
                reason: format!("{t:?} is not a whole number of people"),
            })?),
        };
        let pt = parse_point(f[5], f[6])?;
        Ok(Region { code, name, level, urban_rural, population, lon: pt.map(|p| p.0), lat: pt.map(|p| p.1) })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.code.to_string(),
            self.name.clone(),
            self.level.to_string(),
            fmt_opt(&self.urban_rural),
            fmt_opt(&self.population),
            fmt_opt(&self.lon),
            fmt_opt(&self.lat),
        ]
    }

    fn key(&self) -> String {
        self.code.to_string()
    }
}

/// A rural household (户).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    pub household_id: String,
    pub village_code: RegionCode,
    pub size: u16,
    /// Yearly net income of the household.
    pub income: Fen,
    pub consumption: Option<Fen>,
    pub food: Option<Fen>,
}

impl Record for Household {
    const KIND: &'static str = "households";
    const COLUMNS: &'static [Column] =
        &[req("household_id"), req("village_code"), req("size"), req("income"), opt("consumption"), opt("food")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let household_id = parse_id("household_id", f[0])?;
        let village_code = col("village_code", RegionCode::parse(f[1]))?;
        if village_code.level() != RegionLevel::Village {
            return Err(FieldError {
                column: "village_code",
                reason: format!("{village_code} is a {}, not a village", village_code.level()),
            });
        }
        let s = required("size", f[2])?;
        let size: u16 =
            s.parse().map_err(|_| FieldError { column: "size", reason: format!("{s:?} is not a whole number") })?;
        if size == 0 || size > 99 {
            return Err(FieldError {
                column: "size",
                reason: format!("a household of {size} people is impossible (1 to 99)"),
            });
        }
        let income = col("income", Fen::parse_yuan(f[3]))?;
        let consumption = parse_opt_fen("consumption", f[4])?;
        let food = parse_opt_fen("food", f[5])?;
        if let (Some(c), Some(fd)) = (consumption, food) {
            if fd > c {
                return Err(FieldError {
                    column: "food",
                    reason: format!("food spending {fd} exceeds total consumption {c}"),
                });
            }
        }
        Ok(Household { household_id, village_code, size, income, consumption, food })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.household_id.clone(),
            self.village_code.to_string(),
            self.size.to_string(),
            self.income.to_string(),
            fmt_opt(&self.consumption),
            fmt_opt(&self.food),
        ]
    }

    fn key(&self) -> String {
        self.household_id.clone()
    }
}

/// A person of a household, identified by their resident ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub person_id: ResidentId,
    pub household_id: String,
    pub name: String,
    pub status: PovertyStatus,
    /// The day the current status began.
    pub status_since: NaiveDate,
    /// ICD-10 codes of the person's recorded diagnoses.
    pub diagnoses: Vec<String>,
}

impl Record for Person {
    const KIND: &'static str = "persons";
    const COLUMNS: &'static [Column] =
        &[req("person_id"), req("household_id"), req("name"), req("status"), req("status_since"), opt("diagnoses")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let person_id = col("person_id", ResidentId::parse(f[0]))?;
        let household_id = parse_id("household_id", f[1])?;
        let name = parse_name("name", f[2], false)?;
        if name.chars().count() > 50 {
            return Err(FieldError { column: "name", reason: "is longer than 50 characters".into() });
        }
        let status = col("status", f[3].parse())?;
        let status_since = col("status_since", parse_date(f[4]))?;
        if let Some(b) = person_id.birth_date() {
            if status_since < b {
                return Err(FieldError {
                    column: "status_since",
                    reason: format!("{status_since} is before the person's birth date {b} in the resident ID"),
                });
            }
        }
        let diagnoses = f[5]
            .split([';', '；', '|'])
            .filter(|s| !s.trim().is_empty())
            .map(|s| col("diagnoses", parse_icd10(s)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Person { person_id, household_id, name, status, status_since, diagnoses })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.person_id.to_string(),
            self.household_id.clone(),
            self.name.clone(),
            self.status.to_string(),
            self.status_since.to_string(),
            self.diagnoses.join(";"),
        ]
    }

    fn key(&self) -> String {
        self.person_id.to_string()
    }
}

/// A health facility of the rural network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facility {
    pub facility_id: String,
    pub name: String,
    pub kind: FacilityKind,
    pub grade: Option<Grade>,
    pub region_code: RegionCode,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The day it opened (included); absent: open from an unknown day.
    pub opened: Option<NaiveDate>,
    /// The day it closed (excluded: closed from that day); absent: still open.
    pub closed: Option<NaiveDate>,
}

impl Facility {
    /// Whether the facility is open on `d` (docs/coverage.md, "History").
    pub fn open_on(&self, d: NaiveDate) -> bool {
        crate::history::open_on(self.opened, self.closed, d)
    }
}

impl Record for Facility {
    const KIND: &'static str = "facilities";
    const COLUMNS: &'static [Column] = &[
        req("facility_id"),
        req("name"),
        req("kind"),
        opt("grade"),
        req("region_code"),
        opt("lon"),
        opt("lat"),
        opt("opened"),
        opt("closed"),
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let facility_id = parse_id("facility_id", f[0])?;
        let name = parse_name("name", f[1], false)?;
        let kind = col("kind", f[2].parse())?;
        let grade = col("grade", Grade::parse_opt(f[3]))?;
        let region_code = col("region_code", RegionCode::parse(f[4]))?;
        let pt = parse_point(f[5], f[6])?;
        let (opened, closed) = crate::history::parse_open_close(f[7], f[8])?;
        Ok(Facility {
            facility_id,
            name,
            kind,
            grade,
            region_code,
            lon: pt.map(|p| p.0),
            lat: pt.map(|p| p.1),
            opened,
            closed,
        })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.facility_id.clone(),
            self.name.clone(),
            self.kind.to_string(),
            self.grade.map(|g| g.0.to_string()).unwrap_or_default(),
            self.region_code.to_string(),
            fmt_opt(&self.lon),
            fmt_opt(&self.lat),
            fmt_opt(&self.opened),
            fmt_opt(&self.closed),
        ]
    }

    fn key(&self) -> String {
        self.facility_id.clone()
    }
}

/// A health worker of a facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Practitioner {
    pub practitioner_id: String,
    pub facility_id: String,
    pub name: String,
    pub qualification: Qualification,
    /// Trained as a general practitioner (全科医生).
    pub gp: bool,
    pub birth_date: NaiveDate,
    pub active: bool,
}

impl Record for Practitioner {
    const KIND: &'static str = "practitioners";
    const COLUMNS: &'static [Column] = &[
        req("practitioner_id"),
        req("facility_id"),
        req("qualification"),
        req("gp"),
        req("birth_date"),
        req("active"),
        opt("name"),
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        Ok(Practitioner {
            practitioner_id: parse_id("practitioner_id", f[0])?,
            facility_id: parse_id("facility_id", f[1])?,
            qualification: col("qualification", f[2].parse())?,
            gp: col("gp", parse_bool(f[3]))?,
            birth_date: col("birth_date", parse_date(f[4]))?,
            active: col("active", parse_bool(f[5]))?,
            name: parse_name("name", f[6], true)?,
        })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.practitioner_id.clone(),
            self.facility_id.clone(),
            self.qualification.to_string(),
            self.gp.to_string(),
            self.birth_date.to_string(),
            self.active.to_string(),
            self.name.clone(),
        ]
    }

    fn key(&self) -> String {
        self.practitioner_id.clone()
    }
}

/// A hospital bill of one stay or visit (docs/settlement.md, "Inputs").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub claim_id: String,
    pub person_id: ResidentId,
    pub facility_level: FacilityLevel,
    pub kind: ClaimKind,
    pub admitted: NaiveDate,
    pub discharged: NaiveDate,
    pub total_cost: Fen,
    /// The part of the bill inside the insurance catalogue (政策范围内费用).
    pub eligible_cost: Fen,
    /// ICD-10 code of the main diagnosis; empty where none was recorded.
    pub diagnosis: String,
    pub facility_id: String,
    /// Whether the patient came with a referral (转诊; docs/settlement.md,
    /// "Referral"). Optional in files; absent or empty: not referred. Referral
    /// only tells claims apart above the county: a policy filters on it only
    /// for the municipal, provincial and out-of-province levels.
    #[serde(default)]
    pub referred: bool,
}

impl Claim {
    /// The policy year: the calendar year of discharge.
    pub fn year(&self) -> i32 {
        use chrono::Datelike;
        self.discharged.year()
    }

    /// The claim's key: its facility and its ID there (docs/settlement.md, "Claim keys").
    pub fn claim_key(&self) -> ClaimKey {
        ClaimKey { facility_id: self.facility_id.clone(), claim_id: self.claim_id.clone() }
    }
}

/// What identifies a claim: the facility that submitted it and the claim's ID
/// there. Two facilities may use the same ID for two different claims; a claim
/// without a facility (a file without the `facility_id` column) has the empty
/// facility, a namespace of its own. Ordered as claims settle within a day: by
/// ID, then by facility.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct ClaimKey {
    pub facility_id: String,
    pub claim_id: String,
}

impl ClaimKey {
    pub fn new(facility_id: &str, claim_id: &str) -> ClaimKey {
        ClaimKey { facility_id: facility_id.to_string(), claim_id: claim_id.to_string() }
    }
}

impl PartialOrd for ClaimKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ClaimKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.claim_id, &self.facility_id).cmp(&(&other.claim_id, &other.facility_id))
    }
}

/// `C1` for a claim without a facility, `C1 at F1` otherwise.
impl fmt::Display for ClaimKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.facility_id.is_empty() {
            f.write_str(&self.claim_id)
        } else {
            write!(f, "{} at {}", self.claim_id, self.facility_id)
        }
    }
}

impl Record for Claim {
    const KIND: &'static str = "claims";
    const COLUMNS: &'static [Column] = &[
        req("claim_id"),
        req("person_id"),
        req("facility_level"),
        req("kind"),
        req("admitted"),
        req("discharged"),
        req("total_cost"),
        req("eligible_cost"),
        opt("diagnosis"),
        opt("facility_id"),
        opt("referred"),
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let claim_id = parse_id("claim_id", f[0])?;
        let person_id = col("person_id", ResidentId::parse(f[1]))?;
        let facility_level = col("facility_level", f[2].parse())?;
        let kind = col("kind", f[3].parse())?;
        let admitted = col("admitted", parse_date(f[4]))?;
        let discharged = col("discharged", parse_date(f[5]))?;
        if discharged < admitted {
            return Err(FieldError {
                column: "discharged",
                reason: format!("{discharged} is before the admission date {admitted}"),
            });
        }
        let total_cost = col("total_cost", Fen::parse_yuan(f[6]))?;
        let eligible_cost = col("eligible_cost", Fen::parse_yuan(f[7]))?;
        if eligible_cost > total_cost {
            return Err(FieldError {
                column: "eligible_cost",
                reason: format!("the eligible cost {eligible_cost} exceeds the total cost {total_cost}"),
            });
        }
        let diagnosis = match f[8].trim() {
            "" => String::new(),
            t => col("diagnosis", parse_icd10(t))?,
        };
        let facility_id = parse_name("facility_id", f[9], true)?;
        let referred = match f[10].trim() {
            "" => false,
            t => col("referred", parse_bool(t))?,
        };
        Ok(Claim {
            claim_id,
            person_id,
            facility_level,
            kind,
            admitted,
            discharged,
            total_cost,
            eligible_cost,
            diagnosis,
            facility_id,
            referred,
        })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.claim_id.clone(),
            self.person_id.to_string(),
            self.facility_level.to_string(),
            self.kind.to_string(),
            self.admitted.to_string(),
            self.discharged.to_string(),
            self.total_cost.to_string(),
            self.eligible_cost.to_string(),
            self.diagnosis.clone(),
            self.facility_id.clone(),
            self.referred.to_string(),
        ]
    }

    fn key(&self) -> String {
        self.claim_key().to_string()
    }
}

/// The income figures monitoring compares against, for a region prefix and year
/// (docs/monitoring.md, "Inputs").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    /// A region code prefix: 2, 4, 6, 9 or 12 digits.
    pub region: String,
    pub year: i32,
    /// The previous year's rural per-capita disposable income (上年度农村居民人均可支配收入).
    pub rural_income: Fen,
    /// The yearly per-capita income line of monitoring (防止返贫监测线).
    pub monitoring_line: Fen,
}

pub fn parse_year(s: &str) -> Result<i32, DomainError> {
    let t = s.trim();
    match t.parse::<i32>() {
        Ok(y) if (1990..=2100).contains(&y) => Ok(y),
        _ => crate::bail!("{t:?} is not a year (1990 to 2100)"),
    }
}

impl Record for Threshold {
    const KIND: &'static str = "thresholds";
    const COLUMNS: &'static [Column] = &[req("region"), req("year"), req("rural_income"), req("monitoring_line")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let region = col("region", crate::region::parse_prefix(f[0]))?;
        if region.is_empty() {
            return Err(FieldError { column: "region", reason: "is empty; a region prefix is required".into() });
        }
        Ok(Threshold {
            region,
            year: col("year", parse_year(f[1]))?,
            rural_income: col("rural_income", Fen::parse_yuan(f[2]))?,
            monitoring_line: col("monitoring_line", Fen::parse_yuan(f[3]))?,
        })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.region.clone(),
            self.year.to_string(),
            self.rural_income.to_string(),
            self.monitoring_line.to_string(),
        ]
    }

    fn key(&self) -> String {
        format!("{}/{}", self.region, self.year)
    }
}

/// A family-doctor contract as `import contracts` reads it (docs/files.md).
impl Record for crate::work::DoctorContract {
    const KIND: &'static str = "contracts";
    const COLUMNS: &'static [Column] = &[req("person_id"), req("practitioner_id"), req("signed"), req("ends")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let k = crate::work::DoctorContract {
            person_id: col("person_id", ResidentId::parse(f[0]))?,
            practitioner_id: parse_id("practitioner_id", f[1])?,
            signed: col("signed", parse_date(f[2]))?,
            ends: col("ends", parse_date(f[3]))?,
        };
        if k.ends <= k.signed {
            return Err(FieldError { column: "ends", reason: format!("{} is not after signed {}", k.ends, k.signed) });
        }
        Ok(k)
    }

    fn to_fields(&self) -> Vec<String> {
        vec![self.person_id.to_string(), self.practitioner_id.clone(), self.signed.to_string(), self.ends.to_string()]
    }

    fn key(&self) -> String {
        format!("{}/{}", self.person_id, self.signed)
    }
}

/// A visit as `import visits` reads it (docs/files.md): a household visit, or
/// a follow-up of one person.
impl Record for crate::work::Visit {
    const KIND: &'static str = "visits";
    const COLUMNS: &'static [Column] = &[
        req("household_id"),
        req("kind"),
        req("date"),
        req("visitors"),
        opt("person_id"),
        opt("findings"),
        opt("next_date"),
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let kind: crate::work::VisitKind =
            required("kind", f[1])?.parse().map_err(|reason| FieldError { column: "kind", reason })?;
        if kind == crate::work::VisitKind::Verification {
            return Err(FieldError { column: "kind", reason: "a verification is recorded on its case".into() });
        }
        let person_id = match f[4].trim() {
            "" => None,
            p => Some(col("person_id", ResidentId::parse(p))?),
        };
        if kind == crate::work::VisitKind::FollowUp && person_id.is_none() {
            return Err(FieldError { column: "person_id", reason: "a follow-up is of one patient".into() });
        }
        let date = col("date", parse_date(f[2]))?;
        let next_date = match f[6].trim() {
            "" => None,
            d => Some(col("next_date", parse_date(d))?),
        };
        if next_date.is_some_and(|n| n <= date) {
            return Err(FieldError { column: "next_date", reason: format!("is not after the visit's day {date}") });
        }
        Ok(crate::work::Visit {
            household_id: parse_id("household_id", f[0])?,
            person_id,
            kind,
            date,
            visitors: parse_name("visitors", f[3], false)?,
            findings: parse_text("findings", f[5], true)?,
            next_date,
        })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.household_id.clone(),
            self.kind.as_str().to_string(),
            self.date.to_string(),
            self.visitors.clone(),
            fmt_opt(&self.person_id),
            self.findings.clone(),
            fmt_opt(&self.next_date),
        ]
    }

    fn key(&self) -> String {
        format!("{}/{}/{}", self.household_id, self.date, self.kind.as_str())
    }
}

/// A person's basic medical insurance enrolment (参保) for a year, as `import
/// enrolments` reads it (docs/files.md, docs/desk.md).
impl Record for crate::enrolment::Enrolment {
    const KIND: &'static str = "enrolments";
    const COLUMNS: &'static [Column] = &[req("person_id"), req("year"), req("category"), req("enrolled_on")];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let year = crate::enrolment::parse_year(required("year", f[1])?)
            .map_err(|reason| FieldError { column: "year", reason })?;
        let category =
            required("category", f[2])?.parse().map_err(|reason| FieldError { column: "category", reason })?;
        let enrolled_on = col("enrolled_on", parse_date(f[3]))?;
        Ok(crate::enrolment::Enrolment {
            person_id: col("person_id", ResidentId::parse(f[0]))?,
            year,
            category,
            enrolled_on,
        })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![self.person_id.to_string(), self.year.to_string(), self.category.to_string(), self.enrolled_on.to_string()]
    }

    fn key(&self) -> String {
        format!("{}/{}", self.person_id, self.year)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_claim_parses() {
        let c = Claim::from_fields(&[
            "C1",
            "11010519491231002X",
            "county",
            "inpatient",
            "2024-03-01",
            "2024-03-10",
            "60000",
            "50000",
            "c16.9",
            "",
            "",
        ])
        .unwrap();
        assert_eq!(c.total_cost, Fen::from_yuan(60_000));
        assert_eq!(c.diagnosis, "C16.9");
        assert_eq!(c.year(), 2024);
        assert!(!c.referred, "no referral unless the file says so");
    }

    #[test]
    fn the_referral_column_reads_yes_and_no() {
        let row = |r: &str| {
            let f = [
                "C1",
                "11010519491231002X",
                "municipal",
                "inpatient",
                "2024-03-01",
                "2024-03-10",
                "600",
                "500",
                "",
                "H1",
                r,
            ];
            Claim::from_fields(&f)
        };
        for (v, want) in [("true", true), ("是", true), ("1", true), ("false", false), ("否", false), ("", false)] {
            let c = row(v).unwrap();
            assert_eq!(c.referred, want, "{v:?}");
            assert_eq!(crate::settlement::ClaimInput::from(&c).referred, want);
        }
        let e = row("perhaps").unwrap_err();
        assert_eq!(e.column, "referred");
        let back = row("yes").unwrap().to_fields();
        let back: Vec<&str> = back.iter().map(String::as_str).collect();
        assert!(Claim::from_fields(&back).unwrap().referred, "written and read back");
    }

    #[test]
    fn bad_claims_name_the_column() {
        let base =
            ["C1", "11010519491231002X", "county", "inpatient", "2024-03-01", "2024-03-10", "600", "500", "", "", ""];
        let cases: &[(usize, &str, &str)] = &[
            (1, "110105194912310021", "person_id"),
            (2, "hospital", "facility_level"),
            (3, "emergency", "kind"),
            (5, "2024-02-01", "discharged"),
            (6, "-1", "total_cost"),
            (7, "700", "eligible_cost"),
            (7, "1.005", "eligible_cost"),
            (8, "cancer", "diagnosis"),
        ];
        for (i, v, column) in cases {
            let mut f = base;
            f[*i] = v;
            let e = Claim::from_fields(&f).unwrap_err();
            assert_eq!(e.column, *column, "{v}: {e}");
        }
    }

    #[test]
    fn column_map_names_every_missing_column_and_ignores_extras() {
        let e = ColumnMap::new::<Claim>(&["claim_id", "person_id", "kind"]).unwrap_err();
        assert!(e.contains("facility_level") && e.contains("eligible_cost") && e.contains("columns"), "{e}");
        let m = ColumnMap::new::<Threshold>(&["\u{feff}Year", "extra", "region", "monitoring_line", "rural_income"])
            .unwrap();
        let t: Threshold = m.parse(&["2024", "x", "34", "7000", "19575"]).unwrap();
        assert_eq!(t.region, "34");
        assert_eq!(t.monitoring_line, Fen::from_yuan(7000));
    }

    #[test]
    fn names_refuse_control_and_bidi_characters_wherever_a_name_is_read() {
        let person = |name: &str| Person::from_fields(&["11010519491231002X", "H1", name, "general", "2020-01-01", ""]);
        assert_eq!(person("张三丰").unwrap().name, "张三丰");
        let e = person("张三\u{202E}丰").unwrap_err();
        assert_eq!(e.column, "name");
        assert!(e.reason.contains("U+202E (right-to-left override) at character 3"), "{e}");
        assert_eq!(person("张\u{7}三").unwrap_err().column, "name");
        let facility =
            |name: &str| Facility::from_fields(&["F1", name, "village_clinic", "", "341122100201", "", "", "", ""]);
        assert!(facility("来安县卫生院").is_ok());
        assert!(facility("\u{2067}卫生院").unwrap_err().reason.contains("U+2067"));
        let doctor =
            |name: &str| Practitioner::from_fields(&["D1", "F1", "rural_doctor", "yes", "1970-01-01", "yes", name]);
        assert_eq!(doctor("").unwrap().name, "");
        assert!(doctor("李\u{200F}四").unwrap_err().reason.contains("U+200F"));
        assert!(doctor("李\u{9C}四").unwrap_err().reason.contains("U+009C"));
        let region = |name: &str| Region::from_fields(&["341122100201", name, "", "", "", "", ""]);
        assert!(region("大英村\u{061C}").is_err());
        assert!(region("大英\u{7F}村").is_err());
        // Identifiers refuse the same characters.
        let e = Household::from_fields(&["H\u{202D}1", "341122100201", "3", "1000", "", ""]).unwrap_err();
        assert_eq!(e.column, "household_id");
        assert!(e.reason.contains("bidirectional"), "{e}");
        // Free text keeps its line breaks and tabs; other controls are refused.
        let visit = |visitors: &str, findings: &str| {
            crate::work::Visit::from_fields(&["H1", "household", "2024-01-02", visitors, "", findings, ""])
        };
        assert_eq!(visit("王五", "one\n\ttwo").unwrap().findings, "one\n\ttwo");
        assert_eq!(visit("王五", "a\u{1}b").unwrap_err().column, "findings");
        assert_eq!(visit("王\u{202E}五", "").unwrap_err().column, "visitors");
    }

    #[test]
    fn households_and_regions_validate() {
        let e = Household::from_fields(&["H1", "341122100201", "0", "1000", "", ""]).unwrap_err();
        assert_eq!(e.column, "size");
        let e = Household::from_fields(&["H1", "341122100000", "3", "1000", "", ""]).unwrap_err();
        assert!(e.reason.contains("not a village"), "{e}");
        let r = Region::from_fields(&["341122100201", "Some village", "", "220", "800", "118.3", "32.1"]).unwrap();
        assert!(r.is_rural());
        let e = Region::from_fields(&["341122100201", "V", "", "220", "800", "32.1", "118.3"]).unwrap_err();
        assert!(e.reason.contains("outside China"), "{e}");
        let e = Region::from_fields(&["341122", "County", "village", "", "", "", ""]).unwrap_err();
        assert_eq!(e.column, "level");
    }
}
