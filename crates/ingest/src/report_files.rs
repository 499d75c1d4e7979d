//! The files `safetynet report` reads besides the registry's own (those go through
//! [`crate::read_all`]): the settlements `settle` writes, the alerts `monitor`
//! writes, the village reach `coverage --reach-out` writes, family-doctor
//! contracts, and region names. Columns are found by name, in any order, among
//! others; every bad row is reported.

use crate::error::{IngestError, RowError};
use chrono::NaiveDate;
use domain::{ClaimKey, Fen, Region, RegionCode, ResidentId};
use indicators::extract::{AlertEvent, FundAmounts, VillageReach};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A plain CSV: the header (trimmed, lower case), the rows with their lines, and
/// the bad rows found so far.
struct Table {
    file: String,
    header: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
    errors: Vec<RowError>,
}

impl Table {
    fn read(path: &Path) -> Result<Table, IngestError> {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| IngestError::open(path, e))?;
        // The csv parser's own line count skips blank lines and counts a CRLF's LF
        // with the next record: the newlines are counted as the bytes go by.
        let (counted, mut lines) = crate::read::LineIndex::new(std::io::BufReader::new(f));
        let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(counted);
        let csv_error = |source| IngestError::Csv { file: file.clone(), error: source };
        let header: Vec<String> = match r.headers() {
            Ok(h) => h.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect(),
            Err(e) => return Err(crate::records::not_utf8_header(path, &file, e)),
        };
        let mut rows = Vec::new();
        let mut errors = Vec::new();
        let mut reread: Option<std::fs::File> = None;
        let mut rec = csv::StringRecord::new();
        loop {
            match r.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {
                    let line = lines.line_of(rec.as_byte_record(), r.position().byte());
                    rows.push((line, rec.clone()));
                }
                // Bytes that are not UTF-8: the row is refused where they lie.
                Err(e) => match e.kind() {
                    csv::ErrorKind::Utf8 { pos: Some(pos), err } => {
                        let column = header.get(err.field()).cloned().unwrap_or_else(|| format!("{}", err.field() + 1));
                        let found = {
                            let f = reread.take().or_else(|| std::fs::File::open(path).ok());
                            f.and_then(|mut f| {
                                let b = crate::encoding::locate_bad_utf8(&mut f, pos.byte(), pos.line());
                                reread = Some(f);
                                b
                            })
                        };
                        let (line, reason) = match found {
                            Some(b) => (b.line, crate::records::not_utf8(&b)),
                            None => (pos.line(), "is not valid UTF-8; save the file as UTF-8".to_string()),
                        };
                        errors.push(RowError { file: file.clone(), line, column, reason });
                    }
                    _ => return Err(csv_error(e)),
                },
            }
        }
        Ok(Table { file, header, rows, errors })
    }

    /// The position of a required column.
    fn col(&self, name: &str) -> Result<usize, IngestError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| IngestError::Format {
            file: self.file.clone(),
            reason: format!("the column {name} is missing; the header is {}", self.header.join(", ")),
        })
    }

    fn has(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn bad(errors: &mut Vec<RowError>, file: &str, line: u64, column: &str, reason: impl std::fmt::Display) {
        errors.push(RowError { file: file.to_string(), line, column: column.to_string(), reason: reason.to_string() });
    }

    /// The value, or every bad row found.
    fn finish<T>(self, value: T) -> Result<T, IngestError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(IngestError::Rows { file: self.file, errors: self.errors })
        }
    }
}

fn cell(r: &csv::StringRecord, c: usize) -> &str {
    r.get(c).unwrap_or("")
}

/// Settlements by claim key, from the settlement file `settle` writes: the fund
/// payments from the tier columns (those between `eligible_cost` and
/// `out_of_pocket`) and the out-of-pocket. A file without the `facility_id`
/// column (`settle` writes it only where a claim id is used at several
/// facilities) names each claim by its id alone: see [`FileSettlements::of`].
pub fn read_settlements(path: &Path) -> Result<FileSettlements, IngestError> {
    let mut t = Table::read(path)?;
    let id = t.col("claim_id")?;
    let facility = t.has("facility_id");
    let oop = t.col("out_of_pocket")?;
    let first_tier = t.col("eligible_cost")? + 1;
    let tiers: Vec<String> = t.header.get(first_tier..oop).unwrap_or(&[]).to_vec();
    let mut out = HashMap::with_capacity(t.rows.len());
    let mut errors = std::mem::take(&mut t.errors);
    'rows: for (line, r) in &t.rows {
        let mut payments = Vec::with_capacity(tiers.len());
        for (k, name) in tiers.iter().enumerate() {
            match Fen::parse_yuan(cell(r, first_tier + k)) {
                Ok(v) => payments.push(v),
                Err(e) => {
                    Table::bad(&mut errors, &t.file, *line, name, e);
                    continue 'rows;
                }
            }
        }
        match Fen::parse_yuan(cell(r, oop)) {
            Ok(o) => {
                let facility_id = facility.map(|f| cell(r, f).trim().to_string()).unwrap_or_default();
                let key = ClaimKey { facility_id, claim_id: cell(r, id).trim().to_string() };
                out.insert(key, (FundAmounts::from_tiers(&tiers, &payments), o));
            }
            Err(e) => Table::bad(&mut errors, &t.file, *line, "out_of_pocket", e),
        }
    }
    t.errors = errors;
    t.finish(FileSettlements { by_key: out, keyed: facility.is_some() })
}

/// The settlements of a settlement file, by claim key.
#[derive(Debug, Clone, Default)]
pub struct FileSettlements {
    pub by_key: HashMap<ClaimKey, (FundAmounts, Fen)>,
    /// True when the file names each claim's facility.
    pub keyed: bool,
}

impl FileSettlements {
    /// The settlement of a claim: by its key, or by its id alone where the file
    /// names no facilities (then no id was used at two facilities).
    pub fn of(&self, claim: &domain::Claim) -> Option<&(FundAmounts, Fen)> {
        if self.keyed {
            self.by_key.get(&claim.claim_key())
        } else {
            self.by_key.get(&ClaimKey::new("", &claim.claim_id))
        }
    }
}

/// Alerts (`household_id, year[, raised_on, assisted_on]`); without a `raised_on`
/// an alert counts on the 31st of December of its year.
pub fn read_alerts(path: &Path) -> Result<Vec<AlertEvent>, IngestError> {
    let mut t = Table::read(path)?;
    let (h, y) = (t.col("household_id")?, t.col("year")?);
    let raised = t.has("raised_on");
    let assisted = t.has("assisted_on");
    let mut out = Vec::with_capacity(t.rows.len());
    let mut errors = std::mem::take(&mut t.errors);
    for (line, r) in &t.rows {
        let mut bad = |column: &str, reason: String| Table::bad(&mut errors, &t.file, *line, column, reason);
        let year = match domain::parse_year(cell(r, y)) {
            Ok(y) => y,
            Err(e) => {
                bad("year", e.to_string());
                continue;
            }
        };
        let mut date = |col: Option<usize>, name: &str| -> Result<Option<NaiveDate>, ()> {
            match col.map(|c| cell(r, c).trim()) {
                None | Some("") => Ok(None),
                Some(s) => domain::parse_date(s).map(Some).map_err(|e| bad(name, e.to_string())),
            }
        };
        let (Ok(raised_on), Ok(assisted_on)) = (date(raised, "raised_on"), date(assisted, "assisted_on")) else {
            continue;
        };
        let Some(december) = NaiveDate::from_ymd_opt(year, 12, 31) else {
            continue;
        };
        out.push(AlertEvent {
            household_id: cell(r, h).trim().to_string(),
            year,
            raised_on: raised_on.unwrap_or(december),
            assisted_on,
        });
    }
    t.errors = errors;
    t.finish(out)
}

/// Village reach (`village_code, population, has_qualified_doctor, within_15min`
/// or `within_15_minutes`, and optionally `rural`), as `coverage --reach-out`
/// writes it; a village without `rural` counts as rural.
pub fn read_reach(path: &Path) -> Result<Vec<VillageReach>, IngestError> {
    let mut t = Table::read(path)?;
    let (v, p, d) = (t.col("village_code")?, t.col("population")?, t.col("has_qualified_doctor")?);
    let w = match t.has("within_15min") {
        Some(w) => w,
        None => t.col("within_15_minutes")?,
    };
    let rural = t.has("rural");
    let mut out = Vec::with_capacity(t.rows.len());
    let mut errors = std::mem::take(&mut t.errors);
    for (line, r) in &t.rows {
        let mut bad = |column: &str, reason: String| Table::bad(&mut errors, &t.file, *line, column, reason);
        let village = RegionCode::parse(cell(r, v)).map_err(|e| bad("village_code", e.to_string()));
        let population =
            cell(r, p).trim().parse::<u32>().map_err(|_| bad("population", "is not a whole number".into()));
        let mut flag = |c: usize, name: &str| domain::parse_bool(cell(r, c)).map_err(|e| bad(name, e.to_string()));
        let rural = match rural {
            Some(c) => flag(c, "rural"),
            None => Ok(true),
        };
        let doctor = flag(d, "has_qualified_doctor");
        let within = flag(w, "within_15min");
        if let (Ok(village), Ok(population), Ok(rural), Ok(has_qualified_doctor), Ok(within_15min)) =
            (village, population, rural, doctor, within)
        {
            out.push(VillageReach { village, rural, population, has_qualified_doctor, within_15min });
        }
    }
    t.errors = errors;
    t.finish(out)
}

/// The persons under a family-doctor contract: any CSV with a `person_id` column.
pub fn read_contracts(path: &Path) -> Result<HashSet<ResidentId>, IngestError> {
    let mut t = Table::read(path)?;
    let c = t.col("person_id")?;
    let mut out = HashSet::with_capacity(t.rows.len());
    let mut errors = std::mem::take(&mut t.errors);
    for (line, r) in &t.rows {
        match ResidentId::parse(cell(r, c)) {
            Ok(id) => {
                out.insert(id);
            }
            Err(e) => Table::bad(&mut errors, &t.file, *line, "person_id", e),
        }
    }
    t.errors = errors;
    t.finish(out)
}

/// Region names by code, from a regions file (CSV or XLSX, as imported) or the
/// directory of the national division table.
pub fn read_region_names(path: &Path) -> Result<HashMap<RegionCode, String>, IngestError> {
    let regions: Vec<Region> =
        if path.is_dir() { crate::divisions::read_divisions(path)? } else { crate::read::read_all(path)? };
    Ok(regions.into_iter().map(|r| (r.code, r.name)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn settlements_take_their_tiers_from_the_header() {
        let d = tempfile::tempdir().unwrap();
        let p = file(
            &d,
            "s.csv",
            "claim_id,person_id,year,total_cost,eligible_cost,basic,critical,out_of_pocket\n\
             C1,x,2024,100.00,80.00,50.00,10.00,40.00\n",
        );
        let s = read_settlements(&p).unwrap();
        assert!(!s.keyed);
        assert_eq!(s.by_key[&ClaimKey::new("", "C1")].1, Fen(4000));
        // A file that names facilities: each claim by its key.
        let p = file(
            &d,
            "k.csv",
            "claim_id,facility_id,person_id,year,total_cost,eligible_cost,basic,out_of_pocket\n\
             C1,F1,x,2024,100.00,80.00,50.00,50.00\n\
             C1,F2,x,2024,100.00,80.00,70.00,30.00\n",
        );
        let s = read_settlements(&p).unwrap();
        assert!(s.keyed);
        assert_eq!(s.by_key[&ClaimKey::new("F2", "C1")].1, Fen(3000));
        assert_eq!(s.by_key[&ClaimKey::new("F1", "C1")].1, Fen(5000));
    }

    #[test]
    fn every_bad_row_is_named_with_its_column() {
        let d = tempfile::tempdir().unwrap();
        let p = file(
            &d,
            "r.csv",
            "\u{feff}Village_Code,population,has_qualified_doctor,within_15_minutes\n\
             341122100201,800,true,false\n\
             341122100202,many,true,false\n\
             341122100203,800,maybe,false\n",
        );
        let e = read_reach(&p).unwrap_err();
        let errs = e.row_errors();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            errs[0].labelled().to_string(),
            format!("{}:3: column population: is not a whole number", p.display())
        );
        assert_eq!((errs[1].line, errs[1].column.as_str()), (4, "has_qualified_doctor"));
        let p = file(&d, "a.csv", "household_id\nH1\n");
        let e = read_alerts(&p).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: the column year is missing; the header is household_id", p.display()));
    }

    #[test]
    fn crlf_and_blank_lines_keep_the_file_s_line_numbers() {
        let d = tempfile::tempdir().unwrap();
        let p = file(
            &d,
            "r.csv",
            "village_code,population,has_qualified_doctor,within_15_minutes\n\n\
             341122100201,800,true,false\n\n\n\
             341122100202,many,true,false\n",
        );
        let e = read_reach(&p).unwrap_err();
        let errs = e.row_errors();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!((errs[0].line, errs[0].column.as_str()), (6, "population"));
        let p = file(
            &d,
            "crlf.csv",
            "village_code,population,has_qualified_doctor,within_15_minutes\r\n\r\n\
             341122100201,800,true,false\r\n\r\n\r\n\
             341122100202,800,maybe,false\r\n\
             341122100203,many,true,false\r\n",
        );
        let e = read_reach(&p).unwrap_err();
        let errs = e.row_errors();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!((errs[0].line, errs[0].column.as_str()), (6, "has_qualified_doctor"));
        assert_eq!((errs[1].line, errs[1].column.as_str()), (7, "population"));
    }

    #[test]
    fn alerts_without_a_raised_day_count_at_the_end_of_their_year() {
        let d = tempfile::tempdir().unwrap();
        let p = file(&d, "a.csv", "household_id,year,assisted_on\nH1,2024,\nH2,2024,2024-05-01\n");
        let a = read_alerts(&p).unwrap();
        assert_eq!(a[0].raised_on, NaiveDate::from_ymd_opt(2024, 12, 31).unwrap());
        assert_eq!(a[1].assisted_on, NaiveDate::from_ymd_opt(2024, 5, 1));
    }
}
