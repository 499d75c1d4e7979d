//! `safetynet plan`: the roving and dispatch plan for the blank villages of a
//! registry, from files or the store, on the network as its history has it on
//! the day. Reading and checking the files is `coverage`'s (this module's
//! sibling); the planning is the `coverage` crate's. With `--save`, the plan
//! of a county or township of the store is kept as a draft for a period
//! (`app::plans`, docs/plans.md).

use super::coverage::{load_network, parse_day, write_csv, RegistryFiles, SettingArgs};
use crate::progress;
use crate::Global;
use chrono::NaiveDate;
use coverage::plan::{plan, plan_inputs, Action, PlanSettings, SLOTS};
use coverage::tours::{halfday_name, tour_inputs, tours, TourSettings};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The date the plan is made at (YYYY-MM-DD): blank villages and serving
    /// doctors then, from the network's history; default today.
    #[arg(long, value_parser = parse_day)]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub files: RegistryFiles,
    /// Where to write the plan (CSV).
    #[arg(long, required_unless_present = "save")]
    pub out: Option<PathBuf>,
    /// Keep the plan in the store as a draft (docs/plans.md): the next version
    /// of the county or township given by --region, for the period
    /// --period-start to --period-end.
    #[arg(long, requires_all = ["period_start", "period_end"], conflicts_with = "regions")]
    pub save: bool,
    /// The first day of the kept plan's period (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub period_start: Option<NaiveDate>,
    /// The last day of the kept plan's period (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    pub period_end: Option<NaiveDate>,
    /// Half-day visits each blank village needs a week.
    #[arg(long, default_value_t = 2)]
    pub visits_per_week: u32,
    /// Most outreach half-days a doctor gives a week.
    #[arg(long, default_value_t = 4)]
    pub outreach_halfdays: u32,
    /// Longest one-way trip in minutes.
    #[arg(long, default_value_t = 60.0)]
    pub max_travel_minutes: f64,
    /// Villages of more people than this get a dispatched doctor.
    #[arg(long, default_value_t = 1500)]
    pub dispatch_population: u32,
    /// Where to write the tours (CSV): each roving doctor's half-day tours of
    /// one or several villages, in order (docs/coverage.md, "Roving tours").
    #[arg(long)]
    pub tours_out: Option<PathBuf>,
    /// Tours: visits a toured village gets a month.
    #[arg(long, default_value_t = 4)]
    pub visits_per_month: u32,
    /// Tours: most half-days a doctor gives to tours a month.
    #[arg(long, default_value_t = 8)]
    pub halfdays_per_month: u32,
    /// Tours: minutes of a half-day, travel and service together.
    #[arg(long, default_value_t = 240.0)]
    pub halfday_minutes: f64,
    /// Tours: minutes spent in each village.
    #[arg(long, default_value_t = 45.0)]
    pub service_minutes: f64,
    #[command(flatten)]
    pub settings: SettingArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let (settings, model) = args.settings.settings()?;
    let ps = PlanSettings {
        visits_per_week: args.visits_per_week,
        outreach_halfdays: args.outreach_halfdays,
        max_travel_minutes: args.max_travel_minutes,
        dispatch_population: args.dispatch_population,
        model,
    };
    ps.validate()?;
    let ts = TourSettings {
        visits_per_month: args.visits_per_month,
        halfdays_per_month: args.halfdays_per_month,
        halfday_minutes: args.halfday_minutes,
        service_minutes: args.service_minutes,
        dispatch_population: args.dispatch_population,
        model,
    };
    ts.validate()?;
    let as_of = args.as_of.unwrap_or_else(app::history::today);
    if args.save {
        save(&args, global, as_of, &ps, &ts, &settings)?;
    }
    let Some(out) = &args.out else { return Ok(()) };
    let data = load_network(&args.files, global, "plan")?;
    let net = app::history::network_on(&data, as_of).map_err(|e| anyhow::anyhow!("{e}"))?;
    let sp = progress::spinner("planning", global.quiet);
    let (villages, doctors) = plan_inputs(&net, as_of, &settings);
    let p = plan(&villages, &doctors, &ps)?;
    let (tv, td) = tour_inputs(&net, as_of, &settings);
    let tp = tours(&tv, &td, &ts)?;
    sp.finish_and_clear();

    let mut rows = Vec::new();
    for vp in &p.villages {
        let v = &villages[vp.village];
        let base = |r: &mut Vec<String>| {
            r.push(v.code.to_string());
            r.push(v.name.clone());
            r.push(v.population.to_string());
        };
        if vp.visits.is_empty() {
            let mut r = Vec::new();
            base(&mut r);
            r.extend([
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                vp.action.as_str().into(),
                vp.reason.clone(),
            ]);
            rows.push(r);
        }
        for visit in &vp.visits {
            let d = &doctors[visit.doctor];
            let mut r = Vec::new();
            base(&mut r);
            r.push(d.practitioner_id.clone());
            r.push(d.facility_id.clone());
            r.push(visit.slots.iter().map(|&s| SLOTS[s as usize]).collect::<Vec<_>>().join(";"));
            r.push(format!("{:.1}", visit.minutes));
            r.push(vp.action.as_str().into());
            r.push(vp.reason.clone());
            rows.push(r);
        }
    }
    write_csv(
        out,
        &[
            "village_code",
            "village_name",
            "population",
            "doctor_id",
            "facility_id",
            "halfdays",
            "travel_minutes",
            "action",
            "reason",
        ],
        rows,
    )?;
    let total_pop: u64 = villages.iter().map(|v| v.population as u64).sum();
    println!("plan as of {} written to {}:", as_of, out.display());
    println!(
        "  blank villages {}: rove {}, dispatch {}, uncovered {}; {} doctors could rove",
        villages.len(),
        p.count(Action::Rove),
        p.count(Action::Dispatch),
        p.count(Action::Uncovered),
        doctors.len()
    );
    println!(
        "  covered population {} of {}; upper bound {} (gap {:.2}%)",
        p.covered_population,
        total_pop,
        p.population_bound,
        p.population_gap() * 100.0
    );
    println!("  total travel {:.1} minutes a week (one way)", p.total_travel_minutes);
    println!("  lower bound  {:.1} minutes (nearest feasible doctor for every visit)", p.lower_bound_minutes);
    println!("  gap          {:.2}%", p.gap() * 100.0);
    println!(
        "tours ({} visits a month, {} half-days a doctor, half-day {} min, {} min a village): {} tours by {} of {} doctors",
        ts.visits_per_month,
        ts.halfdays_per_month,
        ts.halfday_minutes,
        ts.service_minutes,
        tp.tours.len(),
        tp.tours.iter().map(|t| t.doctor).collect::<std::collections::HashSet<_>>().len(),
        td.len()
    );
    println!(
        "  toured villages {}; covered population {}, upper bound {} (gap {:.2}%)",
        tp.count(Action::Rove),
        tp.covered_population,
        tp.population_bound,
        tp.population_gap() * 100.0
    );
    println!(
        "  travel {:.1} minutes a month (round trips), lower bound {:.1} (gap {:.2}%)",
        tp.travel_minutes,
        tp.travel_bound_minutes,
        tp.travel_gap() * 100.0
    );
    if let Some(path) = &args.tours_out {
        let mut rows = Vec::new();
        for (i, t) in tp.tours.iter().enumerate() {
            let d = &td[t.doctor];
            rows.push(vec![
                (i + 1).to_string(),
                d.practitioner_id.clone(),
                d.facility_id.clone(),
                t.halfdays.iter().map(|&h| halfday_name(h)).collect::<Vec<_>>().join(";"),
                t.villages.iter().map(|&v| tv[v].code.to_string()).collect::<Vec<_>>().join(";"),
                t.villages.iter().map(|&v| tv[v].name.clone()).collect::<Vec<_>>().join(";"),
                t.villages.iter().map(|&v| tv[v].population as u64).sum::<u64>().to_string(),
                format!("{:.1}", t.travel_minutes),
                format!("{:.1}", t.duration_minutes),
            ]);
        }
        write_csv(
            path,
            &[
                "tour",
                "doctor_id",
                "facility_id",
                "halfdays",
                "village_codes",
                "village_names",
                "population",
                "travel_minutes",
                "duration_minutes",
            ],
            rows,
        )?;
        println!("  tours written to {}", path.display());
    }
    Ok(())
}

/// Keeps the planner's plan of the region as a draft, as the officer's "save
/// this plan" does: the whole store's scope, audited as the operator.
fn save(
    args: &Args,
    global: &Global,
    as_of: NaiveDate,
    ps: &PlanSettings,
    ts: &TourSettings,
    settings: &coverage::Settings,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let region = domain::RegionCode::parse(&args.files.region)
        .ok()
        .filter(|r| matches!(r.level(), domain::RegionLevel::County | domain::RegionLevel::Township))
        .ok_or_else(|| {
            anyhow::anyhow!("--save needs --region, a county (6 digits) or township (9 digits) of the store")
        })?;
    let (Some(start), Some(end)) = (args.period_start, args.period_end) else {
        anyhow::bail!("--save needs --period-start and --period-end");
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let who = crate::identity::os_identity();
    let saved = rt.block_on(async {
        let app = app::App::open(&global.db).await?;
        let r = app
            .draft_plan_from_planner(
                &app::Scope::all(),
                app::Role::Administrator,
                region,
                (start, end),
                as_of,
                ps,
                Some(ts),
                settings,
                &who,
            )
            .await;
        let kept = match &r {
            Ok(p) => Some(app.kept_plan(&app::Scope::all(), p.id).await),
            Err(_) => None,
        };
        app.close().await;
        Ok::<_, anyhow::Error>((r, kept))
    })?;
    let (plan, kept) = saved;
    let plan = plan.map_err(|e| anyhow::anyhow!("the plan was not saved: {e}"))?;
    let kept = kept.and_then(Result::ok);
    let lines = kept.as_ref().map_or(0, |k| k.lines.len());
    println!(
        "plan {} saved: region {} for {} to {}, version {}, draft, {} lines (network as of {}); gap to the bound {:.2}%",
        plan.id,
        plan.region.short(),
        plan.period_start,
        plan.period_end,
        plan.version,
        lines,
        plan.as_of,
        app::plans::gap(plan.travel_minutes, plan.lower_bound_minutes) * 100.0
    );
    if let Some(k) = &kept {
        if let (Some(bound), Some(g)) = (k.planner.population_bound, k.population_gap()) {
            println!(
                "  population covered by roving {}, upper bound {} (gap {:.2}%)",
                k.planner.covered_population,
                bound,
                g * 100.0
            );
        }
        match &k.planner.tours {
            Some(t) if t.not_planned.is_empty() => println!(
                "  {} tours kept: population {}, upper bound {} (gap {:.2}%); travel {:.1} min a month, lower bound {:.1} (gap {:.2}%)",
                k.tours.len(),
                t.covered_population,
                t.population_bound,
                t.population_gap() * 100.0,
                t.travel_minutes,
                t.travel_bound_minutes,
                t.travel_gap() * 100.0
            ),
            Some(t) => println!("  no tours kept: {}", t.not_planned),
            None => {}
        }
    }
    Ok(())
}
