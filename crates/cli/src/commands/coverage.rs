//! `safetynet coverage`: blank spots now and coming, and reach, from registry
//! files or from the store.
//!
//! The files are `ingest`'s: regions, facilities and practitioners (and, for
//! their history, postings and qualifications) read by its record reader (every
//! bad row reported as file:line: column: reason, nothing written when any is
//! refused), and the blank-spot, reach and 15-minute-circle files written
//! atomically. Without the files the network and its history come from the
//! store (`--db`, inside `--region`). Either way the network of each day is the
//! application's snapshot of the history (`app::history`), handed to the
//! `coverage` crate's rules; `plan` reads its inputs through [`load_network`]
//! here.

use crate::progress;
use crate::Global;
use anyhow::Context;
use app::NetworkData;
use chrono::NaiveDate;
use coverage::{BlankKind, Network, Settings, TravelModel, HORIZONS};
use domain::{parse_date, Facility, Posting, Practitioner, QualificationHeld, Record, Region, RegionLevel};
use ingest::IngestError;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The date the analysis is made at (YYYY-MM-DD): the network as its history
    /// has it that day; default today.
    #[arg(long, value_parser = parse_day)]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub files: RegistryFiles,
    /// Where to write the blank spots (CSV: kind, region_code, name, in_years, detail).
    #[arg(long)]
    pub out: PathBuf,
    /// Where to write each village's travel time to qualified care (CSV).
    #[arg(long)]
    pub reach_out: Option<PathBuf>,
    /// Where to write the 15-minute circle shares by township, county and
    /// province (CSV); default beside --reach-out as NAME_circle.csv.
    #[arg(long, requires = "reach_out")]
    pub circle_out: Option<PathBuf>,
    /// An OpenStreetMap extract (.osm.pbf) to measure travel on roads instead of
    /// by straight line.
    #[arg(long, requires = "reach_out")]
    pub roads: Option<PathBuf>,
    #[command(flatten)]
    pub settings: SettingArgs,
}

/// The registry files every coverage command reads: the three together, or
/// none (the store's network, `--db`).
#[derive(clap::Args, Debug)]
pub struct RegistryFiles {
    /// Regions (CSV: code, name, level, urban_rural, population, lon, lat).
    #[arg(long, requires_all = ["facilities", "practitioners"])]
    pub regions: Option<PathBuf>,
    /// Facilities (CSV: facility_id, name, kind, grade, region_code, lon, lat,
    /// opened, closed).
    #[arg(long, requires_all = ["regions", "practitioners"])]
    pub facilities: Option<PathBuf>,
    /// Practitioners (CSV: practitioner_id, facility_id, qualification, gp, birth_date, active).
    #[arg(long, requires_all = ["regions", "facilities"])]
    pub practitioners: Option<PathBuf>,
    /// Postings with their days (CSV: practitioner_id, facility_id, role, start, end).
    #[arg(long, requires = "practitioners")]
    pub postings: Option<PathBuf>,
    /// Qualifications with their days (CSV: practitioner_id, qualification, obtained, lapses).
    #[arg(long, requires = "practitioners")]
    pub qualifications: Option<PathBuf>,
    /// Without the files: the region scope of the store's network, a code
    /// prefix (34, 3411, 341122, ...); default the whole store.
    #[arg(long, default_value = "", conflicts_with = "regions")]
    pub region: String,
}

/// Retirement ages and the straight-line travel model.
#[derive(clap::Args, Debug)]
pub struct SettingArgs {
    /// Retirement age of village clinic practitioners.
    #[arg(long, default_value_t = 65)]
    pub retire_village: i32,
    /// Retirement age of all other practitioners.
    #[arg(long, default_value_t = 60)]
    pub retire_other: i32,
    /// Road distance over straight-line distance, without a road network.
    #[arg(long, default_value_t = 1.3)]
    pub detour: f64,
    /// Average travel speed in km/h, without a road network.
    #[arg(long, default_value_t = 30.0)]
    pub speed: f64,
}

impl SettingArgs {
    pub fn settings(&self) -> anyhow::Result<(Settings, TravelModel)> {
        let s = Settings { retire_village: self.retire_village, retire_other: self.retire_other };
        s.validate()?;
        let m = TravelModel { detour: self.detour, speed_kmh: self.speed };
        m.validate()?;
        Ok((s, m))
    }
}

pub fn parse_day(s: &str) -> Result<NaiveDate, String> {
    parse_date(s).map_err(|e| e.to_string())
}

/// Reads a CSV file of records (`ingest::read_records`), reporting every bad row
/// as `file:line: column NAME: reason` (the first 20, then a count).
fn read_records<R: Record>(path: &Path, quiet: bool) -> anyhow::Result<Vec<R>> {
    let pb = progress::spinner(&format!("reading {}", R::KIND), quiet);
    let read = ingest::read_records::<R>(path, ingest::ALL_ERRORS, &mut |done, _| pb.set_position(done));
    pb.finish_and_clear();
    read.map_err(|e| match e {
        IngestError::Rows { errors, .. } => {
            let n = errors.len();
            let mut msg = errors.iter().take(20).map(|e| e.labelled().to_string()).collect::<Vec<_>>().join("\n");
            if n > 20 {
                msg.push_str(&format!("\n... and {} more", n - 20));
            }
            anyhow::anyhow!(
                "{n} bad row{} in the {} file, nothing written:\n{msg}",
                if n == 1 { "" } else { "s" },
                R::KIND
            )
        }
        e => anyhow::Error::new(e).context(format!("cannot read the {} file", R::KIND)),
    })
}

/// The network with its history: from the registry files, checked against
/// each other (and the postings and qualifications against the practitioners
/// and facilities), or from the store (audited: the details name doctors).
pub fn load_network(files: &RegistryFiles, global: &Global, command: &str) -> anyhow::Result<NetworkData> {
    let (Some(regions), Some(facilities), Some(practitioners)) =
        (&files.regions, &files.facilities, &files.practitioners)
    else {
        return from_store(&files.region, global, command);
    };
    let quiet = global.quiet;
    let regions: Vec<Region> = read_records(regions, quiet)?;
    let facilities: Vec<Facility> = read_records(facilities, quiet)?;
    let practitioners: Vec<Practitioner> = read_records(practitioners, quiet)?;
    let postings: Vec<Posting> =
        files.postings.as_deref().map(|p| read_records(p, quiet)).transpose()?.unwrap_or_default();
    let qualifications: Vec<QualificationHeld> =
        files.qualifications.as_deref().map(|p| read_records(p, quiet)).transpose()?.unwrap_or_default();
    // The registry as given must agree with itself, whatever the day.
    let net =
        Network::new(regions, facilities, practitioners).context("the registry is inconsistent, nothing written")?;
    let known: HashSet<&str> = net.practitioners.iter().map(|p| p.practitioner_id.as_str()).collect();
    let mut unknown: Vec<String> = postings
        .iter()
        .filter(|p| !known.contains(p.practitioner_id.as_str()) || net.facility_position(&p.facility_id).is_none())
        .map(|p| format!("posting of {} at {}", p.practitioner_id, p.facility_id))
        .collect();
    unknown.extend(
        qualifications
            .iter()
            .filter(|q| !known.contains(q.practitioner_id.as_str()))
            .map(|q| format!("qualification of {}", q.practitioner_id)),
    );
    if !unknown.is_empty() {
        let n = unknown.len();
        unknown.truncate(20);
        anyhow::bail!(
            "{n} rows of the history name a practitioner or facility not in the files, nothing written: {}{}",
            unknown.join(", "),
            if n > 20 { format!(" and {} more", n - 20) } else { String::new() }
        );
    }
    Ok(NetworkData {
        regions: net.regions,
        facilities: net.facilities,
        practitioners: net.practitioners,
        postings,
        qualifications,
    })
}

/// The store's network with its history inside `region`, the read audited.
fn from_store(region: &str, global: &Global, command: &str) -> anyhow::Result<NetworkData> {
    let scope = app::Scope::parse(region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let data = app.network(&scope).await.map_err(|e| anyhow::anyhow!("{e}"));
        if data.is_ok() {
            let what = if region.is_empty() { "the whole store".to_string() } else { format!("region {region}") };
            crate::identity::audit(app.store(), command, "network", &format!("the health network of {what}"), None)
                .await?;
        }
        app.close().await;
        data
    })
}

/// Writes a CSV atomically (`ingest::write_csv_rows`): a failure leaves no
/// half-written output.
pub fn write_csv(path: &Path, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> anyhow::Result<()> {
    ingest::write_csv_rows(path, header, rows).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn minutes(m: Option<f64>) -> String {
    m.map(|m| format!("{m:.1}")).unwrap_or_default()
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let (settings, model) = args.settings.settings()?;
    let as_of = args.as_of.unwrap_or_else(app::history::today);
    let data = load_network(&args.files, global, "coverage")?;
    let net = app::history::network_on(&data, as_of).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Read the road file before any output is written: a bad file writes nothing.
    let roads = match &args.roads {
        Some(p) => {
            let sp = progress::spinner("loading roads", global.quiet);
            let loaded = coverage::osm::load(p)?;
            sp.finish_and_clear();
            eprintln!("roads: {} nodes, {} arcs from {} highways", loaded.1.nodes, loaded.1.arcs, loaded.1.ways);
            Some(loaded.0)
        }
        None => None,
    };

    let pb = progress::bar(HORIZONS.len() as u64 + 2, "coverage", global.quiet);
    let spots = app::history::project(&data, as_of, &settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    pb.inc(HORIZONS.len() as u64);
    write_csv(
        &args.out,
        &["kind", "region_code", "name", "in_years", "detail"],
        spots.iter().map(|b| {
            vec![
                b.kind.to_string(),
                b.region_code.to_string(),
                b.name.clone(),
                b.in_years.to_string(),
                b.detail.clone(),
            ]
        }),
    )?;

    let mut counts: BTreeMap<(i32, BlankKind), usize> = BTreeMap::new();
    for b in &spots {
        *counts.entry((b.in_years, b.kind)).or_default() += 1;
    }
    println!("blank spots as of {} (written to {}):", as_of, args.out.display());
    for y in HORIZONS {
        let line: Vec<String> =
            BlankKind::ALL.iter().map(|k| format!("{k} {}", counts.get(&(y, *k)).copied().unwrap_or(0))).collect();
        let when = if y == 0 { "now".to_string() } else { format!("in {y} year{}", if y == 1 { "" } else { "s" }) };
        println!("  {when:>11}: {}", line.join(", "));
    }

    if let Some(reach_out) = &args.reach_out {
        let reaches = match &roads {
            Some(g) => coverage::reach_on_roads(&net, as_of, &settings, &model, g).0,
            None => coverage::reach(&net, as_of, &settings, &model),
        };
        pb.inc(1);
        // A village has a qualified doctor now unless it is a blank village now.
        let blank_now: std::collections::HashSet<_> = spots
            .iter()
            .filter(|b| b.in_years == 0 && matches!(b.kind, BlankKind::VillageNoClinic | BlankKind::VillageNoDoctor))
            .map(|b| b.region_code)
            .collect();
        let fid = |f: Option<u32>| f.map(|f| net.facilities[f as usize].facility_id.clone()).unwrap_or_default();
        write_csv(
            reach_out,
            &[
                "village_code",
                "name",
                "rural",
                "population",
                "village_clinic_minutes",
                "village_clinic_id",
                "township_center_minutes",
                "township_center_id",
                "hospital_minutes",
                "hospital_id",
                "within_15_minutes",
                "has_qualified_doctor",
            ],
            reaches.iter().map(|r| {
                vec![
                    r.village.to_string(),
                    net.region(r.village).map(|x| x.name.clone()).unwrap_or_default(),
                    r.rural.to_string(),
                    r.population.to_string(),
                    minutes(r.minutes[0]),
                    fid(r.nearest[0]),
                    minutes(r.minutes[1]),
                    fid(r.nearest[1]),
                    minutes(r.minutes[2]),
                    fid(r.nearest[2]),
                    r.in_circle().to_string(),
                    (!blank_now.contains(&r.village)).to_string(),
                ]
            }),
        )?;
        let shares = coverage::shares(&net, &reaches);
        let circle_out = args.circle_out.clone().unwrap_or_else(|| {
            let stem = reach_out.file_stem().and_then(|s| s.to_str()).unwrap_or("reach");
            reach_out.with_file_name(format!("{stem}_circle.csv"))
        });
        write_csv(
            &circle_out,
            &["level", "code", "name", "villages", "rural_population", "within_15_minutes", "share"],
            shares.iter().map(|c| {
                vec![
                    c.level.to_string(),
                    c.code.short(),
                    c.name.clone(),
                    c.villages.to_string(),
                    c.population.to_string(),
                    c.within.to_string(),
                    format!("{:.4}", c.share()),
                ]
            }),
        )?;
        pb.finish_and_clear();
        println!(
            "15-minute medical service circle ({}; reach in {}, shares in {}):",
            if roads.is_some() { "on roads" } else { "straight line" },
            reach_out.display(),
            circle_out.display()
        );
        for c in shares.iter().filter(|c| matches!(c.level, RegionLevel::Province | RegionLevel::County)) {
            let indent = if c.level == RegionLevel::Province { "  " } else { "    " };
            println!(
                "{indent}{} {} {}: {:.1}% of {} rural people in {} villages",
                c.level,
                c.code.short(),
                c.name,
                c.share() * 100.0,
                c.population,
                c.villages
            );
        }
    }
    pb.finish_and_clear();
    Ok(())
}
