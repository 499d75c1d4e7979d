//! The files of a run: CSV with the columns of `domain::Record::COLUMNS`, the
//! thresholds also as TOML, the policy, and a manifest with the counts.
//!
//! Rows are formatted straight into byte buffers (no per-row `Vec<String>`), and
//! townships are generated on all cores in small ordered batches: each worker
//! fills its own buffers, the main thread writes them in township order, so the
//! files are byte-identical to a run on one thread and memory stays bounded by the
//! batch.

use crate::people::{self, Scratch};
use crate::plan::Plan;
use crate::{policy_toml, Config, Sink, Summary, SynthError};
use domain::{Claim, Facility, Household, Person, Practitioner, Record, Region, Threshold};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A township's rows, formatted, and its counts.
type TownOut = (CsvSink<Vec<u8>>, Summary);

/// One written file: its name, data rows (without the header) and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
}

/// What [`write_dir`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub config: Config,
    pub summary: Summary,
    pub files: Vec<FileSummary>,
}

/// How far a run has come, in households.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub households_done: u64,
    pub households_total: u64,
}

/// Writes a run into `dir` (created if missing): `regions.csv`, `households.csv`,
/// `persons.csv`, `facilities.csv`, `practitioners.csv`, `claims.csv`,
/// `thresholds.csv`, `thresholds.toml`, `policy.toml` and `manifest.json`.
pub fn write_dir(config: &Config, dir: &Path) -> Result<Written, SynthError> {
    write_dir_with_progress(config, dir, &mut |_| {})
}

/// [`write_dir`], calling `progress` after each township.
pub fn write_dir_with_progress(
    config: &Config,
    dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<Written, SynthError> {
    let plan = Plan::build(config)?;
    std::fs::create_dir_all(dir).map_err(SynthError::io(format!("creating {}", dir.display())))?;
    let open = |name: &str| -> Result<BufWriter<File>, SynthError> {
        let p = dir.join(name);
        let f = File::create(&p).map_err(SynthError::io(format!("creating {}", p.display())))?;
        Ok(BufWriter::with_capacity(1 << 20, f))
    };
    let mut files = CsvSink {
        thresholds: open("thresholds.csv")?,
        regions: open("regions.csv")?,
        facilities: open("facilities.csv")?,
        practitioners: open("practitioners.csv")?,
        households: open("households.csv")?,
        persons: open("persons.csv")?,
        claims: open("claims.csv")?,
    };
    let werr = SynthError::io(format!("writing to {}", dir.display()));
    let mut summary = (|| {
        files.headers()?;
        plan.emit_fixed(&mut files)
    })()
    .map_err(werr)?;

    let total: u64 = plan.villages.iter().map(|v| v.households as u64).sum();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 16);
    let batch = threads * 3;
    let mut done = 0u64;
    let mut next_town = 0;
    while next_town < plan.townships.len() {
        let range = next_town..(next_town + batch).min(plan.townships.len());
        next_town = range.end;
        let results: Mutex<Vec<Option<TownOut>>> = Mutex::new((0..range.len()).map(|_| None).collect());
        let cursor = AtomicUsize::new(0);
        let failed: Mutex<Option<std::io::Error>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..threads.min(range.len()) {
                s.spawn(|| {
                    let mut scratch = Scratch::new(&plan);
                    loop {
                        let i = cursor.fetch_add(1, Ordering::Relaxed);
                        if i >= range.len() {
                            break;
                        }
                        let mut buf = CsvSink::buffers();
                        match people::township(&plan, range.start + i, &mut scratch, &mut buf) {
                            Ok(sum) => results.lock().expect("no worker panicked")[i] = Some((buf, sum)),
                            Err(e) => {
                                *failed.lock().expect("no worker panicked") = Some(e);
                                break;
                            }
                        }
                    }
                });
            }
        });
        if let Some(e) = failed.into_inner().expect("no worker panicked") {
            return Err(SynthError::Io { context: "generating people".into(), source: e });
        }
        for (buf, sum) in results.into_inner().expect("no worker panicked").into_iter().flatten() {
            files.append(&buf).map_err(SynthError::io(format!("writing to {}", dir.display())))?;
            summary.add_people(&sum);
            done += sum.households;
            progress(Progress { households_done: done, households_total: total });
        }
    }
    files.flush().map_err(SynthError::io(format!("writing to {}", dir.display())))?;
    drop(files);

    let write = |name: &str, text: &str| -> Result<(), SynthError> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(SynthError::io(format!("writing {}", p.display())))
    };
    write("thresholds.toml", &thresholds_toml(&plan.thresholds))?;
    let policy_name = format!("Synthetic {} {}", plan.province.name, plan.year);
    write("policy.toml", &policy_toml(&policy_name, plan.year))?;

    let rows = [
        ("regions.csv", summary.regions),
        ("households.csv", summary.households),
        ("persons.csv", summary.persons),
        ("facilities.csv", summary.facilities),
        ("practitioners.csv", summary.practitioners),
        ("claims.csv", summary.claims),
        ("thresholds.csv", summary.thresholds),
        ("thresholds.toml", summary.thresholds),
        ("policy.toml", 0),
    ];
    let mut listed = Vec::new();
    for (name, n) in rows {
        let bytes = std::fs::metadata(dir.join(name)).map(|m| m.len()).unwrap_or(0);
        listed.push(FileSummary { name: name.to_string(), rows: n, bytes });
    }
    let written = Written { config: config.clone(), summary, files: listed };
    let json = serde_json::to_string_pretty(&written).expect("a manifest serializes");
    write("manifest.json", &(json + "\n"))?;
    Ok(written)
}

/// The thresholds in the TOML form of docs/monitoring.md.
pub fn thresholds_toml(ts: &[Threshold]) -> String {
    let mut s = String::from("# Monitoring thresholds (docs/monitoring.md): the province and county overrides.\n");
    for t in ts {
        s.push_str(&format!(
            "\n[[threshold]]\nregion = \"{}\"\nyear = {}\nrural_income = {}\nmonitoring_line = {}\n",
            t.region,
            t.year,
            yuan_toml(t.rural_income),
            yuan_toml(t.monitoring_line)
        ));
    }
    s
}

/// Whole yuan as an integer, otherwise with two decimals.
fn yuan_toml(f: domain::Fen) -> String {
    if f.0 % 100 == 0 {
        (f.0 / 100).to_string()
    } else {
        f.to_string()
    }
}

/// A sink that writes CSV rows, one writer per kind.
pub(crate) struct CsvSink<W: Write> {
    thresholds: W,
    regions: W,
    facilities: W,
    practitioners: W,
    households: W,
    persons: W,
    claims: W,
}

impl CsvSink<Vec<u8>> {
    fn buffers() -> Self {
        CsvSink {
            thresholds: Vec::new(),
            regions: Vec::new(),
            facilities: Vec::new(),
            practitioners: Vec::new(),
            households: Vec::with_capacity(1 << 18),
            persons: Vec::with_capacity(1 << 20),
            claims: Vec::with_capacity(1 << 21),
        }
    }
}

impl<W: Write> CsvSink<W> {
    fn headers(&mut self) -> std::io::Result<()> {
        fn h<R: Record>(w: &mut impl Write) -> std::io::Result<()> {
            let names: Vec<&str> = R::COLUMNS.iter().map(|c| c.name).collect();
            writeln!(w, "{}", names.join(","))
        }
        h::<Threshold>(&mut self.thresholds)?;
        h::<Region>(&mut self.regions)?;
        h::<Facility>(&mut self.facilities)?;
        h::<Practitioner>(&mut self.practitioners)?;
        h::<Household>(&mut self.households)?;
        h::<Person>(&mut self.persons)?;
        h::<Claim>(&mut self.claims)
    }

    fn append(&mut self, b: &CsvSink<Vec<u8>>) -> std::io::Result<()> {
        self.thresholds.write_all(&b.thresholds)?;
        self.regions.write_all(&b.regions)?;
        self.facilities.write_all(&b.facilities)?;
        self.practitioners.write_all(&b.practitioners)?;
        self.households.write_all(&b.households)?;
        self.persons.write_all(&b.persons)?;
        self.claims.write_all(&b.claims)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        for w in [
            &mut self.thresholds,
            &mut self.regions,
            &mut self.facilities,
            &mut self.practitioners,
            &mut self.households,
            &mut self.persons,
            &mut self.claims,
        ] {
            w.flush()?;
        }
        Ok(())
    }
}

/// A CSV field: quoted only when it must be.
fn field(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        write!(w, "\"{}\"", s.replace('"', "\"\""))
    } else {
        w.write_all(s.as_bytes())
    }
}

fn opt<T: std::fmt::Display>(w: &mut impl Write, v: &Option<T>) -> std::io::Result<()> {
    match v {
        Some(x) => write!(w, "{x}"),
        None => Ok(()),
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn threshold(&mut self, t: &Threshold) -> std::io::Result<()> {
        let w = &mut self.thresholds;
        writeln!(w, "{},{},{},{}", t.region, t.year, t.rural_income, t.monitoring_line)
    }

    fn region(&mut self, r: &Region) -> std::io::Result<()> {
        let w = &mut self.regions;
        write!(w, "{},", r.code)?;
        field(w, &r.name)?;
        write!(w, ",{},", r.level)?;
        opt(w, &r.urban_rural)?;
        w.write_all(b",")?;
        opt(w, &r.population)?;
        w.write_all(b",")?;
        opt(w, &r.lon)?;
        w.write_all(b",")?;
        opt(w, &r.lat)?;
        w.write_all(b"\n")
    }

    fn facility(&mut self, f: &Facility) -> std::io::Result<()> {
        let w = &mut self.facilities;
        field(w, &f.facility_id)?;
        w.write_all(b",")?;
        field(w, &f.name)?;
        write!(w, ",{},", f.kind)?;
        opt(w, &f.grade.map(|g| g.0))?;
        write!(w, ",{},", f.region_code)?;
        opt(w, &f.lon)?;
        w.write_all(b",")?;
        opt(w, &f.lat)?;
        // Opened and closed (migration 20): a synthetic facility is open at
        // every date.
        w.write_all(b",")?;
        opt(w, &f.opened)?;
        w.write_all(b",")?;
        opt(w, &f.closed)?;
        w.write_all(b"\n")
    }

    fn practitioner(&mut self, p: &Practitioner) -> std::io::Result<()> {
        let w = &mut self.practitioners;
        field(w, &p.practitioner_id)?;
        w.write_all(b",")?;
        field(w, &p.facility_id)?;
        write!(w, ",{},{},{},{},", p.qualification, p.gp, p.birth_date, p.active)?;
        field(w, &p.name)?;
        w.write_all(b"\n")
    }

    fn household(&mut self, h: &Household) -> std::io::Result<()> {
        let w = &mut self.households;
        field(w, &h.household_id)?;
        write!(w, ",{},{},{},", h.village_code, h.size, h.income)?;
        opt(w, &h.consumption)?;
        w.write_all(b",")?;
        opt(w, &h.food)?;
        w.write_all(b"\n")
    }

    fn person(&mut self, p: &Person) -> std::io::Result<()> {
        let w = &mut self.persons;
        write!(w, "{},", p.person_id)?;
        field(w, &p.household_id)?;
        w.write_all(b",")?;
        field(w, &p.name)?;
        write!(w, ",{},{},", p.status, p.status_since)?;
        for (i, d) in p.diagnoses.iter().enumerate() {
            if i > 0 {
                w.write_all(b";")?;
            }
            field(w, d)?;
        }
        w.write_all(b"\n")
    }

    fn claim(&mut self, c: &Claim) -> std::io::Result<()> {
        let w = &mut self.claims;
        field(w, &c.claim_id)?;
        write!(
            w,
            ",{},{},{},{},{},{},{},",
            c.person_id, c.facility_level, c.kind, c.admitted, c.discharged, c.total_cost, c.eligible_cost
        )?;
        field(w, &c.diagnosis)?;
        w.write_all(b",")?;
        field(w, &c.facility_id)?;
        w.write_all(if c.referred { b",true\n" } else { b",false\n" })
    }
}
