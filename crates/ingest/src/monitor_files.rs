//! The files of `safetynet monitor` in file mode (docs/monitoring.md, "Inputs" and
//! "Output of the batch command"): households, persons, claims and settlements
//! in, through the reader of [`crate::records`]; the alerts and the households
//! without a threshold out, atomically. Thresholds are [`crate::thresholds`]'.

use crate::atomic::write_atomically;
use crate::error::IngestError;
use crate::records::read_records_where;
use domain::{Claim, Fen, FieldError, Household, Record, ResidentId};
use monitor::{Finding, Member, MissingThreshold, RuleSet, SettledCost};
use std::io::Write;
use std::path::Path;

/// At most this many bad rows of a file are listed; the read of that file stops
/// there.
pub const MAX_ERRORS: usize = 20;

/// The warning rules: a region's rules file (TOML, docs/monitoring.md "Rules")
/// over the default rules, or the default rules alone.
pub fn read_rules(path: Option<&Path>) -> Result<RuleSet, IngestError> {
    let Some(path) = path else {
        return Ok(RuleSet::defaults());
    };
    let text = crate::encoding::read_utf8_text(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            IngestError::Format { file: path.display().to_string(), reason: e.to_string() }
        }
        _ => IngestError::open(path, e),
    })?;
    RuleSet::from_region_toml(text.trim_start_matches('\u{feff}'))
        .map_err(|e| IngestError::Format { file: path.display().to_string(), reason: e.to_string() })
}

/// The four files of one run.
#[derive(Debug, Clone, Copy)]
pub struct MonitorFiles<'a> {
    pub households: &'a Path,
    pub persons: &'a Path,
    pub claims: &'a Path,
    pub settlements: &'a Path,
}

impl MonitorFiles<'_> {
    /// Their size together, in bytes (for a progress bar).
    pub fn total_size(&self) -> u64 {
        [self.households, self.persons, self.claims, self.settlements]
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum()
    }
}

/// What the files hold, parsed.
#[derive(Debug, Default)]
pub struct MonitorInputs {
    pub households: Vec<Household>,
    pub members: Vec<Member>,
    /// The claims of the year monitored only.
    pub claims: Vec<Claim>,
    pub settlements: Vec<SettledCost>,
}

/// Reads the four files side by side (they are independent), each through
/// [`crate::records::read_records`] with at most [`MAX_ERRORS`] bad rows. Claims
/// of other years than `year` cannot raise an alert for it: they are parsed and
/// checked, then dropped to save memory. `progress` is told the bytes read, in
/// steps, from the reading threads. A refusal is the first file's, in the order
/// households, persons, claims, settlements.
pub fn read_monitor_files(
    files: &MonitorFiles,
    year: i32,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<MonitorInputs, IngestError> {
    fn read<R: Record>(
        path: &Path,
        progress: &(dyn Fn(u64) + Sync),
        keep: impl Fn(&R) -> bool,
    ) -> Result<Vec<R>, IngestError> {
        let mut last = 0;
        let mut step = |done: u64, _total: u64| {
            progress(done.saturating_sub(last));
            last = last.max(done);
        };
        read_records_where(path, MAX_ERRORS, &mut step, keep)
    }
    let (h, m, c, s) = std::thread::scope(|scope| {
        let h = scope.spawn(|| read::<Household>(files.households, progress, |_| true));
        let m = scope.spawn(|| read::<PersonRow>(files.persons, progress, |_| true));
        let c = scope.spawn(|| read::<Claim>(files.claims, progress, |c| c.year() == year));
        let s = scope.spawn(|| read::<SettlementRow>(files.settlements, progress, |_| true));
        (join(h.join()), join(m.join()), join(c.join()), join(s.join()))
    });
    Ok(MonitorInputs {
        households: h?,
        members: m?.into_iter().map(|p| p.0).collect(),
        claims: c?,
        settlements: s?.into_iter().map(|s| s.0).collect(),
    })
}

/// A reader thread's result; its panic goes on in the caller.
fn join<T>(r: std::thread::Result<T>) -> T {
    r.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// A person as monitoring reads it: only `person_id, household_id, status`.
struct PersonRow(Member);

impl Record for PersonRow {
    const KIND: &'static str = "persons";
    const COLUMNS: &'static [domain::Column] = &[
        domain::Column { name: "person_id", required: true },
        domain::Column { name: "household_id", required: true },
        domain::Column { name: "status", required: true },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let person_id = ResidentId::parse(f[0]).map_err(|e| FieldError { column: "person_id", reason: e.0 })?;
        let household_id = domain::parse_id("household_id", f[1])?;
        let status = f[2].parse().map_err(|e: domain::DomainError| FieldError { column: "status", reason: e.0 })?;
        Ok(PersonRow(Member { person_id, household_id, status }))
    }

    fn to_fields(&self) -> Vec<String> {
        vec![self.0.person_id.to_string(), self.0.household_id.clone(), self.0.status.to_string()]
    }

    fn key(&self) -> String {
        self.0.person_id.to_string()
    }
}

/// A settlement row of `settle`'s output, of which monitoring reads
/// `person_id, year, out_of_pocket`.
struct SettlementRow(SettledCost);

impl Record for SettlementRow {
    const KIND: &'static str = "settlements";
    const COLUMNS: &'static [domain::Column] = &[
        domain::Column { name: "person_id", required: true },
        domain::Column { name: "year", required: true },
        domain::Column { name: "out_of_pocket", required: true },
    ];

    fn from_fields(f: &[&str]) -> Result<Self, FieldError> {
        let person_id = ResidentId::parse(f[0]).map_err(|e| FieldError { column: "person_id", reason: e.0 })?;
        let year = domain::parse_year(f[1]).map_err(|e| FieldError { column: "year", reason: e.0 })?;
        let out_of_pocket = Fen::parse_yuan(f[2]).map_err(|e| FieldError { column: "out_of_pocket", reason: e.0 })?;
        Ok(SettlementRow(SettledCost { person_id, year, out_of_pocket }))
    }

    fn to_fields(&self) -> Vec<String> {
        vec![self.0.person_id.to_string(), self.0.year.to_string(), self.0.out_of_pocket.to_string()]
    }

    fn key(&self) -> String {
        self.0.person_id.to_string()
    }
}

/// Writes the alerts file: `rule, household_id, village_code, year, value,
/// threshold`, one row per alert in the order given; atomically.
pub fn write_alerts(path: &Path, alerts: &[Finding]) -> Result<(), IngestError> {
    write_atomically(path, |w| write_alerts_to(w, alerts).map_err(|e| csv_error(path, e)))
}

fn write_alerts_to(w: &mut dyn Write, alerts: &[Finding]) -> Result<(), csv::Error> {
    use std::fmt::Write as _;
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(["rule", "household_id", "village_code", "year", "value", "threshold"])?;
    // One buffer a column, reused from row to row.
    let (mut village, mut year, mut value, mut threshold) =
        (String::new(), String::new(), String::new(), String::new());
    for a in alerts {
        village.clear();
        year.clear();
        value.clear();
        threshold.clear();
        // Writing into a String cannot fail.
        let _ = write!(village, "{}", a.village_code);
        let _ = write!(year, "{}", a.year);
        let _ = write!(value, "{}", a.value);
        if let Some(t) = &a.threshold {
            let _ = write!(threshold, "{t}");
        }
        csv.write_record([
            a.rule.as_str(),
            a.household_id.as_str(),
            village.as_str(),
            year.as_str(),
            value.as_str(),
            threshold.as_str(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}

/// Writes the households without a threshold: `household_id, village_code, year`;
/// atomically.
pub fn write_missing(path: &Path, missing: &[MissingThreshold]) -> Result<(), IngestError> {
    write_atomically(path, |w| {
        let write = || -> Result<(), csv::Error> {
            let mut csv = csv::Writer::from_writer(w);
            csv.write_record(["household_id", "village_code", "year"])?;
            for m in missing {
                csv.write_record([m.household_id.as_str(), &m.village_code.to_string(), &m.year.to_string()])?;
            }
            csv.flush()?;
            Ok(())
        };
        write().map_err(|e| csv_error(path, e))
    })
}

fn csv_error(path: &Path, e: csv::Error) -> IngestError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => IngestError::output(path, io),
        other => IngestError::Write { file: path.display().to_string(), reason: format!("{other:?}") },
    }
}
