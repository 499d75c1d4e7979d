//! `safetynet demo`: the whole programme on a synthetic county, end to end.
//!
//! It writes a synthetic county (real division codes and names), creates the
//! store, imports every kind, settles the year's claims, monitors households,
//! finds blank spots and plans roving doctors, writes the indicator report, prints
//! a summary of what the store holds, and serves the web application with a demo
//! administrator. Every step is the same command a user would type, run with the
//! same arguments (printed as it goes), so the demo doubles as a worked example of
//! the command line.

use crate::{Cli, Global};
use anyhow::Context;
use clap::Parser;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where the synthetic files and the outputs go (created if missing).
    #[arg(long, default_value = "./safetynet-demo")]
    pub dir: PathBuf,
    /// small (about 6,000 households) or county (about 120,000).
    #[arg(long, default_value = "small")]
    pub scale: synth::Scale,
    /// The random seed: the same seed gives the same county.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The year of the claims, policy and thresholds.
    #[arg(long, default_value_t = 2024)]
    pub year: i32,
    /// The address to serve on; a busy port is replaced by a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// The demo administrator's password (default: a random one, printed).
    #[arg(long, env = "SAFETYNET_DEMO_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Stop after the summary instead of serving.
    #[arg(long)]
    pub no_serve: bool,
}

/// The step after which the demo works a township's cases (`demo_work`).
const MONITOR_STEP: &str = "raise early warnings in the store";
const ENROL_STEP: &str = "import the year's insurance enrolments";

/// The steps a demo runs, each as the command line a user would type.
pub(super) struct Plan {
    pub(super) dir: PathBuf,
    pub(super) db: String,
    pub(super) year: i32,
}

impl Plan {
    fn file(&self, name: &str) -> OsString {
        self.dir.join(name).into_os_string()
    }

    fn as_of(&self) -> String {
        format!("{}-12-31", self.year)
    }

    /// The registry files every coverage command reads.
    fn registry(&self) -> Vec<OsString> {
        let mut v = Vec::new();
        for (flag, name) in
            [("--regions", "regions.csv"), ("--facilities", "facilities.csv"), ("--practitioners", "practitioners.csv")]
        {
            v.push(flag.into());
            v.push(self.file(name));
        }
        v
    }

    fn steps(&self, args: &Args) -> Vec<(&'static str, Vec<OsString>)> {
        let year = self.year.to_string();
        let mut steps: Vec<(&'static str, Vec<OsString>)> = vec![(
            "synthesise a county",
            os(&[
                "synth",
                "--scale",
                &args.scale.to_string(),
                "--seed",
                &args.seed.to_string(),
                "--year",
                &year,
                "--out",
            ])
            .into_iter()
            .chain([self.dir.clone().into_os_string()])
            .collect(),
        )];
        steps.push(("create the store", os(&["migrate"])));
        for (label, kind, file) in [
            ("import the regions", "regions", "regions.csv"),
            ("import the households", "households", "households.csv"),
            ("import the persons", "persons", "persons.csv"),
            (ENROL_STEP, "enrolments", "enrolments.csv"),
            ("import the facilities", "facilities", "facilities.csv"),
            ("import the practitioners", "practitioners", "practitioners.csv"),
            ("import the claims", "claims", "claims.csv"),
            ("import the thresholds", "thresholds", "thresholds.csv"),
        ] {
            steps.push((label, vec!["import".into(), kind.into(), self.file(file)]));
        }
        steps.push((
            "settle the year's claims",
            vec![
                "settle".into(),
                "--policy".into(),
                self.file("policy.toml"),
                "--persons".into(),
                self.file("persons.csv"),
                "--claims".into(),
                self.file("claims.csv"),
                "--out".into(),
                self.file("settlements.csv"),
            ],
        ));
        steps.push((
            "monitor households",
            vec![
                "monitor".into(),
                "--year".into(),
                year.clone().into(),
                "--persons".into(),
                self.file("persons.csv"),
                "--households".into(),
                self.file("households.csv"),
                "--claims".into(),
                self.file("claims.csv"),
                "--settlements".into(),
                self.file("settlements.csv"),
                "--thresholds".into(),
                self.file("thresholds.toml"),
                "--out".into(),
                self.file("alerts.csv"),
            ],
        ));
        // The same year through the store, as officers work: the policy stored for
        // the nation, every stored claim settled with it, the warnings raised into
        // the work ledger the web application shows.
        steps.push((
            "store the settlement policy",
            vec![
                "settle".into(),
                "--store-policy".into(),
                self.file("policy.toml"),
                "--region".into(),
                "".into(),
                "--year".into(),
                year.clone().into(),
                "--actor".into(),
                "demo".into(),
            ],
        ));
        steps.push(("settle the stored claims", os(&["settle", "--year", &year, "--actor", "demo"])));
        steps.push((MONITOR_STEP, os(&["monitor", "--year", &year, "--actor", "demo"])));
        let mut coverage = vec!["coverage".into(), "--as-of".into(), self.as_of().into()];
        coverage.extend(self.registry());
        coverage.extend(["--out".into(), self.file("blank_spots.csv"), "--reach-out".into(), self.file("reach.csv")]);
        steps.push(("find blank spots and travel times", coverage));
        let mut plan = vec!["plan".into(), "--as-of".into(), self.as_of().into()];
        plan.extend(self.registry());
        plan.extend(["--out".into(), self.file("plan.csv")]);
        steps.push(("plan roving and dispatched doctors", plan));
        // The report over the store: its settlements, its alerts and their
        // assistance, its rural health network.
        steps.push((
            "report the programme's indicators",
            vec![
                "report".into(),
                "--year".into(),
                year.into(),
                "--level".into(),
                "county,township".into(),
                "--out".into(),
                self.file("report.xlsx"),
            ],
        ));
        steps
    }

    /// Runs one step through the same parser and dispatch as the command line.
    pub(super) fn run(&self, argv: &[OsString], global: &Global) -> anyhow::Result<()> {
        let mut full: Vec<OsString> = vec!["safetynet".into(), "--db".into(), self.db.clone().into()];
        if global.quiet {
            full.push("--quiet".into());
        }
        full.extend(argv.iter().cloned());
        let cli = Cli::try_parse_from(&full).map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::dispatch(cli.command, &cli.global)
    }
}

fn os(parts: &[&str]) -> Vec<OsString> {
    parts.iter().map(OsString::from).collect()
}

/// The command line as a user would type it (arguments with spaces quoted).
pub(super) fn shown(argv: &[OsString], db: &str) -> String {
    let mut s = format!("safetynet --db {db}");
    for a in argv {
        let a = a.to_string_lossy();
        if a.contains(' ') {
            s.push_str(&format!(" '{a}'"));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// The store of the demo: `DIR/safetynet.db` unless `--db` was given.
fn demo_db(dir: &Path, global: &Global) -> String {
    if global.db == "./safetynet.db" {
        dir.join("safetynet.db").display().to_string()
    } else {
        global.db.clone()
    }
}

/// `addr` when it is free (port 0 resolved to the port the system picks),
/// otherwise a free port on the same host.
fn free_addr(addr: &str) -> anyhow::Result<String> {
    if let Ok(l) = std::net::TcpListener::bind(addr) {
        return Ok(l.local_addr()?.to_string());
    }
    let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1");
    let l = std::net::TcpListener::bind((host, 0)).with_context(|| format!("no free port on {host}"))?;
    Ok(l.local_addr()?.to_string())
}

fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..12).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Writes `enrolments.csv`: every person of `persons.csv` enrolled in basic
/// medical insurance for the demo's year (the programme enrols every poor
/// person, with the premium subsidised), with the subsidy of their status:
/// special hardship in full, the other poor statuses in part, general residents
/// none (docs/desk.md, "Enrolment"). Enrolled on the first day of the year.
fn write_enrolments(plan: &Plan) -> anyhow::Result<u64> {
    use domain::{PovertyStatus, SubsidyCategory};
    let path = plan.dir.join("persons.csv");
    let persons: Vec<domain::Person> = ingest::records::read_records(&path, usize::MAX, &mut |_, _| {})
        .with_context(|| format!("reading {}", path.display()))?;
    let out = plan.dir.join("enrolments.csv");
    let mut w = csv::Writer::from_path(&out).with_context(|| format!("creating {}", out.display()))?;
    w.write_record(["person_id", "year", "category", "enrolled_on"])?;
    let day = format!("{}-01-01", plan.year);
    let year = plan.year.to_string();
    for p in &persons {
        let category = match p.status {
            PovertyStatus::SpecialHardship => SubsidyCategory::Full,
            PovertyStatus::General => SubsidyCategory::None,
            _ => SubsidyCategory::Partial,
        };
        w.write_record([p.person_id.to_string().as_str(), &year, category.as_str(), &day])?;
    }
    w.flush()?;
    Ok(persons.len() as u64)
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir).with_context(|| format!("creating {}", args.dir.display()))?;
    let plan = Plan { dir: args.dir.clone(), db: demo_db(&args.dir, global), year: args.year };
    let steps = plan.steps(&args);
    let started = Instant::now();
    let n = steps.len();
    for (i, (what, argv)) in steps.iter().enumerate() {
        println!("\n[{}/{n}] {what}\n$ {}", i + 1, shown(argv, &plan.db));
        let t = Instant::now();
        if *what == ENROL_STEP {
            let n = write_enrolments(&plan).context("writing the enrolments of the year")?;
            println!("  {n} persons enrolled for {} (the file written from persons.csv)", plan.year);
        }
        plan.run(argv, global).with_context(|| format!("demo step {} ({what})", i + 1))?;
        println!("  ({:.1} s)", t.elapsed().as_secs_f64());
        if *what == MONITOR_STEP {
            // The alerts opened cases: a month of a township's daily work on them.
            println!("\n[{}/{n}] the daily work of one township: contracts, visits, cases", i + 1);
            let t = Instant::now();
            super::demo_work::run(&plan, global).context("demo step: the daily work of one township")?;
            println!("  ({:.1} s)", t.elapsed().as_secs_f64());
        }
    }
    print_summary(&plan)?;
    println!("\nall steps done in {:.1} s; files in {}", started.elapsed().as_secs_f64(), args.dir.display());
    if args.no_serve {
        return Ok(());
    }
    let addr = free_addr(&args.addr)?;
    let password = args.password.clone().unwrap_or_else(random_password);
    println!("\nweb application: http://{addr}/");
    println!("demo login:      user admin, password {password}");
    let argv: Vec<OsString> =
        vec!["serve".into(), "--addr".into(), addr.into(), "--create-admin".into(), format!("admin:{password}").into()];
    plan.run(&argv, global)
}

/// What the store holds now, in one table.
fn print_summary(plan: &Plan) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (s, cases, closed, closed_alerts) = rt.block_on(async {
        let store = store::Store::open(&plan.db).await?;
        let s = store.summary(&store::Scope::all()).await?;
        let all = store::Scope::all();
        let today = domain::time::china_today();
        let cases = store.cases(&all, &store::CaseQuery::default(), today, store::Page::first(u32::MAX)).await?;
        let mut closed_alerts = 0;
        let mut closed = 0;
        for c in cases.iter().filter(|c| c.state == domain::work::CaseState::Closed) {
            closed += 1;
            closed_alerts += store.case(&all, c.id).await?.map_or(0, |c| c.alerts.len() as u64);
        }
        store.close().await;
        anyhow::Ok((s, cases.len() as u64, closed, closed_alerts))
    })?;
    let alerts = count_rows(&plan.dir.join("alerts.csv"));
    let blank = count_rows(&plan.dir.join("blank_spots.csv"));
    println!("\nthe store {} holds:", plan.db);
    for (what, n) in [
        ("regions", s.regions),
        ("households", s.households),
        ("persons", s.persons),
        ("  of them poor or monitored", s.poor_persons),
        ("facilities", s.facilities),
        ("practitioners", s.practitioners),
        ("claims", s.claims),
        ("settlements", s.settlements),
        ("open alerts", s.open_alerts),
        ("alerts closed by their case", closed_alerts),
        ("cases of households at risk", cases),
        ("  of them closed", closed),
    ] {
        println!("  {what:<28} {n:>10}");
    }
    println!("files: {} alerts in alerts.csv, {} blank spots in blank_spots.csv", alerts, blank);
    Ok(())
}

/// Data rows of a CSV file (0 when it cannot be read).
fn count_rows(path: &Path) -> u64 {
    std::fs::read(path).map(|b| b.iter().filter(|&&c| c == b'\n').count().saturating_sub(1) as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_parses_as_a_command_line() {
        let args = Args {
            dir: PathBuf::from("/tmp/x"),
            scale: synth::Scale::Small,
            seed: 1,
            year: 2024,
            addr: "127.0.0.1:0".into(),
            password: None,
            no_serve: true,
        };
        let plan = Plan { dir: args.dir.clone(), db: "/tmp/x/s.db".into(), year: 2024 };
        for (what, argv) in plan.steps(&args) {
            let mut full: Vec<OsString> = vec!["safetynet".into()];
            full.extend(argv);
            if let Err(e) = Cli::try_parse_from(&full) {
                panic!("step {what} does not parse: {e}");
            }
        }
    }

    #[test]
    fn demo_store_defaults_into_the_demo_directory() {
        let g = Global { db: "./safetynet.db".into(), verbose: 0, quiet: true };
        assert_eq!(demo_db(Path::new("d"), &g), "d/safetynet.db");
        let g = Global { db: "postgres://x/y".into(), verbose: 0, quiet: true };
        assert_eq!(demo_db(Path::new("d"), &g), "postgres://x/y");
    }

    #[test]
    fn random_passwords_are_long_and_differ() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.len(), 12);
        assert_ne!(a, b);
    }
}
