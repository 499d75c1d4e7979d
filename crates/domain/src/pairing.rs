//! Pairing and telemedicine (docs/coverage.md, "Pairing and telemedicine"):
//! a hospital above the county paired with a county hospital to help it
//! (对口帮扶), with the staff it sends and their terms; and the telemedicine
//! links of a county hospital to the township health centres of its county.
//!
//! Days are inclusive at both ends: a pairing, a staff term or a link holds
//! from its first day to its last (absent: no end yet).

use crate::records::{parse_id, parse_name, Column, FieldError, Record};
use crate::{parse_date, FacilityKind, RegionCode, RegionLevel};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Whether two spans of days, both ends included (an absent end: no end),
/// share a day.
pub fn spans_overlap(a: (NaiveDate, Option<NaiveDate>), b: (NaiveDate, Option<NaiveDate>)) -> bool {
    a.1.is_none_or(|e| b.0 <= e) && b.1.is_none_or(|e| a.0 <= e)
}

/// Whether a span of days, both ends included, holds on `d`.
pub fn span_covers(start: NaiveDate, end: Option<NaiveDate>, d: NaiveDate) -> bool {
    start <= d && end.is_none_or(|e| d <= e)
}

/// A hospital above the county (a municipal or provincial, tertiary, hospital)
/// paired with a county hospital from `start` to `end` (both included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pairing {
    /// The hospital that helps.
    pub helping_id: String,
    /// The county hospital helped.
    pub county_hospital_id: String,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl Pairing {
    /// Whether `other` is the same pairing, whatever its end: the same two
    /// hospitals and the same start. Giving it again with another end sets its end.
    pub fn same_pairing(&self, other: &Pairing) -> bool {
        self.helping_id == other.helping_id
            && self.county_hospital_id == other.county_hospital_id
            && self.start == other.start
    }

    pub fn covers(&self, d: NaiveDate) -> bool {
        span_covers(self.start, self.end, d)
    }
}

/// One of the staff a pairing sends to the county hospital, for a term.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StaffSent {
    /// The practitioner, when they are in the registry; else `None` and a name.
    pub practitioner_id: Option<String>,
    pub name: String,
    /// What they do there (a department head, a surgeon, a manager): free text.
    pub role: String,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl StaffSent {
    /// Who: the practitioner's ID, else the name.
    pub fn who(&self) -> &str {
        self.practitioner_id.as_deref().unwrap_or(&self.name)
    }

    /// Whether `other` is the same person sent for the same term start.
    pub fn same_term(&self, other: &StaffSent) -> bool {
        self.who() == other.who() && self.from == other.from
    }
}

/// A row of `import pairings` (docs/files.md): a pairing, and optionally one
/// of the staff it sends. Rows of one pairing repeat its hospitals and start.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PairingRow {
    pub pairing: Pairing,
    pub staff: Option<StaffSent>,
}

/// What a telemedicine link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelemedicineKind {
    /// Remote consultation (远程会诊).
    Consultation,
    /// Remote imaging diagnosis (远程影像).
    Imaging,
    /// Remote electrocardiography (远程心电).
    Ecg,
    /// Remote pathology (远程病理).
    Pathology,
    /// Remote training (远程教育).
    Education,
}

impl TelemedicineKind {
    pub const ALL: [TelemedicineKind; 5] = [
        TelemedicineKind::Consultation,
        TelemedicineKind::Imaging,
        TelemedicineKind::Ecg,
        TelemedicineKind::Pathology,
        TelemedicineKind::Education,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TelemedicineKind::Consultation => "consultation",
            TelemedicineKind::Imaging => "imaging",
            TelemedicineKind::Ecg => "ecg",
            TelemedicineKind::Pathology => "pathology",
            TelemedicineKind::Education => "education",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            TelemedicineKind::Consultation => "远程会诊",
            TelemedicineKind::Imaging => "远程影像",
            TelemedicineKind::Ecg => "远程心电",
            TelemedicineKind::Pathology => "远程病理",
            TelemedicineKind::Education => "远程教育",
        }
    }
}

impl std::fmt::Display for TelemedicineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TelemedicineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        TelemedicineKind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(t) || k.zh() == t).ok_or_else(|| {
            format!(
                "{t:?} is not a kind of telemedicine link (consultation, imaging, ecg, pathology, education, or 远程会诊, 远程影像, 远程心电, 远程病理, 远程教育)"
            )
        })
    }
}

/// A telemedicine link from a county hospital to a township health centre of
/// its county, from `start` to `end` (both included).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TelemedicineLink {
    pub county_hospital_id: String,
    pub township_id: String,
    pub kind: TelemedicineKind,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
}

impl TelemedicineLink {
    /// The same link, whatever its end: same two facilities, kind and start.
    pub fn same_link(&self, other: &TelemedicineLink) -> bool {
        self.county_hospital_id == other.county_hospital_id
            && self.township_id == other.township_id
            && self.kind == other.kind
            && self.start == other.start
    }

    pub fn covers(&self, d: NaiveDate) -> bool {
        span_covers(self.start, self.end, d)
    }
}

/// The levels a pairing joins: the helping hospital above the county (a
/// municipal or provincial hospital), the helped one a county hospital.
pub fn check_pairing_kinds(helping: FacilityKind, county_hospital: FacilityKind) -> Result<(), FieldError> {
    if !matches!(helping, FacilityKind::MunicipalHospital | FacilityKind::ProvincialHospital) {
        return Err(FieldError {
            column: "helping_id",
            reason: format!(
                "the facility is a {} ({}); the helping hospital of a pairing is a municipal or provincial hospital, above the county",
                helping,
                helping.zh()
            ),
        });
    }
    if county_hospital != FacilityKind::CountyHospital {
        return Err(FieldError {
            column: "county_hospital_id",
            reason: format!(
                "the facility is a {} ({}); a pairing helps a county hospital",
                county_hospital,
                county_hospital.zh()
            ),
        });
    }
    Ok(())
}

/// The county of a facility's region: the 6-digit prefix, as a 12-digit code.
pub fn county_of(r: RegionCode) -> u64 {
    r.as_u64() / 1_000_000
}

/// The facilities a telemedicine link joins: a county hospital and a township
/// health centre of the same county.
pub fn check_link_kinds(
    hospital: (FacilityKind, RegionCode),
    township: (FacilityKind, RegionCode),
) -> Result<(), FieldError> {
    if hospital.0 != FacilityKind::CountyHospital {
        return Err(FieldError {
            column: "county_hospital_id",
            reason: format!(
                "the facility is a {} ({}); a telemedicine link starts at a county hospital",
                hospital.0,
                hospital.0.zh()
            ),
        });
    }
    if township.0 != FacilityKind::TownshipCenter {
        return Err(FieldError {
            column: "township_id",
            reason: format!(
                "the facility is a {} ({}); a telemedicine link reaches a township health centre",
                township.0,
                township.0.zh()
            ),
        });
    }
    if county_of(hospital.1) != county_of(township.1) || hospital.1.level() < RegionLevel::County {
        return Err(FieldError {
            column: "township_id",
            reason: format!(
                "the township centre lies in county {:06}, the county hospital in {:06}; a link joins a county hospital to the centres of its own county",
                county_of(township.1),
                county_of(hospital.1)
            ),
        });
    }
    Ok(())
}

/// The disease category of a diagnosis, as the pairing indicators count the
/// diseases a hospital treats: the ICD-10 category, its first 3 characters
/// (`C16.9` and `C16.0` are both `C16`). `None` for an empty diagnosis.
pub fn disease_category(diagnosis: &str) -> Option<&str> {
    let t = diagnosis.trim();
    (t.len() >= 3 && t.is_char_boundary(3)).then(|| &t[..3])
}

fn day(column: &'static str, s: &str) -> Result<NaiveDate, FieldError> {
    parse_date(s).map_err(|e| FieldError { column, reason: e.0 })
}

fn opt_day(column: &'static str, s: &str) -> Result<Option<NaiveDate>, FieldError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    day(column, s).map(Some)
}

fn end_after(column: &'static str, start: NaiveDate, end: Option<NaiveDate>, what: &str) -> Result<(), FieldError> {
    match end {
        Some(e) if e < start => Err(FieldError { column, reason: format!("{e} is before the {what} {start}") }),
        _ => Ok(()),
    }
}

fn fmt_day(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

impl Record for PairingRow {
    const KIND: &'static str = "pairings";
    const COLUMNS: &'static [Column] = &[
        Column { name: "helping_id", required: true },
        Column { name: "county_hospital_id", required: true },
        Column { name: "start", required: true },
        Column { name: "end", required: false },
        Column { name: "staff_practitioner_id", required: false },
        Column { name: "staff_name", required: false },
        Column { name: "staff_role", required: false },
        Column { name: "staff_from", required: false },
        Column { name: "staff_to", required: false },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let helping_id = parse_id("helping_id", f[0])?;
        let county_hospital_id = parse_id("county_hospital_id", f[1])?;
        if helping_id == county_hospital_id {
            return Err(FieldError {
                column: "county_hospital_id",
                reason: "is the helping hospital itself; a pairing joins two hospitals".into(),
            });
        }
        let start = day("start", f[2])?;
        let end = opt_day("end", f[3])?;
        end_after("end", start, end, "start")?;
        let pairing = Pairing { helping_id, county_hospital_id, start, end };
        let staff = if f[4..9].iter().all(|s| s.trim().is_empty()) {
            None
        } else {
            let practitioner_id = match f[4].trim() {
                "" => None,
                t => Some(parse_id("staff_practitioner_id", t)?),
            };
            let name = parse_name("staff_name", f[5], practitioner_id.is_some())?;
            let role = parse_name("staff_role", f[6], false)?;
            let from = day("staff_from", f[7])?;
            let to = opt_day("staff_to", f[8])?;
            end_after("staff_to", from, to, "staff_from")?;
            if from < start {
                return Err(FieldError {
                    column: "staff_from",
                    reason: format!("{from} is before the pairing's start {start}"),
                });
            }
            if let Some(e) = end {
                if from > e {
                    return Err(FieldError {
                        column: "staff_from",
                        reason: format!("{from} is after the pairing's end {e}"),
                    });
                }
                if to.is_none_or(|t| t > e) {
                    return Err(FieldError {
                        column: "staff_to",
                        reason: format!(
                            "the term runs {} past the pairing's end {e}; a term ends by the pairing's end",
                            to.map_or("with no end".to_string(), |t| format!("to {t}"))
                        ),
                    });
                }
            }
            Some(StaffSent { practitioner_id, name, role, from, to })
        };
        Ok(PairingRow { pairing, staff })
    }

    fn to_fields(&self) -> Vec<String> {
        let p = &self.pairing;
        let mut v = vec![p.helping_id.clone(), p.county_hospital_id.clone(), p.start.to_string(), fmt_day(p.end)];
        match &self.staff {
            Some(s) => v.extend([
                s.practitioner_id.clone().unwrap_or_default(),
                s.name.clone(),
                s.role.clone(),
                s.from.to_string(),
                fmt_day(s.to),
            ]),
            None => v.extend(std::iter::repeat_n(String::new(), 5)),
        }
        v
    }

    fn key(&self) -> String {
        let p = &self.pairing;
        let staff = self.staff.as_ref().map(|s| format!("/{}/{}", s.who(), s.from)).unwrap_or_default();
        format!("{}/{}/{}{staff}", p.helping_id, p.county_hospital_id, p.start)
    }
}

impl Record for TelemedicineLink {
    const KIND: &'static str = "telemedicine";
    const COLUMNS: &'static [Column] = &[
        Column { name: "county_hospital_id", required: true },
        Column { name: "township_id", required: true },
        Column { name: "kind", required: true },
        Column { name: "start", required: true },
        Column { name: "end", required: false },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let county_hospital_id = parse_id("county_hospital_id", f[0])?;
        let township_id = parse_id("township_id", f[1])?;
        let kind = f[2].parse().map_err(|reason| FieldError { column: "kind", reason })?;
        let start = day("start", f[3])?;
        let end = opt_day("end", f[4])?;
        end_after("end", start, end, "start")?;
        Ok(TelemedicineLink { county_hospital_id, township_id, kind, start, end })
    }

    fn to_fields(&self) -> Vec<String> {
        vec![
            self.county_hospital_id.clone(),
            self.township_id.clone(),
            self.kind.to_string(),
            self.start.to_string(),
            fmt_day(self.end),
        ]
    }

    fn key(&self) -> String {
        format!("{}/{}/{}/{}", self.county_hospital_id, self.township_id, self.kind, self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn row(f: &[&str]) -> Result<PairingRow, FieldError> {
        let mut v: Vec<&str> = f.to_vec();
        v.resize(9, "");
        PairingRow::from_fields(&v)
    }

    #[test]
    fn spans_share_a_day_both_ends_included() {
        let a = (d("2024-01-01"), Some(d("2024-06-30")));
        assert!(spans_overlap(a, (d("2024-06-30"), None)));
        assert!(!spans_overlap(a, (d("2024-07-01"), None)));
        assert!(spans_overlap((d("2020-01-01"), None), (d("2030-01-01"), Some(d("2030-01-01")))));
        assert!(!spans_overlap((d("2025-01-01"), None), (d("2020-01-01"), Some(d("2024-12-31")))));
        assert!(span_covers(d("2024-01-01"), Some(d("2024-01-01")), d("2024-01-01")));
        assert!(!span_covers(d("2024-01-02"), None, d("2024-01-01")));
    }

    #[test]
    fn pairing_rows_are_checked_and_read_back() {
        let p = row(&["H1", "C1", "2021-01-01", "2023-12-31"]).unwrap();
        assert_eq!(p.staff, None);
        let s = row(&["H1", "C1", "2021-01-01", "2023-12-31", "", "王医生", "外科主任", "2021-03-01", "2022-02-28"])
            .unwrap();
        let staff = s.staff.clone().unwrap();
        assert_eq!((staff.who(), staff.role.as_str()), ("王医生", "外科主任"));
        let back = s.to_fields();
        assert_eq!(PairingRow::from_fields(&back.iter().map(String::as_str).collect::<Vec<_>>()), Ok(s.clone()));
        assert_ne!(p.key(), s.key());
        // A practitioner of the registry needs no name.
        assert!(row(&["H1", "C1", "2021-01-01", "", "D7", "", "manager", "2021-01-01", ""]).is_ok());
        let bad = |f: &[&str]| row(f).unwrap_err().column;
        assert_eq!(bad(&["H1", "H1", "2021-01-01"]), "county_hospital_id");
        assert_eq!(bad(&["H1", "C1", "2021-01-01", "2020-12-31"]), "end");
        assert_eq!(bad(&["H1", "C1", ""]), "start");
        assert_eq!(bad(&["H1", "C1", "2021-01-01", "", "", "", "manager", "2021-01-01"]), "staff_name");
        assert_eq!(bad(&["H1", "C1", "2021-01-01", "", "", "王", "", "2021-01-01"]), "staff_role");
        assert_eq!(bad(&["H1", "C1", "2021-01-01", "", "", "王", "x", "2020-12-01"]), "staff_from");
        assert_eq!(bad(&["H1", "C1", "2021-01-01", "2021-12-31", "", "王", "x", "2021-02-01"]), "staff_to");
        assert_eq!(bad(&["H1", "C1", "2021-01-01", "", "", "王", "x", "2021-02-01", "2021-01-31"]), "staff_to");
    }

    #[test]
    fn link_rows_and_levels_are_checked() {
        let l = TelemedicineLink::from_fields(&["C1", "T1", "远程影像", "2022-05-01", ""]).unwrap();
        assert_eq!(l.kind, TelemedicineKind::Imaging);
        assert_eq!(TelemedicineLink::from_fields(&["C1", "T1", "radio", "2022-05-01", ""]).unwrap_err().column, "kind");
        let county = RegionCode::parse("341122").unwrap();
        let town = RegionCode::parse("341122100").unwrap();
        let other = RegionCode::parse("341123100").unwrap();
        use FacilityKind::*;
        assert!(check_link_kinds((CountyHospital, county), (TownshipCenter, town)).is_ok());
        assert_eq!(
            check_link_kinds((CountyHospital, county), (TownshipCenter, other)).unwrap_err().column,
            "township_id"
        );
        assert_eq!(
            check_link_kinds((MunicipalHospital, county), (TownshipCenter, town)).unwrap_err().column,
            "county_hospital_id"
        );
        assert_eq!(
            check_link_kinds((CountyHospital, county), (VillageClinic, town)).unwrap_err().column,
            "township_id"
        );
        assert!(check_pairing_kinds(ProvincialHospital, CountyHospital).is_ok());
        assert!(check_pairing_kinds(MunicipalHospital, CountyHospital).is_ok());
        assert_eq!(check_pairing_kinds(CountyHospital, CountyHospital).unwrap_err().column, "helping_id");
        assert_eq!(check_pairing_kinds(ProvincialHospital, TownshipCenter).unwrap_err().column, "county_hospital_id");
        assert_eq!(disease_category("C16.9"), Some("C16"));
        assert_eq!(disease_category(""), None);
    }
}
