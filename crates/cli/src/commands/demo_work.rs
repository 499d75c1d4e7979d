//! The demo's worked township: a month of the daily work (docs/work.md) done in
//! the township with the most open cases after the monitor run, so the web
//! application shows contracts, visits, follow-ups and cases in every state.
//!
//! Contracts and visits go in as files, by `safetynet import contracts` and
//! `safetynet import visits`, printed as the user would type them. The case
//! moves go through the same use cases as the case pages (`app::work`), dated
//! in the January after the year, as the township's officers would make them.
//! Last, the township's county hospital is paired with the provincial hospital
//! and linked to the county's township centres (`import pairings`, `import
//! telemedicine`), so that the page `/pairing` has rows and figures.

use super::demo::Plan;
use crate::Global;
use anyhow::Context;
use app::work::{CaseFilter, CaseRequest};
use app::{App, Scope};
use chrono::{Duration, NaiveDate};
use domain::work::{CaseMeasure, CloseReason, DoctorContract, Visit, VisitKind};
use domain::{
    Facility, FacilityKind, Fen, Pairing, PairingRow, Practitioner, StaffSent, TelemedicineKind, TelemedicineLink,
};
use ingest::RecordWriter;
use std::collections::BTreeMap;
use std::ffi::OsString;
use store::{LedgerQuery, Page};

/// How many of the township's cases are worked (the rest stay open).
const CASES_WORKED: usize = 60;

pub fn run(plan: &Plan, global: &Global) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let year = plan.year;
    let jan = |d: u32| NaiveDate::from_ymd_opt(year + 1, 1, d).expect("a day of January");
    // Done once: a second demo on the same store finds the contracts signed.
    let done = rt.block_on(async {
        let store = store::Store::open(&plan.db).await?;
        let k = store.doctor_contracts(&store::Scope::all(), None, Page::first(1)).await;
        store.close().await;
        anyhow::Ok(!k?.is_empty())
    })?;
    if done {
        println!("  the township's month was worked already: nothing to do");
        return Ok(());
    }
    // What the files need: the township, its chronic patients, its doctors.
    let (township, contracts, visits) = rt.block_on(async {
        let app = App::open(&plan.db).await?;
        let every_open = CaseFilter { open: true, limit: 100_000, ..Default::default() };
        let open = app.cases(&Scope::all(), &every_open, jan(1)).await?;
        let mut by_township: BTreeMap<String, usize> = BTreeMap::new();
        for c in &open {
            *by_township.entry(c.village.to_string()[..9].to_string()).or_default() += 1;
        }
        let Some((township, _)) = by_township.into_iter().max_by_key(|(t, n)| (*n, std::cmp::Reverse(t.clone())))
        else {
            app.close().await;
            return anyhow::Ok((String::new(), vec![], vec![]));
        };
        let scope = store::Scope::new(&township)?;
        let county = store::Scope::new(&township[..6])?;
        let doctors: Vec<Practitioner> = app.store().list::<Practitioner>(&county, Page::first(10_000)).await?;
        let doctors: Vec<&Practitioner> = doctors.iter().filter(|p| p.active).collect();
        let chronic = app
            .store()
            .ledger(
                &scope,
                &LedgerQuery { year: Some(year), batch: Some(domain::ledger::Batch::Chronic), ..Default::default() },
                Page::first(100_000),
            )
            .await?;
        let mut contracts = Vec::new();
        let mut visits = Vec::new();
        for (i, line) in chronic.iter().enumerate() {
            // Two patients in three are contracted, each with a doctor of the county.
            if i % 3 == 2 || doctors.is_empty() {
                continue;
            }
            let signed = NaiveDate::from_ymd_opt(year, 1 + (i % 6) as u32, 1 + (i % 27) as u32).expect("a day");
            let doctor = doctors[i % doctors.len()];
            contracts.push(DoctorContract {
                person_id: line.person,
                practitioner_id: doctor.practitioner_id.clone(),
                signed,
                ends: signed + Duration::days(365),
            });
            // Followed up every quarter after signing, most of them this far.
            let quarters = if i % 5 == 0 { 2 } else { 4 };
            for q in 0..quarters {
                let date = NaiveDate::from_ymd_opt(year, 3 * q + 3, 10 + (i % 15) as u32).expect("a day");
                if date <= signed {
                    continue;
                }
                visits.push(Visit {
                    household_id: line.household_id.clone(),
                    person_id: Some(line.person),
                    kind: VisitKind::FollowUp,
                    date,
                    visitors: doctor.name.clone(),
                    findings: if i % 4 == 0 { "blood pressure above target; dose adjusted" } else { "stable" }.into(),
                    next_date: Some(date + Duration::days(90)),
                });
            }
        }
        // A household visit to each household with an open case, by the village doctor.
        for c in open.iter().filter(|c| c.village.to_string().starts_with(&township)) {
            visits.push(Visit {
                household_id: c.household_id.clone(),
                person_id: None,
                kind: VisitKind::Household,
                date: jan(2),
                visitors: "village doctor and village cadre".into(),
                findings: "hospital bills this year; asked about income and insurance".into(),
                next_date: Some(jan(20)),
            });
        }
        app.close().await;
        anyhow::Ok((township, contracts, visits))
    })?;
    if township.is_empty() {
        println!("  no open cases: nothing to work");
        return Ok(());
    }
    println!("  the township {township}: {} contracts and {} visits, then its cases", contracts.len(), visits.len());
    write_and_import(plan, global, "contracts", &contracts)?;
    write_and_import(plan, global, "visits", &visits)?;
    rt.block_on(work_cases(plan, &township, jan))?;
    // The township's county hospital paired with the provincial hospital, and
    // linked to the county's township centres, so that /pairing has rows.
    let (pairings, links) = rt.block_on(pairing_rows(plan, &township))?;
    if pairings.is_empty() {
        return Ok(());
    }
    write_and_import(plan, global, "pairings", &pairings)?;
    write_and_import(plan, global, "telemedicine", &links)
}

/// The worked county's first county hospital paired with the province's first
/// provincial hospital from two years before the demo's year for five years,
/// with two of its staff sent for a year each; and linked by remote
/// consultation to every township centre of the county but the last, from the
/// year before.
async fn pairing_rows(plan: &Plan, township: &str) -> anyhow::Result<(Vec<PairingRow>, Vec<TelemedicineLink>)> {
    let store = store::Store::open(&plan.db).await?;
    let of = |prefix: &str| store::Scope::new(prefix);
    let county: Vec<Facility> = store.list(&of(&township[..6])?, Page::first(100_000)).await?;
    let province: Vec<Facility> = store.list(&of(&township[..2])?, Page::first(1_000_000)).await?;
    store.close().await;
    let first =
        |fs: &[Facility], kind: FacilityKind| fs.iter().filter(|f| f.kind == kind).map(|f| f.facility_id.clone()).min();
    let (Some(helping), Some(hospital)) =
        (first(&province, FacilityKind::ProvincialHospital), first(&county, FacilityKind::CountyHospital))
    else {
        return Ok((vec![], vec![]));
    };
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).expect("a day");
    let y = plan.year;
    let pairing = Pairing {
        helping_id: helping,
        county_hospital_id: hospital.clone(),
        start: day(y - 2, 1, 1),
        end: Some(day(y + 2, 12, 31)),
    };
    let staff = |name: &str, role: &str, from: i32| StaffSent {
        practitioner_id: None,
        name: name.into(),
        role: role.into(),
        from: day(from, 3, 1),
        to: Some(day(from + 1, 2, 28)),
    };
    let pairings = vec![
        PairingRow { pairing: pairing.clone(), staff: None },
        PairingRow { pairing: pairing.clone(), staff: Some(staff("张明", "外科主任", y - 2)) },
        PairingRow { pairing, staff: Some(staff("刘静", "医务科副科长", y - 1)) },
    ];
    let mut centres: Vec<&Facility> = county.iter().filter(|f| f.kind == FacilityKind::TownshipCenter).collect();
    centres.sort_by(|a, b| a.facility_id.cmp(&b.facility_id));
    centres.pop();
    let links = centres
        .into_iter()
        .map(|t| TelemedicineLink {
            county_hospital_id: hospital.clone(),
            township_id: t.facility_id.clone(),
            kind: TelemedicineKind::Consultation,
            start: day(y - 1, 7, 1),
            end: None,
        })
        .collect();
    Ok((pairings, links))
}

/// Writes the records as the import reads them and imports them as a user would.
fn write_and_import<R: domain::Record>(plan: &Plan, global: &Global, kind: &str, rows: &[R]) -> anyhow::Result<()> {
    let path = plan.dir.join(format!("{kind}.csv"));
    let mut w = RecordWriter::<R>::create(&path)?;
    for r in rows {
        w.write(r)?;
    }
    w.finish()?;
    let argv: Vec<OsString> = vec!["import".into(), kind.into(), path.into_os_string()];
    println!("$ {}", super::demo::shown(&argv, &plan.db));
    plan.run(&argv, global)
}

/// The township's cases moved through every state, by its officers.
async fn work_cases(plan: &Plan, township: &str, jan: impl Fn(u32) -> NaiveDate) -> anyhow::Result<()> {
    let app = App::open(&plan.db).await?;
    let scope = Scope::parse(township).map_err(|e| anyhow::anyhow!(e))?;
    let cases =
        app.cases(&scope, &CaseFilter { open: true, limit: CASES_WORKED, ..Default::default() }, jan(1)).await?;
    // The township's officer: an account that does the casework there, to whom the
    // cases are assigned. It has a random password no one knows; the demo's
    // administrator sets one on the users page to work as this officer.
    let officer = format!("officer.{township}");
    if app.user_by_name(&officer).await?.is_none() {
        let password_hash = web::auth::hash_password(&web::auth::new_secret()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let u =
            app::NewUser { username: officer.clone(), password_hash, role: app::Role::Officer, scope: scope.clone() };
        app.create_user(u).await?;
        println!("  the township's officer: user {officer} (set a password on /users to work as them)");
    }
    let officer = officer.as_str();
    let verify = |household: &str, day: u32, findings: &str| Visit {
        household_id: household.to_string(),
        person_id: None,
        kind: VisitKind::Verification,
        date: jan(day),
        visitors: "township officer and village doctor".into(),
        findings: findings.into(),
        next_date: None,
    };
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        let hh = case.household_id.as_str();
        // Every sixth case stays open and unassigned; the others are assigned.
        let plan_of: &[(u32, CaseRequest)] = &match i % 6 {
            0 => vec![],
            1 => vec![(3, CaseRequest::Assign { assignee: officer.into(), due: None })],
            2 => vec![
                (3, CaseRequest::Assign { assignee: officer.into(), due: None }),
                (
                    8,
                    CaseRequest::Verify {
                        visit: verify(hh, 8, "bills confirmed; income below the line"),
                        monitored: true,
                    },
                ),
            ],
            3 => vec![
                (3, CaseRequest::Assign { assignee: officer.into(), due: None }),
                (8, CaseRequest::Verify { visit: verify(hh, 8, "bills confirmed"), monitored: true }),
                (12, CaseRequest::Measure(measure(jan(12), i))),
            ],
            4 => vec![
                (3, CaseRequest::Assign { assignee: officer.into(), due: None }),
                (6, CaseRequest::Verify { visit: verify(hh, 6, "bills confirmed"), monitored: true }),
                (10, CaseRequest::Measure(measure(jan(10), i))),
                (
                    20,
                    CaseRequest::Verify {
                        visit: verify(hh, 20, "assistance received; costs covered"),
                        monitored: true,
                    },
                ),
                (21, CaseRequest::Close { reason: CloseReason::RiskEliminated, note: "costs covered".into() }),
            ],
            _ => vec![
                (3, CaseRequest::Assign { assignee: officer.into(), due: None }),
                (
                    7,
                    CaseRequest::Verify {
                        visit: verify(hh, 7, "bills reimbursed by commercial insurance"),
                        monitored: false,
                    },
                ),
                (
                    9,
                    CaseRequest::Close {
                        reason: CloseReason::NoRisk,
                        note: "reimbursed by commercial insurance".into(),
                    },
                ),
            ],
        };
        let mut version = case.version;
        let mut state = case.state;
        for (day, req) in plan_of {
            let moved = app.move_case(&scope, case.id, version, req.clone(), officer, jan(*day)).await?;
            version = moved.version;
            state = moved.state;
        }
        *states.entry(state.as_str()).or_default() += 1;
    }
    app.close().await;
    let told: Vec<String> = states.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("  cases worked in {township}: {}", told.join(", "));
    Ok(())
}

fn measure(date: NaiveDate, i: usize) -> CaseMeasure {
    let (kind, fund, yuan) = match i % 3 {
        0 => ("medical assistance", "county medical security bureau", 3_000),
        1 => ("temporary relief", "township civil affairs office", 1_500),
        _ => ("public-welfare job", "county rural revitalisation bureau", 6_000),
    };
    CaseMeasure { kind: kind.into(), amount: Fen::from_yuan(yuan), fund: fund.into(), date, note: String::new() }
}
